import { afterEach, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';

/**
 * An `ack` means committed to storage (SPEC §3): a kill -9 loses no acked message and leaves no gap
 * in seqs; SIGTERM closes sessions with 1001 and exits 0; a restart keeps the directory and
 * watermarks.
 */

type Msg = { id: string; seq: number; clientMsgId: string; body: string; senderId: string };

describe('durability', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.stop();
    hub = undefined;
  });

  it('keeps every acked message with its id and seq across a kill -9, with seqs 1..N and no gap or duplicate', async () => {
    hub = await TestHub.start({ env: { PARLEY_RATE_SEND_PER_S: '1000', PARLEY_RATE_SEND_BURST: '1000' } });
    await hub.user('crash-a');
    await hub.user('crash-b');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'crash-a', members: ['crash-b'] });
    const client = await hub.connect('crash-a');
    const acks = new Map<number, { seq: number; messageId: string; duplicate: boolean }>();
    const errors: unknown[] = [];
    client.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.t === 'ack') acks.set(Number(String(f.re).slice(1)), { seq: f.seq, messageId: f.messageId, duplicate: f.duplicate });
      if (f.t === 'error') errors.push(f);
    });
    const N = 200;
    for (let i = 0; i < N; i++) client.send({ t: 'send', id: `s${i}`, conversationId: conv.id, clientMsgId: `cm-${i}`, body: `quick ${i}` });
    // Crash once a first batch is acked, while later sends are possibly still in flight.
    const deadline = Date.now() + 10_000;
    while (acks.size < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    await hub.crash();
    const acked = new Map(acks);
    expect(acked.size).toBeGreaterThanOrEqual(20);
    expect(errors).toEqual([]);

    await hub.launch();
    const page = await hub.ok<{ messages: Msg[]; hasMore: boolean }>('GET', `/v1/conversations/${conv.id}/messages?after=0&limit=200`);
    expect(page.hasMore).toBe(false);
    const stored = page.messages;
    const seqs = stored.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.id)).size).toBe(stored.length);
    expect(new Set(stored.map((m) => m.clientMsgId)).size).toBe(stored.length);
    expect(stored.length).toBeGreaterThanOrEqual(acked.size);
    const bySeq = new Map(stored.map((m) => [m.seq, m]));
    for (const [i, ack] of acked) {
      expect(ack.duplicate).toBe(false);
      expect(bySeq.get(ack.seq)).toMatchObject({ id: ack.messageId, clientMsgId: `cm-${i}`, body: `quick ${i}`, senderId: 'crash-a' });
    }
    expect((await hub.ok('GET', `/v1/conversations/${conv.id}`)).lastSeq).toBe(stored.length);

    // Resending all 200 after the restart stores each missing one once, and the stored ones as duplicates.
    const again = await hub.connect('crash-a');
    const storedIds = new Set(stored.map((m) => m.clientMsgId));
    for (let i = 0; i < N; i++) {
      const r = await again.request({ t: 'send', conversationId: conv.id, clientMsgId: `cm-${i}`, body: `quick ${i}` }, 'ack');
      expect(r.t).toBe('ack');
      if (r.t === 'ack') expect(r.duplicate).toBe(storedIds.has(`cm-${i}`));
    }
    const full = await hub.ok<{ messages: Msg[] }>('GET', `/v1/conversations/${conv.id}/messages?after=0&limit=200`);
    expect(full.messages.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(new Set(full.messages.map((m) => m.clientMsgId)).size).toBe(N);
  });

  it('keeps one gapless sequence when two clients and the API write into one conversation until a kill -9', async () => {
    hub = await TestHub.start({ env: { PARLEY_RATE_SEND_PER_S: '1000', PARLEY_RATE_SEND_BURST: '1000' } });
    await hub.user('two-a');
    await hub.customer('two-b');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'two-a', members: ['two-b'] });
    const a = await hub.connect('two-a');
    const b = await hub.connect('two-b');
    const acked = new Map<string, { seq: number; messageId: string }>();
    for (const [who, client] of [['a', a], ['b', b]] as const) {
      client.ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.t === 'ack') acked.set(`${who}:${f.re}`, { seq: f.seq, messageId: f.messageId });
      });
    }
    for (let i = 0; i < 100; i++) {
      a.send({ t: 'send', id: `q${i}`, conversationId: conv.id, clientMsgId: `a-${i}`, body: `a ${i}` });
      b.send({ t: 'send', id: `q${i}`, conversationId: conv.id, clientMsgId: `b-${i}`, body: `b ${i}` });
    }
    const apiAcked: Array<{ seq: number; id: string }> = [];
    const apiPosts = (async () => {
      for (let i = 0; i < 50; i++) {
        const r = await hub!.api('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'two-a', body: `api ${i}`, clientMsgId: `api-${i}` }).catch(() => null);
        if (!r || r.status !== 201) return;
        apiAcked.push({ seq: r.body.message.seq, id: r.body.message.id });
      }
    })();
    const deadline = Date.now() + 10_000;
    while (acked.size < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    await hub.crash();
    await apiPosts;
    const snapshot = new Map(acked);
    expect(snapshot.size).toBeGreaterThanOrEqual(30);

    await hub.launch();
    const page = await hub.ok<{ messages: Msg[]; hasMore: boolean }>('GET', `/v1/conversations/${conv.id}/messages?after=0&limit=200`);
    const more = page.hasMore ? (await hub.ok<{ messages: Msg[] }>('GET', `/v1/conversations/${conv.id}/messages?after=200&limit=200`)).messages : [];
    const stored = [...page.messages, ...more];
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => `${m.senderId}/${m.clientMsgId}`)).size).toBe(stored.length);
    const bySeq = new Map(stored.map((m) => [m.seq, m.id]));
    for (const ack of snapshot.values()) expect(bySeq.get(ack.seq)).toBe(ack.messageId);
    for (const ack of apiAcked) expect(bySeq.get(ack.seq)).toBe(ack.id);
  });

  it('keeps an API-posted message, and its seq, across a kill -9 right after the 201', async () => {
    hub = await TestHub.start();
    await hub.user('api-a');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'api-a', members: [] });
    const posted: Msg[] = [];
    for (let i = 1; i <= 5; i++) posted.push((await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'api-a', body: `api ${i}`, clientMsgId: `a${i}` })).message);
    await hub.crash();
    await hub.launch();
    const page = await hub.ok<{ messages: Msg[] }>('GET', `/v1/conversations/${conv.id}/messages`);
    expect(page.messages.map((m) => [m.seq, m.id])).toEqual(posted.map((m) => [m.seq, m.id]));
    // The next message continues the sequence.
    const next = await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'api-a', body: 'after', clientMsgId: 'a6' });
    expect(next.message.seq).toBe(6);
  });

  it('stops gracefully on SIGTERM: the client sees close 1001, the process exits 0, and the message acked just before is kept', async () => {
    hub = await TestHub.start();
    await hub.user('term-a');
    await hub.user('term-b');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'term-a', members: ['term-b'] });
    const a = await hub.connect('term-a');
    const b = await hub.connect('term-b');
    const ack = await a.request({ t: 'send', conversationId: conv.id, clientMsgId: 'last-words', body: 'just before stopping' }, 'ack');
    expect(ack.t).toBe('ack');
    const closedA = a.waitClose(10_000);
    const closedB = b.waitClose(10_000);
    const code = await hub.killWith('SIGTERM');
    expect(code).toBe(0);
    expect((await closedA).code).toBe(1001);
    expect((await closedB).code).toBe(1001);

    await hub.launch();
    const page = await hub.ok<{ messages: Msg[] }>('GET', `/v1/conversations/${conv.id}/messages`);
    expect(page.messages).toHaveLength(1);
    expect(page.messages[0]).toMatchObject({ id: ack.t === 'ack' ? ack.messageId : '?', seq: 1, body: 'just before stopping', clientMsgId: 'last-words' });
    // The same clientMsgId is still recognised as a duplicate.
    const again = await hub.connect('term-a');
    expect(await again.request({ t: 'send', conversationId: conv.id, clientMsgId: 'last-words', body: 'x' }, 'ack')).toMatchObject({ t: 'ack', duplicate: true, seq: 1 });
  });

  it('keeps participants, preferences, conversations, members and watermarks across a graceful restart', async () => {
    hub = await TestHub.start();
    const agent = await hub.user('rs-agent', { locale: 'de', timezone: 'Europe/Berlin', groups: ['l2'] });
    const cust = await hub.customer('rs-cust');
    await hub.user('rs-poster');
    await hub.ok('PATCH', '/v1/participants/rs-agent/preferences', { notifications: { fromCustomers: 'mine' } });
    await hub.ok('PATCH', '/v1/participants/rs-cust/preferences', { email: { optOut: true } });
    await hub.ok('PUT', '/v1/items/rs-item', { kind: 'ticket', title: 'Restart', customerId: 'rs-cust', followers: ['rs-agent'] });
    const ext = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'rs-item', visibility: 'external', subject: 'Kept' });
    const direct = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'rs-agent', members: ['rs-cust'] });
    for (let i = 1; i <= 3; i++) await hub.ok('POST', `/v1/conversations/${ext.id}/messages`, { senderId: 'rs-poster', body: `m${i}`, clientMsgId: `e${i}` });
    await hub.ok('POST', `/v1/conversations/${direct.id}/messages`, { senderId: 'rs-agent', body: 'hi', clientMsgId: 'd1' });
    const c = await hub.connect('rs-cust');
    c.send({ t: 'seen', conversationId: ext.id, upTo: 2 });
    await c.next((f) => f.t === 'receipt' && f.conversationId === ext.id && f.upTo === 2);
    const listBefore = await c.request({ t: 'conversations' }, 'conversations');
    const prefsBefore = await hub.ok('GET', '/v1/participants/rs-agent/preferences');
    const extBefore = await hub.ok('GET', `/v1/conversations/${ext.id}`);
    const directBefore = await hub.ok('GET', `/v1/conversations/${direct.id}`);
    expect(directBefore).toMatchObject({ lastSeq: 1, visibility: 'external' });
    expect([...extBefore.members].sort()).toEqual(['rs-cust', 'rs-poster']);

    expect(await hub.killWith('SIGTERM')).toBe(0);
    await hub.launch();

    expect(await hub.ok('GET', '/v1/participants/rs-agent')).toEqual(agent);
    expect(await hub.ok('GET', '/v1/participants/rs-cust')).toEqual(cust);
    expect(await hub.ok('GET', '/v1/participants/rs-agent/preferences')).toEqual(prefsBefore);
    expect(await hub.ok('GET', '/v1/participants/rs-cust/preferences')).toEqual({ email: { optOut: true } });
    const extAfter = await hub.ok('GET', `/v1/conversations/${ext.id}`);
    expect({ ...extAfter, members: [...extAfter.members].sort() }).toEqual({ ...extBefore, members: [...extBefore.members].sort() });
    const directAfter = await hub.ok('GET', `/v1/conversations/${direct.id}`);
    expect({ ...directAfter, members: [...directAfter.members].sort() }).toEqual({ ...directBefore, members: [...directBefore.members].sort() });

    const again = await hub.connect('rs-cust');
    const listAfter = await again.request({ t: 'conversations' }, 'conversations');
    const norm = (l: typeof listAfter) => (l.t === 'conversations' ? l.conversations.map((s) => ({ ...s, members: [...s.members].sort() })) : l);
    expect(norm(listAfter)).toEqual(norm(listBefore));
    const summary = listAfter.t === 'conversations' ? listAfter.conversations.find((s) => s.id === ext.id) : undefined;
    expect(summary).toMatchObject({ seenUpTo: 2, unseen: 1, lastSeq: 3, following: true });
    // A seen below the kept watermark is ignored: no receipt.
    again.send({ t: 'seen', conversationId: ext.id, upTo: 1 });
    await again.sync();
    expect(again.queued('receipt')).toEqual([]);
    // The item still names its customer: the customer still receives the external conversation.
    await hub.ok('POST', `/v1/conversations/${ext.id}/messages`, { senderId: 'rs-poster', body: 'after restart', clientMsgId: 'e4' });
    expect(await again.next('message')).toMatchObject({ message: { conversationId: ext.id, seq: 4, body: 'after restart' } });
  });

  it('keeps project and item followers across a restart: a user with access mine still gets what it follows, and only that', async () => {
    hub = await TestHub.start();
    await hub.user('fw-writer');
    await hub.user('fw-pm');
    await hub.user('fw-itemfan');
    for (const id of ['fw-pm', 'fw-itemfan']) await hub.ok('PATCH', `/v1/participants/${id}/preferences`, { access: { viewConversations: 'mine' } });
    await hub.ok('PUT', '/v1/projects/fw-p', { name: 'P', followers: ['fw-pm'] });
    await hub.ok('PUT', '/v1/items/fw-in-p', { kind: 'ticket', title: 'in P', projectId: 'fw-p' });
    await hub.ok('PUT', '/v1/items/fw-fanned', { kind: 'ticket', title: 'fanned', followers: ['fw-itemfan'] });
    const inP = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'fw-in-p', visibility: 'internal' })).id;
    const fanned = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'fw-fanned', visibility: 'internal' })).id;
    expect(await hub.killWith('SIGTERM')).toBe(0);
    await hub.launch();

    const pm = await hub.connect('fw-pm');
    const fan = await hub.connect('fw-itemfan');
    await hub.ok('POST', `/v1/conversations/${inP}/messages`, { senderId: 'fw-writer', body: 'project news', clientMsgId: 'p1' });
    await hub.ok('POST', `/v1/conversations/${fanned}/messages`, { senderId: 'fw-writer', body: 'item news', clientMsgId: 'f1' });
    expect(await pm.next('message')).toMatchObject({ message: { conversationId: inP, body: 'project news' } });
    expect(await fan.next('message')).toMatchObject({ message: { conversationId: fanned, body: 'item news' } });
    await pm.sync();
    await fan.sync();
    expect(pm.queued('message')).toEqual([]);
    expect(fan.queued('message')).toEqual([]);
  });

  it('keeps a seen watermark and delivery times across a kill -9 once the seen receipt was sent', async () => {
    hub = await TestHub.start();
    await hub.user('ks-agent');
    await hub.customer('ks-cust');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'ks-agent', members: ['ks-cust'] });
    const c = await hub.connect('ks-cust');
    let last = 0;
    for (let i = 1; i <= 3; i++) last = (await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'ks-agent', body: `m${i}`, clientMsgId: `k${i}` })).message.seq;
    await c.next((f) => f.t === 'message' && f.message.seq === last);
    c.send({ t: 'seen', conversationId: conv.id, upTo: 2 });
    await c.next((f) => f.t === 'receipt' && f.upTo === 2);
    await hub.crash();
    await hub.launch();
    const again = await hub.connect('ks-cust');
    const list = await again.request({ t: 'conversations' }, 'conversations');
    expect(list.t === 'conversations' && list.conversations[0]).toMatchObject({ id: conv.id, seenUpTo: 2, unseen: 1, lastSeq: 3 });
    const page = await hub.ok<{ messages: Msg[] }>('GET', `/v1/conversations/${conv.id}/messages`);
    const r = await hub.ok('GET', `/v1/messages/${page.messages[1]!.id}/receipts`);
    const rec = r.recipients.find((x: { participantId: string }) => x.participantId === 'ks-cust');
    expect(rec.seenAt).toEqual(expect.any(Number));
    expect(rec.deliveredAt).toEqual(expect.any(Number));
  });
});
