import { z } from 'zod';
import type { Logger } from '../../core/ports/index.js';
import { closeRedis, openRedis, whenReady, type RedisClient, type RedisCounters } from './client.js';

/**
 * What a hub's directory copy may hold stale: the kinds of `DirectoryChanged` (core/ports/events.ts),
 * and `conversation` (created, or its members changed, on another hub). `*` means anything: this hub
 * was cut off from Redis and may have missed invalidations, so it reloads everything it keeps.
 */
export type InvalidationKind = 'participant' | 'project' | 'item' | 'queue' | 'conversation' | '*';

const MessageSchema = z.object({ h: z.string(), k: z.enum(['participant', 'project', 'item', 'queue', 'conversation', '*']), i: z.string() });

export interface RedisInvalidationOptions {
  url: string;
  /** PARLEY_REDIS_PREFIX. */
  prefix: string;
  hubId: string;
  logger: Logger;
  counters?: RedisCounters;
}

/**
 * Directory cache invalidation between hubs (DESIGN §8): a hub that wrote an entity says so with
 * `invalidate(kind, id)` on `<prefix>invalidate`; every other hub's handler hears it (never the
 * writer's own) and reloads that entity from the store. Fire and forget: while Redis is down the
 * call is dropped and counted. Nothing is lost for good: a hub whose listening connection was cut
 * off hears `('*', '')` when it is back, and a hub that dropped invalidations tells every other hub
 * `('*', '')` when it is back.
 */
export class RedisInvalidation {
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  private readonly channel: string;
  private handler: ((kind: InvalidationKind, id: string) => void) | null = null;
  private subscribed: Promise<void> | null = null;
  private droppedSinceReady = 0;
  /** Invalidations not sent because Redis was unreachable, since start. */
  dropped = 0;

  constructor(private readonly o: RedisInvalidationOptions) {
    this.channel = `${o.prefix}invalidate`;
    this.pub = openRedis({ url: o.url, name: `${o.prefix}${o.hubId}:invalidate`, logger: o.logger, onReady: () => this.recovered() });
    this.sub = openRedis({
      url: o.url,
      name: `${o.prefix}${o.hubId}:invalidate-sub`,
      logger: o.logger,
      onReady: (again) => {
        this.subscribed = this.sub.subscribe(this.channel, this.onMessage).catch((err: unknown) => o.logger.warn('redis invalidation subscription not confirmed', { error: String(err) }));
        if (again) this.handler?.('*', '');
      },
    });
  }

  /** Tell the other hubs that `kind` `id` changed in the store. */
  invalidate(kind: Exclude<InvalidationKind, '*'>, id: string): void {
    if (!this.pub.isReady) return this.drop();
    this.pub.publish(this.channel, JSON.stringify({ h: this.o.hubId, k: kind, i: id })).catch(() => this.drop());
  }

  /** The directory's handler: called for every other hub's invalidation, and with `*` after a reconnect. */
  onInvalidate(handler: (kind: InvalidationKind, id: string) => void): void {
    this.handler = handler;
  }

  isReady(): boolean {
    return this.pub.isReady && this.sub.isReady;
  }

  /** Resolves when both connections are ready and the channel is subscribed (the first time). */
  async ready(): Promise<void> {
    await whenReady(this.pub, this.sub);
    await this.subscribed;
  }

  async close(): Promise<void> {
    await Promise.all([closeRedis(this.pub), closeRedis(this.sub)]);
  }

  private readonly onMessage = (message: string): void => {
    let raw: unknown;
    try {
      raw = JSON.parse(message);
    } catch {
      return this.o.logger.warn('redis invalidation: unreadable message ignored', { length: message.length });
    }
    const m = MessageSchema.safeParse(raw);
    if (!m.success) return this.o.logger.warn('redis invalidation: malformed message ignored', { length: message.length });
    if (m.data.h !== this.o.hubId) this.handler?.(m.data.k, m.data.i);
  };

  /** Back after dropping invalidations: the other hubs missed them, so they reload everything. */
  private recovered(): void {
    if (this.droppedSinceReady === 0) return;
    this.droppedSinceReady = 0;
    this.pub.publish(this.channel, JSON.stringify({ h: this.o.hubId, k: '*', i: '' })).catch(() => this.drop());
  }

  private drop(): void {
    this.dropped++;
    this.o.counters?.dropped('invalidation');
    if (this.droppedSinceReady++ === 0) this.o.logger.warn('redis invalidation down: other hubs reload everything when it is back', { hub: this.o.hubId });
  }
}
