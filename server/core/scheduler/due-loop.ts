import type { Clock, Logger, TimerHandle } from '../ports/index.js';

/**
 * The loop behind a worker of persisted, due things (the outbox, only-if-unseen timers): `drain()`
 * takes what is due until nothing is; a `kick()` while it runs makes it run once more after; when it
 * is done, one clock timer waits for `nextAt()` — the store's next due time — or for the next kick.
 * The store, not memory, is the truth: a restart simply kicks again.
 */
export class DueLoop {
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly o: {
      clock: Clock;
      logger: Logger;
      /** What the log calls a failed drain. */
      name: string;
      drain: () => Promise<void>;
      /** When the next thing falls due, or null when nothing waits. */
      nextAt: () => Promise<number | null>;
    },
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Look for due work now (at start, after new work was committed). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.o
      .drain()
      .catch((e: unknown) => this.o.logger.error(`${this.o.name} failed`, { error: e instanceof Error ? e.stack : String(e) }))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        } else void this.scheduleNext().catch((e: unknown) => this.o.logger.error(`${this.o.name} failed`, { error: String(e) }));
      });
  }

  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const at = await this.o.nextAt();
    if (at === null || at >= this.timerAt) return;
    if (this.timer) this.o.clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.o.clock.setTimer(Math.max(0, at - this.o.clock.now()), () => {
      this.timer = null;
      this.timerAt = Infinity;
      this.kick();
    });
  }

  /** Take no more work; a drain under way finishes its current items. */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimer(this.timer);
  }
}
