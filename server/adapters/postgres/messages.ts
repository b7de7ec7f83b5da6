import { ProtocolError, type Message } from '../../../protocol/index.js';
import type { NewMessage } from '../../core/model.js';
import type { AppendResult, HistoryPage, HistoryQuery, MessageStore } from '../../core/ports/index.js';
import { timeOrderedId } from '../../core/time-id.js';
import { MESSAGE_COLUMNS as COLUMNS, type MessageRow, toMessage } from '../sql/rows.js';
import { arrayLiteral } from './arrays.js';
import type { Batcher, PgEngine, Tx } from './engine.js';

interface Append {
  m: NewMessage;
  joinAt: number | undefined;
}

/**
 * Raise the seq of every conversation in the batch by its count of new messages, locking the rows in
 * id order first (two hubs appending to the same conversations never deadlock), and return the new last
 * seqs. The row lock holds until the commit, so appends to one conversation commit one hub at a time.
 */
const BUMP = `
  WITH v AS (SELECT * FROM unnest($1::text[], $2::int[]) AS v(id, n)),
       l AS MATERIALIZED (SELECT c.id FROM conversations c JOIN v ON v.id = c.id ORDER BY c.id FOR NO KEY UPDATE OF c)
  UPDATE conversations c SET last_seq = c.last_seq + v.n FROM v, l WHERE c.id = v.id AND l.id = c.id
  RETURNING c.id, c.last_seq`;
const SET_LAST = 'UPDATE conversations c SET last_seq = v.s FROM unnest($1::text[], $2::int[]) AS v(id, s) WHERE c.id = v.id';
const INSERT = `
  INSERT INTO messages (${COLUMNS})
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int8[])
  ON CONFLICT (conversation_id, sender_id, client_msg_id) DO NOTHING
  RETURNING id`;
const JOIN = `
  INSERT INTO conversation_members (conversation_id, participant_id, since)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int8[]) ON CONFLICT DO NOTHING`;
const FIRSTS = `
  SELECT ${COLUMNS} FROM messages m
  WHERE (m.conversation_id, m.sender_id, m.client_msg_id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`;

/**
 * A commit of appends alone, in one statement (its own transaction; `alone`): BUMP, then the new
 * messages inserted with their seqs (the conversation's last seq before this commit + their rank in it,
 * $12) by a plain INSERT. A repeat of a stored message (a client's resend, or another hub's commit of
 * it while this statement waited for the row lock) violates the unique index: the statement and its
 * raise roll back, nothing was written, and the engine commits the batch through `run` instead.
 */
const APPEND = `
  WITH v AS (SELECT * FROM unnest($1::text[], $2::int[]) AS v(id, n)),
       l AS MATERIALIZED (SELECT c.id FROM conversations c JOIN v ON v.id = c.id ORDER BY c.id FOR NO KEY UPDATE OF c),
       b AS (UPDATE conversations c SET last_seq = c.last_seq + v.n FROM v, l WHERE c.id = v.id AND l.id = c.id RETURNING c.id, c.last_seq, v.n),
       i AS (INSERT INTO messages (${COLUMNS})
             SELECT m.id, m.conversation_id, b.last_seq - b.n + m.k, m.sender_id, m.sender_kind, m.body, m.format, m.client_msg_id, m.source, m.created_at
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::int[])
               AS m(id, conversation_id, sender_id, sender_kind, body, format, client_msg_id, source, created_at, k)
             JOIN b ON b.id = m.conversation_id)
  SELECT id, last_seq FROM b`;

const keyOf = (m: NewMessage) => `${m.conversationId}\u0000${m.senderId}\u0000${m.clientMsgId}`;

/**
 * Messages on PostgreSQL, for any number of writers. Appends are batched: every append of a commit
 * goes through one BUMP (seq from the conversation row, DESIGN §8), one multi-row insert and, for
 * `joinAt`, one membership insert. Idempotency is the unique index on (conversation, sender,
 * clientMsgId): `ON CONFLICT DO NOTHING`, and a repeat resolves the first stored message, re-read.
 *
 * A commit of appends and nothing else, none joining (the common case under load), is one statement
 * instead (APPEND: BUMP and the insert, its own transaction; `alone`). It has no ON CONFLICT: a repeat
 * of a stored message fails it as a whole, nothing is written, and the batch goes through `run` as above.
 *
 * Gapless with a repeat from another hub: that hub committed the first message while holding the
 * conversation row; this commit's BUMP waited for it and then counted the repeat as new. The insert
 * reports the conflict, so this commit takes its rows of the affected conversations out again, gives
 * them seqs without the repeat and sets last_seq back — still under the row lock, so no one saw the
 * gap. Within one batch a repeat is found in memory and never reaches the database.
 */
/**
 * A batch sorted out in memory: a body PostgreSQL cannot store is refused alone (text cannot hold
 * U+0000), before it could fail the commit; repeats within the batch resolve the batch's first;
 * `fresh` are the firsts, in issue order.
 */
function sortOut(items: Append[]): { results: Array<AppendResult | Error | undefined>; fresh: number[]; repeatOf: Map<number, number> } {
  const results: Array<AppendResult | Error | undefined> = new Array(items.length);
  const firstOf = new Map<string, number>();
  const repeatOf = new Map<number, number>();
  const fresh: number[] = [];
  items.forEach((a, i) => {
    if (a.m.body.includes('\u0000')) {
      results[i] = new ProtocolError('invalid', 'the body holds a NUL character (U+0000)');
      return;
    }
    const k = keyOf(a.m);
    const first = firstOf.get(k);
    if (first === undefined) {
      firstOf.set(k, i);
      fresh.push(i);
    } else repeatOf.set(i, first);
  });
  return { results, fresh, repeatOf };
}

/** A repeat within the batch gets its first's message (or error) as a duplicate. */
function resolveRepeats(results: Array<AppendResult | Error | undefined>, repeatOf: Map<number, number>): Array<AppendResult | Error> {
  for (const [i, first] of repeatOf) {
    const r = results[first]!;
    results[i] = r instanceof Error ? r : { message: r.message, duplicate: true };
  }
  return results as Array<AppendResult | Error>;
}

export class PgMessages implements MessageStore, Batcher<Append, AppendResult> {
  /** Conversation rows are locked first in every commit (see Batcher.order). */
  readonly order = 1;

  constructor(private readonly engine: PgEngine) {}

  appendMessage(m: NewMessage, joinAt?: number): Promise<AppendResult> {
    return this.engine.batch<Append, AppendResult>(this, { m, joinAt });
  }

  /** The commit is appends alone, none joining: one statement (APPEND). With a join, null: `run`. */
  async alone(tx: Tx, items: Append[]): Promise<Array<AppendResult | Error> | null> {
    if (items.some((a) => a.joinAt !== undefined)) return null;
    const { results, fresh, repeatOf } = sortOut(items);
    if (fresh.length) {
      const ms = fresh.map((i) => items[i]!.m);
      const ids = ms.map((m) => timeOrderedId(m.createdAt));
      /** Each message's rank in its conversation (1, 2, …), and each conversation's count. */
      const counts = new Map<string, number>();
      const ranks = ms.map((m) => {
        const k = (counts.get(m.conversationId) ?? 0) + 1;
        counts.set(m.conversationId, k);
        return k;
      });
      const convIds = [...counts.keys()].sort();
      const raised = await tx.query<{ id: string; last_seq: number }>(
        APPEND,
        [
          arrayLiteral(convIds),
          arrayLiteral(convIds.map((c) => counts.get(c)!)),
          arrayLiteral(ids),
          arrayLiteral(ms.map((m) => m.conversationId)),
          arrayLiteral(ms.map((m) => m.senderId)),
          arrayLiteral(ms.map((m) => m.senderKind)),
          arrayLiteral(ms.map((m) => m.body)),
          arrayLiteral(ms.map((m) => m.format)),
          arrayLiteral(ms.map((m) => m.clientMsgId)),
          arrayLiteral(ms.map((m) => m.source)),
          arrayLiteral(ms.map((m) => m.createdAt)),
          arrayLiteral(ranks),
        ],
        'pg_msg_append',
      );
      /** Each conversation's last seq before this commit. */
      const base = new Map(raised.map((r) => [r.id, r.last_seq - counts.get(r.id)!]));
      fresh.forEach((i, k) => {
        const m = ms[k]!;
        const b = base.get(m.conversationId);
        results[i] = b === undefined ? new ProtocolError('not_found', 'no such conversation') : { message: { id: ids[k]!, seq: b + ranks[k]!, ...m }, duplicate: false };
      });
    }
    return resolveRepeats(results, repeatOf);
  }

  async run(tx: Tx, items: Append[]): Promise<Array<AppendResult | Error>> {
    const { results, fresh, repeatOf } = sortOut(items);

    const counts = new Map<string, number>();
    for (const i of fresh) counts.set(items[i]!.m.conversationId, (counts.get(items[i]!.m.conversationId) ?? 0) + 1);
    const convIds = [...counts.keys()].sort();
    const bumped = await tx.query<{ id: string; last_seq: number }>(BUMP, [convIds, convIds.map((c) => counts.get(c)!)], 'pg_msg_bump');
    /** Each conversation's last seq before this commit. */
    const base = new Map(bumped.map((r) => [r.id, r.last_seq - counts.get(r.id)!]));

    const joins = items.filter((a) => a.joinAt !== undefined && base.has(a.m.conversationId));
    if (joins.length) {
      const seen = new Set<string>();
      const rows = joins
        .filter((a) => {
          const k = `${a.m.conversationId}\u0000${a.m.senderId}`;
          return seen.has(k) ? false : (seen.add(k), true);
        })
        .sort((a, b) => (a.m.conversationId < b.m.conversationId ? -1 : a.m.conversationId > b.m.conversationId ? 1 : a.m.senderId < b.m.senderId ? -1 : 1));
      await tx.run(JOIN, [rows.map((a) => a.m.conversationId), rows.map((a) => a.m.senderId), rows.map((a) => a.joinAt!)], 'pg_msg_join');
    }

    /** Firsts already stored by another writer (or earlier), by key. */
    const stored = new Map<string, Message>();
    let pending = fresh.filter((i) => base.has(items[i]!.m.conversationId));
    for (const i of fresh) if (!base.has(items[i]!.m.conversationId)) results[i] = new ProtocolError('not_found', 'no such conversation');
    const inserted = new Map<number, Message>();
    const lastSeq = new Map<string, number>();
    for (let round = 0; pending.length; round++) {
      const next = new Map(base);
      const rows: Message[] = pending.map((i) => {
        const m = items[i]!.m;
        const seq = next.get(m.conversationId)! + 1;
        next.set(m.conversationId, seq);
        return { id: timeOrderedId(m.createdAt), seq, ...m };
      });
      const returned = await tx.query<{ id: string }>(
        INSERT,
        [
          rows.map((r) => r.id),
          rows.map((r) => r.conversationId),
          rows.map((r) => r.seq),
          rows.map((r) => r.senderId),
          rows.map((r) => r.senderKind),
          rows.map((r) => r.body),
          rows.map((r) => r.format),
          rows.map((r) => r.clientMsgId),
          rows.map((r) => r.source),
          rows.map((r) => r.createdAt),
        ],
        'pg_msg_insert',
      );
      if (returned.length === rows.length) {
        pending.forEach((i, k) => inserted.set(i, rows[k]!));
        for (const [c, s] of next) lastSeq.set(c, s);
        break;
      }
      // Some were stored before by another writer: read those firsts, take this round's rows out, and
      // give the others their seqs again without them.
      if (round >= 3) throw new Error('idempotent insert did not settle');
      const ok = new Set(returned.map((r) => r.id));
      const conflicted = rows.filter((r) => !ok.has(r.id));
      const firsts = await tx.query<MessageRow>(
        FIRSTS,
        [conflicted.map((r) => r.conversationId), conflicted.map((r) => r.senderId), conflicted.map((r) => r.clientMsgId)],
        'pg_msg_firsts',
      );
      for (const f of firsts) stored.set(`${f.conversation_id}\u0000${f.sender_id}\u0000${f.client_msg_id}`, toMessage(f));
      if (ok.size) await tx.run('DELETE FROM messages WHERE id = ANY($1::text[])', [[...ok]], 'pg_msg_undo');
      pending = pending.filter((i) => !stored.has(keyOf(items[i]!.m)));
      if (!pending.length) for (const c of base.keys()) lastSeq.set(c, base.get(c)!);
    }
    // Every conversation whose count changed (repeats of stored messages) gets its true last seq back.
    const fix = convIds.filter((c) => base.has(c) && (lastSeq.get(c) ?? base.get(c)!) !== base.get(c)! + counts.get(c)!);
    if (fix.length) await tx.run(SET_LAST, [fix, fix.map((c) => lastSeq.get(c) ?? base.get(c)!)], 'pg_msg_set_last');

    for (const i of fresh) {
      if (results[i]) continue;
      const mine = inserted.get(i);
      if (mine) results[i] = { message: mine, duplicate: false };
      else {
        const first = stored.get(keyOf(items[i]!.m));
        results[i] = first ? { message: first, duplicate: true } : new Error('a repeated message was not found');
      }
    }
    return resolveRepeats(results, repeatOf);
  }

  async getMessage(id: string): Promise<Message | null> {
    const rows = await this.engine.read<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE id = $1`, [id], 'pg_msg_get');
    return rows[0] ? toMessage(rows[0]) : null;
  }

  async listMessages(conversationId: string, q: HistoryQuery): Promise<HistoryPage> {
    const n = q.limit + 1;
    const from = q.fromSeq ?? 1;
    if (q.after !== undefined) {
      const rows = await this.engine.read<MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`,
        [conversationId, Math.max(q.after, from - 1), n],
        'pg_msg_after',
      );
      return { messages: rows.slice(0, q.limit).map(toMessage), hasMore: rows.length > q.limit };
    }
    const rows =
      q.before !== undefined
        ? await this.engine.read<MessageRow>(
            `SELECT ${COLUMNS} FROM messages WHERE conversation_id = $1 AND seq < $2 AND seq >= $3 ORDER BY seq DESC LIMIT $4`,
            [conversationId, q.before, from, n],
            'pg_msg_before',
          )
        : await this.engine.read<MessageRow>(
            `SELECT ${COLUMNS} FROM messages WHERE conversation_id = $1 AND seq >= $2 ORDER BY seq DESC LIMIT $3`,
            [conversationId, from, n],
            'pg_msg_latest',
          );
    return { messages: rows.slice(0, q.limit).reverse().map(toMessage), hasMore: rows.length > q.limit };
  }

  async firstSeqAt(conversationId: string, at: number): Promise<number> {
    const rows = await this.engine.read<{ seq: number }>(
      `SELECT coalesce((SELECT min(seq) FROM messages WHERE conversation_id = $1 AND created_at >= $2),
                       (SELECT coalesce(max(seq), 0) + 1 FROM messages WHERE conversation_id = $1)) AS seq`,
      [conversationId, at],
      'pg_msg_first_at',
    );
    return rows[0]!.seq;
  }

  async countUnseen(conversationId: string, participantId: string, afterSeq: number): Promise<number> {
    const rows = await this.engine.read<{ n: number }>(
      'SELECT count(*) AS n FROM messages WHERE conversation_id = $1 AND seq > $2 AND sender_id <> $3',
      [conversationId, afterSeq, participantId],
      'pg_msg_count_unseen',
    );
    return rows[0]!.n;
  }
}
