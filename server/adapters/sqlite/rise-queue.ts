import type Database from 'better-sqlite3';
import type { CommitParticipant, SqliteEngine } from './engine.js';

/**
 * Delivered rises are written behind, coalesced per (participant, conversation) over this window: a
 * busy conversation costs one watermark write per recipient per window, not one per message. A
 * crash loses at most this much delivery information (never a message, a seen or an email), and a
 * receipt's deliveredAt is exact for a recipient who was online, within this window otherwise.
 */
export const DELIVERED_WINDOW_MS = 250;
/** Delivered rises written per commit once their window is over. */
const DELIVERED_PER_COMMIT = 256;
/** Rows per multi-row watermark upsert. */
const RISE_CHUNK = 64;

export interface PendingRise {
  kind: 'delivered' | 'seen';
  participantId: string;
  conversationId: string;
  upTo: number;
  /** Time of the first rise folded into this one: what the log records. */
  at: number;
  waiters: Array<(rose: boolean) => void>;
}

/**
 * The write-behind queue of watermark rises, handed to each commit: seen rises ride the next commit
 * (coalesced per pair within it); delivered rises wait for their window, then go out about
 * DELIVERED_PER_COMMIT a commit. Rises only ever raise: the upserts' WHERE keeps a watermark from falling.
 */
export class RiseQueue implements CommitParticipant {
  private rises = new Map<string, PendingRise>();
  /** Delivered rises waiting for their window, by conversation then participant (existing ids as keys: no key to build). */
  readonly delivered = new Map<string, Map<string, PendingRise>>();
  private deliveredTimer: NodeJS.Timeout | null = null;
  private deliveredDue = false;
  /** What the current commit took. */
  private takenSeen: Map<string, PendingRise> | null = null;
  private takenDelivered: PendingRise[] | null = null;
  private readonly riseResults = new Map<PendingRise, boolean>();
  private readonly chunkStatements = new Map<string, Database.Statement>();

  constructor(private readonly engine: SqliteEngine) {
    engine.join(this);
  }

  queueDelivered(conversationId: string, participantIds: readonly string[], upTo: number, at: number): void {
    let byParticipant = this.delivered.get(conversationId);
    if (!byParticipant) this.delivered.set(conversationId, (byParticipant = new Map()));
    for (const p of participantIds) {
      const r = byParticipant.get(p);
      if (r) {
        if (upTo > r.upTo) r.upTo = upTo;
        continue;
      }
      byParticipant.set(p, { kind: 'delivered', participantId: p, conversationId, upTo, at, waiters: [] });
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

  queueSeen(participantId: string, conversationId: string, upTo: number, at: number): PendingRise {
    const key = `${participantId}\u0000${conversationId}`;
    let r = this.rises.get(key);
    if (!r) {
      r = { kind: 'seen', participantId, conversationId, upTo, at, waiters: [] };
      this.rises.set(key, r);
      this.engine.schedule();
    } else if (upTo > r.upTo) {
      r.upTo = upTo;
    }
    return r;
  }

  // ─── CommitParticipant ───────────────────────────────────────────────────────────────────────────

  take(closing: boolean): number {
    let delivered: PendingRise[] | null = null;
    if (this.deliveredDue || closing) {
      // A window's rises go out about DELIVERED_PER_COMMIT at a time (whole conversations), oldest
      // first, one commit per event-loop turn: writing thousands at once would stall every ack.
      const take = closing ? Infinity : DELIVERED_PER_COMMIT;
      delivered = [];
      for (const [c, byParticipant] of this.delivered) {
        if (delivered.length >= take) break;
        for (const r of byParticipant.values()) delivered.push(r);
        this.delivered.delete(c);
      }
      if (this.delivered.size === 0) this.deliveredDue = false;
      else setImmediate(() => this.engine.schedule());
      if (delivered.length === 0) delivered = null;
    }
    this.takenDelivered = delivered;
    if (this.rises.size) {
      this.takenSeen = this.rises;
      this.rises = new Map();
    } else this.takenSeen = null;
    return (delivered?.length ?? 0) + (this.takenSeen?.size ?? 0);
  }

  write(): void {
    if (this.takenDelivered) this.applyDelivered(this.takenDelivered);
    if (this.takenSeen) this.applySeen([...this.takenSeen.values()], this.riseResults);
  }

  committed(): void {
    for (const [r, rose] of this.riseResults) for (const w of r.waiters) w(rose);
    this.riseResults.clear();
    this.takenSeen = null;
    this.takenDelivered = null;
  }

  failed(): void {
    if (this.takenSeen) for (const r of this.takenSeen.values()) for (const w of r.waiters) w(false);
    this.riseResults.clear();
    this.takenSeen = null;
    this.takenDelivered = null;
  }

  pending(): boolean {
    return this.rises.size > 0 || this.deliveredDue;
  }

  closing(): void {
    if (this.deliveredTimer) clearTimeout(this.deliveredTimer);
  }

  // ─── The writes ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Write seen rises as multi-row upserts (RISE_CHUNK rows a statement): the WHERE keeps a watermark
   * from ever falling, RETURNING says which rows rose (their waiters learn it), and those rises go to
   * the log in one insert.
   */
  private applySeen(rows: PendingRise[], rose: Map<PendingRise, boolean>): void {
    for (let i = 0; i < rows.length; i += RISE_CHUNK) {
      const chunk = rows.slice(i, i + RISE_CHUNK);
      const params: Array<string | number> = [];
      for (const r of chunk) params.push(r.participantId, r.conversationId, r.upTo, r.at, r.upTo, r.at);
      const returned = this.chunkStatement('seen', chunk.length).all(...params) as Array<{ participant_id: string; conversation_id: string }>;
      if (returned.length === 0) {
        for (const r of chunk) rose.set(r, false);
        continue;
      }
      const keys = new Set(returned.map((x) => `${x.participant_id}\u0000${x.conversation_id}`));
      const log: Array<string | number> = [];
      for (const r of chunk) {
        const up = keys.has(`${r.participantId}\u0000${r.conversationId}`);
        rose.set(r, up);
        if (up) log.push(r.conversationId, r.upTo, r.participantId, r.at);
      }
      this.chunkStatement('logSeen', log.length / 4).run(...log);
    }
  }

  /**
   * Write delivered rises: the upsert's WHERE keeps each watermark from falling, and every rise goes
   * to the log, even one the watermark had already passed (through a seen rise, say): its time is
   * then a later candidate for min(at) in receiptTimes and changes nothing. No RETURNING needed.
   */
  private applyDelivered(rows: PendingRise[]): void {
    for (let i = 0; i < rows.length; i += RISE_CHUNK) {
      const chunk = rows.slice(i, i + RISE_CHUNK);
      const marks: Array<string | number> = [];
      const log: Array<string | number> = [];
      for (const r of chunk) {
        marks.push(r.participantId, r.conversationId, r.upTo, r.at);
        log.push(r.conversationId, r.upTo, r.participantId, r.at);
      }
      this.chunkStatement('delivered', chunk.length).run(...marks);
      this.chunkStatement('logDelivered', chunk.length).run(...log);
    }
  }

  /** Multi-row statements, prepared once per (kind, row count). */
  private chunkStatement(kind: 'delivered' | 'seen' | 'logDelivered' | 'logSeen', rows: number): Database.Statement {
    const key = `${kind}${rows}`;
    let st = this.chunkStatements.get(key);
    if (st) return st;
    const values = (tuple: string) => Array.from({ length: rows }, () => tuple).join(', ');
    let sql: string;
    if (kind === 'logDelivered' || kind === 'logSeen') {
      const k = kind === 'logDelivered' ? 'delivered' : 'seen';
      sql = `INSERT OR IGNORE INTO watermark_rises (conversation_id, up_to, participant_id, at, kind) VALUES ${values(`(?, ?, ?, ?, '${k}')`)}`;
    } else if (kind === 'delivered') {
      sql = `INSERT INTO watermarks (participant_id, conversation_id, delivered_up_to, delivered_at) VALUES ${values('(?, ?, ?, ?)')}
        ON CONFLICT (participant_id, conversation_id) DO UPDATE SET delivered_up_to = excluded.delivered_up_to, delivered_at = excluded.delivered_at
        WHERE excluded.delivered_up_to > watermarks.delivered_up_to`;
    } else {
      // Seeing implies delivery: a seen rise lifts delivered with it (a new row too).
      sql = `INSERT INTO watermarks (participant_id, conversation_id, seen_up_to, seen_at, delivered_up_to, delivered_at) VALUES ${values('(?, ?, ?, ?, ?, ?)')}
        ON CONFLICT (participant_id, conversation_id) DO UPDATE SET
          seen_up_to = excluded.seen_up_to, seen_at = excluded.seen_at,
          delivered_up_to = max(watermarks.delivered_up_to, excluded.seen_up_to),
          delivered_at = CASE WHEN excluded.seen_up_to > watermarks.delivered_up_to THEN excluded.seen_at ELSE watermarks.delivered_at END
        WHERE excluded.seen_up_to > watermarks.seen_up_to
        RETURNING participant_id, conversation_id`;
    }
    st = this.engine.sqlite.prepare(sql);
    this.chunkStatements.set(key, st);
    return st;
  }
}
