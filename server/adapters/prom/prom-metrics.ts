import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EscalationMetrics } from '../../core/escalation/escalation.js';
import type { InboundMetrics } from '../../core/inbound/inbound-mail.js';
import type { NotificationMetrics } from '../../core/notifications/deliverer.js';
import type { OutboxMetrics } from '../../core/outbox/outbox-worker.js';
import type { Metrics } from '../../core/ports/index.js';

/** Metrics on prom-client, in a registry of our own (no global state), served at /metrics. */
export class PromMetrics implements Metrics, EscalationMetrics, OutboxMetrics, NotificationMetrics, InboundMetrics {
  readonly registry = new Registry();
  private readonly connections = new Gauge({ name: 'parley_connections', help: 'Open WebSocket connections', registers: [this.registry] });
  private readonly connectionsTotal = new Counter({ name: 'parley_connections_total', help: 'WebSocket connections accepted', registers: [this.registry] });
  // The counters bumped per frame and per message are plain numbers, handed to prom-client when the
  // registry is read (see tally()): its inc() validates and hashes labels and allocates on every call.
  private readonly inByType = new Map<string, number>();
  private readonly outByType = new Map<string, number>();
  private readonly bySource = new Map<string, number>();
  /** Notification deliveries by `transport|outcome`. */
  private readonly byTransportOutcome = new Map<string, number>();
  private deliveryCount = 0;
  private armedCount = 0;
  private pendingCount = 0;
  private readonly errors = new Counter({ name: 'parley_errors_total', help: 'Error frames sent, by code', labelNames: ['code'], registers: [this.registry] });
  private readonly limited = new Counter({
    name: 'parley_rate_limited_total',
    help: 'Requests refused by a per-participant limit, by limit',
    labelNames: ['limit'],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'parley_commit_batch_size',
    help: 'Writes per group commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers: [this.registry],
  });
  private readonly commitSeconds = new Histogram({
    name: 'parley_commit_seconds',
    help: 'Group commit latency',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  private readonly timersFired = new Counter({ name: 'parley_escalation_timers_fired_total', help: 'Escalation timers fired', registers: [this.registry] });
  private readonly timersPending = new Gauge({
    name: 'parley_escalation_timers_pending',
    help: 'Escalation timers pending',
    registers: [this.registry],
    collect: (): void => this.timersPending.set(this.pendingCount),
  });
  private readonly emails = new Counter({ name: 'parley_emails_total', help: 'Emails by outcome: queued, sent, failed, retried', labelNames: ['status'], registers: [this.registry] });
  private readonly sendSeconds = new Histogram({
    name: 'parley_email_send_seconds',
    help: 'Time to hand one email to SMTP (or write it to a file)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly inbound = new Counter({
    name: 'parley_inbound_emails_total',
    help: 'Inbound emails by outcome (posted, ignored, rejected) and reason',
    labelNames: ['status', 'reason'],
    registers: [this.registry],
  });
  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_process_' });
    tally(this.registry, 'parley_frames_in_total', 'Client frames received, by type', ['type'], () => this.inByType);
    tally(this.registry, 'parley_frames_out_total', 'Frames sent or published, by type', ['type'], () => this.outByType);
    tally(this.registry, 'parley_messages_total', 'Messages stored, by source', ['source'], () => this.bySource);
    tally(this.registry, 'parley_deliveries_total', 'Messages pushed to participants with an open session', [], () => this.deliveryCount);
    tally(
      this.registry,
      'parley_notification_deliveries_total',
      'Notification deliveries by transport (email, web, sms) and outcome (sent, queued, skipped)',
      ['transport', 'outcome'],
      () => this.byTransportOutcome,
    );
    tally(this.registry, 'parley_escalation_timers_armed_total', 'Escalation timers armed or moved earlier', [], () => this.armedCount);
  }

  connectionOpened(): void {
    this.connections.inc();
    this.connectionsTotal.inc();
  }
  connectionClosed(): void {
    this.connections.dec();
  }
  frameIn(type: string): void {
    this.inByType.set(type, (this.inByType.get(type) ?? 0) + 1);
  }
  frameOut(type: string, count = 1): void {
    this.outByType.set(type, (this.outByType.get(type) ?? 0) + count);
  }
  messageStored(source: string): void {
    this.bySource.set(source, (this.bySource.get(source) ?? 0) + 1);
  }
  deliveries(count: number): void {
    this.deliveryCount += count;
  }
  commitBatch(size: number, seconds: number): void {
    this.batchSize.observe(size);
    this.commitSeconds.observe(seconds);
  }
  timerArmed(): void {
    this.armedCount++;
  }
  timerFired(): void {
    this.timersFired.inc();
  }
  pendingTimers(n: number): void {
    this.pendingCount = n;
  }
  emailQueued(): void {
    this.emails.inc({ status: 'queued' });
  }
  emailSent(seconds: number): void {
    this.emails.inc({ status: 'sent' });
    this.sendSeconds.observe(seconds);
  }
  emailFailed(_permanent: boolean): void {
    this.emails.inc({ status: 'failed' });
  }
  inboundEmail(status: string, reason: string | null): void {
    this.inbound.inc({ status, reason: reason ?? '' });
  }

  notificationDelivery(transport: string, outcome: 'sent' | 'queued' | 'skipped'): void {
    const key = `${transport}|${outcome}`;
    this.byTransportOutcome.set(key, (this.byTransportOutcome.get(key) ?? 0) + 1);
  }

  emailRetried(): void {
    this.emails.inc({ status: 'retried' });
  }
  error(code: string): void {
    this.errors.inc({ code });
  }
  rateLimited(limit: string): void {
    this.limited.inc({ limit });
  }
}

/**
 * A counter whose running totals are kept by the caller and set at each scrape: a single total, or by
 * label values (a map keyed by the values joined with `|`, in the order of `labels`; our values never
 * hold one).
 */
function tally(registry: Registry, name: string, help: string, labels: readonly string[], totals: () => Map<string, number> | number): void {
  const counter: Counter<string> = new Counter({
    name,
    help,
    labelNames: labels,
    registers: [registry],
    collect(): void {
      counter.reset();
      const t = totals();
      if (typeof t === 'number') counter.inc(t);
      else for (const [key, n] of t) counter.inc(Object.fromEntries(key.split('|').map((v, i) => [labels[i]!, v])), n);
    },
  });
}
