import type { Clock, TimerHandle } from '../../server/core/ports/index.js';

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A Clock that only moves when told to. `advance(ms)` runs every timer due within the step in due
 * order (ties in the order they were set), setting `now()` to each one's due time while it runs, and
 * runs timers that those timers set if they fall within the step too. Delays below 0 count as 0.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.set(timer.id, timer);
    return timer.id as unknown as TimerHandle;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as unknown as number);
  }

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** The due times of the pending timers, earliest first. */
  pendingAt(): number[] {
    return [...this.timers.values()].map((t) => t.at).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, running due timers on the way; returns how many ran. */
  advance(ms: number): number {
    if (ms < 0) throw new RangeError('a FakeClock never goes back');
    const target = this.current + ms;
    let ran = 0;
    for (;;) {
      let first: FakeTimer | undefined;
      for (const t of this.timers.values()) {
        if (t.at <= target && (first === undefined || t.at < first.at || (t.at === first.at && t.id < first.id))) first = t;
      }
      if (first === undefined) break;
      this.timers.delete(first.id);
      this.current = first.at;
      first.fn();
      ran++;
    }
    this.current = target;
    return ran;
  }
}
