import type { GroupMembership } from '../../../protocol/index.js';
import { sql } from 'drizzle-orm';
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The SQLite schema. TS keys are camelCase, SQL names snake_case. Times are integer ms. JSON columns
 * hold small host-owned lists (groups, roles, custom fields) and the preferences document.
 * Changing this file needs `npm run db:generate` and the generated migration committed.
 */

export const participants = sqliteTable('participants', {
  id: text('id').primaryKey(),
  kind: text('kind', { enum: ['user', 'customer', 'bot'] }).notNull(),
  name: text('name').notNull(),
  email: text('email'),
  locale: text('locale').notNull(),
  timezone: text('timezone').notNull(),
  groups: text('groups', { mode: 'json' }).$type<GroupMembership[]>().notNull(),
  roles: text('roles', { mode: 'json' }).$type<string[]>().notNull(),
  phone: text('phone'),
  queues: text('queues', { mode: 'json' }).$type<string[]>().notNull().default([]),
  services: text('services', { mode: 'json' }).$type<string[]>().notNull().default([]),
  pgpPublicKey: text('pgp_public_key'),
  smimeCertificate: text('smime_certificate'),
  outOfOffice: integer('out_of_office', { mode: 'boolean' }).notNull(),
  disabled: integer('disabled', { mode: 'boolean' }).notNull(),
  /** When `disabled` last went from true to false; tokens issued before it are refused (SPEC §3 Token). */
  enabledAt: integer('enabled_at'),
  preferences: text('preferences', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const projects = sqliteTable('projects', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const projectFollowers = sqliteTable(
  'project_followers',
  {
    projectId: text('project_id').notNull().references(() => projects.id, { onDelete: 'cascade' }),
    participantId: text('participant_id').notNull(),
    since: integer('since').notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.participantId] })],
);

export const items = sqliteTable(
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
    customerSince: integer('customer_since'),
    ownerId: text('owner_id'),
    ownerSince: integer('owner_since'),
    responsibleId: text('responsible_id'),
    responsibleSince: integer('responsible_since'),
    lock: text('lock', { enum: ['unlock', 'lock', 'tmp_lock'] }),
    service: text('service'),
    type: text('type'),
    createdBy: text('created_by'),
    customerCompany: text('customer_company'),
    fields: text('fields', { mode: 'json' }).$type<Record<string, string | string[]>>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('items_project_idx').on(t.projectId)],
);

/** Queues → the group whose members may work on the queue's items (NOTIFICATIONS §1). */
export const queues = sqliteTable('queues', {
  name: text('name').primaryKey(),
  groupId: text('group_id').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const itemFollowers = sqliteTable(
  'item_followers',
  {
    itemId: text('item_id').notNull().references(() => items.id, { onDelete: 'cascade' }),
    participantId: text('participant_id').notNull(),
    since: integer('since').notNull(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.participantId] })],
);

export const conversations = sqliteTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['item', 'direct', 'inbox'] }).notNull(),
    visibility: text('visibility', { enum: ['internal', 'external'] }).notNull(),
    itemId: text('item_id'),
    subject: text('subject'),
    createdBy: text('created_by'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('conversations_item_idx').on(t.itemId)],
);

export const conversationMembers = sqliteTable(
  'conversation_members',
  {
    conversationId: text('conversation_id').notNull().references(() => conversations.id, { onDelete: 'cascade' }),
    participantId: text('participant_id').notNull(),
    since: integer('since').notNull(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.participantId] }), index('members_participant_idx').on(t.participantId)],
);

/**
 * A conversation's integer key, made with its first message: the messages' indexes hold it instead of
 * the 21-character conversation id (narrower entries, fewer pages written per commit; migration 0015).
 */
export const conversationKeys = sqliteTable(
  'conversation_keys',
  {
    key: integer('key').primaryKey(),
    conversationId: text('conversation_id').notNull(),
  },
  (t) => [uniqueIndex('conversation_keys_id_idx').on(t.conversationId)],
);

/**
 * Messages, clustered by id (WITHOUT ROWID, migration 0001); ids begin with their creation time, so
 * inserts append. The last seq and time of each conversation are read from here at start (single
 * writer: memory holds them after), so appending a message is one insert, not an insert and an update.
 * The indexes key the conversation by `conversation_keys.key` (migration 0015).
 */
export const messages = sqliteTable(
  'messages',
  {
    id: text('id').primaryKey(),
    conversationId: text('conversation_id').notNull(),
    conversationKey: integer('conversation_key').notNull(),
    seq: integer('seq').notNull(),
    senderId: text('sender_id').notNull(),
    senderKind: text('sender_kind', { enum: ['user', 'customer', 'bot'] }).notNull(),
    body: text('body').notNull(),
    format: text('format', { enum: ['text', 'markdown'] }).notNull(),
    clientMsgId: text('client_msg_id').notNull(),
    source: text('source', { enum: ['ws', 'api', 'email'] }).notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('messages_conversation_seq_idx').on(t.conversationKey, t.seq),
    uniqueIndex('messages_idempotency_idx').on(t.conversationKey, t.senderId, t.clientMsgId),
  ],
);

/** Per (participant, conversation) watermarks: seqs that only rise, each with the time it last rose. */
export const watermarks = sqliteTable(
  'watermarks',
  {
    participantId: text('participant_id').notNull(),
    conversationId: text('conversation_id').notNull(),
    deliveredUpTo: integer('delivered_up_to').notNull().default(0),
    deliveredAt: integer('delivered_at'),
    seenUpTo: integer('seen_up_to').notNull().default(0),
    seenAt: integer('seen_at'),
    emailedUpTo: integer('emailed_up_to').notNull().default(0),
    emailedAt: integer('emailed_at'),
    /** The email that made the last emailed rise. */
    emailId: text('email_id'),
  },
  (t) => [primaryKey({ columns: [t.participantId, t.conversationId] })],
);

/**
 * The log of watermark rises: the time a message was delivered to or seen by p is the earliest rise
 * of that kind whose upTo reaches the message's seq. Seen and emailed rises are logged per commit;
 * delivered rises are coalesced over a short window (see SqliteStore). WITHOUT ROWID (migration 0001).
 */
export const watermarkRises = sqliteTable(
  'watermark_rises',
  {
    conversationId: text('conversation_id').notNull(),
    upTo: integer('up_to').notNull(),
    participantId: text('participant_id').notNull(),
    kind: text('kind', { enum: ['delivered', 'seen', 'emailed'] }).notNull(),
    at: integer('at').notNull(),
    emailId: text('email_id'),
    /**
     * Emailed rises only (migration 0004): the seqs the email held, and the seqs it only counted among
     * the earlier messages it left out (SPEC §5 caps), as JSON runs `[[from, to], …]`. A receipt says
     * `emailed` or `summarized` only for a seq in one of them; null on rises logged before 0004.
     */
    heldSeqs: text('held_seqs'),
    summarizedSeqs: text('summarized_seqs'),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.upTo, t.participantId, t.kind] })],
);

/**
 * The transactional outbox (SPEC §5, DESIGN §6). A row is written, with its rendered MIME and final
 * Message-ID, in the same transaction that raises the recipient's emailed watermark; the worker
 * claims due queued rows with a lease, sends them and records the outcome. Rows outlive sending for PARLEY_OUTBOX_RETENTION_MS.
 */
export const emails = sqliteTable(
  'emails',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['escalation', 'notification', 'broadcast', 'system', 'sms'] }).notNull(),
    /** How the row reaches its recipient (migration 0005; rows before it are 'email'). */
    channel: text('channel', { enum: ['email', 'sms', 'web'] }).notNull().default('email'),
    participantId: text('participant_id').notNull(),
    conversationId: text('conversation_id').notNull(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    messageIdHeader: text('message_id_header').notNull(),
    messageIds: text('message_ids', { mode: 'json' }).$type<string[]>().notNull(),
    upTo: integer('up_to').notNull(),
    raw: text('raw').notNull(),
    status: text('status', { enum: ['queued', 'sent', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
    error: text('error'),
    /** A worker's claim holds a queued row until then (migration 0005; see OutboxStore.claimDue). */
    leaseUntil: integer('lease_until'),
    /** Claim order (lower first): system 0, escalation 1, notifications and SMS 2, broadcasts 3 (migration 0009). */
    priority: integer('priority').notNull().default(1),
    /**
     * An email whose MIME is built when it is sent or shown (`raw` is empty): the composer's template id
     * and data (migration 0010). An event with hundreds of recipients commits at once; composing runs at
     * the mail server's pace.
     */
    deferred: text('deferred', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [
    /**
     * The claim's order (SqliteOutbox.claimDue): walked in order, it stops after LIMIT rows instead of
     * sorting every queued row (an event storm queues tens of thousands). Queued rows only: a sent row
     * leaves it (one index write instead of a move to the 'sent' part), and the index stays as small as
     * the queue while sent rows are kept for the retention time.
     */
    index('emails_claim_idx').on(t.priority, t.nextAttemptAt, t.createdAt).where(sql`status = 'queued'`),
    index('emails_created_idx').on(t.createdAt),
    /**
     * An escalation email's earlier ones in its conversation (threadMessageIds, for References). Only
     * escalation rows: notification emails, one per recipient of an event, would each dirty a page of it.
     */
    index('emails_thread_idx').on(t.conversationId, t.participantId, t.createdAt).where(sql`kind = 'escalation'`),
    /** Replies name the email they answer by its Message-ID (SPEC §8). */
    index('emails_message_id_header_idx').on(t.messageIdHeader),
  ],
);

// ─── Notification rules (NOTIFICATIONS.md) ───────────────────────────────────────────────────────

/** A definition as one JSON document; `name` is unique (§3). */
export const notificationDefinitions = sqliteTable('notification_definitions', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  doc: text('doc', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  builtIn: integer('built_in', { mode: 'boolean' }).notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Events from the host, with the audit of their deliveries (§2). */
export const notificationEvents = sqliteTable('notification_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  occurredAt: integer('occurred_at').notNull(),
  receivedAt: integer('received_at').notNull(),
  actorId: text('actor_id'),
  itemId: text('item_id'),
  deliveries: text('deliveries', { mode: 'json' }).$type<unknown[]>().notNull(),
  notFound: text('not_found', { mode: 'json' }).$type<unknown[]>().notNull(),
});

/** Web notifications (SPEC §3 Notification). */
export const notifications = sqliteTable(
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
    createdAt: integer('created_at').notNull(),
    seenAt: integer('seen_at'),
  },
  (t) => [
    /**
     * A participant's notifications newest first, and (seen_at in the key, so the count reads the index
     * alone) how many are unseen. One index per participant, not two: each insert lands on a page of
     * its recipient's, so a commit of an event storm's notifications dirties a page per recipient and
     * index (one index instead of two: 182 → 135 WAL frames a commit of 160, −20 % CPU an insert).
     */
    index('notifications_participant_idx').on(t.participantId, t.createdAt, t.id, t.seenAt),
  ],
);

/** Emails that go only if a web notification is still unseen at `due_at`. */
export const notificationTimers = sqliteTable(
  'notification_timers',
  {
    notificationId: text('notification_id').primaryKey(),
    eventId: text('event_id').notNull(),
    deliveryIndex: integer('delivery_index').notNull(),
    dueAt: integer('due_at').notNull(),
    email: text('email', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('notification_timers_due_idx').on(t.dueAt)],
);

/** Once-per-day marks: the last delivery of (definition, item, recipient, transport). `item_key` '' for none. */
export const notificationMarks = sqliteTable(
  'notification_marks',
  {
    definitionId: text('definition_id').notNull(),
    itemKey: text('item_key').notNull(),
    recipient: text('recipient').notNull(),
    transport: text('transport').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.definitionId, t.itemKey, t.recipient, t.transport] }), index('notification_marks_at_idx').on(t.at)],
);

/** The `to`/`cc` addresses of an item's first and last article (recipients …FirstArticle / …LastArticle). */
export const itemArticles = sqliteTable('item_articles', {
  itemId: text('item_id').primaryKey(),
  first: text('first', { mode: 'json' }).$type<string[]>().notNull(),
  last: text('last', { mode: 'json' }).$type<string[]>().notNull(),
});

// ─── Email in (SPEC §8) ──────────────────────────────────────────────────────────────────────────

/** Every inbound email with its one outcome, kept 72 h with its raw source. */
export const inboundEmails = sqliteTable(
  'inbound_emails',
  {
    id: text('id').primaryKey(),
    messageId: text('message_id').notNull(),
    fromAddress: text('from_address').notNull(),
    toAddresses: text('to_addresses', { mode: 'json' }).$type<string[]>().notNull(),
    subject: text('subject').notNull(),
    receivedAt: integer('received_at').notNull(),
    status: text('status', { enum: ['posted', 'ignored', 'rejected'] }).notNull(),
    reason: text('reason'),
    conversationId: text('conversation_id'),
    postedMessageId: text('posted_message_id'),
    /** The bytes as received (any 8-bit content kept exactly). */
    raw: blob('raw', { mode: 'buffer' }).notNull(),
  },
  (t) => [uniqueIndex('inbound_emails_message_id_idx').on(t.messageId), index('inbound_emails_received_idx').on(t.receivedAt), index('inbound_emails_from_idx').on(t.fromAddress, t.receivedAt)],
);

/** Reply addresses: a random id bound to one (conversation, participant), signed with key `key_id`. */
export const replyAddresses = sqliteTable(
  'reply_addresses',
  {
    rid: text('rid').primaryKey(),
    conversationId: text('conversation_id').notNull(),
    participantId: text('participant_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('reply_addresses_pair_idx').on(t.conversationId, t.participantId)],
);

/** Addresses that hard-bounced; escalation and notifications skip them until the address changes. */
export const bouncedAddresses = sqliteTable('bounced_addresses', {
  address: text('address').primaryKey(),
  status: text('status').notNull(),
  at: integer('at').notNull(),
});

// ─── Appointments, broadcasts, system emails (NOTIFICATIONS.md §1, §7, §8) ─────────────────────────

export const calendars = sqliteTable('calendars', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  color: text('color'),
  groupId: text('group_id'),
  updatedAt: integer('updated_at').notNull(),
});

/** Appointments; `reminder_at` with `reminded_at` null is a pending reminder (fired once, persisted). */
export const appointments = sqliteTable(
  'appointments',
  {
    id: text('id').primaryKey(),
    calendarId: text('calendar_id').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    location: text('location'),
    startAt: integer('start_at').notNull(),
    endAt: integer('end_at').notNull(),
    allDay: integer('all_day', { mode: 'boolean' }).notNull(),
    recurring: integer('recurring', { mode: 'boolean' }).notNull(),
    resourceIds: text('resource_ids', { mode: 'json' }).$type<string[]>().notNull(),
    reminderAt: integer('reminder_at'),
    remindedAt: integer('reminded_at'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('appointments_reminder_idx').on(t.remindedAt, t.reminderAt)],
);

/** Admin broadcasts (§7); their emails are outbox rows of kind `broadcast` (`conversation_id` = the broadcast id). */
export const broadcasts = sqliteTable('broadcasts', {
  id: text('id').primaryKey(),
  subject: text('subject').notNull(),
  recipients: integer('recipients').notNull(),
  skipped: integer('skipped').notNull(),
  createdAt: integer('created_at').notNull(),
});

/** Editable email templates: system email kinds and the escalation email's texts (§8). */
export const emailTemplates = sqliteTable('email_templates', {
  kind: text('kind').primaryKey(),
  doc: text('doc', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  updatedAt: integer('updated_at').notNull(),
});
