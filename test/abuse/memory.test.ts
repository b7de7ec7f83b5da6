import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { TestHub } from '../support/hub.js';
import { DEFAULT_ENV, RssSampler, connectWith, hello, hubPid, jitToken, rssBytes, sleep, tally, until } from '../support/abuse.js';
import { direct, expectType, open, send } from '../support/ws.js';

const MESSAGES = 200;
const BODY_CHARS = 16_000;
const ATTACKERS = 300;
const MAX_SESSIONS = 10;
const RSS_BUDGET = 100 * 1024 * 1024;

/**
 * Finding 1: a visitor fills its inbox with big messages, then opens hundreds of sockets that never
 * read, each asking for the whole history. Before the limits every socket held megabytes of unread
 * replies in the hub's memory.
 */
describe('finding 1: memory under sockets that never read', () => {
  let hub: TestHub;
  beforeAll(async () => {
    // The default limits, but a send rate high enough to write the setup quickly.
    hub = await TestHub.start({ env: { ...DEFAULT_ENV, PARLEY_RATE_SEND_BURST: '1000', PARLEY_RATE_SEND_PER_S: '1000' } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('admits at most 10 sessions, keeps RSS growth under 100 MB, and others still get answers', async () => {
    await hub.user('mem-agent');
    await hub.user('mem-other');
    const chat = await direct(hub, 'mem-agent', ['mem-other']);
    const token = await jitToken('mem-visitor', 'customer');

    // Setup: 200 messages of 16,000 chars in the visitor's inbox (3.2 MB of history).
    const writer = await connectWith(hub, token);
    const inbox = await open(writer, []);
    const body = 'x'.repeat(BODY_CHARS - 8);
    for (let i = 0; i < MESSAGES; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, k) => send(writer, inbox.id, `${String(i + k).padStart(7, '0')} ${body}`, `m${i + k}`)));
    }
    const full = expectType(await writer.request({ t: 'history', conversationId: inbox.id, limit: 1 }, 'history'), 'history');
    expect(full.messages[0]!.seq).toBe(MESSAGES);
    writer.close();
    await writer.waitClose();

    // An unrelated agent, online through the attack.
    const agent = await hub.connect('mem-agent');
    await agent.sync();

    const pid = hubPid(hub);
    await sleep(300);
    const before = rssBytes(pid);
    const sampler = new RssSampler(pid);

    // The attack: 300 sockets; each that is welcomed asks for 200 messages (20 times) and stops reading.
    const results = await Promise.all(
      Array.from({ length: ATTACKERS }, async (_, i) => {
        const { client, first } = await hello(hub, token);
        if (first.t === 'welcome') {
          for (let k = 0; k < 20; k++) client.send({ t: 'history', id: `h${i}-${k}`, conversationId: inbox.id, limit: 200 });
          (client.ws as any)._socket.pause();
          return { client, first, close: null as { code: number } | null };
        }
        const close = await client.waitClose(10_000);
        return { client, first, close };
      }),
    );
    const admitted = results.filter((r) => r.first.t === 'welcome');
    const refused = results.filter((r) => r.first.t !== 'welcome');
    // Give the hub time to build (or refuse) every reply and to cut slow consumers, sampling RSS meanwhile.
    await sleep(3000);
    const peak = sampler.stop();

    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.length).toBeLessThanOrEqual(MAX_SESSIONS);
    expect(refused.length).toBe(ATTACKERS - admitted.length);
    for (const r of refused) {
      expect(r.first).toMatchObject({ t: 'error', code: 'rate_limited' });
      expect(r.close?.code).toBe(4008);
    }
    const growth = peak - before;
    expect(growth, `RSS ${Math.round(before / 1048576)} MB → peak ${Math.round(peak / 1048576)} MB`).toBeLessThan(RSS_BUDGET);

    // The unrelated agent is answered, and gets its own messages.
    await agent.sync();
    const ack = await send(agent, chat.id, 'still here', 'mem-agent-1');
    const own = await agent.next((f) => f.t === 'message' && f.message.id === ack.messageId);
    expect(own.t).toBe('message');
    await agent.sync();

    // What a paused socket was sent, once it reads again: history replies capped at 256 KiB (a
    // whole history is 3.2 MB), then `rate_limited` (or the hub cut it as a slow consumer).
    const resumed = admitted.slice(0, 2) as Array<{ client: TestClient }>;
    for (const { client } of resumed) (client.ws as any)._socket.resume();
    for (const { client } of resumed) {
      await until(() => client.closed !== null || client.frames.some((f) => f.t === 'history' || f.t === 'error'), 'the paused socket to read');
      for (const h of client.queued('history')) {
        expect(h.hasMore).toBe(true);
        expect(Buffer.byteLength(JSON.stringify(h))).toBeLessThanOrEqual(262_144 + 1024);
      }
      // Nothing but capped history replies, rate_limited answers, or a slow-consumer cut.
      const counts = tally(client.frames);
      expect(Object.keys(counts).filter((k) => k !== 'history' && k !== 'error:rate_limited'), JSON.stringify(counts)).toEqual([]);
      if (client.closed) expect([1008, 1006]).toContain(client.closed.code);
    }
    for (const r of results) r.client.terminate();
  }, 90_000);

  it('a conversations reply stops at 256 KiB with a cursor, and the cursor continues without loss', async () => {
    // 50 users with 128-char ids: a Summary naming them all is about 6.6 KB, so 200 of them are 1.3 MB.
    const ids = Array.from({ length: 50 }, (_, i) => `wide-${String(i).padStart(2, '0')}-`.padEnd(128, 'w'));
    for (const id of ids) await hub.user(id, { email: `wide${ids.indexOf(id)}@example.com` });
    await hub.user('wide-owner');
    const made = new Set<string>();
    for (let i = 0; i < 200; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, () => direct(hub, 'wide-owner', ids)));
      for (const c of batch) made.add(c.id);
    }
    const owner = await hub.connect('wide-owner');
    const got = new Set<string>();
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      // Replies are also limited by bytes per participant: a client told `rate_limited` waits and asks again.
      let answer = await owner.request({ t: 'conversations', limit: 200, ...(cursor ? { cursor } : {}) }, 'conversations', 15_000);
      for (let retry = 0; answer.t === 'error' && answer.code === 'rate_limited' && retry < 100; retry++) {
        await sleep(100);
        answer = await owner.request({ t: 'conversations', limit: 200, ...(cursor ? { cursor } : {}) }, 'conversations', 15_000);
      }
      const page = expectType(answer, 'conversations');
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(262_144 + 8192);
      for (const c of page.conversations) {
        expect(got.has(c.id), `${c.id} twice`).toBe(false);
        got.add(c.id);
      }
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 50);
    expect(pages).toBeGreaterThan(1);
    // Every conversation made, each once (the owner also sees the visitor's inbox: access all).
    expect([...made].filter((id) => !got.has(id))).toEqual([]);
  }, 60_000);
});
