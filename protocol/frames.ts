import { z } from 'zod';
import {
  BodySchema,
  FormatSchema,
  MessageSchema,
  ParticipantIdSchema,
  ParticipantKindSchema,
  PresenceSchema,
  PresenceStateSchema,
  ReceiptSchema,
  ServerIdSchema,
  SeqSchema,
  SummarySchema,
  TimeSchema,
  text,
} from './model.js';
import { ERROR_CODES } from './codes.js';
import { NotificationSchema } from './notifications.js';

/** A request id: 1–64 chars, unique per connection; echoed as `re` in the answer. */
export const RequestIdSchema = z.string().min(1).max(64);
const limit = z.number().int().min(1).max(200);

// ─── Client → server (SPEC §3). Every object is strict: an extra field is a bad frame. ─────────────

/** First frame of every connection, within 10 s. Answered by `welcome`, or `error` and a close. */
export const HelloFrameSchema = z.strictObject({
  t: z.literal('hello'),
  v: z.literal(1),
  token: z.string().min(1).max(8192),
  client: z.strictObject({ name: z.string().max(100).optional(), version: z.string().max(100).optional() }).optional(),
});
/**
 * Post a message. Idempotent on (sender, conversationId, clientMsgId): a repeat is answered with the
 * first message's `ack` and `duplicate: true`. An `ack` means the message is committed to storage.
 */
export const SendFrameSchema = z.strictObject({
  t: z.literal('send'),
  id: RequestIdSchema,
  conversationId: ServerIdSchema,
  clientMsgId: z.string().min(1).max(64),
  body: BodySchema,
  format: FormatSchema.optional(),
});
/** Raise the seen watermark: cumulative, a lower value is ignored, a value above the last seq is clamped. */
export const SeenFrameSchema = z.strictObject({ t: z.literal('seen'), conversationId: ServerIdSchema, upTo: SeqSchema });
/** The participant is typing; relayed to everyone who may see the conversation but the typist. */
export const TypingFrameSchema = z.strictObject({ t: z.literal('typing'), conversationId: ServerIdSchema });
/** This session's focus; a participant is `active` when any session is. */
export const PresenceFrameSchema = z.strictObject({ t: z.literal('presence'), state: z.enum(['active', 'away']) });
/** Open a conversation: `direct` for a user, `inbox` for a customer. Answered by `conversation`. */
export const OpenFrameSchema = z.strictObject({
  t: z.literal('open'),
  id: RequestIdSchema,
  members: z.array(ParticipantIdSchema).max(50),
  subject: text(1, 200).optional(),
});
/** List the conversations the participant may see, most recent activity first; page with `cursor`. */
export const ConversationsFrameSchema = z.strictObject({
  t: z.literal('conversations'),
  id: RequestIdSchema,
  limit: limit.optional(),
  cursor: z.string().min(1).max(256).optional(),
});
/** Messages in ascending seq: before a seq, after a seq, or (neither) the latest `limit`. */
export const HistoryFrameSchema = z
  .strictObject({
    t: z.literal('history'),
    id: RequestIdSchema,
    conversationId: ServerIdSchema,
    before: SeqSchema.optional(),
    after: SeqSchema.optional(),
    limit: limit.optional(),
  })
  .refine((f) => f.before === undefined || f.after === undefined, { message: 'give before or after, not both' });
/** Who was delivered, saw, or was emailed a message (SPEC §3 Receipt). */
export const ReceiptsFrameSchema = z.strictObject({ t: z.literal('receipts'), id: RequestIdSchema, messageId: ServerIdSchema });
/** Presence of participants; with `watch`, this session also gets their later changes. */
export const WhoFrameSchema = z.strictObject({
  t: z.literal('who'),
  id: RequestIdSchema,
  participantIds: z.array(ParticipantIdSchema).min(1).max(200),
  watch: z.boolean().optional(),
});
export const PingFrameSchema = z.strictObject({ t: z.literal('ping'), id: RequestIdSchema });
/** Extend the session with a newer token for the same participant; without one, the session ends at the token's `exp`. */
export const RefreshFrameSchema = z.strictObject({ t: z.literal('refresh'), id: RequestIdSchema, token: z.string().min(1).max(8192) });
/** This participant's web notifications, newest first; `before` continues after a notification id. */
export const NotificationsFrameSchema = z.strictObject({
  t: z.literal('notifications'),
  id: RequestIdSchema,
  before: ServerIdSchema.optional(),
  limit: limit.optional(),
});
/** Mark web notifications of this participant seen (ids of others are ignored). No answer. */
export const NotificationSeenFrameSchema = z.strictObject({
  t: z.literal('notification_seen'),
  ids: z.array(ServerIdSchema).min(1).max(200),
});

export const CLIENT_FRAME_SCHEMAS = {
  hello: HelloFrameSchema,
  send: SendFrameSchema,
  seen: SeenFrameSchema,
  typing: TypingFrameSchema,
  presence: PresenceFrameSchema,
  open: OpenFrameSchema,
  conversations: ConversationsFrameSchema,
  history: HistoryFrameSchema,
  receipts: ReceiptsFrameSchema,
  who: WhoFrameSchema,
  ping: PingFrameSchema,
  refresh: RefreshFrameSchema,
  notifications: NotificationsFrameSchema,
  notification_seen: NotificationSeenFrameSchema,
} as const;
export type ClientFrameType = keyof typeof CLIENT_FRAME_SCHEMAS;
export type HelloFrame = z.infer<typeof HelloFrameSchema>;
export type SendFrame = z.infer<typeof SendFrameSchema>;
export type SeenFrame = z.infer<typeof SeenFrameSchema>;
export type TypingFrame = z.infer<typeof TypingFrameSchema>;
export type PresenceFrame = z.infer<typeof PresenceFrameSchema>;
export type OpenFrame = z.infer<typeof OpenFrameSchema>;
export type ConversationsFrame = z.infer<typeof ConversationsFrameSchema>;
export type HistoryFrame = z.infer<typeof HistoryFrameSchema>;
export type ReceiptsFrame = z.infer<typeof ReceiptsFrameSchema>;
export type WhoFrame = z.infer<typeof WhoFrameSchema>;
export type PingFrame = z.infer<typeof PingFrameSchema>;
export type RefreshFrame = z.infer<typeof RefreshFrameSchema>;
export type NotificationsFrame = z.infer<typeof NotificationsFrameSchema>;
export type NotificationSeenFrame = z.infer<typeof NotificationSeenFrameSchema>;
export type ClientFrame = { [K in ClientFrameType]: z.infer<(typeof CLIENT_FRAME_SCHEMAS)[K]> }[ClientFrameType];

// ─── Server → client ────────────────────────────────────────────────────────────────────────────

export const WelcomeFrameSchema = z.object({
  t: z.literal('welcome'),
  v: z.literal(1),
  sessionId: z.string(),
  participant: z.object({ id: z.string(), kind: ParticipantKindSchema, name: z.string() }),
  serverTime: TimeSchema,
  heartbeatMs: z.number().int(),
  limits: z.object({ maxBodyChars: z.number().int(), maxFrameBytes: z.number().int() }),
});
export const AckFrameSchema = z.object({
  t: z.literal('ack'),
  re: z.string(),
  conversationId: z.string(),
  messageId: z.string(),
  seq: z.number().int().positive(),
  createdAt: TimeSchema,
  duplicate: z.boolean(),
});
export const MessageFrameSchema = z.object({ t: z.literal('message'), message: MessageSchema });
export const NotifyReasonSchema = z.enum(['from_customer', 'reply_to_customer', 'internal']);
export type NotifyReason = z.infer<typeof NotifyReasonSchema>;
export const NotifyFrameSchema = z.object({
  t: z.literal('notify'),
  conversationId: z.string(),
  messageId: z.string(),
  seq: z.number().int().positive(),
  reason: NotifyReasonSchema,
});
export const ReceiptFrameSchema = z.object({
  t: z.literal('receipt'),
  conversationId: z.string(),
  participantId: z.string(),
  kind: z.enum(['seen', 'emailed']),
  upTo: SeqSchema,
  at: TimeSchema,
});
export const TypingEventFrameSchema = z.object({ t: z.literal('typing'), conversationId: z.string(), participantId: z.string() });
export const PresenceEventFrameSchema = PresenceSchema.extend({ t: z.literal('presence') });
export const ConversationFrameSchema = z.object({ t: z.literal('conversation'), re: z.string().optional(), conversation: SummarySchema });
export const ConversationsReplyFrameSchema = z.object({
  t: z.literal('conversations'),
  re: z.string(),
  conversations: z.array(SummarySchema),
  cursor: z.string().nullable(),
});
export const HistoryReplyFrameSchema = z.object({
  t: z.literal('history'),
  re: z.string(),
  conversationId: z.string(),
  messages: z.array(MessageSchema),
  hasMore: z.boolean(),
});
export const ReceiptsReplyFrameSchema = z.object({
  t: z.literal('receipts'),
  re: z.string(),
  messageId: z.string(),
  conversationId: z.string(),
  recipients: z.array(ReceiptSchema),
});
export const WhoReplyFrameSchema = z.object({ t: z.literal('who'), re: z.string(), presence: z.array(PresenceSchema) });
export const PongFrameSchema = z.object({ t: z.literal('pong'), re: z.string(), serverTime: TimeSchema });
export const RefreshedFrameSchema = z.object({ t: z.literal('refreshed'), re: z.string(), expiresAt: TimeSchema });
export const NotificationFrameSchema = z.object({ t: z.literal('notification'), notification: NotificationSchema });
export const NotificationsReplyFrameSchema = z.object({
  t: z.literal('notifications'),
  re: z.string(),
  notifications: z.array(NotificationSchema),
  unseen: z.number().int().nonnegative(),
  hasMore: z.boolean(),
});
export const ErrorFrameSchema = z.object({ t: z.literal('error'), re: z.string().optional(), code: z.enum(ERROR_CODES), message: z.string() });

export const ServerFrameSchema = z.discriminatedUnion('t', [
  WelcomeFrameSchema,
  AckFrameSchema,
  MessageFrameSchema,
  NotifyFrameSchema,
  ReceiptFrameSchema,
  TypingEventFrameSchema,
  PresenceEventFrameSchema,
  ConversationFrameSchema,
  ConversationsReplyFrameSchema,
  HistoryReplyFrameSchema,
  ReceiptsReplyFrameSchema,
  WhoReplyFrameSchema,
  PongFrameSchema,
  RefreshedFrameSchema,
  NotificationFrameSchema,
  NotificationsReplyFrameSchema,
  ErrorFrameSchema,
]);
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
export type WelcomeFrame = z.infer<typeof WelcomeFrameSchema>;
export type AckFrame = z.infer<typeof AckFrameSchema>;
export type MessageFrame = z.infer<typeof MessageFrameSchema>;
export type NotifyFrame = z.infer<typeof NotifyFrameSchema>;
export type ReceiptFrame = z.infer<typeof ReceiptFrameSchema>;
export type TypingEventFrame = z.infer<typeof TypingEventFrameSchema>;
export type PresenceEventFrame = z.infer<typeof PresenceEventFrameSchema>;
export type ConversationFrame = z.infer<typeof ConversationFrameSchema>;
export type ConversationsReplyFrame = z.infer<typeof ConversationsReplyFrameSchema>;
export type HistoryReplyFrame = z.infer<typeof HistoryReplyFrameSchema>;
export type ReceiptsReplyFrame = z.infer<typeof ReceiptsReplyFrameSchema>;
export type WhoReplyFrame = z.infer<typeof WhoReplyFrameSchema>;
export type PongFrame = z.infer<typeof PongFrameSchema>;
export type RefreshedFrame = z.infer<typeof RefreshedFrameSchema>;
export type NotificationFrame = z.infer<typeof NotificationFrameSchema>;
export type NotificationsReplyFrame = z.infer<typeof NotificationsReplyFrameSchema>;
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;

export { PresenceStateSchema };
