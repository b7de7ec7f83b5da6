import type { Message } from '../../../protocol/index.js';
import type { NewMessage } from '../model.js';

export interface AppendResult {
  message: Message;
  /** True when (conversation, sender, clientMsgId) was already stored; `message` is the first one. */
  duplicate: boolean;
}

export interface HistoryPage {
  /** Ascending seq. */
  messages: Message[];
  /** More messages exist beyond this page in the direction asked (older for `before` and latest, newer for `after`). */
  hasMore: boolean;
}

export interface HistoryQuery {
  /** Exclusive bounds; neither: the latest `limit`. */
  before?: number | undefined;
  after?: number | undefined;
  limit: number;
  /** The lowest seq the asker may read (a customer's relation began later): nothing below it is listed. */
  fromSeq?: number | undefined;
}

/**
 * Messages: append with seq and idempotency, history, counts.
 *
 * Contract (every adapter, any number of writers — hubs — appending concurrently):
 * - **Seq**: each conversation's messages carry seq 1, 2, 3… without gaps and without repeats, however
 *   many appends race on however many writers. A seq is assigned in the commit that stores the message,
 *   so a failed commit consumes none.
 * - **Idempotent append** on (conversationId, senderId, clientMsgId): a repeat — sequential or
 *   concurrent, from any writer — stores nothing, consumes no seq, and resolves the first stored
 *   message with `duplicate: true`. Exactly one of racing duplicates resolves `duplicate: false`.
 * - **Durable on resolve**: `appendMessage` resolves only once the message is committed (it survives a
 *   crash of the writer), so an `ack` sent on resolution is never lost; on a failed commit it rejects
 *   with ProtocolError `unavailable` and nothing is stored.
 * - **Atomic**: with `joinAt`, the membership and the message commit together or not at all.
 * - Appends issued by one caller to one conversation get ascending seqs in the order they were issued
 *   and resolve in that order.
 * - Reads see every append that resolved before the read began (read-your-writes).
 */
export interface MessageStore {
  /**
   * Append a message, assigning the next seq of its conversation (1, 2, 3… without gaps) at commit.
   * Idempotent on (conversationId, senderId, clientMsgId): a repeat stores nothing and returns the
   * first message with `duplicate: true`. With `joinAt`, the sender becomes a member in the same commit
   * (if not one already).
   */
  appendMessage(m: NewMessage, joinAt?: number): Promise<AppendResult>;

  getMessage(id: string): Promise<Message | null>;
  /**
   * Messages of a conversation, ascending seq: `after` a seq (the oldest `limit` above it), `before`
   * a seq (the newest `limit` below it), or the latest `limit`; never below `fromSeq`.
   */
  listMessages(conversationId: string, q: HistoryQuery): Promise<HistoryPage>;
  /** The seq of the first message created at or after `at` (one above the last seq when there is none). */
  firstSeqAt(conversationId: string, at: number): Promise<number>;
  /** Messages above `afterSeq` not sent by `participantId`. */
  countUnseen(conversationId: string, participantId: string, afterSeq: number): Promise<number>;
}
