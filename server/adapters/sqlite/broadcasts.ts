import { ProtocolError, type BroadcastStatus } from '../../../protocol/index.js';
import type { BroadcastCommit, BroadcastStore } from '../../core/ports/index.js';
import type { SqliteEngine } from './engine.js';
import type { SqliteOutbox } from './outbox.js';

/**
 * Admin broadcasts on SQLite (NOTIFICATIONS §7): the `broadcasts` row, its outbox rows (kind
 * `broadcast`, `conversation_id` = the broadcast id) and its web notifications, in one savepoint of
 * the engine's group commit. Counts are read from the outbox by status (emails_thread_idx leads with
 * `conversation_id`).
 */
export class SqliteBroadcasts implements BroadcastStore {
  private readonly stmt;

  constructor(
    private readonly engine: SqliteEngine,
    private readonly outbox: SqliteOutbox,
  ) {
    const s = engine.sqlite;
    this.stmt = {
      insert: s.prepare('INSERT INTO broadcasts (id, subject, recipients, skipped, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING'),
      insertNotification: s.prepare(
        `INSERT INTO notifications (id, participant_id, definition_id, event_id, broadcast_id, subject, body, item_id, appointment_id, created_at, seen_at)
         VALUES (@id, @participantId, @definitionId, @eventId, @broadcastId, @subject, @body, @itemId, @appointmentId, @createdAt, @seenAt)`,
      ),
      get: s.prepare('SELECT id, recipients, skipped FROM broadcasts WHERE id = ?'),
      counts: s.prepare("SELECT status, count(*) AS n FROM emails WHERE conversation_id = ? AND kind = 'broadcast' GROUP BY status"),
    };
  }

  commitBroadcast(c: BroadcastCommit): Promise<void> {
    const s = this.stmt;
    return this.engine.enqueue(() =>
      this.engine.sqlite.transaction(() => {
        if (s.insert.run(c.id, c.subject, c.recipients, c.skipped, c.createdAt).changes === 0) throw new ProtocolError('conflict', 'a broadcast with this id exists');
        for (const row of c.outbox) this.outbox.insert(row);
        for (const n of c.notifications) s.insertNotification.run(n);
      })(),
    );
  }

  getBroadcast(id: string): Promise<BroadcastStatus | null> {
    const b = this.stmt.get.get(id) as { id: string; recipients: number; skipped: number } | undefined;
    if (!b) return Promise.resolve(null);
    const out: BroadcastStatus = { id: b.id, recipients: b.recipients, queued: 0, sent: 0, failed: 0, skipped: b.skipped };
    for (const r of this.stmt.counts.all(id) as Array<{ status: 'queued' | 'sent' | 'failed'; n: number }>) out[r.status] = r.n;
    return Promise.resolve(out);
  }
}
