import type { BroadcastStatus, CustomerPreferences, Message, UserPreferences } from '../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, NewMessage, ParticipantRecord, ProjectRecord } from '../../core/model.js';
import type { Notification, NotificationDefinition } from '../../../protocol/index.js';
import type { AppointmentRecord, CalendarRecord } from '../../core/notifications/types.js';
import type {
  DeferredEmail,
  StoredAppointment,
  InboundRow,
  SentEmailRef,
  EventCommit,
  EventRecord,
  NotificationState,
  UnseenEmailTimer,
  AppendResult,
  DirectorySnapshot,
  MarkOutcome,
  EmailRow,
  EmailSummary,
  EmailListFilter,
  InboundListFilter,
  HistoryPage,
  HistoryQuery,
  NewEmailRow,
  ReceiptTimes,
  Store,
  BroadcastCommit,
  WatermarkRow,
  TemplateDoc,
} from '../../core/ports/index.js';
import { SqliteBroadcasts } from './broadcasts.js';
import { SqliteDirectory } from './directory.js';
import { SqliteEngine, type SqliteEngineOptions } from './engine.js';
import { SqliteAppointments } from './appointments.js';
import { SqliteInbound } from './inbound.js';
import { SqliteMessages } from './messages.js';
import { SqliteNotifications } from './notifications.js';
import { SqliteOutbox } from './outbox.js';
import { SqliteTemplates } from './templates.js';
import { SqliteWatermarks } from './watermarks.js';

export { DELIVERED_WINDOW_MS } from './rise-queue.js';
export { inRuns, toRuns } from './watermarks.js';
export type SqliteStoreOptions = SqliteEngineOptions;

/**
 * The Store on SQLite: one engine (connection, migrations, group commit, checkpoints; engine.ts)
 * under four repositories — directory, messages, watermarks (with the write-behind RiseQueue),
 * outbox — all sharing its commits. This class only composes them.
 */
export class SqliteStore implements Store {
  private readonly engine: SqliteEngine;
  private readonly directory: SqliteDirectory;
  private readonly messages: SqliteMessages;
  private readonly watermarks: SqliteWatermarks;
  private readonly outbox: SqliteOutbox;
  private readonly notifications: SqliteNotifications;
  private readonly inbound: SqliteInbound;
  private readonly templates: SqliteTemplates;
  private readonly broadcasts: SqliteBroadcasts;
  private readonly appointments: SqliteAppointments;

  constructor(opts: SqliteStoreOptions) {
    this.engine = new SqliteEngine(opts);
    this.messages = new SqliteMessages(this.engine);
    this.directory = new SqliteDirectory(this.engine, this.messages);
    this.outbox = new SqliteOutbox(this.engine);
    this.watermarks = new SqliteWatermarks(this.engine, this.outbox);
    this.notifications = new SqliteNotifications(this.engine, this.outbox);
    this.inbound = new SqliteInbound(this.engine);
    this.templates = new SqliteTemplates(this.engine, this.outbox);
    this.broadcasts = new SqliteBroadcasts(this.engine, this.outbox);
    this.appointments = new SqliteAppointments(this.engine);
  }

  // ─── DirectoryStore ──────────────────────────────────────────────────────────────────────────────
  loadDirectory(): Promise<DirectorySnapshot> {
    return this.directory.loadDirectory();
  }
  putParticipant(p: ParticipantRecord): Promise<void> {
    return this.directory.putParticipant(p);
  }
  insertParticipantIfAbsent(p: ParticipantRecord): Promise<ParticipantRecord> {
    return this.directory.insertParticipantIfAbsent(p);
  }
  putPreferences(participantId: string, preferences: UserPreferences | CustomerPreferences): Promise<void> {
    return this.directory.putPreferences(participantId, preferences);
  }
  putProject(p: ProjectRecord): Promise<void> {
    return this.directory.putProject(p);
  }
  putItem(i: ItemRecord): Promise<void> {
    return this.directory.putItem(i);
  }
  createConversation(c: ConversationRecord): Promise<void> {
    return this.directory.createConversation(c);
  }
  putQueue(name: string, groupId: string): Promise<void> {
    return this.directory.putQueue(name, groupId);
  }

  // ─── MessageStore ────────────────────────────────────────────────────────────────────────────────
  appendMessage(m: NewMessage, joinAt?: number): Promise<AppendResult> {
    return this.messages.appendMessage(m, joinAt);
  }
  getMessage(id: string): Promise<Message | null> {
    return this.messages.getMessage(id);
  }
  listMessages(conversationId: string, q: HistoryQuery): Promise<HistoryPage> {
    return this.messages.listMessages(conversationId, q);
  }
  firstSeqAt(conversationId: string, at: number): Promise<number> {
    return this.messages.firstSeqAt(conversationId, at);
  }
  countUnseen(conversationId: string, participantId: string, afterSeq: number): Promise<number> {
    return this.messages.countUnseen(conversationId, participantId, afterSeq);
  }

  // ─── WatermarkStore ──────────────────────────────────────────────────────────────────────────────
  recordDelivered(conversationId: string, participantIds: readonly string[], upTo: number, at: number): void {
    this.watermarks.recordDelivered(conversationId, participantIds, upTo, at);
  }
  raiseSeen(participantId: string, conversationId: string, upTo: number, at: number): Promise<boolean> {
    return this.watermarks.raiseSeen(participantId, conversationId, upTo, at);
  }
  getWatermarks(participantId: string, conversationIds: readonly string[]): Promise<Map<string, WatermarkRow>> {
    return this.watermarks.getWatermarks(participantId, conversationIds);
  }
  receiptTimes(m: Pick<Message, 'conversationId' | 'seq' | 'createdAt'>): Promise<Map<string, ReceiptTimes>> {
    return this.watermarks.receiptTimes(m);
  }
  commitEscalation(row: NewEmailRow, expect: { seenUpTo: number; emailedUpTo: number }): Promise<boolean> {
    return this.watermarks.commitEscalation(row, expect);
  }

  // ─── OutboxStore ─────────────────────────────────────────────────────────────────────────────────
  claimDue(now: number, limit: number, leaseMs: number): Promise<EmailRow[]> {
    return this.outbox.claimDue(now, limit, leaseMs);
  }
  nextEmailAttemptAt(): Promise<number | null> {
    return this.outbox.nextEmailAttemptAt();
  }
  markEmail(id: string, outcome: MarkOutcome): Promise<void> {
    return this.outbox.markEmail(id, outcome);
  }
  threadMessageIds(conversationId: string, participantId: string, limit: number): Promise<string[]> {
    return this.outbox.threadMessageIds(conversationId, participantId, limit);
  }
  listEmails(since: number, limit: number, filter?: EmailListFilter): Promise<EmailSummary[]> {
    return this.outbox.listEmails(since, limit, filter);
  }
  getEmailSource(id: string): Promise<{ raw: string; deferred: DeferredEmail | null } | null> {
    return this.outbox.getEmailSource(id);
  }
  pruneEmails(before: number): Promise<number> {
    return this.outbox.pruneEmails(before);
  }

  // ─── NotificationStore ───────────────────────────────────────────────────────────────────────────
  loadNotificationState(since: number): Promise<NotificationState> {
    return this.notifications.loadNotificationState(since);
  }
  putDefinitions(definitions: readonly NotificationDefinition[]): Promise<void> {
    return this.notifications.putDefinitions(definitions);
  }
  deleteDefinition(id: string): Promise<boolean> {
    return this.notifications.deleteDefinition(id);
  }
  getEvent(id: string): Promise<EventRecord | null> {
    return this.notifications.getEvent(id);
  }
  commitEvent(commit: EventCommit): Promise<boolean> {
    return this.notifications.commitEvent(commit);
  }
  outboxStatus(ids: readonly string[]): Promise<Map<string, { status: 'queued' | 'sent' | 'failed'; error: string | null }>> {
    return this.notifications.outboxStatus(ids);
  }
  listNotifications(participantId: string, before: string | undefined, limit: number): Promise<{ notifications: Notification[]; hasMore: boolean; unseen: number }> {
    return this.notifications.listNotifications(participantId, before, limit);
  }
  markNotificationsSeen(participantId: string, ids: readonly string[], at: number): Promise<number> {
    return this.notifications.markNotificationsSeen(participantId, ids, at);
  }
  dueUnseenTimers(now: number, limit: number): Promise<UnseenEmailTimer[]> {
    return this.notifications.dueUnseenTimers(now, limit);
  }
  nextUnseenTimerAt(): Promise<number | null> {
    return this.notifications.nextUnseenTimerAt();
  }
  fireUnseenTimer(notificationId: string, at: number): Promise<'queued' | 'seen' | 'gone'> {
    return this.notifications.fireUnseenTimer(notificationId, at);
  }

  // ─── InboundStore ────────────────────────────────────────────────────────────────────────────────
  recordInbound(row: InboundRow, raw: Uint8Array): Promise<boolean> {
    return this.inbound.recordInbound(row, raw);
  }
  inboundByMessageId(messageId: string): Promise<InboundRow | null> {
    return this.inbound.inboundByMessageId(messageId);
  }
  listInbound(since: number, limit: number, filter?: InboundListFilter): Promise<InboundRow[]> {
    return this.inbound.listInbound(since, limit, filter);
  }
  getInboundRaw(id: string): Promise<Uint8Array | null> {
    return this.inbound.getInboundRaw(id);
  }
  countInboundFrom(address: string, since: number): Promise<number> {
    return this.inbound.countInboundFrom(address, since);
  }
  pruneInbound(before: number): Promise<number> {
    return this.inbound.pruneInbound(before);
  }
  replyRid(conversationId: string, participantId: string, candidate: string, at: number): Promise<string> {
    return this.inbound.replyRid(conversationId, participantId, candidate, at);
  }
  replyTarget(rid: string): Promise<{ conversationId: string; participantId: string } | null> {
    return this.inbound.replyTarget(rid);
  }
  sentEmailByMessageId(messageIdHeader: string): Promise<SentEmailRef | null> {
    return this.inbound.sentEmailByMessageId(messageIdHeader);
  }
  sentEmailById(id: string): Promise<SentEmailRef | null> {
    return this.inbound.sentEmailById(id);
  }
  markBounced(address: string, status: string, at: number): Promise<void> {
    return this.inbound.markBounced(address, status, at);
  }
  bouncedAddresses(): Promise<string[]> {
    return this.inbound.bouncedAddresses();
  }

  // ─── AppointmentStore ────────────────────────────────────────────────────────────────────────────
  loadAppointments(): Promise<{ calendars: CalendarRecord[]; appointments: StoredAppointment[] }> {
    return this.appointments.loadAppointments();
  }
  putCalendar(c: CalendarRecord): Promise<void> {
    return this.appointments.putCalendar(c);
  }
  putAppointment(a: AppointmentRecord): Promise<void> {
    return this.appointments.putAppointment(a);
  }
  deleteAppointment(id: string): Promise<boolean> {
    return this.appointments.deleteAppointment(id);
  }
  markReminded(id: string, reminderAt: number, at: number): Promise<boolean> {
    return this.appointments.markReminded(id, reminderAt, at);
  }

  // ─── BroadcastStore ──────────────────────────────────────────────────────────────────────────────
  commitBroadcast(commit: BroadcastCommit): Promise<void> {
    return this.broadcasts.commitBroadcast(commit);
  }
  getBroadcast(id: string): Promise<BroadcastStatus | null> {
    return this.broadcasts.getBroadcast(id);
  }

  // ─── TemplateStore ───────────────────────────────────────────────────────────────────────────────
  getTemplate(kind: string): Promise<TemplateDoc | null> {
    return this.templates.getTemplate(kind);
  }
  putTemplate(kind: string, doc: Record<string, unknown>, at: number): Promise<void> {
    return this.templates.putTemplate(kind, doc, at);
  }
  listTemplates(prefix: string): Promise<TemplateDoc[]> {
    return this.templates.listTemplates(prefix);
  }
  queueSystemEmail(row: NewEmailRow): Promise<void> {
    return this.templates.queueSystemEmail(row);
  }

  // ─── Lifecycle ───────────────────────────────────────────────────────────────────────────────────
  isReady(): boolean {
    return this.engine.isReady();
  }
  close(): Promise<void> {
    return this.engine.close();
  }
}
