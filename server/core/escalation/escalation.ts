import type { EmailStatus, Message, Receipt } from '../../../protocol/index.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import type { Clock, EventBus, Logger, TimerOwnership } from '../ports/index.js';
import { EscalationEmailBuilder, type EscalationEmailOptions } from './escalation-email.js';
import { EscalationScheduler, type EscalationMetrics } from './escalation-scheduler.js';

export { EMAIL_MAX_MESSAGES, EMAIL_MAX_TEXT_BYTES, heldCount, utf8Bytes } from './caps.js';
export { DEFAULT_CUSTOMER_LINK_TTL_MS, EscalationEmailBuilder, type EmailOutcome, type EscalationEmailOptions } from './escalation-email.js';
export { EscalationScheduler, escalationKey, type EscalationMetrics, type EscalationSchedulerOptions } from './escalation-scheduler.js';

export interface EscalationOptions extends Omit<EscalationEmailOptions, 'events' | 'metrics' | 'clock'> {
  /** Escalation listens for MessageCommitted and Seen, and publishes EmailCommitted. */
  events: EventBus;
  clock: Clock;
  logger: Logger;
  metrics: EscalationMetrics;
  /** Which (participant, conversation) timers this hub keeps (several hubs). Default: all. */
  ownership?: TimerOwnership;
  /** Several hubs: how often to look for messages committed on other hubs (EscalationSchedulerOptions). */
  rescanMs?: number;
}

/**
 * Escalation to email (SPEC §2, DESIGN §5), the two halves composed: the scheduler decides which
 * (participant, conversation) timers exist and when they fire; the email builder decides, when one
 * fires, what (if anything) goes out, and commits it with the emailed watermark by compare-and-set,
 * so no message is emailed twice, across restarts included. Notification rules and reminders reuse
 * the two halves apart.
 */
export class Escalation {
  readonly scheduler: EscalationScheduler;
  readonly emails: EscalationEmailBuilder;

  constructor(o: EscalationOptions) {
    this.emails = new EscalationEmailBuilder(o);
    this.scheduler = new EscalationScheduler({ ...o, evaluate: (p, c) => this.emails.emailFor(p, c) });
  }

  /** Rebuild timers from the store and start the clock. */
  start(): Promise<void> {
    return this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
  }

  get pending(): number {
    return this.scheduler.pending;
  }

  /** What escalation did or will do about m for p (receipts): see EscalationEmailBuilder.emailStatus. */
  emailStatus(p: ParticipantRecord, c: ConversationRecord, m: Message, r: Pick<Receipt, 'seenAt' | 'emailedAt'>): EmailStatus {
    return this.emails.emailStatus(p, c, m, r);
  }
}
