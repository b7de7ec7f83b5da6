import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ParleyClient, type ConnectionState, type ParleyError, type WebSocketLike } from '../../client-sdk/node.js';
import { TestHub } from '../support/hub.js';

type Frame = { t: string; [k: string]: unknown };

/**
 * The SDK keeps a live session past its token's `exp` (SPEC §3 Token): some time before exp it asks
 * its token provider for a newer token and sends `refresh` on the live connection. Tokens here live 3 s.
 */
describe('client SDK token refresh', () => {
  let hub: TestHub;
  const clients: ParleyClient[] = [];

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.user('rita');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(() => hub.stop());

  const mint = (sub: string, ttlSeconds: number) => hub.ok<{ token: string; expiresAt: number }>('POST', '/v1/tokens', { sub, ttlSeconds });

  /** A real SDK client whose socket records every frame it sends and receives. */
  function client(token: string | (() => Promise<string>)) {
    const wire = { sent: [] as { at: number; frame: Frame }[], received: [] as { at: number; frame: Frame }[], dials: 0 };
    const c = new ParleyClient({
      url: `ws://127.0.0.1:${hub.port}/v1/ws`,
      token,
      reconnect: { initialDelayMs: 40, maxDelayMs: 400 },
      webSocket: (url) => {
        wire.dials++;
        const ws = new WebSocket(url);
        const send = ws.send.bind(ws);
        ws.send = ((data: string) => {
          wire.sent.push({ at: Date.now(), frame: JSON.parse(data) as Frame });
          send(data);
        }) as typeof ws.send;
        ws.on('message', (data) => wire.received.push({ at: Date.now(), frame: JSON.parse(String(data)) as Frame }));
        return ws as unknown as WebSocketLike;
      },
    });
    clients.push(c);
    const states: ConnectionState[] = [];
    const errors: ParleyError[] = [];
    c.on('state', (s) => states.push(s));
    c.on('error', (e) => errors.push(e));
    return { client: c, wire, states, errors };
  }

  const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

  it('sends refresh with a newer token before exp, gets refreshed with its expiresAt, re-arms, and stays connected past the first exp', async () => {
    const minted: { token: string; expiresAt: number }[] = [];
    const { client: c, wire, states } = client(async () => {
      const t = await mint('rita', 3);
      minted.push(t);
      return t.token;
    });
    const refreshed: number[] = [];
    c.on('refreshed', ({ expiresAt }) => refreshed.push(expiresAt));
    await c.connect();
    const firstExp = minted[0]!.expiresAt;

    // The first refresh: before the first token's exp, with the provider's second token.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no refreshed event before exp; sent ${JSON.stringify(wire.sent.map((s) => s.frame.t))}`)), firstExp - Date.now() + 500);
      const off = c.on('refreshed', () => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
    const refresh = wire.sent.find((s) => s.frame.t === 'refresh')!;
    expect(refresh.at).toBeLessThan(firstExp);
    expect(refresh.frame).toEqual({ t: 'refresh', id: expect.any(String), token: minted[1]!.token });
    const answer = wire.received.find((r) => r.frame.t === 'refreshed')!;
    expect(answer.frame).toEqual({ t: 'refreshed', re: refresh.frame.id, expiresAt: minted[1]!.expiresAt });
    expect(answer.at).toBeLessThan(firstExp);
    expect(refreshed[0]).toBe(minted[1]!.expiresAt);
    expect(minted[1]!.expiresAt).toBeGreaterThan(firstExp);

    // Past the first token's exp (with a margin for the hub's timer): still the same session, and the
    // client re-armed from the second token (another refresh went out before that one's exp).
    await sleepUntil(firstExp + 1_500);
    expect(c.state).toBe('open');
    expect(await c.ping()).toEqual({ serverTime: expect.any(Number) });
    expect(wire.dials).toBe(1);
    expect(states).toEqual(['connecting', 'open']);
    expect(wire.sent.filter((s) => s.frame.t === 'hello')).toHaveLength(1);
    expect(wire.received.filter((r) => r.frame.t === 'error')).toEqual([]);
    const refreshes = wire.sent.filter((s) => s.frame.t === 'refresh');
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(refreshes[1]!.frame.token).toBe(minted[2]!.token);
    expect(refreshes[1]!.at).toBeLessThan(minted[1]!.expiresAt);
  });

  it('retries a failing token provider a couple of times, then reports the error and leaves the session to end at exp', async () => {
    let calls = 0;
    const { client: c, wire, errors } = client(async () => {
      if (calls++ === 0) return (await mint('rita', 3)).token;
      throw new Error('token service down');
    });
    await c.connect();
    const gaveUp = await new Promise<ParleyError>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no error event')), 5_000);
      const off = c.on('error', (e) => {
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
    expect(gaveUp.message).toMatch(/token service down/);
    expect(calls).toBe(1 + 3); // the hello's token, then the first attempt and two retries
    expect(errors).toHaveLength(1);
    expect(wire.sent.filter((s) => s.frame.t === 'refresh')).toEqual([]);
  });

  it('does nothing with a static token: no provider to ask, no refresh frame', async () => {
    const { token, expiresAt } = await mint('rita', 3);
    const { client: c, wire } = client(token);
    await c.connect();
    await sleepUntil(expiresAt - 200);
    expect(wire.sent.map((s) => s.frame.t)).toEqual(['hello']);
  });
});
