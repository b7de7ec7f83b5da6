import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { direct, expectError, expectNoViolations, expectType, itemConversation, nextMillisecond, open, post, send, sorted } from '../support/ws.js';

/** SPEC §3 `open` and the `conversation` frame. */
/** These tests open many conversations as one customer; test/abuse/ runs the default limits. */
const OPEN_FREELY = { PARLEY_RATE_CUSTOMER_OPEN_BURST: '100', PARLEY_MAX_CUSTOMER_INBOXES: '100', PARLEY_RATE_OPEN_BURST: '100' };

describe('open', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: OPEN_FREELY });
    for (const id of ['alice', 'bob', 'dave']) await hub.user(id);
    await hub.user('gone', { disabled: true });
    for (const id of ['carol', 'cody']) await hub.customer(id);
    await hub.bot('robo');
    // dave sees only what it is a member of or follows.
    await hub.ok('PATCH', '/v1/participants/dave/preferences', { access: { viewConversations: 'mine' } });
  });
  afterAll(() => hub.stop());

  it('a user opening with users is answered by a direct internal conversation holding itself and the members', async () => {
    const alice = await hub.connect('alice');
    const before = Date.now();
    const r = await alice.request({ t: 'open', id: 'o-1', members: ['bob'], subject: 'Rota' }, 'conversation');
    const c = expectType(r, 'conversation');
    expect(c.re).toBe('o-1');
    expect(c.conversation).toMatchObject({
      kind: 'direct',
      visibility: 'internal',
      itemId: null,
      subject: 'Rota',
      lastSeq: 0,
      lastMessageAt: null,
      seenUpTo: 0,
      unseen: 0,
      following: true,
    });
    expect(sorted(c.conversation.members)).toEqual(['alice', 'bob']);
    expect(c.conversation.createdAt).toBeGreaterThanOrEqual(before);
    expect(await hub.ok('GET', `/v1/conversations/${c.conversation.id}`)).toMatchObject({ id: c.conversation.id, kind: 'direct', visibility: 'internal' });
    expectNoViolations(alice);
  });

  it('a user opening with a customer is answered by a direct external conversation', async () => {
    const alice = await hub.connect('alice');
    const c = await open(alice, ['carol', 'bob']);
    expect(c).toMatchObject({ kind: 'direct', visibility: 'external', subject: null });
    expect(sorted(c.members)).toEqual(['alice', 'bob', 'carol']);
    expectNoViolations(alice);
  });

  it('a user opening with a bot is answered by a direct internal conversation', async () => {
    const alice = await hub.connect('alice');
    const c = await open(alice, ['robo']);
    expect(c).toMatchObject({ kind: 'direct', visibility: 'internal' });
    expect(sorted(c.members)).toEqual(['alice', 'robo']);
  });

  it('a user opening with no members gets a conversation of its own', async () => {
    const alice = await hub.connect('alice');
    const c = await open(alice, []);
    expect(c).toMatchObject({ kind: 'direct', visibility: 'internal', members: ['alice'] });
  });

  it('each open creates a new conversation', async () => {
    const alice = await hub.connect('alice');
    const a = await open(alice, ['bob']);
    const b = await open(alice, ['bob']);
    expect(a.id).not.toBe(b.id);
  });

  it('a customer opening is answered by an inbox conversation, always external', async () => {
    const carol = await hub.connect('carol');
    const alone = await open(carol, []);
    expect(alone).toMatchObject({ kind: 'inbox', visibility: 'external', members: ['carol'], following: true, itemId: null });
    const withAgent = await open(carol, ['alice'], 'Help');
    expect(withAgent).toMatchObject({ kind: 'inbox', visibility: 'external', subject: 'Help' });
    expect(sorted(withAgent.members)).toEqual(['alice', 'carol']);
    expectNoViolations(carol);
  });

  it('a customer naming a customer, a bot, an unknown or a disabled id is answered not_found, all alike', async () => {
    const carol = await hub.connect('carol');
    const answers = [];
    for (const [id, member] of [
      ['c-1', 'cody'],
      ['c-2', 'robo'],
      ['c-3', 'nobody-here'],
      ['c-4', 'gone'],
    ] as const) {
      const r = await carol.request({ t: 'open', id, members: [member] });
      expectError(r, 'not_found', id);
      answers.push(r.message.replace(member, '<id>'));
    }
    // Nothing tells a customer or a bot apart from an id that does not exist.
    expect(new Set(answers).size).toBe(1);
    await carol.sync();
    expect(carol.queued('conversation')).toEqual([]);
    expectNoViolations(carol);
  });

  it('a user naming an unknown member is answered not_found and nothing is created', async () => {
    const alice = await hub.connect('alice');
    const bob = await hub.connect('bob');
    expectError(await alice.request({ t: 'open', id: 'u-1', members: ['bob', 'nobody-here'] }), 'not_found', 'u-1');
    await bob.sync();
    expect(bob.queued('conversation')).toEqual([]);
    expectNoViolations(alice, bob);
  });

  it('an open with 51 members is answered invalid with re', async () => {
    const alice = await hub.connect('alice');
    const members = Array.from({ length: 51 }, (_, i) => `m${i + 1}`);
    expectError(await alice.request({ t: 'open', id: 'big-1', members }), 'invalid', 'big-1');
    expectNoViolations(alice);
  });

  it('an open with a subject of 201 code points is answered invalid with re', async () => {
    const alice = await hub.connect('alice');
    expectError(await alice.request({ t: 'open', id: 'subj-1', members: [], subject: 's'.repeat(201) }), 'invalid', 'subj-1');
  });

  it("the other members' sessions and the opener's other sessions get a conversation push; non-members do not", async () => {
    const alice = await hub.connect('alice');
    const [aliceElsewhere, b1, b2, carol, dave] = [await hub.connect('alice'), await hub.connect('bob'), await hub.connect('bob'), await hub.connect('carol'), await hub.connect('dave')];
    const c = await open(alice, ['bob', 'carol']);
    for (const s of [aliceElsewhere, b1, b2, carol]) {
      const pushed = expectType(await s.next('conversation'), 'conversation');
      expect(pushed).not.toHaveProperty('re');
      expect(pushed.conversation).toMatchObject({ id: c.id, kind: 'direct', visibility: 'external', seenUpTo: 0, unseen: 0, following: true });
      expect(sorted(pushed.conversation.members)).toEqual(['alice', 'bob', 'carol']);
    }
    await dave.sync();
    expect(dave.queued('conversation')).toEqual([]);
    expectNoViolations(alice, aliceElsewhere, b1, b2, carol, dave);
  });

  it('an inbox opened by a customer is pushed to agents who may see every inbox, not to others', async () => {
    const bob = await hub.connect('bob');
    const dave = await hub.connect('dave');
    const cody = await hub.connect('cody');
    const carol = await hub.connect('carol');
    const c = await open(carol, []);
    const pushed = expectType(await bob.next((f) => f.t === 'conversation' && f.conversation.id === c.id), 'conversation');
    expect(pushed.conversation).toMatchObject({ kind: 'inbox', members: ['carol'], following: false });
    for (const s of [dave, cody]) {
      await s.sync();
      expect(s.queued('conversation')).toEqual([]);
    }
    expectNoViolations(bob, dave, cody, carol);
  });

  it('a bot opening is answered forbidden', async () => {
    const robo = await hub.connect('robo');
    expectError(await robo.request({ t: 'open', id: 'b-1', members: [] }), 'forbidden', 'b-1');
  });
});

/** SPEC §3 `conversations`. */
describe('conversations', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    for (const id of ['lister', 'alice', 'bob', 'ula', 'fred']) await hub.user(id);
    await hub.customer('carol');
    await hub.ok('PATCH', '/v1/participants/lister/preferences', { access: { viewConversations: 'mine' } });
  });
  afterAll(() => hub.stop());

  it('conversations are listed most recent activity first, a conversation without messages counting from its creation', async () => {
    const c1 = await direct(hub, 'lister', ['alice']);
    await nextMillisecond();
    const c2 = await direct(hub, 'lister', ['alice']);
    await nextMillisecond();
    const c3 = await direct(hub, 'lister', ['bob']);
    await nextMillisecond();
    await post(hub, c1.id, 'alice', 'news', 'order-1');
    await nextMillisecond();
    const c4 = await direct(hub, 'lister', []);
    const lister = await hub.connect('lister');
    const r = expectType(await lister.request({ t: 'conversations', id: 'list-1' }, 'conversations'), 'conversations');
    expect(r.re).toBe('list-1');
    expect(r.conversations.map((c) => c.id)).toEqual([c4.id, c1.id, c3.id, c2.id]);
    expect(r.cursor).toBeNull();
    expect(r.conversations[1]).toMatchObject({ lastSeq: 1, unseen: 1, seenUpTo: 0 });
    expect(r.conversations[1]!.lastMessageAt).toBeGreaterThan(r.conversations[2]!.createdAt);

    // Paging: limit and cursor walk the same order; the last page has a null cursor.
    const p1 = expectType(await lister.request({ t: 'conversations', limit: 2 }, 'conversations'), 'conversations');
    expect(p1.conversations.map((c) => c.id)).toEqual([c4.id, c1.id]);
    expect(typeof p1.cursor).toBe('string');
    const p2 = expectType(await lister.request({ t: 'conversations', limit: 2, cursor: p1.cursor }, 'conversations'), 'conversations');
    expect(p2.conversations.map((c) => c.id)).toEqual([c3.id, c2.id]);
    expect(p2.cursor).toBeNull();
    const p3 = expectType(await lister.request({ t: 'conversations', limit: 3 }, 'conversations'), 'conversations');
    expect(p3.conversations.map((c) => c.id)).toEqual([c4.id, c1.id, c3.id]);
    const p4 = expectType(await lister.request({ t: 'conversations', limit: 3, cursor: p3.cursor }, 'conversations'), 'conversations');
    expect(p4.conversations.map((c) => c.id)).toEqual([c2.id]);
    expect(p4.cursor).toBeNull();

    // A new message moves a conversation to the top.
    await nextMillisecond();
    await post(hub, c2.id, 'alice', 'me too', 'order-2');
    const again = expectType(await lister.request({ t: 'conversations' }, 'conversations'), 'conversations');
    expect(again.conversations.map((c) => c.id)).toEqual([c2.id, c4.id, c1.id, c3.id]);
    expectNoViolations(lister);
  });

  it('a limit of 0 or 201 is answered invalid with re', async () => {
    const lister = await hub.connect('lister');
    expectError(await lister.request({ t: 'conversations', id: 'l-0', limit: 0 }), 'invalid', 'l-0');
    expectError(await lister.request({ t: 'conversations', id: 'l-201', limit: 201 }), 'invalid', 'l-201');
    expectNoViolations(lister);
  });

  it('seenUpTo, unseen and following are the asking participant’s own', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    for (let i = 1; i <= 3; i++) await post(hub, conv.id, 'bob', `from bob ${i}`, `f-${i}`);
    await post(hub, conv.id, 'alice', 'from alice', 'f-4');
    const alice = await hub.connect('alice');
    alice.send({ t: 'seen', conversationId: conv.id, upTo: 1 });
    await alice.next((f) => f.t === 'receipt' && f.participantId === 'alice' && f.upTo === 1);
    const bob = await hub.connect('bob');
    const mine = expectType(await alice.request({ t: 'conversations' }, 'conversations'), 'conversations').conversations.find((c) => c.id === conv.id);
    const bobs = expectType(await bob.request({ t: 'conversations' }, 'conversations'), 'conversations').conversations.find((c) => c.id === conv.id);
    // alice saw 1; bob's 2 and 3 are unseen; her own 4 does not count.
    expect(mine).toMatchObject({ lastSeq: 4, seenUpTo: 1, unseen: 2, following: true });
    // bob saw nothing; only alice's message is from others.
    expect(bobs).toMatchObject({ lastSeq: 4, seenUpTo: 0, unseen: 1, following: true });
    expectNoViolations(alice, bob);
  });

  it('an agent who sees an item conversation through access is not following it; a follower of the item is', async () => {
    await hub.ok('PUT', '/v1/items/t-follow', { kind: 'ticket', title: 'Follow me', followers: ['fred'] });
    const conv = await itemConversation(hub, 't-follow', 'internal');
    await post(hub, conv.id, 'alice', 'note', 'note-1');
    const ula = await hub.connect('ula');
    const fred = await hub.connect('fred');
    const forUla = expectType(await ula.request({ t: 'conversations' }, 'conversations'), 'conversations').conversations.find((c) => c.id === conv.id);
    const forFred = expectType(await fred.request({ t: 'conversations' }, 'conversations'), 'conversations').conversations.find((c) => c.id === conv.id);
    expect(forUla).toMatchObject({ kind: 'item', itemId: 't-follow', members: ['alice'], following: false, unseen: 1 });
    expect(forFred).toMatchObject({ following: true, unseen: 1 });
    expectNoViolations(ula, fred);
  });

  it('a customer never lists an internal conversation, not even of its own item', async () => {
    await hub.ok('PUT', '/v1/items/t-cust', { kind: 'ticket', title: 'Carol’s ticket', customerId: 'carol' });
    const internal = await itemConversation(hub, 't-cust', 'internal');
    const external = await itemConversation(hub, 't-cust', 'external');
    await post(hub, internal.id, 'alice', 'she is difficult', 'secret-1');
    await nextMillisecond();
    const dm = await direct(hub, 'alice', ['carol']);
    await direct(hub, 'alice', ['bob']);
    const carol = await hub.connect('carol');
    const r = expectType(await carol.request({ t: 'conversations', limit: 200 }, 'conversations'), 'conversations');
    expect(sorted(r.conversations.map((c) => c.id))).toEqual(sorted([external.id, dm.id]));
    expect(r.conversations.every((c) => c.visibility === 'external')).toBe(true);
    expect(r.conversations.map((c) => c.id)).not.toContain(internal.id);
    expect(r.cursor).toBeNull();
    expectNoViolations(carol);
  });

  it('a cursor the hub did not make is answered invalid with re', async () => {
    const lister = await hub.connect('lister');
    expectError(await lister.request({ t: 'conversations', id: 'cur-1', cursor: 'not-a-cursor' }), 'invalid', 'cur-1');
  });
});

/** SPEC §3 `history`. */
describe('history', () => {
  let hub: TestHub;
  let convId: string;
  let hidden: string;
  beforeAll(async () => {
    hub = await TestHub.start();
    for (const id of ['alice', 'bob', 'dave']) await hub.user(id);
    await hub.customer('carol');
    convId = (await direct(hub, 'alice', ['bob', 'carol'])).id;
    for (let i = 1; i <= 5; i++) await post(hub, convId, i % 2 ? 'alice' : 'bob', `m${i}`, `h-${i}`);
    hidden = (await direct(hub, 'alice', ['bob'])).id;
    await post(hub, hidden, 'alice', 'internal', 'hidden-1');
  });
  afterAll(() => hub.stop());

  const seqs = (h: { messages: Array<{ seq: number }> }) => h.messages.map((m) => m.seq);

  it('history without a cursor gives the latest limit messages in ascending seq, with hasMore', async () => {
    const carol = await hub.connect('carol');
    const h = expectType(await carol.request({ t: 'history', id: 'h-1', conversationId: convId, limit: 3 }, 'history'), 'history');
    expect(h.re).toBe('h-1');
    expect(h.conversationId).toBe(convId);
    expect(seqs(h)).toEqual([3, 4, 5]);
    expect(h.hasMore).toBe(true);
    expect(h.messages[0]).toMatchObject({ conversationId: convId, seq: 3, senderId: 'alice', senderKind: 'user', body: 'm3', format: 'text', clientMsgId: 'h-3', source: 'api' });
    const all = expectType(await carol.request({ t: 'history', conversationId: convId }, 'history'), 'history');
    expect(seqs(all)).toEqual([1, 2, 3, 4, 5]);
    expect(all.hasMore).toBe(false);
    const exact = expectType(await carol.request({ t: 'history', conversationId: convId, limit: 5 }, 'history'), 'history');
    expect(seqs(exact)).toEqual([1, 2, 3, 4, 5]);
    expect(exact.hasMore).toBe(false);
    expectNoViolations(carol);
  });

  it('history before a seq gives the messages just below it', async () => {
    const bob = await hub.connect('bob');
    const a = expectType(await bob.request({ t: 'history', conversationId: convId, before: 3 }, 'history'), 'history');
    expect(seqs(a)).toEqual([1, 2]);
    expect(a.hasMore).toBe(false);
    const b = expectType(await bob.request({ t: 'history', conversationId: convId, before: 5, limit: 2 }, 'history'), 'history');
    expect(seqs(b)).toEqual([3, 4]);
    expect(b.hasMore).toBe(true);
    const none = expectType(await bob.request({ t: 'history', conversationId: convId, before: 1 }, 'history'), 'history');
    expect(seqs(none)).toEqual([]);
    expect(none.hasMore).toBe(false);
    expectNoViolations(bob);
  });

  it('history after a seq gives the messages just above it', async () => {
    const bob = await hub.connect('bob');
    const a = expectType(await bob.request({ t: 'history', conversationId: convId, after: 2 }, 'history'), 'history');
    expect(seqs(a)).toEqual([3, 4, 5]);
    expect(a.hasMore).toBe(false);
    const b = expectType(await bob.request({ t: 'history', conversationId: convId, after: 1, limit: 2 }, 'history'), 'history');
    expect(seqs(b)).toEqual([2, 3]);
    expect(b.hasMore).toBe(true);
    const zero = expectType(await bob.request({ t: 'history', conversationId: convId, after: 0, limit: 5 }, 'history'), 'history');
    expect(seqs(zero)).toEqual([1, 2, 3, 4, 5]);
    expect(zero.hasMore).toBe(false);
    const end = expectType(await bob.request({ t: 'history', conversationId: convId, after: 5 }, 'history'), 'history');
    expect(seqs(end)).toEqual([]);
    expect(end.hasMore).toBe(false);
    expectNoViolations(bob);
  });

  it('history with both before and after is answered invalid with re', async () => {
    const bob = await hub.connect('bob');
    expectError(await bob.request({ t: 'history', id: 'both-1', conversationId: convId, before: 4, after: 1 }), 'invalid', 'both-1');
    expectNoViolations(bob);
  });

  it('history with limit 0 or 201 is answered invalid with re', async () => {
    const bob = await hub.connect('bob');
    expectError(await bob.request({ t: 'history', id: 'lim-0', conversationId: convId, limit: 0 }), 'invalid', 'lim-0');
    expectError(await bob.request({ t: 'history', id: 'lim-201', conversationId: convId, limit: 201 }), 'invalid', 'lim-201');
    const max = expectType(await bob.request({ t: 'history', conversationId: convId, limit: 200 }, 'history'), 'history');
    expect(seqs(max)).toEqual([1, 2, 3, 4, 5]);
    expectNoViolations(bob);
  });

  it('history with a negative seq is answered invalid with re', async () => {
    const bob = await hub.connect('bob');
    expectError(await bob.request({ t: 'history', id: 'neg-1', conversationId: convId, after: -1 }), 'invalid', 'neg-1');
  });

  it('history of a conversation the participant may not see is answered not_found exactly like an unknown one', async () => {
    const dave = await hub.connect('dave');
    const carol = await hub.connect('carol');
    const unknown = await dave.request({ t: 'history', id: 'nf-1', conversationId: 'no-such-conversation' });
    expectError(unknown, 'not_found', 'nf-1');
    for (const c of [dave, carol]) {
      const r = await c.request({ t: 'history', id: 'nf-2', conversationId: hidden });
      expectError(r, 'not_found', 'nf-2');
      expect(r.message).toBe(unknown.message);
    }
    expectNoViolations(dave, carol);
  });
});
