import { ProtocolError, type BroadcastStatus } from '../../../protocol/index.js';
import type { BroadcastCommit, BroadcastStore } from '../../core/ports/index.js';
import type { PgEngine } from './engine.js';
import { insertNotifications } from './notifications.js';
import type { PgOutbox } from './outbox.js';

/**
 * Admin broadcasts on PostgreSQL (NOTIFICATIONS §7): the `broadcasts` row, its outbox rows (kind
 * `broadcast`, `conversation_id` = the broadcast id) and its web notifications in one savepoint of the
 * group commit; each set is one statement, however many people. Counts are read from the outbox.
 */
export class PgBroadcasts implements BroadcastStore {
  constructor(
    private readonly engine: PgEngine,
    private readonly outbox: PgOutbox,
  ) {}

  commitBroadcast(c: BroadcastCommit): Promise<void> {
    return this.engine.enqueue(
      async (tx) => {
        const inserted = await tx.run(
          'INSERT INTO broadcasts (id, subject, recipients, skipped, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
          [c.id, c.subject, c.recipients, c.skipped, c.createdAt],
          'pg_bc_insert',
        );
        if (inserted === 0) throw new ProtocolError('conflict', 'a broadcast with this id exists');
        await this.outbox.insert(tx, c.outbox);
        await insertNotifications(tx, c.notifications);
      },
      { savepoint: true },
    );
  }

  async getBroadcast(id: string): Promise<BroadcastStatus | null> {
    const [b] = await this.engine.read<{ id: string; recipients: number; skipped: number }>('SELECT id, recipients, skipped FROM broadcasts WHERE id = $1', [id], 'pg_bc_get');
    if (!b) return null;
    const out: BroadcastStatus = { id: b.id, recipients: b.recipients, queued: 0, sent: 0, failed: 0, skipped: b.skipped };
    const counts = await this.engine.read<{ status: 'queued' | 'sent' | 'failed'; n: number }>(
      "SELECT status, count(*) AS n FROM emails WHERE conversation_id = $1 AND kind = 'broadcast' GROUP BY status",
      [id],
      'pg_bc_counts',
    );
    for (const r of counts) out[r.status] = r.n;
    return out;
  }
}
