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

/**
 * One WebSocket session. Kept small: an idle session costs a few hundred bytes here, so the limiters
 * and watch list are created only when first needed.
 */
export class Session {
  phase: 'hello' | 'authenticating' | 'open' | 'closed' = 'hello';
  participant: ParticipantRecord | null = null;
  state: PresenceFrame['state'] = 'active';
  /** Topics this session is subscribed to (besides its own participant topic). */
  topics = new Set<string>();
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
}
