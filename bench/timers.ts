/**
 * bench:timers — a million pending escalation timers (DESIGN §5, §7): Parley's TimerWheel against
 * Node's own setTimeout/clearTimeout, in one process, same due times, same cancellations.
 *
 * Per run and per contender: arm N timers due uniformly over 60 s, cancel a random 90 % of them in
 * random order, then fire the rest; and the heap with N pending (gc() before and after, heapUsed +
 * arrayBuffers delta, so the wheel's typed arrays are counted).
 *
 * The main table, with the targets, uses escalation's keys ("participant\0conversation" strings):
 * the wheel finds them through its Map, and Node needs a Map<string, Timeout> beside its timers to
 * cancel by key, so both sides carry one. A second table uses the ids 0 … N − 1: the wheel still
 * goes through its Map (it has no integer index since nothing keys it by dense ids), while Node's
 * handles sit in an array indexed by id and need no Map — Node's best case, for reference.
 *
 * Firing: the wheel is advanced through the 60 s in virtual time, 100 ms at a time, so its number is
 * pure CPU. Node's timers cannot be fast-forwarded, so they get a second, scaled-down pass: the same
 * timers due over 1–2 s from the arming, the same 90 % cancelled, and we take the process CPU time
 * spent from the end of cancelling until the last one has fired (the wall time is mostly waiting).
 *
 * Before the measured runs, both sides do the same work untimed at a tenth of the size (JIT warm-up;
 * `--warmup 0` skips it).
 *
 *   npm run bench:timers [-- --timers 1000000 --runs 3 --warmup 1]
 */
import { parseArgs } from 'node:util';
import { TimerWheel } from '../server/core/scheduler/timer-wheel.js';

const { values } = parseArgs({
  options: {
    timers: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    warmup: { type: 'string', default: '1' },
  },
});
const N = Number(values.timers);
const RUNS = Number(values.runs);
const SPREAD_MS = 60_000;
const CANCEL_FRACTION = 0.9;
const TICK_MS = 100;
/** Node's firing pass: due 1–2 s after arming (arming and cancelling a million take about 1 s). */
const NODE_FIRE_BASE_MS = 1000;
const NODE_FIRE_SPREAD_MS = 1000;
/** Everything together must end well within 2 minutes on a 2-core machine. */
const WATCHDOG_MS = 110_000;

const gcOrNull = (globalThis as { gc?: () => void }).gc;
if (!gcOrNull) throw new Error('run with node --expose-gc (npm run bench:timers does)');
const gc: () => void = gcOrNull;

const watchdog = setTimeout(() => {
  console.error(`bench:timers: gave up after ${WATCHDOG_MS / 1000} s`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

/** mulberry32: a small seeded PRNG, so every run and contender sees the same timers. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- shared inputs, allocated before any measurement ------------------------------------------------
const random = prng(Number(values.seed));
/** Due offsets in ms, 1 … 60 000, integers (setTimeout's resolution). */
const dues = new Float64Array(N);
for (let i = 0; i < N; i++) dues[i] = 1 + Math.floor(random() * SPREAD_MS);
/** Keys to cancel: a random 90 %, in random order. */
const permutation = new Int32Array(N);
for (let i = 0; i < N; i++) permutation[i] = i;
for (let i = N - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  const t = permutation[i]!;
  permutation[i] = permutation[j]!;
  permutation[j] = t;
}
const CANCELS = Math.round(N * CANCEL_FRACTION);
const cancelOrder = permutation.subarray(0, CANCELS);
const REST = N - CANCELS;
/** Node's handles; filled with null up front so storing them allocates nothing we would count. */
const handles: Array<NodeJS.Timeout | null> = [];
for (let i = 0; i < N; i++) handles.push(null);

/** Escalation-shaped keys, made (and hashed, by a first Map) before any measurement. */
const stringKeys: string[] = [];
for (let i = 0; i < N; i++) stringKeys.push(`p${(i * 7919) % 50_000}\u0000c${i}`);
new Set(stringKeys).clear();

interface Sample {
  armMs: number;
  cancelMs: number;
  fireMs: number;
  heapBytes: number;
}

const ms = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e6;
function memory(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function runWheel(): Sample {
  let fired = 0;
  const m0 = memory();
  let t = process.hrtime.bigint();
  const wheel = new TimerWheel<number>({
    now: 0,
    tickMs: TICK_MS,
    onFire: () => {
      fired++;
    },
  });
  for (let i = 0; i < N; i++) wheel.arm(i, dues[i]!);
  const armMs = ms(t);
  const heapBytes = memory() - m0;

  t = process.hrtime.bigint();
  for (let k = 0; k < CANCELS; k++) wheel.cancel(cancelOrder[k]!);
  const cancelMs = ms(t);

  t = process.hrtime.bigint();
  for (let now = TICK_MS; now < SPREAD_MS + 2 * TICK_MS; now += TICK_MS) wheel.advance(now);
  const fireMs = ms(t);
  if (fired !== REST || wheel.size !== 0) throw new Error(`wheel fired ${fired} of ${REST}, ${wheel.size} left`);
  return { armMs, cancelMs, fireMs, heapBytes };
}

async function runNode(): Promise<Sample> {
  const noop = (): void => {};
  // Pass 1: the 60 s timers, for arm, cancel and heap.
  const m0 = memory();
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) handles[i] = setTimeout(noop, dues[i]!);
  const armMs = ms(t);
  const heapBytes = memory() - m0;

  t = process.hrtime.bigint();
  for (let k = 0; k < CANCELS; k++) clearTimeout(handles[cancelOrder[k]!]!);
  const cancelMs = ms(t);
  for (let i = 0; i < N; i++) {
    clearTimeout(handles[i]!);
    handles[i] = null;
  }
  await new Promise((r) => setImmediate(r));

  // Pass 2: the same timers scaled down to 1–2 s, for firing.
  let fired = 0;
  let done!: () => void;
  const allFired = new Promise<void>((r) => (done = r));
  const onFire = (): void => {
    if (++fired === REST) done();
  };
  const scale = NODE_FIRE_SPREAD_MS / SPREAD_MS;
  for (let i = 0; i < N; i++) handles[i] = setTimeout(onFire, NODE_FIRE_BASE_MS + Math.floor(dues[i]! * scale));
  for (let k = 0; k < CANCELS; k++) clearTimeout(handles[cancelOrder[k]!]!);
  const cpu0 = process.cpuUsage();
  await allFired;
  const cpu = process.cpuUsage(cpu0);
  for (let i = 0; i < N; i++) handles[i] = null;
  if (fired !== REST) throw new Error(`node fired ${fired} of ${REST}`);
  return { armMs, cancelMs, fireMs: (cpu.user + cpu.system) / 1000, heapBytes };
}

function runWheelStrings(): Sample {
  let fired = 0;
  const m0 = memory();
  let t = process.hrtime.bigint();
  const wheel = new TimerWheel<string>({
    now: 0,
    tickMs: TICK_MS,
    onFire: () => {
      fired++;
    },
  });
  for (let i = 0; i < N; i++) wheel.arm(stringKeys[i]!, dues[i]!);
  const armMs = ms(t);
  const heapBytes = memory() - m0;
  t = process.hrtime.bigint();
  for (let k = 0; k < CANCELS; k++) wheel.cancel(stringKeys[cancelOrder[k]!]!);
  const cancelMs = ms(t);
  if (wheel.size !== REST) throw new Error(`wheel kept ${wheel.size} of ${REST}`);
  t = process.hrtime.bigint();
  for (let now = TICK_MS; now < SPREAD_MS + 2 * TICK_MS; now += TICK_MS) wheel.advance(now);
  const fireMs = ms(t);
  if (fired !== REST || wheel.size !== 0) throw new Error(`wheel fired ${fired} of ${REST}, ${wheel.size} left`);
  return { armMs, cancelMs, fireMs, heapBytes };
}

function runNodeStrings(): Sample {
  const noop = (): void => {};
  const m0 = memory();
  let t = process.hrtime.bigint();
  const byKey = new Map<string, NodeJS.Timeout>();
  for (let i = 0; i < N; i++) {
    const key = stringKeys[i]!;
    const old = byKey.get(key); // keyed arming replaces, as TimerWheel.arm does
    if (old !== undefined) clearTimeout(old);
    byKey.set(key, setTimeout(noop, dues[i]!));
  }
  const armMs = ms(t);
  const heapBytes = memory() - m0;
  t = process.hrtime.bigint();
  for (let k = 0; k < CANCELS; k++) {
    const key = stringKeys[cancelOrder[k]!]!;
    const timer = byKey.get(key);
    if (timer !== undefined) {
      clearTimeout(timer);
      byKey.delete(key);
    }
  }
  const cancelMs = ms(t);
  for (const timer of byKey.values()) clearTimeout(timer);
  if (byKey.size !== REST) throw new Error(`node kept ${byKey.size} of ${REST}`);
  return { armMs, cancelMs, fireMs: NaN, heapBytes };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const wheelRuns: Sample[] = [];
const nodeRuns: Sample[] = [];
const wheelStringRuns: Sample[] = [];
const nodeStringRuns: Sample[] = [];
/**
 * JIT warm-up, untimed: both contenders run the same operations at a tenth of the size, a few times,
 * so that the measured runs see optimized code on both sides (a fresh wheel's first run otherwise pays
 * for compiling and deoptimizing code specialized to a previous instance).
 */
function warmUp(): void {
  const n = Math.max(1, Math.floor(N / 10));
  const noop = (): void => {};
  for (let round = 0; round < 3; round++) {
    const ints = new TimerWheel<number>({ now: 0, tickMs: TICK_MS, onFire: noop });
    const strings = new TimerWheel<string>({ now: 0, tickMs: TICK_MS, onFire: noop });
    for (let i = 0; i < n; i++) {
      ints.arm(i, dues[i]!);
      strings.arm(stringKeys[i]!, dues[i]!);
    }
    for (let i = 0; i < n; i++) {
      if (i % 10 === 0) continue;
      ints.cancel(i);
      strings.cancel(stringKeys[i]!);
    }
    for (let now = TICK_MS; now < SPREAD_MS + 2 * TICK_MS; now += TICK_MS) {
      ints.advance(now);
      strings.advance(now);
    }
    const byKey = new Map<string, NodeJS.Timeout>();
    for (let i = 0; i < n; i++) {
      handles[i] = setTimeout(noop, dues[i]!);
      byKey.set(stringKeys[i]!, setTimeout(noop, dues[i]!));
    }
    for (let i = 0; i < n; i++) {
      clearTimeout(handles[i]!);
      handles[i] = null;
      clearTimeout(byKey.get(stringKeys[i]!));
      byKey.delete(stringKeys[i]!);
    }
  }
}

if (values.warmup !== '0') warmUp();
const started = Date.now();
for (let r = 0; r < RUNS; r++) {
  // Alternate who goes first, so neither always inherits the other's heap.
  if (r % 2 === 0) {
    wheelRuns.push(runWheel());
    nodeRuns.push(await runNode());
  } else {
    nodeRuns.push(await runNode());
    wheelRuns.push(runWheel());
  }
  if (r % 2 === 0) {
    wheelStringRuns.push(runWheelStrings());
    nodeStringRuns.push(runNodeStrings());
  } else {
    nodeStringRuns.push(runNodeStrings());
    wheelStringRuns.push(runWheelStrings());
  }
  await new Promise((r) => setImmediate(r));
  const w = wheelRuns[r]!;
  const n = nodeRuns[r]!;
  const ws = wheelStringRuns[r]!;
  const ns = nodeStringRuns[r]!;
  console.error(
    `run ${r + 1}/${RUNS}: wheel arm ${w.armMs.toFixed(0)} cancel ${w.cancelMs.toFixed(0)} fire ${w.fireMs.toFixed(0)} ms ${(w.heapBytes / N).toFixed(1)} B/timer;` +
      ` node arm ${n.armMs.toFixed(0)} cancel ${n.cancelMs.toFixed(0)} fire(cpu) ${n.fireMs.toFixed(0)} ms ${(n.heapBytes / N).toFixed(1)} B/timer;` +
      ` string keys: wheel ${ws.armMs.toFixed(0)}+${ws.cancelMs.toFixed(0)} ms ${(ws.heapBytes / N).toFixed(1)} B/timer,` +
      ` node+Map ${ns.armMs.toFixed(0)}+${ns.cancelMs.toFixed(0)} ms ${(ns.heapBytes / N).toFixed(1)} B/timer`,
  );
}

const med = (runs: Sample[], k: keyof Sample) => median(runs.map((s) => s[k]));
const medArmCancel = (runs: Sample[]) => median(runs.map((s) => s.armMs + s.cancelMs));
const w = { arm: med(wheelRuns, 'armMs'), cancel: med(wheelRuns, 'cancelMs'), armCancel: medArmCancel(wheelRuns), fire: med(wheelRuns, 'fireMs'), heap: med(wheelRuns, 'heapBytes') };
const n = { arm: med(nodeRuns, 'armMs'), cancel: med(nodeRuns, 'cancelMs'), armCancel: medArmCancel(nodeRuns), fire: med(nodeRuns, 'fireMs'), heap: med(nodeRuns, 'heapBytes') };
const ws = { arm: med(wheelStringRuns, 'armMs'), cancel: med(wheelStringRuns, 'cancelMs'), armCancel: medArmCancel(wheelStringRuns), fire: med(wheelStringRuns, 'fireMs'), heap: med(wheelStringRuns, 'heapBytes') };
const ns = { arm: med(nodeStringRuns, 'armMs'), cancel: med(nodeStringRuns, 'cancelMs'), armCancel: medArmCancel(nodeStringRuns), heap: med(nodeStringRuns, 'heapBytes') };
const speedup = ns.armCancel / ws.armCancel;
const heapRatio = ws.heap / ns.heap;
const f0 = (x: number) => x.toFixed(0);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB (${(b / N).toFixed(0)} B/timer)`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

const k = (x: number) => (x >= 1e6 ? `${x / 1e6}M` : x >= 1e3 ? `${x / 1e3}k` : String(x));
console.log(`\n### bench:timers — ${k(N)} timers due over ${SPREAD_MS / 1000} s, ${CANCEL_FRACTION * 100} % cancelled; median of ${RUNS} runs\n`);
console.log(`Node ${process.version}, ${process.arch}. Wheel: ${TICK_MS} ms ticks, default slots. Times in ms.\n`);
console.log(`Escalation's keys ("participant\\0conversation"): TimerWheel<string> vs setTimeout + Map<string, Timeout>.\n`);
console.log('| measure | TimerWheel<string> | setTimeout + Map | wheel vs node | target |');
console.log('|---|---:|---:|---:|---|');
console.log(`| arm ${k(N)} | ${f0(ws.arm)} | ${f0(ns.arm)} | ${(ns.arm / ws.arm).toFixed(1)}× faster | |`);
console.log(`| cancel ${k(CANCELS)} | ${f0(ws.cancel)} | ${f0(ns.cancel)} | ${(ns.cancel / ws.cancel).toFixed(1)}× faster | |`);
console.log(`| **arm + cancel** | ${f0(ws.armCancel)} | ${f0(ns.armCancel)} | **${speedup.toFixed(1)}× faster** | ≥ 3× — ${verdict(speedup >= 3)} |`);
console.log(`| fire the other ${k(REST)} ¹ | ${f0(ws.fire)} | ${f0(n.fire)} | ${(n.fire / ws.fire).toFixed(1)}× less CPU | |`);
console.log(`| **heap with ${k(N)} pending** ² | ${mb(ws.heap)} | ${mb(ns.heap)} | **${heapRatio.toFixed(2)}×** | ≤ 0.5× — ${verdict(heapRatio <= 0.5)} |`);
console.log(`\nThe ids 0 … N − 1: the wheel through the same Map vs Node's handles in an array (no Map on Node's side).\n`);
console.log('| measure | TimerWheel<number> | Node setTimeout | wheel vs node |');
console.log('|---|---:|---:|---:|');
console.log(`| arm ${k(N)} | ${f0(w.arm)} | ${f0(n.arm)} | ${(n.arm / w.arm).toFixed(1)}× faster |`);
console.log(`| cancel ${k(CANCELS)} | ${f0(w.cancel)} | ${f0(n.cancel)} | ${(n.cancel / w.cancel).toFixed(1)}× faster |`);
console.log(`| arm + cancel | ${f0(w.armCancel)} | ${f0(n.armCancel)} | ${(n.armCancel / w.armCancel).toFixed(1)}× faster |`);
console.log(`| fire the other ${k(REST)} ¹ | ${f0(w.fire)} | ${f0(n.fire)} | ${(n.fire / w.fire).toFixed(1)}× less CPU |`);
console.log(`| heap with ${k(N)} pending | ${mb(w.heap)} | ${mb(n.heap)} | ${(w.heap / n.heap).toFixed(2)}× |`);
console.log(
  `\n¹ wheel: advancing virtual time over the ${SPREAD_MS / 1000} s in ${TICK_MS} ms steps (${SPREAD_MS / TICK_MS} advances); ` +
    `node: process CPU time while the same timers, scaled to ${NODE_FIRE_BASE_MS / 1000}–${(NODE_FIRE_BASE_MS + NODE_FIRE_SPREAD_MS) / 1000} s, fire.` +
    `\n² not counting the key strings themselves, made before measuring and shared by both.`,
);
console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
clearTimeout(watchdog);
