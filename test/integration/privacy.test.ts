import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { TestHub } from '../support/hub.js';

/**
 * The worst bug the product can have: a customer receiving anything of an internal conversation.
 * One ticket with an internal and an external conversation; the customer is connected throughout and
 * must see all of the external one and nothing of the internal one, whatever anybody does.
 */
describe('a customer and an item’s internal conversation', () => {
  let hub: TestHub;
  let ext: string;
  let int: string;
  let customer: TestClient;
  let agent: TestClient;
  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.customer('cust');
    await hub.user('agent');
    await hub.user('quiet');
    await hub.user('mine');
    await hub.bot('bot');
    await hub.ok('PATCH', '/v1/participants/mine/preferences', { access: { viewConversations: 'mine' } });
    await hub.ok('PATCH', '/v1/participants/quiet/preferences', { notifications: { fromCustomers: 'none' } });
    await hub.ok('PUT', '/v1/items/t1', { kind: 'ticket', title: 'Printer', customerId: 'cust', followers: ['agent'] });
    ext = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't1', visibility: 'external' })).id;
    int = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't1', visibility: 'internal' })).id;
    customer = await hub.connect('cust');
    agent = await hub.connect('agent');
  });
  afterAll(() => hub.stop());

  it('gets nothing of the internal conversation, whoever writes or types there and however', async () => {
    const a = await agent.request({ t: 'send', conversationId: int, clientMsgId: 'i1', body: 'internal: the customer is wrong' }, 'ack');
    expect(a.t).toBe('ack');
    await hub.ok('POST', `/v1/conversations/${int}/messages`, { senderId: 'bot', body: 'internal bot note', clientMsgId: 'b1' });
    agent.send({ t: 'typing', conversationId: int });
    agent.send({ t: 'seen', conversationId: int, upTo: 2 });
    await agent.next((f) => f.t === 'receipt' && f.conversationId === int);
    // The external conversation still works, as a marker that everything before it has arrived.
    await agent.request({ t: 'send', conversationId: ext, clientMsgId: 'e1', body: 'Hello, we are on it' }, 'ack');
    await customer.next((f) => f.t === 'message' && f.message.conversationId === ext);
    await customer.sync();
    const leaked = customer.frames.filter((f) => JSON.stringify(f).includes(int) || JSON.stringify(f).includes('internal'));
    expect(leaked).toEqual([]);
    expect(customer.violations).toEqual([]);
  });

  it('cannot ask: every request about it is answered exactly like an unknown id', async () => {
    const unknown = 'x'.repeat(21);
    for (const [probe, conversationId] of [
      ['history', int],
      ['history', unknown],
    ] as const) {
      const r = await customer.request({ t: probe, conversationId }, 'history');
      expect(r).toMatchObject({ t: 'error', code: 'not_found', message: 'no such conversation' });
    }
    const send = await customer.request({ t: 'send', conversationId: int, clientMsgId: 'c1', body: 'let me in' }, 'ack');
    expect(send).toMatchObject({ t: 'error', code: 'not_found', message: 'no such conversation' });
    const page = await hub.ok('GET', `/v1/conversations/${int}/messages`);
    const receipts = await customer.request({ t: 'receipts', messageId: page.messages[0].id }, 'receipts');
    const unknownReceipts = await customer.request({ t: 'receipts', messageId: unknown }, 'receipts');
    expect(receipts).toMatchObject({ t: 'error', code: 'not_found' });
    expect(unknownReceipts).toMatchObject({ t: 'error', code: (receipts as { code: string }).code, message: (receipts as { message: string }).message });
    customer.send({ t: 'seen', conversationId: int, upTo: 1 });
    customer.send({ t: 'typing', conversationId: int });
    const e1 = await customer.next('error');
    const e2 = await customer.next('error');
    expect([e1.code, e2.code]).toEqual(['not_found', 'not_found']);
    const list = await customer.request({ t: 'conversations' }, 'conversations');
    expect(list.t === 'conversations' && list.conversations.map((c) => c.id)).toEqual([ext]);
  });

  it('learns nothing about users who are only in the internal conversation', async () => {
    // `agent` became a member of the external conversation by posting there; the others never did.
    const who = await customer.request({ t: 'who', participantIds: ['agent', 'quiet', 'mine', 'bot'] }, 'who');
    expect(who.t === 'who' && who.presence.map((p) => p.participantId)).toEqual(['agent']);
  });

  it('routes notify by preference, never to the sender, and only to those who may see', async () => {
    const quiet = await hub.connect('quiet');
    const mine = await hub.connect('mine');
    await customer.request({ t: 'send', conversationId: ext, clientMsgId: 'q1', body: 'Any news?' }, 'ack');
    const m = await agent.next((f) => f.t === 'message' && f.message.clientMsgId === 'q1');
    const n = await agent.next((f) => f.t === 'notify' && m.t === 'message' && f.messageId === m.message.id);
    expect(n).toMatchObject({ conversationId: ext, reason: 'from_customer' });
    await quiet.next((f) => f.t === 'message' && f.message.clientMsgId === 'q1');
    await quiet.sync();
    expect(quiet.queued('notify')).toEqual([]);
    await mine.sync();
    expect(mine.queued('message')).toEqual([]);
    expect(mine.queued('notify')).toEqual([]);
    await customer.sync();
    expect(customer.queued('notify').filter((n) => n.t === 'notify' && m.t === 'message' && n.messageId === m.message.id)).toEqual([]);

    // Following the item lets the `mine` user see new messages from then on.
    await hub.ok('PUT', '/v1/items/t1', { kind: 'ticket', title: 'Printer', customerId: 'cust', followers: ['agent', 'mine'] });
    await customer.request({ t: 'send', conversationId: ext, clientMsgId: 'q2', body: 'Hello?' }, 'ack');
    expect(await mine.next((f) => f.t === 'message' && f.message.clientMsgId === 'q2')).toBeTruthy();
  });
});
