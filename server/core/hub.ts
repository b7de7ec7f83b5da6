import { nanoid } from 'nanoid';
import {
  CloseCode,
  DEFAULT_CUSTOMER_PREFERENCES,
  DEFAULT_USER_PREFERENCES,
  MAX_BODY_CHARS,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeClientFrame,
  type ClientFrame,
  type ConversationsFrame,
  type DecodeResult,
  type EmailStatus,
  type ErrorCode,
  type HelloFrame,
  type HistoryFrame,
  type Message,
  type OpenFrame,
  type PresenceState,
  type Receipt,
  type ReceiptsFrame,
  type RefreshFrame,
  type SendFrame,
  type ServerFrame,
  type Summary,
  type WhoFrame,
} from '../../protocol/index.js';
import { Directory } from './directory.js';
import type { ConversationRecord, NewMessage, ParticipantRecord } from './model.js';
import type { Bus, Clock, Connection, Logger, Metrics, Store, TimerHandle, TokenClaims, Tokens } from './ports/index.js';
import { isFollowing, isMember, mayPostWs, notify, relationSince } from './rules/rules.js';
import { DEFAULT_LIMITS, ParticipantLimits, type HubLimits, type Rate, type RateKind } from './limits.js';
import { FairQueue } from './fair-queue.js';
import { Session, WindowCounter } from './session.js';

export interface HubOptions {
  store: Store;
  bus: Bus;
  clock: Clock;
  tokens: Tokens;
  metrics: Metrics;
  logger: Logger;
  limits?: Partial<HubLimits>;
}

export { DEFAULT_LIMITS, type HubLimits };

/** What the hub tells escalation, and asks of it (see escalation/escalation.ts). */
export interface EscalationHooks {
  /** m was committed in c; `notified` is everybody it notifies (SPEC §2), online or not. */
  onMessage(c: ConversationRecord, m: Message, notified: readonly ParticipantRecord[]): void;
  onSeen(participantId: string, c: ConversationRecord, upTo: number): void;
  emailStatus(p: ParticipantRecord, c: ConversationRecord, m: Message, r: Pick<Receipt, 'seenAt' | 'emailedAt'>): EmailStatus;
}

interface PresenceInfo {
  state: PresenceState;
  lastActiveAt: number | null;
  offlineTimer: TimerHandle | null;
}

const SHARED_TOPIC = { item: 'all:item', inbox: 'all:inbox' } as const;
/** History is read this many messages at a time, until the page or the reply cap is full. */
const HISTORY_CHUNK = 25;
/** Requests whose reply can be large: refused while the participant has too much unread. */
type ReplyFrame = ConversationsFrame | HistoryFrame | ReceiptsFrame | WhoFrame;
const isReply = (f: ClientFrame): f is ReplyFrame => f.t === 'conversations' || f.t === 'history' || f.t === 'receipts' || f.t === 'who';
const encode = (f: ServerFrame): string => JSON.stringify(f);

/**
 * The hub: sessions, presence, and the use cases behind every WebSocket frame (SPEC §3). Talks to the
 * world only through its ports. Every routing decision goes through the rules module via Directory.
 */
export class Hub {
  readonly directory = new Directory();
  readonly limits: HubLimits;
  private readonly store: Store;
  private readonly bus: Bus;
  private readonly clock: Clock;
  private readonly tokens: Tokens;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly sessions = new Map<string, Set<Session>>();
  /** Online users whose access is `all`: the audience of every item and inbox conversation. */
  private readonly onlineSeeAll = new Set<string>();
  private readonly watchers = new Map<string, Set<Session>>();
  private readonly presence = new Map<string, PresenceInfo>();
  private readonly participantLimits = new Map<string, ParticipantLimits>();
  private readonly heavy = new FairQueue();
  /** The bytes one reply may take: the configured cap, and at most a quarter of the slow-consumer bound. */
  private readonly replyCap: number;
  private sweeper: TimerHandle | null = null;
  private sweeps = 0;
  private stopping = false;
  private escalation: EscalationHooks | null = null;

  constructor(opts: HubOptions) {
    this.store = opts.store;
    this.bus = opts.bus;
    this.clock = opts.clock;
    this.tokens = opts.tokens;
    this.metrics = opts.metrics;
    this.log = opts.logger;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.replyCap = Math.min(this.limits.maxReplyBytes, Math.floor(this.limits.maxBackpressureBytes / 4));
  }

  async start(): Promise<void> {
    this.directory.load(await this.store.loadDirectory());
    this.sweeper = this.clock.setTimer(1000, () => this.sweep());
  }

  /** Connect escalation (built after the hub, as it shares the hub's directory). */
  setEscalation(e: EscalationHooks): void {
    this.escalation = e;
  }

  /** p's emailed watermark rose: an `emailed` receipt to every online user who may see c. */
  publishEmailed(c: ConversationRecord, participantId: string, upTo: number, at: number): void {
    const frame = encode({ t: 'receipt', conversationId: c.id, participantId, kind: 'emailed', upTo, at });
    for (const v of this.onlineViewers(c)) {
      if (v.kind !== 'user') continue;
      this.bus.publish(`p:${v.id}`, frame);
      this.metrics.frameOut('receipt');
    }
  }

  get sessionCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.size;
    return n;
  }

  // ─── Connection lifecycle ────────────────────────────────────────────────────────────────────────

  /** A socket opened: start the hello deadline. */
  accept(conn: Connection): Session {
    const s = new Session(nanoid(), conn);
    this.metrics.connectionOpened();
    s.helloTimer = this.clock.setTimer(this.limits.helloTimeoutMs, () => {
      if (s.phase === 'hello') this.reject(s, 'unauthenticated', 'no hello in time', CloseCode.UNAUTHENTICATED);
    });
    return s;
  }

  /** A frame arrived. `text` is null for a binary frame. Never throws. */
  receive(s: Session, text: string | null): void {
    if (s.phase === 'closed') return;
    if (s.phase === 'authenticating') {
      if (!s.early) s.early = [];
      if (s.early.length < 32) s.early.push(text ?? '\u0000binary');
      return;
    }
    const decoded: DecodeResult = text === null ? { ok: false, code: 'bad_frame', message: 'binary frames are not accepted' } : decodeClientFrame(text);
    if (s.phase === 'hello') {
      if (decoded.ok && decoded.frame.t === 'hello') {
        this.metrics.frameIn('hello');
        void this.hello(s, decoded.frame);
      } else {
        this.reject(s, 'unauthenticated', 'the first frame must be hello', CloseCode.UNAUTHENTICATED);
      }
      return;
    }
    if (!decoded.ok) {
      this.metrics.frameIn('invalid');
      this.sendError(s, decoded.code, decoded.message, decoded.re);
      if (decoded.code === 'bad_frame') {
        s.badFrames ??= new WindowCounter(60_000);
        if (s.badFrames.hit(this.clock.now()) > this.limits.maxBadFramesPerMinute) {
          this.close(s, CloseCode.PROTOCOL_VIOLATION, 'too many bad frames');
        }
      }
      return;
    }
    this.metrics.frameIn(decoded.frame.t);
    if (decoded.frame.t === 'hello') {
      this.sendError(s, 'bad_frame', 'already authenticated', undefined);
      return;
    }
    this.dispatch(s, decoded.frame).catch((e: unknown) => this.fail(s, decoded.frame, e));
  }

  /** The socket closed (for any reason). */
  closed(s: Session): void {
    if (s.phase === 'closed') return;
    const wasOpen = s.phase === 'open';
    s.phase = 'closed';
    this.metrics.connectionClosed();
    if (s.helloTimer) this.clock.clearTimer(s.helloTimer);
    this.setWatch(s, null);
    const p = s.participant;
    if (!wasOpen || !p) return;
    const set = this.sessions.get(p.id);
    set?.delete(s);
    if (set && set.size === 0) {
      this.sessions.delete(p.id);
      this.onlineSeeAll.delete(p.id);
    }
    this.updatePresence(p);
  }

  /** Close every session with 1001 (server going away). */
  shutdown(): void {
    this.stopping = true;
    if (this.sweeper) this.clock.clearTimer(this.sweeper);
    for (const set of [...this.sessions.values()]) for (const s of [...set]) this.close(s, CloseCode.GOING_AWAY, 'server going away');
    for (const info of this.presence.values()) if (info.offlineTimer) this.clock.clearTimer(info.offlineTimer);
  }

  private async hello(s: Session, f: HelloFrame): Promise<void> {
    s.phase = 'authenticating';
    if (s.helloTimer) this.clock.clearTimer(s.helloTimer);
    s.helloTimer = null;
    let p: ParticipantRecord;
    try {
      ({ p, expiresAt: s.expiresAt } = await this.authenticate(f.token));
    } catch (e) {
      const err = e instanceof ProtocolError ? e : new ProtocolError('unauthenticated', 'invalid token');
      if (!(e instanceof ProtocolError)) this.log.error('hello failed', { error: String(e) });
      const code = err.code === 'forbidden' ? CloseCode.FORBIDDEN : CloseCode.UNAUTHENTICATED;
      this.reject(s, err.code, err.message, code);
      return;
    }
    if ((s.phase as Session['phase']) === 'closed') return;
    if (this.stopping) {
      this.close(s, CloseCode.GOING_AWAY, 'server going away');
      return;
    }
    let set = this.sessions.get(p.id);
    if (set && set.size >= this.limits.maxSessionsPerParticipant) {
      this.metrics.rateLimited('session');
      this.reject(s, 'rate_limited', `at most ${this.limits.maxSessionsPerParticipant} sessions per participant`, CloseCode.RATE_LIMITED);
      return;
    }
    s.participant = p;
    s.phase = 'open';
    if (!set) this.sessions.set(p.id, (set = new Set()));
    set.add(s);
    if (this.directory.seesAllShared(p)) this.onlineSeeAll.add(p.id);
    s.conn.subscribe(`p:${p.id}`);
    this.syncTopics(s);
    this.sendTo(s, {
      t: 'welcome',
      v: PROTOCOL_VERSION,
      sessionId: s.id,
      participant: { id: p.id, kind: p.kind, name: p.name },
      serverTime: this.clock.now(),
      heartbeatMs: this.limits.heartbeatMs,
      limits: { maxBodyChars: MAX_BODY_CHARS, maxFrameBytes: this.limits.maxFrameBytes },
    });
    this.updatePresence(p);
    const early = s.early;
    s.early = null;
    if (early) for (const text of early) this.receive(s, text === '\u0000binary' ? null : text);
  }

  /** Verify a token and find (or just-in-time create) its participant. */
  private async authenticate(token: string): Promise<{ p: ParticipantRecord; expiresAt: number }> {
    const claims = await this.tokens.verify(token);
    let p = this.directory.participants.get(claims.sub);
    if (!p) {
      if ((claims.kind !== 'user' && claims.kind !== 'customer') || !claims.name) {
        throw new ProtocolError('unauthenticated', 'unknown participant');
      }
      const now = this.clock.now();
      const fresh: ParticipantRecord = {
        id: claims.sub,
        kind: claims.kind,
        name: claims.name,
        email: claims.email ?? null,
        locale: claims.locale ?? 'en',
        timezone: 'UTC',
        groups: [],
        roles: [],
        outOfOffice: false,
        disabled: false,
        enabledAt: null,
        createdAt: now,
        preferences: structuredClone(claims.kind === 'user' ? DEFAULT_USER_PREFERENCES : DEFAULT_CUSTOMER_PREFERENCES),
      };
      // Insert-if-absent, in memory first: a racing hello for the same id finds this one and is judged
      // against its kind. Then on disk, where a participant written first (by another hub) wins.
      this.directory.setParticipant(fresh);
      let stored: ParticipantRecord;
      try {
        stored = await this.store.insertParticipantIfAbsent(fresh);
      } catch (e) {
        if (this.directory.participants.get(fresh.id) === fresh) this.directory.deleteParticipant(fresh.id);
        throw e;
      }
      if (stored !== fresh && this.directory.participants.get(fresh.id) === fresh) this.directory.setParticipant(stored);
      p = this.directory.participants.get(fresh.id) ?? stored;
    }
    this.admit(p, claims);
    return { p, expiresAt: claims.expiresAt };
  }

  /** Whether a verified token may open (or extend) a session of p. Throws the refusal. */
  private admit(p: ParticipantRecord, claims: TokenClaims): void {
    if (claims.kind !== undefined && claims.kind !== p.kind) throw new ProtocolError('unauthenticated', 'token kind does not match the participant');
    if (p.disabled) throw new ProtocolError('forbidden', 'participant is disabled');
    // iat has whole seconds: a token of the second the participant was re-enabled is admitted.
    if (p.enabledAt !== null && (claims.issuedAt === undefined || claims.issuedAt < Math.floor(p.enabledAt / 1000) * 1000)) {
      throw new ProtocolError('unauthenticated', 'token issued before the participant was re-enabled');
    }
  }

  /** `refresh`: a newer token for the same participant moves the session's end. */
  private async handleRefresh(s: Session, f: RefreshFrame): Promise<void> {
    const p = s.participant!;
    const claims = await this.tokens.verify(f.token);
    if (claims.sub !== p.id) throw new ProtocolError('unauthenticated', 'the token names another participant');
    this.admit(p, claims);
    if (s.phase !== 'open') return;
    s.expiresAt = Math.max(s.expiresAt === Infinity ? 0 : s.expiresAt, claims.expiresAt);
    this.sendTo(s, { t: 'refreshed', re: f.id, expiresAt: s.expiresAt });
  }

  /**
   * Once a second: end sessions whose token expired (SPEC §3 Token), and forget the rate limits of
   * participants without sessions once their buckets have refilled. One timer for the whole hub.
   */
  private sweep(): void {
    const now = this.clock.now();
    for (const set of this.sessions.values()) {
      for (const s of set) if (s.expiresAt <= now) this.reject(s, 'token_expired', 'token expired', CloseCode.UNAUTHENTICATED);
    }
    if (++this.sweeps % 60 === 0) {
      for (const [id, l] of this.participantLimits) if (!this.sessions.has(id) && l.idle(now)) this.participantLimits.delete(id);
    }
    this.sweeper = this.clock.setTimer(1000, () => this.sweep());
  }

  // ─── Dispatch and errors ─────────────────────────────────────────────────────────────────────────

  private async dispatch(s: Session, f: Exclude<ClientFrame, HelloFrame>): Promise<void> {
    const re = 'id' in f ? f.id : undefined;
    if (!this.allow(s, f.t, re)) return;
    if (isReply(f)) {
      // Heavy replies wait their turn, one per turn of the loop (core/fair-queue.ts); room is checked
      // when the reply is about to be built.
      this.heavy.push(s.participant!.id, () => {
        if (s.phase !== 'open' || !this.roomForReply(s, re)) return;
        this.reply(s, f).catch((e: unknown) => this.fail(s, f, e));
      });
      return;
    }
    switch (f.t) {
      case 'send':
        return this.handleSend(s, f);
      case 'seen':
        return this.handleSeen(s, f.conversationId, f.upTo);
      case 'typing':
        return this.handleTyping(s, f.conversationId);
      case 'presence':
        s.state = f.state;
        return this.updatePresence(s.participant!);
      case 'open':
        return this.handleOpen(s, f);
      case 'ping':
        this.sendTo(s, { t: 'pong', re: f.id, serverTime: this.clock.now() });
        return;
      case 'refresh':
        return this.handleRefresh(s, f);
    }
  }

  /** The one error classifier: expected errors keep their code; anything else is a bug, logged, answered `internal`. */
  private fail(s: Session, f: ClientFrame, e: unknown): void {
    const re = 'id' in f ? f.id : undefined;
    if (e instanceof ProtocolError) {
      this.sendError(s, e.code, e.message, re);
      return;
    }
    this.log.error('frame handler failed', { frame: f.t, participant: s.participant?.id, error: e instanceof Error ? e.stack : String(e) });
    this.sendError(s, 'internal', 'internal error', re);
  }

  private sendError(s: Session, code: ErrorCode, message: string, re: string | undefined): void {
    this.metrics.error(code);
    this.sendTo(s, re === undefined ? { t: 'error', code, message } : { t: 'error', re, code, message });
  }

  private reject(s: Session, code: ErrorCode, message: string, closeCode: number): void {
    this.sendError(s, code, message, undefined);
    this.close(s, closeCode, message);
  }

  private close(s: Session, code: number, reason: string): void {
    if (s.phase === 'closed') return;
    s.conn.close(code, reason);
  }

  private sendTo(s: Session, f: ServerFrame): void {
    if (s.phase === 'closed') return;
    this.metrics.frameOut(f.t);
    s.conn.send(encode(f));
  }

  private sendEncoded(s: Session, type: string, frame: string): void {
    if (s.phase === 'closed') return;
    this.metrics.frameOut(type);
    s.conn.send(frame);
  }

  /** Take one request of `kind` from the participant's bucket; over the limit, answer `rate_limited`. */
  private allow(s: Session, kind: RateKind, re: string | undefined): boolean {
    const p = s.participant!;
    const now = this.clock.now();
    const l = this.limitsOf(p.id);
    const rate: Rate = kind === 'open' && p.kind === 'customer' ? this.limits.customerOpen : this.limits.rates[kind];
    if (l.take(kind, rate, now)) return true;
    this.refuse(s, kind, `too many ${kind} frames`, re);
    return false;
  }

  /**
   * Whether a reply may be built now: not while the participant's sessions hold more unread bytes than
   * `maxInflightBytes`, nor when this session could not take a whole reply without being cut as slow.
   * Checked before the reply is built, so a client that does not read costs no memory.
   */
  private roomForReply(s: Session, re: string | undefined): boolean {
    const { maxInflightBytes, maxBackpressureBytes } = this.limits;
    const id = s.participant!.id;
    if (!this.limitsOf(id).replyBytes(this.limits.replyBytes, this.clock.now()).ready(this.clock.now())) {
      this.refuse(s, 'replyBytes', 'too many bytes asked for: wait a moment', re);
      return false;
    }
    let inflight = 0;
    for (const other of this.sessions.get(id) ?? []) inflight += other.conn.bufferedAmount();
    if (inflight <= maxInflightBytes && s.conn.bufferedAmount() + this.replyCap <= maxBackpressureBytes) return true;
    this.refuse(s, 'inflight', 'too much data in flight: read what was sent first', re);
    return false;
  }

  /** Build and send a reply of the size-limited kinds. */
  private async reply(s: Session, f: ReplyFrame): Promise<void> {
    switch (f.t) {
      case 'conversations':
        return this.handleConversations(s, f);
      case 'history':
        return this.handleHistory(s, f);
      case 'receipts':
        return this.handleReceipts(s, f);
      case 'who':
        return this.handleWho(s, f);
    }
  }

  /** Send a reply of the size-limited kinds, charging its bytes to the participant. */
  private sendReply(s: Session, f: ServerFrame): void {
    if (s.phase === 'closed') return;
    const frame = encode(f);
    this.limitsOf(s.participant!.id).replyBytes(this.limits.replyBytes, this.clock.now()).spend(Buffer.byteLength(frame), this.clock.now());
    this.sendEncoded(s, f.t, frame);
  }

  private limitsOf(participantId: string): ParticipantLimits {
    let l = this.participantLimits.get(participantId);
    if (!l) this.participantLimits.set(participantId, (l = new ParticipantLimits()));
    return l;
  }

  /** Answer `rate_limited`; sustained abuse closes the connection with 4008. */
  private refuse(s: Session, limit: string, message: string, re: string | undefined): void {
    this.metrics.rateLimited(limit);
    this.sendError(s, 'rate_limited', message, re);
    s.rejected ??= new WindowCounter(60_000);
    if (s.rejected.hit(this.clock.now()) > this.limits.maxRejectedPerMinute) this.close(s, CloseCode.RATE_LIMITED, 'rate limited');
  }

  /** The conversation if p may see it; `not_found` otherwise, exactly as for an unknown id. */
  visible(p: ParticipantRecord, conversationId: string): ConversationRecord {
    const c = this.directory.conversations.get(conversationId);
    if (!c || !this.directory.maySee(p, c)) throw new ProtocolError('not_found', 'no such conversation');
    return c;
  }

  // ─── Messages ────────────────────────────────────────────────────────────────────────────────────

  private async handleSend(s: Session, f: SendFrame): Promise<void> {
    const p = s.participant!;
    const c = this.visible(p, f.conversationId);
    if (!mayPostWs(p, c, this.directory.context(c))) throw new ProtocolError('forbidden', 'you may not post here');
    const { message, duplicate } = await this.post(p, c, { body: f.body, format: f.format ?? 'text', clientMsgId: f.clientMsgId, source: 'ws' });
    // After the fan-out: the ack leaves in the same write as the sender's own copy of the message.
    if (s.phase === 'closed') return;
    this.metrics.frameOut('ack');
    s.conn.sendAfterPublished(encode({ t: 'ack', re: f.id, conversationId: c.id, messageId: message.id, seq: message.seq, createdAt: message.createdAt, duplicate }));
  }

  /**
   * Store a message from p (whose right to post the caller checked) and fan it out. A user's or bot's
   * first post makes it a member. Resolves once committed and published.
   */
  async post(
    p: ParticipantRecord,
    c: ConversationRecord,
    m: Pick<NewMessage, 'body' | 'format' | 'clientMsgId' | 'source'>,
  ): Promise<{ message: Message; duplicate: boolean }> {
    const now = this.clock.now();
    const joins = p.kind !== 'customer' && !c.members.has(p.id);
    const result = await this.store.appendMessage({ ...m, conversationId: c.id, senderId: p.id, senderKind: p.kind, createdAt: now }, joins ? now : undefined);
    if (result.duplicate) return result;
    const message = result.message;
    if (message.seq > c.lastSeq) {
      c.lastSeq = message.seq;
      c.lastMessageAt = message.createdAt;
    }
    this.metrics.messageStored(m.source);
    const joined = joins && !c.members.has(p.id);
    if (joined) this.directory.addMember(c, p.id, now);
    const notified = this.fanOut(c, message, p);
    this.escalation?.onMessage(c, message, notified);
    if (joined) void this.pushConversation(c).catch((e: unknown) => this.log.error('conversation push failed', { error: String(e) }));
    return result;
  }

  /**
   * Publish a committed message: one encoded frame per topic, then a notify frame to each online
   * viewer it notifies. The rules run once per viewer, online or not: the result, everybody the
   * message notifies, is what escalation arms its timers for.
   */
  private fanOut(c: ConversationRecord, m: Message, sender: ParticipantRecord): ParticipantRecord[] {
    this.publishToConversation(c, encode({ t: 'message', message: m }));
    const ctx = this.directory.context(c);
    const online: string[] = [];
    const notified: ParticipantRecord[] = [];
    // The reason depends on the sender and the conversation only: one frame serves every viewer.
    let frame: string | undefined;
    for (const p of this.directory.allViewers(c)) {
      const reason = notify(p, sender, c, ctx);
      if (reason) notified.push(p);
      if (!this.sessions.has(p.id)) continue;
      online.push(p.id);
      if (!reason) continue;
      frame ??= encode({ t: 'notify', conversationId: c.id, messageId: m.id, seq: m.seq, reason });
      this.bus.publish(`p:${p.id}`, frame);
      this.metrics.frameOut('notify');
    }
    this.metrics.deliveries(online.length);
    if (online.length) this.store.recordDelivered(c.id, online, m.seq, this.clock.now());
    return notified;
  }

  private publishToConversation(c: ConversationRecord, frame: string): void {
    this.bus.publish(`c:${c.id}`, frame);
    if (c.kind !== 'direct') this.bus.publish(SHARED_TOPIC[c.kind], frame);
  }

  /** Participants with an open session who may see c. */
  private onlineViewers(c: ConversationRecord): ParticipantRecord[] {
    const out: ParticipantRecord[] = [];
    const seen = new Set<string>();
    for (const p of this.directory.explicitViewers(c)) {
      if (this.sessions.has(p.id)) {
        out.push(p);
        seen.add(p.id);
      }
    }
    if (c.kind !== 'direct') {
      for (const id of this.onlineSeeAll) {
        if (seen.has(id)) continue;
        const p = this.directory.participants.get(id);
        if (p && this.directory.maySee(p, c)) out.push(p);
      }
    }
    return out;
  }

  // ─── Seen, typing ────────────────────────────────────────────────────────────────────────────────

  private async handleSeen(s: Session, conversationId: string, upTo: number): Promise<void> {
    const p = s.participant!;
    await this.markSeen(p, this.visible(p, conversationId), upTo);
  }

  /** Raise p's seen watermark in c (clamped to the last seq) and tell everyone who may see c. */
  async markSeen(p: ParticipantRecord, c: ConversationRecord, upTo: number): Promise<void> {
    const clamped = Math.min(upTo, c.lastSeq);
    if (clamped <= 0) return;
    const at = this.clock.now();
    if (!(await this.store.raiseSeen(p.id, c.id, clamped, at))) return;
    this.escalation?.onSeen(p.id, c, clamped);
    const frame = encode({ t: 'receipt', conversationId: c.id, participantId: p.id, kind: 'seen', upTo: clamped, at });
    if (isMember(p, c, this.directory.context(c))) this.publishToConversation(c, frame);
    else this.publishToStaff(c, frame, 'receipt', null);
  }

  /**
   * A frame about a non-member (a user who sees c through a follow or access `all`) reaches staff
   * only: customers learn nothing about staff who are not members (SPEC §2).
   */
  private publishToStaff(c: ConversationRecord, frame: string, type: string, except: string | null): void {
    for (const v of this.onlineViewers(c)) {
      if (v.id === except || v.kind === 'customer') continue;
      this.bus.publish(`p:${v.id}`, frame);
      this.metrics.frameOut(type);
    }
  }

  private handleTyping(s: Session, conversationId: string): void {
    const p = s.participant!;
    const c = this.visible(p, conversationId);
    const frame = encode({ t: 'typing', conversationId: c.id, participantId: p.id });
    if (!isMember(p, c, this.directory.context(c))) return this.publishToStaff(c, frame, 'typing', p.id);
    for (const v of this.onlineViewers(c)) {
      if (v.id === p.id) continue;
      this.bus.publish(`p:${v.id}`, frame);
      this.metrics.frameOut('typing');
    }
  }

  // ─── Conversations ───────────────────────────────────────────────────────────────────────────────

  private async handleOpen(s: Session, f: OpenFrame): Promise<void> {
    const p = s.participant!;
    if (p.kind === 'bot') throw new ProtocolError('forbidden', 'bots open conversations through the HTTP API');
    const members = new Map<string, number>();
    const now = this.clock.now();
    members.set(p.id, now);
    let external = p.kind === 'customer';
    // A customer may name only users it already shares a conversation with (SPEC §3 `open`): naming
    // anyone else answers exactly as an unknown id, so staff cannot be enumerated.
    const peers = p.kind === 'customer' ? this.customerPeers(p) : null;
    for (const id of f.members) {
      const m = this.directory.participants.get(id);
      const allowed = m && !m.disabled && (peers ? peers.has(id) : true);
      if (!allowed) throw new ProtocolError('not_found', `no such participant: ${id}`);
      if (m.kind === 'customer') external = true;
      members.set(id, now);
    }
    if (p.kind === 'customer' && this.activeInboxes(p, now) >= this.limits.maxCustomerInboxes) {
      this.metrics.rateLimited('inboxes');
      throw new ProtocolError('rate_limited', `at most ${this.limits.maxCustomerInboxes} open support conversations: write in one of them`);
    }
    const c = await this.createConversation({
      kind: p.kind === 'customer' ? 'inbox' : 'direct',
      visibility: external ? 'external' : 'internal',
      itemId: null,
      subject: f.subject ?? null,
      createdBy: p.id,
      members,
    });
    this.sendTo(s, { t: 'conversation', re: f.id, conversation: await this.summary(p, c) });
  }

  /** Users who are members of a conversation that customer p may see and is a member of. */
  private customerPeers(p: ParticipantRecord): Set<string> {
    const peers = new Set<string>();
    for (const cid of this.directory.memberConversations(p)) {
      const c = this.directory.conversations.get(cid)!;
      if (!this.directory.maySee(p, c)) continue;
      for (const m of this.directory.membersOf(c)) if (this.directory.participants.get(m)?.kind === 'user') peers.add(m);
    }
    return peers;
  }

  /** Inbox conversations customer p opened that were active within the window (each can mean an email to every agent). */
  private activeInboxes(p: ParticipantRecord, now: number): number {
    let n = 0;
    for (const cid of this.directory.memberConversations(p)) {
      const c = this.directory.conversations.get(cid)!;
      if (c.kind === 'inbox' && c.createdBy === p.id && (c.lastMessageAt ?? c.createdAt) > now - this.limits.customerInboxWindowMs) n++;
    }
    return n;
  }

  /** Create and store a conversation, subscribe the sessions that may see it, and push it to them. */
  async createConversation(init: Omit<ConversationRecord, 'id' | 'createdAt' | 'lastSeq' | 'lastMessageAt'>, except?: Session): Promise<ConversationRecord> {
    const c: ConversationRecord = { ...init, id: nanoid(), createdAt: this.clock.now(), lastSeq: 0, lastMessageAt: null };
    await this.store.createConversation(c);
    this.directory.addConversation(c);
    for (const v of this.directory.explicitViewers(c)) {
      if (c.kind !== 'direct' && this.directory.seesAllShared(v)) continue;
      for (const s of this.sessions.get(v.id) ?? []) {
        s.conn.subscribe(`c:${c.id}`);
        s.topics.add(`c:${c.id}`);
      }
    }
    await this.pushConversation(c, except);
    return c;
  }

  /** Push a conversation's Summary to every online viewer (each gets its own seen/unseen/following). */
  async pushConversation(c: ConversationRecord, except?: Session): Promise<void> {
    for (const v of this.onlineViewers(c)) {
      const frame = encode({ t: 'conversation', conversation: await this.summary(v, c) });
      for (const s of this.sessions.get(v.id) ?? []) if (s !== except) this.sendEncoded(s, 'conversation', frame);
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
      members: this.directory.membersOf(c),
      createdAt: c.createdAt,
      lastSeq: c.lastSeq,
      lastMessageAt: c.lastMessageAt,
    };
  }

  async summary(p: ParticipantRecord, c: ConversationRecord): Promise<Summary> {
    const wm = (await this.store.getWatermarks(p.id, [c.id])).get(c.id);
    const seenUpTo = wm?.seenUpTo ?? 0;
    const from = await this.fromSeq(p, c);
    const below = Math.max(seenUpTo, from - 1);
    const unseen = c.lastSeq > below ? await this.store.countUnseen(c.id, p.id, below) : 0;
    const d = this.describe(c);
    if (from > c.lastSeq) d.lastMessageAt = null;
    return { ...d, seenUpTo, unseen, following: isFollowing(p, c, this.directory.context(c)) };
  }

  /**
   * The lowest seq p may read in c. A customer sees only what was written since its relation to c
   * began (membership, or becoming the item's customer): earlier messages are absent (SPEC §2).
   */
  private async fromSeq(p: ParticipantRecord, c: ConversationRecord): Promise<number> {
    if (p.kind !== 'customer') return 1;
    const since = relationSince(p, c, this.directory.context(c));
    if (since === null || since <= c.createdAt) return 1;
    return this.store.firstSeqAt(c.id, since);
  }

  private async handleConversations(s: Session, f: ConversationsFrame): Promise<void> {
    const p = s.participant!;
    const limit = f.limit ?? 50;
    let after: [number, string] | null = null;
    if (f.cursor !== undefined) after = decodeCursor(f.cursor);
    const activity = (c: ConversationRecord) => c.lastMessageAt ?? c.createdAt;
    // Most recent activity first, then id descending; the cursor is the last (activity, id) returned.
    const all = this.directory
      .visibleConversations(p)
      .filter((c) => !after || activity(c) < after[0] || (activity(c) === after[0] && c.id < after[1]))
      .sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    // At most `limit` summaries and `maxReplyBytes` (at least one): the cursor continues after the last.
    const summaries: Summary[] = [];
    let bytes = 0;
    for (const c of all) {
      if (summaries.length === limit) break;
      const sum = await this.summary(p, c);
      bytes += Buffer.byteLength(JSON.stringify(sum));
      if (summaries.length > 0 && bytes > this.replyCap) break;
      summaries.push(sum);
    }
    const last = all[summaries.length - 1];
    const cursor = all.length > summaries.length && last ? encodeCursor(activity(last), last.id) : null;
    this.sendReply(s, { t: 'conversations', re: f.id, conversations: summaries, cursor });
  }

  private async handleHistory(s: Session, f: HistoryFrame): Promise<void> {
    const p = s.participant!;
    const c = this.visible(p, f.conversationId);
    const fromSeq = await this.fromSeq(p, c);
    const limit = f.limit ?? 50;
    // At most `limit` messages and the reply cap (and at least one message), read in chunks so that a
    // page of large messages is not read whole only to be cut. An `after` page grows forward from its
    // cursor, the others backward from theirs, so `hasMore` and the next cursor continue where it stops.
    const forward = f.after !== undefined;
    const got: Message[] = [];
    let bytes = 0;
    let hasMore = false;
    let cursor = forward ? f.after : f.before;
    for (;;) {
      const chunk = Math.min(HISTORY_CHUNK, limit - got.length);
      const page = await this.store.listMessages(c.id, forward ? { after: cursor, limit: chunk, fromSeq } : { before: cursor, limit: chunk, fromSeq });
      const ordered = forward ? page.messages : [...page.messages].reverse();
      let full = false;
      for (const m of ordered) {
        bytes += Buffer.byteLength(JSON.stringify(m));
        if (got.length > 0 && bytes > this.replyCap) {
          full = true;
          break;
        }
        got.push(m);
      }
      if (full) {
        hasMore = true;
        break;
      }
      hasMore = page.hasMore;
      if (!page.hasMore || got.length >= limit) break;
      cursor = got[got.length - 1]!.seq;
    }
    const messages = forward ? got : got.reverse();
    this.sendReply(s, { t: 'history', re: f.id, conversationId: c.id, messages, hasMore });
  }

  private async handleReceipts(s: Session, f: ReceiptsFrame): Promise<void> {
    const p = s.participant!;
    const m = await this.store.getMessage(f.messageId);
    const c = m && this.directory.conversations.get(m.conversationId);
    if (!m || !c || !this.directory.maySee(p, c)) throw new ProtocolError('not_found', 'no such message');
    if (p.kind === 'customer' && m.senderId !== p.id) throw new ProtocolError('forbidden', 'customers may ask receipts of their own messages only');
    const recipients = await this.receipts(m, c, p.kind === 'customer' ? 'customer' : 'full');
    this.sendReply(s, { t: 'receipts', re: f.id, messageId: m.id, conversationId: c.id, recipients });
  }

  /**
   * Receipts of m for everyone who may see c but its sender. The customer view lists only members,
   * each with only participantId, deliveredAt and seenAt.
   */
  async receipts(m: Message, c: ConversationRecord, view: 'full' | 'customer'): Promise<Receipt[]> {
    const times = await this.store.receiptTimes(m);
    const ctx = this.directory.context(c);
    const who = view === 'customer' ? this.directory.explicitViewers(c).filter((v) => isMember(v, c, ctx)) : this.directory.allViewers(c);
    const out: Receipt[] = [];
    for (const v of who.sort((a, b) => (a.id < b.id ? -1 : 1))) {
      if (v.id === m.senderId) continue;
      const t = times.get(v.id);
      if (view === 'customer') out.push({ participantId: v.id, deliveredAt: t?.deliveredAt ?? null, seenAt: t?.seenAt ?? null });
      else {
        // The store gives emailedAt/emailId only for an email that held m or only counted it (left
        // out over the caps of SPEC §5: `summarized`, with that email's time and id). An email logged
        // before it recorded what it held only covers m: then a message seen before the email went
        // was not in it, as an email carries only what was unseen.
        const covered = t?.emailed === 'covered';
        const seenFirst = covered && t.seenAt != null && t.emailedAt != null && t.seenAt <= t.emailedAt;
        const r: Receipt = {
          participantId: v.id,
          deliveredAt: t?.deliveredAt ?? null,
          seenAt: t?.seenAt ?? null,
          emailedAt: seenFirst ? null : (t?.emailedAt ?? null),
          emailId: seenFirst ? null : (t?.emailId ?? null),
        };
        if (this.escalation) r.email = t?.emailed === 'summarized' ? 'summarized' : this.escalation.emailStatus(v, c, m, r);
        out.push(r);
      }
    }
    return out;
  }

  // ─── Presence ────────────────────────────────────────────────────────────────────────────────────

  private presenceOf(id: string): { participantId: string; state: PresenceState; lastActiveAt: number | null } {
    const info = this.presence.get(id);
    return { participantId: id, state: info?.state ?? 'offline', lastActiveAt: info?.lastActiveAt ?? null };
  }

  private handleWho(s: Session, f: WhoFrame): void {
    const p = s.participant!;
    let allowed: (id: string) => boolean = (id) => this.directory.participants.has(id);
    if (p.kind === 'customer') {
      // A customer may ask only about users who are members of its conversations.
      const peers = this.customerPeers(p);
      allowed = (id) => peers.has(id);
    }
    const ids = [...new Set(f.participantIds)].filter(allowed);
    if (f.watch === true) this.setWatch(s, ids);
    else if (f.watch === false) this.setWatch(s, null);
    this.sendReply(s, { t: 'who', re: f.id, presence: ids.map((id) => this.presenceOf(id)) });
  }

  private setWatch(s: Session, ids: string[] | null): void {
    for (const id of s.watching ?? []) {
      const set = this.watchers.get(id);
      set?.delete(s);
      if (set && set.size === 0) this.watchers.delete(id);
    }
    s.watching = ids && ids.length ? new Set(ids) : null;
    for (const id of s.watching ?? []) {
      let set = this.watchers.get(id);
      if (!set) this.watchers.set(id, (set = new Set()));
      set.add(s);
    }
  }

  /** Recompute p's presence from its sessions; going offline waits out the grace period. */
  private updatePresence(p: ParticipantRecord): void {
    const set = this.sessions.get(p.id);
    let info = this.presence.get(p.id);
    if (!info) this.presence.set(p.id, (info = { state: 'offline', lastActiveAt: null, offlineTimer: null }));
    if (!set || set.size === 0) {
      if (info.state === 'offline' || info.offlineTimer || this.stopping) return;
      const i = info;
      i.offlineTimer = this.clock.setTimer(this.limits.presenceGraceMs, () => {
        i.offlineTimer = null;
        if (this.sessions.has(p.id) || i.state === 'offline') return;
        i.state = 'offline';
        this.broadcastPresence(p);
      });
      return;
    }
    if (info.offlineTimer) {
      this.clock.clearTimer(info.offlineTimer);
      info.offlineTimer = null;
    }
    let state: PresenceState = 'away';
    for (const s of set) if (s.state === 'active') state = 'active';
    if (state === 'active') info.lastActiveAt = this.clock.now();
    if (state === info.state) return;
    info.state = state;
    this.broadcastPresence(p);
  }

  /** To the other members of p's conversations (who may see them) and to sessions watching p. */
  private broadcastPresence(p: ParticipantRecord): void {
    const frame = encode({ t: 'presence', ...this.presenceOf(p.id) });
    const targets = new Set<Session>(this.watchers.get(p.id));
    for (const cid of this.directory.memberConversations(p)) {
      const c = this.directory.conversations.get(cid)!;
      for (const mId of this.directory.membersOf(c)) {
        if (mId === p.id) continue;
        const sessions = this.sessions.get(mId);
        if (!sessions) continue;
        const m = this.directory.participants.get(mId);
        if (!m || !this.directory.maySee(m, c)) continue;
        for (const s of sessions) targets.add(s);
      }
    }
    for (const s of targets) this.sendEncoded(s, 'presence', frame);
  }

  // ─── Subscriptions ───────────────────────────────────────────────────────────────────────────────

  /** Make a session's topic subscriptions match what its participant may see now. */
  private syncTopics(s: Session): void {
    const p = s.participant!;
    const want = new Set<string>();
    if (this.directory.seesAllShared(p)) {
      want.add(SHARED_TOPIC.item);
      want.add(SHARED_TOPIC.inbox);
    }
    for (const c of this.directory.ownConversations(p)) want.add(`c:${c.id}`);
    for (const t of s.topics) if (!want.has(t)) s.conn.unsubscribe(t);
    for (const t of want) if (!s.topics.has(t)) s.conn.subscribe(t);
    s.topics = want;
  }

  /**
   * Re-derive the subscriptions of these participants' sessions after something they may see changed
   * (an item's followers or customer, a project's followers, an access preference, disabling).
   */
  refreshParticipants(ids: Iterable<string>): void {
    for (const id of ids) {
      const p = this.directory.participants.get(id);
      const set = this.sessions.get(id);
      if (!p || !set) continue;
      if (p.disabled) {
        for (const s of [...set]) this.reject(s, 'forbidden', 'participant is disabled', CloseCode.FORBIDDEN);
        continue;
      }
      for (const s of set) {
        s.participant = p;
        this.syncTopics(s);
      }
      if (this.directory.seesAllShared(p)) this.onlineSeeAll.add(id);
      else this.onlineSeeAll.delete(id);
    }
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
