import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../protocol/index.js';
import { TestHub } from '../support/hub.js';
import { direct, expectError, expectNoViolations, expectType, itemConversation, nextMillisecond, post, send } from '../support/ws.js';

const byId = (rs: readonly Receipt[]) => [...rs].sort((a, b) => (a.participantId < b.participantId ? -1 : 1));

/** SPEC §3 `receipts` and the Receipt object. */
describe('receipts', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    for (const id of ['alice', 'bob', 'dave', 'ula']) await hub.user(id);
    for (const id of ['carol', 'cody']) await hub.customer(id);
    await hub.bot('robo');
    await hub.ok('PUT', '/v1/items/t-1', { kind: 'ticket', title: 'Broken', customerId: 'carol' });
  });
  afterAll(() => hub.stop());

  it('a user gets a receipt for every participant who may see the conversation but the sender, with delivery and seen times', async () => {
    const conv = await direct(hub, 'alice', ['bob', 'carol', 'dave']);
    const [alice, bob, carol] = [await hub.connect('alice'), await hub.connect('bob'), await hub.connect('carol')];
    const ack = await send(alice, conv.id, 'Who got this?', 'r-1');
    await bob.next('message');
    await carol.next('message');
    carol.send({ t: 'seen', conversationId: conv.id, upTo: 1 });
    const seen = expectType(await alice.next((f) => f.t === 'receipt' && f.participantId === 'carol'), 'receipt');
    const r = expectType(await alice.request({ t: 'receipts', id: 'rc-1', messageId: ack.messageId }, 'receipts'), 'receipts');
    expect(r).toMatchObject({ re: 'rc-1', messageId: ack.messageId, conversationId: conv.id });
    const [forBob, forCarol, forDave] = byId(r.recipients);
    expect(r.recipients.map((x) => x.participantId).sort()).toEqual(['bob', 'carol', 'dave']);
    // carol saw it.
    expect(forCarol).toMatchObject({ participantId: 'carol', seenAt: seen.at, emailedAt: null, email: 'seen_in_time' });
    expect(forCarol!.deliveredAt).toBeGreaterThanOrEqual(ack.createdAt);
    expect(forCarol!.deliveredAt).toBeLessThanOrEqual(forCarol!.seenAt!);
    // dave was offline: neither.
    expect(forDave).toMatchObject({ participantId: 'dave', deliveredAt: null, seenAt: null, emailedAt: null, emailId: null });
    // The user view carries every Receipt field.
    expect(Object.keys(forDave!).sort()).toEqual(['deliveredAt', 'email', 'emailId', 'emailedAt', 'participantId', 'seenAt']);
    // bob was online: delivered, not seen.
    expect(forBob).toMatchObject({ participantId: 'bob', seenAt: null, emailedAt: null, emailId: null });
    expect(forBob!.deliveredAt).toBeGreaterThanOrEqual(ack.createdAt);
    expectNoViolations(alice, bob, carol);
  });

  it('receipts asked right after delivery already show deliveredAt', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const [alice, bob] = [await hub.connect('alice'), await hub.connect('bob')];
    const ack = await send(alice, conv.id, 'delivered?', 'r-2');
    await bob.next('message');
    const r = expectType(await alice.request({ t: 'receipts', messageId: ack.messageId }, 'receipts'), 'receipts');
    expect(r.recipients).toHaveLength(1);
    expect(r.recipients[0]).toMatchObject({ participantId: 'bob', seenAt: null });
    expect(r.recipients[0]!.deliveredAt).not.toBeNull();
    expectNoViolations(alice, bob);
  });

  it('the user view of an item conversation lists members and non-members who may see it', async () => {
    const conv = await itemConversation(hub, 't-1', 'external');
    const alice = await hub.connect('alice');
    const ack = await send(alice, conv.id, 'We are on it', 'r-3');
    const r = expectType(await alice.request({ t: 'receipts', messageId: ack.messageId }, 'receipts'), 'receipts');
    // Every user sees item conversations (access all), and carol is the item's customer; not the bot, not cody.
    expect(r.recipients.map((x) => x.participantId).sort()).toEqual(['bob', 'carol', 'dave', 'ula']);
    // ula neither follows nor is a member: a reply to a customer does not notify her, so no email either.
    expect(byId(r.recipients)[3]).toMatchObject({ participantId: 'ula', deliveredAt: null, seenAt: null, email: 'not_notified' });
    expectNoViolations(alice);
  });

  it('a customer asking about its own message gets only the members, each with exactly participantId, deliveredAt and seenAt', async () => {
    const conv = await itemConversation(hub, 't-1', 'external');
    const bob = await hub.connect('bob');
    await send(bob, conv.id, 'Hello Carol', 'r-4');
    const carol = await hub.connect('carol');
    const ack = await send(carol, conv.id, 'Thanks', 'r-5');
    await bob.next((f) => f.t === 'message' && f.message.id === ack.messageId);
    bob.send({ t: 'seen', conversationId: conv.id, upTo: ack.seq });
    const seen = expectType(await carol.next((f) => f.t === 'receipt' && f.participantId === 'bob'), 'receipt');
    const r = expectType(await carol.request({ t: 'receipts', id: 'cr-1', messageId: ack.messageId }, 'receipts'), 'receipts');
    expect(r).toMatchObject({ re: 'cr-1', messageId: ack.messageId, conversationId: conv.id });
    expect(r.recipients).toHaveLength(1);
    const only = r.recipients[0]!;
    expect(Object.keys(only).sort()).toEqual(['deliveredAt', 'participantId', 'seenAt']);
    expect(only.participantId).toBe('bob');
    expect(only.seenAt).toBe(seen.at);
    expect(only.deliveredAt).toBeGreaterThanOrEqual(ack.createdAt);
    expectNoViolations(bob, carol);
  });

  it("a customer asking about another participant's message is answered forbidden with re", async () => {
    const conv = await direct(hub, 'alice', ['carol']);
    const m = await post(hub, conv.id, 'alice', 'Your order shipped', 'r-6');
    const carol = await hub.connect('carol');
    expectError(await carol.request({ t: 'receipts', id: 'cr-2', messageId: m.id }), 'forbidden', 'cr-2');
    expectNoViolations(carol);
  });

  it('receipts of a message in a conversation the asker may not see are answered not_found exactly like an unknown message', async () => {
    const internal = await itemConversation(hub, 't-1', 'internal');
    const secret = await post(hub, internal.id, 'alice', 'internal note', 'r-7');
    const dm = await direct(hub, 'alice', ['bob']);
    const private1 = await post(hub, dm.id, 'alice', 'just us', 'r-8');
    const carol = await hub.connect('carol');
    const dave = await hub.connect('dave');
    const unknown = await carol.request({ t: 'receipts', id: 'nf-0', messageId: 'no-such-message' });
    expectError(unknown, 'not_found', 'nf-0');
    const a = await carol.request({ t: 'receipts', id: 'nf-1', messageId: secret.id });
    expectError(a, 'not_found', 'nf-1');
    expect(a.message).toBe(unknown.message);
    const b = await dave.request({ t: 'receipts', id: 'nf-2', messageId: private1.id });
    expectError(b, 'not_found', 'nf-2');
    expect(b.message).toBe(unknown.message);
    expectNoViolations(carol, dave);
  });
});

/** SPEC §3 `who`. */
describe('who', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    for (const id of ['alice', 'abe', 'bob', 'dave', 'ula']) await hub.user(id);
    for (const id of ['carol', 'cody']) await hub.customer(id);
    await hub.bot('robo');
    await hub.ok('PUT', '/v1/items/t-1', { kind: 'ticket', title: 'Broken', customerId: 'carol' });
    // carol shares a direct conversation with alice, cody and robo, and an external item conversation with bob and abe.
    await direct(hub, 'alice', ['carol', 'cody', 'robo']);
    const external = await itemConversation(hub, 't-1', 'external');
    await post(hub, external.id, 'bob', 'Hi Carol', 'w-1');
    await post(hub, external.id, 'abe', 'Hi again', 'w-3');
    // ula is a member only of the item's internal conversation, which carol may not see.
    const internal = await itemConversation(hub, 't-1', 'internal');
    await post(hub, internal.id, 'ula', 'note', 'w-2');
  });
  afterAll(() => hub.stop());

  it('a user may ask about anyone and gets each one’s state and last active time', async () => {
    const bob = await hub.connect('bob');
    const alice = await hub.connect('alice');
    const r = expectType(await alice.request({ t: 'who', id: 'w-1', participantIds: ['bob', 'carol', 'robo', 'dave'] }, 'who'), 'who');
    expect(r.re).toBe('w-1');
    const sortedPresence = [...r.presence].sort((a, b) => (a.participantId < b.participantId ? -1 : 1));
    expect(sortedPresence).toEqual([
      { participantId: 'bob', state: 'active', lastActiveAt: expect.any(Number) },
      { participantId: 'carol', state: 'offline', lastActiveAt: null },
      { participantId: 'dave', state: 'offline', lastActiveAt: null },
      { participantId: 'robo', state: 'offline', lastActiveAt: null },
    ]);
    expectNoViolations(alice, bob);
  });

  it('a customer only gets the users who are members of its conversations; other ids are left out', async () => {
    const carol = await hub.connect('carol');
    const r = expectType(await carol.request({ t: 'who', participantIds: ['abe', 'alice', 'bob', 'dave', 'ula', 'cody', 'robo', 'nobody-here'] }, 'who'), 'who');
    expect(r.presence.map((p) => p.participantId).sort()).toEqual(['abe', 'alice', 'bob']);
    expectNoViolations(carol);
  });

  it('a customer watching ids it may not ask about gets no presence of them', async () => {
    const carol = await hub.connect('carol');
    const r = expectType(await carol.request({ t: 'who', participantIds: ['abe', 'dave'], watch: true }, 'who'), 'who');
    expect(r.presence).toEqual([{ participantId: 'abe', state: 'offline', lastActiveAt: null }]);
    // dave comes online first, then abe: abe's presence arriving proves dave's would have arrived before.
    const dave = await hub.connect('dave');
    const abe = await hub.connect('abe');
    expect(await carol.next((f) => f.t === 'presence' && f.participantId === 'abe')).toMatchObject({ state: 'active' });
    await carol.sync();
    expect(carol.frames.filter((f) => f.t === 'presence' && f.participantId === 'dave')).toEqual([]);
    expectNoViolations(carol, dave, abe);
  });

  it('who with no ids or more than 200 is answered invalid with re', async () => {
    const alice = await hub.connect('alice');
    expectError(await alice.request({ t: 'who', id: 'w-0', participantIds: [] }), 'invalid', 'w-0');
    const many = Array.from({ length: 201 }, (_, i) => `p${i}`);
    expectError(await alice.request({ t: 'who', id: 'w-201', participantIds: many }), 'invalid', 'w-201');
    expectNoViolations(alice);
  });
});

/** SPEC §3 `ping`. */
describe('ping', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.user('alice');
  });
  afterAll(() => hub.stop());

  it('a ping is answered by a pong with the request id and the server time', async () => {
    const alice = await hub.connect('alice');
    await nextMillisecond();
    const before = Date.now();
    const r = expectType(await alice.request({ t: 'ping', id: 'ping-7' }, 'pong'), 'pong');
    const after = Date.now();
    expect(r.re).toBe('ping-7');
    expect(r.serverTime).toBeGreaterThanOrEqual(before);
    expect(r.serverTime).toBeLessThanOrEqual(after);
    expect(Object.keys(r).sort()).toEqual(['re', 'serverTime', 't']);
    expectNoViolations(alice);
  });
});
