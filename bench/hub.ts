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
import { decodeClientFrame } from '../protocol/index.js';
import { JoseTokens } from '../server/adapters/jwt/jose-tokens.js';
import type { Connection, Logger } from '../server/core/ports/index.js';
import { loadConfig } from '../server/config.js';
import { createParley } from '../server/parley.js';
import { MemoryBus } from '../server/adapters/memory/bus.js';
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
  const secret = 's'.repeat(32);
  const config = loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_API_KEY: 'bench-api-key-0123456789', PARLEY_JWT_SECRET: secret, PARLEY_RATE_SEND_PER_S: '100000', PARLEY_RATE_SEND_BURST: '100000' });
  let published = 0;
  const parley = await createParley(config, { logger: quiet, bus: new MemoryBus(() => void published++), mailer: { send: async () => {}, close: async () => {} } });
  const { hub, api, directoryApi } = parley;
  const tokens = new JoseTokens({ secret });

  for (let i = 0; i < CLIENTS; i++) {
    await directoryApi.putParticipant(`b${i}`, { kind: i % GROUP === 0 ? 'customer' : 'user', name: `Bench ${i}`, email: `b${i}@example.com` });
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

  await parley.stop();
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
