import type { DecodeResult, PresenceFrame } from '../../protocol/index.js';
import type { Connection, TimerHandle } from './ports/index.js';
import type { ParticipantRecord } from './model.js';

/** Counts events in a sliding window; `hit` returns the count inside the window after this one. */
export class WindowCounter {
  private times: number[] = [];
  constructor(private readonly windowMs: number) {}
  hit(now: number): number {
    const cutoff = now - this.windowMs;
    while (this.times.length && this.times[0]! <= cutoff) this.times.shift();
    this.times.push(now);
    return this.times.length;
  }
}

/** Sets of at most this many topics may be shared by sessions (see `Session.setTopics`). */
const SHARED_MAX = 2;
const NO_TOPICS: ReadonlySet<string> = new Set();
/** The last small set of topics given to a session, shared with the next sessions that want the same. */
let common: ReadonlySet<string> = NO_TOPICS;

/**
 * One WebSocket session. Kept small: an idle session costs a few hundred bytes here, so the limiters
 * and watch list are created only when first needed, and small sets of topics are shared.
 */
export class Session {
  phase: 'hello' | 'authenticating' | 'open' | 'closed' = 'hello';
  participant: ParticipantRecord | null = null;
  state: PresenceFrame['state'] = 'active';
  /**
   * Topics this session is subscribed to (besides its own participant topic). Set through `setTopics`
   * and `addTopic` only: a set of at most SHARED_MAX topics may be another session's too.
   */
  topics: ReadonlySet<string> = NO_TOPICS;
  /** Participants whose presence changes this session receives (`who` with `watch`). */
  watching: Set<string> | null = null;
  helloTimer: TimerHandle | null = null;
  /** Frames that arrived while the hello was being verified, answered after `welcome`. */
  early: DecodeResult[] | null = null;
  badFrames: WindowCounter | null = null;
  rejected: WindowCounter | null = null;
  /** When the session's token expires (ms); `refresh` moves it. */
  expiresAt = Infinity;

  constructor(
    readonly id: string,
    readonly conn: Connection,
  ) {}

  /**
   * Take `want` as this session's topics (the caller gives it up). Most sessions want none, or the same
   * few (every user with access `all` and no direct conversation of its own: the shared topic), so a
   * small set equal to the last one given out is not kept twice.
   */
  setTopics(want: Set<string>): void {
    if (want.size === 0) this.topics = NO_TOPICS;
    else if (want.size > SHARED_MAX) this.topics = want;
    else if (want.size === common.size && [...want].every((t) => common.has(t))) this.topics = common;
    else this.topics = common = want;
  }

  addTopic(topic: string): void {
    if (this.topics.has(topic)) return;
    // A small set may be shared: it is copied. A larger one is this session's own (`setTopics`).
    if (this.topics.size <= SHARED_MAX) this.topics = new Set(this.topics).add(topic);
    else (this.topics as Set<string>).add(topic);
  }
}
