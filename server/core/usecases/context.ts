import { ProtocolError, type EmailStatus, type ErrorCode, type Message, type Receipt, type ServerFrame } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { HubLimits } from '../limits.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import type { Bus, Clock, EventBus, Logger, Metrics, PresenceStore, Store, Tokens } from '../ports/index.js';
import type { Session } from '../session.js';

/** What receipts ask escalation: what it did or will do about m for p (SPEC §3 Receipt.email). */
export interface EmailStatusQuery {
  emailStatus(p: ParticipantRecord, c: ConversationRecord, m: Message, r: Pick<Receipt, 'seenAt' | 'emailedAt'>): EmailStatus;
}

export interface HubPorts {
  events: EventBus;
  presence: PresenceStore;
  store: Store;
  bus: Bus;
  clock: Clock;
  tokens: Tokens;
  metrics: Metrics;
  logger: Logger;
}

export const encode = (f: ServerFrame): string => JSON.stringify(f);
/**
 * The topic of users whose access is `all`: frames about every item and inbox conversation. One topic for
 * both kinds, as whoever sees the one sees the other: a session costs one subscription, not two.
 */
export const SHARED_TOPIC = 'all';

/**
 * What every use case shares: the ports, the directory, the limits, the open sessions by participant,
 * and the few ways a frame leaves (to one session, to a conversation's topics, to the staff who may see
 * a conversation). The use cases in this folder each take it in their constructor.
 */
export class HubContext {
  readonly events: EventBus;
  readonly presence: PresenceStore;
  readonly store: Store;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly tokens: Tokens;
  readonly metrics: Metrics;
  readonly log: Logger;
  /**
   * Open sessions by participant id: a participant with none has no entry. Each list is replaced, never
   * changed, so a loop over one goes on safely while a session of it closes.
   */
  readonly sessions = new Map<string, readonly Session[]>();
  emailStatus: EmailStatusQuery | null = null;
  /**
   * Several hubs: read what other hubs wrote and this hub may not have heard of yet, before an id is
   * answered as unknown (a conversation created on another hub a moment ago). Null for one hub.
   */
  catchUp: (() => Promise<void>) | null = null;
  stopping = false;

  constructor(
    ports: HubPorts,
    readonly directory: Directory,
    readonly limits: HubLimits,
  ) {
    this.events = ports.events;
    this.presence = ports.presence;
    this.store = ports.store;
    this.bus = ports.bus;
    this.clock = ports.clock;
    this.tokens = ports.tokens;
    this.metrics = ports.metrics;
    this.log = ports.logger;
  }

  sendTo(s: Session, f: ServerFrame): void {
    if (s.phase === 'closed') return;
    this.metrics.frameOut(f.t);
    s.conn.send(encode(f));
  }

  sendEncoded(s: Session, type: string, frame: string): void {
    if (s.phase === 'closed') return;
    this.metrics.frameOut(type);
    s.conn.send(frame);
  }

  sendError(s: Session, code: ErrorCode, message: string, re: string | undefined): void {
    this.metrics.error(code);
    this.sendTo(s, re === undefined ? { t: 'error', code, message } : { t: 'error', re, code, message });
  }

  /** An error, then a close. */
  reject(s: Session, code: ErrorCode, message: string, closeCode: number): void {
    this.sendError(s, code, message, undefined);
    this.close(s, closeCode, message);
  }

  close(s: Session, code: number, reason: string): void {
    if (s.phase === 'closed') return;
    s.conn.close(code, reason);
  }

  /** The conversation if p may see it; `not_found` otherwise, exactly as for an unknown id. */
  visible(p: ParticipantRecord, conversationId: string): ConversationRecord {
    const c = this.directory.conversations.get(conversationId);
    if (!c || !this.directory.maySee(p, c)) throw new ProtocolError('not_found', 'no such conversation');
    return c;
  }

  /** Whether the participant has an open session on any hub (the presence port). */
  isOnline(participantId: string): boolean {
    return this.presence.online(participantId, this.clock.now());
  }

  /** Participants with an open session on any hub who may see c. */
  onlineViewers(c: ConversationRecord): ParticipantRecord[] {
    const out: ParticipantRecord[] = [];
    const seen = new Set<string>();
    const now = this.clock.now();
    for (const p of this.directory.explicitViewers(c)) {
      if (this.presence.online(p.id, now)) {
        out.push(p);
        seen.add(p.id);
      }
    }
    if (c.kind !== 'direct') {
      for (const id of this.directory.seeAllUsers()) {
        if (seen.has(id) || !this.presence.online(id, now)) continue;
        const p = this.directory.participants.get(id);
        if (p && this.directory.maySee(p, c)) out.push(p);
      }
    }
    return out;
  }

  /** One frame to everybody who may see c, through the conversation's topics. */
  publishToConversation(c: ConversationRecord, frame: string): void {
    this.bus.publish(`c:${c.id}`, frame);
    if (c.kind !== 'direct') this.bus.publish(SHARED_TOPIC, frame);
  }

  /**
   * A frame about a non-member (a user who sees c through a follow or access `all`) reaches staff
   * only: customers learn nothing about staff who are not members (SPEC §2).
   */
  publishToStaff(c: ConversationRecord, frame: string, type: string, except: string | null): void {
    for (const v of this.onlineViewers(c)) {
      if (v.id === except || v.kind === 'customer') continue;
      this.bus.publish(`p:${v.id}`, frame);
      this.metrics.frameOut(type);
    }
  }

  /** Users who are members of a conversation that customer p may see and is a member of. */
  customerPeers(p: ParticipantRecord): Set<string> {
    const peers = new Set<string>();
    for (const cid of this.directory.memberConversations(p)) {
      const c = this.directory.conversations.get(cid)!;
      if (!this.directory.maySee(p, c)) continue;
      for (const m of this.directory.membersOf(c)) if (this.directory.participants.get(m)?.kind === 'user') peers.add(m);
    }
    return peers;
  }

  /** The conversation topics of what p may see now (SPEC §3; the Bus port lists the topics). */
  topicsOf(p: ParticipantRecord): Set<string> {
    const want = new Set<string>();
    if (this.directory.seesAllShared(p)) want.add(SHARED_TOPIC);
    for (const c of this.directory.ownConversations(p)) want.add(`c:${c.id}`);
    return want;
  }

  /** Make a session's topic subscriptions match what its participant may see now. */
  syncTopics(s: Session): void {
    const want = this.topicsOf(s.participant!);
    for (const t of s.topics) if (!want.has(t)) s.conn.unsubscribe(t);
    for (const t of want) if (!s.topics.has(t)) s.conn.subscribe(t);
    s.setTopics(want);
  }
}
