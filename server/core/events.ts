import type { DomainEventType, DomainEvents, EventBus, Logger } from './ports/index.js';

/** The domain events of one hub, dispatched in process and in order (ports/events.ts). */
export class InProcessEvents implements EventBus {
  private readonly handlers = new Map<DomainEventType, Array<(event: never) => void>>();

  constructor(private readonly log: Logger) {}

  publish<K extends DomainEventType>(type: K, event: DomainEvents[K]): void {
    for (const handler of this.handlers.get(type) ?? []) {
      try {
        (handler as (e: DomainEvents[K]) => void)(event);
      } catch (e) {
        this.log.error('event handler failed', { event: type, error: e instanceof Error ? e.stack : String(e) });
      }
    }
  }

  subscribe<K extends DomainEventType>(type: K, handler: (event: DomainEvents[K]) => void): () => void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as (event: never) => void);
    this.handlers.set(type, list);
    return () => {
      const i = list.indexOf(handler as (event: never) => void);
      if (i >= 0) list.splice(i, 1);
    };
  }
}
