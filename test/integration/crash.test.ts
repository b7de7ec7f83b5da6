import { afterEach, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';

describe('durability', () => {
  let hub: TestHub;
  afterEach(() => hub?.stop());

  it('keeps every acked message, without gap or duplicate, across a kill -9', async () => {
    hub = await TestHub.start({ env: { PARLEY_RATE_SEND_PER_S: '10000', PARLEY_RATE_SEND_BURST: '10000' } });
    await hub.user('u1');
    await hub.user('u2');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'u1', members: ['u2'] });
    const client = await hub.connect('u1');
    const acks = new Map<string, { seq: number; messageId: string }>();
    client.ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      if (f.t === 'ack') acks.set(f.re, { seq: f.seq, messageId: f.messageId });
    });
    for (let i = 0; i < 200; i++) client.send({ t: 'send', id: `s${i}`, conversationId: conv.id, clientMsgId: `c${i}`, body: `message ${i}` });
    // Crash once some acks are in, while the rest may still be in flight.
    const deadline = Date.now() + 10_000;
    while (acks.size < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    await hub.crash();
    expect(acks.size).toBeGreaterThanOrEqual(50);

    await hub.launch();
    const page = await hub.ok('GET', `/v1/conversations/${conv.id}/messages?after=0&limit=200`);
    const seqs = page.messages.map((m: { seq: number }) => m.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(new Set(page.messages.map((m: { clientMsgId: string }) => m.clientMsgId)).size).toBe(seqs.length);
    expect(seqs.length).toBeGreaterThanOrEqual(acks.size);
    const bySeq = new Map(page.messages.map((m: { seq: number; id: string }) => [m.seq, m.id]));
    for (const ack of acks.values()) expect(bySeq.get(ack.seq)).toBe(ack.messageId);

    // Resending everything after the restart stores nothing twice.
    const again = await hub.connect('u1');
    const dup = await again.request({ t: 'send', conversationId: conv.id, clientMsgId: 'c0', body: 'message 0' }, 'ack');
    expect(dup).toMatchObject({ duplicate: true, seq: 1 });
  });

  it('stops gracefully on SIGTERM: sessions closed with 1001, exit code 0, acked messages kept', async () => {
    hub = await TestHub.start();
    await hub.user('g1');
    await hub.user('g2');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'g1', members: ['g2'] });
    const client = await hub.connect('g1');
    const ack = await client.request({ t: 'send', conversationId: conv.id, clientMsgId: 'last', body: 'just before stopping' }, 'ack');
    const closed = client.waitClose();
    const started = Date.now();
    const code = await hub.killWith('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await closed).code).toBe(1001);
    await hub.launch();
    const page = await hub.ok('GET', `/v1/conversations/${conv.id}/messages`);
    expect(page.messages.map((m: { id: string }) => m.id)).toEqual([ack.t === 'ack' ? ack.messageId : 'no ack']);
  });

  it('keeps participants, members and watermarks across a restart', async () => {
    hub = await TestHub.start();
    await hub.user('w1');
    await hub.customer('w2');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'w1', members: ['w2'] });
    await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'w1', body: 'one', clientMsgId: 'a' });
    await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'w1', body: 'two', clientMsgId: 'b' });
    const customer = await hub.connect('w2');
    customer.send({ t: 'seen', conversationId: conv.id, upTo: 1 });
    await customer.next('receipt');
    await hub.killWith('SIGTERM');
    await hub.launch();
    const again = await hub.connect('w2');
    const list = await again.request({ t: 'conversations' }, 'conversations');
    expect(list.t === 'conversations' && list.conversations[0]).toMatchObject({ id: conv.id, members: ['w1', 'w2'], seenUpTo: 1, unseen: 1, lastSeq: 2 });
  });
});
