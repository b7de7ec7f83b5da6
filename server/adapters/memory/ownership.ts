import type { TimerOwnership } from '../../core/ports/index.js';

/** A hub alone: it owns every timer, and that never changes. */
export class SingleHubOwnership implements TimerOwnership {
  owns(_key: string): boolean {
    return true;
  }

  onChange(_listener: () => void): void {
    // One hub: ownership never moves.
  }
}
