import type { Logger } from '../../core/ports/index.js';
import { closeRedis, openRedis, whenReady, type RedisClient, type RedisCounters } from './client.js';

export interface HubMembershipOptions {
  url: string;
  /** PARLEY_REDIS_PREFIX. */
  prefix: string;
  hubId: string;
  /** PARLEY_NODE_TTL_MS: a hub that has not refreshed its key this long is dead. */
  ttlMs: number;
  /** How often this hub refreshes its key and reads the others' (default: a third of the TTL, at most 3 s). */
  refreshMs?: number;
  logger: Logger;
  counters?: RedisCounters;
}

/**
 * Which hubs are alive (DESIGN §8). Each hub refreshes `<prefix>node:<id>` with a TTL of
 * PARLEY_NODE_TTL_MS every few seconds and keeps its id in the set `<prefix>nodes`, the index of
 * every hub that ever registered; the live hubs are the members whose key still exists (any hub
 * drops a dead member from the set). A hub announces its start and its stop on `<prefix>nodes`
 * (a channel), so the others read the set at once instead of at their next refresh; a hub killed
 * without stopping is noticed when its key lapses, within the TTL plus one refresh.
 *
 * `live()` always holds this hub: it owns its own timers even while Redis is unreachable (the
 * compare-and-set in the store keeps a hub the others declared dead from sending twice).
 */
export class HubMembership {
  private readonly client: RedisClient;
  private readonly sub: RedisClient;
  private readonly refreshMs: number;
  private current: readonly string[];
  private handler: ((live: readonly string[]) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private failing = false;
  private announced = false;

  constructor(private readonly o: HubMembershipOptions) {
    this.refreshMs = o.refreshMs ?? Math.min(3000, Math.floor(o.ttlMs / 3));
    this.current = [o.hubId];
    this.client = openRedis({ url: o.url, name: `${o.prefix}${o.hubId}:membership`, logger: o.logger, onReady: () => void this.refresh() });
    this.sub = openRedis({
      url: o.url,
      name: `${o.prefix}${o.hubId}:membership-sub`,
      logger: o.logger,
      onReady: () => {
        this.sub.subscribe(this.channel, (message) => message !== o.hubId && void this.refresh()).catch((err: unknown) => o.logger.warn('redis membership subscription not confirmed', { error: String(err) }));
      },
    });
  }

  /** The live hubs' ids, sorted; this hub among them. */
  live(): readonly string[] {
    return this.current;
  }

  /** Called with the new live set whenever it changes (a hub joined, stopped, or lapsed). */
  onChange(handler: (live: readonly string[]) => void): void {
    this.handler = handler;
  }

  isReady(): boolean {
    return this.client.isReady && this.sub.isReady;
  }

  /** Resolves once this hub is registered and has read the others. */
  async ready(): Promise<void> {
    await whenReady(this.client, this.sub);
    await this.refresh();
  }

  /**
   * Refresh this hub's key and read who is alive now (also runs every `refreshMs`). Concurrent calls
   * share one run, followed by one more if asked during it.
   */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.tick().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.running;
  }

  /** Stop refreshing, drop this hub's key and tell the others; they take over its work at once. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.client.isReady) {
      await this.client
        .multi()
        .del(this.key(this.o.hubId))
        .sRem(this.setKey, this.o.hubId)
        .publish(this.channel, this.o.hubId)
        .exec()
        .catch((err: unknown) => this.o.logger.warn('redis membership: leaving not written', { error: String(err) }));
    }
    await Promise.all([closeRedis(this.client), closeRedis(this.sub)]);
  }

  /** Stop at once, saying nothing: a hub that died (tests). Its key lapses after the TTL. */
  destroy(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.client.destroy();
    this.sub.destroy();
  }

  private get channel(): string {
    return `${this.o.prefix}nodes`;
  }

  private get setKey(): string {
    return `${this.o.prefix}nodes`;
  }

  private key(id: string): string {
    return `${this.o.prefix}node:${id}`;
  }

  private async tick(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    try {
      if (!this.client.isReady) throw new Error('not connected');
      const [, added] = await this.client
        .multi()
        .set(this.key(this.o.hubId), String(Date.now()), { expiration: { type: 'PX', value: this.o.ttlMs } })
        .sAdd(this.setKey, this.o.hubId)
        .exec();
      // A hub new to the set (a start, or a Redis that lost it) says so, for the others to read at once.
      if (Number(added) === 1 || !this.announced) await this.client.publish(this.channel, this.o.hubId);
      this.announced = true;
      const members = await this.client.sMembers(this.setKey);
      const values = members.length ? await this.client.mGet(members.map((m) => this.key(m))) : [];
      const live: string[] = [];
      const dead: string[] = [];
      members.forEach((m, i) => (values[i] !== null || m === this.o.hubId ? live : dead).push(m));
      if (dead.length) await this.client.sRem(this.setKey, dead);
      if (!live.includes(this.o.hubId)) live.push(this.o.hubId);
      live.sort();
      if (this.failing) this.o.logger.info('redis membership refreshed again', { hub: this.o.hubId });
      this.failing = false;
      if (live.length !== this.current.length || live.some((id, i) => id !== this.current[i])) {
        this.current = live;
        this.handler?.(live);
      }
    } catch (err) {
      if (!this.failing) this.o.logger.warn('redis membership not refreshed: keeping the last live set', { hub: this.o.hubId, error: err instanceof Error ? err.message : String(err) });
      this.failing = true;
      this.o.counters?.dropped('membership');
    } finally {
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.refresh(), this.refreshMs);
        this.timer.unref();
      }
    }
  }
}
