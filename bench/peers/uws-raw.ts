/**
 * The ceiling: a bare uWebSockets.js hub with topics and no persistence, no auth, no rules.
 * Frames: {t:'join', rooms:[…]} subscribes; {t:'send', room, s} is published to the room's other
 * members. GET /heap answers the heap in use. Prints `listening <port>` when ready.
 */
import { createRequire } from 'node:module';

const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof import('uWebSockets.js');
const decoder = new TextDecoder();
const app = uws.App();
app.ws<Record<string, never>>('/*', {
  maxPayloadLength: 65536,
  idleTimeout: 60,
  message: (ws, data) => {
    const f = JSON.parse(decoder.decode(data)) as { t: string; rooms?: string[]; room?: string };
    if (f.t === 'join') for (const r of f.rooms ?? []) ws.subscribe(r);
    else if (f.t === 'send' && f.room) ws.publish(f.room, decoder.decode(data), false);
  },
});
app.get('/heap', (res) => {
  res.end(String(process.memoryUsage().heapUsed));
});
app.listen('127.0.0.1', 0, (socket) => {
  if (!socket) process.exit(1);
  process.stdout.write(`listening ${uws.us_socket_local_port(socket as never)}\n`);
});
