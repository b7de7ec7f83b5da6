import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../../server/adapters/redis/bus.js';
import { createRedisAdapters } from '../../server/adapters/redis/index.js';
import { RedisInvalidation, type InvalidationKind } from '../../server/adapters/redis/invalidation.js';
import { HubMembership } from '../../server/adapters/redis/membership.js';
import { RedisPresence } from '../../server/adapters/redis/presence.js';
import type { Logger } from '../../server/core/ports/index.js';
import { TcpRelay, redisUrl } from '../support/services.js';
import { describeBus, type OpenedBuses } from './bus.contract.js';
import { eventually } from './factory.js';
import { describePresence } from './presence.contract.js';

/**
 * The Redis adapters against a real Redis: the bus and presence contracts with two hubs (two adapter
 * instances, each with its own connections), then what only a shared service has: hub membership,
 * invalidation, connection loss and a Redis that lost its data. Every test uses a prefix of its own.
 */
const url = await redisUrl();

/** The contract suites' fixed time: entries expire relative to it, not to the wall clock. */
const T0 = 1_000_000;
const fixedClock = { now: () => T0 };
const realClock = { now: () => Date.now() };

function testLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => {}, warn: (msg) => void warnings.push(msg), error: (msg) => void warnings.push(msg) };
}

const newPrefix = () => `parley-test-${randomUUID().slice(0, 8)}:`;
const hubId = (name: string) => `${name}-${randomUUID().slice(0, 6)}`;

if (!url) {
  describe('Redis adapters', () => {
    it.skip('SKIPPED: Redis not reachable', () => {});
  });
} else {
  const redisAt: string = url;
  const admin = createClient({ url: redisAt });
  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.close();
  });

  /** Delete every key under a test's prefix. */
  async function dropKeys(prefix: string): Promise<void> {
    for await (const keys of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length) await admin.del(keys);
  }

  /** The server-side ids of the connections named `<prefix><hub>:<role>` (see openRedis). */
  async function connectionIds(name: string): Promise<string[]> {
    const list = await admin.clientList();
    return list.filter((c) => c.name === name).map((c) => String(c.id));
  }

  /** Kill those connections, as a network cut or a Redis restart would. */
  async function kill(name: string): Promise<string[]> {
    const ids = await connectionIds(name);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
    return ids;
  }

  /** A relay to this Redis (test/support/services.ts), cut and restored on the same port; `delayMs` toward Redis. */
  const redisTarget = new URL(redisAt);
  const relayTo = (delayMs = 0) => new TcpRelay({ host: redisTarget.hostname.replace(/^\[|\]$/g, ''), port: Number(redisTarget.port || 6379) }, { delayMs });
  const urlOf = (relay: TcpRelay) => `redis://127.0.0.1:${relay.port}`;

  describeBus('RedisBus', async () => {
    const prefix = newPrefix();
    const logger = testLogger();
    const hubs: OpenedBuses['hubs'] = [];
    const buses: RedisBus[] = [];
    for (const name of ['a', 'b']) {
      const local: Array<[string, string]> = [];
      const inbound: Array<[string, string]> = [];
      const bus = new RedisBus({ url: redisAt, prefix, hubId: hubId(name), logger, local: (t, f) => void local.push([t, f]) });
      bus.onInbound((t, f) => void inbound.push([t, f]));
      buses.push(bus);
      hubs.push({ bus, local, inbound });
    }
    await Promise.all(buses.map((b) => b.ready()));
    return {
      hubs,
      settle: async () => void (await Promise.all(buses.map((b) => b.settled()))),
      close: async () => void (await Promise.all(buses.map((b) => b.close()))),
    };
  });

  /** Two presence hubs on one prefix; settle: every write flushed, then every hub caught up. */
  async function openPresence(clock: { now(): number }, prefix = newPrefix()) {
    const logger = testLogger();
    const open = (name: string) => new RedisPresence({ url: redisAt, prefix, hubId: hubId(name), logger, clock });
    const views = [open('a'), open('b')] as [RedisPresence, RedisPresence];
    await Promise.all(views.map((v) => v.ready()));
    const settle = async () => {
      await Promise.all(views.map((v) => v.flush()));
      await Promise.all(views.map((v) => v.caughtUp()));
    };
    return { views, prefix, logger, open, settle };
  }

  describePresence('RedisPresence', async () => {
    const { views, prefix, settle } = await openPresence(fixedClock);
    return {
      hubs: views,
      settle,
      close: async () => {
        await Promise.all(views.map((v) => v.close()));
        await dropKeys(prefix);
      },
    };
  });

  describe('RedisBus across hubs', () => {
    it('names every channel under the prefix', async () => {
      const prefix = newPrefix();
      const bus = new RedisBus({ url: redisAt, prefix, hubId: hubId('a'), logger: testLogger(), local: () => {} });
      try {
        await bus.ready();
        bus.subscribe('c:prefixed');
        await bus.settled();
        const channels = (await admin.sendCommand(['PUBSUB', 'SHARDCHANNELS', '*c:prefixed'])) as string[];
        expect(channels).toEqual([`${prefix}t:c:prefixed`]);
      } finally {
        await bus.close();
      }
    });

    it('confirm resolves once the topics are subscribed at Redis: a frame published the moment it resolves arrives', async () => {
      const prefix = newPrefix();
      const got: string[] = [];
      const a = new RedisBus({ url: redisAt, prefix, hubId: hubId('a'), logger: testLogger(), local: () => {} });
      // Hub B is 20 ms from Redis: its subscriptions arrive after a publish made at once.
      const relay = relayTo(20);
      await relay.start();
      const b = new RedisBus({ url: urlOf(relay), prefix, hubId: hubId('b'), logger: testLogger(), local: () => {} });
      b.onInbound((t, f) => void got.push(`${t} ${f}`));
      try {
        await Promise.all([a.ready(), b.ready()]);
        // Each round a new topic, published to at once: a confirm that resolved before Redis subscribed
        // would lose these frames (the publish overtakes the subscription).
        const expected: string[] = [];
        for (let i = 0; i < 10; i++) {
          const topics = [`c:round-${i}`, `p:who-${i}`];
          await b.confirm(topics);
          for (const t of topics) {
            a.publish(t, `frame ${i}`);
            expected.push(`${t} frame ${i}`);
          }
        }
        const seen = await eventually(async () => got, (xs) => xs.length >= expected.length);
        expect(seen).toEqual(expected);
        const counts = (await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}t:c:round-0`, `${prefix}t:p:who-9`])) as Array<string | number>;
        expect([counts[1], counts[3]].map(Number)).toEqual([1, 1]);
      } finally {
        await Promise.all([a.close(), b.close()]);
        await relay.cut();
      }
    });

    it('subscribes every topic again after its connections were killed, and carries frames again', async () => {
      const prefix = newPrefix();
      const logger = testLogger();
      const got: string[] = [];
      const a = new RedisBus({ url: redisAt, prefix, hubId: hubId('a'), logger, local: () => {} });
      const bId = hubId('b');
      const b = new RedisBus({ url: redisAt, prefix, hubId: bId, logger, local: () => {} });
      b.onInbound((t, f) => void got.push(`${t} ${f}`));
      try {
        await Promise.all([a.ready(), b.ready()]);
        for (const t of ['c:1', 'c:2', 'p:ann']) b.subscribe(t);
        await b.settled();
        const before = await kill(`${prefix}${bId}:bus-sub`);
        await eventually(async () => (await connectionIds(`${prefix}${bId}:bus-sub`)).some((id) => !before.includes(id)) && b.isReady(), (ok) => ok);
        await b.settled();
        // The re-subscription is in effect once Redis counts a subscriber on every channel.
        await eventually(async () => (await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}t:c:1`, `${prefix}t:c:2`, `${prefix}t:p:ann`])) as Array<string | number>, (r) => [r[1], r[3], r[5]].every((n) => Number(n) === 1));
        a.publish('c:1', 'one');
        a.publish('c:2', 'two');
        a.publish('p:ann', 'three');
        const seen = await eventually(async () => got, (xs) => xs.length >= 3);
        expect(seen).toEqual(['c:1 one', 'c:2 two', 'p:ann three']);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('delivers locally and never throws while Redis is unreachable, counting what it could not carry and logging once', async () => {
      const logger = testLogger();
      const local: string[] = [];
      const drops: string[] = [];
      // Nothing listens on port 1: the bus never gets a connection.
      const bus = new RedisBus({ url: 'redis://127.0.0.1:1', prefix: newPrefix(), hubId: hubId('a'), logger, local: (t, f) => void local.push(f), counters: { dropped: (w) => void drops.push(w) } });
      try {
        bus.subscribe('c:1');
        expect(() => {
          bus.publish('c:1', 'one');
          bus.publish('c:1', 'two');
          bus.publish('c:9', 'three');
        }).not.toThrow();
        expect(bus.isReady()).toBe(false);
        expect(local).toEqual(['one', 'two', 'three']);
        expect(bus.dropped).toBe(3);
        expect(drops).toEqual(['frame', 'frame', 'frame']);
        expect(logger.warnings.filter((w) => w.startsWith('redis bus down'))).toHaveLength(1);
      } finally {
        await bus.close();
      }
    });
  });

  describe('RedisPresence across hubs', () => {
    it('keeps every key under the prefix, with a TTL to the entry’s expiry', async () => {
      const { views, prefix, settle } = await openPresence(fixedClock);
      try {
        views[0].put({ sessionId: 'sess-ttl', participantId: 'ann', state: 'active', expiresAt: T0 + 10_000 });
        await settle();
        expect(await admin.keys('*sess-ttl*')).toEqual([`${prefix}presence:sess-ttl`]);
        const ttl = await admin.pTTL(`${prefix}presence:sess-ttl`);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(10_000);
      } finally {
        await Promise.all(views.map((v) => v.close()));
        await dropKeys(prefix);
      }
    });

    it('lets the entries of a hub that stopped refreshing lapse, in the other hubs’ views and in Redis', async () => {
      const { views, prefix, settle } = await openPresence(realClock);
      const [a, b] = views;
      try {
        a.put({ sessionId: 'dies', participantId: 'eve', state: 'active', expiresAt: Date.now() + 400 });
        await settle();
        expect(b.online('eve', Date.now())).toBe(true);
        a.destroy();
        expect(await eventually(async () => b.online('eve', Date.now()), (on) => !on)).toBe(false);
        expect(await eventually(async () => admin.exists(`${prefix}presence:dies`), (n) => n === 0)).toBe(0);
      } finally {
        await b.close();
        await dropKeys(prefix);
      }
    });

    it('shows a hub that starts the sessions already online, and tells the hub which participants changed', async () => {
      const { views, prefix, logger, settle } = await openPresence(fixedClock);
      const changed: string[] = [];
      views[1].onChange((pid) => void changed.push(pid));
      views[0].put({ sessionId: 'f1', participantId: 'fay', state: 'away', expiresAt: T0 + 10_000 });
      await settle();
      const late = new RedisPresence({ url: redisAt, prefix, hubId: hubId('late'), logger, clock: fixedClock });
      try {
        expect(changed).toEqual(['fay']);
        // A refresh changes nobody's presence; a new focus does.
        views[0].put({ sessionId: 'f1', participantId: 'fay', state: 'away', expiresAt: T0 + 20_000 });
        await settle();
        expect(changed).toEqual(['fay']);
        views[0].put({ sessionId: 'f1', participantId: 'fay', state: 'active', expiresAt: T0 + 20_000 });
        views[0].remove('f0', 'fay');
        await settle();
        expect(changed).toEqual(['fay', 'fay']);
        await late.ready();
        expect(late.sessions('fay', T0).map((e) => [e.sessionId, e.state, e.expiresAt])).toEqual([['f1', 'active', T0 + 20_000]]);
      } finally {
        await Promise.all([...views, late].map((v) => v.close()));
        await dropKeys(prefix);
      }
    });

    it('puts its live sessions back after Redis lost its data and the connections, and the other hubs see them', async () => {
      const { views, prefix, logger, settle } = await openPresence(realClock);
      const [a, b] = views;
      const aName = (a as unknown as { o: { hubId: string } }).o.hubId;
      const far = Date.now() + 60_000;
      try {
        a.put({ sessionId: 'g1', participantId: 'gus', state: 'active', expiresAt: far });
        a.put({ sessionId: 'g2', participantId: 'gus', state: 'away', expiresAt: far });
        a.remove('g2', 'gus');
        await settle();
        // What a restarted Redis looks like to the hub: no keys, and its connections gone.
        await dropKeys(prefix);
        await kill(`${prefix}${aName}:presence`);
        await eventually(async () => admin.exists(`${prefix}presence:g1`), (n) => n === 1);
        expect(await admin.exists(`${prefix}presence:g1`)).toBe(1);
        expect(await admin.exists(`${prefix}presence:g2`)).toBe(0);
        const c = new RedisPresence({ url: redisAt, prefix, hubId: hubId('c'), logger, clock: realClock });
        try {
          await c.ready();
          expect(c.sessions('gus', Date.now()).map((e) => e.sessionId)).toEqual(['g1']);
          expect(b.sessions('gus', Date.now()).map((e) => e.sessionId)).toEqual(['g1']);
        } finally {
          await c.close();
        }
      } finally {
        await Promise.all(views.map((v) => v.close()));
        await dropKeys(prefix);
      }
    });
  });

  describe('PARLEY_REDIS_PREFIX', () => {
    it('starts every key and channel of every adapter, so deployments sharing a Redis never meet', async () => {
      const prefix = newPrefix();
      const id = hubId('solo');
      const logger = testLogger();
      const hub = createRedisAdapters({ url: redisAt, prefix, nodeTtlMs: 3000, hubId: id, local: () => {}, clock: realClock, logger });
      const { bus, presence } = hub;
      try {
        await hub.ready();
        expect(hub.isReady()).toBe(true);
        bus.subscribe('p:pat');
        presence.put({ sessionId: `${id}-s`, participantId: 'pat', state: 'active', expiresAt: Date.now() + 60_000 });
        await Promise.all([bus.settled(), presence.flush()]);
        expect((await admin.keys(`${prefix}*`)).sort()).toEqual([`${prefix}node:${id}`, `${prefix}nodes`, `${prefix}presence:${id}-s`]);
        expect(((await admin.sendCommand(['PUBSUB', 'CHANNELS', `${prefix}*`])) as string[]).sort()).toEqual([`${prefix}invalidate`, `${prefix}nodes`, `${prefix}presence`]);
        expect((await admin.sendCommand(['PUBSUB', 'SHARDCHANNELS', `${prefix}*`])) as string[]).toEqual([`${prefix}t:p:pat`]);
        // Nothing of this hub anywhere else.
        expect((await admin.keys(`*${id}*`)).every((k) => k.startsWith(prefix))).toBe(true);
        const names = (await admin.clientList()).map((c) => c.name).filter((n) => n.includes(id));
        expect(names.sort()).toEqual(['bus', 'bus-sub', 'invalidate', 'invalidate-sub', 'membership', 'membership-sub', 'presence', 'presence-sub'].map((r) => `${prefix}${id}:${r}`));
        await hub.close();
        expect(hub.isReady()).toBe(false);
        // A hub that stopped left the live set and took its connections with it.
        expect(await admin.sMembers(`${prefix}nodes`)).toEqual([]);
        expect(await eventually(async () => (await admin.clientList()).filter((c) => c.name.includes(id)), (cs) => cs.length === 0)).toEqual([]);
      } finally {
        await hub.close();
        await dropKeys(prefix);
      }
    });
  });

  describe('Redis unreachable for a while', () => {
    it('reports not ready, drops what it cannot carry without throwing, and on its return re-subscribes, re-puts and writes the removals made meanwhile', async () => {
      const relay = relayTo();
      await relay.start();
      const prefix = newPrefix();
      const logger = testLogger();
      const drops: string[] = [];
      const counters = { dropped: (w: string) => void drops.push(w) };
      const far = Date.now() + 60_000;
      // Hub A talks to Redis through the relay; hub B directly.
      const aBus = new RedisBus({ url: urlOf(relay), prefix, hubId: hubId('a'), logger, local: () => {}, counters });
      const aPresence = new RedisPresence({ url: urlOf(relay), prefix, hubId: hubId('a'), logger, clock: realClock, counters });
      const got: string[] = [];
      const bBus = new RedisBus({ url: redisAt, prefix, hubId: hubId('b'), logger, local: () => {} });
      bBus.onInbound((t, f) => void got.push(`${t} ${f}`));
      const bPresence = new RedisPresence({ url: redisAt, prefix, hubId: hubId('b'), logger, clock: realClock });
      try {
        await Promise.all([aBus.ready(), aPresence.ready(), bBus.ready(), bPresence.ready()]);
        aBus.subscribe('c:kept');
        aBus.subscribe('c:gone');
        bBus.subscribe('c:out');
        aPresence.put({ sessionId: 'h-stays', participantId: 'hal', state: 'active', expiresAt: far });
        aPresence.put({ sessionId: 'h-leaves', participantId: 'hal', state: 'away', expiresAt: far });
        await Promise.all([aBus.settled(), bBus.settled(), aPresence.flush()]);

        await relay.cut();
        await eventually(async () => aBus.isReady() || aPresence.isReady(), (up) => !up);
        expect(aBus.isReady()).toBe(false);
        expect(aPresence.isReady()).toBe(false);
        expect(() => aBus.publish('c:out', 'lost')).not.toThrow();
        aBus.subscribe('c:new');
        aBus.unsubscribe('c:gone');
        aPresence.remove('h-leaves', 'hal');
        await aPresence.flush();
        expect(drops).toEqual(['frame', 'presence']);
        expect(await admin.exists(`${prefix}presence:h-leaves`)).toBe(1);
        // What a restarted Redis would have lost.
        await admin.del(`${prefix}presence:h-stays`);

        await relay.start();
        await Promise.all([aBus.ready(), aPresence.ready()]);
        await eventually(async () => (await admin.exists(`${prefix}presence:h-stays`)) === 1 && (await admin.exists(`${prefix}presence:h-leaves`)) === 0, (ok) => ok);
        await eventually(async () => bPresence.sessions('hal', Date.now()).map((e) => e.sessionId), (ids) => ids.length === 1);
        expect(bPresence.sessions('hal', Date.now()).map((e) => e.sessionId)).toEqual(['h-stays']);
        // A's subscription is back: B's frames reach it again.
        const aGot: string[] = [];
        aBus.onInbound((t, f) => void aGot.push(`${t} ${f}`));
        await eventually(async () => (await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}t:c:kept`, `${prefix}t:c:new`])) as Array<string | number>, (r) => Number(r[1]) === 1 && Number(r[3]) === 1);
        // …and the topic left meanwhile is not carried to it any more.
        await eventually(async () => (await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}t:c:gone`])) as Array<string | number>, (r) => Number(r[1]) === 0);
        expect(((await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `${prefix}t:c:gone`])) as Array<string | number>)[1]).toBe(0);
        bBus.publish('c:kept', 'back');
        bBus.publish('c:new', 'asked for while cut off');
        aBus.publish('c:out', 'after');
        expect(await eventually(async () => aGot, (xs) => xs.length >= 2)).toEqual(['c:kept back', 'c:new asked for while cut off']);
        expect(await eventually(async () => got, (xs) => xs.length >= 1)).toEqual(['c:out after']);
        expect(logger.warnings.filter((w) => w.startsWith('redis bus down'))).toHaveLength(1);
      } finally {
        await Promise.all([aBus.close(), aPresence.close(), bBus.close(), bPresence.close()]);
        await relay.cut();
        await dropKeys(prefix);
      }
    });
  });

  describe('HubMembership', () => {
    const open = (prefix: string, name: string) => new HubMembership({ url: redisAt, prefix, hubId: name, ttlMs: 600, refreshMs: 100, logger: testLogger() });

    it('sees hubs join, stop, and lapse when killed, and tells each change', async () => {
      const prefix = newPrefix();
      const a = open(prefix, 'hub-a');
      let b: HubMembership | null = null;
      const changes: string[] = [];
      a.onChange((live) => void changes.push(live.join(',')));
      try {
        await a.ready();
        expect(a.live()).toEqual(['hub-a']);
        b = open(prefix, 'hub-b');
        const c = open(prefix, 'hub-c');
        await Promise.all([b.ready(), c.ready()]);
        await eventually(async () => a.live().join(','), (l) => l === 'hub-a,hub-b,hub-c');
        expect(a.live()).toEqual(['hub-a', 'hub-b', 'hub-c']);
        expect(await admin.pTTL(`${prefix}node:hub-b`)).toBeLessThanOrEqual(600);
        await b.close();
        expect(await eventually(async () => a.live().join(','), (l) => l === 'hub-a,hub-c')).toBe('hub-a,hub-c');
        c.destroy();
        expect(await eventually(async () => a.live().join(','), (l) => l === 'hub-a')).toBe('hub-a');
        expect(changes.at(-1)).toBe('hub-a');
        expect(changes).toContain('hub-a,hub-c');
        expect(await admin.sMembers(`${prefix}nodes`)).toEqual(['hub-a']);
      } finally {
        await a.close();
        if (b?.isReady()) await b.close();
        await dropKeys(prefix);
      }
    });

    it('keeps itself live and its last view while Redis is unreachable', async () => {
      const logger = testLogger();
      const m = new HubMembership({ url: 'redis://127.0.0.1:1', prefix: newPrefix(), hubId: 'alone', ttlMs: 3000, logger });
      try {
        await m.refresh();
        expect(m.live()).toEqual(['alone']);
        expect(m.isReady()).toBe(false);
        expect(logger.warnings.filter((w) => w.startsWith('redis membership not refreshed'))).toHaveLength(1);
      } finally {
        await m.close();
      }
    });
  });

  describe('RedisInvalidation', () => {
    it('tells the other hubs what changed, never the writer, and "everything" to a hub back from a lost connection', async () => {
      const prefix = newPrefix();
      const logger = testLogger();
      const bId = hubId('b');
      const a = new RedisInvalidation({ url: redisAt, prefix, hubId: hubId('a'), logger });
      const b = new RedisInvalidation({ url: redisAt, prefix, hubId: bId, logger });
      const heardA: string[] = [];
      const heardB: string[] = [];
      a.onInvalidate((k: InvalidationKind, id) => void heardA.push(`${k}:${id}`));
      b.onInvalidate((k: InvalidationKind, id) => void heardB.push(`${k}:${id}`));
      try {
        await Promise.all([a.ready(), b.ready()]);
        a.invalidate('item', 'i1');
        a.invalidate('participant', 'ann');
        expect(await eventually(async () => heardB, (xs) => xs.length >= 2)).toEqual(['item:i1', 'participant:ann']);
        await kill(`${prefix}${bId}:invalidate-sub`);
        expect(await eventually(async () => heardB, (xs) => xs.length >= 3)).toEqual(['item:i1', 'participant:ann', '*:']);
        b.invalidate('project', 'p1');
        expect(await eventually(async () => heardA, (xs) => xs.length >= 1)).toEqual(['project:p1']);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('tells every other hub to reload everything when a hub that dropped invalidations is back', async () => {
      const relay = relayTo();
      await relay.start();
      const prefix = newPrefix();
      const logger = testLogger();
      const a = new RedisInvalidation({ url: urlOf(relay), prefix, hubId: hubId('a'), logger });
      const b = new RedisInvalidation({ url: redisAt, prefix, hubId: hubId('b'), logger });
      const heardB: string[] = [];
      b.onInvalidate((k, id) => void heardB.push(`${k}:${id}`));
      try {
        await Promise.all([a.ready(), b.ready()]);
        await relay.cut();
        await eventually(async () => a.isReady(), (up) => !up);
        a.invalidate('item', 'lost');
        expect(a.dropped).toBe(1);
        await relay.start();
        await a.ready();
        expect(await eventually(async () => heardB, (xs) => xs.length >= 1)).toEqual(['*:']);
      } finally {
        await Promise.all([a.close(), b.close()]);
        await relay.cut();
      }
    });
  });
}
