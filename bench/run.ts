/**
 * npm run bench — Parley beside Socket.IO and a raw uWebSockets.js hub, same load generator, same
 * run, interleaved (A B C, A B C, …), medians in a Markdown table, also written to
 * bench/results/latest.md. `npm run bench:quick` is a one-minute smoke version (CI runs it; it
 * asserts nothing).
 *
 * Scenarios: (1) a fixed rate; (2) saturation, ×1.5 a step until p99 > 50 ms or < 95 % delivered;
 * (3) idle authenticated sessions; (4) the store, hub-without-sockets and timer benchmarks.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, reps: { type: 'string' }, only: { type: 'string' }, 'skip-micro': { type: 'boolean', default: false } } });
const QUICK = values.quick;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(ROOT, 'dist');
const TARGETS = ['parley', 'socketio', 'uws-raw'] as const;
type Target = (typeof TARGETS)[number];
const S = QUICK
  ? { reps: 1, clients: 400, rate: 600, durationMs: 2000, satSteps: 3, satMs: 1500, idle: 1000, drainMs: 1000 }
  : { reps: 3, clients: 2000, rate: 3000, durationMs: 8000, satSteps: 10, satMs: 4000, idle: 10000, drainMs: 2000 };
if (values.reps) S.reps = Number(values.reps);
const API_KEY = 'bench-api-key-0123456789';
const JWT_SECRET = 'bench-jwt-secret-0123456789-0123456789';
const CLK_TCK = 100;
// A hang stops the run; the quick run (CI) now holds the notify and inbound scenarios too.
const WATCHDOG_MS = QUICK ? 600_000 : 3_600_000;

setTimeout(() => {
  console.error('bench: watchdog fired');
  process.exit(1);
}, WATCHDOG_MS).unref();

interface Server {
  proc: ChildProcess;
  port: number;
  dataDir?: string;
}

function startServer(target: Target): Promise<Server> {
  const entry = target === 'parley' ? join(DIST, 'server', 'main.js') : join(DIST, 'bench', 'peers', `${target}.js`);
  const dataDir = target === 'parley' ? mkdtempSync(join(tmpdir(), 'parley-bench-')) : undefined;
  const proc = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, entry], {
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

interface Gen {
  proc: ChildProcess;
  lines: Interface;
  next(): Promise<any>;
  send(o: object): void;
}
function startGenerator(target: Target, port: number, clients: number, idle = false): Gen {
  const cfg = { target, port, clients, idle, apiKey: API_KEY, jwtSecret: JWT_SECRET };
  const proc = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, join(DIST, 'bench', 'load', 'generator.js'), JSON.stringify(cfg)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! });
  const queue: any[] = [];
  const waiters: Array<{ resolve: (v: any) => void; reject: (e: Error) => void }> = [];
  lines.on('line', (l) => {
    const v = JSON.parse(l);
    const w = waiters.shift();
    if (w) w.resolve(v);
    else queue.push(v);
  });
  proc.once('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`generator exited with ${code}`));
  });
  return {
    proc,
    lines,
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve, reject) => waiters.push({ resolve, reject }))),
    send: (o) => proc.stdin!.write(JSON.stringify(o) + '\n'),
  };
}
async function stopGenerator(g: Gen): Promise<void> {
  g.send({ cmd: 'exit' });
  await new Promise((r) => {
    const t = setTimeout(() => g.proc.kill('SIGKILL'), 10_000);
    g.proc.once('exit', () => {
      clearTimeout(t);
      r(null);
    });
  });
}

interface Fixed {
  deliveriesPerS: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
  cpuUsPerDelivery: number;
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
const results: Record<Target, { fixed: Fixed[]; sat: Saturation[]; idle: Idle[] }> = {
  parley: { fixed: [], sat: [], idle: [] },
  socketio: { fixed: [], sat: [], idle: [] },
  'uws-raw': { fixed: [], sat: [], idle: [] },
};

async function loadScenarios(target: Target): Promise<void> {
  const server = await startServer(target);
  const pid = server.proc.pid!;
  const gen = startGenerator(target, server.port, S.clients);
  try {
    await gen.next(); // ready
    // (1) the fixed rate
    const c0 = cpuMs(pid);
    gen.send({ cmd: 'run', rate: S.rate, durationMs: S.durationMs, drainMs: S.drainMs });
    const r = await gen.next();
    const c1 = cpuMs(pid);
    results[target].fixed.push({
      deliveriesPerS: r.delivered / (r.sendWallMs / 1000),
      delivered: r.delivered,
      expected: r.expected,
      p50: r.p50,
      p99: r.p99,
      max: r.max,
      cpuUsPerDelivery: ((c1 - c0) * 1000) / Math.max(1, r.delivered),
      rssMb: rssBytes(pid) / 1048576,
    });
    // (2) saturation
    let best = 0;
    let limit = `not reached by ${S.satSteps} steps`;
    let rate = S.rate;
    for (let step = 0; step < S.satSteps; step++, rate *= 1.5) {
      const s0 = cpuMs(pid);
      gen.send({ cmd: 'run', rate, durationMs: S.satMs, drainMs: S.drainMs });
      const x = await gen.next();
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

async function idleScenario(target: Target): Promise<void> {
  const server = await startServer(target);
  const pid = server.proc.pid!;
  try {
    const gen = startGenerator(target, server.port, S.idle, true);
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

/** `--only parley,uws-raw` narrows the run (for profiling); the report still lists every target. */
const RUN = TARGETS.filter((t) => !values.only || values.only.split(',').includes(t));
for (let rep = 0; rep < S.reps; rep++) {
  for (const t of RUN) {
    console.error(`rep ${rep + 1}/${S.reps}: ${t} (fixed rate, saturation)`);
    await loadScenarios(t);
  }
  for (const t of RUN) {
    console.error(`rep ${rep + 1}/${S.reps}: ${t} (idle)`);
    await idleScenario(t);
  }
}

const lines: string[] = [];
const say = (s = '') => lines.push(s);
say(`# Parley beside its peers${QUICK ? ' (quick smoke run)' : ''}`);
say();
say(`${new Date().toISOString().slice(0, 10)}, ${S.reps} interleaved repetition(s), medians. Node ${process.version}, loopback, one load-generator process.`);
say(`Conversations of 1 customer + 3 agents; every message goes to the 3 other members.`);
say();
say(`## 1. Fixed rate: ${S.clients.toLocaleString('en')} clients, ${S.rate.toLocaleString('en')} messages/s (${(S.rate * 3).toLocaleString('en')} deliveries/s) for ${S.durationMs / 1000} s`);
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
const p = (t: Target) => ({ cpu: median(results[t].fixed.map((v) => v.cpuUsPerDelivery)), sat: median(results[t].sat.map((v) => v.bestDeliveriesPerS)), rss: median(results[t].idle.map((v) => v.rssPerConnKb)), p99: median(results[t].fixed.map((v) => v.p99)) });
const [P, IO, RAW] = [p('parley'), p('socketio'), p('uws-raw')];
say('## Targets');
say();
say('| target | measured | goal |');
say('|---|---:|---:|');
say(`| server CPU per delivery vs uws-raw | ${f2(P.cpu / RAW.cpu)}× | ≤ 1.5× |`);
say(`| server CPU per delivery vs Socket.IO | ${f2(P.cpu / IO.cpu)}× | ≤ 0.5× |`);
say(`| p99 at the fixed rate | ${f2(P.p99)} ms | ≤ 5 ms |`);
say(`| sustainable deliveries/s vs uws-raw | ${f2(P.sat / RAW.sat)}× | ≥ 0.8× |`);
say(`| sustainable deliveries/s vs Socket.IO | ${f2(P.sat / IO.sat)}× | ≥ 2× |`);
say(`| idle RSS per session | ${f2(P.rss)} KB | ≤ 3 KB |`);
say();
if (values['skip-micro']) {
  process.stdout.write('\n' + lines.join('\n') + '\n');
  process.exit(0);
}
say('## 4. Store, the hub without sockets, and timers');
say();
const store = execFileSync(process.execPath, [join(DIST, 'bench', 'store.js'), ...(QUICK ? ['--messages', '20000', '--runs', '1'] : ['--runs', '3'])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
say(store.trim());
say();
const hubOnly = execFileSync(process.execPath, [join(DIST, 'bench', 'hub.js'), ...(QUICK ? ['--clients', '400', '--rate', '600', '--seconds', '2', '--runs', '1'] : ['--runs', '3'])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
say(hubOnly.trim());
say();
const timers = execFileSync(process.execPath, ['--expose-gc', join(DIST, 'bench', 'timers.js'), ...(QUICK ? ['--timers', '100000', '--runs', '1'] : ['--runs', '3'])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
say(timers.trim());
say();
const notify = execFileSync(process.execPath, [join(DIST, 'bench', 'notify.js'), ...(QUICK ? ['--quick'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
say(notify.trim());
say();
const inbound = execFileSync(process.execPath, [join(DIST, 'bench', 'inbound.js'), ...(QUICK ? ['--quick'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
say(inbound.trim());

const report = lines.join('\n') + '\n';
process.stdout.write('\n' + report);
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', QUICK ? 'quick.md' : 'latest.md'), report);
