import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEngine } from '../../../../server/adapters/sqlite/engine.js';
import { SqliteMessages } from '../../../../server/adapters/sqlite/messages.js';
import { migrationsDir } from '../../../../server/adapters/sqlite/migrate.js';
import { SqliteStore } from '../../../../server/adapters/sqlite/sqlite-store.js';
import type { Logger } from '../../../../server/core/ports/index.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database as the release before migration 0015 left it: messages keyed by conversation_id. */
function before0015(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-keys-'));
  dirs.push(dir);
  const folder = join(dir, 'migrations');
  cpSync(migrationsDir(), folder, { recursive: true });
  const journalFile = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ idx: number }> };
  journal.entries = journal.entries.filter((e) => e.idx < 15);
  writeFileSync(journalFile, JSON.stringify(journal));
  const file = join(dir, 'parley.db');
  const sqlite = new Database(file);
  migrate(drizzle(sqlite), { migrationsFolder: folder });
  const conv = sqlite.prepare("INSERT INTO conversations (id, kind, visibility, created_at) VALUES (?, 'direct', 'internal', 1000)");
  const message = sqlite.prepare(
    `INSERT INTO messages (id, conversation_id, seq, sender_id, sender_kind, body, format, client_msg_id, source, created_at)
     VALUES (?, ?, ?, ?, 'user', ?, 'text', ?, 'ws', ?)`,
  );
  for (const c of ['C1', 'C2']) {
    conv.run(c);
    for (let seq = 1; seq <= 3; seq++) message.run(`${c}-${seq}`, c, seq, 'alice', `${c} body ${seq}`, `m${seq}`, 1000 + seq);
  }
  sqlite.close();
  return file;
}

const send = (conversationId: string, clientMsgId: string, body = 'new') =>
  ({ conversationId, senderId: 'alice', senderKind: 'user', body, format: 'text', clientMsgId, source: 'ws', createdAt: 5000 }) as const;

describe('SQLite migration 0015: integer conversation keys in the messages table', () => {
  it('keeps every message, its history order and its idempotency key, and new messages follow the old seqs', async () => {
    const file = before0015();
    const store = new SqliteStore({ file, logger: quiet });
    await store.loadDirectory();
    for (const c of ['C1', 'C2']) {
      const page = await store.listMessages(c, { limit: 10 });
      expect(page.messages.map((m) => [m.id, m.seq, m.body])).toEqual([1, 2, 3].map((seq) => [`${c}-${seq}`, seq, `${c} body ${seq}`]));
    }
    const again = await store.appendMessage(send('C2', 'm2'));
    expect(again).toMatchObject({ duplicate: true, message: { id: 'C2-2', seq: 2 } });
    const next = await store.appendMessage(send('C2', 'm4'));
    expect(next).toMatchObject({ duplicate: false, message: { seq: 4 } });
    expect((await store.listMessages('C2', { after: 2, limit: 10 })).messages.map((m) => m.seq)).toEqual([3, 4]);
    expect((await store.listMessages('C1', { limit: 10 })).messages.map((m) => m.seq)).toEqual([1, 2, 3]);
    await store.close();
  });

  it('gives a conversation its key with its first message, distinct from the migrated ones, and keeps it across a restart', async () => {
    const file = before0015();
    const store = new SqliteStore({ file, logger: quiet });
    await store.loadDirectory();
    await store.createConversation({ id: 'C3', kind: 'direct', visibility: 'internal', itemId: null, subject: null, createdBy: null, createdAt: 2000, members: new Map(), lastSeq: 0, lastMessageAt: null });
    expect(await store.listMessages('C3', { limit: 10 })).toEqual({ messages: [], hasMore: false });
    expect(await store.countUnseen('C3', 'bob', 0)).toBe(0);
    expect(await store.firstSeqAt('C3', 0)).toBe(1);
    expect((await store.appendMessage(send('C3', 'm1', 'first of C3'))).message.seq).toBe(1);
    await store.close();

    const reopened = new SqliteStore({ file, logger: quiet });
    await reopened.loadDirectory();
    expect((await reopened.appendMessage(send('C3', 'm1'))).duplicate).toBe(true);
    expect((await reopened.listMessages('C3', { limit: 10 })).messages.map((m) => m.body)).toEqual(['first of C3']);
    expect((await reopened.listMessages('C1', { limit: 10 })).messages.map((m) => m.conversationId)).toEqual(['C1', 'C1', 'C1']);
    expect(await reopened.countUnseen('C1', 'bob', 1)).toBe(2);
    const keys = new Database(file).prepare('SELECT conversation_id, key FROM conversation_keys ORDER BY key').all();
    expect(keys).toEqual([
      { conversation_id: 'C1', key: 1 },
      { conversation_id: 'C2', key: 2 },
      { conversation_id: 'C3', key: 3 },
    ]);
    await reopened.close();
  });

  it('forgets a key made by a commit that failed, so the next message of that conversation makes it again', async () => {
    const file = before0015();
    let failNext = true;
    const engine = new SqliteEngine({ file, logger: quiet });
    engine.join({
      write() {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
      },
    });
    const messages = new SqliteMessages(engine);
    await expect(messages.appendMessage(send('C9', 'm1', 'lost'))).rejects.toMatchObject({ code: 'unavailable' });
    expect((await messages.appendMessage(send('C9', 'm1', 'kept'))).message.seq).toBe(1);
    await engine.close();

    const reopened = new SqliteStore({ file, logger: quiet });
    expect((await reopened.listMessages('C9', { limit: 10 })).messages.map((m) => m.body)).toEqual(['kept']);
    await reopened.close();
  });
});
