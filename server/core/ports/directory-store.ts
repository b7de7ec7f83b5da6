import type { UserPreferences, CustomerPreferences } from '../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, ParticipantRecord, ProjectRecord } from '../model.js';

/** Everything the hub keeps in memory about host-owned entities and conversations, loaded at start. */
export interface DirectorySnapshot {
  participants: ParticipantRecord[];
  projects: ProjectRecord[];
  items: ItemRecord[];
  conversations: ConversationRecord[];
  /** Queue name → the group whose members may work on its items (NOTIFICATIONS §1). */
  queues: Array<{ name: string; groupId: string }>;
}

/**
 * Host-owned entities (participants, projects, items) and conversations with their members.
 *
 * Contract (every adapter, any number of writers — hubs — sharing the storage):
 * - **Durable on resolve**: a write's promise resolves only once the write is committed (it survives
 *   a crash of the writer); it rejects with ProtocolError `unavailable` when storage is closed or the
 *   commit failed, and then nothing of it is stored.
 * - **Atomic per call**: an entity and its relation set (followers, members) are written together or
 *   not at all; a reader never sees an item with half of its new followers.
 * - The `put*` writes are last-writer-wins on the whole entity (the host is the source of truth and
 *   sends whole entities); two writers racing leave one of the two versions, never a mix.
 * - `insertParticipantIfAbsent` is insert-if-absent: with concurrent callers for one id, exactly one
 *   row is created and every caller resolves that same stored participant (the first one).
 * - Writes issued by one caller resolve in the order they were issued.
 */
export interface DirectoryStore {
  /** Load every participant, project, item and conversation (with members, last seq and time). */
  loadDirectory(): Promise<DirectorySnapshot>;

  /** Create or replace a participant with its preferences. */
  putParticipant(p: ParticipantRecord): Promise<void>;
  /**
   * Create a participant unless one with its id exists (just-in-time creation); resolves the stored
   * participant, which is `p` or the one that was there first. Safe with concurrent writers.
   */
  insertParticipantIfAbsent(p: ParticipantRecord): Promise<ParticipantRecord>;
  /** Replace a participant's preferences (nothing when the participant does not exist). */
  putPreferences(participantId: string, preferences: UserPreferences | CustomerPreferences): Promise<void>;
  /** Create or replace a project and its whole follower set. */
  putProject(p: ProjectRecord): Promise<void>;
  /** Create or replace an item and its whole follower set. */
  putItem(i: ItemRecord): Promise<void>;
  /** Create or replace a queue's group. */
  putQueue(name: string, groupId: string): Promise<void>;
  /** Create a conversation with its initial members (its last seq is 0). Rejects when the id exists. */
  createConversation(c: ConversationRecord): Promise<void>;
}
