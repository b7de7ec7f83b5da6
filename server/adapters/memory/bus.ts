import type { Bus } from '../../core/ports/index.js';

/**
 * The Bus of one hub, or of several hubs in one process (tests): an exchange that hands each frame to
 * the publishing hub's local delivery and to every other hub of the same exchange that subscribed to
 * its topic. One hub alone: a publish is exactly one local delivery, as before there was a port.
 */
export class MemoryExchange {
  readonly members = new Set<MemoryBus>();
}

export class MemoryBus implements Bus {
  private readonly topics = new Set<string>();
  private inbound: ((topic: string, frame: string) => void) | null = null;

  constructor(
    /** Hands a frame to this hub's sessions subscribed to the topic (the transport's topics). */
    private readonly local: (topic: string, frame: string) => void,
    private readonly exchange: MemoryExchange = new MemoryExchange(),
  ) {
    exchange.members.add(this);
  }

  publish(topic: string, frame: string): void {
    this.local(topic, frame);
    if (this.exchange.members.size === 1) return;
    for (const other of this.exchange.members) if (other !== this && other.topics.has(topic)) other.inbound?.(topic, frame);
  }

  subscribe(topic: string): void {
    this.topics.add(topic);
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }

  onInbound(handler: (topic: string, frame: string) => void): void {
    this.inbound = handler;
  }

  /** Leave the exchange (a hub stopping). */
  close(): void {
    this.exchange.members.delete(this);
  }
}
