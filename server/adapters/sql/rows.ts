import type { Message, Notification } from '../../../protocol/index.js';
import type { InboundRow, SentEmailRef } from '../../core/ports/index.js';

/**
 * Rows as the SQLite and PostgreSQL adapters read them, and their mapping to records: the tables and
 * their column names are the same in both dialects (only the schema files differ), so one copy serves both.
 */

/** A `messages` row. */
export type MessageRow = {
  id: string;
  conversation_id: string;
  seq: number;
  sender_id: string;
  sender_kind: Message['senderKind'];
  body: string;
  format: Message['format'];
  client_msg_id: string;
  source: Message['source'];
  created_at: number;
};

/** The columns of a `messages` row, in insert order. */
export const MESSAGE_COLUMNS = 'id, conversation_id, seq, sender_id, sender_kind, body, format, client_msg_id, source, created_at';

export function toMessage(r: MessageRow): Message {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    seq: r.seq,
    senderId: r.sender_id,
    senderKind: r.sender_kind,
    body: r.body,
    format: r.format,
    createdAt: r.created_at,
    clientMsgId: r.client_msg_id,
    source: r.source,
  };
}

/** A `notifications` row, without its participant. */
export type NotificationRowDb = {
  id: string;
  definition_id: string | null;
  event_id: string | null;
  broadcast_id: string | null;
  subject: string;
  body: string;
  item_id: string | null;
  appointment_id: string | null;
  created_at: number;
  seen_at: number | null;
};

export const toNotification = (r: NotificationRowDb): Notification => ({
  id: r.id,
  definitionId: r.definition_id,
  eventId: r.event_id,
  broadcastId: r.broadcast_id,
  subject: r.subject,
  body: r.body,
  itemId: r.item_id,
  appointmentId: r.appointment_id,
  createdAt: r.created_at,
  seenAt: r.seen_at,
});

/** An `inbound_emails` row (without the raw message); `List` is how the dialect holds the To addresses. */
export type InboundRowDb<List> = {
  id: string;
  message_id: string;
  from_address: string;
  to_addresses: List;
  subject: string;
  received_at: number;
  status: InboundRow['status'];
  reason: string | null;
  conversation_id: string | null;
  posted_message_id: string | null;
};

export const INBOUND_COLUMNS = 'id, message_id, from_address, to_addresses, subject, received_at, status, reason, conversation_id, posted_message_id';

export const toInboundRow = <List>(r: InboundRowDb<List>, to: (list: List) => string[]): InboundRow => ({
  id: r.id,
  messageId: r.message_id,
  from: r.from_address,
  to: to(r.to_addresses),
  subject: r.subject,
  receivedAt: r.received_at,
  status: r.status,
  reason: r.reason,
  conversationId: r.conversation_id,
  postedMessageId: r.posted_message_id,
});

/** A sent email as an inbound reply finds it (`id, conversation_id, participant_id, up_to` of `emails`). */
export type SentRowDb = { id: string; conversation_id: string; participant_id: string; up_to: number };

export const toSentEmailRef = (r: SentRowDb | undefined): SentEmailRef | null =>
  r ? { id: r.id, conversationId: r.conversation_id, participantId: r.participant_id, upTo: r.up_to } : null;
