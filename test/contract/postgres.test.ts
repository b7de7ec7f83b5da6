import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../server/adapters/postgres/postgres-store.js';
import type { NewMessage } from '../../server/core/model.js';
import type { Logger } from '../../server/core/ports/index.js';
import { conversation } from '../support/records.js';
import { freshPostgresDatabase, postgresUrl, TcpRelay } from '../support/services.js';
import { until } from '../support/until.js';
import { describeDirectoryStore } from './directory-store.contract.js';
import type { OpenedStore } from './factory.js';
import { describeMessageStore } from './message-store.contract.js';
import { describeNotificationStore } from './notification-store.contract.js';
import { describeOutboxStore } from './outbox-store.contract.js';
import { describeWatermarkStore } from './watermark-store.contract.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };

const url = await postgresUrl();

const freshDatabase = () => freshPostgresDatabase(url!);

/**
 * A PostgresStore on a fresh database of its own (created here, dropped after), and a peer: a second
 * PostgresStore on the same database — a second hub — so the concurrency cases run two writers.
 */
async function postgres(): Promise<OpenedStore<PostgresStore>> {
  const db = await freshDatabase();
  const dbUrl = new URL(db.url);
  // Both open at once: the advisory lock lets one migrate, the other finds it done.
  const [store, peer] = await Promise.all([PostgresStore.open({ url: dbUrl.href, logger: quiet }), PostgresStore.open({ url: dbUrl.href, logger: quiet })]);
  return {
    store,
    peer,
    close: async () => {
      await Promise.allSettled([store.close(), peer.close()]);
      await db.drop();
    },
  };
}

const msg = (clientMsgId: string, over: Partial<NewMessage> = {}): NewMessage => ({
  conversationId: 'C1',
  senderId: 'alice',
  senderKind: 'user',
  body: `body ${clientMsgId}`,
  format: 'text',
  clientMsgId,
  source: 'ws',
  createdAt: 1_000,
  ...over,
});

if (url) {
  describeDirectoryStore('PostgresStore', postgres);
  describeMessageStore('PostgresStore', postgres);
  describeWatermarkStore('PostgresStore', postgres);
  describeOutboxStore('PostgresStore', postgres);
  describeNotificationStore('PostgresStore', postgres);

  describe('PostgresStore on PostgreSQL', () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of cleanup.splice(0).reverse()) await c();
    });

    it('takes a repeat that another hub stored out of a batch of new messages without leaving a gap', async () => {
      const { store, peer, close } = await postgres();
      cleanup.push(close);
      await store.createConversation(conversation({ id: 'C1' }));
      const first = await store.appendMessage(msg('k1'));
      // One batch on the other hub: the repeat between new ones, and a repeat of a new one within the batch.
      const batch = await Promise.all([peer!.appendMessage(msg('k2')), peer!.appendMessage(msg('k1')), peer!.appendMessage(msg('k3')), peer!.appendMessage(msg('k2'))]);
      expect(batch.map((r) => [r.message.clientMsgId, r.message.seq, r.duplicate])).toEqual([
        ['k2', 2, false],
        ['k1', 1, true],
        ['k3', 3, false],
        ['k2', 2, true],
      ]);
      expect(batch[1]!.message).toEqual(first.message);
      expect(batch[3]!.message).toEqual(batch[0]!.message);
      expect((await store.appendMessage(msg('k4'))).message.seq).toBe(4);
      expect((await store.listMessages('C1', { limit: 10 })).messages.map((m) => [m.seq, m.clientMsgId])).toEqual([
        [1, 'k1'],
        [2, 'k2'],
        [3, 'k3'],
        [4, 'k4'],
      ]);
      expect((await peer!.loadDirectory()).conversations[0]!.lastSeq).toBe(4);
    });

    it('keeps seqs gapless and repeats resolved to one message with three hubs writing at once, without a deadlock between them', async () => {
      const db = await freshDatabase();
      cleanup.push(db.drop);
      const retried: unknown[] = [];
      const logger: Logger = { info() {}, warn: (m, f) => retried.push([m, f]), error: (m, f) => retried.push([m, f]) };
      const hubs = await Promise.all([0, 1, 2].map(() => PostgresStore.open({ url: db.url, logger })));
      cleanup.push(async () => void (await Promise.all(hubs.map((h) => h.close()))));
      for (let c = 0; c < 6; c++) await hubs[0]!.createConversation(conversation({ id: `C${c}` }));
      // 1,500 appends of 500 distinct messages (each sent three times, by three hubs), with seen rises,
      // delivered marks and escalations on the same watermarks in between.
      const appends: Array<Promise<{ message: { id: string; conversationId: string; clientMsgId: string }; duplicate: boolean }>> = [];
      const others: Array<Promise<unknown>> = [];
      for (let i = 0; i < 1_500; i++) {
        const hub = hubs[i % 3]!;
        const k = i % 500;
        const c = `C${k % 6}`;
        const p = `p${k % 7}`;
        appends.push(hub.appendMessage(msg(`m${k}`, { conversationId: c, senderId: p, createdAt: 1_000 + k }), 500));
        if (i % 3 === 0) others.push(hub.raiseSeen(p, c, i % 40, 2_000 + i));
        if (i % 5 === 0) hub.recordDelivered(c, [p, `p${(k + 1) % 7}`], i % 50, 3_000 + i);
        if (i % 11 === 0) others.push(hub.commitEscalation({ id: `E${i}`, kind: 'escalation', participantId: p, conversationId: c, toAddress: 'a@b', subject: 's', messageIdHeader: `<E${i}@parley>`, messageIds: [], upTo: 1, heldSeqs: [1], summarizedSeqs: [], raw: 'r', createdAt: 5 }, { seenUpTo: 0, emailedUpTo: 0 }));
        if (i % 60 === 0) await new Promise((r) => setImmediate(r));
      }
      const results = await Promise.all(appends);
      await Promise.all(others);
      const idOf = new Map<string, string>();
      for (const r of results) {
        const key = `${r.message.conversationId}/${r.message.clientMsgId}`;
        expect(idOf.get(key) ?? r.message.id).toBe(r.message.id);
        idOf.set(key, r.message.id);
      }
      expect(idOf.size).toBe(500);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(500);
      for (let c = 0; c < 6; c++) {
        const page = await hubs[1]!.listMessages(`C${c}`, { limit: 200 });
        expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: page.messages.length }, (_, i) => i + 1));
      }
      expect(retried).toEqual([]);
    });

    it('rejects an append to a conversation it does not have (not_found) or with a NUL in its body (invalid), and commits the rest of its batch', async () => {
      const { store, close } = await postgres();
      cleanup.push(close);
      await store.createConversation(conversation({ id: 'C1' }));
      const [ok, missing] = await Promise.allSettled([store.appendMessage(msg('a')), store.appendMessage(msg('b', { conversationId: 'nope' }))]);
      expect(ok).toMatchObject({ status: 'fulfilled', value: { duplicate: false, message: { seq: 1 } } });
      expect(missing).toMatchObject({ status: 'rejected', reason: { code: 'not_found' } });
      // PostgreSQL text holds no U+0000: that body alone is refused as invalid.
      const [nul, next] = await Promise.allSettled([store.appendMessage(msg('c', { body: 'a\u0000b' })), store.appendMessage(msg('d'))]);
      expect(nul).toMatchObject({ status: 'rejected', reason: { code: 'invalid' } });
      expect(next).toMatchObject({ status: 'fulfilled', value: { message: { seq: 2 } } });
    });

    it('is unavailable while PostgreSQL is unreachable, not ready, and recovers by itself', async () => {
      const db = await freshDatabase();
      cleanup.push(db.drop);
      const target = new URL(db.url);
      const relay = new TcpRelay({ host: target.hostname, port: Number(target.port || 5432) });
      await relay.start();
      cleanup.push(() => relay.cut());
      const through = new URL(db.url);
      through.port = String(relay.port);
      const store = await PostgresStore.open({ url: through.href, logger: quiet });
      cleanup.push(() => store.close());
      await store.createConversation(conversation({ id: 'C1' }));
      expect((await store.appendMessage(msg('m1'))).message.seq).toBe(1);
      expect(store.isReady()).toBe(true);

      await relay.cut();
      await expect(store.appendMessage(msg('m2'))).rejects.toMatchObject({ code: 'unavailable' });
      await expect(store.raiseSeen('bob', 'C1', 1, 2_000)).rejects.toMatchObject({ code: 'unavailable' });
      await expect(store.listMessages('C1', { limit: 10 })).rejects.toMatchObject({ code: 'unavailable' });
      expect(store.isReady()).toBe(false);

      await relay.start(); // the same port
      await until(() => store.isReady(), 'the store to be ready again');
      // The failed append took no seq; the retried one is stored once.
      const again = await store.appendMessage(msg('m2'));
      expect([again.message.seq, again.duplicate]).toEqual([2, false]);
      expect((await store.listMessages('C1', { limit: 10 })).messages.map((m) => m.clientMsgId)).toEqual(['m1', 'm2']);
    });

    it('migrates once when several hubs open a new database at once, and refuses a database from a newer Parley', async () => {
      const db = await freshDatabase();
      cleanup.push(db.drop);
      const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ url: db.url, logger: quiet })));
      cleanup.push(async () => void (await Promise.all(stores.map((s) => s.close()))));
      const check = new pg.Client({ connectionString: db.url });
      await check.connect();
      try {
        const applied = await check.query<{ n: string }>('SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
        const journal = (await import('../../migrations/postgres/meta/_journal.json', { with: { type: 'json' } })).default as { entries: unknown[] };
        expect(Number(applied.rows[0]!.n)).toBe(journal.entries.length);
        await check.query("INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('future', $1)", [Date.now() + 365 * 86_400_000]);
      } finally {
        await check.end();
      }
      await expect(PostgresStore.open({ url: db.url, logger: quiet })).rejects.toThrow(/newer Parley/);
    });
  });
} else {
  describe.skip('PostgresStore contract: PostgreSQL not reachable', () => {
    it('runs every store contract on PostgreSQL', () => {});
  });
}
