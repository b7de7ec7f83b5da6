import { eq } from 'drizzle-orm';
import type { CustomerPreferences, UserPreferences } from '../../../protocol/index.js';
import type { ConversationRecord, ItemRecord, ParticipantRecord, ProjectRecord } from '../../core/model.js';
import type { DirectorySnapshot, DirectoryStore } from '../../core/ports/index.js';
import { groupRelations, itemRow, participantRecord, participantRow } from '../sql/rows.js';
import type { PgEngine } from './engine.js';
import * as schema from './schema.js';

/**
 * Participants, projects, items, conversations and members on PostgreSQL (drizzle: these are cold
 * paths). Each write is one operation of the group commit, so an entity and its relation set commit
 * together; `put*` are upserts of the whole entity (last writer wins).
 */
export class PgDirectory implements DirectoryStore {
  constructor(private readonly engine: PgEngine) {}

  insertParticipantIfAbsent(p: ParticipantRecord): Promise<ParticipantRecord> {
    return this.engine.enqueue(async (tx) => {
      // With racing writers the second insert waits for the first to commit, then does nothing; the
      // select that follows sees the committed row.
      await tx.db.insert(schema.participants).values(participantRow(p)).onConflictDoNothing({ target: schema.participants.id });
      const [stored] = await tx.db.select().from(schema.participants).where(eq(schema.participants.id, p.id));
      return stored ? participantRecord(stored) : p;
    });
  }

  putParticipant(p: ParticipantRecord): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      const row = participantRow(p);
      await tx.db.insert(schema.participants).values(row).onConflictDoUpdate({ target: schema.participants.id, set: row });
    });
  }

  putPreferences(participantId: string, preferences: UserPreferences | CustomerPreferences): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      await tx.db
        .update(schema.participants)
        .set({ preferences: preferences as unknown as Record<string, unknown>, updatedAt: Date.now() })
        .where(eq(schema.participants.id, participantId));
    });
  }

  putProject(p: ProjectRecord): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      await tx.db
        .insert(schema.projects)
        .values({ id: p.id, name: p.name, createdAt: p.createdAt })
        .onConflictDoUpdate({ target: schema.projects.id, set: { name: p.name } });
      await tx.db.delete(schema.projectFollowers).where(eq(schema.projectFollowers.projectId, p.id));
      if (p.followers.size) {
        await tx.db.insert(schema.projectFollowers).values([...p.followers].map(([participantId, since]) => ({ projectId: p.id, participantId, since })));
      }
    });
  }

  putItem(i: ItemRecord): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      const row = itemRow(i, (f) => f);
      await tx.db.insert(schema.items).values(row).onConflictDoUpdate({ target: schema.items.id, set: row });
      await tx.db.delete(schema.itemFollowers).where(eq(schema.itemFollowers.itemId, i.id));
      if (i.followers.size) {
        await tx.db.insert(schema.itemFollowers).values([...i.followers].map(([participantId, since]) => ({ itemId: i.id, participantId, since })));
      }
    });
  }

  putQueue(name: string, groupId: string): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      const row = { name, groupId, updatedAt: Date.now() };
      await tx.db.insert(schema.queues).values(row).onConflictDoUpdate({ target: schema.queues.name, set: row });
    });
  }

  createConversation(c: ConversationRecord): Promise<void> {
    // A savepoint: an id that exists rejects this call alone (the commit goes on).
    return this.engine.enqueue(
      async (tx) => {
        await tx.db
          .insert(schema.conversations)
          .values({ id: c.id, kind: c.kind, visibility: c.visibility, itemId: c.itemId, subject: c.subject, createdBy: c.createdBy, createdAt: c.createdAt, lastSeq: 0 });
        if (c.members.size) {
          await tx.db.insert(schema.conversationMembers).values([...c.members].map(([participantId, since]) => ({ conversationId: c.id, participantId, since })));
        }
      },
      { savepoint: true },
    );
  }

  loadDirectory(): Promise<DirectorySnapshot> {
    return this.engine.snapshot(async (tx) => {
      const db = tx.db;
      const participants = await db.select().from(schema.participants);
      const projects = await db.select().from(schema.projects);
      const projectFollowerRows = await db.select().from(schema.projectFollowers);
      const items = await db.select().from(schema.items);
      const itemFollowerRows = await db.select().from(schema.itemFollowers);
      const conversations = await db.select().from(schema.conversations);
      const memberRows = await db.select().from(schema.conversationMembers);
      const queues = await db.select({ name: schema.queues.name, groupId: schema.queues.groupId }).from(schema.queues);
      // The last message's time: one probe per conversation of the (conversation_id, seq) index.
      const lastRows = await tx.query<{ id: string; at: number | null }>(
        'SELECT c.id, (SELECT m.created_at FROM messages m WHERE m.conversation_id = c.id ORDER BY m.seq DESC LIMIT 1) AS at FROM conversations c',
      );
      const lastAt = new Map(lastRows.map((r) => [r.id, r.at]));
      const projectFollowers = groupRelations(projectFollowerRows, (r) => r.projectId);
      const itemFollowers = groupRelations(itemFollowerRows, (r) => r.itemId);
      const members = groupRelations(memberRows, (r) => r.conversationId);
      return {
        participants: participants.map(participantRecord),
        projects: projects.map((p) => ({ ...p, followers: projectFollowers.get(p.id) ?? new Map() })),
        items: items.map(({ customerSince, ownerSince, responsibleSince, ...i }) => ({
          ...i,
          followers: itemFollowers.get(i.id) ?? new Map(),
          roleSince: { customer: customerSince, owner: ownerSince, responsible: responsibleSince },
        })),
        conversations: conversations.map(({ lastSeq, ...c }) => ({
          ...c,
          members: members.get(c.id) ?? new Map(),
          lastSeq,
          lastMessageAt: lastAt.get(c.id) ?? null,
        })),
        queues,
      };
    });
  }
}
