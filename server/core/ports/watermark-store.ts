import type { Message } from '../../../protocol/index.js';
import type { NewEmailRow } from './outbox-store.js';

export interface WatermarkRow {
  participantId: string;
  conversationId: string;
  deliveredUpTo: number;
  seenUpTo: number;
  emailedUpTo: number;
}

/**
 * The earliest rise of each kind that reached a message's seq, per participant. The emailed rise is
 * the first email whose watermark reached the seq — the only email that can have held or counted it.
 */
export interface ReceiptTimes {
  participantId: string;
  deliveredAt: number | null;
  seenAt: number | null;
  /** That email's time and id, when it held or counted the message (`emailed` not null), else null. */
  emailedAt: number | null;
  emailId: string | null;
  /**
   * What that email did with the message: `held` its text, or `summarized` it (counted it among the
   * earlier messages it left out over its caps); null when it did neither (the message was seen
   * first, or was not email-eligible for the participant) or no email reached it. `covered` for an
   * email logged before migration 0004, which did not record what it held: its watermark covers the
   * message, nothing more is known.
   */
  emailed: 'held' | 'summarized' | 'covered' | null;
}

/**
 * Per (participant, conversation) watermarks — delivered, seen, emailed: seqs that only rise — and the
 * log of their rises, which receipts read (SPEC's cumulative seen; DESIGN §3).
 *
 * Contract (every adapter, any number of writers — hubs — sharing the storage):
 * - **Only rise**: a write never lowers a watermark, whatever the order in which racing writers'
 *   rises arrive; each rise is applied as "set to max(stored, upTo)" atomically in the storage, never
 *   as a read in the writer followed by a write.
 * - Seeing implies delivery: a seen rise lifts delivered to at least the same seq.
 * - `raiseSeen` is **durable on resolve** (committed, survives a crash of the writer) and resolves
 *   whether this call raised the watermark. `recordDelivered` is fire and forget, written behind:
 *   a crash may lose a short window of delivery marks (the adapter states how long), never a message,
 *   a seen mark or an email.
 * - `commitEscalation` is a **compare-and-set**: the emailed rise and its outbox row commit together,
 *   atomically, only if (seenUpTo, emailedUpTo) are still exactly what the caller read; with racing
 *   writers at most one of them succeeds for the same expected state. This is what makes "never
 *   emailed twice" hold across restarts and across hubs.
 * - Reads see every write that resolved before the read began.
 */
export interface WatermarkStore {
  /**
   * Record that messages up to `upTo` reached at least one open session of each participant. Fire
   * and forget: written behind (coalesced over a short window), never lowers a watermark.
   */
  recordDelivered(conversationId: string, participantIds: readonly string[], upTo: number, at: number): void;
  /** Raise the seen watermark (and delivered with it). Resolves true if it rose, false if upTo was not above it. */
  raiseSeen(participantId: string, conversationId: string, upTo: number, at: number): Promise<boolean>;
  /** Watermarks of one participant in the given conversations (missing rows mean all zero). */
  getWatermarks(participantId: string, conversationIds: readonly string[]): Promise<Map<string, WatermarkRow>>;
  /**
   * Per participant: when their delivered / seen watermark first reached m's seq, and whether the
   * first email whose watermark reached it held or counted m (see ReceiptTimes). Delivery marks still
   * waiting to be written behind count already.
   */
  receiptTimes(m: Pick<Message, 'conversationId' | 'seq' | 'createdAt'>): Promise<Map<string, ReceiptTimes>>;
  /**
   * Commit an escalation email: insert the outbox row and raise (participant, conversation)'s emailed
   * watermark to `row.upTo`, logging which seqs it held and counted (`heldSeqs`, `summarizedSeqs`:
   * receipts read them) — only if the watermarks are still exactly what the caller read
   * (`expect`; a pair without a row reads as 0, 0). Resolves true once both are committed, false
   * (nothing written) when the watermarks moved.
   */
  commitEscalation(row: NewEmailRow, expect: { seenUpTo: number; emailedUpTo: number }): Promise<boolean>;
}
