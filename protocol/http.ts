import { z } from 'zod';
import {
  BodySchema,
  CustomerPreferencesSchema,
  EntityIdSchema,
  FormatSchema,
  GroupMembershipSchema,
  LocaleSchema,
  NameSchema,
  ParticipantIdSchema,
  ParticipantKindSchema,
  TimezoneSchema,
  UserPreferencesSchema,
  text,
  wellFormed,
} from './model.js';
import { ArticleSchema, EventTypeSchema } from './notifications.js';

/**
 * HTTP bodies of the host API (SPEC §4). Every object is strict: an unknown field is 400 `invalid`.
 * `PUT` replaces the whole resource; omitted optional fields take their defaults. Every string the hub
 * stores or echoes is well-formed Unicode (SPEC §3 Text); names and bodies are also not blank.
 */

const label = wellFormed(200).min(1);
const followers = z.array(ParticipantIdSchema).max(10_000);

export const ParticipantPutSchema = z.strictObject({
  kind: ParticipantKindSchema,
  name: NameSchema,
  email: z.email().max(254).nullable().optional(),
  locale: LocaleSchema.optional(),
  timezone: TimezoneSchema.optional(),
  groups: z.array(GroupMembershipSchema).max(200).optional(),
  roles: z.array(label).max(200).optional(),
  outOfOffice: z.boolean().optional(),
  disabled: z.boolean().optional(),
  phone: z.string().regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number such as +4930123456').nullable().optional(),
  queues: z.array(label).max(1000).optional(),
  services: z.array(label).max(1000).optional(),
  pgpPublicKey: wellFormed(100_000).min(1).nullable().optional(),
  smimeCertificate: wellFormed(100_000).min(1).nullable().optional(),
});
export type ParticipantPut = z.infer<typeof ParticipantPutSchema>;

/** A partial preferences object, deep-merged into the stored one. */
export const UserPreferencesPatchSchema = z.strictObject({
  notifications: UserPreferencesSchema.shape.notifications.partial().optional(),
  email: UserPreferencesSchema.shape.email.partial().optional(),
  access: UserPreferencesSchema.shape.access.partial().optional(),
  notificationDefinitions: UserPreferencesSchema.shape.notificationDefinitions,
});
export type UserPreferencesPatch = z.infer<typeof UserPreferencesPatchSchema>;
export const CustomerPreferencesPatchSchema = z.strictObject({
  email: CustomerPreferencesSchema.shape.email.partial().optional(),
});
export type CustomerPreferencesPatch = z.infer<typeof CustomerPreferencesPatchSchema>;

export const ProjectPutSchema = z.strictObject({ name: NameSchema, followers: followers.optional() });
export type ProjectPut = z.infer<typeof ProjectPutSchema>;

const optionalString = wellFormed(200).nullable().optional();
export const ItemPutSchema = z.strictObject({
  kind: label,
  title: text(1, 500),
  projectId: EntityIdSchema.nullable().optional(),
  number: optionalString,
  status: optionalString,
  priority: optionalString,
  queue: optionalString,
  customerId: ParticipantIdSchema.nullable().optional(),
  ownerId: ParticipantIdSchema.nullable().optional(),
  responsibleId: ParticipantIdSchema.nullable().optional(),
  followers: followers.optional(),
  lock: z.enum(['unlock', 'lock', 'tmp_lock']).nullable().optional(),
  service: optionalString,
  type: optionalString,
  createdBy: ParticipantIdSchema.nullable().optional(),
  customerCompany: optionalString,
  fields: z.record(wellFormed(100).min(1), z.union([wellFormed(10_000), z.array(wellFormed(10_000)).max(1000)])).optional(),
});
export type ItemPut = z.infer<typeof ItemPutSchema>;

export const ConversationCreateSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('item'),
    itemId: EntityIdSchema,
    visibility: z.enum(['internal', 'external']),
    subject: text(1, 200).optional(),
  }),
  z.strictObject({
    kind: z.literal('direct'),
    createdBy: ParticipantIdSchema,
    members: z.array(ParticipantIdSchema).max(50),
    subject: text(1, 200).optional(),
  }),
]);
export type ConversationCreate = z.infer<typeof ConversationCreateSchema>;

export const MessagePostSchema = z.strictObject({
  senderId: ParticipantIdSchema,
  body: BodySchema,
  clientMsgId: wellFormed(64).min(1),
  format: FormatSchema.optional(),
});
export type MessagePost = z.infer<typeof MessagePostSchema>;

/** Query strings arrive as text; numbers are decimal integers. */
const queryInt = z.string().regex(/^\d{1,15}$/, 'a non-negative integer').transform(Number);
export const MessagesQuerySchema = z
  .strictObject({
    after: queryInt.optional(),
    before: queryInt.optional(),
    limit: queryInt.pipe(z.number().min(1).max(200)).optional(),
  })
  .refine((q) => q.before === undefined || q.after === undefined, { message: 'give before or after, not both' });
export type MessagesQuery = z.infer<typeof MessagesQuerySchema>;

/**
 * GET /v1/emails: rows created at or after `since`, at most `limit` (default 100), oldest first unless
 * `order=desc` (newest first); `status` and `kind` keep only rows of that status or kind.
 */
export const EmailsQuerySchema = z.strictObject({
  since: queryInt.optional(),
  limit: queryInt.pipe(z.number().min(1).max(1000)).optional(),
  status: z.enum(['queued', 'sent', 'failed']).optional(),
  kind: z.enum(['escalation', 'notification', 'broadcast', 'system', 'sms']).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});
export type EmailsQuery = z.infer<typeof EmailsQuerySchema>;

export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
export const TokenCreateSchema = z.strictObject({
  sub: ParticipantIdSchema,
  ttlSeconds: z.number().int().min(1).max(MAX_TOKEN_TTL_SECONDS).optional(),
  /** A user's token that also opens the admin routes (NOTIFICATIONS §8). */
  admin: z.boolean().optional(),
});
export type TokenCreate = z.infer<typeof TokenCreateSchema>;

/** POST /v1/events (NOTIFICATIONS §2). `item` is applied (as PUT /v1/items) before the rules run. */
export const EventPostSchema = z
  .strictObject({
    id: EntityIdSchema,
    type: EventTypeSchema,
    occurredAt: z.number().int().nonnegative().optional(),
    actorId: ParticipantIdSchema.nullable().optional(),
    itemId: EntityIdSchema.optional(),
    item: ItemPutSchema.optional(),
    article: ArticleSchema.optional(),
  })
  .refine((e) => e.item === undefined || e.itemId !== undefined, { message: 'item needs itemId', path: ['item'] });
export type EventPost = z.infer<typeof EventPostSchema>;

/** The error body of every failed HTTP request. */
export const HttpErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type HttpError = z.infer<typeof HttpErrorSchema>;
