/**
 * npm run bench:abuse — one customer attacks the real hub (`dist/server/main.js`, default limits) the
 * way a security review did, while an unrelated agent pings it from a thread of its own. Prints, per
 * attack, what the hub answered, the bystander's ping round trips (p50 / p99 / max) and the hub's RSS,
 * beside the budgets of the abuse issue: ping p99 < 50 ms during every attack, RSS growth < 100 MB
 * under the memory attack, at most a handful of escalation emails to one agent.
 *
 * Every loop is bounded in count and time; it targets 127.0.0.1 only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import type { ServerFrame } from '../protocol/index.js';

const HOST = '127.0.0.1';
const API_KEY = 'bench-api-key-0123456789';
const JWT_SECRET = 'bench-jwt-secret-0123456789-0123456789';
const secret = new TextEncoder().encode(JWT_SECRET);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function token(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('2h').sign(secret);
}

/** A bare client: hello, then every frame to `onFrame`. Resolves after `welcome`, or with the refusal. */
function connect(port: number, tok: string, onFrame: (f: ServerFrame) => void = () => {}): Promise<{ ws: WebSocket; welcomed: boolean; closed: Promise<number> }> {
  return new Promise((resolveConn) => {
    const ws = new WebSocket(`ws://${HOST}:${port}/v1/ws`);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    let settled = false;
    const settle = (welcomed: boolean) => {
      if (settled) return;
      settled = true;
      resolveConn({ ws, welcomed, closed });
    };
    ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token: tok })));
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as ServerFrame;
      if (f.t === 'welcome') settle(true);
      else if (!settled && f.t === 'error') settle(false);
      onFrame(f);
    });
    ws.once('error', () => settle(false));
    void closed.then(() => settle(false));
  });
}

// ─── The bystander: its own thread, so the attacker's work in this process cannot delay it ──────────

if (!isMainThread) {
  const { port, tok } = workerData as { port: number; tok: string };
  const rtts: number[] = [];
  const sentAt = new Map<string, number>();
  let n = 0;
  let timer: NodeJS.Timeout | null = null;
  const { ws } = await connect(port, tok, (f) => {
    if (f.t !== 'pong') return;
    const t = sentAt.get(f.re);
    if (t !== undefined) rtts.push(performance.now() - t);
    sentAt.delete(f.re);
  });
  parentPort!.on('message', (cmd: string) => {
    if (cmd === 'start') {
      rtts.length = 0;
      // 8 pings a second: inside the bystander's own ping limit (10 a second), so every one is answered.
      timer = setInterval(() => {
        const id = `p${++n}`;
        sentAt.set(id, performance.now());
        ws.send(JSON.stringify({ t: 'ping', id }));
      }, 125);
    } else if (cmd === 'stop') {
      if (timer) clearInterval(timer);
      // Pings still unanswered count as their wait so far: a stalled hub cannot hide.
      const now = performance.now();
      for (const t of sentAt.values()) rtts.push(now - t);
      sentAt.clear();
      parentPort!.postMessage([...rtts]);
    } else if (cmd === 'exit') {
      ws.terminate();
      process.exit(0);
    }
  });
  parentPort!.postMessage('ready');
} else {
  await main();
}

/** One line of the report: an attack, what the hub answered, and the figure its budget is set on. */
interface Row {
  attack: string;
  answered: string;
  rtts: number[];
  /** The figure compared with the budget (ms, MB or a count), and the budget's bound. */
  value: number;
  unit: string;
  limit: number;
  budget: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, reps: { type: 'string' } } });
  const QUICK = values.quick;
  const reps = Number(values.reps ?? (QUICK ? 1 : 3));
  const watchdog = setTimeout(
    () => {
      console.error('bench:abuse: watchdog fired');
      process.exit(1);
    },
    reps * 300_000,
  );
  watchdog.unref();
  const runs: Row[][] = [];
  for (let rep = 0; rep < reps; rep++) {
    console.error(`bench:abuse: run ${rep + 1}/${reps}`);
    runs.push(await runOnce(QUICK));
  }

  const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '—');
  const out: string[] = [];
  out.push(`# One customer attacks the hub${QUICK ? ' (quick run: smaller attacks, one run; not comparable with the full run)' : ''}`);
  out.push('');
  out.push(
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, default limits, loopback, ${reps} run(s), a fresh hub each, medians; an unrelated agent pings every 125 ms from its own thread.`,
  );
  out.push('');
  out.push('| attack | what the hub answered (median run) | bystander ping p50 / p99 / max ms | measured | budget | met |');
  out.push('|---|---|---:|---:|---|---|');
  for (let i = 0; i < runs[0]!.length; i++) {
    const all = runs.map((r) => r[i]!).sort((a, b) => a.value - b.value);
    const mid = all[Math.floor(all.length / 2)]!;
    const med = (f: (r: Row) => number) => f2(median(runs.map((r) => f(r[i]!))));
    const ping = mid.rtts.length ? `${med((r) => percentile(r.rtts, 0.5))} / ${med((r) => percentile(r.rtts, 0.99))} / ${med((r) => Math.max(...r.rtts))}` : '';
    const value = mid.unit === 'ms' ? `p99 ${f2(mid.value)} ms` : `${mid.value.toFixed(mid.unit === 'MB' ? 0 : 0)} ${mid.unit}`;
    out.push(`| ${mid.attack} | ${mid.answered} | ${ping} | ${value} | ${mid.budget} | ${mid.value <= mid.limit ? 'yes' : '**no**'} |`);
  }
  process.stdout.write(out.join('\n') + '\n');
  if (!QUICK) {
    const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', 'abuse.md'), out.join('\n') + '\n');
  }
  process.exit(0);
}

async function runOnce(QUICK: boolean): Promise<Row[]> {
  const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-abuse-'));
  const hub = spawn(process.execPath, [join(ROOT, 'dist', 'server', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PARLEY_HOST: HOST,
      PARLEY_PORT: '0',
      PARLEY_DATA_DIR: dataDir,
      PARLEY_API_KEY: API_KEY,
      PARLEY_JWT_SECRET: JWT_SECRET,
      PARLEY_ESCALATION_DELAY_MS: '2000',
      PARLEY_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await listeningPort(hub);
  const pid = hub.pid!;
  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const r = await fetch(`http://${HOST}:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

  // People: the bystander (access `mine`, in none of the attacker's conversations), an agent who sees
  // every inbox (emailed about each), and the attacker, a widget visitor.
  await api('PUT', '/v1/participants/bystander', { kind: 'user', name: 'Bystander' });
  await api('PATCH', '/v1/participants/bystander/preferences', { access: { viewConversations: 'mine' } });
  await api('PUT', '/v1/participants/desk', { kind: 'user', name: 'Desk', email: 'desk@example.com' });
  const attackerToken = await token('mallory', { kind: 'customer', name: 'Mallory' });
  const bystander = new Worker(fileURLToPath(import.meta.url), { workerData: { port, tok: await token('bystander') } });
  await new Promise((r) => bystander.once('message', r));
  const measure = async <T>(attack: () => Promise<T>): Promise<{ result: T; rtts: number[] }> => {
    bystander.postMessage('start');
    await sleep(200);
    const result = await attack();
    await sleep(300);
    bystander.postMessage('stop');
    const rtts = await new Promise<number[]>((r) => bystander.once('message', r));
    return { result, rtts };
  };

  const rows: Row[] = [];
  const pingRow = (attack: string, answered: string, rtts: number[]) => {
    rows.push({ attack, answered, rtts, value: percentile(rtts, 0.99), unit: 'ms', limit: 50, budget: 'bystander ping p99 < 50 ms' });
  };

  // 0. Baseline.
  {
    const { rtts } = await measure(() => sleep(QUICK ? 1000 : 3000));
    pingRow('none (baseline)', '—', rtts);
  }

  const started = performance.now();
  // 1. Memory: 200 messages of 16,000 characters, then 300 connections that never read, each asking
  //    history with limit 200.
  const inbox = await new Promise<string>((res) => {
      void connect(port, attackerToken, () => {}).then(({ ws }) => {
        ws.on('message', (d) => {
          const f = JSON.parse(d.toString());
          if (f.t === 'conversation' && f.re === 'o') {
            ws.close();
            res(f.conversation.id);
          }
        });
        ws.send(JSON.stringify({ t: 'open', id: 'o', members: [] }));
      });
    });
  {
    const body = 'x'.repeat(16_000);
    for (let i = 0; i < 200; i++) await api('POST', `/v1/conversations/${inbox}/messages`, { senderId: 'mallory', body, clientMsgId: `big-${i}` });
    await sleep(500);
    const before = rssMb();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 50);
    const N = QUICK ? 100 : 300;
    let admitted = 0;
    let refused = 0;
    const sockets: WebSocket[] = [];
    const { rtts } = await measure(async () => {
      await Promise.all(
        Array.from({ length: N }, async () => {
          const c = await connect(port, attackerToken);
          sockets.push(c.ws);
          if (!c.welcomed) return void refused++;
          admitted++;
          (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
          for (let k = 0; k < 5; k++) c.ws.send(JSON.stringify({ t: 'history', id: `h${k}`, conversationId: inbox, limit: 200 }));
        }),
      );
      await sleep(3000);
    });
    clearInterval(sampler);
    const growth = peak - before;
    for (const s of sockets) s.terminate();
    const answered = `${admitted} sessions admitted, ${refused} refused`;
    pingRow(`1. ${N} sockets that never read ask history of 200 × 16,000 chars`, answered, rtts);
    rows.push({ attack: '1. (memory)', answered, rtts: [], value: growth, unit: 'MB', limit: 100, budget: 'hub RSS growth < 100 MB' });
    await sleep(2500); // the dropped sockets' buffers go
  }

  // The attacker becomes a member of many conversations (the host opens them): presence and
  // `conversations` then touch every one.
  const CONVS = QUICK ? 500 : 3000;
  await api('PUT', '/v1/participants/crowd', { kind: 'user', name: 'Crowd' });
  for (let i = 0; i < CONVS; i++) await api('POST', '/v1/conversations', { kind: 'direct', createdBy: 'crowd', members: ['mallory'] });
  const crowd = await connect(port, await token('crowd'));

  const flood = async (label: string, frames: (i: number) => object, count: number, sockets = 1) => {
    const counts = { ok: 0, limited: 0, other: 0, closed4008: 0 };
    const { rtts } = await measure(async () => {
      const conns = await Promise.all(
        Array.from({ length: sockets }, () =>
          connect(port, attackerToken, (f) => {
            if (f.t === 'error') {
              if (f.code === 'rate_limited') counts.limited++;
              else counts.other++;
            } else if (('re' in f && f.re !== undefined) || f.t === 'presence') counts.ok++;
          }),
        ),
      );
      const live = conns.filter((c) => c.welcomed);
      for (let i = 0; i < count; i++) {
        const c = live[i % live.length]!;
        if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(frames(i)));
        if (i % 500 === 499) await sleep(0);
      }
      await sleep(1000);
      for (const c of conns) {
        if (c.ws.readyState === WebSocket.OPEN) c.ws.close();
        if ((await Promise.race([c.closed, sleep(200).then(() => 0)])) === 4008) counts.closed4008++;
      }
    });
    pingRow(label, `${counts.ok} answered, ${counts.limited} rate_limited, ${counts.closed4008} closed 4008`, rtts);
  };

  // 2. The event loop.
  await flood('2a. 5,000 `open` frames', (i) => ({ t: 'open', id: `o${i}`, members: [] }), 5000);
  let crowdPresence = 0;
  crowd.ws.on('message', (d) => {
    if (d.toString().startsWith('{"t":"presence"')) crowdPresence++;
  });
  await flood(`2b. 5,000 \`presence\` frames, member of ${CONVS.toLocaleString('en')} conversations`, (i) => ({ t: 'presence', state: i % 2 ? 'active' : 'away' }), 5000);
  rows[rows.length - 1]!.answered += `; ${crowdPresence} presence frames reached a member`;
  await flood('2c. 1,000 `conversations` requests', (i) => ({ t: 'conversations', id: `c${i}`, limit: 200 }), 1000);

  // 3. The email bomb: sends from 50 sockets for 3 s, then 300 inbox conversations with a message each.
  {
    let acks = 0;
    let limited = 0;
    const { rtts } = await measure(async () => {
      const conns = await Promise.all(
        Array.from({ length: 50 }, () =>
          connect(port, attackerToken, (f) => {
            if (f.t === 'ack') acks++;
            else if (f.t === 'error' && f.code === 'rate_limited') limited++;
          }),
        ),
      );
      const live = conns.filter((c) => c.welcomed);
      const end = performance.now() + 3000;
      let n = 0;
      while (performance.now() < end) {
        for (const c of live) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify({ t: 'send', id: `s${n}`, conversationId: inbox, clientMsgId: `bomb-${n++}`, body: 'spam' }));
        await sleep(5);
      }
      await sleep(500);
      for (const c of conns) c.ws.terminate();
    });
    pingRow('3a. sends from 50 sockets for 3 s', `${acks} acked, ${limited} rate_limited`, rtts);
    rows.push({ attack: '3a. (acks)', answered: `${acks} acked in 3 s`, rtts: [], value: acks, unit: 'acks', limit: 60, budget: '≤ 30 + 10 × 3 s (send burst and rate)' });

    let opened = 0;
    let refusedOpen = 0;
    const { rtts: rtts2 } = await measure(async () => {
      const { ws } = await connect(port, attackerToken, (f) => {
        if (f.t === 'conversation' && f.re) {
          opened++;
          ws.send(JSON.stringify({ t: 'send', id: `m${opened}`, conversationId: f.conversation.id, clientMsgId: `one-${opened}`, body: 'help' }));
        } else if (f.t === 'error' && f.re?.startsWith('n')) refusedOpen++;
      });
      for (let i = 0; i < 300; i++) {
        ws.send(JSON.stringify({ t: 'open', id: `n${i}`, members: [] }));
        await sleep(2);
      }
      await sleep(1000);
      ws.close();
    });
    pingRow('3b. 300 inbox conversations, one message each', `${opened} opened, ${refusedOpen} refused`, rtts2);
    // Every escalation is due 2 s after its message; wait for the outbox to write them. Counted over
    // the whole run: every attack above came from the same customer.
    await sleep(6000);
    const toDesk = emails(dataDir).filter((e) => readFileSync(join(dataDir, 'outbox', e), 'utf8').includes('desk@example.com')).length;
    const minutes = (performance.now() - started) / 60_000;
    rows.push({
      attack: '1–3. (emails, whole run)',
      answered: `${toDesk} escalation emails to one agent in ${minutes.toFixed(1)} min`,
      rtts: [],
      value: toDesk,
      unit: 'emails',
      limit: 5 * Math.max(1, Math.ceil(minutes)),
      budget: '≤ 5 a minute to one agent',
    });
  }

  bystander.postMessage('exit');
  crowd.ws.terminate();
  hub.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });

  return rows;
}

function emails(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'outbox')).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

function listeningPort(proc: ChildProcess): Promise<number> {
  return new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error('the hub did not start')), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"msg":"listening".*?"port":(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    proc.once('exit', (code) => rej(new Error(`the hub exited with ${code}`)));
  });
}
