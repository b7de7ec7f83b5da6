import { nanoid } from 'nanoid';
import { ProtocolError, type ConversationsFrame, type OpenFrame, type Summary } from '../../../protocol/index.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import { isFollowing, relationSince } from '../rules/rules.js';
import type { Session } from '../session.js';
import { encode, type HubContext } from './context.js';
import type { Guard } from './guard.js';

export type NewConversation = Omit<ConversationRecord, 'id' | 'createdAt' | 'lastSeq' | 'lastMessageAt'>;

/**
 * Conversations (SPEC §3 `open`, `conversations`, Summary): one way to open one, for the WebSocket and
 * the host API alike, and each participant's view of them.
 */
export class ConversationUseCases {
  constructor(
    private readonly ctx: HubContext,
    private readonly guard: Guard,
  ) {}

  /** `open`: a user opens a direct conversation, a customer an inbox one. */
  async open(s: Session, f: OpenFrame): Promise<void> {
    const { clock, directory, limits, metrics } = this.ctx;
    const p = s.participant!;
    if (p.kind === 'bot') throw new ProtocolError('forbidden', 'bots open conversations through the HTTP API');
    const members = new Map<string, number>();
    const now = clock.now();
    members.set(p.id, now);
    let external = p.kind === 'customer';
    // A customer may name only users it already shares a conversation with (SPEC §3 `open`): naming
    // anyone else answers exactly as an unknown id, so staff cannot be enumerated.
    const peers = p.kind === 'customer' ? this.ctx.customerPeers(p) : null;
    for (const id of f.members) {
      const m = directory.participants.get(id);
      const allowed = m && !m.disabled && (peers ? peers.has(id) : true);
      if (!allowed) throw new ProtocolError('not_found', `no such participant: ${id}`);
      if (m.kind === 'customer') external = true;
      members.set(id, now);
    }
    if (p.kind === 'customer' && this.activeInboxes(p, now) >= limits.maxCustomerInboxes) {
      metrics.rateLimited('inboxes');
      throw new ProtocolError('rate_limited', `at most ${limits.maxCustomerInboxes} open support conversations: write in one of them`);
    }
    const c = await this.create({
      kind: p.kind === 'customer' ? 'inbox' : 'direct',
      visibility: external ? 'external' : 'internal',
      itemId: null,
      subject: f.subject ?? null,
      createdBy: p.id,
      members,
    });
    this.ctx.sendTo(s, { t: 'conversation', re: f.id, conversation: await this.summary(p, c) });
  }

  /** Create and store a conversation, subscribe the sessions that may see it, and push it to them. */
  async create(init: NewConversation): Promise<ConversationRecord> {
    const { clock, store, directory, sessions } = this.ctx;
    const c: ConversationRecord = { ...init, id: nanoid(), createdAt: clock.now(), lastSeq: 0, lastMessageAt: null };
    await store.createConversation(c);
    directory.addConversation(c);
    for (const v of directory.explicitViewers(c)) {
      if (c.kind !== 'direct' && directory.seesAllShared(v)) continue;
      for (const s of sessions.get(v.id) ?? []) {
        s.conn.subscribe(`c:${c.id}`);
        s.addTopic(`c:${c.id}`);
      }
    }
    this.ctx.events.publish('ConversationCreated', { conversation: c });
    await this.push(c);
    return c;
  }

  /** Push a conversation's Summary to every online viewer (each gets its own seen/unseen/following), through the bus. */
  async push(c: ConversationRecord): Promise<void> {
    for (const v of this.ctx.onlineViewers(c)) {
      this.ctx.bus.publish(`p:${v.id}`, encode({ t: 'conversation', conversation: await this.summary(v, c) }));
      this.ctx.metrics.frameOut('conversation');
    }
  }

  /** The conversation as the host sees it (Summary without the asker's fields). */
  describe(c: ConversationRecord) {
    return {
      id: c.id,
      kind: c.kind,
      visibility: c.visibility,
      itemId: c.itemId,
      subject: c.subject,
      members: this.ctx.directory.membersOf(c),
      createdAt: c.createdAt,
      lastSeq: c.lastSeq,
      lastMessageAt: c.lastMessageAt,
    };
  }

  async summary(p: ParticipantRecord, c: ConversationRecord): Promise<Summary> {
    const { store, directory } = this.ctx;
    const wm = (await store.getWatermarks(p.id, [c.id])).get(c.id);
    const seenUpTo = wm?.seenUpTo ?? 0;
    const from = await this.fromSeq(p, c);
    const below = Math.max(seenUpTo, from - 1);
    const unseen = c.lastSeq > below ? await store.countUnseen(c.id, p.id, below) : 0;
    const d = this.describe(c);
    if (from > c.lastSeq) d.lastMessageAt = null;
    return { ...d, seenUpTo, unseen, following: isFollowing(p, c, directory.context(c)) };
  }

  /**
   * The lowest seq p may read in c. A customer sees only what was written since its relation to c
   * began (membership, or becoming the item's customer): earlier messages are absent (SPEC §2).
   */
  async fromSeq(p: ParticipantRecord, c: ConversationRecord): Promise<number> {
    if (p.kind !== 'customer') return 1;
    const since = relationSince(p, c, this.ctx.directory.context(c));
    if (since === null || since <= c.createdAt) return 1;
    return this.ctx.store.firstSeqAt(c.id, since);
  }

  /** `conversations`: what p may see, most recent activity first, paged by an opaque cursor. */
  async list(s: Session, f: ConversationsFrame): Promise<void> {
    const p = s.participant!;
    const limit = f.limit ?? 50;
    let after: [number, string] | null = null;
    if (f.cursor !== undefined) after = decodeCursor(f.cursor);
    const activity = (c: ConversationRecord) => c.lastMessageAt ?? c.createdAt;
    // Most recent activity first, then id descending; the cursor is the last (activity, id) returned.
    const all = this.ctx.directory
      .visibleConversations(p)
      .filter((c) => !after || activity(c) < after[0] || (activity(c) === after[0] && c.id < after[1]))
      .sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    // At most `limit` summaries and the reply cap (at least one): the cursor continues after the last.
    const summaries: Summary[] = [];
    let bytes = 0;
    for (const c of all) {
      if (summaries.length === limit) break;
      const sum = await this.summary(p, c);
      bytes += Buffer.byteLength(JSON.stringify(sum));
      if (summaries.length > 0 && bytes > this.guard.replyCap) break;
      summaries.push(sum);
    }
    const last = all[summaries.length - 1];
    const cursor = all.length > summaries.length && last ? encodeCursor(activity(last), last.id) : null;
    this.guard.sendReply(s, { t: 'conversations', re: f.id, conversations: summaries, cursor });
  }

  /** Inbox conversations customer p opened that were active within the window (each can mean an email to every agent). */
  private activeInboxes(p: ParticipantRecord, now: number): number {
    const { directory, limits } = this.ctx;
    let n = 0;
    for (const cid of directory.memberConversations(p)) {
      const c = directory.conversations.get(cid)!;
      if (c.kind === 'inbox' && c.createdBy === p.id && (c.lastMessageAt ?? c.createdAt) > now - limits.customerInboxWindowMs) n++;
    }
    return n;
  }
}

function encodeCursor(activity: number, id: string): string {
  return Buffer.from(JSON.stringify([activity, id])).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') return [v[0] as number, v[1]];
  } catch {
    // fall through: a cursor we did not make
  }
  throw new ProtocolError('invalid', 'unknown cursor');
}
