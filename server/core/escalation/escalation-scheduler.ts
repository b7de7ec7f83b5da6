import type { Message } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import type { Clock, EventBus, Logger, Store } from '../ports/index.js';
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
}

const MAX_EVALUATING = 32;
const key = (p: string, c: string) => `${p}\u0000${c}`;

/**
 * Which escalation timers exist and when they fall due (DESIGN §5): one timer per (participant,
 * conversation) with email-eligible unseen messages, on a hashed timing wheel driven by the Clock,
 * due at the oldest such message's time + delay. Arms on MessageCommitted, cancels on Seen up to the
 * last message, rebuilds from the store on start(), and on firing hands the pair to `evaluate`, one
 * evaluation per pair at a time (a pair that fires while busy is evaluated "again" right after) and
 * at most MAX_EVALUATING at once. It re-arms what the outcome asks for: the next due time when the
 * oldest eligible message is not yet due, at once when the watermarks moved under the commit.
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

  constructor(private readonly o: EscalationSchedulerOptions) {
    this.wheel = new TimerWheel<string>({ now: o.clock.now(), onFire: (k) => this.fire(k) });
    this.driver = new WheelDriver({ wheel: this.wheel, clock: o.clock });
    o.events.subscribe('MessageCommitted', (e) => this.onMessage(e.conversation, e.message, e.notified));
    o.events.subscribe('Seen', (e) => this.onSeen(e.participantId, e.conversation, e.upTo));
  }

  /**
   * Rebuilds timers from the store — every pair with messages above both watermarks in the recovery
   * window — and starts the clock. Overdue pairs fire on the first tick; the evaluation decides
   * exactly, so arming generously is safe (and the compare-and-set keeps a rebuild from emailing twice).
   */
  async start(): Promise<void> {
    const { directory, store, clock } = this.o;
    const since = clock.now() - this.o.recoveryMs;
    let armed = 0;
    for (const c of directory.conversations.values()) {
      if (c.lastMessageAt === null || c.lastMessageAt < since) continue;
      for (const p of directory.allViewers(c)) {
        const wm = (await store.getWatermarks(p.id, [c.id])).get(c.id);
        const from = Math.max(wm?.seenUpTo ?? 0, wm?.emailedUpTo ?? 0);
        if (from >= c.lastSeq) continue;
        const first = (await store.listMessages(c.id, { after: from, limit: 1 })).messages[0];
        if (!first) continue;
        this.arm(p.id, c.id, Math.max(first.createdAt, since) + this.o.delayMs);
        armed++;
      }
    }
    this.driver.start();
    this.o.logger.info('escalation timers rebuilt', { armed });
  }

  /** Stops the clock; pending timers stay armed, evaluations under way finish. */
  stop(): void {
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

  /** Arms (p, c) for `dueAt` unless it is already due no later. */
  arm(p: string, c: string, dueAt: number): void {
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
