/**
 * The Parley client for Node: `ParleyClient` on the `ws` package (Node 20 has no global WebSocket).
 *
 * @example
 * import { ParleyClient } from 'parley/client';
 * const client = new ParleyClient({ url: 'ws://127.0.0.1:8080/v1/ws', token });
 */
import WebSocket from 'ws';
import { ParleyClient as BaseClient, type ParleyClientOptions, type WebSocketLike } from './parley-client.js';

export * from './shared-exports.js';

export class ParleyClient extends BaseClient {
  constructor(options: Omit<ParleyClientOptions, 'webSocket'> & Partial<Pick<ParleyClientOptions, 'webSocket'>>) {
    super({ webSocket: (url) => new WebSocket(url) as unknown as WebSocketLike, ...options });
  }
}
