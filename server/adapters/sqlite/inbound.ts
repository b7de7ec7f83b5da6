import type { InboundListFilter, InboundRow, InboundStore, SentEmailRef } from '../../core/ports/index.js';
import { INBOUND_COLUMNS, type InboundRowDb, type SentRowDb, toInboundRow, toSentEmailRef } from '../sql/rows.js';
import type { SqliteEngine } from './engine.js';

type Row = InboundRowDb<string>;
const toRow = (r: Row): InboundRow => toInboundRow(r, (to) => JSON.parse(to) as string[]);
const COLUMNS = INBOUND_COLUMNS;

/** Email in on SQLite: the inbound log (raw kept as bytes), reply-address bindings, bounced addresses. */
export class SqliteInbound implements InboundStore {
  private readonly stmt;

  constructor(private readonly engine: SqliteEngine) {
    const s = engine.sqlite;
    this.stmt = {
      insert: s.prepare(
        `INSERT INTO inbound_emails (${COLUMNS}, raw) VALUES (@id, @messageId, @from, @to, @subject, @receivedAt, @status, @reason, @conversationId, @postedMessageId, @raw)
         ON CONFLICT (message_id) DO NOTHING`,
      ),
      byMessageId: s.prepare(`SELECT ${COLUMNS} FROM inbound_emails WHERE message_id = ?`),
      list: s.prepare(`SELECT ${COLUMNS} FROM inbound_emails WHERE received_at >= ? ORDER BY received_at, id LIMIT ?`),
      // The inbound log's filters: a status (null: any) and newest first.
      listFiltered: s.prepare(`SELECT ${COLUMNS} FROM inbound_emails WHERE received_at >= @since AND (@status IS NULL OR status = @status) ORDER BY received_at, id LIMIT @limit`),
      listNewest: s.prepare(`SELECT ${COLUMNS} FROM inbound_emails WHERE received_at >= @since AND (@status IS NULL OR status = @status) ORDER BY received_at DESC, id DESC LIMIT @limit`),
      raw: s.prepare('SELECT raw FROM inbound_emails WHERE id = ?').pluck(),
      countFrom: s.prepare('SELECT count(*) FROM inbound_emails WHERE from_address = ? AND received_at >= ?').pluck(),
      prune: s.prepare('DELETE FROM inbound_emails WHERE received_at < ?'),
      insertRid: s.prepare('INSERT INTO reply_addresses (rid, conversation_id, participant_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      ridOf: s.prepare('SELECT rid FROM reply_addresses WHERE conversation_id = ? AND participant_id = ?').pluck(),
      target: s.prepare('SELECT conversation_id, participant_id FROM reply_addresses WHERE rid = ?'),
      sentByHeader: s.prepare('SELECT id, conversation_id, participant_id, up_to FROM emails WHERE message_id_header = ? LIMIT 1'),
      sentById: s.prepare('SELECT id, conversation_id, participant_id, up_to FROM emails WHERE id = ?'),
      bounce: s.prepare('INSERT INTO bounced_addresses (address, status, at) VALUES (?, ?, ?) ON CONFLICT (address) DO UPDATE SET status = excluded.status, at = excluded.at'),
      bounced: s.prepare('SELECT address FROM bounced_addresses').pluck(),
    };
  }

  recordInbound(row: InboundRow, raw: Uint8Array): Promise<boolean> {
    return this.engine.enqueue(() => this.stmt.insert.run({ ...row, to: JSON.stringify(row.to), raw: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) }).changes > 0);
  }

  inboundByMessageId(messageId: string): Promise<InboundRow | null> {
    const r = this.stmt.byMessageId.get(messageId) as Row | undefined;
    return Promise.resolve(r ? toRow(r) : null);
  }

  listInbound(since: number, limit: number, filter: InboundListFilter = {}): Promise<InboundRow[]> {
    if (filter.status === undefined && !filter.newestFirst) return Promise.resolve((this.stmt.list.all(since, limit) as Row[]).map(toRow));
    const stmt = filter.newestFirst ? this.stmt.listNewest : this.stmt.listFiltered;
    return Promise.resolve((stmt.all({ since, limit, status: filter.status ?? null }) as Row[]).map(toRow));
  }

  getInboundRaw(id: string): Promise<Uint8Array | null> {
    return Promise.resolve((this.stmt.raw.get(id) as Buffer | undefined) ?? null);
  }

  countInboundFrom(address: string, since: number): Promise<number> {
    return Promise.resolve(this.stmt.countFrom.get(address, since) as number);
  }

  pruneInbound(before: number): Promise<number> {
    return this.engine.enqueue(() => this.stmt.prune.run(before).changes);
  }

  replyRid(conversationId: string, participantId: string, candidate: string, at: number): Promise<string> {
    const known = this.stmt.ridOf.get(conversationId, participantId) as string | undefined;
    if (known) return Promise.resolve(known);
    return this.engine.enqueue(() => {
      this.stmt.insertRid.run(candidate, conversationId, participantId, at);
      return this.stmt.ridOf.get(conversationId, participantId) as string;
    });
  }

  replyTarget(rid: string): Promise<{ conversationId: string; participantId: string } | null> {
    const r = this.stmt.target.get(rid) as { conversation_id: string; participant_id: string } | undefined;
    return Promise.resolve(r ? { conversationId: r.conversation_id, participantId: r.participant_id } : null);
  }

  sentEmailByMessageId(messageIdHeader: string): Promise<SentEmailRef | null> {
    return Promise.resolve(sent(this.stmt.sentByHeader.get(messageIdHeader)));
  }

  sentEmailById(id: string): Promise<SentEmailRef | null> {
    return Promise.resolve(sent(this.stmt.sentById.get(id)));
  }

  markBounced(address: string, status: string, at: number): Promise<void> {
    return this.engine.enqueue(() => void this.stmt.bounce.run(address.toLowerCase(), status, at));
  }

  bouncedAddresses(): Promise<string[]> {
    return Promise.resolve(this.stmt.bounced.all() as string[]);
  }
}

const sent = (r: unknown): SentEmailRef | null => toSentEmailRef(r as SentRowDb | undefined);
