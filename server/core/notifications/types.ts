import type {
  Article,
  DeliveryReason,
  NotificationDefinition,
  PersonalTransport,
} from '../../../protocol/index.js';
import type { ItemRecord, ParticipantRecord } from '../model.js';

/**
 * The inputs and outputs of the notification rules (NOTIFICATIONS.md §2–§4), shared by the pure
 * modules of this folder (matcher, tags, languages, OTOBO format) and the use case that runs them.
 * Nothing here does I/O.
 */

/** An appointment as the host put it (NOTIFICATIONS §1); the appointments issue fills these in. */
export interface AppointmentRecord {
  id: string;
  calendarId: string;
  title: string;
  description: string | null;
  location: string | null;
  startAt: number;
  endAt: number;
  allDay: boolean;
  recurring: boolean;
  resourceIds: string[];
  reminderAt: number | null;
}

export interface CalendarRecord {
  id: string;
  name: string;
  color: string | null;
  groupId: string | null;
}

/** One event as the rules see it: the item already carries the event's snapshot. */
export interface RuleEvent {
  id: string;
  type: string;
  occurredAt: number;
  actorId: string | null;
  item: ItemRecord | null;
  article: Article | null;
  appointment: AppointmentRecord | null;
  calendar: CalendarRecord | null;
}

/** What the matcher reads of the directory (the hub's in-memory copy answers it). */
export interface RulesDirectory {
  participant(id: string): ParticipantRecord | undefined;
  /** The participant whose email is this address (case-insensitive), if any. */
  participantByEmail(address: string): ParticipantRecord | undefined;
  /** Every user (kind `user`), for the relations that scan (my queues, my services, groups, roles). */
  users(): Iterable<ParticipantRecord>;
  /** The users with this queue among their queues, in users() order (AgentMyQueues without a full scan). */
  usersInQueue(queue: string): Iterable<ParticipantRecord>;
  /** The group that may work on a queue's items (PUT /v1/queues/{name}). */
  queueGroup(queue: string): string | undefined;
  /** The `to`/`cc` addresses of the item's first and last article (empty when none was posted). */
  articleAddresses(itemId: string): { first: readonly string[]; last: readonly string[] };
}

/** What the matcher reads of delivery history and address health. */
export interface DeliveryHistory {
  /** When this (definition, item, recipient, transport) was last delivered (sent or queued), if ever. */
  lastDeliveredAt(definitionId: string, itemId: string | null, recipient: string, transport: PersonalTransport): number | undefined;
  /** The address hard-bounced (SPEC §8) and has not changed since. */
  isBounced(address: string): boolean;
}

/**
 * One recipient × transport the matcher decided on. `reason` null: deliver; else skipped with the
 * first reason of §2's order that applies. Exactly one of `participantId` / `address` identifies the
 * recipient (an extra address, or an article address no participant has, is an address).
 */
export interface PlannedDelivery {
  definitionId: string;
  participantId: string | null;
  address: string | null;
  transport: PersonalTransport;
  reason: DeliveryReason | null;
}

/** Ids a definition names that the directory does not know (stored anyway: they may come later). */
export interface NotFound {
  definitionId: string;
  kind: 'agent' | 'group' | 'role';
  id: string;
}

export interface MatchResult {
  /** The event's type, the definition's validity, filter and article filter all hold. */
  matched: boolean;
  deliveries: PlannedDelivery[];
  notFound: NotFound[];
}

/** The matcher's signature (implemented in matcher.ts). */
export type Matcher = (
  event: RuleEvent,
  definition: NotificationDefinition,
  directory: RulesDirectory,
  history: DeliveryHistory,
  now: number,
) => MatchResult;

/** The values OTOBO's tags render from (§4); anything absent renders as `-`. */
export interface TagContext {
  item: ItemRecord | null;
  /** Display names of the item's owner / responsible / customer / the actor, looked up by the caller. */
  owner: ParticipantRecord | null;
  responsible: ParticipantRecord | null;
  customer: ParticipantRecord | null;
  actor: ParticipantRecord | null;
  /** The recipient; appointment times render in its `timezone` (UTC without one). */
  recipient: { name: string; email: string | null; timezone?: string | undefined } | null;
  article: Article | null;
  appointment: AppointmentRecord | null;
  calendar: CalendarRecord | null;
  /** `<OTOBO_CONFIG_X>` values: PARLEY_TAG_CONFIG over the defaults derived from PARLEY_APP_URL. */
  config: Readonly<Record<string, string>>;
}
