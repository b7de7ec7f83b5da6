import { z } from 'zod';
import { BodySchema, NameSchema, illFormedPath, isBlank, isWellFormed, nonBlankText, text, wellFormed } from './text.js';

/** A participant id from the host app: 1–128 chars of `[A-Za-z0-9._:@-]` (SPEC §1). */
export const ParticipantIdSchema = z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'an id is 1–128 chars of [A-Za-z0-9._:@-]');
/** Host-owned ids of projects and items follow the participant id rule. */
export const EntityIdSchema = ParticipantIdSchema;
/** A server-made id (conversations, messages): we accept any short well-formed id and answer not_found for unknown ones. */
export const ServerIdSchema = wellFormed(128).min(1);
/** Milliseconds since the Unix epoch. */
export const TimeSchema = z.number().int();
export const SeqSchema = z.number().int().nonnegative();

export const ParticipantKindSchema = z.enum(['user', 'customer', 'bot']);
export type ParticipantKind = z.infer<typeof ParticipantKindSchema>;
export const ConversationKindSchema = z.enum(['item', 'direct', 'inbox']);
export type ConversationKind = z.infer<typeof ConversationKindSchema>;
export const VisibilitySchema = z.enum(['internal', 'external']);
export type Visibility = z.infer<typeof VisibilitySchema>;
export const FormatSchema = z.enum(['text', 'markdown']);
export type Format = z.infer<typeof FormatSchema>;
export const SourceSchema = z.enum(['ws', 'api', 'email']);
export type Source = z.infer<typeof SourceSchema>;

/** A BCP 47 tag; checked by Intl so that dates can be formatted in it. */
export const LocaleSchema = z.string().min(2).max(35).refine((s) => {
  try {
    return Intl.getCanonicalLocales(s).length === 1;
  } catch {
    return false;
  }
}, 'not a BCP 47 language tag');
/** An IANA time zone name known to this runtime. */
export const TimezoneSchema = z.string().min(1).max(64).refine((s) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: s });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone');

/** A group membership: a group id (read-write) or `{id, permission}` (NOTIFICATIONS §1). */
export const GroupMembershipSchema = z.union([
  wellFormed(200).min(1),
  z.strictObject({ id: wellFormed(200).min(1), permission: z.enum(['ro', 'rw']) }),
]);
export type GroupMembership = z.infer<typeof GroupMembershipSchema>;
/** The group id and permission of a membership entry. */
export function groupEntry(g: GroupMembership): { id: string; permission: 'ro' | 'rw' } {
  return typeof g === 'string' ? { id: g, permission: 'rw' } : g;
}

export const ParticipantSchema = z.object({
  id: ParticipantIdSchema,
  kind: ParticipantKindSchema,
  name: z.string(),
  email: z.string().nullable(),
  locale: z.string(),
  timezone: z.string(),
  groups: z.array(GroupMembershipSchema),
  roles: z.array(z.string()),
  outOfOffice: z.boolean(),
  disabled: z.boolean(),
  /** E.164, for SMS notifications. */
  phone: z.string().nullable(),
  /** "My Queues" and "My Services" (names). */
  queues: z.array(z.string()),
  services: z.array(z.string()),
  pgpPublicKey: z.string().nullable(),
  smimeCertificate: z.string().nullable(),
  createdAt: TimeSchema,
});
export type Participant = z.infer<typeof ParticipantSchema>;

/** Notification preferences of a user (SPEC §2). */
export const UserPreferencesSchema = z.strictObject({
  notifications: z.strictObject({
    fromCustomers: z.enum(['all', 'mine', 'none']),
    repliesToCustomers: z.enum(['all', 'followed', 'none']),
    followedInternal: z.boolean(),
  }),
  email: z.strictObject({
    optOut: z.boolean(),
    assignmentChanges: z.boolean(),
    newMembersInMyProjects: z.boolean(),
    autoAcceptInvitations: z.boolean(),
  }),
  access: z.strictObject({
    viewConversations: z.enum(['all', 'mine']),
    showFromCustomers: z.boolean(),
  }),
  /** Per notification definition shown in preferences (NOTIFICATIONS §3): which transports are on. */
  notificationDefinitions: z
    .record(z.string().max(128), z.strictObject({ email: z.boolean().optional(), web: z.boolean().optional(), sms: z.boolean().optional() }))
    .optional(),
});
export type UserPreferences = z.infer<typeof UserPreferencesSchema>;
/** Customers (and bots) have only the email opt-out. */
export const CustomerPreferencesSchema = z.strictObject({ email: z.strictObject({ optOut: z.boolean() }) });
export type CustomerPreferences = z.infer<typeof CustomerPreferencesSchema>;
export type Preferences = UserPreferences | CustomerPreferences;

export const DEFAULT_USER_PREFERENCES: UserPreferences = {
  notifications: { fromCustomers: 'all', repliesToCustomers: 'followed', followedInternal: true },
  email: { optOut: false, assignmentChanges: true, newMembersInMyProjects: false, autoAcceptInvitations: true },
  access: { viewConversations: 'all', showFromCustomers: true },
};
export const DEFAULT_CUSTOMER_PREFERENCES: CustomerPreferences = { email: { optOut: false } };

export const MessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  seq: z.number().int().positive(),
  senderId: z.string(),
  senderKind: ParticipantKindSchema,
  body: z.string(),
  format: FormatSchema,
  createdAt: TimeSchema,
  clientMsgId: z.string(),
  source: SourceSchema,
});
export type Message = z.infer<typeof MessageSchema>;

/** A conversation as the host app sees it (SPEC §4): Summary without the asker's own fields. */
export const ConversationSchema = z.object({
  id: z.string(),
  kind: ConversationKindSchema,
  visibility: VisibilitySchema,
  itemId: z.string().nullable(),
  subject: z.string().nullable(),
  members: z.array(z.string()),
  createdAt: TimeSchema,
  lastSeq: SeqSchema,
  lastMessageAt: TimeSchema.nullable(),
});
export type Conversation = z.infer<typeof ConversationSchema>;

/** A conversation as one participant sees it (SPEC §3 Summary). */
export const SummarySchema = ConversationSchema.extend({
  seenUpTo: SeqSchema,
  unseen: z.number().int().nonnegative(),
  following: z.boolean(),
});
export type Summary = z.infer<typeof SummarySchema>;

/** What escalation did or will do for one recipient of one message (SPEC §3 Receipt.email). */
export const EmailStatusSchema = z.enum([
  'emailed',
  'summarized',
  'seen_in_time',
  'disabled',
  'not_notified',
  'not_eligible',
  'opted_out',
  'bounced',
  'no_address',
  'pending',
]);
export type EmailStatus = z.infer<typeof EmailStatusSchema>;

export const ReceiptSchema = z.object({
  participantId: z.string(),
  deliveredAt: TimeSchema.nullable(),
  seenAt: TimeSchema.nullable(),
  emailedAt: TimeSchema.nullable().optional(),
  emailId: z.string().nullable().optional(),
  email: EmailStatusSchema.optional(),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

export const PresenceStateSchema = z.enum(['active', 'away', 'offline']);
export type PresenceState = z.infer<typeof PresenceStateSchema>;
export const PresenceSchema = z.object({ participantId: z.string(), state: PresenceStateSchema, lastActiveAt: TimeSchema.nullable() });
export type Presence = z.infer<typeof PresenceSchema>;

export const ProjectSchema = z.object({ id: z.string(), name: z.string(), followers: z.array(z.string()), createdAt: TimeSchema });
export type Project = z.infer<typeof ProjectSchema>;

export const ItemSchema = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  projectId: z.string().nullable(),
  number: z.string().nullable(),
  status: z.string().nullable(),
  priority: z.string().nullable(),
  queue: z.string().nullable(),
  customerId: z.string().nullable(),
  ownerId: z.string().nullable(),
  responsibleId: z.string().nullable(),
  followers: z.array(z.string()),
  lock: z.enum(['unlock', 'lock', 'tmp_lock']).nullable(),
  service: z.string().nullable(),
  type: z.string().nullable(),
  createdBy: z.string().nullable(),
  customerCompany: z.string().nullable(),
  /** Dynamic fields and any other attribute a filter may need. */
  fields: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  createdAt: TimeSchema,
});
export type Item = z.infer<typeof ItemSchema>;

export { BodySchema, NameSchema, illFormedPath, isBlank, isWellFormed, nonBlankText, text, wellFormed };
