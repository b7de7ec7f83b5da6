import type { Clock, EventBus, Logger, NotificationStore, TimerHandle, TimerOwnership } from '../ports/index.js';
import { DueLoop } from '../scheduler/due-loop.js';

/** The ownership key of an only-if-unseen timer (core/ports/ownership.ts). */
export const unseenKey = (notificationId: string): string => `unseen:${notificationId}`;

/** Due timers read per query, beyond those other hubs own. */
const BATCH = 100;
/** How soon to look again while a due timer of another hub waits for its owner. */
const FOREIGN_DUE_POLL_MS = 1000;

export interface UnseenTimersOptions {
  store: NotificationStore;
  clock: Clock;
  events: EventBus;
  logger: Logger;
  /** Which timers this hub fires (several hubs). Default: all. */
  ownership?: TimerOwnership;
  /**
   * Several hubs: how often to look in the store for timers another hub armed for this hub to fire.
   * Unset: only when kicked (one hub arms every timer it fires).
   */
  rescanMs?: number;
}

/**
 * The only-if-unseen emails (NOTIFICATIONS §3): persisted timers, fired once each. The store decides
 * atomically — the email is queued only if the web notification was still unseen when the timer fell
 * due, the timer is deleted either way — so a restart neither loses nor repeats one, and one that fell
 * due while the hub was down fires at start.
 *
 * Several hubs (DESIGN §8): a hub fires only the due timers it owns and leaves the others to their
 * owners; it looks again when ownership moves and every `rescanMs` (timers armed by other hubs). Two
 * hubs that both own a timer for a moment both try it: the store lets one queue the email.
 */
export class UnseenTimers {
  private readonly loop: DueLoop;
  private readonly ownership: TimerOwnership | null;
  private rescanTimer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly o: UnseenTimersOptions) {
    this.ownership = o.ownership ?? null;
    this.loop = new DueLoop({ clock: o.clock, logger: o.logger, name: 'notification timers', drain: () => this.drain(), nextAt: () => this.nextAt() });
  }

  start(): void {
    this.ownership?.onChange(() => this.loop.kick());
    this.loop.kick();
    this.scheduleRescan();
  }

  /** Look for due timers now (at start, after an event armed one, when ownership moved). */
  kick(): void {
    this.loop.kick();
  }

  private owns(notificationId: string): boolean {
    return this.ownership === null || this.ownership.owns(unseenKey(notificationId));
  }

  private async drain(): Promise<void> {
    const { store, clock, events } = this.o;
    // Timers of other hubs stay in the store until their owners fire them, ahead of ours in the
    // due order: read past them.
    for (let limit = BATCH; ; ) {
      if (this.loop.isStopped) return;
      const due = await store.dueUnseenTimers(clock.now(), limit);
      let queued = 0;
      let foreign = 0;
      for (const t of due) {
        if (!this.owns(t.notificationId)) foreign++;
        else if ((await store.fireUnseenTimer(t.notificationId, clock.now())) === 'queued') queued++;
      }
      if (queued > 0) events.publish('OutboxQueued', { count: queued });
      if (due.length < limit) return;
      limit = foreign + BATCH;
    }
  }

  /** The next time to look: the store's next due timer, or soon while the next due one is another hub's. */
  private async nextAt(): Promise<number | null> {
    const at = await this.o.store.nextUnseenTimerAt();
    if (at === null || this.ownership === null) return at;
    const now = this.o.clock.now();
    return at > now ? at : now + Math.min(FOREIGN_DUE_POLL_MS, this.o.rescanMs ?? FOREIGN_DUE_POLL_MS);
  }

  private scheduleRescan(): void {
    const every = this.o.rescanMs;
    if (every === undefined || this.stopped) return;
    this.rescanTimer = this.o.clock.setTimer(every, () => {
      this.rescanTimer = null;
      this.loop.kick();
      this.scheduleRescan();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.rescanTimer) this.o.clock.clearTimer(this.rescanTimer);
    this.rescanTimer = null;
    this.loop.stop();
  }
}
