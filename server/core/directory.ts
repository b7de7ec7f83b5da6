import type { DirectorySnapshot } from './ports/index.js';
import type { ConversationRecord, ItemRecord, ParticipantRecord, ProjectRecord } from './model.js';
import { isUserPreferences } from './model.js';
import { maySee, type RulesContext } from './rules/rules.js';

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let s = index.get(key);
  if (!s) index.set(key, (s = new Set()));
  s.add(value);
}
function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const s = index.get(key);
  if (!s) return;
  s.delete(value);
  if (s.size === 0) index.delete(key);
}

/**
 * The hub's in-memory directory of participants, projects, items and conversations, with the reverse
 * indexes that turn SPEC §2's rules into cheap lookups: "which conversations may p see" and "who may
 * see c". The store is the durable copy; this hub is its only writer, so the two never disagree.
 * Every answer here is filtered through the rules module, so the indexes can only narrow work, never
 * widen what anybody sees.
 */
export class Directory {
  readonly participants = new Map<string, ParticipantRecord>();
  readonly projects = new Map<string, ProjectRecord>();
  readonly items = new Map<string, ItemRecord>();
  readonly conversations = new Map<string, ConversationRecord>();
  /** Queue name → the group whose members may work on its items (NOTIFICATIONS §1). */
  readonly queues = new Map<string, string>();
  /** Every user, rebuilt on the first read after a participant changed (the rules scan it per event). */
  private usersCache: ParticipantRecord[] | null = null;
  /** Queue → its users, in users() order; rebuilt with usersCache (AgentMyQueues reads it per event). */
  private usersByQueueCache: Map<string, ParticipantRecord[]> | null = null;
  /** Lowercased email → participant ids with it (an address may be shared; the first known wins). */
  private readonly byEmail = new Map<string, Set<string>>();

  private readonly convsByMember = new Map<string, Set<string>>();
  private readonly convsByItem = new Map<string, Set<string>>();
  private readonly itemsByCustomer = new Map<string, Set<string>>();
  /** Explicit followers, owners and responsible users. */
  private readonly itemsByFollower = new Map<string, Set<string>>();
  private readonly itemsByProject = new Map<string, Set<string>>();
  private readonly projectsByFollower = new Map<string, Set<string>>();
  private readonly sharedConvs = { item: new Set<string>(), inbox: new Set<string>() };
  /** Users whose access is `all`: they may see every item and inbox conversation. */
  private readonly seeAll = new Set<string>();

  load(s: DirectorySnapshot): void {
    for (const p of s.participants) this.setParticipant(p);
    for (const p of s.projects) this.setProject(p);
    for (const i of s.items) this.setItem(i);
    for (const c of s.conversations) this.addConversation(c);
    for (const q of s.queues) this.queues.set(q.name, q.groupId);
  }

  context(c: ConversationRecord): RulesContext {
    const item = c.itemId !== null ? this.items.get(c.itemId) : undefined;
    const project = item?.projectId ? this.projects.get(item.projectId) : undefined;
    return { item, project };
  }

  maySee(p: ParticipantRecord, c: ConversationRecord): boolean {
    return maySee(p, c, this.context(c));
  }

  /** Every participant of kind `user`. */
  users(): readonly ParticipantRecord[] {
    if (!this.usersCache) {
      this.usersCache = [];
      for (const p of this.participants.values()) if (p.kind === 'user') this.usersCache.push(p);
    }
    return this.usersCache;
  }

  /** The users with this queue among their queues, in users() order. */
  usersInQueue(queue: string): readonly ParticipantRecord[] {
    if (!this.usersByQueueCache) {
      const index = new Map<string, ParticipantRecord[]>();
      for (const u of this.users()) {
        for (const q of u.queues) {
          const list = index.get(q);
          if (!list) index.set(q, [u]);
          else if (list[list.length - 1] !== u) list.push(u); // a queue named twice counts once
        }
      }
      this.usersByQueueCache = index;
    }
    return this.usersByQueueCache.get(queue) ?? [];
  }

  /** The item's conversations, oldest first. */
  itemConversations(itemId: string): ConversationRecord[] {
    const out: ConversationRecord[] = [];
    for (const cid of this.convsByItem.get(itemId) ?? []) {
      const c = this.conversations.get(cid);
      if (c) out.push(c);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  /** The participant with this email address (case-insensitive); with several, the earliest created. */
  participantByEmail(address: string): ParticipantRecord | undefined {
    let best: ParticipantRecord | undefined;
    for (const id of this.byEmail.get(address.toLowerCase()) ?? []) {
      const p = this.participants.get(id);
      if (p && (!best || p.createdAt < best.createdAt)) best = p;
    }
    return best;
  }

  setParticipant(p: ParticipantRecord): void {
    this.usersCache = null;
    this.usersByQueueCache = null;
    const old = this.participants.get(p.id);
    if (old?.email) this.byEmail.get(old.email.toLowerCase())?.delete(p.id);
    if (p.email) {
      const key = p.email.toLowerCase();
      let ids = this.byEmail.get(key);
      if (!ids) this.byEmail.set(key, (ids = new Set()));
      ids.add(p.id);
    }
    this.participants.set(p.id, p);
    if (this.seesAllShared(p)) this.seeAll.add(p.id);
    else this.seeAll.delete(p.id);
  }

  deleteParticipant(id: string): void {
    this.usersCache = null;
    this.usersByQueueCache = null;
    const old = this.participants.get(id);
    if (old?.email) this.byEmail.get(old.email.toLowerCase())?.delete(id);
    this.participants.delete(id);
    this.seeAll.delete(id);
  }

  setProject(p: ProjectRecord): void {
    this.deleteProject(p.id);
    this.projects.set(p.id, p);
    for (const f of p.followers.keys()) addTo(this.projectsByFollower, f, p.id);
  }

  deleteProject(id: string): void {
    const old = this.projects.get(id);
    if (old) for (const f of old.followers.keys()) removeFrom(this.projectsByFollower, f, id);
    this.projects.delete(id);
  }

  setItem(i: ItemRecord): void {
    this.deleteItem(i.id);
    this.items.set(i.id, i);
    for (const f of itemFollowerIds(i)) addTo(this.itemsByFollower, f, i.id);
    if (i.customerId) addTo(this.itemsByCustomer, i.customerId, i.id);
    if (i.projectId) addTo(this.itemsByProject, i.projectId, i.id);
  }

  deleteItem(id: string): void {
    const old = this.items.get(id);
    if (!old) return;
    for (const f of itemFollowerIds(old)) removeFrom(this.itemsByFollower, f, id);
    if (old.customerId) removeFrom(this.itemsByCustomer, old.customerId, id);
    if (old.projectId) removeFrom(this.itemsByProject, old.projectId, id);
    this.items.delete(id);
  }

  addConversation(c: ConversationRecord): void {
    this.conversations.set(c.id, c);
    for (const m of c.members.keys()) addTo(this.convsByMember, m, c.id);
    if (c.itemId !== null) addTo(this.convsByItem, c.itemId, c.id);
    if (c.kind !== 'direct') this.sharedConvs[c.kind].add(c.id);
  }

  addMember(c: ConversationRecord, participantId: string, since: number): void {
    if (c.members.has(participantId)) return;
    c.members.set(participantId, since);
    addTo(this.convsByMember, participantId, c.id);
  }

  /** Explicit members plus, for an external item conversation, the item's customer. */
  membersOf(c: ConversationRecord): string[] {
    const ids = [...c.members.keys()];
    if (c.kind === 'item' && c.visibility === 'external' && c.itemId !== null) {
      const customerId = this.items.get(c.itemId)?.customerId;
      if (customerId && !c.members.has(customerId) && this.participants.get(customerId)?.kind === 'customer') ids.push(customerId);
    }
    return ids;
  }

  /** Conversations p is a member of (explicitly, or as the customer of an external item conversation). */
  memberConversations(p: ParticipantRecord): Set<string> {
    const out = new Set(this.convsByMember.get(p.id));
    if (p.kind === 'customer') {
      for (const itemId of this.itemsByCustomer.get(p.id) ?? []) {
        for (const cid of this.convsByItem.get(itemId) ?? []) if (this.conversations.get(cid)?.visibility === 'external') out.add(cid);
      }
    }
    return out;
  }

  /** Users whose access is `all` (they may see every item and inbox conversation). */
  seeAllUsers(): ReadonlySet<string> {
    return this.seeAll;
  }

  /** Whether p's access preference is `all`: it sees every item and inbox conversation. */
  seesAllShared(p: ParticipantRecord): boolean {
    return p.kind === 'user' && isUserPreferences(p.preferences) && p.preferences.access.viewConversations === 'all';
  }

  /**
   * Conversations p may see that are not covered by the shared `all` topic — the
   * ones p's sessions subscribe to one by one. For a user with access `all` that is its direct ones.
   */
  ownConversations(p: ParticipantRecord): ConversationRecord[] {
    const ids = this.memberConversations(p);
    if (p.kind === 'user') {
      for (const itemId of this.itemsByFollower.get(p.id) ?? []) for (const cid of this.convsByItem.get(itemId) ?? []) ids.add(cid);
      if (isUserPreferences(p.preferences) && p.preferences.access.viewConversations === 'mine') {
        for (const projectId of this.projectsByFollower.get(p.id) ?? []) {
          for (const itemId of this.itemsByProject.get(projectId) ?? []) for (const cid of this.convsByItem.get(itemId) ?? []) ids.add(cid);
        }
      }
    }
    const all = this.seesAllShared(p);
    const out: ConversationRecord[] = [];
    for (const id of ids) {
      const c = this.conversations.get(id);
      if (!c || (all && c.kind !== 'direct')) continue;
      if (this.maySee(p, c)) out.push(c);
    }
    return out;
  }

  /** Every conversation p may see. */
  visibleConversations(p: ParticipantRecord): ConversationRecord[] {
    const out = this.ownConversations(p);
    if (this.seesAllShared(p)) {
      for (const kind of ['item', 'inbox'] as const) for (const id of this.sharedConvs[kind]) out.push(this.conversations.get(id)!);
    }
    return out;
  }

  /**
   * Participants who may see c through membership or follows (not through access `all`), checked by the
   * rules. Together with the users whose access is `all` (for item and inbox conversations) this is
   * everybody who may see c.
   */
  explicitViewers(c: ConversationRecord): ParticipantRecord[] {
    const ctx = this.context(c);
    const out: ParticipantRecord[] = [];
    const add = (id: string) => {
      const p = this.participants.get(id);
      if (p && maySee(p, c, ctx)) out.push(p);
    };
    const { item, project } = ctx;
    if (!item) {
      // Explicit members only (every direct and inbox conversation, on the hot path of each message).
      for (const id of c.members.keys()) add(id);
      return out;
    }
    const ids = new Set(this.membersOf(c));
    for (const f of itemFollowerIds(item)) ids.add(f);
    if (project) for (const f of project.followers.keys()) ids.add(f);
    for (const id of ids) add(id);
    return out;
  }

  /** Everybody who may see c, online or not (receipts, escalation). */
  allViewers(c: ConversationRecord): ParticipantRecord[] {
    const out = this.explicitViewers(c);
    if (c.kind === 'direct' || this.seeAll.size === 0) return out;
    const ctx = this.context(c);
    const seen = new Set(out.map((p) => p.id));
    for (const id of this.seeAll) {
      const p = this.participants.get(id)!;
      if (!seen.has(id) && maySee(p, c, ctx)) out.push(p);
    }
    return out;
  }

  /** Participants whose visibility of some conversation depends on this item (for re-subscription). */
  itemAudience(i: ItemRecord): Set<string> {
    const ids = new Set(itemFollowerIds(i));
    if (i.customerId) ids.add(i.customerId);
    if (i.projectId) for (const f of this.projects.get(i.projectId)?.followers.keys() ?? []) ids.add(f);
    for (const cid of this.convsByItem.get(i.id) ?? []) for (const m of this.conversations.get(cid)?.members.keys() ?? []) ids.add(m);
    return ids;
  }
}

export function itemFollowerIds(i: ItemRecord): string[] {
  const ids = [...i.followers.keys()];
  if (i.ownerId && !i.followers.has(i.ownerId)) ids.push(i.ownerId);
  if (i.responsibleId && i.responsibleId !== i.ownerId && !i.followers.has(i.responsibleId)) ids.push(i.responsibleId);
  return ids;
}
