import WebSocket from 'ws';
import { ParleyClient } from '../../client-sdk/node.js';
import type { ClientEvents, ParleyClientOptions, WebSocketLike } from '../../client-sdk/node.js';
import type { TestHub } from './hub.js';

/**
 * A real SDK client on a real hub, with a hand on its connections: the socket factory (a public SDK
 * option) always dials the hub's current port (which changes when it restarts), can be blocked so
 * reconnects fail until unblocked, and keeps the live socket so a test can cut it.
 */
export class SdkHarness {
  readonly client: ParleyClient;
  private socket: WebSocket | null = null;
  private blocked = false;
  /** Connection attempts the factory saw. */
  dials = 0;

  constructor(
    private readonly hub: TestHub,
    options: Omit<ParleyClientOptions, 'url' | 'webSocket'>,
  ) {
    this.client = new ParleyClient({
      reconnect: { initialDelayMs: 40, maxDelayMs: 400 },
      requestTimeoutMs: 5_000,
      ...options,
      url: 'ws://parley.invalid/v1/ws', // the factory decides where to dial
      webSocket: () => {
        this.dials++;
        // Port 9 (discard) on loopback refuses at once: a reconnect that fails like a down hub.
        const ws = new WebSocket(this.blocked ? 'ws://127.0.0.1:9/v1/ws' : `ws://127.0.0.1:${this.hub.port}/v1/ws`);
        this.socket = ws;
        return ws as unknown as WebSocketLike;
      },
    });
  }

  static async connect(hub: TestHub, sub: string, options: Partial<Omit<ParleyClientOptions, 'url' | 'webSocket'>> = {}): Promise<SdkHarness> {
    const h = new SdkHarness(hub, { token: () => hub.token(sub), ...options });
    await h.client.connect();
    return h;
  }

  /** Cut the connection as a network failure would: no close frame. */
  cut(): void {
    this.socket?.terminate();
  }

  /** Make reconnect attempts fail until `unblock()`. */
  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
  }

  /** Resolves with the next event of this kind for which `match` holds. */
  next<K extends keyof ClientEvents>(event: K, match: (...args: ClientEvents[K]) => boolean = () => true, timeoutMs = 10_000): Promise<ClientEvents[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.client.on(event, (...args) => {
        if (!match(...args)) return;
        clearTimeout(timer);
        off();
        resolve(args);
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
