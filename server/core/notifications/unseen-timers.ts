import type { Clock, EventBus, Logger, NotificationStore } from '../ports/index.js';
import { DueLoop } from '../scheduler/due-loop.js';

/**
 * The only-if-unseen emails (NOTIFICATIONS §3): persisted timers, fired once each. The store decides
 * atomically — the email is queued only if the web notification was still unseen when the timer fell
 * due, the timer is deleted either way — so a restart neither loses nor repeats one, and one that fell
 * due while the hub was down fires at start.
 */
export class UnseenTimers {
  private readonly loop: DueLoop;

  constructor(private readonly o: { store: NotificationStore; clock: Clock; events: EventBus; logger: Logger }) {
    this.loop = new DueLoop({ clock: o.clock, logger: o.logger, name: 'notification timers', drain: () => this.drain(), nextAt: () => o.store.nextUnseenTimerAt() });
  }

  start(): void {
    this.loop.kick();
  }

  /** Look for due timers now (at start, and after an event armed one). */
  kick(): void {
    this.loop.kick();
  }

  private async drain(): Promise<void> {
    const { store, clock, events } = this.o;
    for (;;) {
      if (this.loop.isStopped) return;
      const due = await store.dueUnseenTimers(clock.now(), 100);
      if (due.length === 0) return;
      let queued = 0;
      for (const t of due) if ((await store.fireUnseenTimer(t.notificationId, clock.now())) === 'queued') queued++;
      if (queued > 0) events.publish('OutboxQueued', { count: queued });
    }
  }

  stop(): void {
    this.loop.stop();
  }
}
