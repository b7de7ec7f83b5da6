import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { MessageSchema, PersonalTransportSchema } from '../protocol/index.js';
import type { Config } from './config.js';
import type { Hub } from './core/hub.js';
import type { Bounces } from './core/inbound/bounces.js';
import type { Definitions } from './core/notifications/definitions.js';
import type { Notifier } from './core/notifications/notifier.js';
import type { SystemEmails } from './core/system-emails/system-emails.js';
import type { ConversationRecord, ParticipantRecord } from './core/model.js';
import type { Bus, Clock, DirectorySnapshot, EventBus, Logger, PresenceStore, Store, TimerOwnership } from './core/ports/index.js';
import { createRedisAdapters, type InvalidationKind, type RedisAdapters, type RedisCounters } from './adapters/redis/index.js';
import { RedisOwnership } from './adapters/redis/ownership.js';

/**
 * Several hubs as one (SPEC §9, DESIGN §8): the Redis adapters of this hub, and what keeps its
 * in-memory directory and presence in step with the other hubs'. `createParley` builds it when
 * PARLEY_REDIS_URL is set, before the hub (whose bus and presence it gives), and attaches it after.
 *
 * - **Directory**: every `DirectoryChanged` here, every conversation created here and every member
 *   added here is an invalidation to the others; an invalidation from another hub reloads that entity
 *   from the store into this hub's directory (coalesced: one directory read for every invalidation that
 *   arrived meanwhile) and re-derives the subscriptions of whoever it concerns (`AudienceChanged`).
 *   Entities this hub does not know yet (a participant created just in time at another hub's `hello`)
 *   are added by any reload; a conversation or participant this hub meets before its invalidation
 *   triggers one.
 * - **Messages and seen marks** committed on another hub reach this one on the hub topic `h:events`
 *   (through the Bus, never delivered to sessions): the conversation's last seq and time move here too
 *   (a `seen` clamps to them), and they are published on this hub's event bus as `MessageCommitted` and
 *   `Seen`, so the timers this hub owns are armed and cancelled as if the message had been sent here.
 * - **Presence**: a change another hub made is recomputed here (`Hub.presenceChanged`) and told to this
 *   hub's sessions; participants with another hub's entries are looked at again every few seconds, so
 *   the sessions of a hub that died go offline here when their entries lapse.
 * - **Unknown ids**: before a host route, a WebSocket request or a `hello` answers an id as unknown,
 *   the hub catches up (`catchUp`): the host's calls spread by a load balancer outrun invalidations.
 * - **Other caches** (notification definitions, bounced addresses, escalation texts): a change written
 *   here is told on `h:events`, and the others read that cache again from the store.
 */

/** The topic hubs tell each other what was committed on it; no session ever subscribes to it. */
const HUB_TOPIC = 'h:events';

const RelaySchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('m'), h: z.string(), m: MessageSchema, n: z.array(z.string()) }),
  z.object({ k: z.literal('s'), h: z.string(), c: z.string(), p: z.string(), u: z.number().int(), a: z.number() }),
  // Once-per-day marks and an item's article addresses an event committed (NOTIFICATIONS §2–§3):
  // every hub's matcher reads them from memory.
  z.object({
    k: z.literal('d'),
    h: z.string(),
    marks: z
      .array(z.object({ definitionId: z.string(), itemKey: z.string().nullable(), recipient: z.string(), transport: PersonalTransportSchema, at: z.number() }))
      .max(100_000),
    articles: z.object({ itemId: z.string(), first: z.array(z.string()), last: z.array(z.string()) }).nullable(),
  }),
  // A cache other than the directory changed: reload it from the store.
  z.object({ k: z.literal('x'), h: z.string(), what: z.enum(['definitions', 'bounces', 'escalation-texts']) }),
]);
type Relay = z.infer<typeof RelaySchema>;
/** A message or seen mark committed on another hub. */
type Committed = Extract<Relay, { k: 'm' | 's' }>;

export interface ClusterAdapters {
  hubId: string;
  bus: Bus;
  presence: PresenceStore;
  ownership: TimerOwnership;
  redis: RedisAdapters;
  /** Wire the hub in, once built and loaded. */
  attach(o: { hub: Hub; events: EventBus; store: Store }): void;
  /** Resolves once what other hubs had written when it was called is known here (see `ClusterSync.catchUp`). */
  catchUp(): Promise<void>;
  /** Keep notification definitions, bounced addresses and escalation texts in step with the other hubs (after `attach`). */
  share(o: SharedCaches): void;
  isReady(): boolean;
  /** Leave the live set (the others take this hub's timers at once); the rest stays open until `close`. */
  leave(): Promise<void>;
  /** Leave the live set first (the others take this hub's timers at once), then close every connection. */
  close(): Promise<void>;
}

/** What the hub keeps in memory besides its directory, written through on the hub that changes it. */
export interface SharedCaches {
  definitions: Definitions;
  bounces: Bounces;
  systemEmails: SystemEmails;
  /** Its once-per-day marks and article addresses (the rest of its state is in the store or per event). */
  notifier: Pick<Notifier, 'onShared' | 'applyShared'>;
}
type SharedCache = 'definitions' | 'bounces' | 'escalation-texts';

export interface ClusterOptions {
  config: Pick<Config, 'redisUrl' | 'redisPrefix' | 'nodeTtlMs' | 'databaseUrl'>;
  /** This hub's sessions subscribed to a topic (the transport's topics). */
  local: (topic: string, frame: string) => void;
  clock: Clock;
  logger: Logger;
  /** Where the dropped-while-Redis-was-down counter goes (/metrics); null: not counted. */
  registry: Registry | null;
}

/** Reads of the directory that only catch up on an unknown id, at most one per this long (an unknown id is cheap to send). */
const CATCH_UP_MIN_MS = 200;

/** How long a start waits for Redis before it goes on unready (and recovers by itself). */
const START_WAIT_MS = 10_000;

export async function createCluster(o: ClusterOptions): Promise<ClusterAdapters> {
  const { config, logger } = o;
  if (!config.redisUrl) throw new Error('createCluster needs PARLEY_REDIS_URL');
  if (!config.databaseUrl) {
    throw new Error('invalid configuration:\n  PARLEY_REDIS_URL needs PARLEY_DATABASE_URL: hubs share one PostgreSQL database (a SQLite file is one hub’s)');
  }
  const hubId = `${hostname().replace(/[^A-Za-z0-9.-]/g, '').slice(0, 32) || 'hub'}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const counter = o.registry
    ? new Counter({ name: 'parley_redis_dropped_total', help: 'What did not reach other hubs because Redis was unreachable, by kind', labelNames: ['what'], registers: [o.registry] })
    : null;
  const counters: RedisCounters = { dropped: (what) => counter?.inc({ what }) };
  let inbound: ((topic: string, frame: string) => void) | null = null;
  const redis = createRedisAdapters({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    nodeTtlMs: config.nodeTtlMs,
    hubId,
    // The hub topic is between hubs: it reaches no session.
    local: (topic, frame) => topic !== HUB_TOPIC && o.local(topic, frame),
    clock: o.clock,
    logger,
    counters,
  });
  redis.bus.onInbound((topic, frame) => (topic === HUB_TOPIC ? inbound?.(topic, frame) : o.local(topic, frame)));
  const ownership = new RedisOwnership({ hubId, membership: redis.membership });
  const waited = await Promise.race([redis.ready().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), START_WAIT_MS).unref())]);
  if (!waited) logger.warn('redis not reachable yet: starting unready, connecting in the background', { hub: hubId });
  let sync: ClusterSync | null = null;

  return {
    hubId,
    bus: redis.bus,
    presence: redis.presence,
    ownership,
    redis,
    attach: ({ hub, events, store }) => {
      sync = new ClusterSync({ hub, events, store, redis, hubId, clock: o.clock, logger, presenceTtlMs: config.nodeTtlMs });
      inbound = (_topic, frame) => sync?.relayed(frame);
      const caughtUp = sync;
      hub.setCatchUp(() => caughtUp.catchUp());
      redis.bus.subscribe(HUB_TOPIC);
    },
    share: (caches) => sync?.share(caches),
    catchUp: () => sync?.catchUp() ?? Promise.resolve(),
    isReady: () => redis.isReady(),
    leave: () => redis.membership.close(),
    close: async () => {
      sync?.stop();
      await redis.close();
    },
  };
}

interface SyncOptions {
  hub: Hub;
  events: EventBus;
  store: Store;
  redis: RedisAdapters;
  hubId: string;
  clock: Clock;
  logger: Logger;
  presenceTtlMs: number;
}

/** Keeps this hub's directory, conversations' last seqs and presence in step with the other hubs. */
class ClusterSync {
  /** Entities to reload at the next directory read: kind → ids. */
  private pending = new Map<Exclude<InvalidationKind, '*'>, Set<string>>();
  private pendingAll = false;
  private running: Promise<void> | null = null;
  /** Callers waiting for a read that begins after they asked (`catchUp`). */
  private catchUpWaiters: Array<() => void> = [];
  private lastCatchUpAt = 0;
  /** Relayed events waiting for a conversation this hub does not know yet (its reload is under way). */
  private waiting: Committed[] = [];
  /** Local writes by entity, numbered: a reload read before one of them must not undo it. */
  private readonly localWrites = new Map<string, number>();
  private writes = 0;
  /** While remote events are published here: they are not relayed back. */
  private replaying = false;
  /** Participants with another hub's presence entries: looked at again until they have none. */
  private readonly remotePresence = new Set<string>();
  private readonly presenceTimer: NodeJS.Timeout;
  private readonly unsubscribe: Array<() => void> = [];
  private caches: SharedCaches | null = null;
  /** Cache reloads under way, one per kind; one asked for meanwhile runs after it. */
  private readonly reloading = new Map<SharedCache, { again: boolean }>();

  constructor(private readonly o: SyncOptions) {
    const { events, redis } = o;
    const inv = redis.invalidation;
    this.unsubscribe.push(
      events.subscribe('DirectoryChanged', (e) => {
        this.localWrites.set(`${e.entity}:${e.id}`, ++this.writes);
        inv.invalidate(e.entity, e.id);
      }),
      events.subscribe('ConversationCreated', (e) => inv.invalidate('conversation', e.conversation.id)),
      events.subscribe('MembershipChanged', (e) => inv.invalidate('conversation', e.conversation.id)),
      events.subscribe('MessageCommitted', (e) => {
        if (this.replaying) return;
        this.relay({ k: 'm', h: o.hubId, m: e.message, n: e.notified.map((p) => p.id) });
      }),
      events.subscribe('Seen', (e) => {
        if (this.replaying) return;
        this.relay({ k: 's', h: o.hubId, c: e.conversation.id, p: e.participantId, u: e.upTo, a: e.at });
      }),
    );
    inv.onInvalidate((kind, id) => this.invalidated(kind, id));
    redis.presence.onChange((participantId) => this.presenceChanged(participantId));
    // Entries of a hub that died lapse without anybody telling: look again at a third of their life.
    this.presenceTimer = setInterval(() => this.recheckPresence(), Math.max(1000, Math.floor(o.presenceTtlMs / 3)));
    this.presenceTimer.unref();
    // Sessions other hubs had open before this one started (read while Redis was being joined).
    const now = o.clock.now();
    for (const id of o.hub.directory.participants.keys()) if (redis.presence.online(id, now)) this.presenceChanged(id);
  }

  stop(): void {
    clearInterval(this.presenceTimer);
    for (const u of this.unsubscribe) u();
    if (this.caches) {
      this.caches.definitions.onChange = null;
      this.caches.bounces.onMarked = null;
      this.caches.systemEmails.onEscalationChanged = null;
      this.caches.notifier.onShared = null;
    }
  }

  share(caches: SharedCaches): void {
    this.caches = caches;
    caches.definitions.onChange = () => this.relay({ k: 'x', h: this.o.hubId, what: 'definitions' });
    caches.bounces.onMarked = () => this.relay({ k: 'x', h: this.o.hubId, what: 'bounces' });
    caches.systemEmails.onEscalationChanged = () => this.relay({ k: 'x', h: this.o.hubId, what: 'escalation-texts' });
    caches.notifier.onShared = (u) =>
      this.relay({ k: 'd', h: this.o.hubId, marks: [...u.marks], articles: u.articles && { itemId: u.articles.itemId, first: [...u.articles.first], last: [...u.articles.last] } });
  }

  /** Read a shared cache again from the store (another hub changed it). */
  private reloadCache(what: SharedCache): void {
    const caches = this.caches;
    if (!caches) return;
    const running = this.reloading.get(what);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.reloading.set(what, state);
    const read = async (): Promise<void> => {
      if (what === 'bounces') return caches.bounces.load();
      if (what === 'escalation-texts') return caches.systemEmails.start();
      // Definitions come with the rest of the notification state; only they are taken.
      const loaded = await this.o.store.loadNotificationState(this.o.clock.now());
      caches.definitions.replaceAll(loaded.definitions);
    };
    void read()
      .catch((err: unknown) => this.o.logger.warn('shared cache reload failed', { what, error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        this.reloading.delete(what);
        if (state.again) this.reloadCache(what);
      });
  }

  /** A frame on the hub topic from another hub. */
  relayed(frame: string): void {
    let parsed: Relay;
    try {
      const r = RelaySchema.safeParse(JSON.parse(frame));
      if (!r.success) return this.o.logger.warn('hub event ignored: malformed', { length: frame.length });
      parsed = r.data;
    } catch {
      return this.o.logger.warn('hub event ignored: not JSON', { length: frame.length });
    }
    if (parsed.h === this.o.hubId) return;
    this.apply(parsed);
  }

  private relay(r: Relay): void {
    this.o.redis.bus.publish(HUB_TOPIC, JSON.stringify(r));
  }

  private apply(r: Relay): void {
    if (r.k === 'x') return this.reloadCache(r.what);
    if (r.k === 'd') return this.caches?.notifier.applyShared(r);
    const { directory } = this.o.hub;
    const conversationId = r.k === 'm' ? r.m.conversationId : r.c;
    const c = directory.conversations.get(conversationId);
    if (!c) {
      // Created on another hub a moment ago: its invalidation may still be on its way.
      this.waiting.push(r);
      this.invalidated('conversation', conversationId);
      return;
    }
    if (r.k === 'm') {
      const m = r.m;
      if (m.seq > c.lastSeq) {
        c.lastSeq = m.seq;
        c.lastMessageAt = m.createdAt;
      }
      const sender = directory.participants.get(m.senderId);
      const notified = r.n.map((id) => directory.participants.get(id)).filter((p): p is ParticipantRecord => p !== undefined);
      if (!sender || notified.length < r.n.length) this.invalidated('participant', m.senderId);
      if (!sender) return;
      this.replay(() => this.o.events.publish('MessageCommitted', { conversation: c, message: m, sender, notified }));
    } else {
      this.replay(() => this.o.events.publish('Seen', { conversation: c, participantId: r.p, upTo: r.u, at: r.a }));
    }
  }

  private replay(publish: () => void): void {
    this.replaying = true;
    try {
      publish();
    } finally {
      this.replaying = false;
    }
  }

  private presenceChanged(participantId: string): void {
    if (!this.o.hub.directory.participants.has(participantId)) {
      // Created just in time at another hub's hello: known here after the reload.
      this.invalidated('participant', participantId);
      this.remotePresence.add(participantId);
      return;
    }
    this.remotePresence.add(participantId);
    this.o.hub.presenceChanged(participantId);
  }

  private recheckPresence(): void {
    const now = this.o.clock.now();
    for (const id of this.remotePresence) {
      if (!this.o.redis.presence.online(id, now)) this.remotePresence.delete(id);
      if (this.o.hub.directory.participants.has(id)) this.o.hub.presenceChanged(id);
    }
  }

  /** Another hub wrote `kind` `id` (`*`: anything may have changed): read it at the next reload. */
  private invalidated(kind: InvalidationKind, id: string): void {
    if (kind === '*') this.pendingAll = true;
    else {
      let ids = this.pending.get(kind);
      if (!ids) this.pending.set(kind, (ids = new Set()));
      ids.add(id);
    }
    this.kick();
  }

  /**
   * Resolves once a directory read that began after this call is merged: whatever another hub had
   * written by then is known here. For an id about to be answered as unknown (`HubContext.catchUp`,
   * the host routes); such reads run at most every CATCH_UP_MIN_MS, each serving every caller waiting.
   */
  catchUp(): Promise<void> {
    return new Promise((resolve) => {
      this.catchUpWaiters.push(resolve);
      this.kick();
    });
  }

  private get hasWork(): boolean {
    return this.pendingAll || this.pending.size > 0 || this.catchUpWaiters.length > 0;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.reloadLoop().finally(() => {
      this.running = null;
      // Asked for while the loop was ending.
      if (this.hasWork) this.kick();
    });
  }

  private async reloadLoop(): Promise<void> {
    // One turn first: the invalidations of one burst are read together.
    await new Promise((r) => setImmediate(r));
    while (this.hasWork) {
      if (!this.pendingAll && this.pending.size === 0) {
        // Only callers catching up: at most one such read per CATCH_UP_MIN_MS.
        const wait = this.lastCatchUpAt + CATCH_UP_MIN_MS - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const all = this.pendingAll;
      const pending = this.pending;
      const waiters = this.catchUpWaiters;
      this.pendingAll = false;
      this.pending = new Map();
      this.catchUpWaiters = [];
      if (waiters.length) this.lastCatchUpAt = Date.now();
      const readAt = this.writes;
      let snapshot: DirectorySnapshot;
      try {
        snapshot = await this.o.store.loadDirectory();
      } catch (err) {
        // The store is unreachable: try again shortly (the hub is unready meanwhile); who waited gets its answer now.
        this.o.logger.warn('directory reload failed: trying again', { error: err instanceof Error ? err.message : String(err) });
        for (const w of waiters) w();
        this.pendingAll ||= all;
        for (const [k, ids] of pending) for (const id of ids) (this.pending.get(k) ?? this.pending.set(k, new Set()).get(k)!).add(id);
        if (this.pendingAll || this.pending.size > 0) await new Promise((r) => setTimeout(r, 1000).unref());
        continue;
      }
      this.merge(snapshot, all, pending, readAt);
      for (const w of waiters) w();
      for (const [key, n] of this.localWrites) if (n <= readAt) this.localWrites.delete(key);
      const waiting = this.waiting;
      this.waiting = [];
      for (const r of waiting) {
        const id = r.k === 'm' ? r.m.conversationId : r.c;
        if (this.o.hub.directory.conversations.has(id)) this.apply(r);
        else this.o.logger.warn('hub event dropped: conversation unknown', { conversation: id });
      }
    }
  }

  /** Put what changed into the directory and tell the hub whose subscriptions to re-derive. */
  private merge(s: DirectorySnapshot, all: boolean, pending: Map<Exclude<InvalidationKind, '*'>, Set<string>>, readAt: number): void {
    const dir = this.o.hub.directory;
    const audience = new Set<string>();
    const named = (kind: Exclude<InvalidationKind, '*'>, id: string) => all || (pending.get(kind)?.has(id) ?? false);
    // Written here after the read began: this hub's copy is the newer one.
    const newerHere = (kind: string, id: string) => (this.localWrites.get(`${kind}:${id}`) ?? 0) > readAt;

    for (const p of s.participants) {
      const old = dir.participants.get(p.id);
      if (old && (!named('participant', p.id) || newerHere('participant', p.id))) continue;
      dir.setParticipant(p);
      if (old) audience.add(p.id);
    }
    for (const q of s.queues) if (named('queue', q.name) && !newerHere('queue', q.name)) dir.queues.set(q.name, q.groupId);
    for (const p of s.projects) {
      const old = dir.projects.get(p.id);
      if (old && (!named('project', p.id) || newerHere('project', p.id))) continue;
      for (const f of old?.followers.keys() ?? []) audience.add(f);
      for (const f of p.followers.keys()) audience.add(f);
      dir.setProject(p);
    }
    for (const i of s.items) {
      const old = dir.items.get(i.id);
      if (old && (!named('item', i.id) || newerHere('item', i.id))) continue;
      if (old) for (const id of dir.itemAudience(old)) audience.add(id);
      dir.setItem(i);
      for (const id of dir.itemAudience(i)) audience.add(id);
    }
    for (const c of s.conversations) this.mergeConversation(c, audience);
    if (all) for (const id of dir.participants.keys()) audience.add(id);
    if (audience.size) this.o.events.publish('AudienceChanged', { participantIds: [...audience] });
  }

  /** Conversations only grow: new ones are added, new members joined, the last seq only rises. */
  private mergeConversation(c: ConversationRecord, audience: Set<string>): void {
    const dir = this.o.hub.directory;
    const here = dir.conversations.get(c.id);
    if (!here) {
      dir.addConversation(c);
      for (const p of dir.allViewers(c)) audience.add(p.id);
      return;
    }
    for (const [id, since] of c.members) {
      if (here.members.has(id)) continue;
      dir.addMember(here, id, since);
      audience.add(id);
    }
    if (c.lastSeq > here.lastSeq) {
      here.lastSeq = c.lastSeq;
      here.lastMessageAt = c.lastMessageAt;
    }
  }
}
