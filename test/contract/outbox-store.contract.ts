import { describe, expect, it } from 'vitest';
import { outboxRow } from '../../server/core/outbox/outbox-row.js';
import type { NotificationStore, OutboxStore, WatermarkStore } from '../../server/core/ports/index.js';
import { type StoreFactory, withStore, writers } from './factory.js';
import { emailRow } from './watermark-store.contract.js';

export type OutboxStoreUnderTest = OutboxStore & Pick<WatermarkStore, 'commitEscalation'> & Pick<NotificationStore, 'commitEvent'>;

/** The OutboxStore contract (server/core/ports/outbox-store.ts). */
export function describeOutboxStore(name: string, factory: StoreFactory<OutboxStoreUnderTest>): void {
  const run = (fn: Parameters<typeof withStore<OutboxStoreUnderTest>>[1]) => () => withStore(factory, fn);
  /** Queue `n` rows created (and due) at 1000, 2000, …, one per conversation. */
  const queue = async (st: OutboxStoreUnderTest, n: number) => {
    for (let i = 1; i <= n; i++) {
      const ok = await st.commitEscalation(emailRow({ id: `E${i}`, conversationId: `C${i}`, messageIdHeader: `<E${i}@parley>`, createdAt: 1_000 * i }), { seenUpTo: 0, emailedUpTo: 0 });
      expect(ok).toBe(true);
    }
  };
  const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id);

  describe(`OutboxStore contract: ${name}`, () => {
    it(
      'claims due queued rows, oldest first, with what sending needs',
      run(async (s) => {
        await queue(s.store, 3);
        expect(await s.store.nextEmailAttemptAt()).toBe(1_000);
        const claimed = await s.store.claimDue(2_500, 10, 60_000);
        expect(ids(claimed)).toEqual(['E1', 'E2']);
        expect(claimed[0]).toMatchObject({
          kind: 'escalation',
          channel: 'email',
          status: 'queued',
          attempts: 0,
          to: 'bob@example.com',
          raw: 'raw MIME',
          messageIdHeader: '<E1@parley>',
          messageIds: ['m1'],
          nextAttemptAt: 1_000,
          leaseUntil: 62_500,
        });
        expect(ids(await s.store.claimDue(10_000, 1, 60_000))).toEqual(['E3']);
      }),
    );

    it(
      'leases what it claims: not returned again until the lease expires or the row is marked',
      run(async (s) => {
        await queue(s.store, 3);
        expect(ids(await s.store.claimDue(5_000, 10, 1_000))).toEqual(['E1', 'E2', 'E3']);
        expect(await s.store.claimDue(5_000, 10, 1_000)).toEqual([]);
        expect(await s.store.claimDue(5_999, 10, 1_000)).toEqual([]);
        expect(await s.store.nextEmailAttemptAt()).toBe(6_000);
        await s.store.markEmail('E1', { status: 'sent', at: 5_500 });
        await s.store.markEmail('E2', { status: 'failed', error: 'rejected' });
        // The lease is over: the unmarked row comes back; marked ones never do.
        expect(ids(await s.store.claimDue(6_000, 10, 1_000))).toEqual(['E3']);
        await s.store.markEmail('E3', { status: 'queued', nextAttemptAt: 20_000, error: 'try later' });
        expect(await s.store.nextEmailAttemptAt()).toBe(20_000);
        expect(await s.store.claimDue(19_999, 10, 1_000)).toEqual([]);
        const retry = await s.store.claimDue(20_000, 10, 1_000);
        expect(retry.map((r) => [r.id, r.attempts, r.error])).toEqual([['E3', 1, 'try later']]);
        await s.store.markEmail('E3', { status: 'sent', at: 20_100 });
        expect(await s.store.claimDue(1e12, 10, 1_000)).toEqual([]);
        expect(await s.store.nextEmailAttemptAt()).toBeNull();
        const list = await s.store.listEmails(0, 10);
        expect(list.map((e) => [e.id, e.status, e.attempts, e.sentAt])).toEqual([
          ['E1', 'sent', 1, 5_500],
          ['E2', 'failed', 1, null],
          ['E3', 'sent', 2, 20_100],
        ]);
      }),
    );

    it(
      'never hands one row to two racing claims',
      run(async (s) => {
        await queue(s.store, 12);
        const ws = writers(s);
        const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => ws[i % ws.length]!.claimDue(100_000, 2, 60_000)));
        const all = claims.flatMap(ids);
        expect(all).toHaveLength(12);
        expect(new Set(all).size).toBe(12);
      }),
    );

    it(
      'lists rows without the raw MIME, gives the raw on its own, and threads Message-IDs',
      run(async (s) => {
        await queue(s.store, 2);
        await s.store.commitEscalation(emailRow({ id: 'E9', upTo: 2, messageIdHeader: '<E9@parley>', createdAt: 9_000 }), { seenUpTo: 0, emailedUpTo: 1 });
        const list = await s.store.listEmails(2_000, 10);
        expect(list).toEqual([
          expect.objectContaining({ id: 'E2', to: 'bob@example.com', kind: 'escalation', status: 'queued', conversationId: 'C2' }),
          expect.objectContaining({ id: 'E9', conversationId: 'C1' }),
        ]);
        expect(Object.keys(list[0]!).sort()).toEqual(
          ['attempts', 'conversationId', 'createdAt', 'error', 'id', 'kind', 'messageIds', 'participantId', 'sentAt', 'status', 'subject', 'to'].sort(),
        );
        expect(await s.store.getEmailSource('E2')).toEqual({ raw: 'raw MIME', deferred: null });
        expect(await s.store.getEmailSource('nope')).toBeNull();
        expect(await s.store.threadMessageIds('C1', 'bob', 10)).toEqual(['<E1@parley>', '<E9@parley>']);
        expect(await s.store.threadMessageIds('C1', 'bob', 1)).toEqual(['<E9@parley>']);
        // A notification email about an item that happens to share the conversation's id is no
        // earlier email of that conversation: only escalation emails thread.
        const note = outboxRow({ id: 'N1', kind: 'notification', participantId: 'bob', conversationId: 'C1', toAddress: 'bob@example.com', subject: 'Ticket', messageIdHeader: '<e.N1@parley>', raw: 'raw', createdAt: 9_500 });
        const event = { id: 'ev-thread', type: 'TicketStateUpdate', occurredAt: 9_500, receivedAt: 9_500, actorId: null, itemId: 'C1', deliveries: [], notFound: [] };
        expect(await s.store.commitEvent({ event, outbox: [note], notifications: [], timers: [], marks: [], articleAddresses: null })).toBe(true);
        expect(await s.store.threadMessageIds('C1', 'bob', 10)).toEqual(['<E1@parley>', '<E9@parley>']);
      }),
    );

    it(
      'prunes old sent and failed rows and keeps queued ones, however old',
      run(async (s) => {
        await queue(s.store, 4);
        await s.store.claimDue(10_000, 10, 1);
        await s.store.markEmail('E1', { status: 'sent', at: 5_000 });
        await s.store.markEmail('E2', { status: 'failed', error: 'x' });
        await s.store.markEmail('E4', { status: 'sent', at: 5_000 });
        expect(await s.store.pruneEmails(3_500)).toBe(2);
        expect(ids(await s.store.listEmails(0, 10))).toEqual(['E3', 'E4']);
        expect(await s.store.pruneEmails(1e12)).toBe(1);
        expect(ids(await s.store.listEmails(0, 10))).toEqual(['E3']);
      }),
    );
  });
}
