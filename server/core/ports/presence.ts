import type { PresenceFrame } from '../../../protocol/index.js';

/** One open session's say in its participant's presence. */
export interface PresenceEntry {
  sessionId: string;
  participantId: string;
  /** The session's focus (SPEC §3 `presence`). */
  state: PresenceFrame['state'];
  /** The entry lapses at this time unless it is put again: a hub that died stops counting. */
  expiresAt: number;
}

/**
 * Who is online, per session, for every hub (SPEC §3 Presence). A hub puts an entry when a session
 * opens or changes its focus and refreshes its sessions' entries well inside their lifetime; it removes
 * an entry when the session closes. A participant is `active` when any live entry says so, `away` when
 * it has live entries and none is active, `offline` with none. Entries of a hub that stopped refreshing
 * lapse on their own. Calls are cheap and synchronous for the in-memory adapter; a shared adapter
 * (Redis) keeps a local view and writes behind.
 */
export interface PresenceStore {
  put(entry: PresenceEntry): void;
  remove(sessionId: string, participantId: string): void;
  /** The live entries of a participant's sessions at `now`, on every hub. */
  sessions(participantId: string, now: number): PresenceEntry[];
  /** Whether the participant has a live entry at `now` (the hot path's question: cheap, allocates nothing). */
  online(participantId: string, now: number): boolean;
}
