import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../protocol/index.js';
import { TestHub } from '../support/hub.js';
import { DEFAULT_ENV, connectWith, jitToken, tap, until } from '../support/abuse.js';
import { direct, expectError, expectType, open, send } from '../support/ws.js';

const naming = (id: string) => (f: ServerFrame) => JSON.stringify(f).includes(`"${id}"`);

/**
 * Findings 6 and 7: a customer learns nothing about staff who are not members of its conversations
 * (SPEC §2, §3 `open`, `who`): not their typing or seen receipts, not whether they exist.
 */
describe('privacy of staff toward customers', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { ...DEFAULT_ENV } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  describe('finding 6: typing and seen of non-members', () => {
    it("a manager's typing and seen reach staff, never the customer; a member's reach the customer", async () => {
      await hub.user('mg-boss'); // access all (the default), never a member
      await hub.user('mg-member');
      const customer = await connectWith(hub, await jitToken('mg-cust', 'customer'));
      const seenByCustomer = tap(customer);
      const inbox = await open(customer, []);
      await send(customer, inbox.id, 'my order is late', 'q1');

      const member = await hub.connect('mg-member');
      const seenByMember = tap(member);
      const reply = await send(member, inbox.id, 'looking into it', 'a1'); // posting makes mg-member a member
      const boss = await hub.connect('mg-boss');

      boss.send({ t: 'typing', conversationId: inbox.id });
      boss.send({ t: 'seen', conversationId: inbox.id, upTo: reply.seq });
      await boss.sync();
      // Staff get them: the frames were handled, not dropped.
      await until(() => seenByMember.some((f) => f.t === 'typing' && f.participantId === 'mg-boss'), "the manager's typing at the member agent");
      await until(() => seenByMember.some((f) => f.t === 'receipt' && f.kind === 'seen' && f.participantId === 'mg-boss'), "the manager's seen at the member agent");

      // Then the member types and reads: those reach the customer, after anything of the manager's would have.
      member.send({ t: 'typing', conversationId: inbox.id });
      member.send({ t: 'seen', conversationId: inbox.id, upTo: reply.seq });
      await member.sync();
      await until(() => seenByCustomer.some((f) => f.t === 'typing' && f.participantId === 'mg-member'), "the member's typing at the customer");
      await until(() => seenByCustomer.some((f) => f.t === 'receipt' && f.kind === 'seen' && f.participantId === 'mg-member'), "the member's seen at the customer");
      await customer.sync();
      expect(seenByCustomer.filter(naming('mg-boss'))).toEqual([]);

      // Nor does the customer's view of the conversation name the manager.
      const list = expectType(await customer.request({ t: 'conversations' }, 'conversations'), 'conversations');
      expect(list.conversations.find((c) => c.id === inbox.id)!.members).not.toContain('mg-boss');
    });
  });

  describe('finding 7: staff enumeration', () => {
    it('open naming a user the customer shares nothing with is not_found exactly like an unknown id; who leaves it out', async () => {
      await hub.user('en-staff');
      await hub.user('en-peer');
      const token = await jitToken('en-cust', 'customer');
      const customer = await connectWith(hub, token);
      await direct(hub, 'en-peer', ['en-cust']);
      const seen = tap(customer);

      const staff = await customer.request({ t: 'open', members: ['en-staff'] }, 'conversation');
      const ghost = await customer.request({ t: 'open', members: ['en-ghost'] }, 'conversation');
      expectError(staff, 'not_found');
      expectError(ghost, 'not_found');
      expect(staff.message.replaceAll('en-staff', 'ID')).toBe(ghost.message.replaceAll('en-ghost', 'ID'));

      const who = expectType(await customer.request({ t: 'who', participantIds: ['en-staff', 'en-ghost', 'en-peer'], watch: true }, 'who'), 'who');
      expect(who.presence.map((p) => p.participantId)).toEqual(['en-peer']);

      // Watching was refused for the stranger: its presence never reaches the customer; the peer's does.
      const staffSession = await hub.connect('en-staff');
      await staffSession.sync();
      const peerSession = await hub.connect('en-peer');
      await until(() => seen.some((f) => f.t === 'presence' && f.participantId === 'en-peer'), "the peer's presence at the customer");
      await customer.sync();
      expect(seen.filter(naming('en-staff'))).toEqual([]);

      // A user who is a member of one of the customer's conversations may be named.
      const withPeer = await open(customer, ['en-peer']);
      expect(withPeer.members).toContain('en-peer');
      expect(withPeer.kind).toBe('inbox');
      staffSession.close();
      peerSession.close();
    });
  });
});
