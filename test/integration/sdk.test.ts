import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ParleyClient, ParleyClientError, ParleyServerError, type Message, type OutgoingMessage, type WebSocketLike } from '../../client-sdk/node.js';
import { TestHub } from '../support/hub.js';
import { SdkHarness } from '../support/sdk.js';
import { direct, post, signToken } from '../support/ws.js';

/** The client SDK (client-sdk/node.ts) against the real hub: sessions that survive drops and restarts. */
describe('client SDK', () => {
  let hub: TestHub;
  const harnesses: SdkHarness[] = [];
  const connect = async (sub: string, options: Parameters<typeof SdkHarness.connect>[2] = {}) => {
    const h = await SdkHarness.connect(hub, sub, options);
    harnesses.push(h);
    return h;
  };

  beforeAll(async () => {
    hub = await TestHub.start();
    for (const id of ['alice', 'bob', 'dave']) await hub.user(id);
    await hub.customer('carol');
    await hub.user('mallory', { disabled: true });
  });
  afterEach(() => {
    for (const h of harnesses.splice(0)) h.close();
  });
  afterAll(() => hub.stop());

  /** Collects the app's view of a conversation: every message event, in order. */
  function record(h: SdkHarness, conversationId: string) {
    const got: { seq: number; body: string; live: boolean }[] = [];
    h.client.on('message', (m: Message, { live }) => {
      if (m.conversationId === conversationId) got.push({ seq: m.seq, body: m.body, live });
    });
    const until = (seq: number) => (got.at(-1)?.seq ?? 0) >= seq || h.next('message', (m) => m.conversationId === conversationId && m.seq >= seq, 20_000);
    return { got, until };
  }

  describe('connecting', () => {
    it('connects with a token and resolves with the welcome', async () => {
      const client = new ParleyClient({ url: `ws://127.0.0.1:${hub.port}/v1/ws`, token: await hub.token('alice') });
      const welcome = await client.connect();
      expect(welcome.participant).toEqual({ id: 'alice', kind: 'user', name: 'alice' });
      expect(client.state).toBe('open');
      expect(client.participant?.id).toBe('alice');
      client.close();
      expect(client.state).toBe('closed');
    });

    it('calls the token provider again when the hub says the token expired', async () => {
      const tokens = [await signToken('alice', {}, { exp: Math.floor(Date.now() / 1000) - 60 }), await hub.token('alice')];
      let calls = 0;
      const h = await connect('alice', { token: () => tokens[calls++]! });
      expect(calls).toBe(2);
      expect(h.client.state).toBe('open');
    });

    it('gives up on a static token the hub refuses: connect rejects with unauthenticated and the client is closed', async () => {
      const h = new SdkHarness(hub, { token: 'not-a-jwt' });
      harnesses.push(h);
      const err = await h.client.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParleyServerError);
      expect((err as ParleyServerError).code).toBe('unauthenticated');
      expect(h.client.state).toBe('closed');
      expect(h.dials).toBe(1);
    });

    it('gives up on a disabled participant: connect rejects with forbidden', async () => {
      const h = new SdkHarness(hub, { token: await signToken('mallory') });
      harnesses.push(h);
      const err = await h.client.connect().catch((e: unknown) => e);
      expect((err as ParleyServerError).code).toBe('forbidden');
      expect(h.client.state).toBe('closed');
    });

    it('gives up at once on a URL no socket can open', async () => {
      const client = new ParleyClient({ url: 'not a url', token: 'x' });
      const err = await client.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParleyClientError);
      expect((err as ParleyClientError).code).toBe('closed');
      expect(client.state).toBe('closed');
    });

    it('answers requests made while not connected with not_connected, and after close with closed', async () => {
      const h = await connect('alice');
      h.block();
      const reconnecting = h.next('state', (s) => s === 'reconnecting');
      h.cut();
      await reconnecting;
      const notConnected = await h.client.history('anything').catch((e: unknown) => e);
      expect(notConnected).toBeInstanceOf(ParleyClientError);
      expect((notConnected as ParleyClientError).code).toBe('not_connected');
      h.close();
      const closed = await h.client.ping().catch((e: unknown) => e);
      expect((closed as ParleyClientError).code).toBe('closed');
      const send = await h.client.send('anything', 'x').catch((e: unknown) => e);
      expect((send as ParleyClientError).code).toBe('closed');
    });
  });

  describe('sending', () => {
    it('send resolves with the ack once stored, and the outgoing message goes from pending to sent', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const alice = await connect('alice');
      const bob = await connect('bob');
      const states: OutgoingMessage[] = [];
      alice.client.on('outgoing', (o) => states.push(o));
      const atBob = bob.next('message', (m) => m.conversationId === conv.id);
      const ack = await alice.client.send(conv.id, 'Hello Bob');
      expect(ack).toMatchObject({ conversationId: conv.id, seq: 1, duplicate: false });
      expect(states.map((s) => s.state)).toEqual(['pending', 'sent']);
      expect(states[1]!.ack?.messageId).toBe(ack.messageId);
      const [message, meta] = await atBob;
      expect(message).toMatchObject({ id: ack.messageId, body: 'Hello Bob', senderId: 'alice', clientMsgId: states[0]!.clientMsgId });
      expect(meta.live).toBe(true);
      expect(alice.client.outgoing()).toEqual([]);
    });

    it('a send the hub refuses fails with its code, and nothing is stored', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const alice = await connect('alice');
      const states: string[] = [];
      alice.client.on('outgoing', (o) => states.push(o.state));
      const err = await alice.client.send(conv.id, '   ').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParleyServerError);
      expect((err as ParleyServerError).code).toBe('invalid');
      expect(states).toEqual(['pending', 'failed']);
      const unknown = await alice.client.send('no-such-conversation', 'hi').catch((e: unknown) => e);
      expect((unknown as ParleyServerError).code).toBe('not_found');
      expect((await alice.client.history(conv.id)).messages).toEqual([]);
    });

    it('a send made while offline waits, shows pending, and is stored exactly once after the reconnect', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const alice = await connect('alice');
      alice.block();
      const reconnecting = alice.next('state', (s) => s === 'reconnecting');
      alice.cut();
      await reconnecting;
      const sent = alice.client.send(conv.id, 'written on a train');
      expect(alice.client.outgoing()).toMatchObject([{ state: 'pending', body: 'written on a train' }]);
      alice.unblock();
      const ack = await sent;
      expect(ack.seq).toBe(1);
      const { messages } = await alice.client.history(conv.id);
      expect(messages.map((m) => m.body)).toEqual(['written on a train']);
    });

    it('a resend of a message the hub already stored is acknowledged as a duplicate with the first seq', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const stored = await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'alice', body: 'once', clientMsgId: 'retry-1' });
      const alice = await connect('alice');
      const ack = await alice.client.send(conv.id, 'once', { clientMsgId: 'retry-1' });
      expect(ack).toMatchObject({ duplicate: true, seq: stored.message.seq, messageId: stored.message.id });
      expect((await alice.client.history(conv.id)).messages).toHaveLength(1);
    });

    it('sends again, with the same clientMsgId, when no ack comes in time on a live connection', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const sent: string[] = [];
      const client = new ParleyClient({
        url: `ws://127.0.0.1:${hub.port}/v1/ws`,
        token: await hub.token('alice'),
        requestTimeoutMs: 300,
        // A socket that loses the first send frame on the way, as a broken proxy might.
        webSocket: (url) => {
          const ws = new WebSocket(url);
          const send = ws.send.bind(ws);
          let dropped = false;
          ws.send = ((data: string) => {
            if (!dropped && data.includes('"t":"send"')) {
              dropped = true;
              return;
            }
            sent.push(data);
            send(data);
          }) as typeof ws.send;
          return ws as unknown as WebSocketLike;
        },
      });
      try {
        await client.connect();
        const ack = await client.send(conv.id, 'lost once');
        expect(ack).toMatchObject({ seq: 1, duplicate: false });
        expect(sent.filter((f) => f.includes('"t":"send"'))).toHaveLength(1);
        expect((await client.history(conv.id)).messages.map((m) => m.body)).toEqual(['lost once']);
      } finally {
        client.close();
      }
    });
  });

  describe('resuming without gaps or duplicates', () => {
    it('messages written while the client is away arrive once, in order, marked as caught up', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const bob = await connect('bob');
      const seen = record(bob, conv.id);
      await post(hub, conv.id, 'alice', 'm1', 'away-1');
      await seen.until(1);
      bob.block();
      const reconnecting = bob.next('state', (s) => s === 'reconnecting');
      bob.cut();
      await reconnecting;
      for (let i = 2; i <= 5; i++) await post(hub, conv.id, 'alice', `m${i}`, `away-${i}`);
      const resumed = bob.next('resumed');
      bob.unblock();
      await seen.until(5);
      const [summaries] = await resumed;
      expect(summaries.find((s) => s.id === conv.id)?.lastSeq).toBe(5);
      await post(hub, conv.id, 'alice', 'm6', 'away-6');
      await seen.until(6);
      expect(seen.got).toEqual([
        { seq: 1, body: 'm1', live: true },
        { seq: 2, body: 'm2', live: false },
        { seq: 3, body: 'm3', live: false },
        { seq: 4, body: 'm4', live: false },
        { seq: 5, body: 'm5', live: false },
        { seq: 6, body: 'm6', live: true },
      ]);
    });

    it('watch() delivers what came after the history the app loaded, then the live stream', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      for (let i = 1; i <= 3; i++) await post(hub, conv.id, 'alice', `w${i}`, `watch-${i}`);
      const bob = await connect('bob');
      const seen = record(bob, conv.id);
      const { messages } = await bob.client.history(conv.id, { limit: 1, before: 2 });
      expect(messages.map((m) => m.seq)).toEqual([1]);
      bob.client.watch(conv.id, { after: 1 });
      await seen.until(3);
      await post(hub, conv.id, 'alice', 'w4', 'watch-4');
      await seen.until(4);
      expect(seen.got.map((g) => [g.seq, g.live])).toEqual([
        [2, false],
        [3, false],
        [4, true],
      ]);
      expect(bob.client.lastSeq(conv.id)).toBe(4);
    });

    it('delivers every message exactly once and in order while its connection is cut again and again mid-stream', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const bob = await connect('bob');
      const seen = record(bob, conv.id);
      const TOTAL = 300;
      let cuts = 0;
      bob.client.on('message', (m) => {
        if (m.conversationId === conv.id && m.seq % 40 === 0) {
          cuts++;
          bob.cut();
        }
      });
      // The writer does not wait for bob: messages keep coming while bob reconnects.
      const writer = (async () => {
        for (let i = 1; i <= TOTAL; i++) await post(hub, conv.id, 'alice', `stream ${i}`, `stream-${i}`);
      })();
      await writer;
      await seen.until(TOTAL);
      expect(cuts).toBeGreaterThanOrEqual(TOTAL / 40 - 1);
      // The cuts made the client miss messages, which came back from history.
      expect(seen.got.filter((g) => !g.live).length).toBeGreaterThan(0);
      expect(seen.got.map((g) => g.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
      expect(seen.got.map((g) => g.body)).toEqual(Array.from({ length: TOTAL }, (_, i) => `stream ${i + 1}`));
    });

    it('survives a hub crash and restart mid-stream: every message once and in order, every send stored once', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const alice = await connect('alice');
      const bob = await connect('bob');
      const seen = record(bob, conv.id);
      const TOTAL = 120;
      const acks = Array.from({ length: TOTAL }, (_, i) => alice.client.send(conv.id, `n${i + 1}`));
      await seen.until(30);
      await hub.crash();
      await hub.launch();
      const settled = await Promise.all(acks);
      await seen.until(TOTAL);
      expect(new Set(settled.map((a) => a.seq)).size).toBe(TOTAL);
      expect(seen.got.map((g) => g.seq)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
      expect(seen.got.map((g) => g.body)).toEqual(Array.from({ length: TOTAL }, (_, i) => `n${i + 1}`));
      const stored = await hub.ok<{ messages: Message[]; hasMore: boolean }>('GET', `/v1/conversations/${conv.id}/messages?limit=200`);
      expect(stored.messages.map((m) => m.body)).toEqual(Array.from({ length: TOTAL }, (_, i) => `n${i + 1}`));
      expect(stored.hasMore).toBe(false);
    });
  });

  describe('seen, typing, presence and requests', () => {
    it('coalesces seen calls into one frame: the other side gets one receipt with the highest value', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      for (let i = 1; i <= 3; i++) await post(hub, conv.id, 'alice', `s${i}`, `seen-${i}`);
      const alice = await connect('alice');
      const bob = await connect('bob');
      const receipts: number[] = [];
      alice.client.on('receipt', (r) => {
        if (r.conversationId === conv.id && r.participantId === 'bob') receipts.push(r.upTo);
      });
      bob.client.seen(conv.id, 1);
      bob.client.seen(conv.id, 3);
      bob.client.seen(conv.id, 2);
      await alice.next('receipt', (r) => r.conversationId === conv.id);
      // Whatever bob sent before this message reaches alice before it.
      const marker = alice.next('message', (m) => m.conversationId === conv.id && m.body === 'marker');
      await bob.client.send(conv.id, 'marker');
      await marker;
      expect(receipts).toEqual([3]);
    });

    it('throttles typing: three calls in a row reach the others once', async () => {
      const conv = await direct(hub, 'alice', ['bob']);
      const alice = await connect('alice');
      const bob = await connect('bob');
      let typing = 0;
      alice.client.on('typing', (t) => {
        if (t.conversationId === conv.id) typing++;
      });
      bob.client.typing(conv.id);
      bob.client.typing(conv.id);
      bob.client.typing(conv.id);
      const marker = alice.next('message', (m) => m.conversationId === conv.id);
      await bob.client.send(conv.id, 'done typing');
      await marker;
      expect(typing).toBe(1);
    });

    it('restores the away state after a reconnect, and who with watch reports it', async () => {
      const conv = await direct(hub, 'alice', ['dave']);
      const alice = await connect('alice');
      const dave = await connect('dave');
      await alice.client.who(['dave'], { watch: true });
      const away = alice.next('presence', (p) => p.participantId === 'dave' && p.state === 'away');
      dave.client.setPresence('away');
      await away;
      const welcomed = dave.next('welcome');
      dave.cut();
      await welcomed;
      const marker = alice.next('message', (m) => m.conversationId === conv.id);
      await dave.client.send(conv.id, 'back');
      await marker;
      expect((await alice.client.who(['dave']))[0]).toMatchObject({ participantId: 'dave', state: 'away' });
    });

    it('opens conversations, lists them, and answers history and receipts', async () => {
      const alice = await connect('alice');
      const bob = await connect('bob');
      const conv = await alice.client.open(['bob'], { subject: 'Lunch' });
      expect(conv).toMatchObject({ kind: 'direct', visibility: 'internal', subject: 'Lunch' });
      expect([...conv.members].sort()).toEqual(['alice', 'bob']);
      const atBob = bob.next('message', (x) => x.conversationId === conv.id);
      const ack = await alice.client.send(conv.id, 'Noon?');
      const [m] = await atBob;
      expect(m.id).toBe(ack.messageId);
      bob.client.seen(conv.id, m.seq);
      await alice.next('receipt', (r) => r.conversationId === conv.id && r.kind === 'seen');
      const recipients = await alice.client.receipts(ack.messageId);
      expect(recipients).toEqual([expect.objectContaining({ participantId: 'bob', seenAt: expect.any(Number), deliveredAt: expect.any(Number) })]);
      const page = await bob.client.conversations({ limit: 200 });
      expect(page.conversations.find((c) => c.id === conv.id)).toMatchObject({ lastSeq: 1, seenUpTo: 1, unseen: 0 });
      expect((await bob.client.history(conv.id)).messages.map((x) => x.body)).toEqual(['Noon?']);
      expect((await alice.client.ping()).serverTime).toBeGreaterThan(0);
    });

    it('answers a request the hub refuses with a server error carrying its code', async () => {
      const carol = await connect('carol');
      const err = await carol.client.open(['nobody-here']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ParleyServerError);
      expect((err as ParleyServerError).code).toBe('not_found');
      expect(carol.client.state).toBe('open');
    });
  });
});
