import type { TimerOwnership } from '../../server/core/ports/index.js';

/**
 * Timer ownership set by hand, as a hub sees it when the live set changes: `owns` answers the
 * predicate given last, and `change()` tells the listeners, as RedisOwnership does on a membership change.
 */
export class FakeOwnership implements TimerOwnership {
  private readonly listeners: (() => void)[] = [];

  constructor(private predicate: (key: string) => boolean = () => true) {}

  owns(key: string): boolean {
    return this.predicate(key);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Ownership moves: from now on `predicate` answers, and every listener hears of it. */
  change(predicate: (key: string) => boolean): void {
    this.predicate = predicate;
    for (const l of this.listeners) l();
  }
}
