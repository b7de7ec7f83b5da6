/** What an inbound email came to (SPEC §8): exactly one outcome each. */
export type InboundStatus = 'posted' | 'ignored' | 'rejected';

export interface InboundRow {
  id: string;
  /** The email's Message-ID (without angle brackets); one made from its bytes when it had none. */
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  receivedAt: number;
  status: InboundStatus;
  reason: string | null;
  conversationId: string | null;
  postedMessageId: string | null;
}

/** What the inbound log (GET /v1/inbound-emails) narrows to: each absent key keeps every row; ties in time go by id. */
export interface InboundListFilter {
  status?: InboundStatus;
  newestFirst?: boolean;
}

/** An outbox email as reply-by-email needs it: which conversation and recipient, up to which seq. */
export interface SentEmailRef {
  id: string;
  conversationId: string;
  participantId: string;
  upTo: number;
}

/**
 * Email in: the inbound log, reply-address bindings and bounced addresses.
 *
 * Contract (every adapter, any number of writers sharing the storage):
 * - Writes are durable on resolve and reject with ProtocolError `unavailable` when not.
 * - `recordInbound` is insert-if-absent by `messageId`: the first outcome of a Message-ID stays, a
 *   repeat resolves false and writes nothing.
 * - `replyRid` is get-or-create: one rid per (conversation, participant), whoever asks first.
 * - `pruneInbound` deletes rows received before the cutoff, raw included.
 */
export interface InboundStore {
  recordInbound(row: InboundRow, raw: Uint8Array): Promise<boolean>;
  inboundByMessageId(messageId: string): Promise<InboundRow | null>;
  /** Rows received at or after `since`, oldest first; `filter` keeps one outcome, or orders newest first. */
  listInbound(since: number, limit: number, filter?: InboundListFilter): Promise<InboundRow[]>;
  getInboundRaw(id: string): Promise<Uint8Array | null>;
  /** Inbound emails from this address received at or after `since` (loop detection). */
  countInboundFrom(address: string, since: number): Promise<number>;
  pruneInbound(before: number): Promise<number>;

  /** The rid bound to (conversation, participant): `candidate` if there was none. */
  replyRid(conversationId: string, participantId: string, candidate: string, at: number): Promise<string>;
  replyTarget(rid: string): Promise<{ conversationId: string; participantId: string } | null>;

  /** The outbox email whose Message-ID header is this (with angle brackets), if it was ours. */
  sentEmailByMessageId(messageIdHeader: string): Promise<SentEmailRef | null>;
  sentEmailById(id: string): Promise<SentEmailRef | null>;

  markBounced(address: string, status: string, at: number): Promise<void>;
  /** Every bounced address (lowercased). */
  bouncedAddresses(): Promise<string[]>;
}
