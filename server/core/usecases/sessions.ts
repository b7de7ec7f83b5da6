import { nanoid } from 'nanoid';
import {
  CloseCode,
  MAX_BODY_CHARS,
  PROTOCOL_VERSION,
  ProtocolError,
  type DecodeResult,
  type HelloFrame,
  type RefreshFrame,
} from '../../../protocol/index.js';
import type { ParticipantRecord } from '../model.js';
import { newParticipant } from '../participants.js';
import type { Connection, TimerHandle, TokenClaims } from '../ports/index.js';
import { FairQueue } from '../fair-queue.js';
import { Session } from '../session.js';
import type { HubContext } from './context.js';
import type { Guard } from './guard.js';
import type { PresenceUseCases } from './presence.js';

/** How long a hello waits at most for the bus to confirm the session's topics (several hubs). */
const CONFIRM_WAIT_MS = 1000;

/**
 * A session's life (SPEC §3 Lifecycle, Token): the hello deadline, authentication with just-in-time
 * creation, the session limit, `refresh`, the end at the token's expiry, and the close.
 */
export class SessionUseCases {
  private sweeper: TimerHandle | null = null;
  private sweeps = 0;
  private readonly hellos = new FairQueue();

  constructor(
    private readonly ctx: HubContext,
    private readonly guard: Guard,
    private readonly presence: PresenceUseCases,
    /** Frames that arrived while the hello was verified, handled after `welcome`. */
    private readonly replay: (s: Session, frame: DecodeResult) => void,
  ) {}

  start(): void {
    this.sweeper = this.ctx.clock.setTimer(1000, () => this.sweep());
  }

  /** A socket opened: start the hello deadline. */
  accept(conn: Connection): Session {
    const { metrics, clock, limits } = this.ctx;
    const s = new Session(nanoid(), conn);
    metrics.connectionOpened();
    s.helloTimer = clock.setTimer(limits.helloTimeoutMs, () => {
      if (s.phase === 'hello') this.ctx.reject(s, 'unauthenticated', 'no hello in time', CloseCode.UNAUTHENTICATED);
    });
    return s;
  }

  /**
   * A hello arrived: frames after it wait (`authenticating`) while it waits its turn in a fair queue
   * keyed by the participant it claims to be. A burst of hellos (300 sockets of one customer) is then
   * verified one per turn of the event loop, and everybody else's frames go on between them. The key is
   * read from the token unverified: a forged one only chooses the line it waits in.
   */
  hello(s: Session, f: HelloFrame): void {
    s.phase = 'authenticating';
    if (s.helloTimer) this.ctx.clock.clearTimer(s.helloTimer);
    s.helloTimer = null;
    this.hellos.push(claimedSub(f.token), () => void this.authenticateSession(s, f));
  }

  private async authenticateSession(s: Session, f: HelloFrame): Promise<void> {
    const { clock, sessions, limits, directory, metrics } = this.ctx;
    if (s.phase === 'closed') return;
    let p: ParticipantRecord;
    try {
      ({ p, expiresAt: s.expiresAt } = await this.authenticate(f.token));
    } catch (e) {
      const err = e instanceof ProtocolError ? e : new ProtocolError('unauthenticated', 'invalid token');
      if (!(e instanceof ProtocolError)) this.ctx.log.error('hello failed', { error: String(e) });
      const code = err.code === 'forbidden' ? CloseCode.FORBIDDEN : CloseCode.UNAUTHENTICATED;
      this.ctx.reject(s, err.code, err.message, code);
      return;
    }
    if ((s.phase as Session['phase']) === 'closed') return;
    // Several hubs: the session's topics reach this hub before `welcome`, so that a frame another hub
    // publishes after it cannot pass the session by (a Redis round trip; a hub alone waits for nothing).
    if (this.ctx.bus.confirm) {
      await this.confirmTopics(p);
      if ((s.phase as Session['phase']) === 'closed') return;
    }
    if (this.ctx.stopping) {
      this.ctx.close(s, CloseCode.GOING_AWAY, 'server going away');
      return;
    }
    const others = sessions.get(p.id) ?? [];
    if (others.length >= limits.maxSessionsPerParticipant) {
      metrics.rateLimited('session');
      this.ctx.reject(s, 'rate_limited', `at most ${limits.maxSessionsPerParticipant} sessions per participant`, CloseCode.RATE_LIMITED);
      return;
    }
    s.participant = p;
    s.phase = 'open';
    // concat makes an array of exactly the length; a spread or push would leave room for more.
    sessions.set(p.id, others.concat(s));
    s.conn.subscribe(`p:${p.id}`);
    this.ctx.syncTopics(s);
    this.ctx.sendTo(s, {
      t: 'welcome',
      v: PROTOCOL_VERSION,
      sessionId: s.id,
      participant: { id: p.id, kind: p.kind, name: p.name },
      serverTime: clock.now(),
      heartbeatMs: limits.heartbeatMs,
      limits: { maxBodyChars: MAX_BODY_CHARS, maxFrameBytes: limits.maxFrameBytes },
    });
    this.presence.track(s);
    this.presence.update(p);
    const early = s.early;
    s.early = null;
    if (early) for (const frame of early) this.replay(s, frame);
  }

  /**
   * Wait until the bus confirmed p's topics, CONFIRM_WAIT_MS at most: with the bus unreachable, the
   * session opens anyway (frames then reach this hub's sessions only, and catch-up is by history).
   */
  private async confirmTopics(p: ParticipantRecord): Promise<void> {
    const { bus, clock, log } = this.ctx;
    let timer: TimerHandle | null = null;
    const late = new Promise<'late'>((resolve) => (timer = clock.setTimer(CONFIRM_WAIT_MS, () => resolve('late'))));
    const outcome = await Promise.race([bus.confirm!([`p:${p.id}`, ...this.ctx.topicsOf(p)]).then(() => 'confirmed' as const), late]);
    if (timer) clock.clearTimer(timer);
    if (outcome === 'late') log.warn('topics not confirmed by the bus in time: session opened without', { participant: p.id, waitedMs: CONFIRM_WAIT_MS });
  }

  /** `refresh`: a newer token for the same participant moves the session's end. */
  async refresh(s: Session, f: RefreshFrame): Promise<void> {
    const p = s.participant!;
    const claims = await this.ctx.tokens.verify(f.token);
    if (claims.sub !== p.id) throw new ProtocolError('unauthenticated', 'the token names another participant');
    admit(p, claims);
    if (s.phase !== 'open') return;
    s.expiresAt = Math.max(s.expiresAt === Infinity ? 0 : s.expiresAt, claims.expiresAt);
    this.ctx.sendTo(s, { t: 'refreshed', re: f.id, expiresAt: s.expiresAt });
  }

  /** The socket closed (for any reason). */
  closed(s: Session): void {
    if (s.phase === 'closed') return;
    const wasOpen = s.phase === 'open';
    s.phase = 'closed';
    this.ctx.metrics.connectionClosed();
    if (s.helloTimer) this.ctx.clock.clearTimer(s.helloTimer);
    this.presence.setWatch(s, null);
    const p = s.participant;
    if (!wasOpen || !p) return;
    const rest = (this.ctx.sessions.get(p.id) ?? []).filter((o) => o !== s);
    if (rest.length > 0) this.ctx.sessions.set(p.id, rest);
    else this.ctx.sessions.delete(p.id);
    this.presence.untrack(s);
    this.presence.update(p);
  }

  /** Close every session with 1001 (server going away). */
  shutdown(): void {
    this.ctx.stopping = true;
    if (this.sweeper) this.ctx.clock.clearTimer(this.sweeper);
    for (const list of this.ctx.sessions.values()) for (const s of list) this.ctx.close(s, CloseCode.GOING_AWAY, 'server going away');
    this.presence.stop();
  }

  /**
   * Re-derive the subscriptions of these participants' sessions after something they may see changed
   * (an item's followers or customer, a project's followers, an access preference, disabling).
   */
  refreshParticipants(ids: Iterable<string>): void {
    const { directory, sessions } = this.ctx;
    for (const id of ids) {
      const p = directory.participants.get(id);
      const list = sessions.get(id);
      if (!p || !list) continue;
      if (p.disabled) {
        for (const s of list) this.ctx.reject(s, 'forbidden', 'participant is disabled', CloseCode.FORBIDDEN);
        continue;
      }
      for (const s of list) {
        s.participant = p;
        this.ctx.syncTopics(s);
      }
    }
  }

  /** Verify a token and find (or just-in-time create) its participant. */
  private async authenticate(token: string): Promise<{ p: ParticipantRecord; expiresAt: number }> {
    const { directory, store, clock } = this.ctx;
    const claims = await this.ctx.tokens.verify(token);
    let p = directory.participants.get(claims.sub);
    // Several hubs: a participant the host wrote on another hub a moment ago.
    if (!p && !((claims.kind === 'user' || claims.kind === 'customer') && claims.name) && this.ctx.catchUp) {
      await this.ctx.catchUp();
      p = directory.participants.get(claims.sub);
    }
    if (!p) {
      if ((claims.kind !== 'user' && claims.kind !== 'customer') || !claims.name) {
        throw new ProtocolError('unauthenticated', 'unknown participant');
      }
      const fresh = newParticipant({ id: claims.sub, kind: claims.kind, name: claims.name, email: claims.email, locale: claims.locale }, clock.now());
      // Insert-if-absent, in memory first: a racing hello for the same id finds this one and is judged
      // against its kind. Then on disk, where a participant written first (by another hub) wins.
      directory.setParticipant(fresh);
      let stored: ParticipantRecord;
      try {
        stored = await store.insertParticipantIfAbsent(fresh);
      } catch (e) {
        if (directory.participants.get(fresh.id) === fresh) directory.deleteParticipant(fresh.id);
        throw e;
      }
      if (stored !== fresh && directory.participants.get(fresh.id) === fresh) directory.setParticipant(stored);
      p = directory.participants.get(fresh.id) ?? stored;
    }
    admit(p, claims);
    return { p, expiresAt: claims.expiresAt };
  }

  /**
   * Once a second: end sessions whose token expired (SPEC §3 Token), and once a minute forget the rate
   * limits of participants without sessions whose buckets have refilled. One timer for the whole hub.
   */
  private sweep(): void {
    const now = this.ctx.clock.now();
    // Presence entries are refreshed at a third of their lifetime, so a live hub's never lapse.
    const refresh = ++this.sweeps % Math.max(1, Math.floor(this.ctx.limits.presenceTtlMs / 3000)) === 0;
    for (const list of this.ctx.sessions.values()) {
      for (const s of list) {
        if (s.expiresAt <= now) this.ctx.reject(s, 'token_expired', 'token expired', CloseCode.UNAUTHENTICATED);
        else if (refresh) this.presence.track(s);
      }
    }
    if (this.sweeps % 60 === 0) this.guard.forgetIdle(now);
    this.sweeper = this.ctx.clock.setTimer(1000, () => this.sweep());
  }
}

/** Whether a verified token may open (or extend) a session of p. Throws the refusal. */
function admit(p: ParticipantRecord, claims: TokenClaims): void {
  if (claims.kind !== undefined && claims.kind !== p.kind) throw new ProtocolError('unauthenticated', 'token kind does not match the participant');
  if (p.disabled) throw new ProtocolError('forbidden', 'participant is disabled');
  // iat has whole seconds: a token of the second the participant was re-enabled is admitted.
  if (p.enabledAt !== null && (claims.issuedAt === undefined || claims.issuedAt < Math.floor(p.enabledAt / 1000) * 1000)) {
    throw new ProtocolError('unauthenticated', 'token issued before the participant was re-enabled');
  }
}

/** The `sub` a token claims, unverified (only to choose a queue); '' when it has none readable. */
function claimedSub(token: string): string {
  try {
    const payload = token.split('.')[1];
    if (!payload || payload.length > 4096) return '';
    const sub: unknown = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub.slice(0, 128) : '';
  } catch {
    return '';
  }
}
