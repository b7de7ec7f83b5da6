import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { TestHub } from '../support/hub.js';
import { DEFAULT_ENV, holdsSocket, hubPid, until } from '../support/abuse.js';
import { itemConversation } from '../support/ws.js';

/**
 * Slow consumers (server/README.md): a session with more than PARLEY_MAX_BACKPRESSURE_BYTES (1 MiB)
 * buffered is closed 1008; a socket that never reads never takes that close frame, and uWS releases
 * it (and its buffers) by its own close timeout, not the idle timeout.
 */
describe('slow consumers that never read', () => {
  let hub: TestHub;
  let conv: { id: string };
  let posted = 0;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { ...DEFAULT_ENV } });
    await hub.user('slow-agent'); // sees every item conversation (access all)
    await hub.user('slow-watcher');
    await hub.customer('slow-cust');
    await hub.bot('slow-bot');
    await hub.ok('PUT', '/v1/items/slow-item', { kind: 'ticket', title: 'Firehose', customerId: 'slow-cust' });
    conv = await itemConversation(hub, 'slow-item', 'external');
  });
  afterAll(async () => {
    await hub?.stop();
  });

  const openSockets = async () => Number(/^parley_connections (\d+)/m.exec(await (await fetch(`${hub.url}/metrics`)).text())?.[1]);

  /** A paused session of slow-agent, and 16 KB messages pushed at it (the HTTP API is not rate limited) until the hub closes it. */
  async function cutSlowAgent(): Promise<{ slow: TestClient; port: number }> {
    const slow = await hub.connect('slow-agent');
    const port = (slow.ws as any)._socket.localPort as number;
    (slow.ws as any)._socket.pause();
    const before = await openSockets();
    const body = 'z'.repeat(16_000);
    while ((await openSockets()) >= before) {
      if (posted >= 5000) throw new Error(`a client that never read was not cut after ${posted} messages of 16 KB`);
      await Promise.all(
        Array.from({ length: 25 }, () => {
          const k = posted++;
          return hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'slow-bot', body, clientMsgId: `f${k}` });
        }),
      );
    }
    return { slow, port };
  }

  it('is closed 1008 while a reading client gets every message', async () => {
    const watcher = await hub.connect('slow-watcher');
    const { slow } = await cutSlowAgent();
    await watcher.sync();
    expect(watcher.queued('message').filter((f) => f.message.conversationId === conv.id)).toHaveLength(posted);
    expect(watcher.closed).toBeNull();
    // Reading again, the slow client finds its session ended: the 1008 close frame, or none at all if dropped.
    (slow.ws as any)._socket.resume();
    expect([1008, 1006]).toContain((await slow.waitClose(20_000)).code);
  });

  // uWS calls the close handler inside ws.end(), so the hub holds no handle to a closing socket: one
  // whose client never reads its 1008 is released by uWS's own close timeout, about 15 s later
  // (server/README.md, "Abuse"). This guards against holding it for good.
  it('is released by the transport after its close frame, not kept until the idle timeout', async () => {
    const pid = hubPid(hub);
    const { port } = await cutSlowAgent();
    expect(holdsSocket(pid, hub.port, port)).toBe(true);
    await until(() => !holdsSocket(pid, hub.port, port), 'the hub to release the socket of a client that never read', 25_000);
  }, 40_000);
});
