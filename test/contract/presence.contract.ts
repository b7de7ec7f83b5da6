import { describe, expect, it } from 'vitest';
import type { PresenceStore } from '../../server/core/ports/index.js';

/** Two hubs' views of one presence store. */
export interface OpenedPresence {
  hubs: [PresenceStore, PresenceStore];
  /**
   * A store shared across processes shows a hub's writes to the others a little later: resolves when
   * every write made so far on any hub is seen by every hub (absent: at once).
   */
  settle?: () => Promise<void>;
  close(): Promise<void>;
}

/**
 * The presence contract (server/core/ports/presence.ts): entries per session, seen by every hub, gone
 * when removed, lapsed at their expiry unless put again.
 */
export function describePresence(name: string, open: () => Promise<OpenedPresence>): void {
  const t0 = 1_000_000;
  const ids = (xs: Array<{ sessionId: string }>) => xs.map((e) => e.sessionId).sort();

  describe(`Presence contract: ${name}`, () => {
    it('shows every hub the sessions of a participant, each once, with its state', async () => {
      const { hubs, settle, close } = await open();
      try {
        const [a, b] = hubs;
        a.put({ sessionId: 's1', participantId: 'ann', state: 'away', expiresAt: t0 + 10_000 });
        b.put({ sessionId: 's2', participantId: 'ann', state: 'active', expiresAt: t0 + 10_000 });
        a.put({ sessionId: 's1', participantId: 'ann', state: 'active', expiresAt: t0 + 10_000 });
        await settle?.();
        for (const view of [a, b]) {
          const entries = view.sessions('ann', t0);
          expect(ids(entries)).toEqual(['s1', 's2']);
          expect(entries.every((e) => e.state === 'active')).toBe(true);
        }
        expect(a.sessions('bob', t0)).toEqual([]);
      } finally {
        await close();
      }
    });

    it('forgets a removed session, and one whose entry lapsed, but not one refreshed in time', async () => {
      const { hubs, settle, close } = await open();
      try {
        const [a, b] = hubs;
        a.put({ sessionId: 'gone', participantId: 'cy', state: 'active', expiresAt: t0 + 10_000 });
        a.put({ sessionId: 'lapsed', participantId: 'cy', state: 'active', expiresAt: t0 + 10_000 });
        b.put({ sessionId: 'kept', participantId: 'cy', state: 'away', expiresAt: t0 + 10_000 });
        a.remove('gone', 'cy');
        b.put({ sessionId: 'kept', participantId: 'cy', state: 'away', expiresAt: t0 + 20_000 });
        await settle?.();
        expect(ids(b.sessions('cy', t0 + 5_000))).toEqual(['kept', 'lapsed']);
        expect(ids(a.sessions('cy', t0 + 10_000))).toEqual(['kept']);
        expect(b.sessions('cy', t0 + 20_000)).toEqual([]);
      } finally {
        await close();
      }
    });

    it('shows a session put on one hub as online on the other, and offline there once it is removed', async () => {
      const { hubs, settle, close } = await open();
      try {
        const [a, b] = hubs;
        expect(b.online('dee', t0)).toBe(false);
        a.put({ sessionId: 'd1', participantId: 'dee', state: 'away', expiresAt: t0 + 10_000 });
        await settle?.();
        expect(b.online('dee', t0)).toBe(true);
        expect(b.online('dee', t0 + 10_000)).toBe(false);
        a.remove('d1', 'dee');
        await settle?.();
        expect(b.online('dee', t0)).toBe(false);
        expect(a.online('dee', t0)).toBe(false);
      } finally {
        await close();
      }
    });
  });
}
