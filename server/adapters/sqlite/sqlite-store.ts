import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { and, asc, eq, gte, lte, sql } from 'drizzle-orm';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtocolError, type CustomerPreferences, type Message, type UserPreferences } from '../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, NewMessage, ParticipantRecord, ProjectRecord } from '../../core/model.js';
import type {
  AppendResult,
  DirectorySnapshot,
  EmailRow,
  EmailSummary,
  HistoryPage,
  HistoryQuery,
  Logger,
  Metrics,
  NewEmailRow,
  ReceiptTimes,
  Store,
  WatermarkRow,
} from '../../core/ports/index.js';
import { Checkpointer } from './checkpointer.js';
import { messageId } from './message-id.js';
import * as schema from './schema.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:'. */
  file: string;
  logger: Logger;
  metrics?: Pick<Metrics, 'commitBatch'>;
}

interface QueuedOp {
  run: () => unknown;
  resolve: (v: never) => void;
  reject: (e: unknown) => void;
}

interface PendingRise {
  kind: 'delivered' | 'seen';
  participantId: string;
  conversationId: string;
  upTo: number;
  /** Time of the first rise folded into this one: what the log records. */
  at: number;
  waiters: Array<(rose: boolean) => void>;
}

/**
 * Delivered rises are written behind, coalesced per (participant, conversation) over this window: a
 * busy conversation costs one watermark write per recipient per window, not one per message. A
 * crash loses at most this much delivery information (never a message, a seen or an email), and a
 * receipt's deliveredAt is exact for a recipient who was online, within this window otherwise.
 */
export const DELIVERED_WINDOW_MS = 250;
/** Delivered rises written per commit once their window is over. */
const DELIVERED_PER_COMMIT = 256;

type MessageRow = {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  sender_kind: Message['senderKind'];
  body: string;
  format: Message['format'];
  client_msg_id: string;
  source: Message['source'];
  created_at: number;
};

/** The shortest time between two commits (see schedule()). */
const COMMIT_INTERVAL_MS = 2;
/** Time from a commit to the checkpoint cycle that copies it (see checkpointCycle). */
const CHECKPOINT_INTERVAL_MS = 250;
/** Concurrent checkpoint passes at most per cycle before the held one. */
const CHECKPOINT_MAX_PASSES = 4;
/** A pass that found at most this many new frames is the last concurrent one. */
const CHECKPOINT_HOLD_FRAMES = 64;
/** What a WAL file is cut back to when it starts over. */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;
/** Rows per multi-row watermark upsert. */
const RISE_CHUNK = 64;
const MESSAGE_COLUMNS = 'id, conversation_id, seq, sender_id, sender_kind, body, format, client_msg_id, source, created_at';

function toMessage(r: MessageRow): Message {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    seq: r.seq,
    senderId: r.sender_id,
    senderKind: r.sender_kind,
    body: r.body,
    format: r.format,
    createdAt: r.created_at,
    clientMsgId: r.client_msg_id,
    source: r.source,
  };
}

/** Find migrations/sqlite by walking up from this file (works from the sources and from dist/). */
function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'migrations', 'sqlite');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('migrations/sqlite not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/**
 * The Store on SQLite: WAL, one writer, group commit. Hot-path statements are prepared once on the
 * raw driver; drizzle serves the schema, migrations and the cold paths.
 */
export class SqliteStore implements Store {
  private readonly sqlite: Database.Database;
  private readonly db: BetterSQLite3Database<typeof schema>;
  private readonly log: Logger;
  private readonly metrics: SqliteStoreOptions['metrics'];
  private ops: QueuedOp[] = [];
  private rises = new Map<string, PendingRise>();
  /** Delivered rises waiting for their window, by conversation then participant (existing ids as keys: no key to build). */
  private delivered = new Map<string, Map<string, PendingRise>>();
  private deliveredTimer: NodeJS.Timeout | null = null;
  private deliveredDue = false;
  private flushScheduled = false;
  private closed = false;
  /** Last committed seq per conversation: single writer, so memory is the truth after the first read. */
  private readonly lastSeq = new Map<string, number>();
  private readonly stmt;
  private readonly checkpointer: Checkpointer | null = null;

  constructor(opts: SqliteStoreOptions) {
    this.log = opts.logger;
    this.metrics = opts.metrics;
    this.sqlite = new Database(opts.file);
    // 4 KiB pages. Each message dirties a leaf of each per-conversation index, and the hub's commits
    // are small (tens of messages across as many conversations), so a commit writes about as many
    // pages whatever their size, and bytes (WAL writes, checksums, checkpoint copies) follow the page
    // size. Measured at 30,000 deliveries/s: p99 33–46 ms with 4 KiB, 52–82 ms with 16 KiB, CPU −10 %.
    // Bigger pages win only for huge batches (bench:store: 16 KiB +15 %). Takes effect on a new
    // database only; an existing one keeps its page size.
    this.sqlite.pragma('page_size = 4096');
    this.sqlite.pragma('journal_mode = WAL');
    this.sqlite.pragma('synchronous = NORMAL');
    this.sqlite.pragma('foreign_keys = ON');
    this.sqlite.pragma('busy_timeout = 5000');
    // A 64 MiB page cache keeps the hot B-tree pages (recent messages, watermarks) in memory; reads
    // past it come from the OS page cache through mmap rather than read() calls (+10 % in bench:store
    // once the database outgrows the cache).
    this.sqlite.pragma('cache_size = -65536');
    this.sqlite.pragma('mmap_size = 1073741824');
    this.sqlite.pragma('temp_store = MEMORY');
    this.db = drizzle(this.sqlite, { schema });
    this.migrate();
    if (opts.file !== ':memory:') {
      // Checkpoints run on a worker thread (see checkpointCycle), not inside our commits. A WAL that
      // once grew past the limit is cut back to it when it starts over.
      this.sqlite.pragma('wal_autocheckpoint = 0');
      this.sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      this.checkpointer = new Checkpointer(opts.file);
    }
    const s = this.sqlite;
    this.stmt = {
      insertMessage: s.prepare(
        `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (conversation_id, sender_id, client_msg_id) DO NOTHING`,
      ),
      findByClientId: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND sender_id = ? AND client_msg_id = ?`),
      lastSeq: s.prepare('SELECT max(seq) FROM messages WHERE conversation_id = ?').pluck(),
      joinMember: s.prepare('INSERT INTO conversation_members (conversation_id, participant_id, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      getMessage: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`),
      latest: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq >= ? ORDER BY seq DESC LIMIT ?`),
      before: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq < ? AND seq >= ? ORDER BY seq DESC LIMIT ?`),
      firstSeqAt: s
        .prepare(
          `SELECT coalesce(min(seq), (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE conversation_id = @c))
           FROM messages WHERE conversation_id = @c AND created_at >= @at`,
        )
        .pluck(),
      after: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`),
      watermark: s.prepare(
        'SELECT participant_id, conversation_id, delivered_up_to, seen_up_to, emailed_up_to FROM watermarks WHERE participant_id = ? AND conversation_id = ?',
      ),
      casEmailed: s.prepare(
        `UPDATE watermarks SET emailed_up_to = ?, emailed_at = ?, email_id = ?
         WHERE participant_id = ? AND conversation_id = ? AND emailed_up_to = ? AND seen_up_to = ?`,
      ),
      insertEmailed: s.prepare(
        `INSERT INTO watermarks (participant_id, conversation_id, emailed_up_to, emailed_at, email_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (participant_id, conversation_id) DO NOTHING`,
      ),
      logEmailed: s.prepare(
        "INSERT OR IGNORE INTO watermark_rises (conversation_id, up_to, participant_id, kind, at, email_id, held_seqs, summarized_seqs) VALUES (?, ?, ?, 'emailed', ?, ?, ?, ?)",
      ),
      threadIds: s.prepare('SELECT message_id_header FROM emails WHERE conversation_id = ? AND participant_id = ? ORDER BY created_at DESC LIMIT ?').pluck(),
      nextAttempt: s.prepare("SELECT min(next_attempt_at) FROM emails WHERE status = 'queued'").pluck(),
      emailRaw: s.prepare('SELECT raw FROM emails WHERE id = ?').pluck(),
      pruneEmails: s.prepare("DELETE FROM emails WHERE created_at < ? AND status <> 'queued'"),
      countUnseen: s.prepare('SELECT count(*) FROM messages WHERE conversation_id = ? AND seq > ? AND sender_id <> ?').pluck(),
      // SQLite's bare-column rule: the other columns come from the row holding the minimum. That is
      // the earliest rise of delivered and seen, and the lowest emailed one: the one email whose
      // range (previous watermark, up_to] can hold the message (emailed rises only go up).
      receiptTimes: s.prepare(
        `SELECT participant_id, kind, min(CASE kind WHEN 'emailed' THEN up_to ELSE at END) AS first, at, email_id, held_seqs, summarized_seqs
         FROM watermark_rises WHERE conversation_id = ? AND up_to >= ? GROUP BY participant_id, kind`,
      ),
    };
  }

  private migrate(): void {
    const folder = migrationsDir();
    const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ when: number; tag: string }> };
    const newestKnown = Math.max(...journal.entries.map((e) => e.when));
    const hasTable = this.sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
    if (hasTable) {
      const applied = this.sqlite.prepare('SELECT max(created_at) FROM __drizzle_migrations').pluck().get() as number | null;
      if (applied !== null && applied > newestKnown) {
        throw new Error(
          `The database was migrated by a newer Parley (migration of ${new Date(applied).toISOString()}, this build knows up to ` +
            `${new Date(newestKnown).toISOString()}). Upgrade Parley or point PARLEY_DATA_DIR at another directory.`,
        );
      }
    }
    migrate(this.db, { migrationsFolder: folder });
  }

  isReady(): boolean {
    return !this.closed && this.sqlite.open;
  }

  // ─── Group commit ────────────────────────────────────────────────────────────────────────────────

  private enqueue<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new ProtocolError('unavailable', 'storage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.ops.push({ run, resolve: resolve as (v: never) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushScheduled || this.holdingCommits) return;
    this.flushScheduled = true;
    // Under load, commits at most every COMMIT_INTERVAL_MS: every commit writes the B-tree pages it
    // touched, so ten messages in one commit cost far less than ten commits. An idle store commits
    // on the next turn.
    const wait = this.lastFlushAt + COMMIT_INTERVAL_MS - performance.now();
    if (wait <= 0) setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), wait);
  }
  private lastFlushAt = -Infinity;

  // ─── Checkpoints ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Copy the WAL into the database and let it start over, so that it stays small under any load.
   * SQLite starts a WAL over only when a write begins after every frame was checkpointed; a
   * checkpoint running beside a steady stream of commits never gets there, and the WAL would grow
   * without bound (a gigabyte in half a minute at 3,000 messages/s). So a cycle is a few checkpoints
   * on the worker: the first copies the bulk while commits go on, each next one what arrived during
   * the one before; once that is little, a last one copies the rest while new commits wait (writes
   * queue, the event loop runs on; a millisecond or two), and the next commit starts the WAL over.
   */
  private async checkpointCycle(): Promise<void> {
    const cp = this.checkpointer;
    if (!cp || this.closing) return;
    try {
      // Copy alongside the commits until a pass finds little new (each pass copies what arrived
      // during the one before, and copying is far faster than writing), so that the held pass is short.
      let before = this.commits;
      let last = await cp.checkpoint();
      for (let pass = 1; pass < CHECKPOINT_MAX_PASSES && this.commits !== before && !this.closing; pass++) {
        before = this.commits;
        const r = await cp.checkpoint();
        const copied = r.log - last.log;
        last = r;
        if (copied <= CHECKPOINT_HOLD_FRAMES) break;
      }
      if (this.commits !== before && !this.closing) {
        this.holdingCommits = true;
        try {
          await cp.checkpoint();
        } finally {
          this.holdingCommits = false;
          if (this.ops.length || this.rises.size || this.deliveredDue) this.schedule();
        }
      }
    } catch (error) {
      if (!this.closing) this.log.warn('checkpoint failed', { error: String(error) });
    }
    // The next commit arms the next cycle; an idle store has nothing to copy.
    this.checkpointArmed = false;
  }
  private armCheckpoint(): void {
    if (this.checkpointArmed || !this.checkpointer || this.closing) return;
    this.checkpointArmed = true;
    setTimeout(() => void this.checkpointCycle(), CHECKPOINT_INTERVAL_MS).unref();
  }
  /** A cycle is due or running. */
  private checkpointArmed = false;
  /** Commits so far: a cycle compares it before and after its first checkpoint. */
  private commits = 0;
  /** While true, flush() waits: the checkpointer is copying the last frames (see checkpointCycle). */
  private holdingCommits = false;

  /** Commit every queued write in one transaction, then settle their promises in order. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.holdingCommits && !this.closing) return; // checkpointCycle() schedules again
    this.lastFlushAt = performance.now();
    const ops = this.ops;
    const rises = this.rises;
    let delivered: PendingRise[] | null = null;
    if (this.deliveredDue || this.closing) {
      // A window's rises go out about DELIVERED_PER_COMMIT at a time (whole conversations), oldest
      // first, one commit per event-loop turn: writing thousands at once would stall every ack.
      const take = this.closing ? Infinity : DELIVERED_PER_COMMIT;
      delivered = [];
      for (const [c, byParticipant] of this.delivered) {
        if (delivered.length >= take) break;
        for (const r of byParticipant.values()) delivered.push(r);
        this.delivered.delete(c);
      }
      if (this.delivered.size === 0) this.deliveredDue = false;
      else setImmediate(() => this.schedule());
      if (delivered.length === 0) delivered = null;
    }
    if (ops.length === 0 && rises.size === 0 && !delivered) return;
    this.ops = [];
    this.rises = new Map();
    const started = process.hrtime.bigint();
    const results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = new Array(ops.length);
    const riseResults = new Map<PendingRise, boolean>();
    const seqBefore = new Map<string, number>();
    this.pendingSeq = seqBefore;
    try {
      this.sqlite.transaction(() => {
        for (let i = 0; i < ops.length; i++) {
          try {
            results[i] = { ok: true, value: ops[i]!.run() };
          } catch (error) {
            results[i] = { ok: false, error };
          }
        }
        if (delivered) this.applyDelivered(delivered);
        if (rises.size) this.applySeen([...rises.values()], riseResults);
      })();
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is stored.
      for (const [conv, seq] of seqBefore) this.lastSeq.set(conv, seq);
      this.pendingSeq = null;
      this.log.error('commit failed', { error: String(error), writes: ops.length });
      const failure = new ProtocolError('unavailable', 'storage is unavailable');
      for (const op of ops) op.reject(failure);
      for (const r of rises.values()) for (const w of r.waiters) w(false);
      return;
    }
    this.pendingSeq = null;
    this.commits++;
    this.armCheckpoint();
    this.metrics?.commitBatch(ops.length + rises.size + (delivered?.length ?? 0), Number(process.hrtime.bigint() - started) / 1e9);
    for (let i = 0; i < ops.length; i++) {
      const r = results[i]!;
      if (r.ok) ops[i]!.resolve(r.value as never);
      else ops[i]!.reject(r.error);
    }
    for (const [r, rose] of riseResults) for (const w of r.waiters) w(rose);
  }

  /** Seqs as they were before this batch touched them, to restore if the commit fails. */
  private pendingSeq: Map<string, number> | null = null;

  private nextSeq(conversationId: string): number {
    let last = this.lastSeq.get(conversationId);
    if (last === undefined) {
      last = (this.stmt.lastSeq.get(conversationId) as number | undefined) ?? 0;
    }
    if (this.pendingSeq && !this.pendingSeq.has(conversationId)) this.pendingSeq.set(conversationId, last);
    return last + 1;
  }

  /**
   * Write seen rises as multi-row upserts (RISE_CHUNK rows a statement): the WHERE keeps a watermark
   * from ever falling, RETURNING says which rows rose (their waiters learn it), and those rises go to
   * the log in one insert.
   */
  private applySeen(rows: PendingRise[], rose: Map<PendingRise, boolean>): void {
    for (let i = 0; i < rows.length; i += RISE_CHUNK) {
      const chunk = rows.slice(i, i + RISE_CHUNK);
      const params: Array<string | number> = [];
      for (const r of chunk) params.push(r.participantId, r.conversationId, r.upTo, r.at);
      const returned = this.chunkStatement('seen', chunk.length).all(...params) as Array<{ participant_id: string; conversation_id: string }>;
      if (returned.length === 0) {
        for (const r of chunk) rose.set(r, false);
        continue;
      }
      const keys = new Set(returned.map((x) => `${x.participant_id}\u0000${x.conversation_id}`));
      const log: Array<string | number> = [];
      for (const r of chunk) {
        const up = keys.has(`${r.participantId}\u0000${r.conversationId}`);
        rose.set(r, up);
        if (up) log.push(r.conversationId, r.upTo, r.participantId, r.at);
      }
      this.chunkStatement('logSeen', log.length / 4).run(...log);
    }
  }

  /**
   * Write delivered rises: the upsert's WHERE keeps each watermark from falling, and every rise goes
   * to the log, even one the watermark had already passed (through a seen rise, say): its time is
   * then a later candidate for min(at) in receiptTimes and changes nothing. No RETURNING needed.
   */
  private applyDelivered(rows: PendingRise[]): void {
    for (let i = 0; i < rows.length; i += RISE_CHUNK) {
      const chunk = rows.slice(i, i + RISE_CHUNK);
      const marks: Array<string | number> = [];
      const log: Array<string | number> = [];
      for (const r of chunk) {
        marks.push(r.participantId, r.conversationId, r.upTo, r.at);
        log.push(r.conversationId, r.upTo, r.participantId, r.at);
      }
      this.chunkStatement('delivered', chunk.length).run(...marks);
      this.chunkStatement('logDelivered', chunk.length).run(...log);
    }
  }

  private readonly chunkStatements = new Map<string, Database.Statement>();
  /** Multi-row statements, prepared once per (kind, row count). */
  private chunkStatement(kind: 'delivered' | 'seen' | 'logDelivered' | 'logSeen', rows: number): Database.Statement {
    const key = `${kind}${rows}`;
    let st = this.chunkStatements.get(key);
    if (st) return st;
    const values = (tuple: string) => Array.from({ length: rows }, () => tuple).join(', ');
    let sql: string;
    if (kind === 'logDelivered' || kind === 'logSeen') {
      const k = kind === 'logDelivered' ? 'delivered' : 'seen';
      sql = `INSERT OR IGNORE INTO watermark_rises (conversation_id, up_to, participant_id, at, kind) VALUES ${values(`(?, ?, ?, ?, '${k}')`)}`;
    } else if (kind === 'delivered') {
      sql = `INSERT INTO watermarks (participant_id, conversation_id, delivered_up_to, delivered_at) VALUES ${values('(?, ?, ?, ?)')}
        ON CONFLICT (participant_id, conversation_id) DO UPDATE SET delivered_up_to = excluded.delivered_up_to, delivered_at = excluded.delivered_at
        WHERE excluded.delivered_up_to > watermarks.delivered_up_to`;
    } else {
      // Seeing implies delivery: a seen rise lifts delivered with it.
      sql = `INSERT INTO watermarks (participant_id, conversation_id, seen_up_to, seen_at) VALUES ${values('(?, ?, ?, ?)')}
        ON CONFLICT (participant_id, conversation_id) DO UPDATE SET
          seen_up_to = excluded.seen_up_to, seen_at = excluded.seen_at,
          delivered_up_to = max(watermarks.delivered_up_to, excluded.seen_up_to),
          delivered_at = CASE WHEN excluded.seen_up_to > watermarks.delivered_up_to THEN excluded.seen_at ELSE watermarks.delivered_at END
        WHERE excluded.seen_up_to > watermarks.seen_up_to
        RETURNING participant_id, conversation_id`;
    }
    st = this.sqlite.prepare(sql);
    this.chunkStatements.set(key, st);
    return st;
  }

  private queueSeen(participantId: string, conversationId: string, upTo: number, at: number): PendingRise {
    const key = `${participantId}\u0000${conversationId}`;
    let r = this.rises.get(key);
    if (!r) {
      r = { kind: 'seen', participantId, conversationId, upTo, at, waiters: [] };
      this.rises.set(key, r);
      this.schedule();
    } else if (upTo > r.upTo) {
      r.upTo = upTo;
    }
    return r;
  }

  // ─── Writes ──────────────────────────────────────────────────────────────────────────────────────

  appendMessage(m: NewMessage, joinAt?: number): Promise<AppendResult> {
    return this.enqueue(() => {
      if (joinAt !== undefined) this.stmt.joinMember.run(m.conversationId, m.senderId, joinAt);
      const seq = this.nextSeq(m.conversationId);
      const id = messageId(m.createdAt);
      const res = this.stmt.insertMessage.run(id, m.conversationId, seq, m.senderId, m.senderKind, m.body, m.format, m.clientMsgId, m.source, m.createdAt);
      if (res.changes === 0) {
        const first = this.stmt.findByClientId.get(m.conversationId, m.senderId, m.clientMsgId) as MessageRow;
        return { message: toMessage(first), duplicate: true };
      }
      this.lastSeq.set(m.conversationId, seq);
      const message: Message = {
        id,
        conversationId: m.conversationId,
        seq,
        senderId: m.senderId,
        senderKind: m.senderKind,
        body: m.body,
        format: m.format,
        createdAt: m.createdAt,
        clientMsgId: m.clientMsgId,
        source: m.source,
      };
      return { message, duplicate: false };
    });
  }

  recordDelivered(conversationId: string, participantIds: readonly string[], upTo: number, at: number): void {
    if (this.closed) return;
    let byParticipant = this.delivered.get(conversationId);
    if (!byParticipant) this.delivered.set(conversationId, (byParticipant = new Map()));
    for (const p of participantIds) {
      const r = byParticipant.get(p);
      if (r) {
        if (upTo > r.upTo) r.upTo = upTo;
        continue;
      }
      byParticipant.set(p, { kind: 'delivered', participantId: p, conversationId, upTo, at, waiters: [] });
    }
    if (!this.deliveredTimer && !this.deliveredDue) {
      this.deliveredTimer = setTimeout(() => {
        this.deliveredTimer = null;
        this.deliveredDue = true;
        this.schedule();
      }, DELIVERED_WINDOW_MS);
      this.deliveredTimer.unref();
    }
  }

  raiseSeen(participantId: string, conversationId: string, upTo: number, at: number): Promise<boolean> {
    if (this.closed) return Promise.reject(new ProtocolError('unavailable', 'storage is closed'));
    return new Promise((resolve) => this.queueSeen(participantId, conversationId, upTo, at).waiters.push(resolve));
  }

  insertParticipantIfAbsent(p: ParticipantRecord): Promise<ParticipantRecord> {
    return this.enqueue(() => {
      this.db.insert(schema.participants).values(participantRow(p)).onConflictDoNothing({ target: schema.participants.id }).run();
      const stored = this.db.select().from(schema.participants).where(eq(schema.participants.id, p.id)).get();
      return stored ? participantRecord(stored) : p;
    });
  }

  putParticipant(p: ParticipantRecord): Promise<void> {
    return this.enqueue(() => {
      const row = participantRow(p);
      this.db.insert(schema.participants).values(row).onConflictDoUpdate({ target: schema.participants.id, set: row }).run();
    });
  }

  putPreferences(participantId: string, preferences: UserPreferences | CustomerPreferences): Promise<void> {
    return this.enqueue(() => {
      this.db
        .update(schema.participants)
        .set({ preferences: preferences as unknown as Record<string, unknown>, updatedAt: Date.now() })
        .where(eq(schema.participants.id, participantId))
        .run();
    });
  }

  putProject(p: ProjectRecord): Promise<void> {
    return this.enqueue(() => {
      const row = { id: p.id, name: p.name, createdAt: p.createdAt };
      this.db.insert(schema.projects).values(row).onConflictDoUpdate({ target: schema.projects.id, set: { name: p.name } }).run();
      this.db.delete(schema.projectFollowers).where(eq(schema.projectFollowers.projectId, p.id)).run();
      for (const [participantId, since] of p.followers) {
        this.db.insert(schema.projectFollowers).values({ projectId: p.id, participantId, since }).run();
      }
    });
  }

  putItem(i: ItemRecord): Promise<void> {
    return this.enqueue(() => {
      const row = {
        id: i.id,
        kind: i.kind,
        title: i.title,
        projectId: i.projectId,
        number: i.number,
        status: i.status,
        priority: i.priority,
        queue: i.queue,
        customerId: i.customerId,
        customerSince: i.roleSince.customer,
        ownerId: i.ownerId,
        ownerSince: i.roleSince.owner,
        responsibleId: i.responsibleId,
        responsibleSince: i.roleSince.responsible,
        fields: i.fields,
        createdAt: i.createdAt,
      };
      this.db.insert(schema.items).values(row).onConflictDoUpdate({ target: schema.items.id, set: row }).run();
      this.db.delete(schema.itemFollowers).where(eq(schema.itemFollowers.itemId, i.id)).run();
      for (const [participantId, since] of i.followers) {
        this.db.insert(schema.itemFollowers).values({ itemId: i.id, participantId, since }).run();
      }
    });
  }

  createConversation(c: ConversationRecord): Promise<void> {
    return this.enqueue(() => {
      this.db
        .insert(schema.conversations)
        .values({ id: c.id, kind: c.kind, visibility: c.visibility, itemId: c.itemId, subject: c.subject, createdBy: c.createdBy, createdAt: c.createdAt })
        .run();
      for (const [participantId, since] of c.members) {
        this.db.insert(schema.conversationMembers).values({ conversationId: c.id, participantId, since }).run();
      }
      this.lastSeq.set(c.id, 0);
    });
  }

  // ─── Reads ───────────────────────────────────────────────────────────────────────────────────────

  async loadDirectory(): Promise<DirectorySnapshot> {
    const db = this.db;
    const projectFollowers = groupRelations(db.select().from(schema.projectFollowers).all(), (r) => r.projectId);
    const itemFollowers = groupRelations(db.select().from(schema.itemFollowers).all(), (r) => r.itemId);
    const members = groupRelations(db.select().from(schema.conversationMembers).all(), (r) => r.conversationId);
    // max(seq) per conversation walks the (conversation_id, seq) index; created_at comes from that row.
    const lastRows = this.sqlite
      .prepare('SELECT conversation_id, max(seq) AS seq, created_at AS at FROM messages GROUP BY conversation_id')
      .all() as Array<{ conversation_id: string; seq: number; at: number }>;
    const lastMessages = new Map(lastRows.map((r) => [r.conversation_id, r]));
    return {
      participants: db
        .select()
        .from(schema.participants)
        .all()
        .map(participantRecord),
      projects: db
        .select()
        .from(schema.projects)
        .all()
        .map((p) => ({ ...p, followers: projectFollowers.get(p.id) ?? new Map() })),
      items: db
        .select()
        .from(schema.items)
        .all()
        .map(({ customerSince, ownerSince, responsibleSince, ...i }) => ({
          ...i,
          followers: itemFollowers.get(i.id) ?? new Map(),
          roleSince: { customer: customerSince, owner: ownerSince, responsible: responsibleSince },
        })),
      conversations: db
        .select()
        .from(schema.conversations)
        .all()
        .map((c) => {
          const last = lastMessages.get(c.id);
          if (last) this.lastSeq.set(c.id, last.seq);
          return { ...c, members: members.get(c.id) ?? new Map(), lastSeq: last?.seq ?? 0, lastMessageAt: last?.at ?? null };
        }),
    };
  }

  async getMessage(id: string): Promise<Message | null> {
    const row = this.stmt.getMessage.get(id) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async listMessages(conversationId: string, q: HistoryQuery): Promise<HistoryPage> {
    const n = q.limit + 1;
    const from = q.fromSeq ?? 1;
    let rows: MessageRow[];
    if (q.after !== undefined) {
      rows = this.stmt.after.all(conversationId, Math.max(q.after, from - 1), n) as MessageRow[];
      const hasMore = rows.length > q.limit;
      return { messages: rows.slice(0, q.limit).map(toMessage), hasMore };
    }
    rows = (q.before !== undefined ? this.stmt.before.all(conversationId, q.before, from, n) : this.stmt.latest.all(conversationId, from, n)) as MessageRow[];
    const hasMore = rows.length > q.limit;
    return { messages: rows.slice(0, q.limit).reverse().map(toMessage), hasMore };
  }

  async getWatermarks(participantId: string, conversationIds: readonly string[]): Promise<Map<string, WatermarkRow>> {
    const out = new Map<string, WatermarkRow>();
    for (const c of conversationIds) {
      const r = this.stmt.watermark.get(participantId, c) as
        | { participant_id: string; conversation_id: string; delivered_up_to: number; seen_up_to: number; emailed_up_to: number }
        | undefined;
      if (r) {
        out.set(c, {
          participantId: r.participant_id,
          conversationId: r.conversation_id,
          deliveredUpTo: r.delivered_up_to,
          seenUpTo: r.seen_up_to,
          emailedUpTo: r.emailed_up_to,
        });
      }
    }
    return out;
  }

  async firstSeqAt(conversationId: string, at: number): Promise<number> {
    return this.stmt.firstSeqAt.get({ c: conversationId, at }) as number;
  }

  async countUnseen(conversationId: string, participantId: string, afterSeq: number): Promise<number> {
    return this.stmt.countUnseen.get(conversationId, afterSeq, participantId) as number;
  }

  async receiptTimes(m: Pick<Message, 'conversationId' | 'seq' | 'createdAt'>): Promise<Map<string, ReceiptTimes>> {
    const rows = this.stmt.receiptTimes.all(m.conversationId, m.seq) as Array<{
      participant_id: string;
      kind: string;
      at: number;
      email_id: string | null;
      held_seqs: string | null;
      summarized_seqs: string | null;
    }>;
    const out = new Map<string, ReceiptTimes>();
    for (const r of rows) {
      let t = out.get(r.participant_id);
      if (!t) {
        t = { participantId: r.participant_id, deliveredAt: null, seenAt: null, emailedAt: null, emailId: null, emailed: null };
        out.set(r.participant_id, t);
      }
      if (r.kind === 'seen') {
        t.seenAt = r.at;
        // Seeing implies delivery.
        if (t.deliveredAt === null || r.at < t.deliveredAt) t.deliveredAt = r.at;
      } else if (r.kind === 'delivered') {
        // A coalesced rise records its window's first time; no message is delivered before it exists.
        const at = Math.max(r.at, m.createdAt);
        if (t.deliveredAt === null || at < t.deliveredAt) t.deliveredAt = at;
      } else if (r.kind === 'emailed') {
        // Before migration 0004 a rise did not say what its email held: it covers the message.
        const emailed =
          r.held_seqs === null ? 'covered' : inRuns(r.held_seqs, m.seq) ? 'held' : r.summarized_seqs !== null && inRuns(r.summarized_seqs, m.seq) ? 'summarized' : null;
        if (emailed) {
          t.emailed = emailed;
          t.emailedAt = r.at;
          t.emailId = r.email_id;
        }
      }
    }
    // Delivered rises still waiting for their write-behind window count already.
    for (const r of this.delivered.get(m.conversationId)?.values() ?? []) {
      if (r.upTo < m.seq) continue;
      let t = out.get(r.participantId);
      if (!t) out.set(r.participantId, (t = { participantId: r.participantId, deliveredAt: null, seenAt: null, emailedAt: null, emailId: null, emailed: null }));
      const at = Math.max(r.at, m.createdAt);
      if (t.deliveredAt === null || at < t.deliveredAt) t.deliveredAt = at;
    }
    return out;
  }

  private closing = false;

  // ─── Escalation and the outbox ─────────────────────────────────────────────────────────────────

  commitEscalation(row: NewEmailRow, expect: { seenUpTo: number; emailedUpTo: number }): Promise<boolean> {
    return this.enqueue(() => {
      const s = this.stmt;
      // Compare-and-set: the watermarks must be exactly what the caller read (a missing row reads as 0, 0).
      const updated = s.casEmailed.run(row.upTo, row.createdAt, row.id, row.participantId, row.conversationId, expect.emailedUpTo, expect.seenUpTo);
      if (updated.changes === 0) {
        if (expect.emailedUpTo !== 0 || expect.seenUpTo !== 0) return false;
        const inserted = s.insertEmailed.run(row.participantId, row.conversationId, row.upTo, row.createdAt, row.id);
        if (inserted.changes === 0) return false;
      }
      const { heldSeqs, summarizedSeqs, ...email } = row;
      s.logEmailed.run(row.conversationId, row.upTo, row.participantId, row.createdAt, row.id, JSON.stringify(toRuns(heldSeqs)), JSON.stringify(toRuns(summarizedSeqs)));
      this.db
        .insert(schema.emails)
        .values({ ...email, status: 'queued', attempts: 0, nextAttemptAt: row.createdAt, sentAt: null, error: null })
        .run();
      return true;
    });
  }

  async threadMessageIds(conversationId: string, participantId: string, limit: number): Promise<string[]> {
    const rows = this.stmt.threadIds.all(conversationId, participantId, limit) as string[];
    return rows.reverse();
  }

  async dueEmails(now: number, limit: number): Promise<EmailRow[]> {
    const rows = this.db
      .select()
      .from(schema.emails)
      .where(and(eq(schema.emails.status, 'queued'), lte(schema.emails.nextAttemptAt, now)))
      .orderBy(asc(schema.emails.nextAttemptAt), asc(schema.emails.createdAt))
      .limit(limit)
      .all();
    return rows.map((r) => ({ ...toEmailSummary(r), raw: r.raw, messageIdHeader: r.messageIdHeader, nextAttemptAt: r.nextAttemptAt }));
  }

  async nextEmailAttemptAt(): Promise<number | null> {
    return (this.stmt.nextAttempt.get() as number | null) ?? null;
  }

  markEmail(id: string, outcome: { status: 'sent'; at: number } | { status: 'queued'; nextAttemptAt: number; error: string } | { status: 'failed'; error: string }): Promise<void> {
    return this.enqueue(() => {
      const e = schema.emails;
      const set =
        outcome.status === 'sent'
          ? { status: 'sent' as const, sentAt: outcome.at, error: null, attempts: sql`${e.attempts} + 1` }
          : outcome.status === 'queued'
            ? { status: 'queued' as const, nextAttemptAt: outcome.nextAttemptAt, error: outcome.error, attempts: sql`${e.attempts} + 1` }
            : { status: 'failed' as const, error: outcome.error, attempts: sql`${e.attempts} + 1` };
      this.db.update(e).set(set).where(eq(e.id, id)).run();
    });
  }

  async listEmails(since: number, limit: number): Promise<EmailSummary[]> {
    const e = schema.emails;
    const rows = this.db
      .select({
        id: e.id,
        toAddress: e.toAddress,
        subject: e.subject,
        kind: e.kind,
        status: e.status,
        attempts: e.attempts,
        createdAt: e.createdAt,
        sentAt: e.sentAt,
        error: e.error,
        participantId: e.participantId,
        conversationId: e.conversationId,
        messageIds: e.messageIds,
      })
      .from(e)
      .where(gte(e.createdAt, since))
      .orderBy(asc(e.createdAt), asc(e.id))
      .limit(limit)
      .all();
    return rows.map(toEmailSummary);
  }

  async getEmailRaw(id: string): Promise<string | null> {
    return (this.stmt.emailRaw.get(id) as string | undefined) ?? null;
  }

  pruneEmails(before: number): Promise<number> {
    return this.enqueue(() => this.stmt.pruneEmails.run(before).changes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    if (this.deliveredTimer) clearTimeout(this.deliveredTimer);
    this.flush();
    this.closed = true;
    await this.checkpointer?.stop();
    this.sqlite.close();
  }
}

/**
 * Ascending seqs as runs `[[from, to], …]` (the held_seqs / summarized_seqs columns): an email's seqs
 * are mostly consecutive, so a thousand summarized messages take a few bytes, not a list.
 */
export function toRuns(seqs: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const q of seqs) {
    const last = runs.at(-1);
    if (last && q === last[1] + 1) last[1] = q;
    else runs.push([q, q]);
  }
  return runs;
}

/** Whether `seq` lies in one of the runs of a held_seqs / summarized_seqs column. */
export function inRuns(json: string, seq: number): boolean {
  const runs = JSON.parse(json) as Array<[number, number]>;
  return runs.some(([from, to]) => seq >= from && seq <= to);
}

/** A row of `emails` (the raw MIME left out) as the API shows it: `toAddress` is `to`. */
function toEmailSummary(r: Omit<EmailSummary, 'to'> & { toAddress: string }): EmailSummary {
  return {
    id: r.id,
    to: r.toAddress,
    subject: r.subject,
    kind: r.kind,
    status: r.status,
    attempts: r.attempts,
    createdAt: r.createdAt,
    sentAt: r.sentAt,
    error: r.error,
    participantId: r.participantId,
    conversationId: r.conversationId,
    messageIds: r.messageIds,
  };
}

function participantRow(p: ParticipantRecord): typeof schema.participants.$inferInsert {
  return {
    id: p.id,
    kind: p.kind,
    name: p.name,
    email: p.email,
    locale: p.locale,
    timezone: p.timezone,
    groups: p.groups,
    roles: p.roles,
    outOfOffice: p.outOfOffice,
    disabled: p.disabled,
    enabledAt: p.enabledAt,
    preferences: p.preferences as unknown as Record<string, unknown>,
    createdAt: p.createdAt,
    updatedAt: Date.now(),
  };
}

function participantRecord({ updatedAt: _updatedAt, preferences, ...p }: typeof schema.participants.$inferSelect): ParticipantRecord {
  return { ...p, preferences: preferences as unknown as ParticipantRecord['preferences'] };
}

function groupRelations<R extends { participantId: string; since: number }>(rows: R[], key: (r: R) => string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const k = key(r);
    let m = out.get(k);
    if (!m) out.set(k, (m = new Map()));
    m.set(r.participantId, r.since);
  }
  return out;
}
