import { z } from 'zod';
import { EmailsQuerySchema } from './http.js';
import { EntityIdSchema, ParticipantIdSchema } from './model.js';
import { ArticleSchema, ContentTypeSchema, DefinitionInputSchema, DeliveryReasonSchema, EventTypeSchema, RecipientRelationSchema, TransportSchema } from './notifications.js';

/**
 * The messaging center's own routes (NOTIFICATIONS §8): what the admin screens need beyond the
 * definitions, templates, broadcasts and logs. Every one is an admin route (an admin session token or
 * the API key). Input schemas are strict (an unknown field is 400 `invalid`).
 */

/** `choices` lists at most this many items (the most recently changed) and appointments (the next). */
export const MAX_CHOICE_ENTITIES = 200;

const IdName = z.object({ id: z.string(), name: z.string() });
const IdTitle = z.object({ id: z.string(), title: z.string() });

/**
 * GET /v1/notification-definitions/choices: what a definition's form offers to pick from. Only ids,
 * names and titles: never an email address or a phone number. `agents` are users; `groups` and
 * `roles` are the ids people, queues and calendars name (the hub keeps no other name for them, so
 * `name` is the id); `items` the 200 most recently changed, `appointments` the 200 next (not ended,
 * soonest first); `eventTypes` every event the hub raises or OTOBO sends, and those definitions
 * listen to; `languages` those of definitions and participants, and PARLEY_DEFAULT_LOCALE. Lists of
 * names are sorted.
 */
export const NotificationChoicesSchema = z.object({
  agents: z.array(IdName),
  groups: z.array(IdName),
  roles: z.array(IdName),
  queues: z.array(z.object({ name: z.string(), groupId: z.string() })),
  items: z.array(IdTitle),
  appointments: z.array(IdTitle),
  eventTypes: z.array(z.string()),
  relations: z.array(RecipientRelationSchema),
  languages: z.array(z.string()),
});
export type NotificationChoices = z.infer<typeof NotificationChoicesSchema>;

/** The event a preview imagines: an item's or an appointment's (either must be known: else 404). */
export const PreviewEventSchema = z.strictObject({
  type: EventTypeSchema,
  itemId: EntityIdSchema.optional(),
  appointmentId: EntityIdSchema.optional(),
  article: ArticleSchema.optional(),
});
export type PreviewEvent = z.infer<typeof PreviewEventSchema>;

/**
 * POST /v1/notification-definitions/preview: a dry run of one definition — a stored one
 * (`definitionId`) or an unsaved draft (`definition`, as POST would take it), exactly one — against
 * an imagined event. It matches and renders with the same code as a real event and stores, sends and
 * marks nothing (no audit, no once-per-day mark, no outbox row, no web notification).
 * `recipientId` chooses whose tags render (default: the first recipient).
 */
export const PreviewPostSchema = z
  .strictObject({
    definitionId: EntityIdSchema.optional(),
    definition: DefinitionInputSchema.optional(),
    event: PreviewEventSchema,
    recipientId: ParticipantIdSchema.optional(),
  })
  .refine((b) => (b.definitionId === undefined) !== (b.definition === undefined), { message: 'give definitionId or definition, exactly one', path: ['definitionId'] });
export type PreviewPost = z.infer<typeof PreviewPostSchema>;

/**
 * One line of a preview, as the audit would write it (NOTIFICATIONS §2): `would-send` where a real
 * event would send or queue, else `skipped` with the first reason of §2's order (`seen_in_time`
 * cannot happen yet: a preview arms no timer).
 */
export const PreviewDeliverySchema = z.object({
  definitionId: z.string(),
  participantId: z.string().nullable(),
  address: z.string().nullable(),
  transport: TransportSchema,
  status: z.enum(['would-send', 'skipped']),
  reason: DeliveryReasonSchema.nullable(),
});
export type PreviewDelivery = z.infer<typeof PreviewDeliverySchema>;

/** One of the definition's languages, its subject and body with the tags filled in (before the email layout). */
export const PreviewRenderedSchema = z.object({
  language: z.string(),
  subject: z.string(),
  body: z.string(),
  contentType: ContentTypeSchema,
});
export type PreviewRendered = z.infer<typeof PreviewRenderedSchema>;

/**
 * The answer of a preview. `matched`: validity, event type, filter and article filter hold (when
 * false, `deliveries` is empty). `notFound`: agent, group and role ids the definition names that the
 * directory does not know. `rendered`: every language of the definition, rendered for `recipient`
 * (the recipientId asked for, else the first recipient, else nobody — its tags render `-`).
 */
export const PreviewAnswerSchema = z.object({
  matched: z.boolean(),
  deliveries: z.array(PreviewDeliverySchema),
  notFound: z.object({ agents: z.array(z.string()), groups: z.array(z.string()), roles: z.array(z.string()) }),
  recipient: z.object({ participantId: z.string().nullable(), address: z.string().nullable() }).nullable(),
  rendered: z.array(PreviewRenderedSchema),
});
export type PreviewAnswer = z.infer<typeof PreviewAnswerSchema>;

/** POST /v1/broadcasts/count (the body of POST /v1/broadcasts): how many people it would reach; nothing is sent or stored. */
export const BroadcastCountSchema = z.object({ recipients: z.number().int().nonnegative() });
export type BroadcastCount = z.infer<typeof BroadcastCountSchema>;

/**
 * GET /v1/inbound-emails: rows received at or after `since`, at most `limit` (default 100), oldest
 * first unless `order=desc`; `status` keeps one outcome (SPEC §8).
 */
export const InboundEmailsQuerySchema = EmailsQuerySchema.pick({ since: true, limit: true, order: true }).extend({
  status: z.enum(['posted', 'ignored', 'rejected']).optional(),
});
export type InboundEmailsQuery = z.infer<typeof InboundEmailsQuerySchema>;
