/**
 * npm run bench:cluster — one hub on SQLite, one hub on PostgreSQL, three hubs on PostgreSQL + Redis,
 * side by side in one run (A B C, A B C, … over `--reps`, medians): the same clients in rooms of 4 at
 * the same fixed rate, each configuration a fresh start. Reported: delivered share, p50/p99, the hubs'
 * CPU per delivery (all hub processes), PostgreSQL's (the postmaster, its helpers and the backends of
 * this run's database) and Redis's own CPU per delivery. Then the store alone: messages committed per
 * second through PostgresStore's group commit, beside SqliteStore's in the same run (bench:store's
 * fan-out workload), against the target of 20,000/s. Ends with what two cores can and cannot show,
 * and a projection to N machines from the measured costs.
 *
 * The 3-hub configuration spreads clients over the hubs (client i on hub i mod 3), so the 4 members of
 * a room sit on different hubs and every delivery but the sender's own hub's crosses Redis.
 *
 * Flags: --quick (one repetition, a small rate, about a minute), --reps N, --rate M (messages/s),
 * --clients N; --store-only: the store part alone (every run printed, 5 repetitions unless --reps says
 * otherwise), --store-messages N (messages a store run). PostgreSQL and Redis: PARLEY_TEST_DATABASE_URL (a server's database to create others
 * in) and PARLEY_TEST_REDIS_URL, else the local defaults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ULIMIT, startGenerator, stopGenerator, type Generator } from './load/driver.js';
import { createClient } from 'redis';
import { PostgresStore } from '../server/adapters/postgres/postgres-store.js';
import { freshPostgresDatabase } from '../test/support/services.js';
import { SqliteStore } from '../server/adapters/sqlite/sqlite-store.js';
import type { ConversationRecord } from '../server/core/model.js';
import type { Logger, Store } from '../server/core/ports/index.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    rate: { type: 'string' },
    clients: { type: 'string' },
    'store-only': { type: 'boolean', default: false },
    'store-messages': { type: 'string' },
  },
});
const STORE_ONLY = values['store-only'];
const QUICK = values.quick;
const S = QUICK
  ? { reps: 1, clients: 240, rate: 200, durationMs: 3000, drainMs: 2000, storeMessages: 10_000 }
  : { reps: 3, clients: 1200, rate: 800, durationMs: 8000, drainMs: 3000, storeMessages: 50_000 };
if (STORE_ONLY) S.reps = 5;
if (values.reps) S.reps = Number(values.reps);
if (values['store-messages']) S.storeMessages = Number(values['store-messages']);
if (values.rate) S.rate = Number(values.rate);
if (values.clients) S.clients = Number(values.clients);
const GROUP = 4;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(ROOT, 'dist');
const API_KEY = 'bench-api-key-0123456789';
const JWT_SECRET = 'bench-jwt-secret-0123456789-0123456789';
const CLK_TCK = 100;
const PG_SERVER = process.env.PARLEY_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.PARLEY_TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const STORE_TARGET = 20_000;

setTimeout(() => {
  console.error('bench:cluster: watchdog fired');
  process.exit(1);
}, 1_800_000).unref();


// ─── CPU of processes ────────────────────────────────────────────────────────────────────────────────

/** utime + stime of a process (all its threads), ms; null when it is gone. */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}
function processes(): Array<{ pid: number; comm: string; cmdline: string }> {
  const out: Array<{ pid: number; comm: string; cmdline: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(d), comm, cmdline });
    } catch {
      // gone
    }
  }
  return out;
}
/**
 * PostgreSQL's processes that work for this run: the postmaster and its helpers (checkpointer, WAL
 * writer, background writer, autovacuum launcher; shared with anyone else on the server), and the
 * backends and autovacuum workers whose title names this run's database (the hubs' pools). Backends of
 * other databases are left out.
 */
function postgresPids(database: string | null): number[] {
  return processes()
    .filter((p) => p.comm === 'postgres' || p.cmdline.startsWith('postgres:'))
    .filter((p) => {
      const title = p.cmdline;
      if (!title.startsWith('postgres:')) return true; // the postmaster
      if (/checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|stats collector/.test(title)) return true;
      return database !== null && (title.includes(` ${database} `) || title.endsWith(` ${database}`));
    })
    .map((p) => p.pid);
}
function redisPids(): number[] {
  return processes()
    .filter((p) => p.comm === 'redis-server')
    .map((p) => p.pid);
}
/** CPU ms per pid now. */
function snapshot(pids: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of pids) {
    const c = cpuMs(pid);
    if (c !== null) m.set(pid, c);
  }
  return m;
}
/** CPU spent between two snapshots; a process new in `b` counts from zero (a backend started in between). */
function spent(a: Map<number, number>, b: Map<number, number>): number {
  let sum = 0;
  for (const [pid, c] of b) sum += c - (a.get(pid) ?? 0);
  return sum;
}

// ─── hubs, services, generator ───────────────────────────────────────────────────────────────────────

interface Hub {
  proc: ChildProcess;
  port: number;
  dataDir: string;
}
function startHub(env: Record<string, string>): Promise<Hub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-cluster-bench-'));
  const proc = spawn('bash', ['-c', ULIMIT(S.clients + 1024), process.execPath, join(DIST, 'server', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PARLEY_PORT: '0',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_API_KEY: API_KEY,
      PARLEY_JWT_SECRET: JWT_SECRET,
      PARLEY_RATE_SEND_PER_S: '100000',
      PARLEY_RATE_SEND_BURST: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolvePort, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`hub did not start:\n${buf}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"listening".*?"port":(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.resume();
        resolvePort({ proc, port: Number(m[1]), dataDir });
      }
    });
    proc.once('exit', (code) => reject(new Error(`hub exited with ${code}:\n${buf}`)));
  });
}
async function stopHub(h: Hub): Promise<void> {
  if (h.proc.exitCode === null && h.proc.signalCode === null) {
    const exited = new Promise((r) => h.proc.once('exit', r));
    h.proc.kill('SIGKILL');
    await exited;
  }
  rmSync(h.dataDir, { recursive: true, force: true });
}

const freshDatabase = () => freshPostgresDatabase(PG_SERVER, 'parley_bench');

async function dropRedisPrefix(prefix: string): Promise<void> {
  const client = createClient({ url: REDIS });
  try {
    await client.connect();
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (batch.length) await client.del(batch);
    await client.close();
  } catch {
    client.destroy();
  }
}

interface RunReply {
  sent: number;
  expected: number;
  delivered: number;
  sendWallMs: number;
  p50: number;
  p99: number;
  cpuMs: number;
  wallMs: number;
}
function generator(ports: number[]): Generator {
  return startGenerator({ target: 'parley', port: ports[0], ports, clients: S.clients, group: GROUP, apiKey: API_KEY, jwtSecret: JWT_SECRET }, S.clients + 1024);
}

// ─── one configuration, one repetition ───────────────────────────────────────────────────────────────

type Config = 'sqlite' | 'postgres' | 'cluster';
const CONFIGS: readonly Config[] = ['sqlite', 'postgres', 'cluster'];
const LABEL: Record<Config, string> = {
  sqlite: '1 hub, SQLite',
  postgres: '1 hub, PostgreSQL',
  cluster: '3 hubs, PostgreSQL + Redis',
};
interface Result {
  deliveredShare: number;
  deliveriesPerS: number;
  p50: number;
  p99: number;
  hubUs: number;
  pgUs: number;
  redisUs: number;
  generatorCpu: number;
  /** The hubs', PostgreSQL's and Redis's CPU over the run's wall time, 1 = one core. */
  hubCpu: number;
  pgCpu: number;
  redisCpu: number;
}

async function runConfig(config: Config): Promise<Result> {
  const db = config === 'sqlite' ? null : await freshDatabase();
  const prefix = `parley-bench-${randomBytes(5).toString('hex')}:`;
  const hubs: Hub[] = [];
  let gen: Generator | null = null;
  try {
    const env: Record<string, string> = db ? { PARLEY_DATABASE_URL: db.url } : {};
    if (config === 'cluster') Object.assign(env, { PARLEY_REDIS_URL: REDIS, PARLEY_REDIS_PREFIX: prefix });
    // The first hub migrates the new database; the others start together.
    hubs.push(await startHub(env));
    if (config === 'cluster') hubs.push(...(await Promise.all([startHub(env), startHub(env)])));
    gen = generator(hubs.map((h) => h.port));
    await gen.next(); // ready: connected, conversations made
    // Every room's senders post once (not measured): the first frames through every path.
    gen.send({ cmd: 'warm' });
    const warm = (await gen.next()) as { sent: number; delivered: number };
    if (warm.delivered < warm.sent * (GROUP - 1)) console.error(`  ${config}: warm-up delivered ${warm.delivered} of ${warm.sent * (GROUP - 1)}`);
    const hubPids = hubs.map((h) => h.proc.pid!);
    const pgPids = () => (db ? postgresPids(db.name) : postgresPids(null));
    const h0 = snapshot(hubPids);
    const p0 = snapshot(pgPids());
    const r0 = snapshot(redisPids());
    gen.send({ cmd: 'run', rate: S.rate, durationMs: S.durationMs, drainMs: S.drainMs });
    const r = (await gen.next()) as RunReply;
    const h1 = snapshot(hubPids);
    const p1 = snapshot(pgPids());
    const r1 = snapshot(redisPids());
    const per = (ms: number) => (ms * 1000) / Math.max(1, r.delivered);
    return {
      deliveredShare: r.delivered / Math.max(1, r.expected),
      deliveriesPerS: r.delivered / (r.sendWallMs / 1000),
      p50: r.p50,
      p99: r.p99,
      hubUs: per(spent(h0, h1)),
      pgUs: per(spent(p0, p1)),
      redisUs: per(spent(r0, r1)),
      generatorCpu: r.cpuMs / r.wallMs,
      hubCpu: spent(h0, h1) / r.wallMs,
      pgCpu: spent(p0, p1) / r.wallMs,
      redisCpu: spent(r0, r1) / r.wallMs,
    };
  } finally {
    if (gen) await stopGenerator(gen);
    await Promise.all(hubs.map(stopHub));
    if (db) await db.drop();
    if (config === 'cluster') await dropRedisPrefix(prefix);
  }
}

// ─── the store alone (bench:store's fan-out workload) ────────────────────────────────────────────────

const quiet: Logger = { info() {}, warn() {}, error: (m, f) => console.error(m, f) };
const STORE_CONVERSATIONS = 2000;
const PER_TURN = 1000;

/**
 * bench/store.ts's fan-out mix against any Store: messages round-robin over 2,000 conversations of a
 * customer and three agents, 1,000 in flight a turn, each followed by its 4 delivered marks (written
 * behind, as in the hub). Messages per second from the first send to the last commit.
 */
async function storeRun(store: Store, messages: number): Promise<number> {
  const now = Date.now();
  const convs: ConversationRecord[] = [];
  const setup: Promise<unknown>[] = [];
  for (let i = 0; i < STORE_CONVERSATIONS; i++) {
    const members = new Map([`c${i}`, `a${i % 97}`, `b${i % 89}`, `d${i % 83}`].map((id) => [id, now] as [string, number]));
    const c: ConversationRecord = { id: `conv${i}`, kind: 'item', visibility: 'external', itemId: null, subject: null, createdBy: null, createdAt: now, members, lastSeq: 0, lastMessageAt: null };
    convs.push(c);
    setup.push(store.createConversation(c));
  }
  await Promise.all(setup);
  await store.listMessages('conv0', { limit: 1 });
  const started = process.hrtime.bigint();
  let sent = 0;
  while (sent < messages) {
    const turn: Promise<unknown>[] = [];
    for (let k = 0; k < PER_TURN && sent < messages; k++, sent++) {
      const c = convs[sent % STORE_CONVERSATIONS]!;
      const ids = [...c.members.keys()];
      const at = Date.now();
      turn.push(
        store
          .appendMessage({ conversationId: c.id, senderId: ids[0]!, senderKind: 'customer', body: `message ${sent} with a realistic length of text in it`, format: 'text', clientMsgId: `m${sent}`, source: 'ws', createdAt: at })
          .then(({ message }) => store.recordDelivered(c.id, ids, message.seq, at)),
      );
    }
    await Promise.all(turn);
  }
  // The last deliveries ride the next commit.
  await store.raiseSeen('flush', 'conv0', 1, Date.now());
  return messages / (Number(process.hrtime.bigint() - started) / 1e9);
}
async function storeSqlite(messages: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cluster-store-'));
  const store = new SqliteStore({ file: join(dir, 'bench.db'), logger: quiet });
  try {
    return await storeRun(store, messages);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
async function storePostgres(messages: number): Promise<number> {
  const db = await freshDatabase();
  try {
    const store = await PostgresStore.open({ url: db.url, logger: quiet });
    try {
      return await storeRun(store, messages);
    } finally {
      await store.close();
    }
  } finally {
    await db.drop();
  }
}

// ─── the run ─────────────────────────────────────────────────────────────────────────────────────────

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 0) => n.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');

if (STORE_ONLY) console.error(`bench:cluster --store-only: ${fmt(S.storeMessages)} messages a run, ${S.reps} repetition(s); ${cpus().length} cores; load average ${load()}`);
else console.error(`bench:cluster: ${S.clients} clients in rooms of ${GROUP}, ${S.rate} messages/s (${S.rate * (GROUP - 1)} deliveries/s), ${S.durationMs / 1000} s runs, ${S.reps} repetition(s); ${cpus().length} cores; load average ${load()}`);
const loadBefore = load();
const results: Record<Config, Result[]> = { sqlite: [], postgres: [], cluster: [] };
const storeResults: { sqlite: number[]; postgres: number[] } = { sqlite: [], postgres: [] };
for (let rep = 0; rep < S.reps; rep++) {
  for (const config of STORE_ONLY ? [] : CONFIGS) {
    const r = await runConfig(config);
    results[config].push(r);
    console.error(
      `  rep ${rep + 1} ${config}: ${(r.deliveredShare * 100).toFixed(1)} % delivered, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; µs per delivery hubs ${r.hubUs.toFixed(1)}, PostgreSQL ${r.pgUs.toFixed(1)}, Redis ${r.redisUs.toFixed(1)}; CPU hubs ${(r.hubCpu * 100).toFixed(0)} %, PostgreSQL ${(r.pgCpu * 100).toFixed(0)} %, Redis ${(r.redisCpu * 100).toFixed(0)} %, generator ${(r.generatorCpu * 100).toFixed(0)} %`,
    );
  }
  const sq = await storeSqlite(S.storeMessages);
  const pgs = await storePostgres(S.storeMessages);
  storeResults.sqlite.push(sq);
  storeResults.postgres.push(pgs);
  console.error(`  rep ${rep + 1} store: SQLite ${fmt(sq)} messages/s, PostgreSQL ${fmt(pgs)} messages/s; load average ${load()}`);
}
const loadAfter = load();
const sqStore = median(storeResults.sqlite);
const pgStore = median(storeResults.postgres);
function storeTable(): void {
  console.log('');
  console.log(`Store alone (bench:store's fan-out workload: each message with 4 delivered marks, ${fmt(S.storeMessages)} messages over ${fmt(STORE_CONVERSATIONS)} conversations, ${fmt(PER_TURN)} in flight):`);
  console.log('');
  console.log('| store | messages committed/s (median) | runs | target |');
  console.log('|---|---:|---|---|');
  console.log(`| PostgresStore (group commit, fresh database) | **${fmt(pgStore)}** | ${storeResults.postgres.map((x) => fmt(x)).join(' · ')} | ≥ ${fmt(STORE_TARGET)}: ${pgStore >= STORE_TARGET ? 'met' : 'not met'} |`);
  console.log(`| SqliteStore (group commit), same run | ${fmt(sqStore)} | ${storeResults.sqlite.map((x) => fmt(x)).join(' · ')} | |`);
}
if (STORE_ONLY) {
  console.log('');
  console.log(`## bench:cluster --store-only`);
  console.log('');
  console.log(`Median of ${S.reps} interleaved repetition(s) (runs beside); ${cpus().length} cores; load average before ${loadBefore}, after ${loadAfter}.`);
  storeTable();
  process.exit(0);
}

const med = (c: Config, k: keyof Result) => median(results[c].map((r) => r[k]));
const runs = (c: Config, k: keyof Result, d: number) => results[c].map((r) => r[k].toFixed(d)).join(' · ');
console.log('');
console.log(`## bench:cluster${QUICK ? ' (--quick: a smoke run, not comparable with the full run)' : ''}`);
console.log('');
console.log(
  `${S.clients} clients in direct conversations of ${GROUP} (1 customer, 3 agents), ${fmt(S.rate)} messages/s = ${fmt(S.rate * (GROUP - 1))} deliveries/s for ${S.durationMs / 1000} s, ` +
    `median of ${S.reps} interleaved repetition(s) (runs beside); ${cpus().length} cores; load average before ${loadBefore}, after ${loadAfter}.`,
);
console.log('');
console.log('| configuration | delivered | p50 ms | p99 ms | hubs µs/delivery | PostgreSQL µs/delivery | Redis µs/delivery | all three µs/delivery | hubs CPU | PostgreSQL CPU | Redis CPU | generator CPU |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const c of CONFIGS) {
  const total = median(results[c].map((r) => r.hubUs + r.pgUs + r.redisUs));
  console.log(
    `| ${LABEL[c]} | ${(med(c, 'deliveredShare') * 100).toFixed(1)} % | ${med(c, 'p50').toFixed(1)} | ${med(c, 'p99').toFixed(1)} (${runs(c, 'p99', 1)}) | **${med(c, 'hubUs').toFixed(1)}** (${runs(c, 'hubUs', 1)}) | ${med(c, 'pgUs').toFixed(1)} | ${med(c, 'redisUs').toFixed(1)} | ${total.toFixed(1)} | ${(med(c, 'hubCpu') * 100).toFixed(0)} % | ${(med(c, 'pgCpu') * 100).toFixed(0)} % | ${(med(c, 'redisCpu') * 100).toFixed(0)} % | ${(med(c, 'generatorCpu') * 100).toFixed(0)} % |`,
  );
}
console.log('');
console.log(
  'CPU is utime + stime from /proc over the sending window and drain, divided by deliveries. PostgreSQL: the postmaster, its helpers and the backends of this run\'s database; ' +
    'Redis: the redis-server process. Both servers are shared with anything else on the machine: what the rows without them (SQLite: PostgreSQL\'s helpers; 1 hub on PostgreSQL: Redis) show is that background.',
);
storeTable();

// ─── what two cores show, and a projection ──────────────────────────────────────────────────────────

const hub1 = med('postgres', 'hubUs');
const hub3 = med('cluster', 'hubUs');
const pgUs = med('cluster', 'pgUs');
const redisUs = med('cluster', 'redisUs');
const UTIL = 0.7;
/** Deliveries/s one 2-core machine of hubs carries at UTIL, one PostgreSQL machine, one Redis core. */
const perHubMachine = (2 * 1e6 * UTIL) / hub3;
const pgCeiling = pgUs > 0 ? (2 * 1e6 * UTIL) / pgUs : Infinity;
const redisCeiling = redisUs > 0 ? (1e6 * UTIL) / redisUs : Infinity;
console.log('');
console.log(
  `**What two cores can and cannot show.** The three hubs, PostgreSQL, Redis and the load generator share the same two cores, so the 3-hub row cannot show a speed-up: ` +
    `it measures what being several hubs costs. A hub of the cluster spends ${hub3.toFixed(1)} µs of CPU per delivery against ${hub1.toFixed(1)} µs for the one hub on PostgreSQL ` +
    `(${((hub3 / hub1 - 1) * 100).toFixed(0)} % more: publishing each frame to Redis and reading it back on the recipients' hubs), and Redis adds ${redisUs.toFixed(1)} µs of its own. ` +
    `What the run does show is the cost of each part per delivery, from which the capacity of separate machines follows; what it cannot show is contention between ` +
    `machines (network round trips, PostgreSQL's lock and WAL behaviour with many writers over a network, Redis's single thread near saturation).`,
);
console.log('');
console.log(
  `**Projection to N machines of 2 cores** (assumptions: hubs on machines of their own, two hubs a machine, each machine at ${UTIL * 100} % CPU; the measured 3-hub cost per delivery holds at any N ` +
    `(a room of 4 spans at most 4 hubs, so cross-hub traffic per delivery does not grow beyond that); one PostgreSQL primary on a 2-core machine of its own at ` +
    `${pgUs.toFixed(1)} µs per delivery; one Redis, single-threaded, one core at ${redisUs.toFixed(1)} µs per delivery; the network costs nothing extra; the load generator is elsewhere):`,
);
console.log('');
console.log('| hub machines N | hubs carry, deliveries/s | PostgreSQL ceiling | Redis ceiling | cluster carries, deliveries/s | limited by |');
console.log('|---:|---:|---:|---:|---:|---|');
for (const n of [1, 2, 4, 8, 16]) {
  const hubsCap = n * perHubMachine;
  const cap = Math.min(hubsCap, pgCeiling, redisCeiling);
  const by = cap === hubsCap ? 'hubs' : cap === pgCeiling ? 'PostgreSQL' : 'Redis';
  console.log(`| ${n} | ${fmt(hubsCap)} | ${fmt(pgCeiling)} | ${fmt(redisCeiling)} | **${fmt(cap)}** | ${by} |`);
}
console.log('');
console.log(
  `A single hub on SQLite carries ${fmt((2 * 1e6 * UTIL) / med('sqlite', 'hubUs'))} deliveries/s on the same assumptions (${med('sqlite', 'hubUs').toFixed(1)} µs per delivery, no database process): ` +
    `several hubs pay off in connections held and in surviving a hub's loss before they pay off in throughput.`,
);
process.exit(0);
