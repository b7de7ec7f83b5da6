import type { Clock, TimerHandle } from '../ports/index.js';
import type { TimerWheel } from './timer-wheel.js';

/** Options of {@link WheelDriver}. */
export interface WheelDriverOptions<K> {
  wheel: TimerWheel<K>;
  clock: Clock;
}

/**
 * Drives a {@link TimerWheel} from a {@link Clock}: while started, exactly one clock timer is pending
 * when the wheel has timers — set for `wheel.nextWakeAt()` — and none when it is empty. When it
 * fires, the driver calls `wheel.advance(clock.now())` and sets the next one.
 *
 * Whoever arms the wheel calls `poke()` afterwards, so that a new earliest timer pulls the clock timer
 * forward (cheap when it does not). Cancelling needs no poke: the clock timer then fires once for
 * nothing and is not renewed if the wheel is empty. If the wheel's advance throws (an `onFire` error
 * with no `onError`), the driver still sets its next timer, then rethrows into the clock.
 */
export class WheelDriver<K> {
  private readonly wheel: TimerWheel<K>;
  private readonly clock: Clock;
  private handle: TimerHandle | undefined = undefined;
  private wakeAt = Infinity;
  private running = false;
  private readonly onTimer = (): void => {
    this.handle = undefined;
    this.wakeAt = Infinity;
    try {
      this.wheel.advance(this.clock.now());
    } finally {
      this.schedule();
    }
  };

  constructor(options: WheelDriverOptions<K>) {
    this.wheel = options.wheel;
    this.clock = options.clock;
  }

  /** Whether a clock timer is pending (for tests and metrics). */
  get scheduled(): boolean {
    return this.handle !== undefined;
  }

  /** Starts driving; timers already overdue fire on the first clock timer, at once. Idempotent. */
  start(): void {
    this.running = true;
    this.schedule();
  }

  /** Stops driving and clears the clock timer; pending wheel timers stay armed. Idempotent. */
  stop(): void {
    this.running = false;
    this.clear();
  }

  /** Re-reads the wheel's next wake time; call after `arm()`. No-op while stopped. */
  poke(): void {
    if (this.running) this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    const at = this.wheel.nextWakeAt();
    if (at === undefined) {
      this.clear();
      return;
    }
    if (this.handle !== undefined && at === this.wakeAt) return;
    this.clear();
    this.wakeAt = at;
    this.handle = this.clock.setTimer(Math.max(0, at - this.clock.now()), this.onTimer);
  }

  private clear(): void {
    if (this.handle !== undefined) this.clock.clearTimer(this.handle);
    this.handle = undefined;
    this.wakeAt = Infinity;
  }
}
