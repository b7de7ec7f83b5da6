import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';
import { PostgresStore } from '../../server/adapters/postgres/postgres-store.js';
import type { Logger } from '../../server/core/ports/index.js';
import { postgresUrl } from '../support/services.js';
import { describeDirectoryStore } from './directory-store.contract.js';
import type { OpenedStore } from './factory.js';
import { describeMessageStore } from './message-store.contract.js';
import { describeNotificationStore } from './notification-store.contract.js';
import { describeOutboxStore } from './outbox-store.contract.js';
import { describeWatermarkStore } from './watermark-store.contract.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };

const url = await postgresUrl();

/**
 * A PostgresStore on a fresh database of its own (created here, dropped after), and a peer: a second
 * PostgresStore on the same database — a second hub — so the concurrency cases run two writers.
 */
async function postgres(): Promise<OpenedStore<PostgresStore>> {
  const admin = new pg.Client({ connectionString: url! });
  await admin.connect();
  const name = `parley_contract_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(url!);
  dbUrl.pathname = `/${name}`;
  // Both open at once: the advisory lock lets one migrate, the other finds it done.
  const [store, peer] = await Promise.all([PostgresStore.open({ url: dbUrl.href, logger: quiet }), PostgresStore.open({ url: dbUrl.href, logger: quiet })]);
  return {
    store,
    peer,
    close: async () => {
      await Promise.allSettled([store.close(), peer.close()]);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

if (url) {
  describeDirectoryStore('PostgresStore', postgres);
  describeMessageStore('PostgresStore', postgres);
  describeWatermarkStore('PostgresStore', postgres);
  describeOutboxStore('PostgresStore', postgres);
  describeNotificationStore('PostgresStore', postgres);
} else {
  describe.skip('PostgresStore contract: PostgreSQL not reachable', () => {
    it('runs every store contract on PostgreSQL', () => {});
  });
}
