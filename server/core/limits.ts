/**
 * What one participant may ask of the hub (SPEC §3 "Limits"). Every limit is per participant, not per
 * connection: opening more sockets buys nothing. server/README.md lists each one with its variable.
 */

/** The request frames that cost the hub work, each with its own token bucket. */
export const RATE_KINDS = ['send', 'open', 'presence', 'typing', 'seen', 'conversations', 'history', 'receipts', 'who', 'ping', 'refresh', 'notifications', 'notification_seen'] as const;
export type RateKind = (typeof RATE_KINDS)[number];

/** A token bucket's setting: `perSecond` sustained, `burst` at once. */
export interface Rate {
  perSecond: number;
  burst: number;
}

export interface HubLimits {
  maxFrameBytes: number;
  helloTimeoutMs: number;
  heartbeatMs: number;
  presenceGraceMs: number;
  /** A session's presence entry lapses this long after its hub last refreshed it (PARLEY_NODE_TTL_MS). */
  presenceTtlMs: number;
  /** More bad frames than this in a minute close the connection with 4400. */
  maxBadFramesPerMinute: number;
  /** More rate-limited requests than this in a minute close the connection with 4008. */
  maxRejectedPerMinute: number;
  rates: Record<RateKind, Rate>;
  /** `open` by a customer: a person opens one support chat, rarely a few. */
  customerOpen: Rate;
  /** Open sessions of one participant; one more is refused with `rate_limited` and closed 4008. */
  maxSessionsPerParticipant: number;
  /** Inbox conversations of one customer active within `customerInboxWindowMs`; `open` beyond is `rate_limited`. */
  maxCustomerInboxes: number;
  customerInboxWindowMs: number;
  /** Bytes written to a session but not yet taken by its client, past which it is closed 1008. */
  maxBackpressureBytes: number;
  /** Bytes buffered for all of a participant's sessions, past which its requests are `rate_limited`. */
  maxInflightBytes: number;
  /** The encoded size one reply may reach: `history` and `conversations` stop early (`hasMore`, `cursor`). */
  maxReplyBytes: number;
  /**
   * Bytes of replies (`conversations`, `history`, `receipts`, `who`) a participant may be sent: what a
   * reply costs the hub grows with its size, so large replies are limited by bytes, not only by count.
   */
  replyBytes: Rate;
}

export const DEFAULT_LIMITS: HubLimits = {
  maxFrameBytes: 65536,
  helloTimeoutMs: 10_000,
  heartbeatMs: 25_000,
  presenceGraceMs: 5_000,
  presenceTtlMs: 10_000,
  maxBadFramesPerMinute: 10,
  maxRejectedPerMinute: 60,
  rates: {
    send: { perSecond: 10, burst: 30 },
    open: { perSecond: 1, burst: 10 },
    presence: { perSecond: 2, burst: 10 },
    typing: { perSecond: 2, burst: 5 },
    seen: { perSecond: 20, burst: 100 },
    conversations: { perSecond: 2, burst: 10 },
    history: { perSecond: 20, burst: 100 },
    receipts: { perSecond: 5, burst: 20 },
    who: { perSecond: 2, burst: 10 },
    ping: { perSecond: 10, burst: 50 },
    refresh: { perSecond: 0.2, burst: 5 },
    notifications: { perSecond: 2, burst: 10 },
    notification_seen: { perSecond: 10, burst: 50 },
  },
  customerOpen: { perSecond: 3 / 60, burst: 3 },
  maxSessionsPerParticipant: 10,
  maxCustomerInboxes: 3,
  customerInboxWindowMs: 86_400_000,
  maxBackpressureBytes: 1_048_576,
  maxInflightBytes: 4_194_304,
  maxReplyBytes: 262_144,
  replyBytes: { perSecond: 1_048_576, burst: 1_048_576 },
};

/** A token bucket: `perSecond` sustained, `burst` at once. */
export class RateLimit {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: Rate,
    now: number,
  ) {
    this.tokens = rate.burst;
    this.last = now;
  }
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
  /** Whether anything is left (a bucket spent into debt is not, until it refills). */
  ready(now: number): boolean {
    this.refill(now);
    return this.tokens > 0;
  }
  /** Spend `n` after the fact, into debt if need be: the next requests wait until it is repaid. */
  spend(n: number, now: number): void {
    this.refill(now);
    this.tokens -= n;
  }
  /** True when the bucket is back to its burst: forgetting it changes nothing. */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.rate.burst;
  }
  private refill(now: number): void {
    this.tokens = Math.min(this.rate.burst, this.tokens + (Math.max(0, now - this.last) * this.rate.perSecond) / 1000);
    this.last = now;
  }
}

/**
 * The token buckets of one participant, shared by all its sessions. Buckets are made at first use;
 * a participant's entry outlives its sessions until every bucket has refilled, so reconnecting does
 * not reset a limit.
 */
export class ParticipantLimits {
  private readonly buckets = new Map<RateKind | 'replyBytes', RateLimit>();

  take(kind: RateKind, rate: Rate, now: number): boolean {
    return this.bucket(kind, rate, now).take(now);
  }

  /** The participant's reply-bytes bucket. */
  replyBytes(rate: Rate, now: number): RateLimit {
    return this.bucket('replyBytes', rate, now);
  }

  private bucket(kind: RateKind | 'replyBytes', rate: Rate, now: number): RateLimit {
    let b = this.buckets.get(kind);
    if (!b) this.buckets.set(kind, (b = new RateLimit(rate, now)));
    return b;
  }

  idle(now: number): boolean {
    for (const b of this.buckets.values()) if (!b.full(now)) return false;
    return true;
  }
}
