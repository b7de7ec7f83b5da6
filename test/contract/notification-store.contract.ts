import { describe, expect, it } from 'vitest';
import { DefinitionInputSchema, type NotificationDefinition } from '../../protocol/index.js';
import type { EventCommit, NotificationRow, NotificationStore, OutboxStore } from '../../server/core/ports/index.js';
import { type StoreFactory, withStore, writers } from './factory.js';
import { emailRow } from './watermark-store.contract.js';

export type NotificationStoreUnderTest = NotificationStore & Pick<OutboxStore, 'listEmails' | 'claimDue'>;

const definition = (id: string, name: string): NotificationDefinition => ({
  ...DefinitionInputSchema.parse({ name, events: ['E'], messages: { en: { subject: 's', body: 'b' } } }),
  id,
  builtIn: false,
  createdAt: 1,
  updatedAt: 1,
});

const web = (id: string, participantId: string, createdAt: number, over: Partial<NotificationRow> = {}): NotificationRow => ({
  id,
  participantId,
  definitionId: 'D',
  eventId: 'ev',
  broadcastId: null,
  subject: `subject ${id}`,
  body: 'body',
  itemId: 'T1',
  appointmentId: null,
  createdAt,
  seenAt: null,
  ...over,
});

const commit = (eventId: string, over: Partial<EventCommit> = {}): EventCommit => ({
  event: { id: eventId, type: 'E', occurredAt: 1, receivedAt: 2, actorId: null, itemId: 'T1', deliveries: [], notFound: [] },
  outbox: [],
  notifications: [],
  timers: [],
  marks: [],
  articleAddresses: null,
  ...over,
});

/** The NotificationStore contract (server/core/ports/notification-store.ts). */
export function describeNotificationStore(name: string, factory: StoreFactory<NotificationStoreUnderTest>): void {
  const run = (fn: Parameters<typeof withStore<NotificationStoreUnderTest>>[1]) => () => withStore(factory, fn);

  describe(`NotificationStore contract: ${name}`, () => {
    it(
      'keeps names unique: a write that would give two definitions one name stores nothing of itself',
      run(async (s) => {
        await s.store.putDefinitions([definition('a', 'A'), definition('b', 'B')]);
        await expect(s.store.putDefinitions([definition('c', 'C'), definition('d', 'A')])).rejects.toMatchObject({ code: 'conflict' });
        const names = (await s.store.loadNotificationState(0)).definitions.map((d) => d.name);
        expect(names).toEqual(['A', 'B']);
        expect(await s.store.deleteDefinition('a')).toBe(true);
        expect(await s.store.deleteDefinition('a')).toBe(false);
      }),
    );

    it(
      'commits an event once, with everything it writes; a repeat (from any writer) writes nothing',
      run(async (s) => {
        const first = commit('ev', {
          event: { ...commit('ev').event, deliveries: [{ definitionId: 'D', participantId: 'u', address: null, transport: 'web', status: 'sent', reason: null, outboxId: null, notificationId: 'n1' }] },
          outbox: [emailRow({ id: 'E1', kind: 'notification', conversationId: 'T1', createdAt: 10 })],
          notifications: [web('n1', 'u', 10)],
          marks: [{ definitionId: 'D', itemKey: 'T1', recipient: 'u', transport: 'web', at: 10 }],
          articleAddresses: { itemId: 'T1', first: ['a@x'], last: ['b@x'] },
        });
        const results = await Promise.all(writers(s).flatMap((w) => [w.commitEvent(first), w.commitEvent(commit('ev', { notifications: [web('n2', 'u', 11)] }))]));
        expect(results.filter(Boolean)).toHaveLength(1);
        // Each writer committed `first` then the other one: `first` won if an even-numbered call did.
        const firstWon = results.some((r, i) => r && i % 2 === 0);
        const stored = await s.store.getEvent('ev');
        expect(stored?.deliveries).toHaveLength(firstWon ? 1 : 0);
        const state = await s.store.loadNotificationState(0);
        const page = await s.store.listNotifications('u', undefined, 10);
        if (firstWon) {
          expect(page.notifications.map((n) => n.id)).toEqual(['n1']);
          expect(state.marks).toEqual([{ definitionId: 'D', itemKey: 'T1', recipient: 'u', transport: 'web', at: 10 }]);
          expect(state.articleAddresses).toEqual([{ itemId: 'T1', first: ['a@x'], last: ['b@x'] }]);
          expect((await s.store.listEmails(0, 10)).map((e) => e.id)).toEqual(['E1']);
        }
        expect(page.notifications).toHaveLength(1);
      }),
    );

    it(
      'claims outbox rows by the priority of their kind: system, escalation, notifications, broadcasts',
      run(async (s) => {
        await s.store.commitEvent(
          commit('ev', {
            outbox: [
              emailRow({ id: 'B', kind: 'broadcast', conversationId: 'b1', createdAt: 1 }),
              emailRow({ id: 'N', kind: 'notification', conversationId: 'T1', createdAt: 2 }),
              emailRow({ id: 'S', kind: 'system', conversationId: '', createdAt: 3 }),
              emailRow({ id: 'E', kind: 'escalation', conversationId: 'C9', createdAt: 4 }),
            ],
          }),
        );
        expect((await s.store.claimDue(10, 10, 1_000)).map((r) => r.id)).toEqual(['S', 'E', 'N', 'B']);
      }),
    );

    it(
      'pages web notifications newest first, counts unseen, and marks only the owner’s',
      run(async (s) => {
        await s.store.commitEvent(commit('ev', { notifications: [web('n1', 'u', 10), web('n2', 'u', 20), web('n3', 'u', 30), web('x1', 'other', 40)] }));
        const first = await s.store.listNotifications('u', undefined, 2);
        expect(first).toMatchObject({ hasMore: true, unseen: 3 });
        expect(first.notifications.map((n) => n.id)).toEqual(['n3', 'n2']);
        const next = await s.store.listNotifications('u', 'n2', 2);
        expect(next.notifications.map((n) => n.id)).toEqual(['n1']);
        expect(next.hasMore).toBe(false);
        expect(await s.store.markNotificationsSeen('u', ['n1', 'n2', 'x1', 'nope'], 50)).toBe(2);
        expect(await s.store.markNotificationsSeen('u', ['n1'], 60)).toBe(0);
        expect((await s.store.listNotifications('u', undefined, 10)).unseen).toBe(1);
        expect((await s.store.listNotifications('other', undefined, 10)).unseen).toBe(1);
      }),
    );

    it(
      'fires an only-if-unseen timer once: queued when unseen at its due time, seen_in_time when seen before it',
      run(async (s) => {
        const delivery = (n: string) => ({ definitionId: 'D', participantId: 'u', address: null, transport: 'email' as const, status: 'queued' as const, reason: null, outboxId: null, notificationId: n });
        await s.store.commitEvent(
          commit('ev', {
            event: { ...commit('ev').event, deliveries: [delivery('n1'), delivery('n2')] },
            notifications: [web('n1', 'u', 10), web('n2', 'u', 10)],
            timers: [
              { notificationId: 'n1', eventId: 'ev', deliveryIndex: 0, dueAt: 100, email: emailRow({ id: 'E1', kind: 'notification', conversationId: 'T1', createdAt: 10 }) },
              { notificationId: 'n2', eventId: 'ev', deliveryIndex: 1, dueAt: 100, email: emailRow({ id: 'E2', kind: 'notification', conversationId: 'T1', createdAt: 10 }) },
            ],
          }),
        );
        expect(await s.store.nextUnseenTimerAt()).toBe(100);
        expect(await s.store.dueUnseenTimers(99, 10)).toEqual([]);
        await s.store.markNotificationsSeen('u', ['n2'], 50);
        expect((await s.store.dueUnseenTimers(100, 10)).map((t) => t.notificationId).sort()).toEqual(['n1', 'n2']);
        const outcomes = await Promise.all(writers(s).flatMap((w) => [w.fireUnseenTimer('n1', 120), w.fireUnseenTimer('n1', 120)]));
        expect(outcomes.filter((o) => o === 'queued')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'gone')).toHaveLength(outcomes.length - 1);
        expect(await s.store.fireUnseenTimer('n2', 120)).toBe('seen');
        expect(await s.store.nextUnseenTimerAt()).toBeNull();
        expect((await s.store.listEmails(0, 10)).map((e) => e.id)).toEqual(['E1']);
        const audit = (await s.store.getEvent('ev'))!.deliveries;
        expect(audit[0]).toMatchObject({ status: 'queued', reason: null, outboxId: 'E1' });
        expect(audit[1]).toMatchObject({ status: 'skipped', reason: 'seen_in_time', outboxId: null });
        expect(await s.store.outboxStatus(['E1', 'E9'])).toEqual(new Map([['E1', { status: 'queued', error: null }]]));
      }),
    );
  });
}
