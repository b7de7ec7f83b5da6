import { CloseCode, type ServerFrame } from '../../../protocol/index.js';
import { FairQueue } from '../fair-queue.js';
import { ParticipantLimits, type Rate, type RateKind } from '../limits.js';
import type { Session } from '../session.js';
import { WindowCounter } from '../session.js';
import { encode, type HubContext } from './context.js';

/**
 * The per-participant limits in front of every request (SPEC §3 "Limits", server/README.md "Abuse"):
 * a token bucket per request frame, the bytes of replies, the bytes in flight, and the fair queue in
 * which heavy replies wait their turn.
 */
export class Guard {
  private readonly participantLimits = new Map<string, ParticipantLimits>();
  private readonly heavy = new FairQueue();
  /** The bytes one reply may take: the configured cap, and at most a quarter of the slow-consumer bound. */
  readonly replyCap: number;

  constructor(private readonly ctx: HubContext) {
    this.replyCap = Math.min(ctx.limits.maxReplyBytes, Math.floor(ctx.limits.maxBackpressureBytes / 4));
  }

  /** Take one request of `kind` from the participant's bucket; over the limit, answer `rate_limited`. */
  allow(s: Session, kind: RateKind, re: string | undefined): boolean {
    const { limits, clock } = this.ctx;
    const p = s.participant!;
    const rate: Rate = kind === 'open' && p.kind === 'customer' ? limits.customerOpen : limits.rates[kind];
    if (this.of(p.id).take(kind, rate, clock.now())) return true;
    this.refuse(s, kind, `too many ${kind} frames`, re);
    return false;
  }

  /** Run a heavy reply in its turn (core/fair-queue.ts), if there is room for it then. */
  queueReply(s: Session, re: string | undefined, build: () => void): void {
    this.heavy.push(s.participant!.id, () => {
      if (s.phase === 'open' && this.roomForReply(s, re)) build();
    });
  }

  /** Send a reply of the size-limited kinds, charging its bytes to the participant. */
  sendReply(s: Session, f: ServerFrame): void {
    if (s.phase === 'closed') return;
    const frame = encode(f);
    const now = this.ctx.clock.now();
    this.of(s.participant!.id).replyBytes(this.ctx.limits.replyBytes, now).spend(Buffer.byteLength(frame), now);
    this.ctx.sendEncoded(s, f.t, frame);
  }

  /** Answer `rate_limited`; sustained abuse closes the connection with 4008. */
  refuse(s: Session, limit: string, message: string, re: string | undefined): void {
    const { metrics, clock, limits } = this.ctx;
    metrics.rateLimited(limit);
    this.ctx.sendError(s, 'rate_limited', message, re);
    s.rejected ??= new WindowCounter(60_000);
    if (s.rejected.hit(clock.now()) > limits.maxRejectedPerMinute) this.ctx.close(s, CloseCode.RATE_LIMITED, 'rate limited');
  }

  /** Forget the limits of participants without sessions whose buckets have refilled. */
  forgetIdle(now: number): void {
    for (const [id, l] of this.participantLimits) if (!this.ctx.sessions.has(id) && l.idle(now)) this.participantLimits.delete(id);
  }

  /**
   * Whether a reply may be built now: not while the participant's reply-byte budget is spent, nor while
   * its sessions hold more unread bytes than `maxInflightBytes`, nor when this session could not take a
   * whole reply without being cut as slow. Checked before the reply is built, so a client that does not
   * read costs no memory.
   */
  private roomForReply(s: Session, re: string | undefined): boolean {
    const { limits, clock, sessions } = this.ctx;
    const id = s.participant!.id;
    const now = clock.now();
    if (!this.of(id).replyBytes(limits.replyBytes, now).ready(now)) {
      this.refuse(s, 'replyBytes', 'too many bytes asked for: wait a moment', re);
      return false;
    }
    let inflight = 0;
    for (const other of sessions.get(id) ?? []) inflight += other.conn.bufferedAmount();
    if (inflight <= limits.maxInflightBytes && s.conn.bufferedAmount() + this.replyCap <= limits.maxBackpressureBytes) return true;
    this.refuse(s, 'inflight', 'too much data in flight: read what was sent first', re);
    return false;
  }

  private of(participantId: string): ParticipantLimits {
    let l = this.participantLimits.get(participantId);
    if (!l) this.participantLimits.set(participantId, (l = new ParticipantLimits()));
    return l;
  }
}
