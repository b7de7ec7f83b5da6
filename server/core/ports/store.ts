import type { Message, UserPreferences, CustomerPreferences } from '../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, NewMessage, ParticipantRecord, ProjectRecord } from '../model.js';

/** Everything the hub keeps in memory about host-owned entities and conversations, loaded at start. */
export interface DirectorySnapshot {
  participants: ParticipantRecord[];
  projects: ProjectRecord[];
  items: ItemRecord[];
  conversations: ConversationRecord[];
}

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

export interface WatermarkRow {
  participantId: string;
  conversationId: string;
  deliveredUpTo: number;
  seenUpTo: number;
  emailedUpTo: number;
}

export interface NewEmailRow {
  id: string;
  kind: 'escalation';
  participantId: string;
  conversationId: string;
  toAddress: string;
  subject: string;
  /** The Message-ID header, fixed when the row is written (a resend reuses it). */
  messageIdHeader: string;
  /** Ids of the messages the email holds, ascending seq. */
  messageIds: string[];
  /** The highest seq in the email: the new emailed watermark. */
  upTo: number;
  /** Seqs of the messages the email holds (those of `messageIds`), ascending. */
  heldSeqs: number[];
  /**
   * Seqs of the earlier due messages the email left out over its caps and only counted ("12 earlier
   * messages are not shown"), ascending; empty when it holds every due message.
   */
  summarizedSeqs: number[];
  raw: string;
  createdAt: number;
}

export interface EmailSummary {
  id: string;
  to: string;
  subject: string;
  kind: 'escalation';
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  createdAt: number;
  sentAt: number | null;
  error: string | null;
  participantId: string;
  conversationId: string;
  messageIds: string[];
}

export interface EmailRow extends EmailSummary {
  raw: string;
  messageIdHeader: string;
  nextAttemptAt: number;
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
 * Durable storage. One writer (this hub process). Writes issued in the same event-loop turn are
 * committed together (group commit); a returned Promise resolves only after its write is durable
 * (committed to the WAL), so an `ack` sent on resolution survives a crash of the hub.
 * Writes resolve in the order they were issued.
 */
export interface Store {
  /** Load every participant, project, item and conversation (with members and last seq). */
  loadDirectory(): Promise<DirectorySnapshot>;

  /** Create or replace a participant with its preferences. */
  putParticipant(p: ParticipantRecord): Promise<void>;
  /**
   * Create a participant unless one with its id exists (just-in-time creation); resolves the stored
   * participant, which is `p` or the one that was there first. Safe with concurrent writers.
   */
  insertParticipantIfAbsent(p: ParticipantRecord): Promise<ParticipantRecord>;
  putPreferences(participantId: string, preferences: UserPreferences | CustomerPreferences): Promise<void>;
  /** Create or replace a project and its whole follower set. */
  putProject(p: ProjectRecord): Promise<void>;
  /** Create or replace an item and its whole follower set. */
  putItem(i: ItemRecord): Promise<void>;
  /** Create a conversation with its initial members. */
  createConversation(c: ConversationRecord): Promise<void>;

  /**
   * Append a message, assigning the next seq of its conversation (1, 2, 3… without gaps) at commit.
   * Idempotent on (conversationId, senderId, clientMsgId): a repeat stores nothing and returns the
   * first message with `duplicate: true`. With `joinAt`, the sender becomes a member in the same commit.
   */
  appendMessage(m: NewMessage, joinAt?: number): Promise<AppendResult>;

  /**
   * Record that messages up to `upTo` reached at least one open session of each participant. Fire
   * and forget: written behind (coalesced over a short window), never lowers a watermark.
   */
  recordDelivered(conversationId: string, participantIds: readonly string[], upTo: number, at: number): void;
  /** Raise the seen watermark (and delivered with it). Resolves true if it rose, false if upTo was not above it. */
  raiseSeen(participantId: string, conversationId: string, upTo: number, at: number): Promise<boolean>;

  getMessage(id: string): Promise<Message | null>;
  /** Messages of a conversation: `before`/`after` a seq (exclusive), or the latest `limit`. */
  listMessages(conversationId: string, q: HistoryQuery): Promise<HistoryPage>;
  /** The seq of the first message created at or after `at` (one above the last seq when there is none). */
  firstSeqAt(conversationId: string, at: number): Promise<number>;
  /** Watermarks of one participant in the given conversations (missing rows mean all zero). */
  getWatermarks(participantId: string, conversationIds: readonly string[]): Promise<Map<string, WatermarkRow>>;
  /** Messages above `afterSeq` not sent by `participantId`. */
  countUnseen(conversationId: string, participantId: string, afterSeq: number): Promise<number>;
  /**
   * Per participant: when their delivered / seen watermark first reached m's seq, and whether the
   * first email whose watermark reached it held or counted m (see ReceiptTimes).
   */
  receiptTimes(m: Pick<Message, 'conversationId' | 'seq' | 'createdAt'>): Promise<Map<string, ReceiptTimes>>;

  // ─── Escalation and the outbox ────────────────────────────────────────────────────────────────

  /**
   * Commit an escalation email: insert the outbox row and raise (participant, conversation)'s emailed
   * watermark to `row.upTo`, logging which seqs it held and counted (`heldSeqs`, `summarizedSeqs`:
   * receipts read them) — only if the watermarks are still exactly what the caller read
   * (`expect`). This compare-and-set, in the same transaction as the row, is what makes "never
   * twice" hold across restarts. Resolves false (nothing written) when the watermarks moved.
   */
  commitEscalation(row: NewEmailRow, expect: { seenUpTo: number; emailedUpTo: number }): Promise<boolean>;
  /** Message-ID headers of earlier emails to this participant about this conversation, oldest first. */
  threadMessageIds(conversationId: string, participantId: string, limit: number): Promise<string[]>;
  /** Queued emails whose next attempt is due, oldest first. */
  dueEmails(now: number, limit: number): Promise<EmailRow[]>;
  /** The earliest next attempt of any queued email, or null when none is queued. */
  nextEmailAttemptAt(): Promise<number | null>;
  /** Record a send attempt's outcome. */
  markEmail(id: string, outcome: { status: 'sent'; at: number } | { status: 'queued'; nextAttemptAt: number; error: string } | { status: 'failed'; error: string }): Promise<void>;
  /** Emails created at or after `since`, oldest first (without the raw MIME). */
  listEmails(since: number, limit: number): Promise<EmailSummary[]>;
  getEmailRaw(id: string): Promise<string | null>;
  /** Delete sent and failed emails created before `before`; resolves the number deleted. */
  pruneEmails(before: number): Promise<number>;

  /** True once the database is open and migrated. */
  isReady(): boolean;
  /** Commit everything queued, then close. Later calls reject with `unavailable`. */
  close(): Promise<void>;
}
