import type { Message } from '../../../protocol/index.js';
import type { NewEmailRow, ReceiptTimes, WatermarkRow, WatermarkStore } from '../../core/ports/index.js';
import { type ReceiptRowDb, type WatermarkRowDb, toReceiptTimes, toWatermark } from '../sql/rows.js';
import { toRuns } from '../sqlite/watermarks.js';
import { arrayLiteral } from './arrays.js';
import type { Batcher, CommitParticipant, PgEngine, Tx } from './engine.js';
import type { PgOutbox } from './outbox.js';

/**
 * Delivered rises are written behind, coalesced per (participant, conversation) over this window, as
 * on SQLite: a crash of a hub loses at most this much delivery information (never a message, a seen
 * mark or an email).
 */
export const DELIVERED_WINDOW_MS = 250;
/** Delivered rises written per commit once their window is over. */
const DELIVERED_PER_COMMIT = 512;

interface Rise {
  participantId: string;
  conversationId: string;
  upTo: number;
  at: number;
}

/** A write of the watermark batcher: a seen rise, or an escalation's compare-and-set. */
type WatermarkWrite = { kind: 'seen'; rise: Rise } | { kind: 'emailed'; row: NewEmailRow; expect: { seenUpTo: number; emailedUpTo: number } };

type Pair = Pick<Rise, 'participantId' | 'conversationId'>;

const byPair = (a: Pair, b: Pair) =>
  a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : a.conversationId < b.conversationId ? -1 : a.conversationId > b.conversationId ? 1 : 0;
const pairKey = (r: Pair) => `${r.participantId}\u0000${r.conversationId}`;

/**
 * Seen rises: raise (never lower) seen, and delivered with it; RETURNING names the pairs that rose.
 * Rows go in (participant, conversation) order, so two hubs' commits lock watermark rows in one order.
 */
const SEEN = `
  INSERT INTO watermarks (participant_id, conversation_id, seen_up_to, seen_at, delivered_up_to, delivered_at)
  SELECT p, c, u, a, u, a FROM unnest($1::text[], $2::text[], $3::int[], $4::int8[]) AS v(p, c, u, a)
  ON CONFLICT (participant_id, conversation_id) DO UPDATE SET
    seen_up_to = excluded.seen_up_to, seen_at = excluded.seen_at,
    delivered_up_to = greatest(watermarks.delivered_up_to, excluded.seen_up_to),
    delivered_at = CASE WHEN excluded.seen_up_to > watermarks.delivered_up_to THEN excluded.seen_at ELSE watermarks.delivered_at END
  WHERE excluded.seen_up_to > watermarks.seen_up_to
  RETURNING participant_id, conversation_id`;
/**
 * Delivered rises, written behind: the upsert and the log in one statement (its own transaction).
 * Every rise goes to the log, even one the watermark had passed: its time is then a later candidate
 * for the earliest rise and changes nothing.
 */
const DELIVERED = `
  WITH w AS (
    INSERT INTO watermarks (participant_id, conversation_id, delivered_up_to, delivered_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int8[])
    ON CONFLICT (participant_id, conversation_id) DO UPDATE SET delivered_up_to = excluded.delivered_up_to, delivered_at = excluded.delivered_at
    WHERE excluded.delivered_up_to > watermarks.delivered_up_to)
  INSERT INTO watermark_rises (conversation_id, up_to, participant_id, at, kind)
  SELECT c, u, p, a, 'delivered' FROM unnest($1::text[], $2::text[], $3::int[], $4::int8[]) AS v(p, c, u, a)
  ON CONFLICT DO NOTHING`;
const LOG = `
  INSERT INTO watermark_rises (conversation_id, up_to, participant_id, at, kind)
  SELECT c, u, p, a, $5 FROM unnest($1::text[], $2::text[], $3::int[], $4::int8[]) AS v(p, c, u, a)
  ON CONFLICT DO NOTHING`;
/**
 * Lock a commit's watermark rows in (participant, conversation) order before an escalation writes one
 * of them: first create the missing ones (all zero: what a missing row means), then lock them all.
 * Every watermark lock of a commit is then taken in one global order, so two hubs' commits never
 * deadlock on watermarks (delivered rises, written behind, go in a transaction of their own).
 */
const ENSURE = `
  INSERT INTO watermarks (participant_id, conversation_id)
  SELECT * FROM unnest($1::text[], $2::text[]) AS v(p, c) ORDER BY p, c
  ON CONFLICT (participant_id, conversation_id) DO NOTHING`;
const LOCK = `
  SELECT 1 FROM watermarks w JOIN unnest($1::text[], $2::text[]) AS v(p, c) ON w.participant_id = v.p AND w.conversation_id = v.c
  ORDER BY w.participant_id, w.conversation_id FOR NO KEY UPDATE OF w`;
const CAS_EMAILED = `
  UPDATE watermarks SET emailed_up_to = $1, emailed_at = $2, email_id = $3
  WHERE participant_id = $4 AND conversation_id = $5 AND emailed_up_to = $6 AND seen_up_to = $7`;
const INSERT_EMAILED = `
  INSERT INTO watermarks (participant_id, conversation_id, emailed_up_to, emailed_at, email_id) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (participant_id, conversation_id) DO NOTHING`;
const LOG_EMAILED = `
  INSERT INTO watermark_rises (conversation_id, up_to, participant_id, kind, at, email_id, held_seqs, summarized_seqs)
  VALUES ($1, $2, $3, 'emailed', $4, $5, $6::jsonb, $7::jsonb) ON CONFLICT DO NOTHING`;
/** Per participant and kind, the earliest rise that reached the seq (the lowest emailed one: see SqliteWatermarks). */
const RECEIPTS = `
  SELECT DISTINCT ON (participant_id, kind) participant_id, kind, at, email_id, held_seqs, summarized_seqs
  FROM watermark_rises WHERE conversation_id = $1 AND up_to >= $2
  ORDER BY participant_id, kind, CASE kind WHEN 'emailed' THEN up_to ELSE at END`;

const params = (rows: readonly Rise[]) => [rows.map((r) => r.participantId), rows.map((r) => r.conversationId), rows.map((r) => r.upTo), rows.map((r) => r.at)];

/**
 * Watermarks and their rises on PostgreSQL. Seen rises are batched into each commit (one upsert for
 * all of them, coalesced per pair); delivered rises are written behind over DELIVERED_WINDOW_MS; the
 * emailed rise is commitEscalation's compare-and-set, which writes the outbox row in the same commit.
 * Every rise is "set to the greater" in one statement, so racing hubs never lower a watermark.
 */
export class PgWatermarks implements WatermarkStore, Batcher<WatermarkWrite, boolean>, CommitParticipant {
  /** Watermark rows are locked after conversation rows in every commit (see Batcher.order). */
  readonly order = 2;
  /** Delivered rises waiting for their window, by conversation then participant. */
  readonly delivered = new Map<string, Map<string, Rise>>();
  private deliveredTimer: NodeJS.Timeout | null = null;
  private deliveredDue = false;
  private takenDelivered: Rise[] | null = null;

  constructor(
    private readonly engine: PgEngine,
    private readonly outbox: PgOutbox,
  ) {
    engine.join(this);
  }

  // ─── Seen ────────────────────────────────────────────────────────────────────────────────────────

  raiseSeen(participantId: string, conversationId: string, upTo: number, at: number): Promise<boolean> {
    return this.engine.batch<WatermarkWrite, boolean>(this, { kind: 'seen', rise: { participantId, conversationId, upTo, at } });
  }

  /**
   * Batcher: every watermark write of a commit. Escalations first, in issue order (each a compare-and-
   * set), then the seen rises, coalesced per pair (highest upTo, first time) into one upsert in pair
   * order; each seen caller learns whether its pair rose.
   */
  async run(tx: Tx, items: WatermarkWrite[]): Promise<Array<boolean | Error>> {
    const pairs = new Map<string, Rise>();
    const escalations: Array<Extract<WatermarkWrite, { kind: 'emailed' }>> = [];
    for (const w of items) {
      if (w.kind === 'emailed') {
        escalations.push(w);
        continue;
      }
      const k = pairKey(w.rise);
      const p = pairs.get(k);
      if (!p) pairs.set(k, { ...w.rise });
      else if (w.rise.upTo > p.upTo) p.upTo = w.rise.upTo;
    }
    const emailed = new Map<WatermarkWrite, boolean>();
    if (escalations.length) {
      const keys = new Map<string, Pair>([...pairs].map(([k, r]) => [k, r]));
      for (const e of escalations) keys.set(pairKey(e.row), e.row);
      if (keys.size > 1) {
        const sorted = [...keys.values()].sort(byPair);
        const cols = [sorted.map((r) => r.participantId), sorted.map((r) => r.conversationId)];
        await tx.run(ENSURE, cols, 'pg_wm_ensure');
        await tx.query(LOCK, cols, 'pg_wm_lock');
      }
      const queued: NewEmailRow[] = [];
      for (const e of escalations) {
        const ok = await this.compareAndSetEmailed(tx, e.row, e.expect);
        emailed.set(e, ok);
        if (ok) queued.push(e.row);
      }
      await this.outbox.insert(tx, queued);
    }
    let rose = new Set<string>();
    if (pairs.size) {
      const rows = [...pairs.values()].sort(byPair);
      const returned = await tx.query<{ participant_id: string; conversation_id: string }>(SEEN, params(rows), 'pg_wm_seen');
      rose = new Set(returned.map((x) => pairKey({ participantId: x.participant_id, conversationId: x.conversation_id })));
      const logged = rows.filter((r) => rose.has(pairKey(r)));
      if (logged.length) await tx.run(LOG, [...params(logged), 'seen'], 'pg_wm_log');
    }
    return items.map((w) => (w.kind === 'emailed' ? emailed.get(w)! : rose.has(pairKey(w.rise))));
  }

  // ─── Delivered (written behind) ──────────────────────────────────────────────────────────────────

  recordDelivered(conversationId: string, participantIds: readonly string[], upTo: number, at: number): void {
    if (this.engine.isClosed) return;
    let byParticipant = this.delivered.get(conversationId);
    if (!byParticipant) this.delivered.set(conversationId, (byParticipant = new Map()));
    for (const p of participantIds) {
      const r = byParticipant.get(p);
      if (r) {
        if (upTo > r.upTo) r.upTo = upTo;
        continue;
      }
      byParticipant.set(p, { participantId: p, conversationId, upTo, at });
    }
    if (!this.deliveredTimer && !this.deliveredDue) {
      this.deliveredTimer = setTimeout(() => {
        this.deliveredTimer = null;
        this.deliveredDue = true;
        this.engine.schedule();
      }, DELIVERED_WINDOW_MS);
      this.deliveredTimer.unref();
    }
  }

  take(closing: boolean): number {
    this.takenDelivered = null;
    if (!this.deliveredDue && !closing) return 0;
    const take = closing ? Infinity : DELIVERED_PER_COMMIT;
    const rows: Rise[] = [];
    for (const [c, byParticipant] of this.delivered) {
      if (rows.length >= take) break;
      for (const r of byParticipant.values()) rows.push(r);
      this.delivered.delete(c);
    }
    if (this.delivered.size === 0) this.deliveredDue = false;
    if (!rows.length) return 0;
    this.takenDelivered = rows.sort(byPair);
    return rows.length;
  }

  async write(tx: Tx): Promise<void> {
    const rows = this.takenDelivered;
    if (!rows) return;
    await tx.run(DELIVERED, params(rows).map(arrayLiteral), 'pg_wm_delivered');
  }

  committed(): void {
    this.takenDelivered = null;
  }

  failed(): void {
    // Written behind: the contract lets a failure lose a window of delivery marks.
    this.takenDelivered = null;
  }

  pending(): boolean {
    return this.deliveredDue && this.delivered.size > 0;
  }

  closing(): void {
    if (this.deliveredTimer) clearTimeout(this.deliveredTimer);
    this.deliveredTimer = null;
  }

  // ─── Reads ───────────────────────────────────────────────────────────────────────────────────────

  async getWatermarks(participantId: string, conversationIds: readonly string[]): Promise<Map<string, WatermarkRow>> {
    const out = new Map<string, WatermarkRow>();
    if (!conversationIds.length) return out;
    const rows = await this.engine.read<WatermarkRowDb>(
      'SELECT conversation_id, delivered_up_to, seen_up_to, emailed_up_to FROM watermarks WHERE participant_id = $1 AND conversation_id = ANY($2::text[])',
      [participantId, conversationIds],
      'pg_wm_get',
    );
    for (const r of rows) out.set(r.conversation_id, toWatermark(participantId, r));
    return out;
  }

  async receiptTimes(m: Pick<Message, 'conversationId' | 'seq' | 'createdAt'>): Promise<Map<string, ReceiptTimes>> {
    const rows = await this.engine.read<ReceiptRowDb<Array<[number, number]>>>(RECEIPTS, [m.conversationId, m.seq], 'pg_wm_receipts');
    // The delivered rises still waiting are this hub's.
    return toReceiptTimes(m, rows, (runs) => runs, this.delivered.get(m.conversationId)?.values() ?? []);
  }

  // ─── Emailed: the escalation's compare-and-set ───────────────────────────────────────────────────

  commitEscalation(row: NewEmailRow, expect: { seenUpTo: number; emailedUpTo: number }): Promise<boolean> {
    return this.engine.batch<WatermarkWrite, boolean>(this, { kind: 'emailed', row, expect });
  }

  /**
   * Raise the emailed watermark only if (seen, emailed) are still what the caller read, and log the
   * rise. The UPDATE waits for a racing writer's commit on the row and then re-checks its WHERE on the
   * committed values (READ COMMITTED), so of racing commits on one expectation one matches.
   */
  private async compareAndSetEmailed(tx: Tx, row: NewEmailRow, expect: { seenUpTo: number; emailedUpTo: number }): Promise<boolean> {
    const updated = await tx.run(CAS_EMAILED, [row.upTo, row.createdAt, row.id, row.participantId, row.conversationId, expect.emailedUpTo, expect.seenUpTo], 'pg_wm_cas');
    if (updated === 0) {
      if (expect.emailedUpTo !== 0 || expect.seenUpTo !== 0) return false;
      const inserted = await tx.run(INSERT_EMAILED, [row.participantId, row.conversationId, row.upTo, row.createdAt, row.id], 'pg_wm_insert_emailed');
      if (inserted === 0) return false;
    }
    await tx.run(
      LOG_EMAILED,
      [row.conversationId, row.upTo, row.participantId, row.createdAt, row.id, JSON.stringify(toRuns(row.heldSeqs)), JSON.stringify(toRuns(row.summarizedSeqs))],
      'pg_wm_log_emailed',
    );
    return true;
  }
}
