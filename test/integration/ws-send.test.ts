import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { direct, expectError, expectNoViolations, expectType, itemConversation, post, send } from '../support/ws.js';

/** SPEC §3 `send` and `ack`, and the `message` frame they produce. */
describe('send and ack', () => {
  let hub: TestHub;
  beforeAll(async () => {
    // Room for 16000 four-byte code points in one frame.
    hub = await TestHub.start({ env: { PARLEY_MAX_FRAME_BYTES: '262144' } });
    for (const id of ['alice', 'bob', 'dave', 'ursula', 'victor']) await hub.user(id);
    await hub.customer('carol');
    await hub.bot('robo');
  });
  afterAll(() => hub.stop());

  it('a send is answered by an ack with the request id, conversation, message id, seq 1, creation time and duplicate false', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    const before = Date.now();
    const ack = await send(alice, conv.id, 'Hello Bob', 'ack-1');
    const after = Date.now();
    expect(ack.re).toMatch(/.+/);
    expect(ack.conversationId).toBe(conv.id);
    expect(typeof ack.messageId).toBe('string');
    expect(ack.messageId.length).toBeGreaterThan(0);
    expect(ack.seq).toBe(1);
    expect(ack.createdAt).toBeGreaterThanOrEqual(before);
    expect(ack.createdAt).toBeLessThanOrEqual(after);
    expect(ack.duplicate).toBe(false);
    // The sending session gets the message too, with every Message field.
    const m = await alice.next('message');
    expect(m.message).toEqual({
      id: ack.messageId,
      conversationId: conv.id,
      seq: 1,
      senderId: 'alice',
      senderKind: 'user',
      body: 'Hello Bob',
      format: 'text',
      createdAt: ack.createdAt,
      clientMsgId: 'ack-1',
      source: 'ws',
    });
    expectNoViolations(alice);
  });

  it("the sender's own copy of its message comes before the ack, every time", async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    const order: string[] = [];
    alice.ws.on('message', (data) => order.push(JSON.parse(data.toString()).t));
    for (let i = 0; i < 5; i++) await send(alice, conv.id, `in order ${i}`, `order-${i}`);
    expect(order).toEqual(Array.from({ length: 5 }, () => ['message', 'ack']).flat());
  });

  it('the ack echoes exactly the id the client chose', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    const ack = await alice.request({ t: 'send', id: 'my-request-42', conversationId: conv.id, clientMsgId: 'echo-1', body: 'x' }, 'ack');
    expect(expectType(ack, 'ack').re).toBe('my-request-42');
  });

  it('a send with format markdown stores and delivers markdown', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    const bob = await hub.connect('bob');
    const ack = expectType(await alice.request({ t: 'send', conversationId: conv.id, clientMsgId: 'md-1', body: '**bold**', format: 'markdown' }, 'ack'), 'ack');
    const m = await bob.next('message');
    expect(m.message).toMatchObject({ id: ack.messageId, body: '**bold**', format: 'markdown' });
    expectNoViolations(alice, bob);
  });

  it('messages sent quickly one after another get seq 1, 2, 3 without gaps, in history too', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    // All three frames go out before any ack comes back.
    alice.send({ t: 'send', id: 's1', conversationId: conv.id, clientMsgId: 'q1', body: 'one' });
    alice.send({ t: 'send', id: 's2', conversationId: conv.id, clientMsgId: 'q2', body: 'two' });
    alice.send({ t: 'send', id: 's3', conversationId: conv.id, clientMsgId: 'q3', body: 'three' });
    const acks = [];
    for (const id of ['s1', 's2', 's3']) acks.push(expectType(await alice.next((f) => 're' in f && f.re === id), 'ack'));
    expect(acks.map((a) => a.seq)).toEqual([1, 2, 3]);
    const h = expectType(await alice.request({ t: 'history', conversationId: conv.id }, 'history'), 'history');
    expect(h.messages.map((m) => [m.seq, m.body])).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expectNoViolations(alice);
  });

  it('a repeated clientMsgId is acked with the first message id and seq, duplicate true, and nobody gets a second message', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    const bob = await hub.connect('bob');
    const first = await send(alice, conv.id, 'only once', 'dup-1');
    expect((await bob.next('message')).message.id).toBe(first.messageId);
    await alice.next('message');
    const again = await send(alice, conv.id, 'only once, again', 'dup-1');
    expect(again).toMatchObject({ conversationId: conv.id, messageId: first.messageId, seq: first.seq, createdAt: first.createdAt, duplicate: true });
    await bob.sync();
    await alice.sync();
    expect(bob.queued('message')).toEqual([]);
    expect(alice.queued('message')).toEqual([]);
    const h = expectType(await bob.request({ t: 'history', conversationId: conv.id }, 'history'), 'history');
    expect(h.messages.map((m) => [m.seq, m.body])).toEqual([[1, 'only once']]);
    // The next new message still gets seq 2.
    expect((await send(alice, conv.id, 'second', 'dup-2')).seq).toBe(2);
    expectNoViolations(alice, bob);
  });

  it('the same clientMsgId from another sender is a new message', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    const bob = await hub.connect('bob');
    const a = await send(alice, conv.id, 'from alice', 'shared-id');
    const b = await send(bob, conv.id, 'from bob', 'shared-id');
    expect(b.duplicate).toBe(false);
    expect(b.messageId).not.toBe(a.messageId);
    expect([a.seq, b.seq]).toEqual([1, 2]);
  });

  it('a body of only whitespace is answered invalid with re and stores nothing', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    expectError(await alice.request({ t: 'send', id: 'ws-1', conversationId: conv.id, clientMsgId: 'w1', body: ' \n\t\u00a0 ' }), 'invalid', 'ws-1');
    const h = expectType(await alice.request({ t: 'history', conversationId: conv.id }, 'history'), 'history');
    expect(h.messages).toEqual([]);
    expectNoViolations(alice);
  });

  it('an empty body is answered invalid with re', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    expectError(await alice.request({ t: 'send', id: 'e-1', conversationId: conv.id, clientMsgId: 'e1', body: '' }), 'invalid', 'e-1');
  });

  it('a body of 16001 code points is answered invalid with re', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    expectError(await alice.request({ t: 'send', id: 'long-1', conversationId: conv.id, clientMsgId: 'l1', body: 'a'.repeat(16001) }), 'invalid', 'long-1');
    expectError(await alice.request({ t: 'send', id: 'long-2', conversationId: conv.id, clientMsgId: 'l2', body: '😀'.repeat(16001) }), 'invalid', 'long-2');
    const h = expectType(await alice.request({ t: 'history', conversationId: conv.id }, 'history'), 'history');
    expect(h.messages).toEqual([]);
    expectNoViolations(alice);
  });

  it('a body of 16000 code points is accepted even when they are 32000 UTF-16 units', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const alice = await hub.connect('alice');
    const bob = await hub.connect('bob');
    const emoji = '😀'.repeat(16000);
    expect(emoji.length).toBe(32000);
    const ack = await send(alice, conv.id, emoji, 'emoji-1');
    expect(ack.seq).toBe(1);
    expect((await bob.next('message')).message.body).toBe(emoji);
    const plain = await send(alice, conv.id, 'b'.repeat(16000), 'plain-1');
    expect(plain.seq).toBe(2);
    expectNoViolations(alice, bob);
  });

  it('a send to an unknown conversation is answered not_found with re', async () => {
    const alice = await hub.connect('alice');
    expectError(await alice.request({ t: 'send', id: 'nf-1', conversationId: 'no-such-conversation', clientMsgId: 'n1', body: 'hi' }), 'not_found', 'nf-1');
    expectNoViolations(alice);
  });

  it('a send to a conversation the sender may not see is answered not_found exactly like an unknown one', async () => {
    const hidden = await direct(hub, 'bob', ['dave']);
    const alice = await hub.connect('alice');
    const unknown = await alice.request({ t: 'send', id: 'u-1', conversationId: 'no-such-conversation', clientMsgId: 'h1', body: 'hi' });
    const invisible = await alice.request({ t: 'send', id: 'u-2', conversationId: hidden.id, clientMsgId: 'h2', body: 'hi' });
    expectError(unknown, 'not_found', 'u-1');
    expectError(invisible, 'not_found', 'u-2');
    expect(invisible.message).toBe(unknown.message);
    expect((await hub.ok('GET', `/v1/conversations/${hidden.id}/messages`)).messages).toEqual([]);
    // A customer probing an internal conversation learns no more.
    const carol = await hub.connect('carol');
    const probe = await carol.request({ t: 'send', id: 'u-3', conversationId: hidden.id, clientMsgId: 'h3', body: 'hi' });
    expectError(probe, 'not_found', 'u-3');
    expect(probe.message).toBe(unknown.message);
    expectNoViolations(alice, carol);
  });

  it('a send from a bot is answered forbidden with re and stores nothing', async () => {
    const conv = await direct(hub, 'alice', ['robo']);
    const robo = await hub.connect('robo');
    expectError(await robo.request({ t: 'send', id: 'bot-1', conversationId: conv.id, clientMsgId: 'b1', body: 'beep' }), 'forbidden', 'bot-1');
    expect((await hub.ok('GET', `/v1/conversations/${conv.id}/messages`)).messages).toEqual([]);
    expectNoViolations(robo);
  });

  it('the message reaches every session of the recipient and every session of the sender', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const [a1, a2, b1, b2] = [await hub.connect('alice'), await hub.connect('alice'), await hub.connect('bob'), await hub.connect('bob')];
    const outsider = await hub.connect('dave');
    const ack = await send(a1, conv.id, 'to all sessions', 'fan-1');
    for (const c of [a1, a2, b1, b2]) {
      const m = await c.next('message');
      expect(m.message).toMatchObject({ id: ack.messageId, conversationId: conv.id, seq: 1, senderId: 'alice', body: 'to all sessions' });
    }
    await outsider.sync();
    expect(outsider.queued('message')).toEqual([]);
    expectNoViolations(a1, a2, b1, b2, outsider);
  });

  it('a message in an item conversation reaches users who may see it without being members, and never a customer of an internal one', async () => {
    await hub.ok('PUT', '/v1/items/t-2', { kind: 'ticket', title: 'Refund', customerId: 'carol' });
    const external = await itemConversation(hub, 't-2', 'external');
    const internal = await itemConversation(hub, 't-2', 'internal');
    const [carol, victor, robo] = [await hub.connect('carol'), await hub.connect('victor'), await hub.connect('robo')];
    const fromCarol = await send(carol, external.id, 'Where is my refund?', 'ext-1');
    expect((await victor.next('message')).message).toMatchObject({ id: fromCarol.messageId, senderId: 'carol', senderKind: 'customer' });
    const ursula = await hub.connect('ursula');
    const note = await send(ursula, internal.id, 'Refund approved, do not tell yet', 'int-1');
    expect((await victor.next('message')).message).toMatchObject({ id: note.messageId, conversationId: internal.id });
    // carol's own message came back to her; nothing from the internal conversation did. The bot is no member.
    await carol.sync();
    expect(carol.queued('message').map((m) => m.message.id)).toEqual([fromCarol.messageId]);
    await robo.sync();
    expect(robo.queued('message')).toEqual([]);
    expectNoViolations(carol, victor, ursula, robo);
  });

  it("a user's first post in an item conversation makes it a member, pushed as a conversation frame", async () => {
    await hub.ok('PUT', '/v1/items/t-1', { kind: 'ticket', title: 'Printer on fire' });
    const conv = await itemConversation(hub, 't-1', 'internal');
    expect(conv.members).toEqual([]);
    const ursula = await hub.connect('ursula');
    const victor = await hub.connect('victor');
    const ack = await send(ursula, conv.id, 'I will take this', 'join-1');
    expect(ack.seq).toBe(1);
    const pushed = await victor.next((f) => f.t === 'conversation' && f.conversation.id === conv.id);
    expect(expectType(pushed, 'conversation').conversation.members).toEqual(['ursula']);
    expect(pushed).not.toHaveProperty('re');
    const own = expectType(await ursula.next((f) => f.t === 'conversation' && f.conversation.id === conv.id), 'conversation');
    expect(own.conversation).toMatchObject({ members: ['ursula'], following: true, lastSeq: 1 });
    expect((await hub.ok('GET', `/v1/conversations/${conv.id}`)).members).toEqual(['ursula']);
    // A second post changes nothing: no second push.
    await send(ursula, conv.id, 'still me', 'join-2');
    await victor.next((f) => f.t === 'message' && f.message.seq === 2);
    await victor.sync();
    expect(victor.queued('conversation')).toEqual([]);
    expectNoViolations(ursula, victor);
  });
});

/** SPEC §3 `seen` and the `receipt` frame of kind seen. */
describe('seen', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    for (const id of ['alice', 'bob', 'dave']) await hub.user(id);
    await hub.customer('carol');
  });
  afterAll(() => hub.stop());

  async function conversationWith(n: number) {
    const conv = await direct(hub, 'alice', ['bob', 'carol']);
    for (let i = 1; i <= n; i++) await post(hub, conv.id, 'alice', `message ${i}`, `${conv.id}-${i}`);
    return conv;
  }

  it('seen raises the watermark and everyone who may see the conversation gets a seen receipt', async () => {
    const conv = await conversationWith(2);
    const [alice, bob, carol, dave] = [await hub.connect('alice'), await hub.connect('bob'), await hub.connect('carol'), await hub.connect('dave')];
    const before = Date.now();
    carol.send({ t: 'seen', conversationId: conv.id, upTo: 2 });
    for (const c of [alice, bob, carol]) {
      const r = await c.next('receipt');
      expect(r).toMatchObject({ t: 'receipt', conversationId: conv.id, participantId: 'carol', kind: 'seen', upTo: 2 });
      expect(r.at).toBeGreaterThanOrEqual(before);
      expect(r.at).toBeLessThanOrEqual(Date.now());
    }
    await dave.sync();
    expect(dave.queued('receipt')).toEqual([]);
    // seen carries no id and gets no answer.
    await carol.sync();
    expect(carol.frames.filter((f) => f.t === 'error')).toEqual([]);
    const list = expectType(await carol.request({ t: 'conversations' }, 'conversations'), 'conversations');
    expect(list.conversations.find((c) => c.id === conv.id)).toMatchObject({ seenUpTo: 2, unseen: 0 });
    expectNoViolations(alice, bob, carol, dave);
  });

  it('a seen receipt reaches users who may see an item conversation without being members', async () => {
    await hub.ok('PUT', '/v1/items/t-1', { kind: 'ticket', title: 'Seen', customerId: 'carol' });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't-1', visibility: 'external' });
    await post(hub, conv.id, 'alice', 'Hello Carol', 'item-seen-1');
    const dave = await hub.connect('dave');
    const carol = await hub.connect('carol');
    carol.send({ t: 'seen', conversationId: conv.id, upTo: 1 });
    expect(await dave.next('receipt')).toMatchObject({ conversationId: conv.id, participantId: 'carol', kind: 'seen', upTo: 1 });
    expectNoViolations(dave, carol);
  });

  it('a seen lower than the watermark is ignored: no receipt', async () => {
    const conv = await conversationWith(2);
    const alice = await hub.connect('alice');
    const carol = await hub.connect('carol');
    carol.send({ t: 'seen', conversationId: conv.id, upTo: 2 });
    expect(await alice.next('receipt')).toMatchObject({ participantId: 'carol', upTo: 2 });
    carol.send({ t: 'seen', conversationId: conv.id, upTo: 1 });
    carol.send({ t: 'seen', conversationId: conv.id, upTo: 2 });
    // A marker: a new message seen by carol; every receipt before it would have arrived first.
    await post(hub, conv.id, 'alice', 'message 3', `${conv.id}-3`);
    await carol.next((f) => f.t === 'message' && f.message.seq === 3);
    carol.send({ t: 'seen', conversationId: conv.id, upTo: 3 });
    expect(await alice.next('receipt')).toMatchObject({ participantId: 'carol', upTo: 3 });
    await alice.sync();
    expect(alice.queued('receipt')).toEqual([]);
    const list = expectType(await carol.request({ t: 'conversations' }, 'conversations'), 'conversations');
    expect(list.conversations.find((c) => c.id === conv.id)).toMatchObject({ seenUpTo: 3 });
    expectNoViolations(alice, carol);
  });

  it('a seen above the last seq is clamped to the last seq', async () => {
    const conv = await conversationWith(3);
    const alice = await hub.connect('alice');
    const bob = await hub.connect('bob');
    bob.send({ t: 'seen', conversationId: conv.id, upTo: 99 });
    expect(await alice.next('receipt')).toMatchObject({ conversationId: conv.id, participantId: 'bob', kind: 'seen', upTo: 3 });
    const list = expectType(await bob.request({ t: 'conversations' }, 'conversations'), 'conversations');
    expect(list.conversations.find((c) => c.id === conv.id)).toMatchObject({ seenUpTo: 3, unseen: 0 });
    // After a 4th message the watermark still says 3, not 99.
    await post(hub, conv.id, 'alice', 'message 4', `${conv.id}-4`);
    const again = expectType(await bob.request({ t: 'conversations' }, 'conversations'), 'conversations');
    expect(again.conversations.find((c) => c.id === conv.id)).toMatchObject({ seenUpTo: 3, unseen: 1, lastSeq: 4 });
    expectNoViolations(alice, bob);
  });

  it('a seen for an unknown conversation is answered not_found without re', async () => {
    const carol = await hub.connect('carol');
    carol.send({ t: 'seen', conversationId: 'no-such-conversation', upTo: 1 });
    expectError(await carol.next('error'), 'not_found', null);
    expectNoViolations(carol);
  });

  it('a seen for a conversation the participant may not see is answered not_found without re and tells nobody', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    await post(hub, conv.id, 'alice', 'internal note', 'internal-1');
    const alice = await hub.connect('alice');
    const dave = await hub.connect('dave');
    dave.send({ t: 'seen', conversationId: conv.id, upTo: 1 });
    expectError(await dave.next('error'), 'not_found', null);
    await alice.sync();
    expect(alice.queued('receipt')).toEqual([]);
    expectNoViolations(alice, dave);
  });
});

/** SPEC §3 `typing`. */
describe('typing', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    for (const id of ['alice', 'bob', 'dave']) await hub.user(id);
    await hub.customer('carol');
  });
  afterAll(() => hub.stop());

  it('the others who may see the conversation get typing; the typist’s own sessions do not', async () => {
    const conv = await direct(hub, 'alice', ['bob', 'carol']);
    const [a1, a2, bob, carol, dave] = [await hub.connect('alice'), await hub.connect('alice'), await hub.connect('bob'), await hub.connect('carol'), await hub.connect('dave')];
    a1.send({ t: 'typing', conversationId: conv.id });
    for (const c of [bob, carol]) expect(await c.next('typing')).toEqual({ t: 'typing', conversationId: conv.id, participantId: 'alice' });
    for (const c of [a1, a2, dave]) {
      await c.sync();
      expect(c.queued('typing')).toEqual([]);
    }
    expect(a1.frames.filter((f) => f.t === 'error')).toEqual([]);
    expectNoViolations(a1, a2, bob, carol, dave);
  });

  it('typing in an item conversation reaches users who may see it without being members', async () => {
    await hub.ok('PUT', '/v1/items/t-1', { kind: 'ticket', title: 'Typing', customerId: 'carol' });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't-1', visibility: 'external' });
    const dave = await hub.connect('dave');
    const carol = await hub.connect('carol');
    carol.send({ t: 'typing', conversationId: conv.id });
    expect(await dave.next('typing')).toEqual({ t: 'typing', conversationId: conv.id, participantId: 'carol' });
    await carol.sync();
    expect(carol.queued('typing')).toEqual([]);
    expectNoViolations(dave, carol);
  });

  it('typing in a conversation the participant may not see is answered not_found without re and relayed to nobody', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const bob = await hub.connect('bob');
    const carol = await hub.connect('carol');
    carol.send({ t: 'typing', conversationId: conv.id });
    expectError(await carol.next('error'), 'not_found', null);
    await bob.sync();
    expect(bob.queued('typing')).toEqual([]);
    expectNoViolations(bob, carol);
  });
});
