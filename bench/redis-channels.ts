/**
 * redis-channels — which Redis pub/sub layout carries frames between hubs (DESIGN §8: "one channel per
 * hub, or sharded pub/sub per conversation: measure"). Three subscriber hubs, each listening to a
 * share of the topics (as a hub listens to the topics of its sessions), one publishing hub; every
 * frame published must reach each hub that listens to its topic. Per layout: the time to subscribe,
 * the wall time until every delivery arrived, and the Redis server's CPU (INFO cpu) over the publishing.
 *
 * - topic:   PUBLISH/SUBSCRIBE, one channel per topic: Redis routes; a hub gets only its topics.
 * - sharded: SPUBLISH/SSUBSCRIBE, one shard channel per topic: the same on one node, and spreads over
 *            the shards of a Redis Cluster.
 * - hub:     one channel per hub: the publisher sends a frame once to each hub that listens to its
 *            topic (here it is told who listens; a real one would keep that registry in Redis).
 *
 *   node dist/bench/redis-channels.js [--url redis://127.0.0.1:6379 --frames 20000 --topics 5000 --per-hub 2000]
 */
import { parseArgs } from 'node:util';
import { createClient } from 'redis';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.PARLEY_REDIS_URL || 'redis://127.0.0.1:6379' },
    frames: { type: 'string', default: '20000' },
    topics: { type: 'string', default: '5000' },
    'per-hub': { type: 'string', default: '2000' },
    hubs: { type: 'string', default: '3' },
  },
});
const FRAMES = Number(values.frames);
const TOPICS = Number(values.topics);
const PER_HUB = Number(values['per-hub']);
const HUBS = Number(values.hubs);
const PREFIX = `bench-${process.pid}:`;
const FRAME = JSON.stringify({ t: 'message', c: 'c1', seq: 1, body: 'x'.repeat(160) });

type Layout = 'topic' | 'sharded' | 'hub';

/** A deterministic pseudo-random sequence, so every layout gets the same topics and frames. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function run(layout: Layout) {
  const rand = rng(42);
  const interest: Array<Set<number>> = [];
  for (let h = 0; h < HUBS; h++) {
    const set = new Set<number>();
    while (set.size < PER_HUB) set.add(Math.floor(rand() * TOPICS));
    interest.push(set);
  }
  const topicsOf = Array.from({ length: FRAMES }, () => Math.floor(rand() * TOPICS));
  let expected = 0;
  for (const t of topicsOf) for (const set of interest) if (set.has(t)) expected++;

  const admin = await createClient({ url: values.url }).connect();
  const pub = await createClient({ url: values.url }).connect();
  const subs = await Promise.all(interest.map(() => createClient({ url: values.url }).connect()));
  let got = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const onFrame = () => {
    if (++got === expected) resolveAll();
  };

  const t0 = performance.now();
  await Promise.all(
    subs.map(async (sub, h) => {
      const set = interest[h]!;
      if (layout === 'hub') {
        await sub.subscribe(`${PREFIX}hub:${h}`, (msg) => {
          // The hub would look the topic up in its own set; the cost of that is on the hub, not on Redis.
          const nl = msg.indexOf('\n');
          if (set.has(Number(msg.slice(0, nl)))) onFrame();
        });
      } else {
        const channels = [...set].map((t) => `${PREFIX}t:${t}`);
        const listener = () => onFrame();
        // One SUBSCRIBE per topic, as a hub issues them when a topic gains its first local subscriber.
        await Promise.all(channels.map((c) => (layout === 'sharded' ? sub.sSubscribe(c, listener) : sub.subscribe(c, listener))));
      }
    }),
  );
  const subscribeMs = performance.now() - t0;

  const cpu = async () => {
    const info = await admin.info('cpu');
    const num = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
    return num('used_cpu_user') + num('used_cpu_sys');
  };
  const cpu0 = await cpu();
  const t1 = performance.now();
  let publishes = 0;
  for (const t of topicsOf) {
    if (layout === 'hub') {
      for (let h = 0; h < HUBS; h++) {
        if (!interest[h]!.has(t)) continue;
        void pub.publish(`${PREFIX}hub:${h}`, `${t}\n${FRAME}`);
        publishes++;
      }
    } else {
      void (layout === 'sharded' ? pub.sPublish(`${PREFIX}t:${t}`, FRAME) : pub.publish(`${PREFIX}t:${t}`, FRAME));
      publishes++;
    }
    // Let the client flush now and then, as a hub publishing between socket events does.
    if (publishes % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  await all;
  const wallMs = performance.now() - t1;
  const redisCpuMs = ((await cpu()) - cpu0) * 1000;
  await Promise.all([admin, pub, ...subs].map((c) => c.close()));
  return { layout, subscribeMs: Math.round(subscribeMs), frames: FRAMES, publishes, deliveries: expected, wallMs: Math.round(wallMs), perSecond: Math.round(expected / (wallMs / 1000)), redisCpuMs: Math.round(redisCpuMs) };
}

const rows = [];
for (const layout of ['topic', 'sharded', 'hub'] as const) rows.push(await run(layout));
console.table(rows);
