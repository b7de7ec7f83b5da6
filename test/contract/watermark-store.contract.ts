import { describe, expect, it } from 'vitest';
import type { NewEmailRow, OutboxStore, WatermarkStore } from '../../server/core/ports/index.js';
import { eventually, type StoreFactory, withStore, writers } from './factory.js';

export type WatermarkStoreUnderTest = WatermarkStore & Pick<OutboxStore, 'listEmails'>;

export const emailRow = (over: Partial<NewEmailRow> = {}): NewEmailRow => ({
  id: 'E1',
  kind: 'escalation',
  participantId: 'bob',
  conversationId: 'C1',
  toAddress: 'bob@example.com',
  subject: 'Subject',
  messageIdHeader: '<E1@parley>',
  messageIds: ['m1'],
  upTo: 1,
  heldSeqs: [1],
  summarizedSeqs: [],
  raw: 'raw MIME',
  createdAt: 1_000,
  ...over,
});

/** The WatermarkStore contract (server/core/ports/watermark-store.ts). */
export function describeWatermarkStore(name: string, factory: StoreFactory<WatermarkStoreUnderTest>): void {
  const run = (fn: Parameters<typeof withStore<WatermarkStoreUnderTest>>[1]) => () => withStore(factory, fn);
  const marks = async (st: WatermarkStore, p = 'bob', c = 'C1') => (await st.getWatermarks(p, [c])).get(c);

  describe(`WatermarkStore contract: ${name}`, () => {
    it(
      'raises seen (and delivered with it) and never lowers it',
      run(async (s) => {
        expect(await marks(s.store)).toBeUndefined();
        expect(await s.store.raiseSeen('bob', 'C1', 5, 1_000)).toBe(true);
        expect(await s.store.raiseSeen('bob', 'C1', 3, 2_000)).toBe(false);
        expect(await s.store.raiseSeen('bob', 'C1', 5, 2_000)).toBe(false);
        expect(await marks(s.store)).toEqual({ participantId: 'bob', conversationId: 'C1', deliveredUpTo: 5, seenUpTo: 5, emailedUpTo: 0 });
        // Racing rises in any order end at the highest.
        const ws = writers(s);
        const rose = await Promise.all([9, 6, 12, 7, 11].map((upTo, i) => ws[i % ws.length]!.raiseSeen('bob', 'C1', upTo, 3_000 + i)));
        expect(rose).toContain(true);
        expect((await marks(s.store))!.seenUpTo).toBe(12);
        expect((await s.store.getWatermarks('bob', ['C1', 'C2'])).size).toBe(1);
      }),
    );

    it(
      'writes delivered behind, never lowering it, and counts pending marks in receipts at once',
      run(async (s) => {
        s.store.recordDelivered('C1', ['bob', 'carol'], 5, 1_000);
        s.store.recordDelivered('C1', ['bob'], 3, 1_100);
        const receipts = await s.store.receiptTimes({ conversationId: 'C1', seq: 5, createdAt: 900 });
        expect(receipts.get('bob')?.deliveredAt).toBe(1_000);
        expect(receipts.get('carol')?.deliveredAt).toBe(1_000);
        expect((await s.store.receiptTimes({ conversationId: 'C1', seq: 6, createdAt: 900 })).size).toBe(0);
        const m = await eventually(() => marks(s.store), (w) => w !== undefined);
        expect(m?.deliveredUpTo).toBe(5);
        s.store.recordDelivered('C1', ['bob'], 4, 2_000);
        await s.store.raiseSeen('carol', 'C1', 2, 2_000); // a commit
        await new Promise((r) => setTimeout(r, 400));
        expect((await marks(s.store))!.deliveredUpTo).toBe(5);
      }),
    );

    it(
      'gives receipt times: the earliest rise that reached the seq',
      run(async (s) => {
        await s.store.raiseSeen('bob', 'C1', 2, 1_000);
        await s.store.raiseSeen('bob', 'C1', 4, 2_000);
        const t = (seq: number) => s.store.receiptTimes({ conversationId: 'C1', seq, createdAt: 500 }).then((r) => r.get('bob'));
        expect(await t(2)).toMatchObject({ seenAt: 1_000, deliveredAt: 1_000, emailed: null });
        expect(await t(3)).toMatchObject({ seenAt: 2_000 });
        expect(await t(5)).toBeUndefined();
      }),
    );

    it(
      'commitEscalation is a compare-and-set: it refuses moved watermarks and writes nothing then',
      run(async (s) => {
        expect(await s.store.commitEscalation(emailRow(), { seenUpTo: 0, emailedUpTo: 0 })).toBe(true);
        expect((await marks(s.store))!.emailedUpTo).toBe(1);
        // The emailed watermark moved: the same expectation is refused.
        expect(await s.store.commitEscalation(emailRow({ id: 'E2', upTo: 2 }), { seenUpTo: 0, emailedUpTo: 0 })).toBe(false);
        // The seen watermark moved.
        await s.store.raiseSeen('bob', 'C1', 2, 2_000);
        expect(await s.store.commitEscalation(emailRow({ id: 'E3', upTo: 3 }), { seenUpTo: 0, emailedUpTo: 1 })).toBe(false);
        expect(await s.store.commitEscalation(emailRow({ id: 'E4', upTo: 4, heldSeqs: [3, 4] }), { seenUpTo: 2, emailedUpTo: 1 })).toBe(true);
        expect((await s.store.listEmails(0, 10)).map((e) => e.id)).toEqual(['E1', 'E4']);
        expect(await marks(s.store)).toMatchObject({ seenUpTo: 2, emailedUpTo: 4 });
        const r = await s.store.receiptTimes({ conversationId: 'C1', seq: 3, createdAt: 500 });
        expect(r.get('bob')).toMatchObject({ emailed: 'held', emailId: 'E4', emailedAt: 1_000 });
        // Racing commits on one expectation: exactly one wins.
        const ws = writers(s);
        const race = await Promise.all(
          Array.from({ length: 6 }, (_, i) => ws[i % ws.length]!.commitEscalation(emailRow({ id: `R${i}`, upTo: 9 }), { seenUpTo: 2, emailedUpTo: 4 })),
        );
        expect(race.filter(Boolean)).toHaveLength(1);
        expect(await s.store.listEmails(0, 10)).toHaveLength(3);
      }),
    );
  });
}
