import type { Delivery, Notification, NotificationDefinition, PersonalTransport } from '../../../protocol/index.js';
import type { NotFound } from '../notifications/types.js';
import type { NewEmailRow } from './outbox-store.js';

/** One audit line of an event (NOTIFICATIONS §2), with what it produced. */
export interface DeliveryRecord extends Delivery {
  /** The outbox row (email or SMS) this delivery wrote, once written. */
  outboxId: string | null;
  /** The web notification this delivery wrote (and, for an only-if-unseen email, the one it waits on). */
  notificationId: string | null;
}

/** An event as stored: what the host sent, and every delivery with its reason (the audit). */
export interface EventRecord {
  id: string;
  type: string;
  occurredAt: number;
  receivedAt: number;
  actorId: string | null;
  itemId: string | null;
  deliveries: DeliveryRecord[];
  notFound: NotFound[];
}

/** A web notification as written (SPEC §3 Notification, plus its recipient). */
export interface NotificationRow extends Notification {
  participantId: string;
}

/** An email that goes only if a web notification is still unseen at `dueAt` (NOTIFICATIONS §3). */
export interface UnseenEmailTimer {
  /** The web notification it waits on. */
  notificationId: string;
  eventId: string;
  /** The index of the email delivery in the event's audit. */
  deliveryIndex: number;
  dueAt: number;
  email: NewEmailRow;
}

/** A once-per-day mark: (definition, item, recipient, transport) was delivered at `at`. */
export interface DeliveryMark {
  definitionId: string;
  itemKey: string | null;
  recipient: string;
  transport: PersonalTransport;
  at: number;
}

/** Everything one event writes, in one transaction. */
export interface EventCommit {
  event: EventRecord;
  /** Outbox rows: notification emails and SMS. */
  outbox: NewEmailRow[];
  notifications: NotificationRow[];
  timers: UnseenEmailTimer[];
  marks: DeliveryMark[];
  /** The item's first and last article addresses after this event (when it carried an article). */
  articleAddresses: { itemId: string; first: string[]; last: string[] } | null;
}

/** What the notification service keeps in memory, loaded at start. */
export interface NotificationState {
  definitions: NotificationDefinition[];
  /** Marks newer than `since` (once per day looks back 24 h). */
  marks: DeliveryMark[];
  articleAddresses: Array<{ itemId: string; first: string[]; last: string[] }>;
}

/**
 * Notification definitions, events with their audit, web notifications, once-per-day marks, article
 * addresses and only-if-unseen timers.
 *
 * Contract (every adapter, any number of writers sharing the storage):
 * - Every write is **durable on resolve** and rejects with ProtocolError `unavailable` when storage is
 *   closed or the commit failed; then nothing of it is stored.
 * - `putDefinitions` is atomic: all of the definitions or none (an import stores nothing of a rejected
 *   file). A definition's `name` is unique: a write that would give two definitions one name rejects
 *   with ProtocolError `conflict` and stores nothing.
 * - `commitEvent` is **insert-if-absent by event id** and atomic: the event with its audit, its outbox
 *   rows, web notifications, timers, marks and article addresses are written together, or (the id
 *   exists) nothing is written and it resolves false. So an event is acted on exactly once.
 * - `fireUnseenTimer` is atomic and happens once per timer: the email is queued only if the timer still
 *   exists and its notification is unseen; the timer is deleted either way and the audit updated
 *   (`queued` with the outbox id, or `skipped` `seen_in_time`). Racing callers: one wins, the others
 *   resolve `gone`.
 */
export interface NotificationStore {
  loadNotificationState(since: number): Promise<NotificationState>;

  putDefinitions(definitions: readonly NotificationDefinition[]): Promise<void>;
  deleteDefinition(id: string): Promise<boolean>;

  getEvent(id: string): Promise<EventRecord | null>;
  commitEvent(commit: EventCommit): Promise<boolean>;
  /** Outbox status (and last error) of these rows, for the audit; unknown ids are left out. */
  outboxStatus(ids: readonly string[]): Promise<Map<string, { status: 'queued' | 'sent' | 'failed'; error: string | null }>>;

  /** A participant's web notifications newest first, before the notification `before` (exclusive). */
  listNotifications(participantId: string, before: string | undefined, limit: number): Promise<{ notifications: Notification[]; hasMore: boolean; unseen: number }>;
  /** Mark these notifications of this participant seen at `at` (others' ids and seen ones are left alone); resolves how many changed. */
  markNotificationsSeen(participantId: string, ids: readonly string[], at: number): Promise<number>;

  /** Timers due at `now`, earliest first, at most `limit`. */
  dueUnseenTimers(now: number, limit: number): Promise<UnseenEmailTimer[]>;
  nextUnseenTimerAt(): Promise<number | null>;
  fireUnseenTimer(notificationId: string, at: number): Promise<'queued' | 'seen' | 'gone'>;
}
