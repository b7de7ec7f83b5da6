import { z } from 'zod';
import { ParticipantIdSchema, TimeSchema, text, wellFormed } from './model.js';
import { nonBlankText } from './text.js';

/**
 * Notification rules (NOTIFICATIONS.md §2–§3, SPEC §3 Notification): the definitions an admin writes,
 * the events the host app posts, the audit of what each event delivered, and the web notification.
 * Input schemas are strict (an unknown field is 400 `invalid`); defaults fill what a PUT omits.
 */

const label = wellFormed(200).min(1);
const labels = z.array(label).max(1000);
const address = z.email().max(254);

export const NotificationTypeSchema = z.enum(['ticket', 'appointment']);
export type NotificationType = z.infer<typeof NotificationTypeSchema>;
export const ValiditySchema = z.enum(['valid', 'invalid', 'invalid-temporarily']);
export type Validity = z.infer<typeof ValiditySchema>;
export const TransportSchema = z.enum(['email', 'web', 'sms', 'message']);
export type Transport = z.infer<typeof TransportSchema>;
/** The transports a user may switch in preferences (`message` posts into a conversation: not personal). */
export const PersonalTransportSchema = z.enum(['email', 'web', 'sms']);
export type PersonalTransport = z.infer<typeof PersonalTransportSchema>;

/** The host's event name, matched exactly (OTOBO's names work as they are). */
export const EventTypeSchema = z.string().regex(/^[A-Za-z0-9_:-]{1,100}$/, 'an event type is 1–100 chars of [A-Za-z0-9_:-]');

/** OTOBO's recipient relations (§3). */
export const RecipientRelationSchema = z.enum([
  'AgentCreateBy',
  'AgentOwner',
  'AgentResponsible',
  'AgentWatcher',
  'AgentWritePermissions',
  'AgentMyQueues',
  'AgentMyServices',
  'AgentMyQueuesMyServices',
  'AllRecipientsFirstArticle',
  'AllRecipientsLastArticle',
  'Customer',
  'AppointmentAgentReadPermissions',
  'AppointmentAgentWritePermissions',
  'AppointmentResource',
]);
export type RecipientRelation = z.infer<typeof RecipientRelationSchema>;

export const SenderKindSchema = z.enum(['user', 'customer', 'system']);
export type SenderKind = z.infer<typeof SenderKindSchema>;
export const ArticleChannelSchema = z.enum(['email', 'phone', 'internal', 'chat']);
export type ArticleChannel = z.infer<typeof ArticleChannelSchema>;

export const DefinitionFilterSchema = z.strictObject({
  status: labels.optional(),
  priority: labels.optional(),
  queue: labels.optional(),
  service: labels.optional(),
  type: labels.optional(),
  lock: z.array(z.enum(['unlock', 'lock', 'tmp_lock'])).max(3).optional(),
  customerId: labels.optional(),
  customerCompany: labels.optional(),
  fields: z.record(wellFormed(100).min(1), z.array(wellFormed(10_000)).max(1000)).optional(),
  calendarId: labels.optional(),
  title: labels.optional(),
  location: labels.optional(),
  resourceId: labels.optional(),
});
export type DefinitionFilter = z.infer<typeof DefinitionFilterSchema>;

export const ArticleFilterSchema = z.strictObject({
  senderKind: z.array(SenderKindSchema).max(3).optional(),
  channel: z.array(ArticleChannelSchema).max(4).optional(),
  visibleForCustomer: z.boolean().optional(),
  hasAttachment: z.boolean().optional(),
  subject: wellFormed(1000).min(1).optional(),
  body: wellFormed(10_000).min(1).optional(),
});
export type ArticleFilter = z.infer<typeof ArticleFilterSchema>;

export const EmailSecurityModeSchema = z.enum(['PGPSign', 'PGPCrypt', 'PGPSignCrypt', 'SMIMESign', 'SMIMECrypt', 'SMIMESignCrypt']);
export type EmailSecurityMode = z.infer<typeof EmailSecurityModeSchema>;

export const EmailTransportSchema = z.strictObject({
  enabled: z.boolean(),
  extraAddresses: z.array(address).max(100).default([]),
  visibleForCustomer: z.boolean().optional(),
  template: z.literal('default').default('default'),
  /** Beyond OTOBO: with `web` on for a recipient, email only if the web notification is unseen this long. */
  onlyIfUnseenMs: z.number().int().min(1000).max(30 * 24 * 3600 * 1000).optional(),
  security: z
    .strictObject({
      mode: EmailSecurityModeSchema,
      missingSigningKeys: z.enum(['skip', 'send_unsigned']).default('skip'),
      missingCryptingKeys: z.enum(['skip', 'send_unencrypted']).default('skip'),
    })
    .optional(),
});
export type EmailTransport = z.infer<typeof EmailTransportSchema>;

export const ContentTypeSchema = z.enum(['text/plain', 'text/html']);
export type ContentType = z.infer<typeof ContentTypeSchema>;
/** A language code as OTOBO writes them (`en`, `de`, `pt_BR`, `zh_CN`) or BCP 47 (`pt-BR`). */
export const MessageLanguageSchema = z.string().regex(/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/, 'a language code such as en, de or pt_BR');
export const DefinitionMessageSchema = z.strictObject({
  subject: wellFormed(1000).min(1),
  body: wellFormed(100_000),
  contentType: ContentTypeSchema.default('text/plain'),
});
export type DefinitionMessage = z.infer<typeof DefinitionMessageSchema>;

/** A definition as written by PUT/POST (without `id` in the body of PUT, which the path names). */
export const DefinitionInputSchema = z.strictObject({
  name: text(1, 200),
  comment: wellFormed(2000).default(''),
  valid: ValiditySchema.default('valid'),
  type: NotificationTypeSchema.default('ticket'),
  events: z.array(EventTypeSchema).min(1).max(100),
  filter: DefinitionFilterSchema.default({}),
  articleFilter: ArticleFilterSchema.default({}),
  recipients: z
    .strictObject({
      relations: z.array(RecipientRelationSchema).max(20).default([]),
      agents: z.array(ParticipantIdSchema).max(10_000).default([]),
      groups: labels.default([]),
      roles: labels.default([]),
    })
    .default({ relations: [], agents: [], groups: [], roles: [] }),
  sendOnOutOfOffice: z.boolean().default(false),
  oncePerDay: z.boolean().default(false),
  transports: z
    .strictObject({
      email: EmailTransportSchema.optional(),
      web: z.strictObject({ enabled: z.boolean() }).optional(),
      sms: z.strictObject({ enabled: z.boolean() }).optional(),
      message: z
        .strictObject({ enabled: z.boolean(), botId: ParticipantIdSchema, visibility: z.enum(['internal', 'external']) })
        .optional(),
    })
    .default({}),
  agentPreferences: z
    .strictObject({
      visible: z.enum(['no', 'yes', 'mandatory']).default('no'),
      tooltip: wellFormed(2000).optional(),
      enabledByDefault: z.array(PersonalTransportSchema).max(3).default([]),
    })
    .default({ visible: 'no', enabledByDefault: [] }),
  messages: z.record(MessageLanguageSchema, DefinitionMessageSchema).refine((m) => Object.keys(m).length > 0, {
    message: 'at least one language',
  }),
  /**
   * OTOBO keys Parley does not act on, kept verbatim from an import and exported again (§5): `Data`
   * entries by key (each a list of strings) and top-level keys of the entry.
   */
  otobo: z
    .strictObject({
      data: z.record(z.string().max(200), z.array(z.string().max(10_000)).max(1000)).default({}),
      entry: z.record(z.string().max(200), z.unknown()).default({}),
    })
    .optional(),
});
export type DefinitionInput = z.input<typeof DefinitionInputSchema>;

/** A stored definition (GET). `builtIn` ones (§6) are editable but not deletable. */
export type NotificationDefinition = z.output<typeof DefinitionInputSchema> & {
  id: string;
  builtIn: boolean;
  createdAt: number;
  updatedAt: number;
};

export const AttachmentMetaSchema = z.strictObject({
  filename: wellFormed(255).min(1),
  contentType: wellFormed(255).min(1),
  size: z.number().int().nonnegative(),
});

export const ArticleSchema = z.strictObject({
  senderKind: SenderKindSchema,
  channel: ArticleChannelSchema,
  visibleForCustomer: z.boolean(),
  from: wellFormed(500).optional(),
  to: z.array(wellFormed(500)).max(500).optional(),
  cc: z.array(wellFormed(500)).max(500).optional(),
  subject: wellFormed(1000).optional(),
  body: wellFormed(200_000).optional(),
  attachments: z.array(AttachmentMetaSchema).max(200).optional(),
});
export type Article = z.infer<typeof ArticleSchema>;

/** Why a recipient was left out, in the order the first that applies is chosen (§2). */
export const DeliveryReasonSchema = z.enum([
  'actor',
  'disabled',
  'not_visible_for_customer',
  'out_of_office',
  'once_per_day',
  'preference_off',
  'opted_out',
  'bounced',
  'no_address',
  'no_phone',
  'missing_key',
  'seen_in_time',
]);
export type DeliveryReason = z.infer<typeof DeliveryReasonSchema>;
export const DELIVERY_REASON_ORDER: readonly DeliveryReason[] = DeliveryReasonSchema.options;

export const DeliveryStatusSchema = z.enum(['sent', 'queued', 'skipped']);
export type DeliveryStatus = z.infer<typeof DeliveryStatusSchema>;

export const DeliverySchema = z.object({
  definitionId: z.string(),
  participantId: z.string().nullable(),
  address: z.string().nullable(),
  transport: TransportSchema,
  status: DeliveryStatusSchema,
  reason: DeliveryReasonSchema.nullable(),
});
export type Delivery = z.infer<typeof DeliverySchema>;

/** A web notification (SPEC §3 Notification). */
export const NotificationSchema = z.object({
  id: z.string(),
  definitionId: z.string().nullable(),
  eventId: z.string().nullable(),
  broadcastId: z.string().nullable(),
  subject: z.string(),
  body: z.string(),
  itemId: z.string().nullable(),
  appointmentId: z.string().nullable(),
  createdAt: TimeSchema,
  seenAt: TimeSchema.nullable(),
});
export type Notification = z.infer<typeof NotificationSchema>;

export const QueuePutSchema = z.strictObject({ groupId: label });
export type QueuePut = z.infer<typeof QueuePutSchema>;

/** PUT /v1/calendars/{id} (NOTIFICATIONS §1). */
export const CalendarPutSchema = z.strictObject({
  name: text(1, 200),
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a color such as #3a87ad').nullable().optional(),
  groupId: label.nullable().optional(),
});
export type CalendarPut = z.infer<typeof CalendarPutSchema>;

/** PUT /v1/appointments/{id} (NOTIFICATIONS §1). */
export const AppointmentPutSchema = z
  .strictObject({
    calendarId: label,
    title: text(1, 500),
    description: wellFormed(10_000).nullable().optional(),
    location: wellFormed(500).nullable().optional(),
    startAt: TimeSchema,
    endAt: TimeSchema,
    allDay: z.boolean().optional(),
    recurring: z.boolean().optional(),
    resourceIds: z.array(ParticipantIdSchema).max(1000).optional(),
    reminderAt: TimeSchema.nullable().optional(),
  })
  .refine((a) => a.endAt >= a.startAt, { message: 'endAt is before startAt', path: ['endAt'] });
export type AppointmentPut = z.infer<typeof AppointmentPutSchema>;

// ─── Admin broadcasts (§7) ─────────────────────────────────────────────────────────────────────────

/** A broadcast reaches at most this many listed users, groups or roles (each list). */
export const MAX_BROADCAST_LIST = 10_000;

/**
 * A mailbox for the From header: `addr@example.com` or `Display Name <addr@example.com>` (the name
 * optionally quoted). One line, no control characters: it goes into a header as is.
 */
export const MailboxSchema = z
  .string()
  .max(320)
  .refine((s) => parseMailbox(s) !== null, 'a mailbox: addr@example.com or Name <addr@example.com>');

/** `{name, address}` of a mailbox (MailboxSchema), or null when it is not one. */
export function parseMailbox(s: string): { name: string | null; address: string } | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) return null;
  const m = /^\s*(?:(?:"((?:[^"\\]|\\.)*)"|([^<>"]*?))\s*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(s);
  if (!m) return null;
  const address = m[3] ?? m[4]!;
  if (!address.includes('@') || !z.email().safeParse(address).success) return null;
  const name = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2]?.trim() ?? '');
  return { name: name === '' ? null : name, address };
}

/**
 * POST /v1/broadcasts (§7): one email per person, and with `web` a web notification per user. The
 * audience is the union of `users`, the members of `groups` holding at least the given permission (rw
 * satisfies ro), the members of `roles`, and with `customersInGroups` the customers in those groups.
 */
export const BroadcastPostSchema = z.strictObject({
  /** The From header (default PARLEY_MAIL_FROM). */
  from: MailboxSchema.optional(),
  subject: nonBlankText(1, 1000, 'subject'),
  body: nonBlankText(1, 100_000, 'body'),
  contentType: ContentTypeSchema.default('text/plain'),
  users: z.array(ParticipantIdSchema).max(MAX_BROADCAST_LIST).default([]),
  groups: z.array(z.strictObject({ id: label, permission: z.enum(['ro', 'rw']) })).max(MAX_BROADCAST_LIST).default([]),
  roles: z.array(label).max(MAX_BROADCAST_LIST).default([]),
  customersInGroups: z.boolean().default(false),
  web: z.boolean().default(false),
});
export type BroadcastPost = z.output<typeof BroadcastPostSchema>;

/**
 * GET /v1/broadcasts/{id}. `recipients`: the people it reached (an email or a web notification), each
 * once. `queued`, `sent`, `failed`: its emails by outbox status, now. `skipped`: the people chosen who
 * got no email (disabled, opted out, no address, bounced). So queued + sent + failed + skipped is
 * everyone chosen.
 */
export const BroadcastStatusSchema = z.object({
  id: z.string(),
  recipients: z.number().int(),
  queued: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
});
export type BroadcastStatus = z.infer<typeof BroadcastStatusSchema>;
