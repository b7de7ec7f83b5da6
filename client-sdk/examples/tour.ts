/**
 * The README tour's two clients: Alice (an agent) and Carol (a customer) connect, Alice writes,
 * Carol receives the message with its notify, marks it seen and answers; Alice sees both.
 *
 *   npm run tour -- <aliceToken> <carolToken> <conversationId> [ws://127.0.0.1:8080/v1/ws]
 *
 * It speaks raw protocol frames with `ws` so that every frame is visible; apps use the client SDK.
 */
import WebSocket from 'ws';
import type { ServerFrame } from '../../protocol/index.js';

const [aliceToken, carolToken, conversationId, url = process.env.PARLEY_WS_URL ?? 'ws://127.0.0.1:8080/v1/ws'] = process.argv.slice(2);
if (!aliceToken || !carolToken || !conversationId) {
  console.error('usage: npm run tour -- <aliceToken> <carolToken> <conversationId> [wsUrl]');
  process.exit(2);
}

function connect(name: string, token: string): Promise<{ ws: WebSocket; next: (t: ServerFrame['t']) => Promise<ServerFrame> }> {
  const ws = new WebSocket(url);
  const queue: ServerFrame[] = [];
  const waiting: Array<{ t: string; resolve: (f: ServerFrame) => void }> = [];
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as ServerFrame;
    console.log(`${name.padEnd(5)} ← ${JSON.stringify(f)}`);
    const i = waiting.findIndex((w) => w.t === f.t);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(f);
    else queue.push(f);
  });
  const next = (t: ServerFrame['t']) =>
    new Promise<ServerFrame>((resolve) => {
      const i = queue.findIndex((f) => f.t === t);
      if (i >= 0) resolve(queue.splice(i, 1)[0]!);
      else waiting.push({ t, resolve });
    });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ t: 'hello', v: 1, token, client: { name: 'parley-tour' } }));
      next('welcome').then(() => resolve({ ws, next }), reject);
    });
  });
}

const send = (ws: WebSocket, frame: object) => ws.send(JSON.stringify(frame));

const timeout = setTimeout(() => {
  console.error('tour: no answer within 10 s');
  process.exit(1);
}, 10_000);

const alice = await connect('alice', aliceToken);
const carol = await connect('carol', carolToken);

send(alice.ws, { t: 'send', id: 'a1', conversationId, clientMsgId: `tour-${Date.now()}`, body: 'Hello Carol, how can we help?' });
await alice.next('ack');
const m = (await carol.next('message')) as Extract<ServerFrame, { t: 'message' }>;
await carol.next('notify');
send(carol.ws, { t: 'seen', conversationId, upTo: m.message.seq });
await alice.next('receipt');
send(carol.ws, { t: 'send', id: 'c1', conversationId, clientMsgId: `tour-${Date.now()}`, body: 'My printer is on fire.' });
await carol.next('ack');
await alice.next('message');

console.log('tour: done — Alice and Carol exchanged messages, Carol\'s seen receipt reached Alice.');
clearTimeout(timeout);
alice.ws.close();
carol.ws.close();
