import type { GroupMembership } from '../../../protocol/index.js';
import { sql } from 'drizzle-orm';
import { bigint, boolean, customType, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The PostgreSQL schema: the same tables and indexes as the SQLite schema (adapters/sqlite/schema.ts),
 * in native types. TS keys are camelCase, SQL names snake_case.
 *
 * - **Times are `bigint` milliseconds**, not `timestamptz`: every port speaks ms numbers, so rows go in
 *   and out without a conversion per value, and a stored time is exactly the number the hub wrote,
 *   as in SQLite (the contract suites compare times, seqs and due times as plain numbers, some far from
 *   any real date). `{ mode: 'number' }`: ms times fit a double exactly for the next 285,000 years.
 * - Seqs and counters are `integer`; JSON documents and lists are `jsonb`; flags are `boolean`; an
 *   inbound email's raw bytes are `bytea`.
 * - `conversations.last_seq` is the one addition: with several writers the seq comes from the
 *   conversation row (`UPDATE … SET last_seq = last_seq + n … RETURNING` inside the commit; DESIGN §8),
 *   which also serialises appends to one conversation across hubs.
 *
 * Changing this file needs `npx drizzle-kit generate --config drizzle.pg.config.ts` and the generated
 * migration in migrations/postgres/ committed.
 */

const ms = (name: string) => bigint(name, { mode: 'number' });

const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});

export const participants = pgTable('participants', {
  id: text('id').primaryKey(),
  kind: text('kind', { enum: ['user', 'customer', 'bot'] }).notNull(),
  name: text('name').notNull(),
  email: text('email'),
  locale: text('locale').notNull(),
  timezone: text('timezone').notNull(),
  groups: jsonb('groups').$type<GroupMembership[]>().notNull(),
  roles: jsonb('roles').$type<string[]>().notNull(),
  phone: text('phone'),
  queues: jsonb('queues').$type<string[]>().notNull().default([]),
  services: jsonb('services').$type<string[]>().notNull().default([]),
  pgpPublicKey: text('pgp_public_key'),
  smimeCertificate: text('smime_certificate'),
  outOfOffice: boolean('out_of_office').notNull(),
  disabled: boolean('disabled').notNull(),
  /** When `disabled` last went from true to false; tokens issued before it are refused (SPEC §3 Token). */
  enabledAt: ms('enabled_at'),
  preferences: jsonb('preferences').$type<Record<string, unknown>>().notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

export const projects = pgTable('projects', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: ms('created_at').notNull(),
});

export const projectFollowers = pgTable(
  'project_followers',
  {
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    participantId: text('participant_id').notNull(),
    since: ms('since').notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.participantId] })],
);

export const items = pgTable(
  'items',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    projectId: text('project_id'),
    number: text('number'),
    status: text('status'),
    priority: text('priority'),
    queue: text('queue'),
    customerId: text('customer_id'),
    customerSince: ms('customer_since'),
    ownerId: text('owner_id'),
    ownerSince: ms('owner_since'),
    responsibleId: text('responsible_id'),
    responsibleSince: ms('responsible_since'),
    lock: text('lock', { enum: ['unlock', 'lock', 'tmp_lock'] }),
    service: text('service'),
    type: text('type'),
    createdBy: text('created_by'),
    customerCompany: text('customer_company'),
    fields: jsonb('fields').$type<Record<string, string | string[]>>().notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [index('items_project_idx').on(t.projectId)],
);

/** Queues → the group whose members may work on the queue's items (NOTIFICATIONS §1). */
export const queues = pgTable('queues', {
  name: text('name').primaryKey(),
  groupId: text('group_id').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

export const itemFollowers = pgTable(
  'item_followers',
  {
    itemId: text('item_id')
      .notNull()
      .references(() => items.id, { onDelete: 'cascade' }),
    participantId: text('participant_id').notNull(),
    since: ms('since').notNull(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.participantId] })],
);

export const conversations = pgTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['item', 'direct', 'inbox'] }).notNull(),
    visibility: text('visibility', { enum: ['internal', 'external'] }).notNull(),
    itemId: text('item_id'),
    subject: text('subject'),
    createdBy: text('created_by'),
    createdAt: ms('created_at').notNull(),
    /** The highest seq given out; raised in the commit that stores the messages (see the file comment). */
    lastSeq: integer('last_seq').notNull().default(0),
  },
  (t) => [index('conversations_item_idx').on(t.itemId)],
);

export const conversationMembers = pgTable(
  'conversation_members',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    participantId: text('participant_id').notNull(),
    since: ms('since').notNull(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.participantId] }), index('members_participant_idx').on(t.participantId)],
);

/** Messages; ids begin with their creation time (message-id.ts), so inserts land at the end of the primary key. */
export const messages = pgTable(
  'messages',
  {
    id: text('id').primaryKey(),
    conversationId: text('conversation_id').notNull(),
    seq: integer('seq').notNull(),
    senderId: text('sender_id').notNull(),
    senderKind: text('sender_kind', { enum: ['user', 'customer', 'bot'] }).notNull(),
    body: text('body').notNull(),
    format: text('format', { enum: ['text', 'markdown'] }).notNull(),
    clientMsgId: text('client_msg_id').notNull(),
    source: text('source', { enum: ['ws', 'api', 'email'] }).notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('messages_conversation_seq_idx').on(t.conversationId, t.seq),
    uniqueIndex('messages_idempotency_idx').on(t.conversationId, t.senderId, t.clientMsgId),
  ],
);

/** Per (participant, conversation) watermarks: seqs that only rise, each with the time it last rose. */
export const watermarks = pgTable(
  'watermarks',
  {
    participantId: text('participant_id').notNull(),
    conversationId: text('conversation_id').notNull(),
    deliveredUpTo: integer('delivered_up_to').notNull().default(0),
    deliveredAt: ms('delivered_at'),
    seenUpTo: integer('seen_up_to').notNull().default(0),
    seenAt: ms('seen_at'),
    emailedUpTo: integer('emailed_up_to').notNull().default(0),
    emailedAt: ms('emailed_at'),
    /** The email that made the last emailed rise. */
    emailId: text('email_id'),
  },
  (t) => [primaryKey({ columns: [t.participantId, t.conversationId] })],
);

/**
 * The log of watermark rises (receipts read the earliest rise that reached a seq). Emailed rises say
 * which seqs their email held and only counted, as runs `[[from, to], …]`.
 */
export const watermarkRises = pgTable(
  'watermark_rises',
  {
    conversationId: text('conversation_id').notNull(),
    upTo: integer('up_to').notNull(),
    participantId: text('participant_id').notNull(),
    kind: text('kind', { enum: ['delivered', 'seen', 'emailed'] }).notNull(),
    at: ms('at').notNull(),
    emailId: text('email_id'),
    heldSeqs: jsonb('held_seqs').$type<Array<[number, number]>>(),
    summarizedSeqs: jsonb('summarized_seqs').$type<Array<[number, number]>>(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.upTo, t.participantId, t.kind] })],
);

/** The transactional outbox (SPEC §5, DESIGN §6): claimed with FOR UPDATE SKIP LOCKED and a lease. */
export const emails = pgTable(
  'emails',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['escalation', 'notification', 'broadcast', 'system', 'sms'] }).notNull(),
    channel: text('channel', { enum: ['email', 'sms', 'web'] }).notNull().default('email'),
    participantId: text('participant_id').notNull(),
    conversationId: text('conversation_id').notNull(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    messageIdHeader: text('message_id_header').notNull(),
    messageIds: jsonb('message_ids').$type<string[]>().notNull(),
    upTo: integer('up_to').notNull(),
    raw: text('raw').notNull(),
    status: text('status', { enum: ['queued', 'sent', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ms('next_attempt_at').notNull(),
    createdAt: ms('created_at').notNull(),
    sentAt: ms('sent_at'),
    error: text('error'),
    /** A worker's claim holds a queued row until then (see OutboxStore.claimDue). */
    leaseUntil: ms('lease_until'),
    /** Claim order (lower first): system 0, escalation 1, notifications and SMS 2, broadcasts 3. */
    priority: integer('priority').notNull().default(1),
    /** An email composed when sent or shown (`raw` empty): the composer's template id and data. */
    deferred: jsonb('deferred').$type<Record<string, unknown>>(),
  },
  (t) => [
    /**
     * The claim's order: walked in order, a claim stops after its LIMIT rows instead of sorting every
     * queued row. Queued rows only (as on SQLite): a sent row leaves it, and it stays as small as the queue.
     */
    index('emails_claim_idx').on(t.priority, t.nextAttemptAt, t.createdAt).where(sql`status = 'queued'`),
    index('emails_created_idx').on(t.createdAt),
    /** An escalation email's earlier ones in its conversation (threadMessageIds); escalation rows only, as on SQLite. */
    index('emails_thread_idx').on(t.conversationId, t.participantId, t.createdAt).where(sql`kind = 'escalation'`),
    index('emails_message_id_header_idx').on(t.messageIdHeader),
  ],
);

// ─── Notification rules (NOTIFICATIONS.md) ───────────────────────────────────────────────────────

/** A definition as one JSON document; `name` is unique (§3). */
export const notificationDefinitions = pgTable('notification_definitions', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  doc: jsonb('doc').$type<Record<string, unknown>>().notNull(),
  builtIn: boolean('built_in').notNull(),
  createdAt: ms('created_at').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** Events from the host, with the audit of their deliveries (§2). */
export const notificationEvents = pgTable('notification_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  occurredAt: ms('occurred_at').notNull(),
  receivedAt: ms('received_at').notNull(),
  actorId: text('actor_id'),
  itemId: text('item_id'),
  deliveries: jsonb('deliveries').$type<unknown[]>().notNull(),
  notFound: jsonb('not_found').$type<unknown[]>().notNull(),
});

/** Web notifications (SPEC §3 Notification). */
export const notifications = pgTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    participantId: text('participant_id').notNull(),
    definitionId: text('definition_id'),
    eventId: text('event_id'),
    broadcastId: text('broadcast_id'),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    itemId: text('item_id'),
    appointmentId: text('appointment_id'),
    createdAt: ms('created_at').notNull(),
    seenAt: ms('seen_at'),
  },
  (t) => [index('notifications_participant_idx').on(t.participantId, t.createdAt, t.id), index('notifications_unseen_idx').on(t.participantId).where(sql`seen_at IS NULL`)],
);

/** Emails that go only if a web notification is still unseen at `due_at`. */
export const notificationTimers = pgTable(
  'notification_timers',
  {
    notificationId: text('notification_id').primaryKey(),
    eventId: text('event_id').notNull(),
    deliveryIndex: integer('delivery_index').notNull(),
    dueAt: ms('due_at').notNull(),
    email: jsonb('email').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('notification_timers_due_idx').on(t.dueAt)],
);

/** Once-per-day marks: the last delivery of (definition, item, recipient, transport). `item_key` '' for none. */
export const notificationMarks = pgTable(
  'notification_marks',
  {
    definitionId: text('definition_id').notNull(),
    itemKey: text('item_key').notNull(),
    recipient: text('recipient').notNull(),
    transport: text('transport').notNull(),
    at: ms('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.definitionId, t.itemKey, t.recipient, t.transport] }), index('notification_marks_at_idx').on(t.at)],
);

/** The `to`/`cc` addresses of an item's first and last article (recipients …FirstArticle / …LastArticle). */
export const itemArticles = pgTable('item_articles', {
  itemId: text('item_id').primaryKey(),
  first: jsonb('first').$type<string[]>().notNull(),
  last: jsonb('last').$type<string[]>().notNull(),
});

// ─── Email in (SPEC §8) ──────────────────────────────────────────────────────────────────────────

/** Every inbound email with its one outcome, kept 72 h with its raw source. */
export const inboundEmails = pgTable(
  'inbound_emails',
  {
    id: text('id').primaryKey(),
    messageId: text('message_id').notNull(),
    fromAddress: text('from_address').notNull(),
    toAddresses: jsonb('to_addresses').$type<string[]>().notNull(),
    subject: text('subject').notNull(),
    receivedAt: ms('received_at').notNull(),
    status: text('status', { enum: ['posted', 'ignored', 'rejected'] }).notNull(),
    reason: text('reason'),
    conversationId: text('conversation_id'),
    postedMessageId: text('posted_message_id'),
    /** The bytes as received (any 8-bit content kept exactly). */
    raw: bytea('raw').notNull(),
  },
  (t) => [uniqueIndex('inbound_emails_message_id_idx').on(t.messageId), index('inbound_emails_received_idx').on(t.receivedAt), index('inbound_emails_from_idx').on(t.fromAddress, t.receivedAt)],
);

/** Reply addresses: a random id bound to one (conversation, participant). */
export const replyAddresses = pgTable(
  'reply_addresses',
  {
    rid: text('rid').primaryKey(),
    conversationId: text('conversation_id').notNull(),
    participantId: text('participant_id').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [uniqueIndex('reply_addresses_pair_idx').on(t.conversationId, t.participantId)],
);

/** Addresses that hard-bounced; escalation and notifications skip them until the address changes. */
export const bouncedAddresses = pgTable('bounced_addresses', {
  address: text('address').primaryKey(),
  status: text('status').notNull(),
  at: ms('at').notNull(),
});

// ─── Appointments, broadcasts, system emails (NOTIFICATIONS.md §1, §7, §8) ─────────────────────────

export const calendars = pgTable('calendars', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  color: text('color'),
  groupId: text('group_id'),
  updatedAt: ms('updated_at').notNull(),
});

/** Appointments; `reminder_at` with `reminded_at` null is a pending reminder (fired once, persisted). */
export const appointments = pgTable(
  'appointments',
  {
    id: text('id').primaryKey(),
    calendarId: text('calendar_id').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    location: text('location'),
    startAt: ms('start_at').notNull(),
    endAt: ms('end_at').notNull(),
    allDay: boolean('all_day').notNull(),
    recurring: boolean('recurring').notNull(),
    resourceIds: jsonb('resource_ids').$type<string[]>().notNull(),
    reminderAt: ms('reminder_at'),
    remindedAt: ms('reminded_at'),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('appointments_reminder_idx').on(t.remindedAt, t.reminderAt)],
);

/** Admin broadcasts (§7); their emails are outbox rows of kind `broadcast` (`conversation_id` = the broadcast id). */
export const broadcasts = pgTable('broadcasts', {
  id: text('id').primaryKey(),
  subject: text('subject').notNull(),
  recipients: integer('recipients').notNull(),
  skipped: integer('skipped').notNull(),
  createdAt: ms('created_at').notNull(),
});

/** Editable email templates: system email kinds and the escalation email's texts (§8). */
export const emailTemplates = pgTable('email_templates', {
  kind: text('kind').primaryKey(),
  doc: jsonb('doc').$type<Record<string, unknown>>().notNull(),
  updatedAt: ms('updated_at').notNull(),
});
