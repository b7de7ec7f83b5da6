import { z } from 'zod';
import type { Clock, Logger, PresenceEntry, PresenceStore } from '../../core/ports/index.js';
import { MemoryPresence } from '../memory/presence.js';
import { closeRedis, openRedis, whenReady, type RedisClient, type RedisCounters } from './client.js';

export interface RedisPresenceOptions {
  url: string;
  /** PARLEY_REDIS_PREFIX: every key and channel starts with it. */
  prefix: string;
  /** This hub's id, unique among the live hubs. */
  hubId: string;
  logger: Logger;
  /** The clock entries' `expiresAt` are on (the hub's): a key's TTL is `expiresAt - now()`. */
  clock: Pick<Clock, 'now'>;
  counters?: RedisCounters;
}

/** One change as it travels between hubs: a put `[session, participant, state, expiresAt]`, a removal `[session, participant]`. */
const OpSchema = z.union([z.tuple([z.string(), z.string(), z.enum(['active', 'away']), z.number()]), z.tuple([z.string(), z.string()])]);
const BatchSchema = z.object({ h: z.string(), o: z.array(OpSchema) });
type Op = z.infer<typeof OpSchema>;

/** Changes per write and published batch (about 60 bytes each). */
const BATCH_OPS = 1000;

/** How often lapsed entries of other hubs are forgotten (entries are checked at every read anyway). */
const PRUNE_MS = 5000;

/**
 * Presence across hubs. Redis holds one key per open session, `<prefix>presence:<sessionId>`, with the
 * entry as its value and a TTL to its `expiresAt` (the hub's sweep puts every entry again at a third of
 * its life: the heartbeat). Every hub keeps a local view of every live entry, so `online()` and
 * `sessions()` answer synchronously from memory. Writes go behind: the changes of one turn of the event
 * loop are coalesced per session and sent together, the keys written and one batch published on
 * `<prefix>presence`; the other hubs apply it to their views. A hub starting, or back after losing
 * Redis, reads every key (SCAN) into its view.
 *
 * Entries lapse at `expiresAt` in every view, so a dead hub's sessions go offline everywhere on time
 * with nobody telling (hub clocks are assumed to agree well within the TTL). After a reconnect the hub
 * puts its own live entries again (a restarted Redis has lost them) and writes the removals made while
 * it was cut off. A removal another hub made while this one was cut off is missed: that entry stays in
 * this view until its `expiresAt`, at most a TTL.
 */
export class RedisPresence implements PresenceStore {
  private readonly client: RedisClient;
  private readonly sub: RedisClient;
  /** Every hub's live entries, as this hub knows them. */
  private readonly view = new MemoryPresence();
  /** This hub's own entries: what it puts again after a reconnect. */
  private readonly own = new Map<string, PresenceEntry>();
  /** Changes not yet written, the last per session. */
  private queued = new Map<string, Op>();
  /** Removals that could not be written (Redis down): written after the reconnect. */
  private readonly unwrittenRemovals = new Map<string, string>();
  private flushScheduled = false;
  private readonly writes = new Set<Promise<unknown>>();
  private readonly channel: string;
  private readonly keyPrefix: string;
  private changed: ((participantId: string) => void) | null = null;
  private readonly pruner: NodeJS.Timeout;
  private loading: Promise<void> | null = null;
  private subscribed: Promise<void> | null = null;
  private readonly markers = new Map<string, () => void>();
  private markerSeq = 0;
  private droppedSinceReady = 0;
  /** Batches not written because Redis was unreachable, since start. */
  dropped = 0;

  constructor(private readonly o: RedisPresenceOptions) {
    this.channel = `${o.prefix}presence`;
    this.keyPrefix = `${o.prefix}presence:`;
    this.client = openRedis({ url: o.url, name: `${o.prefix}${o.hubId}:presence`, logger: o.logger, onReady: (again) => this.onReady(again) });
    // Subscribed at every ready: the client carries a confirmed subscription over a reconnect (and skips
    // it here); one that a loss cut off is sent again. Batches published while this connection was
    // lost are missed: the keys are read again.
    this.sub = openRedis({
      url: o.url,
      name: `${o.prefix}${o.hubId}:presence-sub`,
      logger: o.logger,
      onReady: (again) => {
        this.subscribed = this.subscribeChannel();
        if (again && this.client.isReady) this.reload();
      },
    });
    this.pruner = setInterval(() => this.prune(), PRUNE_MS);
    this.pruner.unref();
  }

  put(entry: PresenceEntry): void {
    this.own.set(entry.sessionId, entry);
    this.unwrittenRemovals.delete(entry.sessionId);
    this.view.put(entry);
    this.enqueue(entry.sessionId, [entry.sessionId, entry.participantId, entry.state, entry.expiresAt]);
  }

  remove(sessionId: string, participantId: string): void {
    this.own.delete(sessionId);
    this.view.remove(sessionId, participantId);
    this.enqueue(sessionId, [sessionId, participantId]);
  }

  online(participantId: string, now: number): boolean {
    return this.view.online(participantId, now);
  }

  sessions(participantId: string, now: number): PresenceEntry[] {
    return this.view.sessions(participantId, now);
  }

  /**
   * Called with a participant whose entries another hub changed (or that a reload brought): the hub
   * recomputes that participant's presence (the wiring's hook; core's presence use case `update`).
   */
  onChange(handler: (participantId: string) => void): void {
    this.changed = handler;
  }

  isReady(): boolean {
    return this.client.isReady && this.sub.isReady;
  }

  /** Resolves when both connections are ready and the other hubs' entries are loaded (the first time). */
  async ready(): Promise<void> {
    await whenReady(this.client, this.sub);
    await this.subscribed;
    await this.loading;
  }

  /** Resolves when every change made on this hub so far is written and published (or dropped). */
  async flush(): Promise<void> {
    this.flushNow();
    await Promise.all([...this.writes]);
  }

  /**
   * Resolves when this hub has received every batch any hub published before this call: a marker
   * published on the presence channel comes back after them (one channel, one connection, in order).
   */
  async caughtUp(): Promise<void> {
    if (!this.client.isReady || !this.sub.isReady) return;
    const id = `${this.o.hubId}#${++this.markerSeq}`;
    const back = new Promise<void>((resolve) => this.markers.set(id, resolve));
    await this.client.publish(this.channel, JSON.stringify({ h: this.o.hubId, o: [], m: id }));
    await back;
  }

  /** Write what is queued and close; the entries stay until their TTL unless the sessions were removed first. */
  async close(): Promise<void> {
    clearInterval(this.pruner);
    await this.flush();
    await Promise.all([closeRedis(this.client), closeRedis(this.sub)]);
  }

  /** Stop at once, writing nothing more: a hub that died (tests). */
  destroy(): void {
    clearInterval(this.pruner);
    this.queued.clear();
    this.client.destroy();
    this.sub.destroy();
  }

  private subscribeChannel(): Promise<void> {
    return this.sub.subscribe(this.channel, this.onMessage).catch((err: unknown) => this.o.logger.warn('redis presence subscription not confirmed', { error: String(err) }));
  }

  private enqueue(sessionId: string, op: Op): void {
    // Delete first so the Map's order is the order of last change.
    this.queued.delete(sessionId);
    this.queued.set(sessionId, op);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushNow());
  }

  private flushNow(): void {
    this.flushScheduled = false;
    if (this.queued.size === 0) return;
    const ops = [...this.queued.values()];
    this.queued = new Map();
    if (!this.client.isReady) {
      // Own entries are put again after the reconnect; removals are kept to be written then.
      for (const op of ops) if (op.length === 2) this.unwrittenRemovals.set(op[0], op[1]);
      return this.drop();
    }
    this.writeAll(ops);
  }

  /** In batches of at most BATCH_OPS: a hub's sweep refreshes every session in one turn. */
  private writeAll(ops: Op[]): void {
    for (let i = 0; i < ops.length; i += BATCH_OPS) this.write(ops.length <= BATCH_OPS ? ops : ops.slice(i, i + BATCH_OPS));
  }

  private write(ops: Op[]): void {
    const now = this.o.clock.now();
    const m = this.client.multi();
    for (const op of ops) {
      const key = this.keyPrefix + op[0];
      if (op.length === 4 && op[3] > now) m.set(key, JSON.stringify(op), { expiration: { type: 'PX', value: Math.ceil(op[3] - now) } });
      else m.del(key);
    }
    m.publish(this.channel, JSON.stringify({ h: this.o.hubId, o: ops }));
    const w = m.exec().then(
      () => undefined,
      () => {
        for (const op of ops) if (op.length === 2) this.unwrittenRemovals.set(op[0], op[1]);
        this.drop();
      },
    );
    this.writes.add(w);
    void w.finally(() => this.writes.delete(w));
  }

  private drop(): void {
    this.dropped++;
    this.o.counters?.dropped('presence');
    if (this.droppedSinceReady++ === 0) this.o.logger.warn('redis presence down: other hubs see this hub’s changes after the reconnect', { hub: this.o.hubId });
  }

  private onReady(again: boolean): void {
    this.droppedSinceReady = 0;
    if (again) {
      // A restarted Redis has lost every key: put this hub's live sessions back, write the removals
      // made while cut off, and tell the other hubs.
      const ops: Op[] = [];
      for (const [sid, pid] of this.unwrittenRemovals) if (!this.own.has(sid)) ops.push([sid, pid]);
      this.unwrittenRemovals.clear();
      for (const e of this.own.values()) ops.push([e.sessionId, e.participantId, e.state, e.expiresAt]);
      this.writeAll(ops);
    }
    this.reload();
  }

  /** Read the keys once subscribed, so that no change falls between the read and the subscription. */
  private reload(): void {
    this.loading = (async () => {
      await whenReady(this.sub);
      await this.subscribed;
      await this.load();
    })().catch((err: unknown) => this.o.logger.warn('redis presence reload failed', { error: String(err) }));
  }

  /** Read every entry in Redis into the view; a newer entry already in the view (by `expiresAt`) wins. */
  private async load(): Promise<void> {
    const touched = new Set<string>();
    for await (const keys of this.client.scanIterator({ MATCH: `${this.keyPrefix}*`, COUNT: 1000 })) {
      if (keys.length === 0) continue;
      const values = await this.client.mGet(keys);
      for (const v of values) {
        if (v === null) continue;
        const op = parseOp(v);
        if (!op || op.length !== 4 || this.own.has(op[0])) continue;
        const current = this.view.entry(op[1], op[0]);
        if (current && current.expiresAt >= op[3]) continue;
        this.view.put({ sessionId: op[0], participantId: op[1], state: op[2], expiresAt: op[3] });
        touched.add(op[1]);
      }
    }
    for (const pid of touched) this.changed?.(pid);
  }

  private readonly onMessage = (message: string): void => {
    let raw: unknown;
    try {
      raw = JSON.parse(message);
    } catch {
      return this.o.logger.warn('redis presence: unreadable batch ignored', { length: message.length });
    }
    const marker = (raw as { m?: unknown }).m;
    if (typeof marker === 'string') {
      this.markers.get(marker)?.();
      this.markers.delete(marker);
      return;
    }
    const batch = BatchSchema.safeParse(raw);
    if (!batch.success) return this.o.logger.warn('redis presence: malformed batch ignored', { length: message.length });
    if (batch.data.h === this.o.hubId) return;
    let touched: Set<string> | null = null;
    for (const op of batch.data.o) {
      const before = this.view.entry(op[1], op[0]);
      if (op.length === 4) this.view.put({ sessionId: op[0], participantId: op[1], state: op[2], expiresAt: op[3] });
      else this.view.remove(op[0], op[1]);
      // A refresh (same state, later expiry) changes nobody's presence: most batches are only that.
      if (op.length === 4 && before?.state === op[2]) continue;
      if (op.length === 2 && !before) continue;
      (touched ??= new Set()).add(op[1]);
    }
    if (this.changed && touched) for (const pid of touched) this.changed(pid);
  };

  /** Forget lapsed entries of participants nobody asked about lately (the views' memory stays bounded). */
  private prune(): void {
    this.view.prune(this.o.clock.now(), (sid) => this.own.has(sid));
  }
}

function parseOp(v: string): Op | null {
  try {
    const r = OpSchema.safeParse(JSON.parse(v));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
