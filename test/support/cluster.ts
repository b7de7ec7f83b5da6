import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { TestHub } from './hub.js';
import { until } from './until.js';
import { TcpRelay, freshPostgresDatabase, postgresUrl, redisUrl } from './services.js';

/** A hub's id, as it logged it at start (the `engines` line). */
export function hubIdOf(hub: TestHub): string {
  const m = /"msg":"engines"[^\n]*"hub":"([^"]+)"/.exec(hub.output);
  if (!m) throw new Error(`no hub id in the log:\n${hub.output}`);
  return m[1]!;
}

/** The outside services several hubs need, or null (after a loud banner) when either is unreachable. */
export async function clusterServices(): Promise<{ postgres: string; redis: string } | null> {
  const [postgres, redis] = await Promise.all([postgresUrl(), redisUrl()]);
  return postgres && redis ? { postgres, redis } : null;
}

export interface ClusterOptions {
  /** Environment for every hub (on top of the database, Redis and prefix). */
  env?: Record<string, string>;
}

/**
 * N real hub processes (the `npm start` entry, each on port 0 with its own data dir) behind no load
 * balancer: one fresh PostgreSQL database made for this cluster and dropped by `stop()`, one Redis
 * with a prefix of its own (so test files never see each other's hubs, frames or presence).
 */
export class TestCluster {
  readonly hubs: TestHub[] = [];

  private constructor(
    readonly db: { url: string; drop(): Promise<void> },
    readonly redisUrl: string,
    readonly prefix: string,
    private readonly env: Record<string, string>,
  ) {}

  static async start(n: number, services: { postgres: string; redis: string }, opts: ClusterOptions = {}): Promise<TestCluster> {
    const db = await freshPostgresDatabase(services.postgres);
    const prefix = `parley-test-${randomBytes(5).toString('hex')}:`;
    const cluster = new TestCluster(db, services.redis, prefix, {
      PARLEY_DATABASE_URL: db.url,
      PARLEY_REDIS_URL: services.redis,
      PARLEY_REDIS_PREFIX: prefix,
      ...opts.env,
    });
    try {
      // The first one migrates the new database; the others start together.
      await cluster.add();
      await Promise.all(Array.from({ length: n - 1 }, () => cluster.add()));
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** Start one more hub on the same database and Redis. */
  async add(env: Record<string, string> = {}): Promise<TestHub> {
    const hub = await TestHub.start({ env: { ...this.env, ...env } });
    this.hubs.push(hub);
    return hub;
  }

  /** Ids of the live hubs as Redis holds them (keys `<prefix>node:<id>`). */
  async liveHubs(): Promise<string[]> {
    const client = createClient({ url: this.redisUrl });
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `${this.prefix}node:*`, COUNT: 100 })) keys.push(...batch);
      return keys.map((k) => k.slice(`${this.prefix}node:`.length)).sort();
    } finally {
      await client.close();
    }
  }

  /** Stop every hub, drop the database and every Redis key of this cluster's prefix. */
  async stop(): Promise<void> {
    await Promise.all(this.hubs.map((h) => h.stop()));
    await this.db.drop();
    const client = createClient({ url: this.redisUrl });
    try {
      await client.connect();
      for await (const batch of client.scanIterator({ MATCH: `${this.prefix}*`, COUNT: 1000 })) if (batch.length) await client.del(batch);
      await client.close();
    } catch {
      client.destroy();
    }
  }
}

/**
 * One hub straight to Redis and a second one through a relay to it (cut by the test, or `delayMs`
 * late toward Redis: a hub far from it). `stop()` stops both and the relay.
 */
export async function clusterBesideRelay(services: { postgres: string; redis: string }, delayMs = 0): Promise<{ cluster: TestCluster; relay: TcpRelay; stop(): Promise<void> }> {
  const u = new URL(services.redis);
  const relay = new TcpRelay({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) }, { delayMs });
  await relay.start();
  const cluster = await TestCluster.start(1, services);
  await cluster.add({ PARLEY_REDIS_URL: `redis://127.0.0.1:${relay.port}` });
  return {
    cluster,
    relay,
    async stop() {
      await cluster.stop();
      await relay.cut();
    },
  };
}

/** Two users created through `a`, and their direct conversation, once `b` knows it. */
export async function directPair(a: TestHub, b: TestHub, names: [string, string]): Promise<{ id: string }> {
  await a.user(names[0]);
  await a.user(names[1]);
  const conv = await a.ok<{ id: string }>('POST', '/v1/conversations', { kind: 'direct', createdBy: names[0], members: [names[1]] });
  await until(async () => (await b.api('GET', `/v1/conversations/${conv.id}`)).status === 200, 'the conversation on the second hub');
  return conv;
}
