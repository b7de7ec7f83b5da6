import type Database from 'better-sqlite3';
import type { Message } from '../../../protocol/index.js';
import type { NewMessage } from '../../core/model.js';
import type { AppendResult, HistoryPage, HistoryQuery, MessageStore } from '../../core/ports/index.js';
import type { CommitParticipant, SqliteEngine } from './engine.js';
import { timeOrderedId } from '../../core/time-id.js';
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from '../sql/rows.js';

/**
 * Messages on SQLite. Seq: this process is the database's one writer, so the last seq of each
 * conversation is read once (or handed over by the directory at start) and kept in memory; appending
 * is a single insert, and the unique index on (conversation_key, seq) backs the gapless promise. A
 * failed commit restores the seqs it had taken. Idempotency: the unique index on (conversation_key,
 * sender_id, client_msg_id) with ON CONFLICT DO NOTHING. The messages' indexes key a conversation by
 * an integer (conversation_keys, made with its first message) instead of its 21-character id: narrower
 * entries, fewer pages per commit (migration 0015).
 */
export class SqliteMessages implements MessageStore, CommitParticipant {
  /** Last committed seq per conversation: single writer, so memory is the truth after the first read. */
  private readonly lastSeq = new Map<string, number>();
  /** Seqs as they were before the current commit touched them, to restore if it fails. */
  private pendingSeq: Map<string, number> | null = null;
  /** Each conversation's integer key, once known (single writer: memory is the truth after the first read). */
  private readonly keys = new Map<string, number>();
  private lastKey = 0;
  /** Conversations whose key the current commit made, to forget if it fails. */
  private pendingKeys: string[] = [];
  private readonly stmt;

  constructor(private readonly engine: SqliteEngine) {
    engine.join(this);
    const s: Database.Database = engine.sqlite;
    this.stmt = {
      insertMessage: s.prepare(
        `INSERT INTO messages (${MESSAGE_COLUMNS}, conversation_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (conversation_key, sender_id, client_msg_id) DO NOTHING`,
      ),
      findByClientId: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_key = ? AND sender_id = ? AND client_msg_id = ?`),
      lastSeq: s.prepare('SELECT max(seq) FROM messages WHERE conversation_key = ?').pluck(),
      key: s.prepare('SELECT key FROM conversation_keys WHERE conversation_id = ?').pluck(),
      lastKey: s.prepare('SELECT coalesce(max(key), 0) FROM conversation_keys').pluck(),
      insertKey: s.prepare('INSERT INTO conversation_keys (key, conversation_id) VALUES (?, ?)'),
      joinMember: s.prepare('INSERT INTO conversation_members (conversation_id, participant_id, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      getMessage: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?`),
      latest: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_key = ? AND seq >= ? ORDER BY seq DESC LIMIT ?`),
      before: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_key = ? AND seq < ? AND seq >= ? ORDER BY seq DESC LIMIT ?`),
      firstSeqAt: s
        .prepare(
          `SELECT coalesce(min(seq), (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE conversation_key = @c))
           FROM messages WHERE conversation_key = @c AND created_at >= @at`,
        )
        .pluck(),
      after: s.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conversation_key = ? AND seq > ? ORDER BY seq ASC LIMIT ?`),
      countUnseen: s.prepare('SELECT count(*) FROM messages WHERE conversation_key = ? AND seq > ? AND sender_id <> ?').pluck(),
    };
    this.lastKey = this.stmt.lastKey.get() as number;
  }

  /** The directory tells the last seq it read at start, or 0 for a new conversation. */
  noteLastSeq(conversationId: string, seq: number): void {
    this.lastSeq.set(conversationId, seq);
  }

  // ─── CommitParticipant: undo the seqs and keys of a failed commit ────────────────────────────────

  take(): number {
    this.pendingSeq = new Map();
    this.pendingKeys = [];
    return 0;
  }
  committed(): void {
    this.pendingSeq = null;
  }
  failed(): void {
    for (const [conv, seq] of this.pendingSeq ?? []) this.lastSeq.set(conv, seq);
    this.pendingSeq = null;
    for (const conv of this.pendingKeys) this.keys.delete(conv);
    this.pendingKeys = [];
  }

  /** The conversation's key, or undefined for one without messages. */
  private keyOf(conversationId: string): number | undefined {
    let key = this.keys.get(conversationId);
    if (key === undefined) {
      key = this.stmt.key.get(conversationId) as number | undefined;
      if (key !== undefined) this.keys.set(conversationId, key);
    }
    return key;
  }

  /** The conversation's key, made on its first message (inside the commit). */
  private keyFor(conversationId: string): number {
    let key = this.keyOf(conversationId);
    if (key === undefined) {
      key = ++this.lastKey;
      this.stmt.insertKey.run(key, conversationId);
      this.keys.set(conversationId, key);
      this.pendingKeys.push(conversationId);
    }
    return key;
  }

  private nextSeq(conversationId: string, key: number): number {
    let last = this.lastSeq.get(conversationId);
    if (last === undefined) {
      last = (this.stmt.lastSeq.get(key) as number | undefined) ?? 0;
    }
    if (this.pendingSeq && !this.pendingSeq.has(conversationId)) this.pendingSeq.set(conversationId, last);
    return last + 1;
  }

  appendMessage(m: NewMessage, joinAt?: number): Promise<AppendResult> {
    return this.engine.enqueue(() => {
      if (joinAt !== undefined) this.stmt.joinMember.run(m.conversationId, m.senderId, joinAt);
      const key = this.keyFor(m.conversationId);
      const seq = this.nextSeq(m.conversationId, key);
      const id = timeOrderedId(m.createdAt);
      const res = this.stmt.insertMessage.run(id, m.conversationId, seq, m.senderId, m.senderKind, m.body, m.format, m.clientMsgId, m.source, m.createdAt, key);
      if (res.changes === 0) {
        const first = this.stmt.findByClientId.get(key, m.senderId, m.clientMsgId) as MessageRow;
        return { message: toMessage(first), duplicate: true };
      }
      this.lastSeq.set(m.conversationId, seq);
      const message: Message = {
        id,
        conversationId: m.conversationId,
        seq,
        senderId: m.senderId,
        senderKind: m.senderKind,
        body: m.body,
        format: m.format,
        createdAt: m.createdAt,
        clientMsgId: m.clientMsgId,
        source: m.source,
      };
      return { message, duplicate: false };
    });
  }

  async getMessage(id: string): Promise<Message | null> {
    const row = this.stmt.getMessage.get(id) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async listMessages(conversationId: string, q: HistoryQuery): Promise<HistoryPage> {
    const key = this.keyOf(conversationId);
    if (key === undefined) return { messages: [], hasMore: false };
    const n = q.limit + 1;
    const from = q.fromSeq ?? 1;
    let rows: MessageRow[];
    if (q.after !== undefined) {
      rows = this.stmt.after.all(key, Math.max(q.after, from - 1), n) as MessageRow[];
      const hasMore = rows.length > q.limit;
      return { messages: rows.slice(0, q.limit).map(toMessage), hasMore };
    }
    rows = (q.before !== undefined ? this.stmt.before.all(key, q.before, from, n) : this.stmt.latest.all(key, from, n)) as MessageRow[];
    const hasMore = rows.length > q.limit;
    return { messages: rows.slice(0, q.limit).reverse().map(toMessage), hasMore };
  }

  async firstSeqAt(conversationId: string, at: number): Promise<number> {
    const key = this.keyOf(conversationId);
    return key === undefined ? 1 : (this.stmt.firstSeqAt.get({ c: key, at }) as number);
  }

  async countUnseen(conversationId: string, participantId: string, afterSeq: number): Promise<number> {
    const key = this.keyOf(conversationId);
    return key === undefined ? 0 : (this.stmt.countUnseen.get(key, afterSeq, participantId) as number);
  }
}
