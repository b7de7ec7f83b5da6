/**
 * bench:hub — the hub's own CPU per message, without sockets: the real Hub, SqliteStore (temp dir),
 * escalation and metrics, driven in-process by 2,000 authenticated sessions whose connections only
 * count what they are sent. The load is the fixed-rate scenario of `bench` (conversations of one
 * customer and three agents, 30 messages every 10 ms from random members); what it leaves out is
 * uWebSockets.js and the kernel's socket work, so the figure moves only with our code and SQLite.
 *
 *   npm run bench:hub [-- --rate 3000 --seconds 8 --runs 3]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Hub } from '../server/core/hub.js';
import { DEFAULT_LIMITS } from '../server/core/limits.js';
import { decodeClientFrame } from '../protocol/index.js';
import { HostApi } from '../server/core/host-api.js';
import { Escalation } from '../server/core/escalation/escalation.js';
import { JoseTokens } from '../server/adapters/jwt/jose-tokens.js';
import { PromMetrics } from '../server/adapters/prom/prom-metrics.js';
import { SqliteStore } from '../server/adapters/sqlite/sqlite-store.js';
import { SystemClock } from '../server/adapters/system/system-clock.js';
import { LiquidComposer } from '../server/adapters/email/liquid-composer.js';
import type { Connection, Logger } from '../server/core/ports/index.js';
import type { Session } from '../server/core/session.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: '2000' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const CLIENTS = Number(values.clients);
const GROUP = 4;
const TICK_MS = 10;

const quiet: Logger = { info() {}, warn() {}, error: (m, f) => console.error(m, f) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A connection that only counts: frames and bytes a real one would have written. */
class CountingConnection implements Connection {
  static frames = 0;
  static bytes = 0;
  send(frame: string): boolean {
    CountingConnection.frames++;
    CountingConnection.bytes += frame.length;
    return true;
  }
  sendAfterPublished(frame: string): void {
    this.send(frame);
  }
  bufferedAmount(): number {
    return 0;
  }
  subscribe(): void {}
  unsubscribe(): void {}
  close(): void {}
}

/** CPU ms of this process (all threads) and of its main thread alone, from /proc. */
function cpuMs(): { process: number; main: number } {
  const ticks = (path: string) => {
    const f = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  return { process: ticks('/proc/self/stat'), main: ticks(`/proc/self/task/${process.pid}/stat`) };
}

async function once(): Promise<{ messages: number; mainUs: number; processUs: number; framesPerMessage: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-hub-'));
  const clock = new SystemClock();
  const metrics = new PromMetrics();
  const store = new SqliteStore({ file: join(dir, 'parley.db'), logger: quiet, metrics });
  const tokens = new JoseTokens({ secret: 's'.repeat(32) });
  let published = 0;
  const hub = new Hub({
    store,
    bus: { publish: () => void published++ },
    clock,
    tokens,
    metrics,
    logger: quiet,
    limits: { rates: { ...DEFAULT_LIMITS.rates, send: { perSecond: 100_000, burst: 100_000 } } },
  });
  await hub.start();
  const api = new HostApi({ hub, store, clock, tokens });
  const escalation = new Escalation({
    store,
    clock,
    directory: hub.directory,
    composer: new LiquidComposer({ from: 'Parley <parley@example.com>', logger: quiet }),
    tokens,
    logger: quiet,
    metrics,
    delayMs: 60_000,
    recoveryMs: 86_400_000,
    appUrl: 'http://127.0.0.1',
    conversationUrl: 'http://127.0.0.1/c/{conversationId}',
    onQueued() {},
    onEmailed: (c, p, upTo, at) => hub.publishEmailed(c, p, upTo, at),
  });
  hub.setEscalation(escalation);
  await escalation.start();

  for (let i = 0; i < CLIENTS; i++) {
    await api.putParticipant(`b${i}`, { kind: i % GROUP === 0 ? 'customer' : 'user', name: `Bench ${i}`, email: `b${i}@example.com` });
  }
  const sessions: Session[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const s = hub.accept(new CountingConnection());
    hub.receive(s, decodeClientFrame(JSON.stringify({ t: 'hello', v: 1, token: (await tokens.sign(`b${i}`, 7200)).token })));
    sessions.push(s);
  }
  for (let waited = 0; sessions.some((s) => s.phase !== 'open'); waited += 10) {
    if (waited > 30_000) throw new Error('sessions did not open');
    await sleep(10);
  }
  const conversations = Math.floor(CLIENTS / GROUP);
  const convIds: string[] = [];
  for (let c = 0; c < conversations; c++) {
    const b = c * GROUP;
    convIds.push((await api.createConversation({ kind: 'direct', createdBy: `b${b + 1}`, members: [`b${b}`, `b${b + 2}`, `b${b + 3}`] })).id);
  }
  await sleep(300);

  const frames0 = CountingConnection.frames + published;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    for (; sent < due; sent++) {
      const conv = Math.floor(Math.random() * conversations);
      const member = conv * GROUP + Math.floor(Math.random() * GROUP);
      const body = JSON.stringify({ p: 1, s: performance.now(), i: member });
      // Decoded here as the transport would: the hub's own work includes the decoding.
      hub.receive(
        sessions[member]!,
        decodeClientFrame(`{"t":"send","id":"s${sent}","conversationId":"${convIds[conv]}","clientMsgId":"m${sent}","body":${JSON.stringify(body)}}`),
      );
    }
    await sleep(TICK_MS);
  }
  await sleep(500); // the last commits and the delivered window
  const cpu1 = cpuMs();
  const frames = CountingConnection.frames + published - frames0;

  hub.shutdown();
  escalation.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    messages: sent,
    mainUs: ((cpu1.main - cpu0.main) * 1000) / sent,
    processUs: ((cpu1.process - cpu0.process) * 1000) / sent,
    framesPerMessage: frames / sent,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = [];
for (let r = 0; r < RUNS; r++) {
  const one = await once();
  console.error(`run ${r + 1}: ${one.mainUs.toFixed(1)} µs per message on the event loop, ${one.processUs.toFixed(1)} for the process`);
  results.push(one);
}
console.log(`bench:hub — the hub's own CPU per message without sockets (${CLIENTS} sessions, ${RATE} messages/s for ${SECONDS} s)\n`);
console.log('| messages | runs | median CPU µs per message, event loop | whole process | frames and publishes per message |');
console.log('|---:|---:|---:|---:|---:|');
console.log(
  `| ${median(results.map((r) => r.messages)).toLocaleString('en-US')} | ${RUNS} | **${median(results.map((r) => r.mainUs)).toFixed(1)}** | ${median(results.map((r) => r.processUs)).toFixed(1)} | ${median(results.map((r) => r.framesPerMessage)).toFixed(2)} |`,
);
