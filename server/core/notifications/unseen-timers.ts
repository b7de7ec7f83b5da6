import type { Clock, EventBus, Logger, NotificationStore, TimerHandle } from '../ports/index.js';

/**
 * The only-if-unseen emails (NOTIFICATIONS §3): persisted timers, fired once each. The store decides
 * atomically — the email is queued only if the web notification was still unseen when the timer fell
 * due, the timer is deleted either way — so a restart neither loses nor repeats one, and one that fell
 * due while the hub was down fires at start.
 */
export class UnseenTimers {
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(private readonly o: { store: NotificationStore; clock: Clock; events: EventBus; logger: Logger }) {}

  start(): void {
    this.kick();
  }

  /** Look for due timers now (at start, and after an event armed one). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.drain()
      .catch((e: unknown) => this.o.logger.error('notification timers failed', { error: e instanceof Error ? e.stack : String(e) }))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        } else void this.scheduleNext();
      });
  }

  private async drain(): Promise<void> {
    const { store, clock, events } = this.o;
    for (;;) {
      if (this.stopped) return;
      const due = await store.dueUnseenTimers(clock.now(), 100);
      if (due.length === 0) return;
      let queued = 0;
      for (const t of due) if ((await store.fireUnseenTimer(t.notificationId, clock.now())) === 'queued') queued++;
      if (queued > 0) events.publish('OutboxQueued', { count: queued });
    }
  }

  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const at = await this.o.store.nextUnseenTimerAt();
    if (at === null || at >= this.timerAt) return;
    if (this.timer) this.o.clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.o.clock.setTimer(Math.max(0, at - this.o.clock.now()), () => {
      this.timer = null;
      this.timerAt = Infinity;
      this.kick();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimer(this.timer);
  }
}
