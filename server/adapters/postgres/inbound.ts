import type { InboundListFilter, InboundRow, InboundStore, SentEmailRef } from '../../core/ports/index.js';
import { INBOUND_COLUMNS, type InboundRowDb, type SentRowDb, toInboundRow, toSentEmailRef } from '../sql/rows.js';
import type { PgEngine } from './engine.js';

type Row = InboundRowDb<string[]>;
const toRow = (r: Row): InboundRow => toInboundRow(r, (to) => to);
const COLUMNS = INBOUND_COLUMNS;

/**
 * Email in on PostgreSQL: the inbound log (raw kept as bytea), reply-address bindings, bounced
 * addresses. Insert-if-absent and get-or-create hold across hubs through the unique indexes (a racing
 * insert waits for the first one's commit, then does nothing, and the read after it sees the winner).
 */
export class PgInbound implements InboundStore {
  constructor(private readonly engine: PgEngine) {}

  recordInbound(row: InboundRow, raw: Uint8Array): Promise<boolean> {
    return this.engine.enqueue(
      async (tx) =>
        (await tx.run(
          `INSERT INTO inbound_emails (${COLUMNS}, raw) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (message_id) DO NOTHING`,
          [
            row.id,
            row.messageId,
            row.from,
            JSON.stringify(row.to),
            row.subject,
            row.receivedAt,
            row.status,
            row.reason,
            row.conversationId,
            row.postedMessageId,
            Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
          ],
          'pg_in_insert',
        )) > 0,
      { savepoint: true },
    );
  }

  async inboundByMessageId(messageId: string): Promise<InboundRow | null> {
    const [r] = await this.engine.read<Row>(`SELECT ${COLUMNS} FROM inbound_emails WHERE message_id = $1`, [messageId], 'pg_in_by_message_id');
    return r ? toRow(r) : null;
  }

  async listInbound(since: number, limit: number, filter: InboundListFilter = {}): Promise<InboundRow[]> {
    const order = filter.newestFirst ? 'received_at DESC, id DESC' : 'received_at, id';
    const rows = await this.engine.read<Row>(
      `SELECT ${COLUMNS} FROM inbound_emails WHERE received_at >= $1 AND ($2::text IS NULL OR status = $2) ORDER BY ${order} LIMIT $3`,
      [since, filter.status ?? null, limit],
      filter.newestFirst ? 'pg_in_list_desc' : 'pg_in_list',
    );
    return rows.map(toRow);
  }

  async getInboundRaw(id: string): Promise<Uint8Array | null> {
    const [r] = await this.engine.read<{ raw: Buffer }>('SELECT raw FROM inbound_emails WHERE id = $1', [id], 'pg_in_raw');
    return r ? r.raw : null;
  }

  async countInboundFrom(address: string, since: number): Promise<number> {
    const [r] = await this.engine.read<{ n: number }>('SELECT count(*) AS n FROM inbound_emails WHERE from_address = $1 AND received_at >= $2', [address, since], 'pg_in_count_from');
    return r!.n;
  }

  pruneInbound(before: number): Promise<number> {
    return this.engine.enqueue((tx) => tx.run('DELETE FROM inbound_emails WHERE received_at < $1', [before], 'pg_in_prune'));
  }

  async replyRid(conversationId: string, participantId: string, candidate: string, at: number): Promise<string> {
    const ridOf = 'SELECT rid FROM reply_addresses WHERE conversation_id = $1 AND participant_id = $2';
    const [known] = await this.engine.read<{ rid: string }>(ridOf, [conversationId, participantId], 'pg_in_rid_of');
    if (known) return known.rid;
    return this.engine.enqueue(async (tx) => {
      await tx.run(
        'INSERT INTO reply_addresses (rid, conversation_id, participant_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [candidate, conversationId, participantId, at],
        'pg_in_insert_rid',
      );
      const [r] = await tx.query<{ rid: string }>(ridOf, [conversationId, participantId], 'pg_in_rid_of');
      return r!.rid;
    });
  }

  async replyTarget(rid: string): Promise<{ conversationId: string; participantId: string } | null> {
    const [r] = await this.engine.read<{ conversation_id: string; participant_id: string }>(
      'SELECT conversation_id, participant_id FROM reply_addresses WHERE rid = $1',
      [rid],
      'pg_in_target',
    );
    return r ? { conversationId: r.conversation_id, participantId: r.participant_id } : null;
  }

  async sentEmailByMessageId(messageIdHeader: string): Promise<SentEmailRef | null> {
    const [r] = await this.engine.read<SentRowDb>(
      'SELECT id, conversation_id, participant_id, up_to FROM emails WHERE message_id_header = $1 LIMIT 1',
      [messageIdHeader],
      'pg_in_sent_by_header',
    );
    return toSentEmailRef(r);
  }

  async sentEmailById(id: string): Promise<SentEmailRef | null> {
    const [r] = await this.engine.read<SentRowDb>('SELECT id, conversation_id, participant_id, up_to FROM emails WHERE id = $1', [id], 'pg_in_sent_by_id');
    return toSentEmailRef(r);
  }

  markBounced(address: string, status: string, at: number): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      await tx.run(
        'INSERT INTO bounced_addresses (address, status, at) VALUES ($1, $2, $3) ON CONFLICT (address) DO UPDATE SET status = excluded.status, at = excluded.at',
        [address.toLowerCase(), status, at],
        'pg_in_bounce',
      );
    });
  }

  async bouncedAddresses(): Promise<string[]> {
    return (await this.engine.read<{ address: string }>('SELECT address FROM bounced_addresses', [], 'pg_in_bounced')).map((r) => r.address);
  }
}
