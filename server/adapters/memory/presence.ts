import type { PresenceEntry, PresenceStore } from '../../core/ports/index.js';

/**
 * Presence of one hub (or of several in one process, sharing one instance): entries in a map. The Redis
 * presence keeps one as its local view of every hub's entries.
 */
export class MemoryPresence implements PresenceStore {
  private readonly byParticipant = new Map<string, Map<string, PresenceEntry>>();

  put(entry: PresenceEntry): void {
    let m = this.byParticipant.get(entry.participantId);
    if (!m) this.byParticipant.set(entry.participantId, (m = new Map()));
    m.set(entry.sessionId, entry);
  }

  remove(sessionId: string, participantId: string): void {
    const m = this.byParticipant.get(participantId);
    if (!m) return;
    m.delete(sessionId);
    if (m.size === 0) this.byParticipant.delete(participantId);
  }

  online(participantId: string, now: number): boolean {
    const m = this.byParticipant.get(participantId);
    if (!m) return false;
    for (const e of m.values()) if (e.expiresAt > now) return true;
    return false;
  }

  sessions(participantId: string, now: number): PresenceEntry[] {
    const m = this.byParticipant.get(participantId);
    if (!m) return [];
    const live: PresenceEntry[] = [];
    for (const [id, e] of m) {
      if (e.expiresAt > now) live.push(e);
      else m.delete(id);
    }
    if (m.size === 0) this.byParticipant.delete(participantId);
    return live;
  }

  /** The entry of one session, lapsed or not. */
  entry(participantId: string, sessionId: string): PresenceEntry | undefined {
    return this.byParticipant.get(participantId)?.get(sessionId);
  }

  /** Forget the entries lapsed at `now`, but those `keep` names (the memory stays bounded). */
  prune(now: number, keep: (sessionId: string) => boolean): void {
    for (const [pid, m] of this.byParticipant) {
      for (const [sid, e] of m) if (e.expiresAt <= now && !keep(sid)) m.delete(sid);
      if (m.size === 0) this.byParticipant.delete(pid);
    }
  }
}
