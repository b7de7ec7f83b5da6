import type { PresenceEntry, PresenceStore } from '../../core/ports/index.js';

/** A participant's entries: the one (most participants have one session) or several by session id. */
type Entries = PresenceEntry | Map<string, PresenceEntry>;

/**
 * Presence of one hub (or of several in one process, sharing one instance): entries in a map. The Redis
 * presence keeps one as its local view of every hub's entries.
 */
export class MemoryPresence implements PresenceStore {
  private readonly byParticipant = new Map<string, Entries>();

  put(entry: PresenceEntry): void {
    const { participantId, sessionId } = entry;
    const cur = this.byParticipant.get(participantId);
    if (cur === undefined) this.byParticipant.set(participantId, entry);
    else if (cur instanceof Map) cur.set(sessionId, refreshed(cur.get(sessionId), entry));
    else if (cur.sessionId === sessionId) this.byParticipant.set(participantId, refreshed(cur, entry));
    else this.byParticipant.set(participantId, new Map([[cur.sessionId, cur], [sessionId, entry]]));
  }

  remove(sessionId: string, participantId: string): void {
    const cur = this.byParticipant.get(participantId);
    if (cur === undefined) return;
    if (!(cur instanceof Map)) {
      if (cur.sessionId === sessionId) this.byParticipant.delete(participantId);
      return;
    }
    cur.delete(sessionId);
    this.settle(participantId, cur);
  }

  online(participantId: string, now: number): boolean {
    const cur = this.byParticipant.get(participantId);
    if (cur === undefined) return false;
    if (!(cur instanceof Map)) return cur.expiresAt > now;
    for (const e of cur.values()) if (e.expiresAt > now) return true;
    return false;
  }

  sessions(participantId: string, now: number): PresenceEntry[] {
    const cur = this.byParticipant.get(participantId);
    if (cur === undefined) return [];
    if (!(cur instanceof Map)) {
      if (cur.expiresAt > now) return [cur];
      this.byParticipant.delete(participantId);
      return [];
    }
    const live: PresenceEntry[] = [];
    for (const [id, e] of cur) {
      if (e.expiresAt > now) live.push(e);
      else cur.delete(id);
    }
    this.settle(participantId, cur);
    return live;
  }

  /** The entry of one session, lapsed or not. */
  entry(participantId: string, sessionId: string): PresenceEntry | undefined {
    const cur = this.byParticipant.get(participantId);
    if (cur === undefined || cur instanceof Map) return cur?.get(sessionId);
    return cur.sessionId === sessionId ? cur : undefined;
  }

  /** Forget the entries lapsed at `now`, but those `keep` names (the memory stays bounded). */
  prune(now: number, keep: (sessionId: string) => boolean): void {
    for (const [pid, cur] of this.byParticipant) {
      if (!(cur instanceof Map)) {
        if (cur.expiresAt <= now && !keep(cur.sessionId)) this.byParticipant.delete(pid);
        continue;
      }
      for (const [sid, e] of cur) if (e.expiresAt <= now && !keep(sid)) cur.delete(sid);
      this.settle(pid, cur);
    }
  }

  /** Back to the entry itself when one is left, none when none is. */
  private settle(participantId: string, m: Map<string, PresenceEntry>): void {
    if (m.size > 1) return;
    const only = m.values().next();
    if (only.done) this.byParticipant.delete(participantId);
    else this.byParticipant.set(participantId, only.value);
  }
}

/**
 * The entry to keep for `next`: a refresh (same session and state, a new expiry) moves the expiry of the
 * entry already held rather than holding another object, so that the periodic refresh of every session
 * leaves no garbage behind in the old generation. A held entry's state never changes: readers may keep it.
 */
function refreshed(cur: PresenceEntry | undefined, next: PresenceEntry): PresenceEntry {
  if (cur === undefined || cur.state !== next.state || cur.participantId !== next.participantId) return next;
  cur.expiresAt = next.expiresAt;
  return cur;
}
