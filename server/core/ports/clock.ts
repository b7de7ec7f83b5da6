/** An opaque handle to cancel a timer. */
export type TimerHandle = { readonly __timer: unique symbol };

/**
 * Time and timers for core, which owns none of its own. The system clock uses Date.now and Node's
 * timers; tests use a fake clock advanced by hand.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Run `fn` once after `ms`. Timers never keep the process alive. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}
