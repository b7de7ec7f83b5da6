import type { Bus, Logger } from '../../core/ports/index.js';
import { closeRedis, openRedis, whenReady, type RedisClient, type RedisCounters } from './client.js';

export interface RedisBusOptions {
  url: string;
  /** PARLEY_REDIS_PREFIX: every channel starts with it. */
  prefix: string;
  /** This hub's id, unique among the live hubs (its frames coming back from Redis are recognised by it). */
  hubId: string;
  /** Hands a frame to this hub's sessions subscribed to the topic (the transport's topics). */
  local: (topic: string, frame: string) => void;
  logger: Logger;
  counters?: RedisCounters;
}

/**
 * The Bus across hubs over Redis sharded pub/sub: one shard channel per topic (`<prefix>t:<topic>`),
 * SPUBLISH to it, SSUBSCRIBE while the topic has a local subscriber.
 *
 * Chosen by measurement (bench/redis-channels.ts: three hubs each listening to 2,000 of 5,000 topics,
 * 20,000 frames of 200 bytes, Redis 7.0 on the 2-core dev machine, two runs): a channel per topic took
 * 38–41 ms of Redis CPU, a shard channel per topic 37–47 ms, a channel per hub (the publisher sending
 * once to each listening hub) 44–52 ms; wall time was the client's, within noise (20,000–60,000
 * deliveries/s each). Redis does the routing either per-topic way, so no hub keeps a registry of who
 * listens to what; shard channels cost the same as plain ones on one node and, unlike plain PUBLISH,
 * are not broadcast to every node of a Redis Cluster.
 *
 * A publish goes to the local sessions at once (no round trip, exactly once: the copy Redis sends back
 * carries this hub's id and is skipped) and to Redis, on one connection, so frames of one topic from
 * one hub keep their order. While Redis is down, local delivery goes on and what would have gone to
 * other hubs is dropped and counted (sessions catch up from history, as after any lost frame). Redis
 * 7.0 or later (SSUBSCRIBE).
 */
export class RedisBus implements Bus {
  private readonly pub: RedisClient;
  private readonly sub: RedisClient;
  /** The topics this hub listens to: the truth a reconnect re-subscribes from. */
  private readonly topics = new Set<string>();
  /** Subscription changes not yet confirmed by Redis (see `settled`). */
  private readonly pending = new Set<Promise<unknown>>();
  private inbound: ((topic: string, frame: string) => void) | null = null;
  private readonly channelPrefix: string;
  private readonly tag: string;
  private droppedSinceReady = 0;
  private unconfirmedLogged = false;
  /** Topics left while the connection was down: the client may carry them over, so they are left again. */
  private readonly unconfirmedUnsubscribes = new Set<string>();
  /** Frames not carried to other hubs because Redis was unreachable, since start. */
  dropped = 0;

  constructor(private readonly o: RedisBusOptions) {
    this.channelPrefix = `${o.prefix}t:`;
    // Frames are JSON (no raw newline), so `<hubId>\n` cannot be mistaken for a frame's start.
    this.tag = `${o.hubId}\n`;
    this.pub = openRedis({ url: o.url, name: `${o.prefix}${o.hubId}:bus`, logger: o.logger, onReady: () => this.recovered() });
    this.sub = openRedis({ url: o.url, name: `${o.prefix}${o.hubId}:bus-sub`, logger: o.logger, onReady: () => this.resubscribe() });
  }

  publish(topic: string, frame: string): void {
    this.o.local(topic, frame);
    if (!this.pub.isReady) return this.drop();
    this.pub.sPublish(this.channelPrefix + topic, this.tag + frame).catch(this.onPublishFailed);
  }

  subscribe(topic: string): void {
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    this.track(this.sub.sSubscribe(this.channelPrefix + topic, this.onMessage));
  }

  /**
   * Subscribe and resolve when Redis confirmed (or the attempt failed: the reconnect subscribes again).
   * A topic subscribed here for a session that then closed before subscribing locally stays subscribed
   * until its next local unsubscribe: bounded by the topics of participants who authenticated.
   */
  async confirm(topics: readonly string[]): Promise<void> {
    for (const t of topics) this.subscribe(t);
    await this.settled();
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    this.track(this.sub.sUnsubscribe(this.channelPrefix + topic, this.onMessage), () => this.unconfirmedUnsubscribes.add(topic));
  }

  onInbound(handler: (topic: string, frame: string) => void): void {
    this.inbound = handler;
  }

  /** Both connections are up: frames reach other hubs. */
  isReady(): boolean {
    return this.pub.isReady && this.sub.isReady;
  }

  /** Resolves when both connections are ready (the first time). */
  ready(): Promise<void> {
    return whenReady(this.pub, this.sub);
  }

  /** Resolves when every subscribe and unsubscribe asked for so far is in effect at Redis (or failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    await this.settled();
    await Promise.all([closeRedis(this.pub), closeRedis(this.sub)]);
  }

  private readonly onMessage = (message: string, channel: string): void => {
    // Our own publish, already delivered locally.
    if (message.startsWith(this.tag)) return;
    const topic = channel.slice(this.channelPrefix.length);
    // An unsubscribe on its way to Redis: the topic has no local subscriber any more.
    if (!this.topics.has(topic)) return;
    const nl = message.indexOf('\n');
    if (nl < 0) return;
    this.inbound?.(topic, message.slice(nl + 1));
  };

  private readonly onPublishFailed = (): void => this.drop();

  private drop(): void {
    this.dropped++;
    this.o.counters?.dropped('frame');
    if (this.droppedSinceReady++ === 0) this.o.logger.warn('redis bus down: frames reach this hub only', { hub: this.o.hubId });
  }

  private recovered(): void {
    if (this.droppedSinceReady > 0) this.o.logger.info('redis bus up again', { hub: this.o.hubId, dropped: this.droppedSinceReady });
    this.droppedSinceReady = 0;
  }

  /**
   * Whenever the subscriber connection is ready: subscribe every topic (again). The client carries
   * subscriptions Redis had confirmed over a reconnect (and skips those here); one asked for while the
   * connection was down, or whose confirmation a loss cut off, is sent now.
   */
  private resubscribe(): void {
    this.unconfirmedLogged = false;
    const channels = [...this.topics].map((t) => this.channelPrefix + t);
    for (let i = 0; i < channels.length; i += 1000) this.track(this.sub.sSubscribe(channels.slice(i, i + 1000), this.onMessage));
    const left = [...this.unconfirmedUnsubscribes].filter((t) => !this.topics.has(t));
    this.unconfirmedUnsubscribes.clear();
    for (const t of left) this.track(this.sub.sUnsubscribe(this.channelPrefix + t, this.onMessage), () => this.unconfirmedUnsubscribes.add(t));
  }

  private track(p: Promise<unknown>, onFailed?: () => void): void {
    const tracked = p.then(
      () => undefined,
      (err: unknown) => {
        onFailed?.();
        // The connection went down before Redis answered; the reconnect subscribes again. Logged
        // once per outage: a hub cut off may change thousands of subscriptions.
        if (this.unconfirmedLogged) return;
        this.unconfirmedLogged = true;
        this.o.logger.warn('redis subscription changes not confirmed: made again on reconnect', { hub: this.o.hubId, error: String(err) });
      },
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}
