import type {
  ConversationKind,
  CustomerPreferences,
  Format,
  Item,
  Participant,
  ParticipantKind,
  Project,
  Source,
  UserPreferences,
  Visibility,
} from '../../protocol/index.js';

/**
 * The hub's in-memory view of host-owned and hub-owned entities. Relations carry the time they began
 * (SPEC §1), which escalation needs to decide email eligibility.
 */

/** participant id → the time the relation (membership, follow) began, ms. */
export type Relations = Map<string, number>;

export interface ParticipantRecord extends Participant {
  preferences: UserPreferences | CustomerPreferences;
  /** When `disabled` last went from true to false (null: never re-enabled). Older tokens are refused. */
  enabledAt: number | null;
}

export interface ProjectRecord extends Omit<Project, 'followers'> {
  followers: Relations;
}

export interface ItemRecord extends Omit<Item, 'followers'> {
  /** Explicit followers. The owner and the responsible user follow implicitly (see `roleSince`). */
  followers: Relations;
  /** When the current customerId / ownerId / responsibleId took that role. */
  roleSince: { customer: number | null; owner: number | null; responsible: number | null };
}

export interface ConversationRecord {
  id: string;
  kind: ConversationKind;
  visibility: Visibility;
  itemId: string | null;
  subject: string | null;
  createdBy: string | null;
  createdAt: number;
  /** Explicit members: the creator, chosen members, and everyone who posted. */
  members: Relations;
  lastSeq: number;
  lastMessageAt: number | null;
}

export interface NewMessage {
  conversationId: string;
  senderId: string;
  senderKind: ParticipantKind;
  body: string;
  format: Format;
  clientMsgId: string;
  source: Source;
  createdAt: number;
}

export function isUserPreferences(p: UserPreferences | CustomerPreferences): p is UserPreferences {
  return 'notifications' in p;
}
