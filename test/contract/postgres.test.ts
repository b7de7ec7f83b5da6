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

    /** Three stores (three hubs) on one fresh database; what they log as warnings or errors is kept. */
    async function threeHubs(): Promise<{ hubs: PostgresStore[]; retried: unknown[] }> {
      const db = await freshDatabase();
      cleanup.push(db.drop);
      const retried: unknown[] = [];
      const logger: Logger = { info() {}, warn: (m, f) => retried.push([m, f]), error: (m, f) => retried.push([m, f]) };
      const hubs = await Promise.all([0, 1, 2].map(() => PostgresStore.open({ url: db.url, logger })));
      cleanup.push(async () => void (await Promise.all(hubs.map((h) => h.close()))));
      return { hubs, retried };
    }

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
      const { hubs, retried } = await threeHubs();
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

    it('keeps seqs gapless and repeats resolved to one message with three hubs racing on appends alone (the one-statement commit and its fallback)', async () => {
      const { hubs, retried } = await threeHubs();
      for (let c = 0; c < 4; c++) await hubs[0]!.createConversation(conversation({ id: `C${c}` }));
      // Batches of appends only (no joins, seen rises or escalations): each commits as one statement,
      // and a batch holding a repeat another hub stored first rolls back and commits again in full.
      for (let round = 0; round < 10; round++) {
        const appends: Array<Promise<{ message: { id: string; conversationId: string; clientMsgId: string; seq: number }; duplicate: boolean }>> = [];
        for (let i = 0; i < 300; i++) {
          const k = round * 100 + (i % 100);
          appends.push(hubs[i % 3]!.appendMessage(msg(`m${k}`, { conversationId: `C${k % 4}`, senderId: `p${k % 5}`, createdAt: 1_000 + k })));
        }
        const results = await Promise.all(appends);
        const byKey = new Map<string, string>();
        for (const r of results) {
          const key = `${r.message.conversationId}/${r.message.clientMsgId}`;
          expect(byKey.get(key) ?? r.message.id).toBe(r.message.id);
          byKey.set(key, r.message.id);
        }
        expect(byKey.size).toBe(100);
        expect(results.filter((r) => !r.duplicate)).toHaveLength(100);
      }
      for (let c = 0; c < 4; c++) {
        const page = await hubs[2]!.listMessages(`C${c}`, { limit: 500 });
        expect(page.messages).toHaveLength(250);
        expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
        expect(new Set(page.messages.map((m) => m.clientMsgId)).size).toBe(250);
      }
      expect((await hubs[0]!.loadDirectory()).conversations.map((c) => c.lastSeq)).toEqual([250, 250, 250, 250]);
      expect(retried).toEqual([]);
    });

    it('keeps email in, broadcasts, appointments and templates as the ports say, with two hubs racing where it matters', async () => {
      const { store, peer, close } = await postgres();
      cleanup.push(close);
      const hubs = [store, peer!];
      // Inbound: insert-if-absent by Message-ID, raw bytes kept exactly (8-bit, a NUL included).
      const raw = Uint8Array.from([0, 1, 2, 0xff, 0xfe, 13, 10]);
      const row = { id: 'I1', messageId: 'm@x', from: 'a@x', to: ['b@y'], subject: 's', receivedAt: 10, status: 'posted' as const, reason: null, conversationId: 'C1', postedMessageId: null };
      const recorded = await Promise.all(hubs.map((h, i) => h.recordInbound({ ...row, id: `I${i + 1}` }, raw)));
      expect(recorded.filter(Boolean)).toHaveLength(1);
      const stored = (await store.inboundByMessageId('m@x'))!;
      expect(Buffer.from((await peer!.getInboundRaw(stored.id))!)).toEqual(Buffer.from(raw));
      expect(await store.countInboundFrom('a@x', 0)).toBe(1);
      // Reply addresses: get-or-create, one rid per pair whoever asks first.
      const rids = await Promise.all(hubs.map((h, i) => h.replyRid('C1', 'bob', `rid${i}`, 10)));
      expect(rids[0]).toBe(rids[1]);
      expect(await peer!.replyTarget(rids[0]!)).toEqual({ conversationId: 'C1', participantId: 'bob' });
      await store.markBounced('Bob@Example.com', '5.1.1', 10);
      expect(await peer!.bouncedAddresses()).toEqual(['bob@example.com']);

      // Broadcasts: one commit with its emails and web notifications; an id reused is a conflict.
      const email = (id: string) => ({ id, kind: 'broadcast' as const, participantId: 'bob', conversationId: 'B1', toAddress: 'bob@x', subject: 's', messageIdHeader: `<${id}@p>`, messageIds: [], upTo: 0, heldSeqs: [], summarizedSeqs: [], raw: 'r', createdAt: 10 });
      const web = { id: 'n1', participantId: 'bob', definitionId: null, eventId: null, broadcastId: 'B1', subject: 's', body: 'b', itemId: null, appointmentId: null, createdAt: 10, seenAt: null };
      await store.commitBroadcast({ id: 'B1', subject: 's', recipients: 2, skipped: 1, createdAt: 10, outbox: [email('BE1'), email('BE2')], notifications: [web] });
      await expect(peer!.commitBroadcast({ id: 'B1', subject: 's', recipients: 1, skipped: 0, createdAt: 11, outbox: [email('BE3')], notifications: [] })).rejects.toMatchObject({ code: 'conflict' });
      await peer!.markEmail('BE1', { status: 'sent', at: 20 });
      expect(await store.getBroadcast('B1')).toEqual({ id: 'B1', recipients: 2, queued: 1, sent: 1, failed: 0, skipped: 1 });
      expect((await store.listNotifications('bob', undefined, 10)).notifications.map((n) => n.broadcastId)).toEqual(['B1']);
      expect(await store.getBroadcast('nope')).toBeNull();

      // Appointments: a reminder fires once across hubs; moving it makes it pending again.
      await store.putCalendar({ id: 'cal', name: 'Team', color: null, groupId: 'g' });
      const appointment = { id: 'A1', calendarId: 'cal', title: 't', description: null, location: null, startAt: 100, endAt: 200, allDay: false, recurring: false, resourceIds: ['r1'], reminderAt: 50 };
      await store.putAppointment(appointment);
      const fired = await Promise.all([...hubs, ...hubs].map((h) => h.markReminded('A1', 50, 60)));
      expect(fired.filter(Boolean)).toHaveLength(1);
      await peer!.putAppointment({ ...appointment, title: 'renamed' });
      expect((await store.loadAppointments()).appointments[0]).toMatchObject({ title: 'renamed', reminderAt: 50, remindedAt: 60 });
      await peer!.putAppointment({ ...appointment, reminderAt: 70 });
      expect((await store.loadAppointments()).appointments[0]).toMatchObject({ reminderAt: 70, remindedAt: null, allDay: false, resourceIds: ['r1'] });
      expect((await store.loadAppointments()).calendars).toEqual([{ id: 'cal', name: 'Team', color: null, groupId: 'g' }]);
      expect(await store.deleteAppointment('A1')).toBe(true);
      expect(await peer!.deleteAppointment('A1')).toBe(false);

      // Templates: last writer wins; a prefix is a prefix, not a pattern.
      await store.putTemplate('escalation.de', { subject: 'a' }, 1);
      await peer!.putTemplate('escalation.de', { subject: 'b' }, 2);
      await store.putTemplate('escalation%', { subject: 'c' }, 3);
      expect(await store.getTemplate('escalation.de')).toEqual({ kind: 'escalation.de', doc: { subject: 'b' }, updatedAt: 2 });
      expect((await peer!.listTemplates('escalation.')).map((t) => t.kind)).toEqual(['escalation.de']);
      expect((await peer!.listTemplates('escalation%')).map((t) => t.kind)).toEqual(['escalation%']);
      expect(await store.getTemplate('welcome')).toBeNull();
      await peer!.queueSystemEmail({ ...email('S1'), kind: 'notification', conversationId: '' });
      expect((await store.claimDue(1_000, 1, 1_000)).map((r) => [r.id, r.kind])).toEqual([['S1', 'system']]);
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
