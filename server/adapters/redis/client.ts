import { createClient } from 'redis';
import type { Logger } from '../../core/ports/index.js';

export type RedisClient = ReturnType<typeof build>;

/** What the Redis adapters drop while Redis is unreachable (counted, never thrown into the caller). */
export interface RedisCounters {
  dropped(what: 'frame' | 'presence' | 'invalidation' | 'membership'): void;
}

export interface RedisLinkOptions {
  url: string;
  /** The connection's name in CLIENT LIST (`<prefix><hub>:<role>`): who is who for an operator. */
  name: string;
  logger: Logger;
  /** Every time the connection is ready: `again` after a loss (re-subscribe, re-put what was lost). */
  onReady?: (again: boolean) => void;
}

/**
 * One connection that reconnects by itself, forever, with backoff up to 2 s. Commands sent while it is
 * down fail at once (no offline queue: a hub cut off from Redis must not buffer without bound); the
 * callers count and drop them. An outage is logged once when it starts and once when it ends. Pub/sub
 * subscriptions are carried over a reconnect by the client; the adapters subscribe again on `again`
 * as well, for those whose confirmation the loss cut off.
 */
export function openRedis(o: RedisLinkOptions): RedisClient {
  const client = build(o.url, o.name);
  let down = false;
  let everReady = false;
  client.on('error', (err: unknown) => {
    if (down) return;
    down = true;
    o.logger.warn('redis unreachable', { connection: o.name, error: err instanceof Error ? err.message : String(err) });
  });
  client.on('ready', () => {
    const again = everReady;
    everReady = true;
    if (down) o.logger.info('redis reachable again', { connection: o.name });
    down = false;
    o.onReady?.(again);
  });
  // With a strategy that never gives up, connect() settles only on success or close(); a failure is
  // reported through the 'error' events above.
  client.connect().catch((err: unknown) => o.logger.warn('redis connect ended', { connection: o.name, error: String(err) }));
  return client;
}

function build(url: string, name: string) {
  return createClient({
    url,
    name,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000) + Math.floor(Math.random() * 50),
    },
  });
}

/** Resolves when every client is ready (the first time); for start-up and tests. */
export function whenReady(...clients: RedisClient[]): Promise<void> {
  return Promise.all(clients.map((c) => (c.isReady ? undefined : new Promise<void>((resolve) => c.once('ready', () => resolve()))))).then(() => undefined);
}

/** Close a connection: after its pending replies when it is up, at once (no more reconnecting) when not. */
export async function closeRedis(c: RedisClient): Promise<void> {
  if (!c.isOpen) return;
  if (c.isReady) await c.close();
  else c.destroy();
}
