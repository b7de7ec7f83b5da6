/**
 * The load generator: a process of its own that opens every client connection to one target, forms
 * conversations of one customer and three agents (or rooms of `group` members), and on command sends
 * at a fixed aggregate rate, timestamping each message (performance.now() of this process, which is
 * also where it is received). Commands arrive as JSON lines on stdin; results leave as JSON lines on
 * stdout.
 *
 *   {cmd:'run', rate, durationMs, drainMs, bodyBytes?, rooms?}
 *     → {sent, expected, delivered, acked, p50, p99, max, cpuMs, wallMs}
 *   (`rooms`: only the first that many rooms send; the others stay connected and quiet)
 *   {cmd:'warm'} → {sent, delivered}: each room's senders post once (not counted in any run)
 *   {cmd:'exit'}
 *
 * Messages come from a random one of each room's first 4 members (every member of a room of 4).
 * `bodyBytes` pads each message's body (the JSON {p, s, i} it carries, plus an `x` field) to that many
 * bytes; 0 leaves it unpadded (about 45 bytes). No target's ack is awaited before the next send: the
 * schedule is fixed. socketio-durable's acks (Socket.IO callbacks) are counted in `acked`; Parley's
 * `ack` frames arrive and are ignored, as before.
 *
 * Every loop is bounded in count and time; it targets 127.0.0.1 only.
 */
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';

export interface GeneratorConfig {
  target: 'parley' | 'socketio' | 'socketio-durable' | 'uws-raw';
  port: number;
  /**
   * Parley only: several hubs of one cluster. Client i connects to `ports[i % ports.length]` (so the
   * members of a room sit on different hubs); the host API goes to `port`. Unset: every client on `port`.
   */
  ports?: number[];
  clients: number;
  /**
   * Members of each conversation or room, 4 by default (1 customer and 3 agents for Parley). Parley
   * with 50 or more: internal item conversations, each followed by its `group` users, every one of
   * them with access `mine` (so that nobody else sees them), created before anybody connects.
   */
  group?: number;
  /** Only connect (and authenticate); no conversations, no sending. */
  idle?: boolean;
  /** Parley only. */
  apiKey?: string;
  /** Parley and socketio-durable. */
  jwtSecret?: string;
}

const config = JSON.parse(process.argv[2]!) as GeneratorConfig;
const HOST = '127.0.0.1';
const GROUP = config.group ?? 4;
/** Parley's rooms of 50 and more are item conversations of users (a direct one has at most 51 members). */
const ITEM_ROOMS = config.target === 'parley' && GROUP >= 50;
/**
 * Who posts: the first 4 members of each room. A user's first post makes it a member of an item
 * conversation, which Parley tells every viewer; `warm` gets those first posts done before a run.
 */
const SENDERS = Math.min(GROUP, 4);
const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let phase = 0;
let latencies: number[] = [];
let delivered = 0;
let acked = 0;
let bodyBytes = 0;
const PAD = 'x'.repeat(65536);

/** The `x` that pads {p, s, i} to `bodyBytes` as JSON (`,"x":""` and the closing brace are 8 bytes). */
const pad = (s: number, i: number) => PAD.slice(0, Math.max(0, bodyBytes - `{"p":${phase},"s":${s},"i":${i}`.length - 8));
/** The message body every target carries: {p, s, i}, padded with `x` to `bodyBytes` when set. */
function body(i: number): string {
  const s = performance.now();
  return bodyBytes > 0 ? `{"p":${phase},"s":${s},"i":${i},"x":"${pad(s, i)}"}` : `{"p":${phase},"s":${s},"i":${i}}`;
}

function received(selfIndex: number, senderIndex: number, p: number, s: number): void {
  if (p !== phase || senderIndex === selfIndex) return;
  delivered++;
  latencies.push(performance.now() - s);
}

interface Client {
  send(conv: number, msgNo: number): void;
  close(): void;
}

const secret = new TextEncoder().encode(config.jwtSecret ?? '');
let convIds: string[] = [];

async function parleyClient(i: number): Promise<Client> {
  const kind = !ITEM_ROOMS && i % GROUP === 0 ? 'customer' : 'user';
  const token = await new SignJWT({ kind, name: `Bench ${i}`, email: `b${i}@example.com` })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`b${i}`)
    .setExpirationTime('2h')
    .sign(secret);
  const port = config.ports?.length ? config.ports[i % config.ports.length]! : config.port;
  const ws = new WebSocket(`ws://${HOST}:${port}/v1/ws`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hello timeout')), 30_000);
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ t: 'hello', v: 1, token })));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"t":"welcome"')) {
        clearTimeout(timer);
        resolve();
        return;
      }
      if (!text.startsWith('{"t":"message"')) return;
      const m = JSON.parse(text).message as { senderId: string; body: string };
      const b = JSON.parse(m.body) as { p: number; s: number; i: number };
      received(i, b.i, b.p, b.s);
    });
  });
  let n = 0;
  return {
    send(conv, msgNo) {
      ws.send(`{"t":"send","id":"s${++n}","conversationId":"${convIds[conv]}","clientMsgId":"${phase}-${msgNo}","body":${JSON.stringify(body(i))}}`);
    },
    close: () => ws.terminate(),
  };
}

async function uwsClient(i: number): Promise<Client> {
  const ws = new WebSocket(`ws://${HOST}:${config.port}/`);
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve());
  });
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as { p: number; s: number; i: number };
    received(i, f.i, f.p, f.s);
  });
  if (!config.idle) ws.send(JSON.stringify({ t: 'join', rooms: [`r${Math.floor(i / GROUP)}`] }));
  return {
    send(conv) {
      // The body's fields inline, as before: {t, room, p, s, i, x?}.
      ws.send(`{"t":"send","room":"r${conv}",${body(i).slice(1)}`);
    },
    close: () => ws.terminate(),
  };
}

async function socketioClient(i: number): Promise<Client> {
  const socket: Socket = ioClient(`http://${HOST}:${config.port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  socket.on('message', (m: { p: number; s: number; i: number }) => received(i, m.i, m.p, m.s));
  if (!config.idle) socket.emit('join', [`r${Math.floor(i / GROUP)}`]);
  return {
    send(conv) {
      // The body's fields inline, as before: {room, p, s, i, x?}.
      const s = performance.now();
      socket.emit('send', bodyBytes > 0 ? { room: `r${conv}`, p: phase, s, i, x: pad(s, i) } : { room: `r${conv}`, p: phase, s, i });
    },
    close: () => socket.disconnect(),
  };
}

async function socketioDurableClient(i: number): Promise<Client> {
  const token = await new SignJWT({ name: `Bench ${i}` })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`b${i}`)
    .setExpirationTime('2h')
    .sign(secret);
  const socket: Socket = ioClient(`http://${HOST}:${config.port}`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  socket.on('message', (m: { body: string }) => {
    const b = JSON.parse(m.body) as { p: number; s: number; i: number };
    received(i, b.i, b.p, b.s);
  });
  if (!config.idle) socket.emit('join', [`r${Math.floor(i / GROUP)}`]);
  const onAck = (a: { id?: number }) => {
    if (typeof a?.id === 'number') acked++;
  };
  return {
    send(conv, msgNo) {
      socket.emit('send', { room: `r${conv}`, id: `${phase}-${msgNo}`, body: body(i) }, onAck);
    },
    close: () => socket.disconnect(),
  };
}

async function api(method: string, path: string, body: unknown): Promise<{ id: string }> {
  const res = await fetch(`http://${HOST}:${config.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

const make = { parley: parleyClient, socketio: socketioClient, 'socketio-durable': socketioDurableClient, 'uws-raw': uwsClient }[config.target];
const clients: Client[] = [];
const conversations = Math.floor(config.clients / GROUP);
if (ITEM_ROOMS && !config.idle) {
  // Users with access `mine`, then per room an item they all follow and its internal conversation.
  for (let i = 0; i < config.clients; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, config.clients - i) }, async (_, k) => {
        await api('PUT', `/v1/participants/b${i + k}`, { kind: 'user', name: `Bench ${i + k}`, email: `b${i + k}@example.com` });
        await api('PATCH', `/v1/participants/b${i + k}/preferences`, { access: { viewConversations: 'mine' } });
      }),
    );
  }
  convIds = new Array(conversations);
  for (let c = 0; c < conversations; c++) {
    const followers = Array.from({ length: GROUP }, (_, k) => `b${c * GROUP + k}`);
    await api('PUT', `/v1/items/bench-${c}`, { kind: 'ticket', title: `Bench room ${c}`, followers });
    convIds[c] = (await api('POST', '/v1/conversations', { kind: 'item', itemId: `bench-${c}`, visibility: 'internal' })).id;
  }
}
if (config.idle && config.target === 'parley') {
  // Idle sessions measure what a session costs, not what creating a participant costs: create them
  // first, then wait for the word to connect.
  for (let i = 0; i < config.clients; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, config.clients - i) }, (_, k) =>
        api('PUT', `/v1/participants/b${i + k}`, { kind: (i + k) % GROUP === 0 ? 'customer' : 'user', name: `Bench ${i + k}`, email: `b${i + k}@example.com` }),
      ),
    );
  }
}
if (config.idle) {
  out({ created: true });
  const rl0 = createInterface({ input: process.stdin });
  for await (const line of rl0) if ((JSON.parse(line) as { cmd: string }).cmd === 'connect') break;
  rl0.close();
}
const started = Date.now();
// Connect in waves so that the accept queue never overflows.
for (let i = 0; i < config.clients; i += 100) {
  const wave = await Promise.all(Array.from({ length: Math.min(100, config.clients - i) }, (_, k) => make(i + k)));
  clients.push(...wave);
  if (Date.now() - started > 300_000) throw new Error('connecting took too long');
}
if (config.target === 'parley' && !config.idle && !ITEM_ROOMS) {
  // One direct conversation per group, opened by its first agent with the customer and two agents.
  convIds = new Array(conversations);
  for (let k = 0; k < conversations; k += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, conversations - k) }, async (_, j) => {
        const c = k + j;
        const b = c * GROUP;
        convIds[c] = (await api('POST', '/v1/conversations', { kind: 'direct', createdBy: `b${b + 1}`, members: [`b${b}`, `b${b + 2}`, `b${b + 3}`] })).id;
      }),
    );
  }
}
await sleep(500);
out({ ready: true, clients: clients.length, connectMs: Date.now() - started });

/** `rooms`: send only in the first `rooms` rooms (the rest stay connected and quiet); all of them when unset. */
async function run(rate: number, durationMs: number, drainMs: number, rooms = conversations) {
  const busy = Math.max(1, Math.min(rooms, conversations));
  phase++;
  latencies = [];
  delivered = 0;
  acked = 0;
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const TICK_MS = 10;
  let msgNo = 0;
  // Send on a fixed schedule: by time t, rate × t messages, whatever the timer's jitter.
  while (performance.now() - t0 < durationMs) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due) {
      const conv = Math.floor(Math.random() * busy);
      const member = conv * GROUP + Math.floor(Math.random() * SENDERS);
      clients[member]!.send(conv, msgNo++);
      sent++;
    }
    await sleep(TICK_MS);
  }
  const sendWallMs = performance.now() - t0;
  const expected = sent * (GROUP - 1);
  const drainEnd = performance.now() + drainMs;
  while (delivered < expected && performance.now() < drainEnd) await sleep(20);
  const cpu = process.cpuUsage(cpu0);
  const sorted = Float64Array.from(latencies).sort();
  const pct = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
  return {
    sent,
    expected,
    delivered,
    acked,
    sendWallMs,
    p50: pct(0.5),
    p99: pct(0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - t0,
  };
}

/** Each room's senders post once, 30 messages every 10 ms, then up to 10 s for the deliveries. */
async function warm() {
  phase++;
  delivered = 0;
  let sent = 0;
  for (let conv = 0; conv < conversations; conv++) {
    for (let k = 0; k < SENDERS; k++) {
      clients[conv * GROUP + k]!.send(conv, sent++);
      if (sent % 30 === 0) await sleep(10);
    }
  }
  const end = performance.now() + 10_000;
  while (delivered < sent * (GROUP - 1) && performance.now() < end) await sleep(20);
  return { sent, delivered };
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = JSON.parse(line) as { cmd: 'run'; rate: number; durationMs: number; drainMs: number; bodyBytes?: number; rooms?: number } | { cmd: 'warm' } | { cmd: 'exit' };
  if (cmd.cmd === 'exit') break;
  if (cmd.cmd === 'warm') {
    out(await warm());
    continue;
  }
  bodyBytes = cmd.bodyBytes ?? 0;
  out(await run(cmd.rate, cmd.durationMs, cmd.drainMs, cmd.rooms));
}
for (const c of clients) c.close();
process.exit(0);
