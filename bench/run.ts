/**
 * npm run bench — Parley beside Socket.IO, a durable Socket.IO + SQLite app and a raw uWebSockets.js
 * hub, same load generator, same run, interleaved (A B C D, A B C D, …), medians in a Markdown table,
 * also written to bench/results/latest.md. `npm run bench:quick` is a smoke version (CI runs it; it
 * asserts nothing, and its figures are not comparable with the full run's).
 *
 * Scenarios: (1) a fixed rate, and the same with 214-byte and 4 KB bodies; (2) saturation, ×1.5 a
 * step until p99 > 50 ms or < 95 % delivered; (3) idle authenticated sessions; (4) how cost grows:
 * rooms of 4, 50 and 500 members, 2,000 and 20,000 clients, 214-byte and 4 KB bodies, Parley beside
 * raw uWS and bare Socket.IO (full run only); (5) the store, hub-without-sockets and timer benchmarks;
 * then the targets, each measured against its goal.
 *
 * Flags: --quick, --reps N, --only parley,socketio,… (narrows the run; the report lists every
 * target), --skip-micro (no section 5), --skip-curves (no section 4), --curves (section 4 in quick mode
 * too, at its scale: to try the curves out), --many N (the many-clients point, default 20,000).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ULIMIT, startGenerator, stopGenerator, type Generator } from './load/driver.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    only: { type: 'string' },
    'skip-micro': { type: 'boolean', default: false },
    'skip-curves': { type: 'boolean', default: false },
    curves: { type: 'boolean', default: false },
    many: { type: 'string' },
  },
});
const QUICK = values.quick;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(ROOT, 'dist');
const TARGETS = ['parley', 'socketio', 'socketio-durable', 'uws-raw'] as const;
type Target = (typeof TARGETS)[number];
/** The curves compare Parley with the transport alone (raw uWS) and with bare Socket.IO. */
const CURVE_TARGETS: readonly Target[] = ['parley', 'socketio', 'uws-raw'];
const S = QUICK
  ? { reps: 1, clients: 400, rate: 600, durationMs: 2000, satSteps: 3, satMs: 1500, idle: 1000, drainMs: 1000 }
  : { reps: 3, clients: 2000, rate: 3000, durationMs: 8000, satSteps: 10, satMs: 4000, idle: 10000, drainMs: 2000 };
if (values.reps) S.reps = Number(values.reps);
const GROUP = 4;
/** The fixed rate's deliveries per second; the room curve holds it for every room size. */
const DELIVERIES_PER_S = S.rate * (GROUP - 1);
const BODIES = [214, 4096] as const;
const ROOMS = [50, 500] as const;
const MANY_CLIENTS = values.many ? Number(values.many) : 20_000;
/** Descriptors a process needs beside its sockets (files, pipes, the event loop's own). */
const FD_SPARE = 1024;
const CURVES = (!QUICK || values.curves) && !values['skip-curves'];
const API_KEY = 'bench-api-key-0123456789';
const JWT_SECRET = 'bench-jwt-secret-0123456789-0123456789';
const CLK_TCK = 100;
// A hang stops the run; the quick run (CI) holds the notify and inbound scenarios too. The full run's
// curves (20,000 clients a target and repetition) add about 15 minutes.
const WATCHDOG_MS = QUICK ? 600_000 : 5_400_000;

setTimeout(() => {
  console.error('bench: watchdog fired');
  process.exit(1);
}, WATCHDOG_MS).unref();

/** The open-files limit a server or generator started with ULIMIT(want) gets. */
function openFilesLimit(want: number): number {
  const out = execFileSync('bash', ['-c', ULIMIT(want), 'bash', '-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
}

interface Server {
  proc: ChildProcess;
  port: number;
  dataDir?: string;
}

function startServer(target: Target, clients: number): Promise<Server> {
  const entry = target === 'parley' ? join(DIST, 'server', 'main.js') : join(DIST, 'bench', 'peers', `${target}.js`);
  const dataDir = target === 'parley' || target === 'socketio-durable' ? mkdtempSync(join(tmpdir(), `${target}-bench-`)) : undefined;
  const proc = spawn('bash', ['-c', ULIMIT(clients + FD_SPARE), process.execPath, entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PARLEY_PORT: '0',
      PARLEY_DATA_DIR: dataDir ?? '',
      PARLEY_API_KEY: API_KEY,
      PARLEY_JWT_SECRET: JWT_SECRET,
      PARLEY_RATE_SEND_PER_S: '100000',
      PARLEY_RATE_SEND_BURST: '100000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolvePort, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${target} did not start`)), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"listening".*?"port":(\d+)/.exec(buf) ?? /^listening (\d+)$/m.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolvePort({ proc, port: Number(m[1]), dataDir });
      }
    });
    proc.once('exit', (code) => reject(new Error(`${target} exited with ${code}`)));
  });
}

async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGKILL');
    await exited;
  }
  if (s.dataDir) rmSync(s.dataDir, { recursive: true, force: true });
}

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}
function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}
async function heapBytes(target: Target, port: number): Promise<number> {
  if (target === 'parley') {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/^parley_process_nodejs_heap_size_used_bytes (\S+)/m.exec(text)![1]);
  }
  return Number(await (await fetch(`http://127.0.0.1:${port}/heap`)).text());
}

/** What one generator `run` answers. */
interface RunReply {
  sent: number;
  expected: number;
  delivered: number;
  acked: number;
  sendWallMs: number;
  p50: number;
  p99: number;
  max: number;
  cpuMs: number;
  wallMs: number;
}
function generator(target: Target, port: number, clients: number, idle = false, group = GROUP): Generator {
  return startGenerator({ target, port, clients, idle, group, apiKey: API_KEY, jwtSecret: JWT_SECRET }, clients + FD_SPARE);
}

/** One run at a fixed rate, as measured from both sides. */
interface Fixed {
  /** The repetition it ran in: ratios pair runs of the same repetition. */
  rep: number;
  rate: number;
  sent: number;
  /** Sends acked (socketio-durable's callbacks; 0 where the generator does not count them). */
  acked: number;
  deliveriesPerS: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
  cpuUsPerDelivery: number;
  /** The server's CPU over the run's wall time, 1 = one core. */
  serverCpu: number;
  generatorCpu: number;
  rssMb: number;
}
interface Saturation {
  bestDeliveriesPerS: number;
  limit: string;
}
interface Idle {
  rssPerConnKb: number;
  heapPerConnKb: number;
}
interface TargetResults {
  /** One per repetition, in order; a repetition's ratios are taken between its own entries. */
  fixed: Fixed[];
  sat: Saturation[];
  idle: Idle[];
  /** Curve points by key (`body:214`, `room:500`, `clients:20000`), one per repetition. */
  points: Record<string, Fixed[]>;
}
const results = Object.fromEntries(TARGETS.map((t) => [t, { fixed: [], sat: [], idle: [], points: {} }])) as unknown as Record<Target, TargetResults>;
const addPoint = (t: Target, key: string, f: Fixed) => (results[t].points[key] ??= []).push(f);

let currentRep = 0;
async function fixedRun(gen: Generator, pid: number, rate: number, bodyBytes = 0, rooms?: number): Promise<Fixed> {
  const c0 = cpuMs(pid);
  gen.send({ cmd: 'run', rate, durationMs: S.durationMs, drainMs: S.drainMs, bodyBytes, rooms });
  const r = (await gen.next()) as RunReply;
  const c1 = cpuMs(pid);
  return {
    rep: currentRep,
    rate,
    sent: r.sent,
    acked: r.acked,
    deliveriesPerS: r.delivered / (r.sendWallMs / 1000),
    delivered: r.delivered,
    expected: r.expected,
    p50: r.p50,
    p99: r.p99,
    max: r.max,
    cpuUsPerDelivery: ((c1 - c0) * 1000) / Math.max(1, r.delivered),
    serverCpu: (c1 - c0) / r.wallMs,
    generatorCpu: r.cpuMs / r.wallMs,
    rssMb: rssBytes(pid) / 1048576,
  };
}

async function loadScenarios(target: Target): Promise<void> {
  const server = await startServer(target, S.clients);
  const pid = server.proc.pid!;
  const gen = generator(target, server.port, S.clients);
  try {
    await gen.next(); // ready
    // (1) the fixed rate, then (full run, curve targets) the same with larger bodies
    results[target].fixed.push(await fixedRun(gen, pid, S.rate));
    if (CURVES && CURVE_TARGETS.includes(target)) for (const b of BODIES) addPoint(target, `body:${b}`, await fixedRun(gen, pid, S.rate, b));
    // (2) saturation
    let best = 0;
    let limit = `not reached by ${S.satSteps} steps`;
    let rate = S.rate;
    for (let step = 0; step < S.satSteps; step++, rate *= 1.5) {
      const s0 = cpuMs(pid);
      gen.send({ cmd: 'run', rate, durationMs: S.satMs, drainMs: S.drainMs });
      const x = (await gen.next()) as RunReply;
      const serverCpu = (cpuMs(pid) - s0) / x.wallMs;
      const genCpu = x.cpuMs / x.wallMs;
      const ok = x.p99 <= 50 && x.delivered >= 0.95 * x.expected;
      if (!ok) {
        limit = `${Math.round(rate * 3).toLocaleString('en')}/s: ${serverCpu >= genCpu ? 'server' : 'load generator'} CPU (server ${Math.round(serverCpu * 100)} %, generator ${Math.round(genCpu * 100)} %)`;
        break;
      }
      best = Math.max(best, x.delivered / (x.sendWallMs / 1000));
    }
    results[target].sat.push({ bestDeliveriesPerS: best, limit });
  } finally {
    await stopGenerator(gen);
    await stopServer(server);
  }
}

/** One curve point in a session of its own: `clients` clients in rooms of `group`, one fixed-rate run. */
async function curvePoint(target: Target, key: string, clients: number, group: number, rate: number): Promise<void> {
  const server = await startServer(target, clients);
  const pid = server.proc.pid!;
  const gen = generator(target, server.port, clients, false, group);
  let timer: NodeJS.Timeout | undefined;
  try {
    const ready = (await Promise.race([
      gen.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${target} ${key}: not ready in 10 minutes`)), 600_000);
      }),
    ])) as { clients: number; connectMs: number };
    clearTimeout(timer);
    console.error(`  ${target} ${key}: ${ready.clients} clients ready in ${(ready.connectMs / 1000).toFixed(1)} s`);
    if (group > GROUP) {
      // Every sender's first post before the measured run (Parley: its item rooms' membership changes).
      gen.send({ cmd: 'warm' });
      await gen.next();
    }
    addPoint(target, key, await fixedRun(gen, pid, rate));
    // The many-clients point again with only the fixed-rate run's rooms busy: the added sessions idle.
    if (key.startsWith('clients:')) addPoint(target, `${key}:busy`, await fixedRun(gen, pid, rate, 0, S.clients / GROUP));
  } finally {
    clearTimeout(timer);
    if (gen.proc.exitCode === null) await stopGenerator(gen);
    await stopServer(server);
  }
}

async function idleScenario(target: Target): Promise<void> {
  const server = await startServer(target, S.idle);
  const pid = server.proc.pid!;
  try {
    const gen = generator(target, server.port, S.idle, true);
    await gen.next(); // participants exist (Parley), nothing connected yet
    await new Promise((r) => setTimeout(r, 1000));
    const rss0 = rssBytes(pid);
    const heap0 = await heapBytes(target, server.port);
    gen.send({ cmd: 'connect' });
    await gen.next();
    await new Promise((r) => setTimeout(r, 2000));
    const rss1 = rssBytes(pid);
    const heap1 = await heapBytes(target, server.port);
    results[target].idle.push({ rssPerConnKb: (rss1 - rss0) / S.idle / 1024, heapPerConnKb: (heap1 - heap0) / S.idle / 1024 });
    await stopGenerator(gen);
  } finally {
    await stopServer(server);
  }
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};
const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '—');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '—');
const pct = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? '+' : '−'}${Math.abs(Math.round(n * 100))} %` : '—');

/** `--only parley,uws-raw` narrows the run (for profiling); the report still lists every target. */
const RUN = TARGETS.filter((t) => !values.only || values.only.split(',').includes(t));
const RUN_CURVES = CURVE_TARGETS.filter((t) => RUN.includes(t));

// The many-clients point: as many as the open-files limit allows on both sides, up to 20,000.
const fdLimit = openFilesLimit(MANY_CLIENTS + FD_SPARE);
const manyClients = Math.min(MANY_CLIENTS, Math.floor((fdLimit - FD_SPARE) / GROUP) * GROUP);
const manyNote =
  manyClients < MANY_CLIENTS ? `${manyClients.toLocaleString('en')} clients, not ${MANY_CLIENTS.toLocaleString('en')}: the open-files limit here is ${fdLimit.toLocaleString('en')} and each side needs one descriptor per client plus ${FD_SPARE} spare` : '';
const curveSessions: Array<{ key: string; clients: number; group: number; rate: number }> = [
  ...ROOMS.map((g) => ({ key: `room:${g}`, clients: Math.max(S.clients, g), group: g, rate: DELIVERIES_PER_S / (g - 1) })),
  ...(manyClients > S.clients ? [{ key: `clients:${manyClients}`, clients: manyClients, group: GROUP, rate: S.rate }] : []),
];

const curveFailures: string[] = [];
const t0 = Date.now();
for (let rep = 0; rep < S.reps; rep++) {
  currentRep = rep;
  for (const t of RUN) {
    console.error(`rep ${rep + 1}/${S.reps}: ${t} (fixed rate${CURVES && CURVE_TARGETS.includes(t) ? ', bodies' : ''}, saturation)`);
    await loadScenarios(t);
  }
  for (const t of RUN) {
    console.error(`rep ${rep + 1}/${S.reps}: ${t} (idle)`);
    await idleScenario(t);
  }
  if (!CURVES) continue;
  for (const c of curveSessions) {
    for (const t of RUN_CURVES) {
      console.error(`rep ${rep + 1}/${S.reps}: ${t} (curve ${c.key}: ${c.clients} clients, rooms of ${c.group}, ${c.rate.toFixed(1)} messages/s)`);
      // A point that fails (a limit of this machine) is reported as missing; the run goes on.
      await curvePoint(t, c.key, c.clients, c.group, c.rate).catch((e: Error) => {
        console.error(`  ${t} ${c.key} failed: ${e.message}`);
        curveFailures.push(`${t} ${c.key} (repetition ${rep + 1}): ${e.message}`);
      });
    }
  }
}
const socketMinutes = (Date.now() - t0) / 60000;

const lines: string[] = [];
const say = (s = '') => lines.push(s);
const NOT_COMPARABLE =
  '**Quick mode: these figures are not comparable with the full run** (`npm run bench`: 2,000 clients, 9,000 deliveries/s, 8 s runs, 3 repetitions); they prove that every target and scenario still runs, and the targets below are measured only for show.';
say(`# Parley beside its peers${QUICK ? ' (quick smoke run)' : ''}`);
say();
if (QUICK) {
  say(NOT_COMPARABLE);
  say();
}
say(`${new Date().toISOString().slice(0, 10)}, ${S.reps} interleaved repetition(s), medians. Node ${process.version}, loopback, one load-generator process.`);
say(`Conversations of 1 customer + 3 agents; every message goes to the 3 other members.`);
say(
  'Targets: `parley` the real hub; `socketio` bare Socket.IO 4 rooms (no auth, no storage); `socketio-durable` Socket.IO + better-sqlite3 (JWT at connection, one prepared insert and commit per message, ack after it, then the broadcast); `uws-raw` a bare uWebSockets.js relay, the ceiling.',
);
say();
say(`## 1. Fixed rate: ${S.clients.toLocaleString('en')} clients, ${S.rate.toLocaleString('en')} messages/s (${DELIVERIES_PER_S.toLocaleString('en')} deliveries/s) for ${S.durationMs / 1000} s`);
say();
say('| target | deliveries/s | delivered | p50 ms | p99 ms | max ms | server CPU µs / delivery | server RSS MB |');
say('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const t of TARGETS) {
  const x = results[t].fixed;
  say(
    `| ${t} | ${f0(median(x.map((v) => v.deliveriesPerS)))} | ${f1(median(x.map((v) => (100 * v.delivered) / v.expected)))} % | ${f2(median(x.map((v) => v.p50)))} | ${f2(median(x.map((v) => v.p99)))} | ${f1(median(x.map((v) => v.max)))} | ${f1(median(x.map((v) => v.cpuUsPerDelivery)))} | ${f0(median(x.map((v) => v.rssMb)))} |`,
  );
}
say();
{
  const d = results['socketio-durable'].fixed;
  if (d.length) {
    say(`socketio-durable acked ${d.map((v) => `${f0(v.acked)} of ${f0(v.sent)}`).join(', ')} sends (its Socket.IO callbacks, after the insert).`);
    say();
  }
}
say('## 2. Saturation: ×1.5 a step until p99 > 50 ms or < 95 % delivered');
say();
say('| target | highest passing deliveries/s | what stopped it (median run) |');
say('|---|---:|---|');
for (const t of TARGETS) {
  const x = results[t].sat;
  const m = median(x.map((v) => v.bestDeliveriesPerS));
  say(`| ${t} | ${f0(m)} | ${x.find((v) => v.bestDeliveriesPerS === m)?.limit ?? x[0]?.limit ?? '—'} |`);
}
say();
say(`## 3. Idle: ${S.idle.toLocaleString('en')} authenticated sessions`);
say();
say('| target | server RSS per session KB | heap per session KB |');
say('|---|---:|---:|');
for (const t of TARGETS) {
  const x = results[t].idle;
  say(`| ${t} | ${f2(median(x.map((v) => v.rssPerConnKb)))} | ${f2(median(x.map((v) => v.heapPerConnKb)))} |`);
}
say();

// ---- (4) How cost grows ------------------------------------------------------------------------------

interface CurvePointSpec {
  label: string;
  /** Where its runs are: the fixed-rate run (`fixed`) or a curve point's key. */
  key: string;
  clients: number;
  rate: number;
}
/** A point's runs for one target (the fixed-rate run is every curve's first point). */
const runsOf = (t: Target, key: string): Fixed[] => (key === 'fixed' ? results[t].fixed : (results[t].points[key] ?? []));
/** The median over repetitions of a ratio taken within each repetition. */
function ratioByRep(a: Fixed[], b: Fixed[], f: (x: Fixed) => number): { median: number; runs: number[] } {
  const runs: number[] = [];
  for (const x of a) {
    const y = b.find((v) => v.rep === x.rep);
    if (y) runs.push(f(x) / f(y));
  }
  return { median: median(runs), runs };
}
const cost = (x: Fixed) => x.cpuUsPerDelivery;

/** Prints a curve's table and where Parley's curve bends, and why, from the measured numbers alone. */
function curve(title: string, what: string, points: CurvePointSpec[], scalesWith: string, fallWhy: string): void {
  say(`### ${title}`);
  say();
  say(`| ${what} | messages/s | target | deliveries/s | delivered | p99 ms | server CPU µs / delivery | vs uws-raw (same run) | server CPU | generator CPU | server RSS MB |`);
  say('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of points) {
    for (const t of CURVE_TARGETS) {
      const x = runsOf(t, p.key);
      const vsRaw = ratioByRep(x, runsOf('uws-raw', p.key), cost).median;
      say(
        `| ${p.label} | ${f0(p.rate)} | ${t} | ${f0(median(x.map((v) => v.deliveriesPerS)))} | ${f1(median(x.map((v) => (100 * v.delivered) / v.expected)))} % | ${f2(median(x.map((v) => v.p99)))} | ${f1(median(x.map(cost)))} | ${Number.isFinite(vsRaw) ? `${f2(vsRaw)}×` : '—'} | ${f0(100 * median(x.map((v) => v.serverCpu)))} % | ${f0(100 * median(x.map((v) => v.generatorCpu)))} % | ${f0(median(x.map((v) => v.rssMb)))} |`,
      );
    }
  }
  say();
  const costs = (t: Target) => points.map((p) => median(runsOf(t, p.key).map(cost)));
  const P = costs('parley');
  const steps = points.slice(1).map((_, k) => ({ k, rise: P[k + 1]! / P[k]! - 1 })).filter((s) => Number.isFinite(s.rise));
  if (!steps.length) {
    say('Where it bends: not measured (a point is missing).');
    say();
    return;
  }
  const top = steps.reduce((a, b) => (b.rise > a.rise ? b : a));
  const [a, b] = [points[top.k]!, points[top.k + 1]!];
  const dP = P[top.k + 1]! - P[top.k]!;
  const peer = (t: Target) => {
    const c = costs(t);
    return { d: c[top.k + 1]! - c[top.k]!, rise: c[top.k + 1]! / c[top.k]! - 1 };
  };
  const raw = peer('uws-raw');
  const io = peer('socketio');
  const atB = runsOf('parley', b.key);
  const busy = median(atB.map((v) => v.serverCpu));
  const deliveredB = median(atB.map((v) => v.delivered / v.expected));
  const genBusy = median(atB.map((v) => v.generatorCpu));
  const parts: string[] = [];
  if (top.rise <= 0) {
    parts.push(
      `No bend: Parley's cost per delivery falls or holds at every step; the least fall is between ${a.label} and ${b.label} (${f1(P[top.k]!)} → ${f1(P[top.k + 1]!)} µs, ${pct(top.rise)}). Why: ${fallWhy}; raw uWS over the same step ${pct(raw.rise)}, bare Socket.IO ${pct(io.rise)}.`,
    );
  } else {
    parts.push(
      `Parley's curve bends between ${a.label} and ${b.label}: cost per delivery ${f1(P[top.k]!)} → ${f1(P[top.k + 1]!)} µs (${pct(top.rise)}), the largest rise of its ${steps.length} step(s); over the same step raw uWS ${pct(raw.rise)} (${f1(raw.d)} µs), bare Socket.IO ${pct(io.rise)} (${f1(io.d)} µs).`,
    );
    if (busy >= 0.9 || deliveredB < 0.95) {
      parts.push(`Why: at ${b.label} Parley's server is at its limit (${f0(100 * busy)} % of a core, ${f1(100 * deliveredB)} % delivered), so it queues and its per-delivery cost includes the backlog.`);
    } else if (genBusy >= 0.9) {
      parts.push(`Why, in part: at ${b.label} the load generator runs at ${f0(100 * genBusy)} % of a core, so latencies and batching there are the generator's as much as the server's.`);
    } else if (!Number.isFinite(raw.d)) {
      parts.push('Why: raw uWS did not run here (`--only`), so the rise cannot be split between the socket work every server pays and Parley\'s own.');
    } else if (raw.d >= 0.7 * dP) {
      parts.push(`Why: raw uWS rises by ${f1(raw.d)} of Parley's ${f1(dP)} µs over the same step, so the rise is the socket and kernel work every server pays (${scalesWith}), not Parley's own.`);
    } else {
      parts.push(
        `Why: raw uWS rises by only ${f1(raw.d)} of Parley's ${f1(dP)} µs over the same step, so ${f1(dP - Math.max(0, raw.d))} µs per delivery is Parley's own work growing with ${scalesWith}.`,
      );
    }
  }
  say(`Where it bends: ${parts.join(' ')}`);
  say();
}

/**
 * The many-clients point run a second time in the same session with only the fixed-rate run's rooms
 * sending: the same messages in the same number of rooms as at the first point, the added sessions
 * connected and quiet. Set beside the first point, it separates what idle sessions cost from what
 * spreading the rate over more rooms costs.
 */
function idleBeside(): void {
  if (manyClients <= S.clients) return;
  const key = `clients:${manyClients}:busy`;
  say(
    `The ${manyClients.toLocaleString('en')} clients again, in the same session, with only ${f0(S.clients / GROUP)} rooms sending (as at ${S.clients.toLocaleString('en')} clients), the other sessions connected and quiet:`,
  );
  say();
  say(`| target | server CPU µs / delivery | vs ${S.clients.toLocaleString('en')} clients (same repetition) | vs uws-raw (same run) | p99 ms | delivered |`);
  say('|---|---:|---:|---:|---:|---:|');
  for (const t of CURVE_TARGETS) {
    const x = runsOf(t, key);
    const flat = ratioByRep(x, runsOf(t, 'fixed'), cost).median;
    const vsRaw = ratioByRep(x, runsOf('uws-raw', key), cost).median;
    say(
      `| ${t} | ${f1(median(x.map(cost)))} | ${Number.isFinite(flat) ? `${f2(flat)}×` : '—'} | ${Number.isFinite(vsRaw) ? `${f2(vsRaw)}×` : '—'} | ${f2(median(x.map((v) => v.p99)))} | ${f1(median(x.map((v) => (100 * v.delivered) / v.expected)))} % |`,
    );
  }
  say();
}

const roomPoints: CurvePointSpec[] = [
  { label: '4 members', key: 'fixed', clients: S.clients, rate: S.rate },
  ...ROOMS.map((g) => ({ label: `${g} members`, key: `room:${g}`, clients: Math.max(S.clients, g), rate: DELIVERIES_PER_S / (g - 1) })),
];
const clientPoints: CurvePointSpec[] = [
  { label: `${S.clients.toLocaleString('en')} clients`, key: 'fixed', clients: S.clients, rate: S.rate },
  ...(manyClients > S.clients ? [{ label: `${manyClients.toLocaleString('en')} clients`, key: `clients:${manyClients}`, clients: manyClients, rate: S.rate }] : []),
];
const bodyPoints: CurvePointSpec[] = [
  { label: '≈45 B (fixed rate)', key: 'fixed', clients: S.clients, rate: S.rate },
  ...BODIES.map((b) => ({ label: b >= 1024 ? `${b / 1024} KB` : `${b} B`, key: `body:${b}`, clients: S.clients, rate: S.rate })),
];

say('## 4. How cost grows');
say();
if (!CURVES) {
  say(QUICK ? 'Skipped in quick mode (`npm run bench` measures them).' : 'Skipped (`--skip-curves`).');
  say();
} else {
  say(
    `Each point is a fixed-rate run of ${S.durationMs / 1000} s beside raw uWS and bare Socket.IO in the same repetition; "vs uws-raw" is the median of each repetition's own ratio. The bend is the step where Parley's cost per delivery rises most.`,
  );
  say();
  curve(
    `Rooms: members per conversation at ${DELIVERIES_PER_S.toLocaleString('en')} deliveries/s, ${S.clients.toLocaleString('en')} clients`,
    'room',
    roomPoints,
    'the number of recipients of each message',
    "the work done once per message (the send's frame, its insert and commit, its ack) is shared by more deliveries",
  );
  say(
    "Parley's rooms of 4 are direct conversations of 1 customer and 3 agents; its rooms of 50 and 500 are internal item conversations followed by their users (a direct one holds at most 51), every user with access `mine`. The peers' rooms are rooms of the same size.",
  );
  say();
  curve(
    `Connected clients at ${S.rate.toLocaleString('en')} messages/s, rooms of 4`,
    'clients',
    clientPoints,
    'the number of sessions',
    'the same messages reach the same number of recipients, but spread over every room (a room of 4 per 4 clients): the sessions grew, and so did the rooms that share the rate, each less busy',
  );
  if (manyNote) {
    say(`The many-clients point ran with ${manyNote}.`);
    say();
  }
  idleBeside();
  curve(
    `Body size at ${S.rate.toLocaleString('en')} messages/s, ${S.clients.toLocaleString('en')} clients, rooms of 4`,
    'body',
    bodyPoints,
    'the bytes of each frame',
    'the per-frame and per-message work outweighs the per-byte work at these sizes',
  );
  if (curveFailures.length) {
    say(`Points that failed (shown as —): ${curveFailures.join('; ')}.`);
    say();
  }
}
say(`(the socket scenarios took ${socketMinutes.toFixed(1)} min)`);
say();

// ---- (5) The store, the hub without sockets, timers, notifications, inbound ---------------------------

let hubProcessUs = NaN;
if (!values['skip-micro']) {
  say('## 5. Store, the hub without sockets, and timers');
  say();
  const store = execFileSync(process.execPath, [join(DIST, 'bench', 'store.js'), ...(QUICK ? ['--messages', '20000', '--runs', '1'] : ['--runs', '3'])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  say(store.trim());
  say();
  const hubOnly = execFileSync(process.execPath, [join(DIST, 'bench', 'hub.js'), ...(QUICK ? ['--clients', '400', '--rate', '600', '--seconds', '2', '--runs', '1'] : ['--runs', '3'])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  say(hubOnly.trim());
  say();
  hubProcessUs = wholeProcessUs(hubOnly);
  const timers = execFileSync(process.execPath, ['--expose-gc', join(DIST, 'bench', 'timers.js'), ...(QUICK ? ['--timers', '100000', '--runs', '1'] : ['--runs', '3'])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  say(timers.trim());
  say();
  const notify = execFileSync(process.execPath, [join(DIST, 'bench', 'notify.js'), ...(QUICK ? ['--quick'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  say(notify.trim());
  say();
  const inbound = execFileSync(process.execPath, [join(DIST, 'bench', 'inbound.js'), ...(QUICK ? ['--quick'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  say(inbound.trim());
  say();
}

/** bench:hub's "whole process" column (µs per message) from its table. */
function wholeProcessUs(table: string): number {
  const rows = table.split('\n').filter((l) => l.startsWith('|'));
  const header = rows.find((l) => l.includes('whole process'));
  const row = rows.find((l) => /^\|\s*[\d,]+\s*\|/.test(l));
  if (!header || !row) return NaN;
  const col = header.split('|').findIndex((c) => c.includes('whole process'));
  return Number(row.split('|')[col]!.replace(/[*,\s]/g, ''));
}

// ---- Targets --------------------------------------------------------------------------------------------

say('## Targets');
say();
if (QUICK) {
  say(NOT_COMPARABLE);
  say();
}
say('Medians of the interleaved repetitions; each ratio is taken within one repetition (both figures from the same run), its runs beside.');
say();
say('| target | measured | runs | goal | |');
say('|---|---:|---|---:|---|');
const runsText = (xs: number[], f: (n: number) => string) => (xs.length ? xs.map(f).join(' · ') : '');
/** Ratios get three decimals, so that one printed as the goal itself is never "not met" unexplained. */
const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '—');
function row(name: string, m: number, runs: number[], goal: string, ok: (v: number) => boolean, unit: string, f: (n: number) => string = unit === '×' ? f3 : f2): void {
  const verdict = Number.isFinite(m) ? (ok(m) ? 'met' : '**not met**') : 'not measured';
  say(`| ${name} | ${Number.isFinite(m) ? `${f(m)}${unit}` : '—'} | ${runsText(runs, f)} | ${goal} | ${verdict} |`);
}
const P = results.parley;
const byRep = (peer: Target, f: (x: Fixed) => number) => ratioByRep(P.fixed, results[peer].fixed, f);
const satByRep = (peer: Target) => {
  const runs: number[] = [];
  for (let i = 0; i < Math.min(P.sat.length, results[peer].sat.length); i++) runs.push(P.sat[i]!.bestDeliveriesPerS / results[peer].sat[i]!.bestDeliveriesPerS);
  return { median: median(runs), runs };
};
const r1 = byRep('socketio', cost);
row('server CPU per delivery vs bare Socket.IO', r1.median, r1.runs, '≤ 1.0×', (v) => v <= 1.0, '×');
const r2 = byRep('socketio-durable', cost);
row('server CPU per delivery vs socketio-durable', r2.median, r2.runs, '≤ 0.7×', (v) => v <= 0.7, '×');
const r3 = byRep('uws-raw', cost);
row('server CPU per delivery vs raw uWS', r3.median, r3.runs, '≤ 2.5×', (v) => v <= 2.5, '×');
row("hub's own CPU per message, whole process (bench:hub)", hubProcessUs, [], '≤ 30 µs', (v) => v <= 30, ' µs', f1);
const r5 = byRep('socketio', (x) => x.p99);
row("p99 at the fixed rate vs bare Socket.IO's p99", r5.median, r5.runs, '≤ 1.0×', (v) => v <= 1.0, '×');
const r6 = satByRep('socketio');
row('highest passing deliveries/s vs bare Socket.IO', r6.median, r6.runs, '≥ 1.0×', (v) => v >= 1.0, '×');
const r7 = satByRep('socketio-durable');
row('highest passing deliveries/s vs socketio-durable', r7.median, r7.runs, '≥ 1.5×', (v) => v >= 1.5, '×');
const idleRuns = P.idle.map((v) => v.rssPerConnKb);
row('idle RSS per session', median(idleRuns), idleRuns, '≤ 2 KB', (v) => v <= 2, ' KB');
if (CURVES) {
  const room = ratioByRep(runsOf('parley', 'room:500'), runsOf('uws-raw', 'room:500'), cost);
  row('rooms of 500: CPU per delivery vs raw uWS', room.median, room.runs, '≤ 1.5×', (v) => v <= 1.5, '×');
  const manyKey = `clients:${manyClients}`;
  const flat = ratioByRep(runsOf('parley', manyKey), P.fixed, cost);
  row(
    `${manyClients.toLocaleString('en')} vs ${S.clients.toLocaleString('en')} clients: CPU per delivery${manyNote ? ' (open-files limit)' : ''}`,
    flat.median,
    flat.runs,
    '0.8–1.2×',
    (v) => v >= 0.8 && v <= 1.2,
    '×',
  );
  const quiet = ratioByRep(runsOf('parley', `${manyKey}:busy`), P.fixed, cost);
  say(`| the same clients, only ${f0(S.clients / GROUP)} rooms sending (section 4) | ${Number.isFinite(quiet.median) ? `${f3(quiet.median)}×` : '—'} | ${runsText(quiet.runs, f3)} | — | not a target |`);
}
say();

const report = lines.join('\n') + '\n';
process.stdout.write('\n' + report);
// A narrowed run (--only, --skip-micro) does not replace the results file.
if (values.only || values['skip-micro']) process.exit(0);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', QUICK ? 'quick.md' : 'latest.md'), report);
