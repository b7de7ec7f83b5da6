import { DueLoop } from '../scheduler/due-loop.js';
import { MailerError, SmsError, type Clock, type DeferredEmail, type EmailComposer, type EmailRow, type EmailSecurity, type Logger, type Mailer, type OutboxStore, type SmsSender } from '../ports/index.js';

/** The error of a row whose signing or encryption key is missing at send time (the audit says `missing_key`). */
export const MISSING_KEY = 'missing_key';

export interface OutboxMetrics {
  emailSent(seconds: number): void;
  emailFailed(permanent: boolean): void;
  emailRetried(): void;
}

export interface RetryPolicy {
  /** Attempts in all, the first included; after the last the row is `failed`. */
  maxAttempts: number;
  /** Delay before the 2nd attempt; it doubles each time up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * 12 attempts: 10 s, 20 s, 40 s, … doubling to a 1 h cap — about 3½ hours of retries in all before an
 * email is marked failed. Each delay is jittered to 50–150 % so that a recovering SMTP server is not
 * hit by every queued email at once.
 */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 12, baseDelayMs: 10_000, maxDelayMs: 3_600_000 };

/**
 * How long a claim holds a row (OutboxStore.claimDue): longer than any send takes (the SMTP pool's
 * timeouts are far shorter), so that no other worker sends it meanwhile; a worker that dies (kill -9)
 * between claiming and marking leaves its rows to be sent again once this much time has passed.
 */
export const DEFAULT_LEASE_MS = 120_000;

/** Delay before attempt `attempt + 1` after `attempt` failed ones (attempt ≥ 1). */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const plain = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(plain * (0.5 + random()));
}

/**
 * Sends queued outbox rows (DESIGN §6). The outbox, not memory, is the truth: rows are claimed with a
 * lease (`claimDue`), so several workers (several hubs) never send one row twice; on start it resumes
 * every queued row that no lease holds (same Message-ID), a crash between sending and marking resends
 * the same row once its lease expires, and a failed attempt is retried with backoff. One slow or rejected email never blocks the others:
 * sends run concurrently, each marked on its own.
 */
export class OutboxWorker {
  private readonly loop: DueLoop;
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly opts: {
      store: OutboxStore;
      mailer: Mailer;
      /** Builds the MIME of deferred rows (notifications) right before they are sent. */
      composer?: EmailComposer;
      /** Signs and encrypts deferred emails that ask for it (NOTIFICATIONS §3). */
      security?: EmailSecurity;
      /** Where rows of channel `sms` go (NOTIFICATIONS §3); without one they fail permanently. */
      sms?: SmsSender;
      clock: Clock;
      logger: Logger;
      metrics: OutboxMetrics;
      /** Envelope sender (the address of PARLEY_MAIL_FROM). */
      envelopeFrom: string;
      /** With PARLEY_INBOUND_DOMAIN: a per-email bounce address (VERP) as the envelope sender, so bounces name their email. */
      bounceAddress?: ((emailId: string) => string) | undefined;
      retry?: RetryPolicy;
      concurrency?: number;
      /** How long a claim holds its rows; default DEFAULT_LEASE_MS. */
      leaseMs?: number;
      random?: () => number;
    },
  ) {
    this.loop = new DueLoop({ clock: opts.clock, logger: opts.logger, name: 'outbox worker', drain: () => this.drain(), nextAt: () => opts.store.nextEmailAttemptAt() });
  }

  start(): void {
    this.loop.kick();
  }

  /** Look for due emails now (after a new row was committed, or at start). */
  kick(): void {
    this.loop.kick();
  }

  private async drain(): Promise<void> {
    const { store, clock } = this.opts;
    const concurrency = this.opts.concurrency ?? 16;
    for (;;) {
      if (this.loop.isStopped) return;
      const leaseMs = this.opts.leaseMs ?? DEFAULT_LEASE_MS;
      const due = (await store.claimDue(clock.now(), concurrency * 4, leaseMs)).filter((r) => !this.inFlight.has(r.id));
      if (due.length === 0) return;
      // A bounded pool: `concurrency` sends at a time, each settled and marked on its own.
      let next = 0;
      const lane = async () => {
        while (next < due.length && !this.loop.isStopped) {
          const row = due[next++]!;
          this.inFlight.add(row.id);
          try {
            await this.sendOne(row);
          } finally {
            this.inFlight.delete(row.id);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, lane));
    }
  }

  private async sendOne(row: EmailRow): Promise<void> {
    const { store, mailer, clock, logger, metrics } = this.opts;
    const { id, to, raw, attempts: attemptsBefore } = row;
    const policy = this.opts.retry ?? DEFAULT_RETRY;
    const started = clock.now();
    try {
      if (row.channel === 'sms') {
        if (!this.opts.sms) throw new SmsError('no SMS sender is configured', true);
        await this.opts.sms.send({ id, to, text: raw });
      } else {
        const mime = row.deferred ? await this.compose(row.deferred) : raw;
        await mailer.send({ id, from: this.opts.bounceAddress?.(id) ?? this.opts.envelopeFrom, to, raw: mime });
      }
      await store.markEmail(id, { status: 'sent', at: clock.now() });
      metrics.emailSent((clock.now() - started) / 1000);
    } catch (e) {
      const attempt = attemptsBefore + 1;
      const permanent = (e instanceof MailerError || e instanceof SmsError) && e.permanent;
      const error = (e instanceof Error ? e.message : String(e)).slice(0, 1000);
      if (permanent || attempt >= policy.maxAttempts) {
        logger.warn('email failed', { emailId: id, attempt, permanent, error });
        metrics.emailFailed(permanent);
        await store.markEmail(id, { status: 'failed', error });
      } else {
        const delay = retryDelayMs(policy, attempt, this.opts.random ?? Math.random);
        logger.warn('email send will be retried', { emailId: id, attempt, inMs: delay, error });
        metrics.emailRetried();
        await store.markEmail(id, { status: 'queued', nextAttemptAt: clock.now() + delay, error });
      }
    }
  }

  private async compose(d: DeferredEmail): Promise<string> {
    if (!this.opts.composer) throw new MailerError('no composer for a deferred email', true);
    const raw = (await this.opts.composer.compose(d.template, d.data as never)).raw;
    const security = d.template === 'notification' ? d.data.security : null;
    if (!security) return raw;
    if (!this.opts.security) throw new MailerError(MISSING_KEY, true);
    const secured = await this.opts.security.secure(raw, security.mode, security.recipient, security);
    // A key that is missing now (the hub's, or a recipient's that expired) fails the row for good.
    if ('skipped' in secured) throw new MailerError(MISSING_KEY, true);
    return secured.raw;
  }

  /** Stop taking new rows; sends under way finish (or are resent after a restart). */
  stop(): void {
    this.loop.stop();
  }
}
