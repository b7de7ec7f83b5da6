import { describe, expect, it } from 'vitest';
import type { PresenceStore } from '../../server/core/ports/index.js';

/** Two hubs' views of one presence store. */
export interface OpenedPresence {
  hubs: [PresenceStore, PresenceStore];
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
      const { hubs, close } = await open();
      try {
        const [a, b] = hubs;
        a.put({ sessionId: 's1', participantId: 'ann', state: 'away', expiresAt: t0 + 10_000 });
        b.put({ sessionId: 's2', participantId: 'ann', state: 'active', expiresAt: t0 + 10_000 });
        a.put({ sessionId: 's1', participantId: 'ann', state: 'active', expiresAt: t0 + 10_000 });
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
      const { hubs, close } = await open();
      try {
        const [a, b] = hubs;
        a.put({ sessionId: 'gone', participantId: 'cy', state: 'active', expiresAt: t0 + 10_000 });
        a.put({ sessionId: 'lapsed', participantId: 'cy', state: 'active', expiresAt: t0 + 10_000 });
        b.put({ sessionId: 'kept', participantId: 'cy', state: 'away', expiresAt: t0 + 10_000 });
        a.remove('gone', 'cy');
        b.put({ sessionId: 'kept', participantId: 'cy', state: 'away', expiresAt: t0 + 20_000 });
        expect(ids(b.sessions('cy', t0 + 5_000))).toEqual(['kept', 'lapsed']);
        expect(ids(a.sessions('cy', t0 + 10_000))).toEqual(['kept']);
        expect(b.sessions('cy', t0 + 20_000)).toEqual([]);
      } finally {
        await close();
      }
    });
  });
}
