import { ProtocolError, type Message } from '../../../protocol/index.js';
import type { NewEmailRow, ReceiptTimes, WatermarkRow, WatermarkStore } from '../../core/ports/index.js';
import { type ReceiptRowDb, type WatermarkRowDb, toReceiptTimes, toWatermark } from '../sql/rows.js';
import type { SqliteEngine } from './engine.js';
import type { SqliteOutbox } from './outbox.js';
import { RiseQueue } from './rise-queue.js';

/**
 * Watermarks and their rises on SQLite. Seen and delivered rises go through the RiseQueue (written
 * behind, coalesced); the emailed rise is commitEscalation's compare-and-set, which writes the
 * outbox row in the same operation of the same commit.
 */
export class SqliteWatermarks implements WatermarkStore {
  readonly rises: RiseQueue;
  private readonly stmt;

  constructor(
    private readonly engine: SqliteEngine,
    private readonly outbox: SqliteOutbox,
  ) {
    this.rises = new RiseQueue(engine);
    const s = engine.sqlite;
    this.stmt = {
      watermark: s.prepare(
        'SELECT participant_id, conversation_id, delivered_up_to, seen_up_to, emailed_up_to FROM watermarks WHERE participant_id = ? AND conversation_id = ?',
      ),
      casEmailed: s.prepare(
        `UPDATE watermarks SET emailed_up_to = ?, emailed_at = ?, email_id = ?
         WHERE participant_id = ? AND conversation_id = ? AND emailed_up_to = ? AND seen_up_to = ?`,
      ),
      insertEmailed: s.prepare(
        `INSERT INTO watermarks (participant_id, conversation_id, emailed_up_to, emailed_at, email_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (participant_id, conversation_id) DO NOTHING`,
      ),
      logEmailed: s.prepare(
        "INSERT OR IGNORE INTO watermark_rises (conversation_id, up_to, participant_id, kind, at, email_id, held_seqs, summarized_seqs) VALUES (?, ?, ?, 'emailed', ?, ?, ?, ?)",
      ),
      // SQLite's bare-column rule: the other columns come from the row holding the minimum. That is
      // the earliest rise of delivered and seen, and the lowest emailed one: the one email whose
      // range (previous watermark, up_to] can hold the message (emailed rises only go up).
      receiptTimes: s.prepare(
        `SELECT participant_id, kind, min(CASE kind WHEN 'emailed' THEN up_to ELSE at END) AS first, at, email_id, held_seqs, summarized_seqs
         FROM watermark_rises WHERE conversation_id = ? AND up_to >= ? GROUP BY participant_id, kind`,
      ),
    };
  }

  recordDelivered(conversationId: string, participantIds: readonly string[], upTo: number, at: number): void {
    if (this.engine.isClosed) return;
    this.rises.queueDelivered(conversationId, participantIds, upTo, at);
  }

  raiseSeen(participantId: string, conversationId: string, upTo: number, at: number): Promise<boolean> {
    if (this.engine.isClosed) return Promise.reject(new ProtocolError('unavailable', 'storage is closed'));
    return new Promise((resolve) => this.rises.queueSeen(participantId, conversationId, upTo, at).waiters.push(resolve));
  }

  async getWatermarks(participantId: string, conversationIds: readonly string[]): Promise<Map<string, WatermarkRow>> {
    const out = new Map<string, WatermarkRow>();
    for (const c of conversationIds) {
      const r = this.stmt.watermark.get(participantId, c) as WatermarkRowDb | undefined;
      if (r) out.set(c, toWatermark(participantId, r));
    }
    return out;
  }

  async receiptTimes(m: Pick<Message, 'conversationId' | 'seq' | 'createdAt'>): Promise<Map<string, ReceiptTimes>> {
    const rows = this.stmt.receiptTimes.all(m.conversationId, m.seq) as Array<ReceiptRowDb<string>>;
    return toReceiptTimes(m, rows, (json) => JSON.parse(json) as Array<[number, number]>, this.rises.delivered.get(m.conversationId)?.values() ?? []);
  }

  commitEscalation(row: NewEmailRow, expect: { seenUpTo: number; emailedUpTo: number }): Promise<boolean> {
    return this.engine.enqueue(() => {
      const s = this.stmt;
      // Compare-and-set: the watermarks must be exactly what the caller read (a missing row reads as 0, 0).
      const updated = s.casEmailed.run(row.upTo, row.createdAt, row.id, row.participantId, row.conversationId, expect.emailedUpTo, expect.seenUpTo);
      if (updated.changes === 0) {
        if (expect.emailedUpTo !== 0 || expect.seenUpTo !== 0) return false;
        const inserted = s.insertEmailed.run(row.participantId, row.conversationId, row.upTo, row.createdAt, row.id);
        if (inserted.changes === 0) return false;
      }
      s.logEmailed.run(row.conversationId, row.upTo, row.participantId, row.createdAt, row.id, JSON.stringify(toRuns(row.heldSeqs)), JSON.stringify(toRuns(row.summarizedSeqs)));
      this.outbox.insert(row);
      return true;
    });
  }
}

/**
 * Ascending seqs as runs `[[from, to], …]` (the held_seqs / summarized_seqs columns): an email's seqs
 * are mostly consecutive, so a thousand summarized messages take a few bytes, not a list.
 */
export function toRuns(seqs: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const q of seqs) {
    const last = runs.at(-1);
    if (last && q === last[1] + 1) last[1] = q;
    else runs.push([q, q]);
  }
  return runs;
}

/** Whether `seq` lies in one of the runs of a held_seqs / summarized_seqs column. */
export function inRuns(json: string, seq: number): boolean {
  const runs = JSON.parse(json) as Array<[number, number]>;
  return runs.some(([from, to]) => seq >= from && seq <= to);
}
