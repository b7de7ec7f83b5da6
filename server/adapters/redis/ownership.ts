import type { TimerOwnership } from '../../core/ports/index.js';
import { rendezvous } from '../../core/scheduler/rendezvous.js';

/** What ownership needs of the live set: `HubMembership`, or a fake one in tests. */
export interface LiveHubs {
  /** The live hubs' ids, this hub among them. */
  live(): readonly string[];
  /** Called with the new live set whenever it changes. `HubMembership` keeps one handler: this one. */
  onChange(handler: (live: readonly string[]) => void): void;
}

/**
 * Timer ownership over Redis membership (DESIGN §8): a key is this hub's when rendezvous hashing over
 * the live hubs picks it. Every hub computes the same owner from the same live set, so no key is
 * negotiated; while two hubs see different live sets (a change reaches each at its own refresh), a key
 * can have two owners or none for up to one refresh, which the idempotent fires and the rebuild on
 * the next change absorb.
 */
export class RedisOwnership implements TimerOwnership {
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly o: { hubId: string; membership: LiveHubs }) {
    o.membership.onChange(() => {
      for (const listener of this.listeners) listener();
    });
  }

  owns(key: string): boolean {
    return rendezvous(key, this.o.membership.live()) === this.o.hubId;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}
