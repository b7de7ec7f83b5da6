/**
 * Socket.IO 4, rooms, websocket transport only — what teams would otherwise pick. Events: `join`
 * (room ids) and `send` ({room, s}) relayed as `message` to the room's other members. GET /heap
 * answers the heap in use. Prints `listening <port>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

const http = createServer((req, res) => {
  if (req.url === '/heap') res.end(String(process.memoryUsage().heapUsed));
  else {
    res.statusCode = 404;
    res.end();
  }
});
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
io.on('connection', (socket) => {
  socket.on('join', (rooms: string[]) => void socket.join(rooms));
  socket.on('send', (m: { room: string; s: number }) => void socket.to(m.room).emit('message', m));
});
http.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(http.address() as AddressInfo).port}\n`));
