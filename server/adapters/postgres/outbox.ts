import { and, asc, desc, eq, gte } from 'drizzle-orm';
import type { DeferredEmail, EmailListFilter, EmailRow, EmailSummary, MarkOutcome, NewEmailRow, OutboxStore } from '../../core/ports/index.js';
import { type ClaimedRowDb, claimedEmails, emailSummaryColumns, toEmailSummary } from '../sql/rows.js';
import type { PgEngine, Tx } from './engine.js';
import * as schema from './schema.js';

/** Claim order by kind (lower first), as on SQLite: system, escalation, notifications and SMS, broadcasts. */
const PRIORITY: Record<EmailRow['kind'], number> = { system: 0, escalation: 1, notification: 2, sms: 2, broadcast: 3 };

type ClaimedRow = ClaimedRowDb<string[], DeferredEmail>;

/**
 * Lease due queued rows. `FOR UPDATE SKIP LOCKED`: a row another hub's claim holds (its commit not
 * yet done) is passed over rather than waited for; once that commit is done its lease excludes the
 * row. A row whose lease ended is claimable again.
 */
const CLAIM = `
  UPDATE emails SET lease_until = $3
  WHERE id IN (SELECT id FROM emails
               WHERE status = 'queued' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
               ORDER BY priority, next_attempt_at, created_at LIMIT $2
               FOR UPDATE SKIP LOCKED)
  RETURNING priority, id, kind, channel, participant_id, conversation_id, to_address, subject, message_id_header, message_ids, raw,
            status, attempts, next_attempt_at, created_at, sent_at, error, lease_until, deferred`;

const INSERT = `
  INSERT INTO emails (id, kind, channel, participant_id, conversation_id, to_address, subject, message_id_header, message_ids, up_to, raw, deferred,
                      priority, status, attempts, next_attempt_at, created_at)
  SELECT id, kind, channel, participant_id, conversation_id, to_address, subject, message_id_header, message_ids, up_to, raw, deferred,
         priority, 'queued', 0, created_at, created_at
  FROM jsonb_to_recordset($1::jsonb) AS r(id text, kind text, channel text, participant_id text, conversation_id text, to_address text, subject text,
       message_id_header text, message_ids jsonb, up_to int, raw text, deferred jsonb, priority int, created_at bigint)`;

/**
 * The outbox (`emails`) on PostgreSQL, shared by every hub's worker. Rows are inserted by
 * commitEscalation (watermarks.ts), events, broadcasts and system emails, inside their commits.
 */
export class PgOutbox implements OutboxStore {
  constructor(private readonly engine: PgEngine) {}

  /** Insert queued rows inside a commit (one statement for any number of rows). */
  async insert(tx: Tx, rows: readonly NewEmailRow[]): Promise<void> {
    if (!rows.length) return;
    const docs = rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      channel: row.channel ?? 'email',
      participant_id: row.participantId,
      conversation_id: row.conversationId,
      to_address: row.toAddress,
      subject: row.subject,
      message_id_header: row.messageIdHeader,
      message_ids: row.messageIds,
      up_to: row.upTo,
      raw: row.raw,
      deferred: row.deferred ?? null,
      priority: PRIORITY[row.kind],
      created_at: row.createdAt,
    }));
    await tx.run(INSERT, [JSON.stringify(docs)], 'pg_outbox_insert');
  }

  claimDue(now: number, limit: number, leaseMs: number): Promise<EmailRow[]> {
    return this.engine.enqueue(async (tx) => {
      const rows = await tx.query<ClaimedRow>(CLAIM, [now, limit, now + leaseMs], 'pg_outbox_claim');
      return claimedEmails(rows, (l) => l, (d) => d);
    });
  }

  async nextEmailAttemptAt(): Promise<number | null> {
    const rows = await this.engine.read<{ at: number | null }>(
      "SELECT min(greatest(next_attempt_at, coalesce(lease_until, 0))) AS at FROM emails WHERE status = 'queued'",
      [],
      'pg_outbox_next',
    );
    return rows[0]?.at ?? null;
  }

  markEmail(id: string, outcome: MarkOutcome): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      if (outcome.status === 'sent') {
        await tx.run("UPDATE emails SET status = 'sent', sent_at = $1, error = NULL, attempts = attempts + 1, lease_until = NULL WHERE id = $2", [outcome.at, id], 'pg_outbox_sent');
      } else if (outcome.status === 'queued') {
        await tx.run(
          "UPDATE emails SET status = 'queued', next_attempt_at = $1, error = $2, attempts = attempts + 1, lease_until = NULL WHERE id = $3",
          [outcome.nextAttemptAt, outcome.error, id],
          'pg_outbox_retry',
        );
      } else {
        await tx.run("UPDATE emails SET status = 'failed', error = $1, attempts = attempts + 1, lease_until = NULL WHERE id = $2", [outcome.error, id], 'pg_outbox_failed');
      }
    });
  }

  async threadMessageIds(conversationId: string, participantId: string, limit: number): Promise<string[]> {
    const rows = await this.engine.read<{ h: string }>(
      "SELECT message_id_header AS h FROM emails WHERE conversation_id = $1 AND participant_id = $2 AND kind = 'escalation' ORDER BY created_at DESC LIMIT $3",
      [conversationId, participantId, limit],
      'pg_outbox_thread',
    );
    return rows.map((r) => r.h).reverse();
  }

  listEmails(since: number, limit: number, filter: EmailListFilter = {}): Promise<EmailSummary[]> {
    const e = schema.emails;
    return this.engine.readDb(async (db) => {
      const rows = await db
        .select(emailSummaryColumns(e))
        .from(e)
        .where(and(gte(e.createdAt, since), filter.status ? eq(e.status, filter.status) : undefined, filter.kind ? eq(e.kind, filter.kind) : undefined))
        .orderBy(...(filter.newestFirst ? [desc(e.createdAt), desc(e.id)] : [asc(e.createdAt), asc(e.id)]))
        .limit(limit);
      return rows.map(toEmailSummary);
    });
  }

  async getEmailSource(id: string): Promise<{ raw: string; deferred: DeferredEmail | null } | null> {
    const rows = await this.engine.read<{ raw: string; deferred: DeferredEmail | null }>('SELECT raw, deferred FROM emails WHERE id = $1', [id], 'pg_outbox_source');
    return rows[0] ? { raw: rows[0].raw, deferred: rows[0].deferred } : null;
  }

  pruneEmails(before: number): Promise<number> {
    return this.engine.enqueue((tx) => tx.run("DELETE FROM emails WHERE created_at < $1 AND status <> 'queued'", [before], 'pg_outbox_prune'));
  }
}
