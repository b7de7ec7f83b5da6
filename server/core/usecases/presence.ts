import type { PresenceFrame, PresenceState, WhoFrame } from '../../../protocol/index.js';
import type { ParticipantRecord } from '../model.js';
import type { TimerHandle } from '../ports/index.js';
import type { Session } from '../session.js';
import { encode, type HubContext } from './context.js';
import type { Guard } from './guard.js';

interface PresenceInfo {
  state: PresenceState;
  lastActiveAt: number | null;
  offlineTimer: TimerHandle | null;
}

/**
 * Presence and watches (SPEC §3 Presence, `who`): a participant is `active` when any session says so,
 * else `away`, and `offline` a grace period after its last session. Changes go to the other members of
 * its conversations and to the sessions watching it, never to the whole team.
 */
export class PresenceUseCases {
  private readonly presence = new Map<string, PresenceInfo>();
  private readonly watchers = new Map<string, Set<Session>>();

  constructor(
    private readonly ctx: HubContext,
    private readonly guard: Guard,
  ) {}

  /** `presence`: this session's focus. */
  setState(s: Session, f: PresenceFrame): void {
    s.state = f.state;
    this.track(s);
    this.update(s.participant!);
  }

  /** Put (or refresh) an open session's entry in the presence port, for every hub to count. */
  track(s: Session): void {
    const { presence, clock, limits } = this.ctx;
    presence.put({ sessionId: s.id, participantId: s.participant!.id, state: s.state, expiresAt: clock.now() + limits.presenceTtlMs });
  }

  /** A session closed: its entry goes. */
  untrack(s: Session): void {
    this.ctx.presence.remove(s.id, s.participant!.id);
  }

  /** `who`: presence of participants; with `watch`, this session follows their changes. */
  who(s: Session, f: WhoFrame): void {
    const { directory } = this.ctx;
    const p = s.participant!;
    let allowed: (id: string) => boolean = (id) => directory.participants.has(id);
    if (p.kind === 'customer') {
      // A customer may ask only about users who are members of its conversations.
      const peers = this.ctx.customerPeers(p);
      allowed = (id) => peers.has(id);
    }
    const ids = [...new Set(f.participantIds)].filter(allowed);
    if (f.watch === true) this.setWatch(s, ids);
    else if (f.watch === false) this.setWatch(s, null);
    this.guard.sendReply(s, { t: 'who', re: f.id, presence: ids.map((id) => this.of(id)) });
  }

  /** Replace a session's watch list (null clears it; a closing session clears its own). */
  setWatch(s: Session, ids: string[] | null): void {
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

  /** Recompute p's presence from the live entries of its sessions; going offline waits out the grace period. */
  update(p: ParticipantRecord): void {
    const { presence, clock, limits } = this.ctx;
    const entries = presence.sessions(p.id, clock.now());
    let info = this.presence.get(p.id);
    if (!info) this.presence.set(p.id, (info = { state: 'offline', lastActiveAt: null, offlineTimer: null }));
    if (entries.length === 0) {
      if (info.state === 'offline' || info.offlineTimer || this.ctx.stopping) return;
      const i = info;
      i.offlineTimer = clock.setTimer(limits.presenceGraceMs, () => {
        i.offlineTimer = null;
        if (presence.sessions(p.id, clock.now()).length > 0 || i.state === 'offline') return;
        i.state = 'offline';
        this.broadcast(p);
      });
      return;
    }
    if (info.offlineTimer) {
      clock.clearTimer(info.offlineTimer);
      info.offlineTimer = null;
    }
    let state: PresenceState = 'away';
    for (const e of entries) if (e.state === 'active') state = 'active';
    if (state === 'active') info.lastActiveAt = clock.now();
    if (state === info.state) return;
    info.state = state;
    this.broadcast(p);
  }

  /** Stop every pending offline timer (shutdown). */
  stop(): void {
    for (const info of this.presence.values()) if (info.offlineTimer) this.ctx.clock.clearTimer(info.offlineTimer);
  }

  private of(id: string): { participantId: string; state: PresenceState; lastActiveAt: number | null } {
    const info = this.presence.get(id);
    return { participantId: id, state: info?.state ?? 'offline', lastActiveAt: info?.lastActiveAt ?? null };
  }

  /**
   * To the other members of p's conversations (who may see them) and to the sessions watching p that
   * are not among them, on this hub only: every hub recomputes a participant's presence when any hub
   * changes it (the presence port tells; `Hub.presenceChanged`) and tells its own sessions, so a frame
   * reaches each session once, from its own hub.
   */
  private broadcast(p: ParticipantRecord): void {
    const { directory, sessions } = this.ctx;
    const frame = encode({ t: 'presence', ...this.of(p.id) });
    const told = new Set<string>();
    for (const cid of directory.memberConversations(p)) {
      const c = directory.conversations.get(cid)!;
      for (const mId of directory.membersOf(c)) {
        if (mId === p.id || told.has(mId)) continue;
        const local = sessions.get(mId);
        if (!local) continue;
        const m = directory.participants.get(mId);
        if (!m || !directory.maySee(m, c)) continue;
        told.add(mId);
        for (const s of local) this.ctx.sendEncoded(s, 'presence', frame);
      }
    }
    for (const s of this.watchers.get(p.id) ?? []) if (!told.has(s.participant!.id)) this.ctx.sendEncoded(s, 'presence', frame);
  }
}
