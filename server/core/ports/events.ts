import type { Message } from '../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, ParticipantRecord, ProjectRecord } from '../model.js';

/**
 * What happened in core, told to whoever subscribed: escalation, receipt pushes, metrics, and the
 * coming notification rules. Core publishes; nothing in core calls a subscriber by name. Handlers run
 * synchronously in subscription order; one that throws is logged and does not stop the others.
 */
export interface DomainEvents {
  /** A message was committed (seq assigned) and fanned out; `notified` is everybody notify() holds for, online or not. */
  MessageCommitted: { conversation: ConversationRecord; message: Message; sender: ParticipantRecord; notified: readonly ParticipantRecord[] };
  /** A participant's seen watermark rose. */
  Seen: { conversation: ConversationRecord; participantId: string; upTo: number; at: number };
  /** An escalation email was committed to the outbox with its emailed watermark. */
  EmailCommitted: { conversation: ConversationRecord; participantId: string; upTo: number; at: number };
  /** A conversation was created. */
  ConversationCreated: { conversation: ConversationRecord };
  /** A conversation's explicit members changed (someone posted for the first time, or joined). */
  MembershipChanged: { conversation: ConversationRecord; participantIds: readonly string[] };
  /**
   * A host-owned entity was written (a participant with its preferences, a project, an item): a hub
   * that keeps a copy (every hub's directory, once there are several) reloads it.
   */
  DirectoryChanged: { entity: 'participant' | 'project' | 'item' | 'queue'; id: string };
  /**
   * What these participants may see or how they are treated changed (a participant, its preferences,
   * an item's followers or customer, a project's followers): caches and subscriptions are re-derived.
   */
  AudienceChanged: { participantIds: readonly string[] };
  /** The host wrote an item (`previous` null: it is new). Drives `ItemAssignmentUpdate` (NOTIFICATIONS §6). */
  ItemChanged: { item: ItemRecord; previous: ItemRecord | null };
  /** The host wrote a project. Drives `ProjectMemberAdd` (NOTIFICATIONS §6). */
  ProjectChanged: { project: ProjectRecord; previous: ProjectRecord | null };
  /** Rows were committed to the outbox outside escalation (notifications, SMS): the worker looks now. */
  OutboxQueued: { count: number };
}

export type DomainEventType = keyof DomainEvents;

export interface EventBus {
  publish<K extends DomainEventType>(type: K, event: DomainEvents[K]): void;
  /** Returns the function that unsubscribes. */
  subscribe<K extends DomainEventType>(type: K, handler: (event: DomainEvents[K]) => void): () => void;
}
