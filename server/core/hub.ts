import { CloseCode, ProtocolError, type ClientFrame, type ClientFrameType, type DecodeResult, type Message, type Receipt, type Summary } from '../../protocol/index.js';
import { Directory } from './directory.js';
import { DEFAULT_LIMITS, type HubLimits, type RateKind } from './limits.js';
import type { ConversationRecord, NewMessage, ParticipantRecord } from './model.js';
import type { Connection } from './ports/index.js';
import { WindowCounter, type Session } from './session.js';
import { HubContext, type EmailStatusQuery, type HubPorts } from './usecases/context.js';
import { ConversationUseCases, type NewConversation } from './usecases/conversations.js';
import { Guard } from './usecases/guard.js';
import { MessagingUseCases } from './usecases/messaging.js';
import { NotificationUseCases } from './usecases/notifications.js';
import { PresenceUseCases } from './usecases/presence.js';
import { ReadingUseCases } from './usecases/reading.js';
import { SeenTypingUseCases } from './usecases/seen-typing.js';
import { SessionUseCases } from './usecases/sessions.js';

export interface HubOptions extends HubPorts {
  limits?: Partial<HubLimits>;
}

export { DEFAULT_LIMITS, type EmailStatusQuery, type HubLimits };

type Frame<T extends ClientFrameType> = Extract<ClientFrame, { t: T }>;
type Handler<T extends ClientFrameType> = (s: Session, f: Frame<T>) => void | Promise<void>;
/** Frames whose replies read and encode many rows: they wait in the fair queue (core/fair-queue.ts). */
const HEAVY: ReadonlySet<ClientFrameType> = new Set(['conversations', 'history', 'receipts', 'who', 'notifications']);

/**
 * The hub: the WebSocket protocol's dispatch (SPEC §3) over the use cases in `usecases/`, and the
 * calls the host API shares with it. Frames arrive decoded by the transport; each type has one handler,
 * and every request first passes the participant's limits (usecases/guard.ts).
 */
export class Hub {
  readonly directory = new Directory();
  readonly limits: HubLimits;
  private readonly ctx: HubContext;
  private readonly guard: Guard;
  private readonly sessionUseCases: SessionUseCases;
  private readonly conversationUseCases: ConversationUseCases;
  private readonly messaging: MessagingUseCases;
  private readonly seenTyping: SeenTypingUseCases;
  private readonly reading: ReadingUseCases;
  private readonly presence: PresenceUseCases;
  private readonly handlers: { [T in Exclude<ClientFrameType, 'hello'>]: Handler<T> };

  constructor(opts: HubOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const ctx = (this.ctx = new HubContext(opts, this.directory, this.limits));
    const guard = (this.guard = new Guard(ctx));
    const presence = (this.presence = new PresenceUseCases(ctx, guard));
    const conversations = (this.conversationUseCases = new ConversationUseCases(ctx, guard));
    this.sessionUseCases = new SessionUseCases(ctx, guard, presence, (s, frame) => this.receive(s, frame));
    this.messaging = new MessagingUseCases(ctx);
    this.seenTyping = new SeenTypingUseCases(ctx);
    this.reading = new ReadingUseCases(ctx, guard, conversations);
    const notifications = new NotificationUseCases(ctx, guard);
    this.handlers = {
      send: (s, f) => this.messaging.send(s, f),
      seen: (s, f) => this.seenTyping.seen(s, f),
      typing: (s, f) => this.seenTyping.typing(s, f),
      presence: (s, f) => presence.setState(s, f),
      open: (s, f) => conversations.open(s, f),
      conversations: (s, f) => conversations.list(s, f),
      history: (s, f) => this.reading.history(s, f),
      receipts: (s, f) => this.reading.receiptsOf(s, f),
      who: (s, f) => presence.who(s, f),
      ping: (s, f) => this.ctx.sendTo(s, { t: 'pong', re: f.id, serverTime: this.ctx.clock.now() }),
      refresh: (s, f) => this.sessionUseCases.refresh(s, f),
      notifications: (s, f) => notifications.list(s, f),
      notification_seen: (s, f) => notifications.seen(s, f),
    };
    // What the hub does about what happened elsewhere: receipts of emails, new members' summaries,
    // subscriptions re-derived when what someone may see changed.
    const { events, log } = ctx;
    events.subscribe('EmailCommitted', (e) => this.seenTyping.emailed(e.conversation, e.participantId, e.upTo, e.at));
    events.subscribe('MembershipChanged', (e) => void conversations.push(e.conversation).catch((err: unknown) => log.error('conversation push failed', { error: String(err) })));
    events.subscribe('AudienceChanged', (e) => this.sessionUseCases.refreshParticipants(e.participantIds));
  }

  async start(): Promise<void> {
    this.directory.load(await this.ctx.store.loadDirectory());
    this.sessionUseCases.start();
  }

  /** Several hubs: how to catch up with the others before answering an id as unknown (`HubContext.catchUp`). */
  setCatchUp(catchUp: () => Promise<void>): void {
    this.ctx.catchUp = catchUp;
  }

  /** Connect what receipts ask escalation (built after the hub, as it shares the hub's directory). */
  setEmailStatus(q: EmailStatusQuery): void {
    this.ctx.emailStatus = q;
  }

  get sessionCount(): number {
    let n = 0;
    for (const list of this.ctx.sessions.values()) n += list.length;
    return n;
  }

  // ─── The WebSocket path ──────────────────────────────────────────────────────────────────────────

  /** A socket opened: start the hello deadline. */
  accept(conn: Connection): Session {
    return this.sessionUseCases.accept(conn);
  }

  /** A frame arrived, decoded by the transport. Never throws. */
  receive(s: Session, decoded: DecodeResult): void {
    const { metrics } = this.ctx;
    if (s.phase === 'closed') return;
    if (s.phase === 'authenticating') {
      if (!s.early) s.early = [];
      if (s.early.length < 32) s.early.push(decoded);
      return;
    }
    if (s.phase === 'hello') {
      if (decoded.ok && decoded.frame.t === 'hello') {
        metrics.frameIn('hello');
        this.sessionUseCases.hello(s, decoded.frame);
      } else {
        this.ctx.reject(s, 'unauthenticated', 'the first frame must be hello', CloseCode.UNAUTHENTICATED);
      }
      return;
    }
    if (!decoded.ok) {
      metrics.frameIn('invalid');
      this.ctx.sendError(s, decoded.code, decoded.message, decoded.re);
      if (decoded.code === 'bad_frame') {
        s.badFrames ??= new WindowCounter(60_000);
        if (s.badFrames.hit(this.ctx.clock.now()) > this.limits.maxBadFramesPerMinute) this.ctx.close(s, CloseCode.PROTOCOL_VIOLATION, 'too many bad frames');
      }
      return;
    }
    const f = decoded.frame;
    metrics.frameIn(f.t);
    if (f.t === 'hello') {
      this.ctx.sendError(s, 'bad_frame', 'already authenticated', undefined);
      return;
    }
    const re = 'id' in f ? f.id : undefined;
    if (!this.guard.allow(s, f.t as RateKind, re)) return;
    const handle = (again = false) => {
      const failed = (e: unknown) => {
        // Several hubs: an id created on another hub a moment ago may not be here yet; once more after catching up.
        const { catchUp } = this.ctx;
        if (again || !catchUp || !(e instanceof ProtocolError) || e.code !== 'not_found') return this.fail(s, f, e);
        catchUp().then(
          () => s.phase !== 'closed' && handle(true),
          () => this.fail(s, f, e),
        );
      };
      try {
        const done = (this.handlers[f.t] as Handler<typeof f.t>)(s, f);
        if (done) done.catch(failed);
      } catch (e) {
        failed(e);
      }
    };
    if (HEAVY.has(f.t)) this.guard.queueReply(s, re, () => handle());
    else handle();
  }

  /** The socket closed (for any reason). */
  closed(s: Session): void {
    this.sessionUseCases.closed(s);
  }

  /**
   * Another hub changed p's presence (a presence port shared by several hubs tells, or an entry of a
   * hub that died lapsed): recompute it and tell this hub's sessions.
   */
  presenceChanged(participantId: string): void {
    const p = this.directory.participants.get(participantId);
    if (p) this.presence.update(p);
  }

  /** Close every session with 1001 (server going away). */
  shutdown(): void {
    this.sessionUseCases.shutdown();
  }

  /** The one error classifier: expected errors keep their code; anything else is a bug, logged, answered `internal`. */
  private fail(s: Session, f: ClientFrame, e: unknown): void {
    const re = 'id' in f ? f.id : undefined;
    if (e instanceof ProtocolError) {
      this.ctx.sendError(s, e.code, e.message, re);
      return;
    }
    this.ctx.log.error('frame handler failed', { frame: f.t, participant: s.participant?.id, error: e instanceof Error ? e.stack : String(e) });
    this.ctx.sendError(s, 'internal', 'internal error', re);
  }

  // ─── What the host API shares with the WebSocket path ────────────────────────────────────────────

  /** The conversation if p may see it; `not_found` otherwise, exactly as for an unknown id. */
  visible(p: ParticipantRecord, conversationId: string): ConversationRecord {
    return this.ctx.visible(p, conversationId);
  }

  /** Store a message from p (whose right to post the caller checked) and fan it out. */
  post(p: ParticipantRecord, c: ConversationRecord, m: Pick<NewMessage, 'body' | 'format' | 'clientMsgId' | 'source'>): Promise<{ message: Message; duplicate: boolean }> {
    return this.messaging.post(p, c, m);
  }

  /** Create and store a conversation, subscribe the sessions that may see it, and push it to them. */
  createConversation(init: NewConversation): Promise<ConversationRecord> {
    return this.conversationUseCases.create(init);
  }

  /** Push a conversation's Summary to every online viewer. */
  pushConversation(c: ConversationRecord): Promise<void> {
    return this.conversationUseCases.push(c);
  }

  describe(c: ConversationRecord): ReturnType<ConversationUseCases['describe']> {
    return this.conversationUseCases.describe(c);
  }

  summary(p: ParticipantRecord, c: ConversationRecord): Promise<Summary> {
    return this.conversationUseCases.summary(p, c);
  }

  markSeen(p: ParticipantRecord, c: ConversationRecord, upTo: number): Promise<void> {
    return this.seenTyping.markSeen(p, c, upTo);
  }

  receipts(m: Message, c: ConversationRecord, view: 'full' | 'customer'): Promise<Receipt[]> {
    return this.reading.receipts(m, c, view);
  }


}
