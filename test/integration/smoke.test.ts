import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';

describe('a message between a user and a customer', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.user('alice');
    await hub.customer('carol');
  });
  afterAll(() => hub.stop());

  it('is acked to the sender and delivered to the other side with a notify', async () => {
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'alice', members: ['carol'] });
    const alice = await hub.connect('alice');
    const carol = await hub.connect('carol');
    const ack = await alice.request({ t: 'send', conversationId: conv.id, clientMsgId: 'm1', body: 'Hello Carol' }, 'ack');
    expect(ack).toMatchObject({ t: 'ack', conversationId: conv.id, seq: 1, duplicate: false });
    const msg = await carol.next('message');
    expect(msg.message).toMatchObject({ body: 'Hello Carol', senderId: 'alice', seq: 1, source: 'ws' });
    const n = await carol.next('notify');
    expect(n).toMatchObject({ conversationId: conv.id, seq: 1, reason: 'reply_to_customer' });
    expect(alice.violations).toEqual([]);
    expect(carol.violations).toEqual([]);
  });
});
