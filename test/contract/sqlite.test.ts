import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../server/adapters/sqlite/sqlite-store.js';
import type { Logger } from '../../server/core/ports/index.js';
import { describeDirectoryStore } from './directory-store.contract.js';
import type { OpenedStore } from './factory.js';
import { describeMessageStore } from './message-store.contract.js';
import { describeNotificationStore } from './notification-store.contract.js';
import { describeOutboxStore } from './outbox-store.contract.js';
import { describeWatermarkStore } from './watermark-store.contract.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };

/** A SqliteStore on a fresh temp dir. One writer per file: no peer. */
async function sqlite(): Promise<OpenedStore<SqliteStore>> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-contract-'));
  const store = new SqliteStore({ file: join(dir, 'parley.db'), logger: quiet });
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeDirectoryStore('SqliteStore', sqlite);
describeMessageStore('SqliteStore', sqlite);
describeWatermarkStore('SqliteStore', sqlite);
describeOutboxStore('SqliteStore', sqlite);
describeNotificationStore('SqliteStore', sqlite);
