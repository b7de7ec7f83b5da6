/**
 * What a competent team would build instead of Parley on Socket.IO 4 and better-sqlite3: the JWT
 * checked once at connection (HS256, the bench's secret, `sub` is the sender), every message inserted
 * with one prepared statement (WAL, `synchronous=NORMAL`, a commit per message), acked through
 * Socket.IO's callback once the insert returned, then broadcast to the room's other members.
 *
 * What it lacks beside Parley: no group commit (one commit per message), no idempotency (a resend is a
 * second row), no per-conversation seq, no delivered or seen receipts, no escalation by email, no
 * visibility rules (a client joins the rooms it names), no rate limits, no history or reconnect protocol.
 *
 * Events: `join` (room ids); `send` ({room, id, body}, ack) → ack({id, at}) and `message`
 * ({id, room, sender, body, at}) to the room's others. GET /heap answers the heap in use. Prints
 * `listening <port>` when ready. The database goes in PARLEY_DATA_DIR (the bench makes and removes it),
 * else in a temp dir removed on a clean exit.
 */
import Database from 'better-sqlite3';
import { jwtVerify } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'socket.io';

const given = process.env.PARLEY_DATA_DIR;
const dir = given || mkdtempSync(join(tmpdir(), 'socketio-durable-'));
if (!given) {
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
}

const db = new Database(join(dir, 'chat.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY,
  room TEXT NOT NULL,
  sender TEXT NOT NULL,
  client_msg_id TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_room ON messages (room, id);`);
const insert = db.prepare<[string, string, string, string, number]>('INSERT INTO messages (room, sender, client_msg_id, body, created_at) VALUES (?, ?, ?, ?, ?)');

const secret = new TextEncoder().encode(process.env.PARLEY_JWT_SECRET ?? '');

const http = createServer((req, res) => {
  if (req.url === '/heap') res.end(String(process.memoryUsage().heapUsed));
  else {
    res.statusCode = 404;
    res.end();
  }
});
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });

io.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: unknown }).token;
  if (typeof token !== 'string') {
    next(new Error('unauthenticated'));
    return;
  }
  jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
    ({ payload }) => {
      if (typeof payload.sub !== 'string') return next(new Error('unauthenticated'));
      (socket.data as { sub?: string }).sub = payload.sub;
      next();
    },
    () => next(new Error('unauthenticated')),
  );
});

interface Send {
  room: string;
  id: string;
  body: string;
}
const valid = (m: unknown): m is Send => {
  const x = m as Partial<Send> | null;
  return typeof x === 'object' && x !== null && typeof x.room === 'string' && typeof x.id === 'string' && typeof x.body === 'string' && x.body.length > 0 && x.body.length <= 16000;
};

io.on('connection', (socket) => {
  const sender = (socket.data as { sub: string }).sub;
  socket.on('join', (rooms: unknown) => {
    if (Array.isArray(rooms)) void socket.join(rooms.filter((r): r is string => typeof r === 'string'));
  });
  socket.on('send', (m: unknown, ack?: unknown) => {
    if (!valid(m)) {
      if (typeof ack === 'function') ack({ error: 'invalid' });
      return;
    }
    const at = Date.now();
    const id = Number(insert.run(m.room, sender, m.id, m.body, at).lastInsertRowid);
    if (typeof ack === 'function') ack({ id, at });
    socket.to(m.room).emit('message', { id, room: m.room, sender, body: m.body, at });
  });
});

http.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(http.address() as AddressInfo).port}\n`));
