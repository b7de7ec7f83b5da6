import type { Message } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import type { Clock, EventBus, Logger, Store, TimerHandle, TimerOwnership } from '../ports/index.js';
import { relationSince } from '../rules/rules.js';
import { TimerWheel } from '../scheduler/timer-wheel.js';
import { WheelDriver } from '../scheduler/wheel-driver.js';
import type { EmailOutcome } from './escalation-email.js';

export interface EscalationMetrics {
  timerArmed(): void;
  timerFired(): void;
  emailQueued(): void;
  pendingTimers(n: number): void;
}

export interface EscalationSchedulerOptions {
  /** The scheduler listens for MessageCommitted and Seen. */
  events: Pick<EventBus, 'subscribe'>;
  store: Pick<Store, 'getWatermarks' | 'listMessages'>;
  clock: Clock;
  directory: Directory;
  logger: Logger;
  metrics: Pick<EscalationMetrics, 'timerArmed' | 'timerFired' | 'pendingTimers'>;
  delayMs: number;
  recoveryMs: number;
  /** What a due (participant, conversation) comes to: the email builder's `emailFor`. */
  evaluate: (participantId: string, conversationId: string) => Promise<EmailOutcome>;
  /** Which pairs this hub keeps timers for (key `esc:<conversationId>:<participantId>`). Default: all. */
  ownership?: TimerOwnership;
  /**
   * Several hubs: how often to look in the store for pairs this hub owns whose message was committed
   * on another hub (conversations with a message since the last look). Unset: never (one hub sees
   * every message it owns). server/README.md "Timers across hubs".
   */
  rescanMs?: number;
}

/** The ownership key of (participant, conversation)'s timer (core/ports/ownership.ts). */
export const escalationKey = (participantId: string, conversationId: string): string => `esc:${conversationId}:${participantId}`;

const MAX_EVALUATING = 32;
/** Conversations a scan looks at between two turns of the event loop. */
const SCAN_YIELD_EVERY = 1000;
const key = (p: string, c: string) => `${p}\u0000${c}`;
const ALL: TimerOwnership = { owns: () => true, onChange: () => {} };

/**
 * Which escalation timers exist and when they fall due (DESIGN §5): one timer per (participant,
 * conversation) with email-eligible unseen messages, on a hashed timing wheel driven by the Clock,
 * due at the oldest such message's time + delay. Arms on MessageCommitted, cancels on Seen up to the
 * last message, rebuilds from the store on start(), and on firing hands the pair to `evaluate`, one
 * evaluation per pair at a time (a pair that fires while busy is evaluated "again" right after) and
 * at most MAX_EVALUATING at once. It re-arms what the outcome asks for: the next due time when the
 * oldest eligible message is not yet due, at once when the watermarks moved under the commit.
 *
 * Several hubs (DESIGN §8): only pairs this hub owns are armed, from a message or from the store;
 * when ownership moves it drops the pairs it lost and rebuilds the ones it gained (the start-up
 * scan), and with `rescanMs` it scans the conversations with new messages every so often for pairs
 * it owns whose message another hub committed. Two hubs owning one pair for a moment both fire;
 * the compare-and-set in `commitEscalation` lets one email through.
 */
export class EscalationScheduler {
  private readonly wheel: TimerWheel<string>;
  private readonly driver: WheelDriver<string>;
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();
  private ready: string[] = [];
  private readyHead = 0;
  private evaluating = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly ownership: TimerOwnership;
  private scanning: Promise<void> | null = null;
  /** A scan asked for while one runs: 'full' (ownership moved) wins over 'recent'. */
  private scanAgain: 'full' | 'recent' | null = null;
  /** When the last scan began: the next periodic one looks at conversations with messages since. */
  private scannedAt = -Infinity;
  private rescanTimer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly o: EscalationSchedulerOptions) {
    this.ownership = o.ownership ?? ALL;
    this.wheel = new TimerWheel<string>({ now: o.clock.now(), onFire: (k) => this.fire(k) });
    this.driver = new WheelDriver({ wheel: this.wheel, clock: o.clock });
    o.events.subscribe('MessageCommitted', (e) => this.onMessage(e.conversation, e.message, e.notified));
    o.events.subscribe('Seen', (e) => this.onSeen(e.participantId, e.conversation, e.upTo));
  }

  /**
   * Rebuilds timers from the store — every pair this hub owns with messages above both watermarks in
   * the recovery window — and starts the clock. Overdue pairs fire on the first tick; the evaluation
   * decides exactly, so arming generously is safe (and the compare-and-set keeps a rebuild from
   * emailing twice). From then on, every change of ownership runs the same scan.
   */
  async start(): Promise<void> {
    this.ownership.onChange(() => void this.rescan('full'));
    await this.rescan('full');
    this.driver.start();
    this.scheduleRescan();
  }

  /**
   * Drop the timers of pairs this hub no longer owns and arm, from the store, the pairs it owns:
   * every conversation with a message in the recovery window (`full`: at start and when ownership
   * moved), or only those with a message since the last scan (`recent`, the periodic look for
   * messages committed on other hubs). Pairs already armed are left as they are, so a change costs
   * store reads only for the pairs it brought. One scan at a time;
   * one asked for meanwhile runs after it. Resolves when the scan asked for (or a later one) is done.
   */
  rescan(kind: 'full' | 'recent'): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.scanning) {
      if (this.scanAgain !== 'full') this.scanAgain = kind;
      return this.scanning.then(() => this.scanning ?? undefined);
    }
    this.scanning = this.scan(kind)
      .catch((e: unknown) => this.o.logger.error('escalation scan failed', { error: e instanceof Error ? e.stack : String(e) }))
      .finally(() => {
        this.scanning = null;
        const again = this.scanAgain;
        this.scanAgain = null;
        if (again) void this.rescan(again);
      });
    return this.scanning;
  }

  private async scan(kind: 'full' | 'recent'): Promise<void> {
    const { directory, store, clock } = this.o;
    const now = clock.now();
    const since = now - this.o.recoveryMs;
    // A message stamped on another hub just before the last scan began may reach the directory after
    // it: look back one more period.
    const from = kind === 'full' ? since : Math.max(since, this.scannedAt - (this.o.rescanMs ?? 0));
    this.scannedAt = now;
    let dropped = 0;
    for (const k of this.wheel.keys()) {
      const [p, c] = k.split('\u0000') as [string, string];
      if (!this.ownership.owns(escalationKey(p, c)) && this.wheel.cancel(k)) dropped++;
    }
    let armed = 0;
    let looked = 0;
    for (const c of directory.conversations.values()) {
      if (c.lastMessageAt === null || c.lastMessageAt < from) continue;
      // A full scan of a large directory hashes every pair: let frames through now and then.
      if (++looked % SCAN_YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const p of directory.allViewers(c)) {
        if (!this.ownership.owns(escalationKey(p.id, c.id))) continue;
        // Armed already (kept through the change) or being evaluated: the store is read only for pairs gained.
        const k = key(p.id, c.id);
        if (this.wheel.has(k) || this.busy.has(k)) continue;
        const wm = (await store.getWatermarks(p.id, [c.id])).get(c.id);
        const after = Math.max(wm?.seenUpTo ?? 0, wm?.emailedUpTo ?? 0);
        if (after >= c.lastSeq) continue;
        const first = (await store.listMessages(c.id, { after, limit: 1 })).messages[0];
        if (!first) continue;
        this.arm(p.id, c.id, Math.max(first.createdAt, since) + this.o.delayMs);
        armed++;
      }
    }
    if (dropped) this.o.metrics.pendingTimers(this.wheel.size);
    if (kind === 'full') this.o.logger.info('escalation timers rebuilt', { armed, dropped });
  }

  private scheduleRescan(): void {
    const every = this.o.rescanMs;
    if (every === undefined || this.stopped) return;
    this.rescanTimer = this.o.clock.setTimer(every, () => {
      this.rescanTimer = null;
      void this.rescan('recent').finally(() => this.scheduleRescan());
    });
  }

  /** Stops the clock and the scans; pending timers stay armed, evaluations under way finish. */
  stop(): void {
    this.stopped = true;
    if (this.rescanTimer) this.o.clock.clearTimer(this.rescanTimer);
    this.rescanTimer = null;
    this.driver.stop();
  }

  /** Pending timers. */
  get pending(): number {
    return this.wheel.size;
  }

  /** The due time of (p, c)'s pending timer, or undefined. */
  dueAt(participantId: string, conversationId: string): number | undefined {
    return this.wheel.dueAt(key(participantId, conversationId));
  }

  /** Resolves once no evaluation is under way or waiting (timers still pending do not count). */
  idle(): Promise<void> {
    if (this.evaluating === 0 && this.readyHead >= this.ready.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Arms (p, c) for `dueAt` unless it is already due no later, or another hub owns the pair. */
  arm(p: string, c: string, dueAt: number): void {
    if (!this.ownership.owns(escalationKey(p, c))) return;
    const k = key(p, c);
    const current = this.wheel.dueAt(k);
    if (current !== undefined && current <= dueAt) return;
    this.wheel.arm(k, dueAt);
    this.driver.poke();
    this.o.metrics.timerArmed();
    this.o.metrics.pendingTimers(this.wheel.size);
  }

  /**
   * A message was committed: arm a timer for each participant it notifies (the hub's fan-out
   * applied notify(), the sender excluded) whose relation to c began before it.
   */
  private onMessage(c: ConversationRecord, m: Message, notified: readonly ParticipantRecord[]): void {
    const ctx = this.o.directory.context(c);
    for (const p of notified) {
      const since = relationSince(p, c, ctx);
      if (since === null || since >= m.createdAt) continue;
      this.arm(p.id, c.id, m.createdAt + this.o.delayMs);
    }
  }

  /** p saw c up to `upTo`: nothing left to email once that is the last message. */
  private onSeen(participantId: string, c: ConversationRecord, upTo: number): void {
    if (upTo >= c.lastSeq && this.wheel.cancel(key(participantId, c.id))) this.o.metrics.pendingTimers(this.wheel.size);
  }

  private fire(k: string): void {
    this.o.metrics.timerFired();
    this.o.metrics.pendingTimers(this.wheel.size);
    if (this.busy.has(k)) {
      this.again.add(k);
      return;
    }
    this.busy.add(k);
    this.ready.push(k);
    this.pump();
  }

  /**
   * Evaluate fired pairs, at most MAX_EVALUATING at a time: a restart after an outage may fire tens
   * of thousands at once, and composing them all together would only buy memory.
   */
  private pump(): void {
    while (this.evaluating < MAX_EVALUATING && this.readyHead < this.ready.length) {
      const k = this.ready[this.readyHead++]!;
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.readyHead);
        this.readyHead = 0;
      }
      this.evaluating++;
      const [p, c] = k.split('\u0000') as [string, string];
      this.o
        .evaluate(p, c)
        .then((outcome) => {
          if (outcome.kind === 'not_due') this.arm(p, c, outcome.dueAt);
          // The watermarks moved while the email was composed (a seen, most likely): decide again at once.
          else if (outcome.kind === 'moved') this.arm(p, c, this.o.clock.now());
        })
        .catch((e: unknown) => this.o.logger.error('escalation failed', { participantId: p, conversationId: c, error: e instanceof Error ? e.stack : String(e) }))
        .finally(() => {
          this.evaluating--;
          this.busy.delete(k);
          if (this.again.delete(k)) this.fire(k);
          this.pump();
          if (this.evaluating === 0 && this.readyHead >= this.ready.length && this.idleWaiters.length > 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }
}
