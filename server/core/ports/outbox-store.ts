import type { EmailTemplateId, EmailTemplates } from './email.js';

/** How an outbox row reaches its recipient. */
export type OutboxChannel = 'email' | 'sms' | 'web';
/** Why the row exists: escalation emails now; notifications, broadcasts and system mail later. */
export type OutboxKind = 'escalation' | 'notification' | 'broadcast' | 'system' | 'sms';
export type OutboxStatus = 'queued' | 'sent' | 'failed';

/**
 * An email whose MIME is built when it is sent or shown, from the composer's template id and data:
 * the row's `raw` is empty. Its Message-ID header is fixed with the row all the same.
 */
export type DeferredEmail = { [K in EmailTemplateId]: { template: K; data: EmailTemplates[K] } }[EmailTemplateId];

export interface NewEmailRow {
  id: string;
  kind: OutboxKind;
  /** Default 'email'. */
  channel?: OutboxChannel | undefined;
  participantId: string;
  conversationId: string;
  toAddress: string;
  subject: string;
  /** The Message-ID header, fixed when the row is written (a resend reuses it). */
  messageIdHeader: string;
  /** Ids of the messages the email holds, ascending seq. */
  messageIds: string[];
  /** The highest seq in the email: the new emailed watermark. */
  upTo: number;
  /** Seqs of the messages the email holds (those of `messageIds`), ascending. */
  heldSeqs: number[];
  /**
   * Seqs of the earlier due messages the email left out over its caps and only counted ("12 earlier
   * messages are not shown"), ascending; empty when it holds every due message.
   */
  summarizedSeqs: number[];
  raw: string;
  /** Set instead of `raw` (which is then empty): composed at send time. */
  deferred?: DeferredEmail | undefined;
  createdAt: number;
}

/** A row as GET /v1/emails shows it (that shape is public: add nothing here lightly). */
export interface EmailSummary {
  id: string;
  to: string;
  subject: string;
  kind: OutboxKind;
  status: OutboxStatus;
  attempts: number;
  createdAt: number;
  sentAt: number | null;
  error: string | null;
  participantId: string;
  conversationId: string;
  messageIds: string[];
}

/** What the outbox log (GET /v1/emails) narrows to: each absent key keeps every row; ties in time go by id. */
export interface EmailListFilter {
  status?: OutboxStatus;
  kind?: OutboxKind;
  newestFirst?: boolean;
}

/** A claimed row, with what sending it needs. */
export interface EmailRow extends EmailSummary {
  channel: OutboxChannel;
  raw: string;
  deferred: DeferredEmail | null;
  messageIdHeader: string;
  nextAttemptAt: number;
  /** Until when this claim holds the row (see OutboxStore.claimDue). */
  leaseUntil: number;
}

export type MarkOutcome =
  | { status: 'sent'; at: number }
  | { status: 'queued'; nextAttemptAt: number; error: string }
  | { status: 'failed'; error: string };

/**
 * The transactional outbox (DESIGN §6): rows are written by `WatermarkStore.commitEscalation` in the
 * same transaction as the watermark rise they stand for; workers claim due rows, send them and mark
 * the outcome.
 *
 * Contract (every adapter, any number of workers — hubs — sharing the storage):
 * - **Claim with a lease**: `claimDue` atomically selects due queued rows and leases them; a row is
 *   returned by no other claim (from any worker) until its lease expires or it is marked. So racing
 *   workers never send one row twice while leases hold; a worker that dies leaves its rows to come
 *   back when their lease expires. A send that outlives its lease may be sent again (at least once;
 *   the Message-ID is fixed with the row, so receivers can tell).
 * - **Mark** records an attempt's outcome and ends the lease: `sent` and `failed` rows are never
 *   claimed again; `queued` (a retry) comes back at its `nextAttemptAt`.
 * - Every write is **durable on resolve** (committed; survives a crash of the writer) — a claim too,
 *   so a restarted worker does not reclaim rows still leased to a send that may have gone out.
 * - `pruneEmails` never deletes a queued row, whatever its age.
 */
export interface OutboxStore {
  /**
   * Queued rows whose next attempt is due at `now` and that no live lease holds, by priority of their kind (system, escalation, notifications and SMS, broadcasts) then oldest due first, at
   * most `limit`; each is leased until `now + leaseMs` in the same atomic step.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<EmailRow[]>;
  /** When the next queued row becomes claimable (its next attempt, or its lease's end), or null when none is queued. */
  nextEmailAttemptAt(): Promise<number | null>;
  /** Record a send attempt's outcome; ends the row's lease. */
  markEmail(id: string, outcome: MarkOutcome): Promise<void>;
  /** Message-ID headers of earlier emails to this participant about this conversation, oldest first. */
  threadMessageIds(conversationId: string, participantId: string, limit: number): Promise<string[]>;
  /** Rows created at or after `since`, oldest first (without the raw MIME); `filter` keeps one status or kind, or orders newest first. */
  listEmails(since: number, limit: number, filter?: EmailListFilter): Promise<EmailSummary[]>;
  /** The row's MIME, or (a deferred row) what composes it; null when there is no such row. */
  getEmailSource(id: string): Promise<{ raw: string; deferred: DeferredEmail | null } | null>;
  /** Delete sent and failed rows created before `before` (never a queued one); resolves the number deleted. */
  pruneEmails(before: number): Promise<number>;
}
