import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { TestHub } from '../support/hub.js';
import { record } from '../support/expect-http.js';

/**
 * SPEC §2 end to end: who receives what of an item's internal and external conversations, and who
 * is notified. Every client is connected before the conversations exist, so that conversation pushes
 * are covered too; the customer's every frame is recorded to prove that nothing internal reached it.
 */

const isMessage = (conversationId: string, clientMsgId: string) => (f: any) => f.t === 'message' && f.message.conversationId === conversationId && f.message.clientMsgId === clientMsgId;

describe('the customer of an item with an internal and an external conversation', () => {
  let hub: TestHub;
  let ext: string;
  let int: string;
  let cust: TestClient;
  let agent: TestClient;
  let insider: TestClient;
  let mine: TestClient;
  let custLog: any[];
  let mineLog: any[];
  /** A message id of the internal conversation (set by the test that posts there). */
  let internalMessageId = '';
  const INTERNAL_BODIES = ['secret-ws-from-agent', 'secret-api-from-bot', 'secret-api-from-insider', 'secret-ws-from-insider'];

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.customer('cust');
    await hub.user('agent'); // follows the item
    await hub.user('insider'); // access `all`, only ever in the internal conversation
    await hub.user('mine'); // access `mine`, follows nothing
    await hub.bot('bot');
    await hub.ok('PATCH', '/v1/participants/mine/preferences', { access: { viewConversations: 'mine' } });
    await hub.ok('PUT', '/v1/items/t1', { kind: 'ticket', title: 'Printer', customerId: 'cust', followers: ['agent'] });
    cust = await hub.connect('cust');
    agent = await hub.connect('agent');
    insider = await hub.connect('insider');
    mine = await hub.connect('mine');
    custLog = record(cust);
    mineLog = record(mine);
    ext = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't1', visibility: 'external', subject: 'Your printer' })).id;
    int = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't1', visibility: 'internal', subject: 'Printer (staff only)' })).id;
  });
  afterAll(() => hub.stop());

  /** Nothing the customer ever received names the internal conversation, its bodies, or the insider. */
  function expectNoLeak(): void {
    const leaked = custLog.filter((f) => {
      const s = JSON.stringify(f);
      return s.includes(int) || s.includes('insider') || s.includes('staff only') || INTERNAL_BODIES.some((b) => s.includes(b));
    });
    expect(leaked).toEqual([]);
    expect(cust.violations).toEqual([]);
  }

  it('pushes the external conversation to the customer when it is created, and never the internal one', async () => {
    const pushed = await cust.next((f) => f.t === 'conversation' && f.conversation.id === ext);
    expect(pushed.t === 'conversation' && pushed.conversation).toMatchObject({ id: ext, kind: 'item', visibility: 'external', itemId: 't1', members: ['cust'], following: true });
    // The agent follows the item: it is told of both.
    await agent.next((f) => f.t === 'conversation' && f.conversation.id === ext);
    await agent.next((f) => f.t === 'conversation' && f.conversation.id === int);
    await cust.sync();
    expect(cust.queued('conversation')).toEqual([]);
    expectNoLeak();
  });

  it('delivers every message of the external conversation to the customer, sent over WebSocket or through the API, with a notify', async () => {
    const ack = await agent.request({ t: 'send', conversationId: ext, clientMsgId: 'e-ws', body: 'We are on it' }, 'ack');
    expect(ack).toMatchObject({ t: 'ack', seq: 1 });
    const viaWs = await cust.next(isMessage(ext, 'e-ws'));
    expect(viaWs.t === 'message' && viaWs.message).toMatchObject({ senderId: 'agent', body: 'We are on it', source: 'ws', seq: 1 });
    expect(await cust.next((f) => f.t === 'notify' && f.conversationId === ext && f.seq === 1)).toMatchObject({ reason: 'reply_to_customer' });

    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'bot', body: 'Ticket #1 updated', clientMsgId: 'e-bot' });
    const viaBot = await cust.next(isMessage(ext, 'e-bot'));
    expect(viaBot.t === 'message' && viaBot.message).toMatchObject({ senderId: 'bot', senderKind: 'bot', source: 'api', seq: 2 });
    expect(await cust.next((f) => f.t === 'notify' && f.conversationId === ext && f.seq === 2)).toMatchObject({ reason: 'reply_to_customer' });

    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'agent', body: 'Posted by the helpdesk', clientMsgId: 'e-api' });
    const viaApi = await cust.next(isMessage(ext, 'e-api'));
    expect(viaApi.t === 'message' && viaApi.message).toMatchObject({ senderId: 'agent', source: 'api', seq: 3 });

    // And the customer's own message reaches the agent.
    await cust.request({ t: 'send', conversationId: ext, clientMsgId: 'c-1', body: 'Thanks!' }, 'ack');
    const fromCustomer = await agent.next(isMessage(ext, 'c-1'));
    expect(fromCustomer.t === 'message' && fromCustomer.message).toMatchObject({ senderId: 'cust', senderKind: 'customer', seq: 4 });
    expectNoLeak();
  });

  it('relays typing and seen receipts of the external conversation to the customer', async () => {
    agent.send({ t: 'typing', conversationId: ext });
    expect(await cust.next('typing')).toEqual({ t: 'typing', conversationId: ext, participantId: 'agent' });
    agent.send({ t: 'seen', conversationId: ext, upTo: 4 });
    const r = await cust.next((f) => f.t === 'receipt' && f.participantId === 'agent');
    expect(r).toMatchObject({ t: 'receipt', conversationId: ext, participantId: 'agent', kind: 'seen', upTo: 4 });
    expectNoLeak();
  });

  it('gives the customer nothing of the internal conversation: no message, notify, receipt, typing or conversation push', async () => {
    // Over WebSocket, from a follower of the item.
    const a = await agent.request({ t: 'send', conversationId: int, clientMsgId: 'i-ws', body: INTERNAL_BODIES[0]! }, 'ack');
    expect(a.t).toBe('ack');
    internalMessageId = a.t === 'ack' ? a.messageId : '';
    // Through the API, from a bot and from a user who thereby joins (a conversation push to viewers).
    await hub.ok('POST', `/v1/conversations/${int}/messages`, { senderId: 'bot', body: INTERNAL_BODIES[1], clientMsgId: 'i-bot' });
    await hub.ok('POST', `/v1/conversations/${int}/messages`, { senderId: 'insider', body: INTERNAL_BODIES[2], clientMsgId: 'i-api' });
    await insider.request({ t: 'send', conversationId: int, clientMsgId: 'i-ws2', body: INTERNAL_BODIES[3]! }, 'ack');
    agent.send({ t: 'typing', conversationId: int });
    agent.send({ t: 'seen', conversationId: int, upTo: 4 });

    // They happened: the insider and the agent saw every one of them.
    for (const id of ['i-ws', 'i-bot', 'i-api']) await insider.next(isMessage(int, id));
    await agent.next(isMessage(int, 'i-ws2'));
    expect(await agent.next((f) => f.t === 'notify' && f.conversationId === int && f.seq === 4)).toMatchObject({ reason: 'internal' });
    await agent.next((f) => f.t === 'conversation' && f.conversation.id === int && f.conversation.members.includes('insider'));
    expect(await insider.next((f) => f.t === 'typing' && f.conversationId === int)).toMatchObject({ participantId: 'agent' });
    expect(await insider.next((f) => f.t === 'receipt' && f.conversationId === int)).toMatchObject({ participantId: 'agent', kind: 'seen', upTo: 4 });

    // A marker in the external conversation: everything before it has reached the customer.
    await agent.request({ t: 'send', conversationId: ext, clientMsgId: 'e-marker', body: 'still here' }, 'ack');
    await cust.next(isMessage(ext, 'e-marker'));
    await cust.sync();
    const seenByCustomer = custLog.filter((f) => ['message', 'notify', 'receipt', 'typing', 'conversation'].includes(f.t)).map((f) => f.conversationId ?? f.message?.conversationId ?? f.conversation?.id);
    expect(new Set(seenByCustomer)).toEqual(new Set([ext]));
    expectNoLeak();
  });

  it('answers every request about the internal conversation exactly as one about a random id', async () => {
    const random = 'Zx9_random_conversation';
    const pair = async (frame: Record<string, unknown>, field: 'conversationId' | 'messageId', real: string, fake: string) => {
      const r1 = await cust.request({ ...frame, [field]: real });
      const r2 = await cust.request({ ...frame, [field]: fake });
      expect(r1.t).toBe('error');
      expect(r1.t === 'error' && r1.code).toBe('not_found');
      const strip = (f: any) => ({ t: f.t, code: f.code, message: f.message });
      expect(strip(r1)).toEqual(strip(r2));
    };
    await pair({ t: 'history' }, 'conversationId', int, random);
    await pair({ t: 'history', after: 0, limit: 10 }, 'conversationId', int, random);
    await pair({ t: 'send', clientMsgId: 'probe', body: 'let me in' }, 'conversationId', int, random);
    expect(internalMessageId).not.toBe('');
    await pair({ t: 'receipts' }, 'messageId', internalMessageId, 'Zx9_random_message');

    // seen and typing carry no id: an error without `re`, the same for both.
    cust.send({ t: 'seen', conversationId: int, upTo: 1 });
    const e1 = await cust.next('error');
    cust.send({ t: 'seen', conversationId: random, upTo: 1 });
    const e2 = await cust.next('error');
    cust.send({ t: 'typing', conversationId: int });
    const e3 = await cust.next('error');
    cust.send({ t: 'typing', conversationId: random });
    const e4 = await cust.next('error');
    expect(e1).toEqual({ t: 'error', code: 'not_found', message: e1.message });
    expect(e1).toEqual(e2);
    expect(e3).toEqual({ t: 'error', code: 'not_found', message: e3.message });
    expect(e3).toEqual(e4);

    // Nothing was stored or relayed by those attempts.
    expect((await hub.ok('GET', `/v1/conversations/${int}`)).lastSeq).toBe(4);
    await insider.sync();
    expect(insider.queued('typing').filter((f) => f.participantId === 'cust')).toEqual([]);
    expect(insider.queued('receipt').filter((f) => f.participantId === 'cust')).toEqual([]);
    expectNoLeak();
  });

  it('never lists the internal conversation in the customer’s conversations', async () => {
    const list = await cust.request({ t: 'conversations' }, 'conversations');
    expect(list.t === 'conversations' && list.conversations.map((c) => c.id)).toEqual([ext]);
    expect(list.t === 'conversations' && list.cursor).toBeNull();
    const page = await cust.request({ t: 'conversations', limit: 1 }, 'conversations');
    expect(page.t === 'conversations' && page.conversations.map((c) => c.id)).toEqual([ext]);
    expect(page.t === 'conversations' && page.cursor).toBeNull();
    // The agent, for contrast, lists both.
    const agents = await agent.request({ t: 'conversations' }, 'conversations');
    expect(agents.t === 'conversations' && agents.conversations.map((c) => c.id).sort()).toEqual([ext, int].sort());
    expectNoLeak();
  });

  it('does not reveal through who, or presence, users who are only in the internal conversation', async () => {
    const who = await cust.request({ t: 'who', participantIds: ['agent', 'insider', 'mine', 'bot', 'nobody'], watch: true }, 'who');
    expect(who.t === 'who' && who.presence.map((p) => p.participantId)).toEqual(['agent']);
    // The insider's presence changes reach its co-member the agent, never the customer.
    insider.send({ t: 'presence', state: 'away' });
    expect(await agent.next((f) => f.t === 'presence' && f.participantId === 'insider')).toMatchObject({ state: 'away' });
    agent.send({ t: 'presence', state: 'away' });
    expect(await cust.next((f) => f.t === 'presence' && f.participantId === 'agent')).toMatchObject({ state: 'away' });
    await cust.sync();
    expect(custLog.filter((f) => f.t === 'presence').map((f) => f.participantId)).toEqual(['agent']);
    expectNoLeak();
  });

  it('gives the customer receipts of its own message naming only members, with only delivery and seen times', async () => {
    const list = await hub.ok('GET', `/v1/conversations/${ext}/messages`);
    const own = list.messages.find((m: { clientMsgId: string }) => m.clientMsgId === 'c-1');
    const r = await cust.request({ t: 'receipts', messageId: own.id }, 'receipts');
    expect(r.t).toBe('receipts');
    if (r.t !== 'receipts') return;
    expect(r.recipients.map((x) => x.participantId).sort()).toEqual(['agent', 'bot']);
    for (const x of r.recipients) expect(Object.keys(x).sort()).toEqual(['deliveredAt', 'participantId', 'seenAt']);
    expect(r.recipients.find((x) => x.participantId === 'agent')).toMatchObject({ deliveredAt: expect.any(Number), seenAt: expect.any(Number) });
    expectNoLeak();
  });

  it('gives a user with access `mine` who follows nothing nothing of either conversation', async () => {
    await mine.sync();
    const relevant = mineLog.filter((f) => JSON.stringify(f).includes(ext) || JSON.stringify(f).includes(int));
    expect(relevant).toEqual([]);
    for (const conversationId of [ext, int]) {
      const h = await mine.request({ t: 'history', conversationId }, 'history');
      expect(h).toMatchObject({ t: 'error', code: 'not_found' });
    }
    const list = await mine.request({ t: 'conversations' }, 'conversations');
    expect(list.t === 'conversations' && list.conversations).toEqual([]);
  });

  it('gives that user the new messages of both conversations once it follows the item', async () => {
    await hub.ok('PUT', '/v1/items/t1', { kind: 'ticket', title: 'Printer', customerId: 'cust', followers: ['agent', 'mine'] });
    await agent.request({ t: 'send', conversationId: ext, clientMsgId: 'after-follow-ext', body: 'for everyone' }, 'ack');
    await agent.request({ t: 'send', conversationId: int, clientMsgId: 'after-follow-int', body: 'for staff' }, 'ack');
    const m1 = await mine.next(isMessage(ext, 'after-follow-ext'));
    const m2 = await mine.next(isMessage(int, 'after-follow-int'));
    // It follows now: notified of a reply to the customer (followed) and of an internal message (followedInternal).
    expect(await mine.next((f) => f.t === 'notify' && m1.t === 'message' && f.messageId === m1.message.id)).toMatchObject({ reason: 'reply_to_customer' });
    expect(await mine.next((f) => f.t === 'notify' && m2.t === 'message' && f.messageId === m2.message.id)).toMatchObject({ reason: 'internal' });
    const h = await mine.request({ t: 'history', conversationId: int }, 'history');
    expect(h.t === 'history' && h.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    const list = await mine.request({ t: 'conversations' }, 'conversations');
    expect(list.t === 'conversations' && list.conversations.map((c) => c.id).sort()).toEqual([ext, int].sort());
    // The customer still gets only the external one.
    await cust.next(isMessage(ext, 'after-follow-ext'));
    await cust.sync();
    expectNoLeak();
  });
});

describe('a user with access `mine` and the item’s project', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
  });
  afterAll(() => hub.stop());

  it('sees an item’s conversations while it follows the item’s project, and not those of other projects', async () => {
    await hub.user('pm');
    await hub.user('writer');
    await hub.ok('PATCH', '/v1/participants/pm/preferences', { access: { viewConversations: 'mine' } });
    await hub.ok('PUT', '/v1/projects/p-followed', { name: 'Followed', followers: ['pm'] });
    await hub.ok('PUT', '/v1/projects/p-other', { name: 'Other' });
    await hub.ok('PUT', '/v1/items/in-followed', { kind: 'ticket', title: 'a', projectId: 'p-followed' });
    await hub.ok('PUT', '/v1/items/in-other', { kind: 'ticket', title: 'b', projectId: 'p-other' });
    const seen = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'in-followed', visibility: 'internal' })).id;
    const unseen = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'in-other', visibility: 'internal' })).id;
    const pm = await hub.connect('pm');
    await hub.ok('POST', `/v1/conversations/${unseen}/messages`, { senderId: 'writer', body: 'other project', clientMsgId: 'o1' });
    await hub.ok('POST', `/v1/conversations/${seen}/messages`, { senderId: 'writer', body: 'followed project', clientMsgId: 'f1' });
    const m = await pm.next('message');
    expect(m.message).toMatchObject({ conversationId: seen, body: 'followed project' });
    await pm.sync();
    expect(pm.queued('message')).toEqual([]);
    expect(await pm.request({ t: 'history', conversationId: unseen }, 'history')).toMatchObject({ t: 'error', code: 'not_found' });
    expect(pm.violations).toEqual([]);
  });
});

describe('notify frames', () => {
  let hub: TestHub;
  let ext: string;
  let int: string;
  const c: Record<string, TestClient> = {};
  const ids = ['cust', 'follower', 'noInternal', 'owner', 'resp', 'plain', 'quiet', 'loud', 'mineOnly', 'bot'] as const;

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.customer('cust');
    await hub.user('follower'); // follows the item, default preferences
    await hub.user('noInternal'); // follows the item, followedInternal false
    await hub.user('owner'); // the item's owner: follows it implicitly
    await hub.user('resp'); // the item's responsible user: follows it implicitly
    await hub.user('plain'); // default preferences, follows nothing
    await hub.user('quiet'); // fromCustomers none
    await hub.user('loud'); // repliesToCustomers all
    await hub.user('mineOnly'); // fromCustomers mine
    await hub.bot('bot');
    await hub.ok('PATCH', '/v1/participants/noInternal/preferences', { notifications: { followedInternal: false } });
    await hub.ok('PATCH', '/v1/participants/quiet/preferences', { notifications: { fromCustomers: 'none' } });
    await hub.ok('PATCH', '/v1/participants/loud/preferences', { notifications: { repliesToCustomers: 'all' } });
    await hub.ok('PATCH', '/v1/participants/mineOnly/preferences', { notifications: { fromCustomers: 'mine' } });
    await hub.ok('PUT', '/v1/items/n1', { kind: 'ticket', title: 'Noise', customerId: 'cust', ownerId: 'owner', responsibleId: 'resp', followers: ['follower', 'noInternal'] });
    ext = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'n1', visibility: 'external' })).id;
    int = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'n1', visibility: 'internal' })).id;
    // The bot joins the external conversation by posting, before anyone is connected.
    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'bot', body: 'Ticket opened', clientMsgId: 'b0' });
    for (const id of ids) c[id] = await hub.connect(id);
  });
  afterAll(() => hub.stop());

  /** Wait until every client got the message, then return who got a notify for it and with which reason. */
  async function notified(conversationId: string, clientMsgId: string, audience: readonly string[]): Promise<Record<string, string | null>> {
    let messageId = '';
    for (const id of audience) {
      const m = await c[id]!.next(isMessage(conversationId, clientMsgId));
      if (m.t === 'message') messageId = m.message.id;
    }
    const out: Record<string, string | null> = {};
    for (const id of ids) {
      await c[id]!.sync();
      const n = c[id]!.queued('notify').filter((f) => f.messageId === messageId);
      expect(n.length).toBeLessThanOrEqual(1);
      out[id] = n[0]?.reason ?? null;
      // Take what this message left, so the next test starts clean.
      c[id]!.frames.splice(0, c[id]!.frames.length);
    }
    return out;
  }

  it('on a customer’s message: from_customer to users by fromCustomers, never to the bot or the customer itself', async () => {
    await c.cust!.request({ t: 'send', conversationId: ext, clientMsgId: 'from-cust-1', body: 'Is it fixed?' }, 'ack');
    const got = await notified(ext, 'from-cust-1', ids);
    expect(got).toEqual({
      cust: null, // the sender
      follower: 'from_customer', // fromCustomers all
      noInternal: 'from_customer',
      owner: 'from_customer',
      resp: 'from_customer',
      plain: 'from_customer', // all: following is not needed
      quiet: null, // fromCustomers none: gets the message, no notify
      loud: 'from_customer',
      mineOnly: null, // mine, and it does not follow
      bot: null, // a bot is never notified
    });
  });

  it('on a user’s reply to the customer: reply_to_customer to the customer, to repliesToCustomers all, and to followers only under followed', async () => {
    await c.follower!.request({ t: 'send', conversationId: ext, clientMsgId: 'reply-1', body: 'Yes, fixed' }, 'ack');
    const got = await notified(ext, 'reply-1', ids);
    expect(got).toEqual({
      cust: 'reply_to_customer', // a customer is notified of every message from others
      follower: null, // the sender
      noInternal: 'reply_to_customer', // followed, and it follows the item
      owner: 'reply_to_customer', // followed, and the owner follows implicitly
      resp: 'reply_to_customer', // likewise the responsible user
      plain: null, // followed, and it does not follow
      quiet: null,
      loud: 'reply_to_customer', // all
      mineOnly: null,
      bot: null,
    });
  });

  it('on a bot’s message in the external conversation: reply_to_customer by the same rules', async () => {
    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'bot', body: 'Status: solved', clientMsgId: 'bot-1' });
    const got = await notified(ext, 'bot-1', ids);
    expect(got).toEqual({ cust: 'reply_to_customer', follower: 'reply_to_customer', noInternal: 'reply_to_customer', owner: 'reply_to_customer', resp: 'reply_to_customer', plain: null, quiet: null, loud: 'reply_to_customer', mineOnly: null, bot: null });
  });

  it('on an internal message: internal to followers (owner and responsible included) with followedInternal, to nobody else, and none to the customer', async () => {
    await c.follower!.request({ t: 'send', conversationId: int, clientMsgId: 'int-1', body: 'note to self' }, 'ack');
    const got = await notified(int, 'int-1', ['follower', 'noInternal', 'owner', 'resp', 'plain', 'quiet', 'loud', 'mineOnly']);
    expect(got).toEqual({ cust: null, follower: null, noInternal: null, owner: 'internal', resp: 'internal', plain: null, quiet: null, loud: null, mineOnly: null, bot: null });
    // Now one who follows and keeps followedInternal: the noInternal user writes, the follower is notified.
    await c.noInternal!.request({ t: 'send', conversationId: int, clientMsgId: 'int-2', body: 'seen the note' }, 'ack');
    const got2 = await notified(int, 'int-2', ['follower', 'noInternal', 'plain']);
    expect(got2).toEqual({ cust: null, follower: 'internal', noInternal: null, owner: 'internal', resp: 'internal', plain: null, quiet: null, loud: null, mineOnly: null, bot: null });
  });

  it('never notifies the sender about its own message, whether it posts over WebSocket or through the API', async () => {
    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'follower', body: 'via the helpdesk', clientMsgId: 'api-self' });
    const got = await notified(ext, 'api-self', ['follower', 'cust']);
    expect(got.follower).toBeNull();
    expect(got.cust).toBe('reply_to_customer');
    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'cust', body: 'via the widget backend', clientMsgId: 'api-cust' });
    const got2 = await notified(ext, 'api-cust', ['follower', 'cust']);
    expect(got2.cust).toBeNull();
    expect(got2.follower).toBe('from_customer');
  });

  it('notifies a user with fromCustomers `mine` once it follows the conversation by posting in it', async () => {
    await c.mineOnly!.request({ t: 'send', conversationId: ext, clientMsgId: 'join', body: 'I will take this one' }, 'ack');
    await notified(ext, 'join', ['mineOnly', 'cust']);
    await c.cust!.request({ t: 'send', conversationId: ext, clientMsgId: 'from-cust-2', body: 'Thank you' }, 'ack');
    const got = await notified(ext, 'from-cust-2', ['mineOnly', 'quiet']);
    expect(got.mineOnly).toBe('from_customer');
    expect(got.quiet).toBeNull();
    for (const id of ids) expect(c[id]!.violations).toEqual([]);
  });
});

describe('changes of who may see', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.customer('old-cust');
    await hub.customer('new-cust');
    await hub.user('staff');
    await hub.user('viewer'); // access all, follows nothing
  });
  afterAll(() => hub.stop());

  it('moves an external item conversation from the old customer to the new one when the item’s customer changes', async () => {
    await hub.ok('PUT', '/v1/items/swap', { kind: 'ticket', title: 'Swap', customerId: 'old-cust' });
    const ext = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'swap', visibility: 'external' })).id;
    const oldC = await hub.connect('old-cust');
    const newC = await hub.connect('new-cust');
    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'staff', body: 'for the old customer', clientMsgId: 's1' });
    await oldC.next(isMessage(ext, 's1'));

    await hub.ok('PUT', '/v1/items/swap', { kind: 'ticket', title: 'Swap', customerId: 'new-cust' });
    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'staff', body: 'for the new customer', clientMsgId: 's2' });
    await newC.next(isMessage(ext, 's2'));
    await oldC.sync();
    expect(oldC.queued('message')).toEqual([]);
    expect(await oldC.request({ t: 'history', conversationId: ext }, 'history')).toMatchObject({ t: 'error', code: 'not_found' });
    // The new customer reads only what was written since it became the item's customer (SPEC §2).
    const h = await newC.request({ t: 'history', conversationId: ext }, 'history');
    expect(h.t === 'history' && h.messages.map((m) => m.clientMsgId), JSON.stringify(h)).toEqual(['s2']);
    expect((await hub.ok('GET', `/v1/conversations/${ext}`)).members).not.toContain('old-cust');
  });

  it('stops sending item conversations to a user whose access changes from all to mine', async () => {
    await hub.ok('PUT', '/v1/items/acc', { kind: 'ticket', title: 'Access' });
    const conv = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'acc', visibility: 'internal' })).id;
    const v = await hub.connect('viewer');
    await hub.ok('POST', `/v1/conversations/${conv}/messages`, { senderId: 'staff', body: 'visible to all', clientMsgId: 'a1' });
    await v.next(isMessage(conv, 'a1'));
    await hub.ok('PATCH', '/v1/participants/viewer/preferences', { access: { viewConversations: 'mine' } });
    await hub.ok('POST', `/v1/conversations/${conv}/messages`, { senderId: 'staff', body: 'no longer yours', clientMsgId: 'a2' });
    await v.sync();
    expect(v.queued('message')).toEqual([]);
    expect(await v.request({ t: 'history', conversationId: conv }, 'history')).toMatchObject({ t: 'error', code: 'not_found' });
    await hub.ok('PATCH', '/v1/participants/viewer/preferences', { access: { viewConversations: 'all' } });
    await hub.ok('POST', `/v1/conversations/${conv}/messages`, { senderId: 'staff', body: 'yours again', clientMsgId: 'a3' });
    expect(await v.next(isMessage(conv, 'a3'))).toBeTruthy();
  });

  it('keeps a direct conversation from users who are not its members, whatever their access', async () => {
    await hub.ok('PATCH', '/v1/participants/viewer/preferences', { access: { viewConversations: 'all' } });
    const v = await hub.connect('viewer');
    const conv = (await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'staff', members: ['new-cust'] })).id;
    const cust = await hub.connect('new-cust');
    await hub.ok('POST', `/v1/conversations/${conv}/messages`, { senderId: 'staff', body: 'just us', clientMsgId: 'd1' });
    await cust.next(isMessage(conv, 'd1'));
    await v.sync();
    expect(v.queued('message').filter((f) => f.message.conversationId === conv)).toEqual([]);
    expect(v.queued('conversation').filter((f) => f.conversation.id === conv)).toEqual([]);
    expect(await v.request({ t: 'history', conversationId: conv }, 'history')).toMatchObject({ t: 'error', code: 'not_found' });
  });
});

describe('emailed receipts', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_ESCALATION_DELAY_MS: '200' } });
    await hub.customer('cust');
    await hub.user('agent');
    await hub.user('away-follower'); // follows the item, never connects: emailed about internal messages
    await hub.ok('PUT', '/v1/items/e1', { kind: 'ticket', title: 'Mail', customerId: 'cust', followers: ['agent', 'away-follower'] });
  });
  afterAll(() => hub.stop());

  it('go to users who may see the conversation, never to a customer, not even about itself', async () => {
    const ext = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'e1', visibility: 'external' })).id;
    const int = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'e1', visibility: 'internal' })).id;
    const cust = await hub.connect('cust');
    const agent = await hub.connect('agent');
    const custLog = record(cust);
    await new Promise((r) => setTimeout(r, 5)); // relations must begin strictly before the messages
    await hub.ok('POST', `/v1/conversations/${int}/messages`, { senderId: 'agent', body: 'internal-for-mail', clientMsgId: 'i1' });
    await hub.ok('POST', `/v1/conversations/${ext}/messages`, { senderId: 'agent', body: 'hello customer', clientMsgId: 'x1' });
    await cust.next(isMessage(ext, 'x1'));
    // The customer does not say seen: after the delay it is emailed, and so is the away follower.
    const forCustomer = await agent.next((f) => f.t === 'receipt' && f.kind === 'emailed' && f.participantId === 'cust', 10_000);
    expect(forCustomer).toMatchObject({ conversationId: ext, upTo: 1 });
    const forFollower = await agent.next((f) => f.t === 'receipt' && f.kind === 'emailed' && f.participantId === 'away-follower' && f.conversationId === int, 10_000);
    expect(forFollower).toMatchObject({ upTo: 1 });
    await cust.sync();
    expect(custLog.filter((f) => f.t === 'receipt')).toEqual([]);
    expect(custLog.filter((f) => JSON.stringify(f).includes(int) || JSON.stringify(f).includes('internal-for-mail'))).toEqual([]);
  });
});
