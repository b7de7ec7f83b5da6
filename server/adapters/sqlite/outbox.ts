import { and, asc, desc, eq, gte } from 'drizzle-orm';
import type { DeferredEmail, EmailListFilter, MarkOutcome, EmailRow, EmailSummary, NewEmailRow, OutboxStore } from '../../core/ports/index.js';
import { type ClaimedRowDb, claimedEmails, emailSummaryColumns, toEmailSummary } from '../sql/rows.js';
import type { SqliteEngine } from './engine.js';
import * as schema from './schema.js';

/**
 * Claim order by kind (lower first): system emails (a password reset) ahead of everything, chat
 * escalation ahead of notifications, broadcasts last — so a broadcast to 10,000 people drains at the
 * mail server's pace without holding up anyone's chat email.
 */
const PRIORITY: Record<EmailRow['kind'], number> = { system: 0, escalation: 1, notification: 2, sms: 2, broadcast: 3 };

type ClaimedRow = ClaimedRowDb<string, string>;

/**
 * The outbox (`emails`) on SQLite. A claim is one UPDATE … RETURNING in the group commit: this
 * process is the database's one writer, so it is atomic and no two claims overlap; the lease is
 * committed before the claim resolves. Rows are inserted by SqliteWatermarks.commitEscalation,
 * inside its compare-and-set.
 */
export class SqliteOutbox implements OutboxStore {
  private readonly stmt;

  constructor(private readonly engine: SqliteEngine) {
    const s = engine.sqlite;
    this.stmt = {
      claim: s.prepare(
        `UPDATE emails SET lease_until = @until
         WHERE id IN (SELECT id FROM emails
                      WHERE status = 'queued' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
                      ORDER BY priority, next_attempt_at, created_at LIMIT @limit)
         RETURNING priority, id, kind, channel, participant_id, conversation_id, to_address, subject, message_id_header, message_ids, raw,
                   status, attempts, next_attempt_at, created_at, sent_at, error, lease_until, deferred`,
      ),
      threadIds: s.prepare("SELECT message_id_header FROM emails WHERE conversation_id = ? AND participant_id = ? AND kind = 'escalation' ORDER BY created_at DESC LIMIT ?").pluck(),
      nextAttempt: s.prepare("SELECT min(max(next_attempt_at, coalesce(lease_until, 0))) FROM emails WHERE status = 'queued'").pluck(),
      emailSource: s.prepare('SELECT raw, deferred FROM emails WHERE id = ?'),
      markSent: s.prepare("UPDATE emails SET status = 'sent', sent_at = ?, error = NULL, attempts = attempts + 1, lease_until = NULL WHERE id = ?"),
      markRetry: s.prepare("UPDATE emails SET status = 'queued', next_attempt_at = ?, error = ?, attempts = attempts + 1, lease_until = NULL WHERE id = ?"),
      markFailed: s.prepare("UPDATE emails SET status = 'failed', error = ?, attempts = attempts + 1, lease_until = NULL WHERE id = ?"),
      insert: s.prepare(
        `INSERT INTO emails (id, kind, channel, participant_id, conversation_id, to_address, subject, message_id_header, message_ids, up_to, raw, deferred,
                             priority, status, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)`,
      ),
      pruneEmails: s.prepare("DELETE FROM emails WHERE created_at < ? AND status <> 'queued'"),
    };
  }

  /** Insert a queued row; runs inside a queued operation (the escalation's compare-and-set, an event's commit). */
  insert(row: NewEmailRow): void {
    // Positional parameters: binding 14 named ones costs about a sixth of the insert (an event's commit
    // writes one row per email).
    this.stmt.insert.run(
      row.id,
      row.kind,
      row.channel ?? 'email',
      row.participantId,
      row.conversationId,
      row.toAddress,
      row.subject,
      row.messageIdHeader,
      JSON.stringify(row.messageIds),
      row.upTo,
      row.raw,
      row.deferred ? JSON.stringify(row.deferred) : null,
      PRIORITY[row.kind],
      row.createdAt,
      row.createdAt,
    );
  }

  claimDue(now: number, limit: number, leaseMs: number): Promise<EmailRow[]> {
    return this.engine.enqueue(() => {
      const rows = this.stmt.claim.all({ now, limit, until: now + leaseMs }) as ClaimedRow[];
      return claimedEmails(
        rows,
        (l) => JSON.parse(l) as string[],
        (d) => (d ? (JSON.parse(d) as DeferredEmail) : null),
      );
    });
  }

  async nextEmailAttemptAt(): Promise<number | null> {
    return (this.stmt.nextAttempt.get() as number | null) ?? null;
  }

  markEmail(id: string, outcome: MarkOutcome): Promise<void> {
    return this.engine.enqueue(() => {
      const m = this.stmt;
      if (outcome.status === 'sent') m.markSent.run(outcome.at, id);
      else if (outcome.status === 'queued') m.markRetry.run(outcome.nextAttemptAt, outcome.error, id);
      else m.markFailed.run(outcome.error, id);
    });
  }

  async threadMessageIds(conversationId: string, participantId: string, limit: number): Promise<string[]> {
    const rows = this.stmt.threadIds.all(conversationId, participantId, limit) as string[];
    return rows.reverse();
  }

  async listEmails(since: number, limit: number, filter: EmailListFilter = {}): Promise<EmailSummary[]> {
    const e = schema.emails;
    const rows = this.engine.db
      .select(emailSummaryColumns(e))
      .from(e)
      .where(and(gte(e.createdAt, since), filter.status ? eq(e.status, filter.status) : undefined, filter.kind ? eq(e.kind, filter.kind) : undefined))
      .orderBy(...(filter.newestFirst ? [desc(e.createdAt), desc(e.id)] : [asc(e.createdAt), asc(e.id)]))
      .limit(limit)
      .all();
    return rows.map(toEmailSummary);
  }

  async getEmailSource(id: string): Promise<{ raw: string; deferred: DeferredEmail | null } | null> {
    const r = this.stmt.emailSource.get(id) as { raw: string; deferred: string | null } | undefined;
    return r ? { raw: r.raw, deferred: r.deferred ? (JSON.parse(r.deferred) as DeferredEmail) : null } : null;
  }

  pruneEmails(before: number): Promise<number> {
    return this.engine.enqueue(() => this.stmt.pruneEmails.run(before).changes);
  }
}
