import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { ProtocolError } from '../../../protocol/index.js';
import type { Logger, Metrics } from '../../core/ports/index.js';
import { Checkpointer } from './checkpointer.js';
import { applyMigrations } from './migrate.js';
import * as schema from './schema.js';

export interface SqliteEngineOptions {
  /** Path of the database file, or ':memory:'. */
  file: string;
  logger: Logger;
  metrics?: Pick<Metrics, 'commitBatch'> | undefined;
}

/**
 * Writes a repository keeps itself (coalesced, written behind) and hands to each commit. Called in
 * registration order; `write` runs inside the commit's transaction, after the queued operations.
 */
export interface CommitParticipant {
  /** Take what rides the next commit (`closing`: everything); resolves how many writes (0: none). */
  take?(closing: boolean): number;
  write?(): void;
  /** The commit succeeded: settle what was taken. */
  committed?(): void;
  /** The commit failed: nothing of it is stored (undo any memory of it). */
  failed?(): void;
  /** Writes are waiting for a commit. */
  pending?(): boolean;
  /** The engine is closing: stop timers (the closing commit takes everything next). */
  closing?(): void;
}

type OpResult = { ok: true; value: unknown } | { ok: false; error: unknown };

interface QueuedOp {
  run: () => unknown;
  resolve: (v: never) => void;
  reject: (e: unknown) => void;
}

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

/**
 * The SQLite engine under every repository: the connection (WAL, one writer: this process), the
 * migrations, group commit and the checkpoint cycle on a worker. Repositories prepare their
 * statements on `sqlite`, queue writes with `enqueue`, and hand coalesced writes to each commit as
 * a CommitParticipant.
 */
export class SqliteEngine {
  readonly sqlite: Database.Database;
  readonly db: BetterSQLite3Database<typeof schema>;
  private readonly log: Logger;
  private readonly metrics: SqliteEngineOptions['metrics'];
  private readonly participants: CommitParticipant[] = [];
  private ops: QueuedOp[] = [];
  private flushScheduled = false;
  private lastFlushAt = -Infinity;
  private closed = false;
  private closing = false;
  private readonly checkpointer: Checkpointer | null = null;
  /** A cycle is due or running. */
  private checkpointArmed = false;
  /** Commits so far: a cycle compares it before and after its first checkpoint. */
  private commits = 0;
  /** While true, flush() waits: the checkpointer is copying the last frames (see checkpointCycle). */
  private holdingCommits = false;
  /**
   * One group commit's transaction: every queued write (a throw is that write's own result), then the
   * participants' writes. Made once: better-sqlite3 builds a wrapper per `transaction()` call.
   */
  private readonly commitTx: (ops: QueuedOp[], results: OpResult[]) => void;

  constructor(opts: SqliteEngineOptions) {
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
    this.commitTx = this.sqlite.transaction((ops: QueuedOp[], results: OpResult[]) => {
      for (let i = 0; i < ops.length; i++) {
        try {
          results[i] = { ok: true, value: ops[i]!.run() };
        } catch (error) {
          results[i] = { ok: false, error };
        }
      }
      for (const p of this.participants) p.write?.();
    });
    applyMigrations(this.sqlite, this.db);
    if (opts.file !== ':memory:') {
      // Checkpoints run on a worker thread (see checkpointCycle), not inside our commits. A WAL that
      // once grew past the limit is cut back to it when it starts over.
      this.sqlite.pragma('wal_autocheckpoint = 0');
      this.sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
      this.checkpointer = new Checkpointer(opts.file);
    }
  }

  /** Join every commit from now on (see CommitParticipant). */
  join(p: CommitParticipant): void {
    this.participants.push(p);
  }

  isReady(): boolean {
    return !this.closed && this.sqlite.open;
  }

  /** Closed or closing: writes are refused. */
  get isClosed(): boolean {
    return this.closed;
  }

  // ─── Group commit ────────────────────────────────────────────────────────────────────────────────

  /**
   * Run `run` inside the next commit; resolves its result after that commit, in issue order. A throw
   * rejects this write alone; a failed commit rejects all of its writes with `unavailable`.
   */
  enqueue<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new ProtocolError('unavailable', 'storage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.ops.push({ run, resolve: resolve as (v: never) => void, reject });
      this.schedule();
    });
  }

  /** Ask for a commit soon (a participant has writes waiting). */
  schedule(): void {
    if (this.flushScheduled || this.holdingCommits) return;
    this.flushScheduled = true;
    // Under load, commits at most every COMMIT_INTERVAL_MS: every commit writes the B-tree pages it
    // touched, so ten messages in one commit cost far less than ten commits. An idle store commits
    // on the next turn.
    const wait = this.lastFlushAt + COMMIT_INTERVAL_MS - performance.now();
    if (wait <= 0) setImmediate(() => this.flush());
    else setTimeout(() => this.flush(), wait);
  }

  /** Commit every queued write in one transaction, then settle their promises in order. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.holdingCommits && !this.closing) return; // checkpointCycle() schedules again
    this.lastFlushAt = performance.now();
    const ops = this.ops;
    const parts = this.participants;
    let taken = 0;
    for (const p of parts) taken += p.take?.(this.closing) ?? 0;
    if (ops.length === 0 && taken === 0) return;
    this.ops = [];
    const started = process.hrtime.bigint();
    const results: OpResult[] = new Array(ops.length);
    try {
      this.commitTx(ops, results);
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is stored.
      for (const p of parts) p.failed?.();
      this.log.error('commit failed', { error: String(error), writes: ops.length });
      const failure = new ProtocolError('unavailable', 'storage is unavailable');
      for (const op of ops) op.reject(failure);
      return;
    }
    this.commits++;
    this.armCheckpoint();
    this.metrics?.commitBatch(ops.length + taken, Number(process.hrtime.bigint() - started) / 1e9);
    for (let i = 0; i < ops.length; i++) {
      const r = results[i]!;
      if (r.ok) ops[i]!.resolve(r.value as never);
      else ops[i]!.reject(r.error);
    }
    for (const p of parts) p.committed?.();
  }

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
          if (this.ops.length || this.participants.some((p) => p.pending?.())) this.schedule();
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

  /** Commit everything queued (participants give up everything they hold), then close. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    for (const p of this.participants) p.closing?.();
    this.flush();
    this.closed = true;
    await this.checkpointer?.stop();
    this.sqlite.close();
  }
}
