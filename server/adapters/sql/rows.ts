import type { Message, Notification } from '../../../protocol/index.js';
import type { ItemRecord, ParticipantRecord } from '../../core/model.js';
import type { CalendarRecord } from '../../core/notifications/types.js';
import type { DeferredEmail, EmailRow, EmailSummary, InboundRow, ReceiptTimes, SentEmailRef, StoredAppointment, WatermarkRow } from '../../core/ports/index.js';

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

/** A `calendars` row as loaded. */
export type CalendarRowDb = { id: string; name: string; color: string | null; group_id: string | null };

export const toCalendar = (c: CalendarRowDb): CalendarRecord => ({ id: c.id, name: c.name, color: c.color, groupId: c.group_id });

/** An `appointments` row; `Flag` and `List` are how the dialect holds booleans and the resource ids. */
export type AppointmentRowDb<Flag, List> = {
  id: string;
  calendar_id: string;
  title: string;
  description: string | null;
  location: string | null;
  start_at: number;
  end_at: number;
  all_day: Flag;
  recurring: Flag;
  resource_ids: List;
  reminder_at: number | null;
  reminded_at: number | null;
};

export const toStoredAppointment = <Flag, List>(
  r: AppointmentRowDb<Flag, List>,
  flag: (f: Flag) => boolean,
  list: (l: List) => string[],
): StoredAppointment => ({
  id: r.id,
  calendarId: r.calendar_id,
  title: r.title,
  description: r.description,
  location: r.location,
  startAt: r.start_at,
  endAt: r.end_at,
  allDay: flag(r.all_day),
  recurring: flag(r.recurring),
  resourceIds: list(r.resource_ids),
  reminderAt: r.reminder_at,
  remindedAt: r.reminded_at,
});

/** A receipt of one message as the watermark store reads it; `Runs` is how the dialect holds seq runs. */
export type ReceiptRowDb<Runs> = {
  participant_id: string;
  kind: string;
  at: number;
  email_id: string | null;
  held_seqs: Runs | null;
  summarized_seqs: Runs | null;
};

/**
 * Each participant's receipt times of message `m`, from its receipt rows and the delivered rises still
 * waiting for their write-behind window (`pending`, those of this process). `runs` reads a seq-runs column.
 */
export function toReceiptTimes<Runs>(
  m: Pick<Message, 'seq' | 'createdAt'>,
  rows: ReadonlyArray<ReceiptRowDb<Runs>>,
  runs: (r: Runs) => ReadonlyArray<readonly [number, number]>,
  pending: Iterable<{ participantId: string; upTo: number; at: number }>,
): Map<string, ReceiptTimes> {
  const out = new Map<string, ReceiptTimes>();
  const entry = (participantId: string): ReceiptTimes => {
    let t = out.get(participantId);
    if (!t) out.set(participantId, (t = { participantId, deliveredAt: null, seenAt: null, emailedAt: null, emailId: null, emailed: null }));
    return t;
  };
  const inRuns = (r: Runs) => runs(r).some(([from, to]) => m.seq >= from && m.seq <= to);
  for (const r of rows) {
    const t = entry(r.participant_id);
    if (r.kind === 'seen') {
      t.seenAt = r.at;
      // Seeing implies delivery.
      if (t.deliveredAt === null || r.at < t.deliveredAt) t.deliveredAt = r.at;
    } else if (r.kind === 'delivered') {
      // A coalesced rise records its window's first time; no message is delivered before it exists.
      const at = Math.max(r.at, m.createdAt);
      if (t.deliveredAt === null || at < t.deliveredAt) t.deliveredAt = at;
    } else if (r.kind === 'emailed') {
      // Before migration 0004 a rise did not say what its email held: it covers the message.
      const emailed = r.held_seqs === null ? 'covered' : inRuns(r.held_seqs) ? 'held' : r.summarized_seqs !== null && inRuns(r.summarized_seqs) ? 'summarized' : null;
      if (emailed) {
        t.emailed = emailed;
        t.emailedAt = r.at;
        t.emailId = r.email_id;
      }
    }
  }
  // Delivered rises still waiting for their write-behind window count already.
  for (const r of pending) {
    if (r.upTo < m.seq) continue;
    const t = entry(r.participantId);
    const at = Math.max(r.at, m.createdAt);
    if (t.deliveredAt === null || at < t.deliveredAt) t.deliveredAt = at;
  }
  return out;
}

/** A `participants` row as both schemas type it: the record with its preferences as a JSON document, and when it was last written. */
export type ParticipantRowDb = Omit<ParticipantRecord, 'preferences'> & { preferences: Record<string, unknown>; updatedAt: number };

export function participantRow(p: ParticipantRecord): ParticipantRowDb {
  return {
    id: p.id,
    kind: p.kind,
    name: p.name,
    email: p.email,
    locale: p.locale,
    timezone: p.timezone,
    groups: p.groups,
    roles: p.roles,
    phone: p.phone,
    queues: p.queues,
    services: p.services,
    pgpPublicKey: p.pgpPublicKey,
    smimeCertificate: p.smimeCertificate,
    outOfOffice: p.outOfOffice,
    disabled: p.disabled,
    enabledAt: p.enabledAt,
    preferences: p.preferences as unknown as Record<string, unknown>,
    createdAt: p.createdAt,
    updatedAt: Date.now(),
  };
}

export function participantRecord({ updatedAt: _updatedAt, preferences, ...p }: Omit<ParticipantRecord, 'preferences'> & { preferences: unknown; updatedAt: number }): ParticipantRecord {
  return { ...p, preferences: preferences as ParticipantRecord['preferences'] };
}

/** Relation rows (followers, members) grouped by `key`: participant id → since. */
export function groupRelations<R extends { participantId: string; since: number }>(rows: R[], key: (r: R) => string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const k = key(r);
    let m = out.get(k);
    if (!m) out.set(k, (m = new Map()));
    m.set(r.participantId, r.since);
  }
  return out;
}

/** The `emails` columns of the outbox log, by their schema names (in either dialect's schema). */
const EMAIL_SUMMARY_FIELDS = ['id', 'toAddress', 'subject', 'kind', 'status', 'attempts', 'createdAt', 'sentAt', 'error', 'participantId', 'conversationId', 'messageIds'] as const;
type EmailSummaryField = (typeof EMAIL_SUMMARY_FIELDS)[number];

/** The columns of the outbox log from a dialect's `emails` table, for its select. */
export function emailSummaryColumns<Table extends Record<EmailSummaryField, unknown>>(e: Table): Pick<Table, EmailSummaryField> {
  const out = {} as Pick<Table, EmailSummaryField>;
  for (const f of EMAIL_SUMMARY_FIELDS) out[f] = e[f];
  return out;
}

/** An email of the outbox log as both stores select it. */
export type EmailSummaryRowDb = Omit<EmailSummary, 'to'> & { toAddress: EmailSummary['to'] };

export const toEmailSummary = ({ toAddress, ...r }: EmailSummaryRowDb): EmailSummary => ({
  id: r.id,
  to: toAddress,
  subject: r.subject,
  kind: r.kind,
  status: r.status,
  attempts: r.attempts,
  createdAt: r.createdAt,
  sentAt: r.sentAt,
  error: r.error,
  participantId: r.participantId,
  conversationId: r.conversationId,
  messageIds: r.messageIds,
});

/** An `items` row to write (its followers apart); `fields` is how the dialect holds the custom fields. */
export function itemRow<Fields>(i: ItemRecord, fields: (f: ItemRecord['fields']) => Fields) {
  return {
    id: i.id,
    kind: i.kind,
    title: i.title,
    projectId: i.projectId,
    number: i.number,
    status: i.status,
    priority: i.priority,
    queue: i.queue,
    customerId: i.customerId,
    customerSince: i.roleSince.customer,
    ownerId: i.ownerId,
    ownerSince: i.roleSince.owner,
    responsibleId: i.responsibleId,
    responsibleSince: i.roleSince.responsible,
    lock: i.lock,
    service: i.service,
    type: i.type,
    createdBy: i.createdBy,
    customerCompany: i.customerCompany,
    fields: fields(i.fields),
    createdAt: i.createdAt,
  };
}

/** A `watermarks` row of one participant. */
export type WatermarkRowDb = { conversation_id: string; delivered_up_to: number; seen_up_to: number; emailed_up_to: number };

export const toWatermark = (participantId: string, r: WatermarkRowDb): WatermarkRow => ({
  participantId,
  conversationId: r.conversation_id,
  deliveredUpTo: r.delivered_up_to,
  seenUpTo: r.seen_up_to,
  emailedUpTo: r.emailed_up_to,
});

/** An `emails` row as a claim returns it; `List` and `Doc` are how the dialect holds the message ids and the deferred document. */
export type ClaimedRowDb<List, Doc> = {
  priority: number;
  id: string;
  kind: EmailRow['kind'];
  channel: EmailRow['channel'];
  participant_id: string;
  conversation_id: string;
  to_address: string;
  subject: string;
  message_id_header: string;
  message_ids: List;
  raw: string;
  status: EmailRow['status'];
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  sent_at: number | null;
  error: string | null;
  lease_until: number;
  deferred: Doc | null;
};

/** The rows of a claim as emails, in claim order (RETURNING follows no ORDER BY: sorted as the claim selected them). */
export function claimedEmails<List, Doc>(
  rows: Array<ClaimedRowDb<List, Doc>>,
  ids: (l: List) => string[],
  deferred: (d: Doc | null) => DeferredEmail | null,
): EmailRow[] {
  rows.sort((a, b) => a.priority - b.priority || a.next_attempt_at - b.next_attempt_at || a.created_at - b.created_at);
  return rows.map(
    (r): EmailRow => ({
      id: r.id,
      to: r.to_address,
      subject: r.subject,
      kind: r.kind,
      channel: r.channel,
      status: r.status,
      attempts: r.attempts,
      createdAt: r.created_at,
      sentAt: r.sent_at,
      error: r.error,
      participantId: r.participant_id,
      conversationId: r.conversation_id,
      messageIds: ids(r.message_ids),
      raw: r.raw,
      messageIdHeader: r.message_id_header,
      nextAttemptAt: r.next_attempt_at,
      leaseUntil: r.lease_until,
      deferred: deferred(r.deferred),
    }),
  );
}
