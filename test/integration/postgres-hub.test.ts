import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { freshPostgresDatabase, postgresUrl, TcpRelay } from '../support/services.js';
import { until } from '../support/until.js';

/**
 * The real hub (the `npm start` entry) with PARLEY_DATABASE_URL: its store is PostgreSQL, not SQLite
 * in the data dir. hello, send (with a repeat), history, and a restart that keeps every message; and
 * while PostgreSQL is unreachable, /readyz is 503 and a send gets `unavailable`, never an ack, until it
 * is back (SPEC §9).
 */

const server = await postgresUrl();

type Msg = { id: string; seq: number; clientMsgId: string; body: string; senderId: string };

if (server) {
  describe('a hub on PostgreSQL', () => {
    let db: { url: string; drop(): Promise<void> };
    let hub: TestHub;

    beforeAll(async () => {
      db = await freshPostgresDatabase(server);
      hub = await TestHub.start({ env: { PARLEY_DATABASE_URL: db.url } });
    });
    afterAll(async () => {
      await hub?.stop();
      await db?.drop();
    });

    it('says hello, stores sends with seqs, answers history, and keeps it all across a restart', async () => {
      expect((await fetch(hub.url + '/readyz')).status).toBe(200);
      await hub.user('pg-alice');
      await hub.customer('pg-bob');
      const conv = await hub.ok<{ id: string }>('POST', '/v1/conversations', { kind: 'direct', createdBy: 'pg-alice', members: ['pg-bob'] });

      const alice = await hub.connect('pg-alice');
      const seqs: number[] = [];
      for (let i = 1; i <= 3; i++) {
        const ack = await alice.request({ t: 'send', conversationId: conv.id, clientMsgId: `pg-${i}`, body: `hello ${i}` }, 'ack');
        expect(ack).toMatchObject({ t: 'ack', duplicate: false });
        if (ack.t === 'ack') seqs.push(ack.seq);
      }
      expect(seqs).toEqual([1, 2, 3]);
      const repeat = await alice.request({ t: 'send', conversationId: conv.id, clientMsgId: 'pg-2', body: 'hello again' }, 'ack');
      expect(repeat).toMatchObject({ t: 'ack', duplicate: true, seq: 2 });

      const bob = await hub.connect('pg-bob');
      const history = await bob.request({ t: 'history', conversationId: conv.id }, 'history');
      expect(history.t === 'history' && history.messages.map((m) => [m.seq, m.body])).toEqual([
        [1, 'hello 1'],
        [2, 'hello 2'],
        [3, 'hello 3'],
      ]);

      // The messages are in PostgreSQL, and no SQLite database was made in the data dir.
      const check = new pg.Client({ connectionString: db.url });
      await check.connect();
      try {
        const rows = await check.query<{ client_msg_id: string }>('SELECT client_msg_id FROM messages ORDER BY seq');
        expect(rows.rows.map((r) => r.client_msg_id)).toEqual(['pg-1', 'pg-2', 'pg-3']);
      } finally {
        await check.end();
      }
      expect(existsSync(join(hub.dataDir, 'parley.db'))).toBe(false);

      // Restart: the directory, the conversation and its messages come back from PostgreSQL.
      expect(await hub.killWith('SIGTERM')).toBe(0);
      await hub.launch();
      const page = await hub.ok<{ messages: Msg[]; hasMore: boolean }>('GET', `/v1/conversations/${conv.id}/messages?after=0&limit=10`);
      expect(page.messages.map((m) => [m.seq, m.clientMsgId, m.senderId])).toEqual([
        [1, 'pg-1', 'pg-alice'],
        [2, 'pg-2', 'pg-alice'],
        [3, 'pg-3', 'pg-alice'],
      ]);
      const again = await hub.connect('pg-alice');
      const next = await again.request({ t: 'send', conversationId: conv.id, clientMsgId: 'pg-4', body: 'after the restart' }, 'ack');
      expect(next).toMatchObject({ t: 'ack', duplicate: false, seq: 4 });
      const bobAgain = await hub.connect('pg-bob');
      const after = await bobAgain.request({ t: 'history', conversationId: conv.id }, 'history');
      expect(after.t === 'history' && after.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    });
  });

  describe('a hub on PostgreSQL while PostgreSQL is unreachable', () => {
    let db: { url: string; drop(): Promise<void> };
    let relay: TcpRelay;
    let hub: TestHub;

    beforeAll(async () => {
      db = await freshPostgresDatabase(server);
      const target = new URL(db.url);
      relay = new TcpRelay({ host: target.hostname, port: Number(target.port || 5432) });
      await relay.start();
      const through = new URL(db.url);
      through.port = String(relay.port);
      hub = await TestHub.start({ env: { PARLEY_DATABASE_URL: through.href } });
    });
    afterAll(async () => {
      await hub?.stop();
      await relay?.cut();
      await db?.drop();
    });

    it('is not ready and answers a send with unavailable, then acks it once PostgreSQL is back', async () => {
      await hub.user('out-alice');
      await hub.user('out-bob');
      const conv = await hub.ok<{ id: string }>('POST', '/v1/conversations', { kind: 'direct', createdBy: 'out-alice', members: ['out-bob'] });
      const alice = await hub.connect('out-alice');
      expect(await alice.request({ t: 'send', conversationId: conv.id, clientMsgId: 'o-1', body: 'before' }, 'ack')).toMatchObject({ t: 'ack', seq: 1 });

      await relay.cut();
      const refused = await alice.request({ t: 'send', conversationId: conv.id, clientMsgId: 'o-2', body: 'during' }, 'ack');
      expect(refused).toMatchObject({ t: 'error', code: 'unavailable' });
      expect((await fetch(hub.url + '/readyz')).status).toBe(503);

      await relay.start();
      await until(async () => (await fetch(hub.url + '/readyz')).status === 200, '/readyz to be 200 again');
      // The refused send took no seq: sent again, it is stored once, next in line.
      expect(await alice.request({ t: 'send', conversationId: conv.id, clientMsgId: 'o-2', body: 'during' }, 'ack')).toMatchObject({ t: 'ack', seq: 2, duplicate: false });
      const page = await hub.ok<{ messages: Msg[] }>('GET', `/v1/conversations/${conv.id}/messages?after=0&limit=10`);
      expect(page.messages.map((m) => [m.seq, m.clientMsgId])).toEqual([
        [1, 'o-1'],
        [2, 'o-2'],
      ]);
    });
  });
} else {
  describe.skip('a hub on PostgreSQL: PostgreSQL not reachable', () => {
    it('says hello, sends, reads history and restarts on PostgreSQL', () => {});
  });
}
