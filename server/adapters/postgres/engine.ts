import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { ProtocolError } from '../../../protocol/index.js';
import type { Logger, Metrics } from '../../core/ports/index.js';
import { applyMigrations } from './migrate.js';
import * as schema from './schema.js';

export interface PgEngineOptions {
  /** `postgres://user@host:port/database` (PARLEY_DATABASE_URL). */
  url: string;
  logger: Logger;
  metrics?: Pick<Metrics, 'commitBatch'> | undefined;
  /** Connections at most (default 8): one commits, the others serve reads. */
  poolSize?: number | undefined;
}

export type Db = NodePgDatabase<typeof schema>;

/** The connection a commit runs on: raw statements (the hot paths) and drizzle (the cold ones). */
export interface Tx {
  /** Run one statement; rows as objects (int8 as numbers). `name` prepares it once per connection. */
  query<R>(text: string, values?: readonly unknown[], name?: string): Promise<R[]>;
  /** Rows changed by one statement. */
  run(text: string, values?: readonly unknown[], name?: string): Promise<number>;
  readonly db: Db;
}

/**
 * Writes a repository coalesces into one set of statements per commit (appends, seen rises). Items are
 * issued with `PgEngine.batch`; `run` gets every item of the commit in issue order and returns one result
 * per item (an Error rejects that item alone). `run` may be called again for the same items when the
 * transaction is retried (a deadlock between hubs), so it must leave no trace in memory.
 */
export interface Batcher<I, R> {
  /**
   * Batchers run in ascending `order` in every commit, whatever order their items arrived in, so the
   * row locks of one hub's commit are taken in the same order as another's (messages lock
   * conversations before watermarks are locked): two hubs' commits do not deadlock on them.
   */
  readonly order: number;
  run(tx: Tx, items: I[]): Promise<Array<R | Error>>;
  /**
   * A commit of this batcher's items and nothing else, in ONE statement outside BEGIN and COMMIT (the
   * statement is its own transaction: one round trip instead of four). Resolves null, having written
   * nothing, when the items need a transaction; a throw means the statement was rolled back (a
   * connection failure aside), and the engine commits the items again through `run`.
   */
  alone?(tx: Tx, items: I[]): Promise<Array<R | Error> | null>;
}

/**
 * Writes a repository keeps itself and hands to the engine without a promise (delivered rises): they
 * are written in a transaction of their own, on a connection of their own, beside the commits that
 * callers wait for (one such write-behind transaction at a time), so their row locks are never mixed
 * with those of the writes that callers wait for, and a caller's commit never waits for them.
 */
export interface CommitParticipant {
  /** Take what rides the next write-behind transaction (`closing`: everything); how many writes (0: none). */
  take(closing: boolean): number;
  /**
   * Write what was taken, atomically, in ONE statement (its own transaction: no BEGIN and COMMIT
   * around it); may run again when that transaction is retried.
   */
  write(tx: Tx): Promise<void>;
  /** The commit succeeded. */
  committed(): void;
  /** The commit failed: what was taken is lost (written behind: the contract allows it). */
  failed(): void;
  /** Writes are waiting for a commit. */
  pending(): boolean;
  /** The engine is closing: stop timers. */
  closing(): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface QueuedOp {
  kind: 'op';
  run: (tx: Tx) => Promise<unknown>;
  /** The op may fail on its own (a unique violation it reports): it runs in a savepoint. */
  savepoint: boolean;
  resolve: (v: never) => void;
  reject: (e: unknown) => void;
}

interface QueuedItem {
  kind: 'item';
  batcher: Batcher<unknown, unknown>;
  item: unknown;
  resolve: (v: never) => void;
  reject: (e: unknown) => void;
}

type Queued = QueuedOp | QueuedItem;

/** The shortest time between two commits: under load, a commit's latency gathers the next batch anyway. */
const COMMIT_INTERVAL_MS = 1;
/** A transaction that deadlocked with another hub's (or failed to serialise) is tried again this often. */
const RETRIES = 5;
/** How often the health probe runs (isReady()); a failed statement marks the store unhealthy at once. */
const PROBE_INTERVAL_MS = 2_000;
/** How long opening a connection may take before the write or read fails as `unavailable`. */
const CONNECT_TIMEOUT_MS = 5_000;
/** How long one statement may take on a pooled connection (migrations run on a connection of their own, without it). */
const STATEMENT_TIMEOUT_MS = 30_000;
/** Key of the advisory lock held while migrating ('parley' in ASCII), so hubs starting together migrate once. */
export const MIGRATION_LOCK_KEY = 0x7061726c6579;

/** int8 (counts, ms times) as numbers; every other type as pg parses it. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * A connection-level failure (the server is down or restarting, the network dropped, too many
 * connections): `unavailable`, and the store is not ready until a statement succeeds again. Everything
 * else (a constraint a write reports, a bug) is the write's own error.
 */
export function isConnectionError(error: unknown): boolean {
  const e = driverError(error);
  if (e instanceof ProtocolError || !(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    // Connection exception, operator intervention (shutdown, crash recovery), insufficient resources.
    return code.startsWith('08') || code.startsWith('57P') || code.startsWith('53');
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT …
  return /connection|terminated|timeout|not queryable|ended/i.test(e.message);
}

/** The driver's error under drizzle's wrapper (DrizzleQueryError keeps it as `cause`). */
function driverError(e: unknown): unknown {
  return e instanceof Error && !('code' in e) && e.cause instanceof Error ? e.cause : e;
}

/** A deadlock with another writer, or a serialisation failure: the transaction is worth trying again. */
function isRetryable(error: unknown): boolean {
  const e = driverError(error);
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return code === '40P01' || code === '40001';
}

const unavailable = () => new ProtocolError('unavailable', 'storage is unavailable');

/**
 * The PostgreSQL engine under every repository: the pool (it reconnects by itself), the migrations
 * (applied under an advisory lock), and group commit: writes issued in the same turn of the event loop
 * go into one transaction, and the next commit gathers what arrives while one is in flight. One commit
 * at a time per store, so one caller's writes commit and resolve in the order they were issued.
 *
 * Round trips are what a commit costs besides the server's own work (each one a wake-up of this process
 * and of a backend, on a busy machine often a millisecond or more): a commit of message appends alone
 * is one statement, its own transaction (Batcher.alone), instead of BEGIN, two statements and COMMIT;
 * writes behind (delivered rises) are one statement too, on a second connection beside the commits, so
 * a caller's commit never waits for them. synchronous_commit is untouched: a write resolves after the
 * server reported its commit durable (node-postgres settles a query on ReadyForQuery, which the
 * server sends after the implicit commit of a single statement).
 */
export class PgEngine {
  readonly pool: pg.Pool;
  /** Drizzle on the pool, for reads outside a commit. */
  readonly db: Db;
  private readonly log: Logger;
  private readonly metrics: PgEngineOptions['metrics'];
  private readonly participants: CommitParticipant[] = [];
  private queue: Queued[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> | null = null;
  /** The write-behind transaction in flight (participants' writes), beside the commits. */
  private behind: Promise<void> | null = null;
  private lastFlushAt = -Infinity;
  private opened = false;
  private closed = false;
  private closingNow = false;
  private healthy = false;
  private probe: NodeJS.Timeout | null = null;
  private probing = false;
  private closePromise: Promise<void> | null = null;

  private constructor(opts: PgEngineOptions) {
    this.log = opts.logger;
    this.metrics = opts.metrics;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 8,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      // A server that stops answering (a network partition, not a refused connection) fails a statement
      // after this long instead of holding the commit, and every write queued behind it, forever.
      query_timeout: STATEMENT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      types: TYPES,
    });
    // An idle connection's error (the server restarted) must not crash the process: the pool drops
    // that connection and opens a new one when next asked.
    this.pool.on('error', (error) => {
      this.markUnhealthy(error);
    });
    // A connection that drops while checked out, between two statements of a commit, reports on the
    // connection itself; the statement after fails and the commit is rejected as unavailable.
    this.pool.on('connect', (client) => {
      client.on('error', (error) => this.markUnhealthy(error));
    });
    this.db = drizzle(this.pool, { schema });
  }

  /** Connect, migrate (one hub at a time: an advisory lock), and start the health probe. */
  static async open(opts: PgEngineOptions): Promise<PgEngine> {
    const engine = new PgEngine(opts);
    try {
      // Migrations on a connection of their own: an index built on a large table may take minutes.
      const client = new pg.Client({ connectionString: opts.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, types: TYPES });
      client.on('error', (error) => opts.logger.warn('PostgreSQL connection lost while migrating', { error: String(error) }));
      await client.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          await applyMigrations(client);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        await client.end();
      }
    } catch (error) {
      await engine.pool.end().catch((e: unknown) => opts.logger.warn('closing the pool after a failed start failed', { error: String(e) }));
      throw error;
    }
    engine.opened = true;
    engine.healthy = true;
    engine.probe = setInterval(() => void engine.checkHealth(), PROBE_INTERVAL_MS);
    engine.probe.unref();
    return engine;
  }

  /** Join every commit from now on. */
  join(p: CommitParticipant): void {
    this.participants.push(p);
  }

  /** Open, migrated, the server answering, and not closed. */
  isReady(): boolean {
    return this.opened && !this.closed && this.healthy;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ─── Reads ───────────────────────────────────────────────────────────────────────────────────────

  /** A read on any pooled connection, outside the commits; connection failures reject with `unavailable`. */
  async read<R>(text: string, values?: readonly unknown[], name?: string): Promise<R[]> {
    if (this.closed) throw new ProtocolError('unavailable', 'storage is closed');
    try {
      const res = await this.pool.query<R & pg.QueryResultRow>(name ? { name, text, values: values as unknown[] } : { text, values: values as unknown[] });
      this.healthy = true;
      return res.rows;
    } catch (error) {
      throw this.mapError(error);
    }
  }

  /** A drizzle read; connection failures reject with `unavailable`. */
  async readDb<R>(run: (db: Db) => Promise<R>): Promise<R> {
    if (this.closed) throw new ProtocolError('unavailable', 'storage is closed');
    try {
      return await run(this.db);
    } catch (error) {
      throw this.mapError(error);
    }
  }

  /**
   * Reads that must agree with each other (the directory at start): one connection, one REPEATABLE
   * READ snapshot, so no commit of another hub lands between them.
   */
  async snapshot<R>(run: (tx: Tx) => Promise<R>): Promise<R> {
    if (this.closed) throw new ProtocolError('unavailable', 'storage is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.mapError(error);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const result = await run(txOn(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isConnectionError(error)) broken = error as Error;
      else await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
      throw this.mapError(error);
    } finally {
      client.release(broken);
    }
  }

  private mapError(error: unknown): unknown {
    if (isConnectionError(error)) {
      this.markUnhealthy(driverError(error));
      return unavailable();
    }
    return error;
  }

  // ─── Group commit ────────────────────────────────────────────────────────────────────────────────

  /**
   * Run `run` inside the next commit; resolves its result after that commit, in issue order. With
   * `savepoint`, a throw rejects this write alone (its statements are rolled back, the commit goes on);
   * without, a throw makes the commit start over without it. A failed commit rejects every write of it
   * with `unavailable`.
   */
  enqueue<T>(run: (tx: Tx) => Promise<T>, opts: { savepoint?: boolean } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new ProtocolError('unavailable', 'storage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind: 'op', run, savepoint: opts.savepoint ?? false, resolve: resolve as (v: never) => void, reject });
      this.schedule();
    });
  }

  /** Hand `item` to `batcher` in the next commit; resolves its result after that commit, in issue order. */
  batch<I, R>(batcher: Batcher<I, R>, item: I): Promise<R> {
    if (this.closed) return Promise.reject(new ProtocolError('unavailable', 'storage is closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ kind: 'item', batcher: batcher as Batcher<unknown, unknown>, item, resolve: resolve as (v: never) => void, reject });
      this.schedule();
    });
  }

  /** Ask for a commit soon (a participant has writes waiting). */
  schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.flushing) return; // the commit in flight schedules the next when it ends
    const wait = this.lastFlushAt + COMMIT_INTERVAL_MS - performance.now();
    if (wait <= 0) setImmediate(() => this.startFlush());
    else setTimeout(() => this.startFlush(), wait);
  }

  private startFlush(): void {
    if (this.flushing) return;
    this.flushScheduled = false;
    this.flushing = this.flush().finally(() => {
      this.flushing = null;
      if (this.flushScheduled || this.queue.length || (!this.behind && this.participants.some((p) => p.pending()))) {
        this.flushScheduled = false;
        this.schedule();
      }
    });
  }

  /**
   * Commit every queued write in one transaction, then settle their promises in issue order. Beside
   * it, on another connection, what the participants took (delivered rises) is written in a
   * transaction of its own, unless the previous one is still in flight (it then takes the next turn).
   */
  private async flush(): Promise<void> {
    this.lastFlushAt = performance.now();
    const queued = this.queue;
    this.queue = [];
    if (!this.behind) this.writeBehind();
    if (queued.length === 0) return;
    const started = process.hrtime.bigint();
    await this.commitQueued(queued);
    this.metrics?.commitBatch(queued.length, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Start the participants' write-behind transaction if they took anything; when it ends, the next may start. */
  private writeBehind(): void {
    let taken = 0;
    const parts: CommitParticipant[] = [];
    for (const p of this.participants) {
      const n = p.take(this.closingNow);
      if (n > 0) parts.push(p);
      taken += n;
    }
    if (taken === 0) return;
    const started = process.hrtime.bigint();
    this.behind = this.commitParticipants(parts).finally(() => {
      this.behind = null;
      this.metrics?.commitBatch(taken, Number(process.hrtime.bigint() - started) / 1e9);
      if (!this.closingNow && this.participants.some((p) => p.pending())) this.schedule();
    });
  }

  private async commitQueued(queued: Queued[]): Promise<void> {
    if (await this.commitAlone(queued)) return;
    const outcomes: Array<Outcome | undefined> = new Array(queued.length);
    // Writes whose own throw aborted the transaction: rejected with it, left out of the next try.
    const dropped = new Set<number>();
    let attempt = 0;
    for (;;) {
      try {
        await this.transaction((tx, client) => this.runQueued(tx, client, queued, dropped, outcomes));
        break;
      } catch (error) {
        if (error instanceof OpFailure) {
          dropped.add(error.index);
          outcomes[error.index] = { ok: false, error: error.error };
          continue;
        }
        if (isRetryable(error) && attempt++ < RETRIES) {
          this.log.warn('commit retried', { error: String(error), attempt });
          continue;
        }
        this.noteFailure(error, queued.length);
        const failure = unavailable();
        for (let i = 0; i < queued.length; i++) {
          if (dropped.has(i)) queued[i]!.reject((outcomes[i] as { error: unknown }).error);
          else queued[i]!.reject(failure);
        }
        return;
      }
    }
    this.healthy = true;
    for (let i = 0; i < queued.length; i++) {
      const o = outcomes[i]!;
      if (o.ok) queued[i]!.resolve(o.value as never);
      else queued[i]!.reject(o.error);
    }
  }

  /**
   * A commit of one batcher's items alone, in one statement (Batcher.alone); false when it did not
   * commit them (it cannot, or its statement was rolled back): the transaction path then does.
   */
  private async commitAlone(queued: Queued[]): Promise<boolean> {
    const first = queued[0]!;
    if (first.kind !== 'item' || !first.batcher.alone) return false;
    const batcher = first.batcher;
    const items: unknown[] = [];
    for (const q of queued) {
      if (q.kind !== 'item' || q.batcher !== batcher) return false;
      items.push(q.item);
    }
    let results: Array<unknown> | null;
    try {
      results = await this.autocommit((tx) => batcher.alone!(tx, items));
    } catch (error) {
      if (!isConnectionError(error)) return false; // rolled back: nothing was written
      // The statement may or may not have committed: as a failed COMMIT, every write is unavailable.
      this.noteFailure(error, queued.length);
      const failure = unavailable();
      for (const q of queued) q.reject(failure);
      return true;
    }
    if (!results) return false;
    this.healthy = true;
    queued.forEach((q, i) => {
      const r = results[i];
      if (r instanceof Error) q.reject(r);
      else q.resolve(r as never);
    });
    return true;
  }

  private async commitParticipants(parts: CommitParticipant[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // One participant writes one statement: its own transaction. Several share one.
        if (parts.length === 1) await this.autocommit((tx) => parts[0]!.write(tx));
        else
          await this.transaction(async (tx) => {
            for (const p of parts) await p.write(tx);
          });
        break;
      } catch (error) {
        if (isRetryable(error) && attempt < RETRIES) continue;
        this.noteFailure(error, parts.length);
        for (const p of parts) p.failed();
        return;
      }
    }
    this.healthy = true;
    for (const p of parts) p.committed();
  }

  private noteFailure(error: unknown, writes: number): void {
    if (isConnectionError(error)) this.markUnhealthy(error);
    else this.log.error('commit failed', { error: String(error), writes });
  }

  /** Plain writes in issue order (each in a savepoint when it asked for one), then the batchers in their order. */
  private async runQueued(tx: Tx, client: pg.PoolClient, queued: Queued[], dropped: Set<number>, outcomes: Array<Outcome | undefined>): Promise<void> {
    const batches = new Map<Batcher<unknown, unknown>, number[]>();
    for (let i = 0; i < queued.length; i++) {
      if (dropped.has(i)) continue;
      const q = queued[i]!;
      if (q.kind === 'item') {
        let idx = batches.get(q.batcher);
        if (!idx) batches.set(q.batcher, (idx = []));
        idx.push(i);
        continue;
      }
      if (q.savepoint) {
        await client.query('SAVEPOINT w');
        try {
          outcomes[i] = { ok: true, value: await q.run(tx) };
          await client.query('RELEASE SAVEPOINT w');
        } catch (error) {
          if (isConnectionError(error) || isRetryable(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT w');
          outcomes[i] = { ok: false, error };
        }
        continue;
      }
      try {
        outcomes[i] = { ok: true, value: await q.run(tx) };
      } catch (error) {
        if (isConnectionError(error) || isRetryable(error)) throw error;
        throw new OpFailure(i, error);
      }
    }
    for (const [batcher, idx] of [...batches].sort((a, b) => a[0].order - b[0].order)) {
      const results = await batcher.run(
        tx,
        idx.map((i) => (queued[i] as QueuedItem).item),
      );
      idx.forEach((i, k) => {
        const r = results[k];
        outcomes[i] = r instanceof Error ? { ok: false, error: r } : { ok: true, value: r };
      });
    }
  }

  /** One statement on a pooled connection, outside BEGIN and COMMIT: the statement is its own transaction. */
  private async autocommit<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      return await body(txOn(client));
    } catch (error) {
      if (isConnectionError(error)) broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** One transaction on a pooled connection; a connection that failed is destroyed, not pooled again. */
  private async transaction(body: (tx: Tx, client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        await body(txOn(client), client);
        await client.query('COMMIT');
      } catch (error) {
        if (isConnectionError(error)) broken = error as Error;
        else await client.query('ROLLBACK').catch((e: unknown) => (broken = e as Error));
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  // ─── Health ──────────────────────────────────────────────────────────────────────────────────────

  private markUnhealthy(error: unknown): void {
    if (this.healthy) this.log.warn('PostgreSQL unreachable', { error: String(error) });
    this.healthy = false;
  }

  private async checkHealth(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    try {
      await this.pool.query('SELECT 1');
      if (!this.healthy) this.log.info('PostgreSQL reachable again');
      this.healthy = true;
    } catch (error) {
      this.markUnhealthy(error);
    } finally {
      this.probing = false;
    }
  }

  /** Commit everything queued (participants give up everything they hold), then close the pool. */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown();
    return this.closePromise;
  }

  private async shutdown(): Promise<void> {
    this.closingNow = true;
    for (const p of this.participants) p.closing();
    if (this.probe) clearInterval(this.probe);
    while (this.flushing || this.behind) await (this.flushing ?? this.behind);
    // The last commit takes everything; a flush scheduled meanwhile finds it in flight and stands down.
    const last = this.flush();
    this.flushing = last;
    await last;
    this.flushing = null;
    while (this.behind) await this.behind;
    this.closed = true;
    // Writes that arrived while the last commit ran are refused like any later one.
    const late = this.queue;
    this.queue = [];
    for (const q of late) q.reject(new ProtocolError('unavailable', 'storage is closed'));
    await this.pool.end();
  }
}

/** A write's own throw, which aborted the transaction: the commit starts over without that write. */
class OpFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super('write failed');
  }
}

function txOn(client: pg.PoolClient): Tx {
  let db: Db | null = null;
  return {
    async query<R>(text: string, values?: readonly unknown[], name?: string): Promise<R[]> {
      const res = await client.query<R & pg.QueryResultRow>(name ? { name, text, values: values as unknown[] } : { text, values: values as unknown[] });
      return res.rows;
    },
    async run(text: string, values?: readonly unknown[], name?: string): Promise<number> {
      const res = await client.query(name ? { name, text, values: values as unknown[] } : { text, values: values as unknown[] });
      return res.rowCount ?? 0;
    },
    get db(): Db {
      return (db ??= drizzle(client, { schema }));
    },
  };
}
