import type { Bus, Connection } from '../../server/core/ports/index.js';
import type { ServerFrame } from '../../protocol/index.js';

/**
 * An in-memory transport for in-process tests of the hub: topics as sets of connections, and
 * connections that keep what they were sent. `publish` delivers at once, in order.
 */
export class MemoryTopics implements Bus {
  private readonly topics = new Map<string, Set<MemoryConnection>>();
  readonly published: Array<{ topic: string; frame: string }> = [];

  publish(topic: string, frame: string): void {
    this.published.push({ topic, frame });
    for (const c of this.topics.get(topic) ?? []) c.deliver(frame);
  }

  subscribe(): void {}
  unsubscribe(): void {}
  onInbound(): void {}

  connection(): MemoryConnection {
    return new MemoryConnection(this.topics);
  }
}

export class MemoryConnection implements Connection {
  readonly frames: ServerFrame[] = [];
  closed: { code: number; reason: string } | null = null;
  onClose: (() => void) | null = null;
  private readonly subscribed = new Set<string>();

  constructor(private readonly topics: Map<string, Set<MemoryConnection>>) {}

  deliver(frame: string): void {
    if (!this.closed) this.frames.push(JSON.parse(frame) as ServerFrame);
  }
  send(frame: string): boolean {
    this.deliver(frame);
    return true;
  }
  sendAfterPublished(frame: string): void {
    this.deliver(frame);
  }
  bufferedAmount(): number {
    return 0;
  }
  subscribe(topic: string): void {
    let set = this.topics.get(topic);
    if (!set) this.topics.set(topic, (set = new Set()));
    set.add(this);
    this.subscribed.add(topic);
  }
  unsubscribe(topic: string): void {
    this.topics.get(topic)?.delete(this);
    this.subscribed.delete(topic);
  }
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    for (const t of this.subscribed) this.topics.get(t)?.delete(this);
    this.onClose?.();
  }
  /** Frames of one type received so far. */
  of<T extends ServerFrame['t']>(t: T): Array<Extract<ServerFrame, { t: T }>> {
    return this.frames.filter((f): f is Extract<ServerFrame, { t: T }> => f.t === t);
  }
}
