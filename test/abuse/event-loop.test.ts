import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../protocol/index.js';
import { TestHub } from '../support/hub.js';
import { DEFAULT_ENV, connectWith, flood, jitToken, tally, tap, type FloodResult } from '../support/abuse.js';
import { direct, expectType, open } from '../support/ws.js';

/**
 * Finding 2: one participant floods the hub with request frames that each cost the hub work (or
 * cost everyone else a frame). Every request frame has a per-participant token bucket (defaults in
 * server/core/limits.ts): over it, `rate_limited`; more than 60 refusals in a minute on a connection
 * close it with 4008. Buckets are shared by a participant's sessions and survive reconnects.
 */
describe('finding 2: event loop abuse', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { ...DEFAULT_ENV } });
    await hub.user('ev-bystander');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  /** The frames answered on connections of `token`, reconnecting whenever the hub closes one, until `total` were sent. */
  async function floodOverReconnects(token: string, total: number, perConnection: number, frame: (i: number) => Record<string, unknown>) {
    const results: FloodResult[] = [];
    for (let sent = 0; sent < total; sent += perConnection) {
      const client = await connectWith(hub, token);
      const n = Math.min(perConnection, total - sent);
      results.push(await flood(client, Array.from({ length: n }, (_, k) => frame(sent + k))));
      client.terminate();
    }
    return results;
  }

  async function bystanderAnswers(): Promise<void> {
    const bystander = await hub.connect('ev-bystander');
    const pong = await bystander.request({ t: 'ping' }, 'pong');
    expect(pong.t).toBe('pong');
    bystander.close();
  }

  it('5,000 open frames from one customer create a handful of conversations; the rest are rate_limited', async () => {
    await hub.user('ev-all');
    const agent = await hub.connect('ev-all');
    const pushes = tap(agent);
    const token = await jitToken('ev-opener', 'customer');
    const results = await floodOverReconnects(token, 5000, 100, (i) => ({ t: 'open', id: `o${i}`, members: [] }));
    const answers = results.flatMap((r) => r.answers);
    const counts = tally(answers);
    expect(Object.keys(counts).sort(), JSON.stringify(counts)).toEqual(['conversation', 'error:rate_limited']);
    expect(counts.conversation).toBeGreaterThanOrEqual(1);
    expect(counts.conversation).toBeLessThanOrEqual(4);
    // Every connection was closed for sustained abuse: 60 refusals a minute at most each.
    for (const r of results) expect(r.close?.code).toBe(4008);
    expect(counts['error:rate_limited']).toBeGreaterThanOrEqual(results.length * 60);

    // The agent who sees every inbox was told of exactly the conversations created.
    await agent.sync();
    const created = pushes.filter((f): f is Extract<ServerFrame, { t: 'conversation' }> => f.t === 'conversation' && f.conversation.members.includes('ev-opener'));
    // Every answered open was pushed to the agent; an open whose connection was closed for abuse
    // before its answer left may still have created one. Either way the inbox cap (3) holds.
    const createdIds = new Set(created.map((f) => f.conversation.id));
    expect(createdIds.size).toBeGreaterThanOrEqual(counts.conversation);
    expect(createdIds.size).toBeLessThanOrEqual(3);
    await bystanderAnswers();
  });

  it('5,000 presence frames reach the other party at most burst + rate × duration times', async () => {
    await hub.user('ev-peer');
    const token = await jitToken('ev-flicker', 'customer');
    const first = await connectWith(hub, token);
    first.terminate();
    await direct(hub, 'ev-peer', ['ev-flicker']);
    const peer = await hub.connect('ev-peer');
    const seen = tap(peer);

    const started = Date.now();
    const customer = await connectWith(hub, token);
    const r = await flood(
      customer,
      Array.from({ length: 5000 }, (_, i) => ({ t: 'presence', state: i % 2 === 0 ? 'away' : 'active' })),
    );
    const seconds = (Date.now() - started) / 1000;
    expect(r.close?.code).toBe(4008);
    const counts = tally(r.answers);
    expect(Object.keys(counts), JSON.stringify(counts)).toEqual(['error:rate_limited']);

    await peer.sync();
    const presence = seen.filter((f) => f.t === 'presence' && f.participantId === 'ev-flicker' && f.state !== 'offline');
    // Burst 10, 2 per second, and the one `active` of connecting.
    expect(presence.length).toBeGreaterThanOrEqual(2);
    expect(presence.length).toBeLessThanOrEqual(10 + 1 + Math.ceil(2 * seconds) + 1);
    await bystanderAnswers();
  });

  it('1,000 conversations requests are mostly rate_limited and the connection is closed 4008', async () => {
    await hub.user('ev-lister');
    const lister = await hub.connect('ev-lister');
    const r = await flood(
      lister,
      Array.from({ length: 1000 }, (_, i) => ({ t: 'conversations', id: `c${i}` })),
    );
    const counts = tally(r.answers);
    expect(r.close?.code).toBe(4008);
    expect(Object.keys(counts).filter((k) => k !== 'conversations' && k !== 'error:rate_limited'), JSON.stringify(counts)).toEqual([]);
    expect(counts['error:rate_limited']).toBeGreaterThan(60);
    expect(r.answers.length).toBeLessThan(1000);

    // What the limit let through is read from the refusals, which leave before the close that the 61st
    // one triggers: the hub takes frames in order and takes none after that close, so every request
    // before the last refused one and not refused itself was let through. Their replies wait for a turn
    // of the fair queue and one that had not come when the connection was closed is lost with it (as
    // acks are, below), so how many `conversations` answers arrived depends on the machine's speed.
    const index = (f: ServerFrame) => ('re' in f && typeof f.re === 'string' ? Number(f.re.slice(1)) : NaN);
    const refused = new Set(r.answers.filter((f) => f.t === 'error').map(index));
    const lastRefused = Math.max(...refused);
    const letThrough = Array.from({ length: lastRefused }, (_, i) => i).filter((i) => !refused.has(i));
    // The whole burst (10) and no more than it plus what refilled meanwhile (2 a second).
    expect(letThrough.slice(0, 10), JSON.stringify([...refused].sort((a, b) => a - b))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(letThrough.length).toBeLessThanOrEqual(10 + 2);
    // Every `conversations` answer that arrived answers a request let through, once.
    const served = r.answers.filter((f) => f.t === 'conversations').map(index);
    expect(new Set(served).size).toBe(served.length);
    for (const i of served) expect(letThrough).toContain(i);
    await bystanderAnswers();
  });

  it("one customer's flood neither limits another customer nor is reset by more sessions or reconnects", async () => {
    const tokenA = await jitToken('ev-flooder', 'customer');
    const tokenB = await jitToken('ev-quiet', 'customer');
    const a1 = await connectWith(hub, tokenA);
    const a2 = await connectWith(hub, tokenA);
    const b = await connectWith(hub, tokenB);
    const inboxA = await open(a1, []);
    const inboxB = await open(b, []);

    const sendA = (prefix: string) => (i: number) => ({ t: 'send', id: `${prefix}${i}`, conversationId: inboxA.id, clientMsgId: `${prefix}${i}`, body: `flood ${i}` });
    const started = Date.now();
    const [r1, r2, bAcks] = await Promise.all([
      flood(a1, Array.from({ length: 100 }, (_, i) => sendA('x')(i))),
      flood(a2, Array.from({ length: 100 }, (_, i) => sendA('y')(i))),
      // Meanwhile the other customer writes 20 messages at once: every one is acked.
      Promise.all(Array.from({ length: 20 }, (_, i) => b.request({ t: 'send', conversationId: inboxB.id, clientMsgId: `b${i}`, body: `hello ${i}` }, 'ack'))),
    ]);
    for (const f of bAcks) expectType(f, 'ack');
    const listed = expectType(await b.request({ t: 'conversations' }, 'conversations'), 'conversations');
    expect(listed.conversations.map((c) => c.id)).toContain(inboxB.id);

    // A's two sessions share one bucket (30 at once, 10 a second), and a reconnect does not refill it.
    const a3 = await connectWith(hub, tokenA);
    const r3 = await flood(a3, Array.from({ length: 100 }, (_, i) => sendA('z')(i)));
    const seconds = (Date.now() - started) / 1000;
    // Acks of sends committed after the connection was closed are lost with it: count what was stored.
    const stored = (await hub.ok<{ messages: unknown[] }>('GET', `/v1/conversations/${inboxA.id}/messages?limit=200`)).messages.length;
    expect(stored).toBeGreaterThanOrEqual(30);
    expect(stored).toBeLessThanOrEqual(30 + Math.ceil(10 * seconds) + 2);
    for (const r of [r1, r2, r3]) {
      expect(r.close?.code).toBe(4008);
      const counts = tally(r.answers);
      expect(Object.keys(counts).filter((k) => k !== 'ack' && k !== 'error:rate_limited'), JSON.stringify(counts)).toEqual([]);
    }
    b.close();
  });
});
