import { describe, expect, it } from 'vitest';
import type { NewMessage } from '../../server/core/model.js';
import type { DirectoryStore, MessageStore } from '../../server/core/ports/index.js';
import { conversation } from '../support/records.js';
import { type StoreFactory, withStore, writers } from './factory.js';

export type MessageStoreUnderTest = MessageStore & Pick<DirectoryStore, 'createConversation'>;

const msg = (over: Partial<NewMessage> = {}): NewMessage => ({
  conversationId: 'C1',
  senderId: 'alice',
  senderKind: 'user',
  body: 'hello',
  format: 'text',
  clientMsgId: 'm1',
  source: 'ws',
  createdAt: 1_000,
  ...over,
});

/** The MessageStore contract (server/core/ports/message-store.ts). */
export function describeMessageStore(name: string, factory: StoreFactory<MessageStoreUnderTest>): void {
  const run = (fn: Parameters<typeof withStore<MessageStoreUnderTest>>[1]) => () => withStore(factory, fn);

  describe(`MessageStore contract: ${name}`, () => {
    it(
      'gives seq 1..n without gaps or repeats under many concurrent appends to one conversation',
      run(async (s) => {
        await s.store.createConversation(conversation({ id: 'C1', memberIds: ['alice'] }));
        const ws = writers(s);
        const n = 400;
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => ws[i % ws.length]!.appendMessage(msg({ senderId: `s${i % 7}`, clientMsgId: `m${i}`, createdAt: 1_000 + i }))),
        );
        expect(results.every((r) => !r.duplicate)).toBe(true);
        expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        // One caller's appends get ascending seqs in issue order.
        if (ws.length === 1) expect(results.map((r) => r.message.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        const page = await s.store.listMessages('C1', { limit: n });
        expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(new Set(page.messages.map((m) => m.id)).size).toBe(n);
      }),
    );

    it(
      'keeps seqs per conversation',
      run(async (s) => {
        await s.store.createConversation(conversation({ id: 'C1' }));
        await s.store.createConversation(conversation({ id: 'C2' }));
        const a = await Promise.all([1, 2, 3].map((i) => s.store.appendMessage(msg({ conversationId: i === 2 ? 'C2' : 'C1', clientMsgId: `m${i}` }))));
        expect(a.map((r) => [r.message.conversationId, r.message.seq])).toEqual([['C1', 1], ['C2', 1], ['C1', 2]]);
      }),
    );

    it(
      'is idempotent on (conversation, sender, clientMsgId): a repeat returns the first message with duplicate: true and takes no seq',
      run(async (s) => {
        await s.store.createConversation(conversation({ id: 'C1' }));
        const first = await s.store.appendMessage(msg({ body: 'first' }));
        expect(first.duplicate).toBe(false);
        const again = await s.store.appendMessage(msg({ body: 'second', createdAt: 2_000 }));
        expect(again).toEqual({ message: first.message, duplicate: true });
        // Another sender or another conversation may reuse the clientMsgId.
        const other = await s.store.appendMessage(msg({ senderId: 'bob' }));
        expect(other.duplicate).toBe(false);
        expect(other.message.seq).toBe(2);
        // Racing repeats: exactly one stores, every other returns that one.
        const ws = writers(s);
        const race = await Promise.all(Array.from({ length: 20 }, (_, i) => ws[i % ws.length]!.appendMessage(msg({ clientMsgId: 'race', body: `b${i}` }))));
        expect(race.filter((r) => !r.duplicate)).toHaveLength(1);
        const stored = race.find((r) => !r.duplicate)!.message;
        for (const r of race) expect(r.message).toEqual(stored);
        expect(stored.seq).toBe(3);
        const next = await s.store.appendMessage(msg({ clientMsgId: 'after' }));
        expect(next.message.seq).toBe(4);
        expect(await s.store.getMessage(first.message.id)).toEqual(first.message);
        expect(await s.store.getMessage('nope')).toBeNull();
      }),
    );

    it(
      'pages history: latest, before, after, and never below fromSeq',
      run(async (s) => {
        await s.store.createConversation(conversation({ id: 'C1' }));
        for (let i = 1; i <= 10; i++) await s.store.appendMessage(msg({ clientMsgId: `m${i}`, createdAt: 1_000 * i }));
        const seqs = (p: { messages: Array<{ seq: number }> }) => p.messages.map((m) => m.seq);
        const latest = await s.store.listMessages('C1', { limit: 3 });
        expect([seqs(latest), latest.hasMore]).toEqual([[8, 9, 10], true]);
        const before = await s.store.listMessages('C1', { before: 8, limit: 3 });
        expect([seqs(before), before.hasMore]).toEqual([[5, 6, 7], true]);
        const oldest = await s.store.listMessages('C1', { before: 3, limit: 5 });
        expect([seqs(oldest), oldest.hasMore]).toEqual([[1, 2], false]);
        const after = await s.store.listMessages('C1', { after: 2, limit: 3 });
        expect([seqs(after), after.hasMore]).toEqual([[3, 4, 5], true]);
        const tail = await s.store.listMessages('C1', { after: 8, limit: 3 });
        expect([seqs(tail), tail.hasMore]).toEqual([[9, 10], false]);
        // fromSeq: nothing below it, in every direction.
        const fromLatest = await s.store.listMessages('C1', { limit: 20, fromSeq: 6 });
        expect([seqs(fromLatest), fromLatest.hasMore]).toEqual([[6, 7, 8, 9, 10], false]);
        const fromBefore = await s.store.listMessages('C1', { before: 8, limit: 5, fromSeq: 6 });
        expect([seqs(fromBefore), fromBefore.hasMore]).toEqual([[6, 7], false]);
        const fromAfter = await s.store.listMessages('C1', { after: 0, limit: 2, fromSeq: 6 });
        expect([seqs(fromAfter), fromAfter.hasMore]).toEqual([[6, 7], true]);
        expect((await s.store.listMessages('C1', { limit: 5, fromSeq: 11 })).messages).toEqual([]);
        expect(await s.store.listMessages('nope', { limit: 5 })).toEqual({ messages: [], hasMore: false });
      }),
    );

    it(
      'finds the first seq at a time and counts messages from others',
      run(async (s) => {
        await s.store.createConversation(conversation({ id: 'C1' }));
        expect(await s.store.firstSeqAt('C1', 0)).toBe(1);
        for (let i = 1; i <= 6; i++) await s.store.appendMessage(msg({ clientMsgId: `m${i}`, senderId: i % 2 ? 'alice' : 'bob', createdAt: 1_000 * i }));
        expect(await s.store.firstSeqAt('C1', 0)).toBe(1);
        expect(await s.store.firstSeqAt('C1', 3_000)).toBe(3);
        expect(await s.store.firstSeqAt('C1', 3_001)).toBe(4);
        expect(await s.store.firstSeqAt('C1', 9_000)).toBe(7);
        expect(await s.store.countUnseen('C1', 'alice', 0)).toBe(3);
        expect(await s.store.countUnseen('C1', 'alice', 4)).toBe(1);
        expect(await s.store.countUnseen('C1', 'carol', 2)).toBe(4);
      }),
    );
  });
}
