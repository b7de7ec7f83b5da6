import { describe, expect, it } from 'vitest';
import { MemoryPresence } from '../../../../server/adapters/memory/presence.js';

const T = 1_000_000;

/** What the presence contract does not pin down: a participant's one entry held as itself, several in a map. */
describe('MemoryPresence', () => {
  it('goes from one session to two and back without losing either', () => {
    const p = new MemoryPresence();
    p.put({ sessionId: 's1', participantId: 'ann', state: 'active', expiresAt: T + 10 });
    p.put({ sessionId: 's2', participantId: 'ann', state: 'away', expiresAt: T + 20 });
    expect(p.sessions('ann', T).map((e) => e.sessionId)).toEqual(['s1', 's2']);
    p.remove('s1', 'ann');
    expect(p.sessions('ann', T).map((e) => e.sessionId)).toEqual(['s2']);
    // The entry left is the participant's only one: removing another session changes nothing.
    p.remove('s9', 'ann');
    expect(p.online('ann', T + 15)).toBe(true);
    expect(p.entry('ann', 's2')?.state).toBe('away');
    p.remove('s2', 'ann');
    expect(p.online('ann', T)).toBe(false);
    expect(p.entry('ann', 's2')).toBeUndefined();
  });

  it('moves the expiry of a refreshed entry, and keeps a lapsed one only while asked to', () => {
    const p = new MemoryPresence();
    p.put({ sessionId: 's1', participantId: 'bo', state: 'active', expiresAt: T + 10 });
    p.put({ sessionId: 's1', participantId: 'bo', state: 'active', expiresAt: T + 30 });
    expect(p.online('bo', T + 20)).toBe(true);
    p.prune(T + 40, (sid) => sid === 's1');
    expect(p.entry('bo', 's1')?.expiresAt).toBe(T + 30);
    p.prune(T + 40, () => false);
    expect(p.entry('bo', 's1')).toBeUndefined();
  });

  it('never changes the state of an entry a reader already holds (a new state is a new entry)', () => {
    const p = new MemoryPresence();
    p.put({ sessionId: 's1', participantId: 'cy', state: 'active', expiresAt: T + 10 });
    const before = p.entry('cy', 's1')!;
    p.put({ sessionId: 's1', participantId: 'cy', state: 'away', expiresAt: T + 20 });
    expect(before.state).toBe('active');
    expect(p.entry('cy', 's1')).toMatchObject({ state: 'away', expiresAt: T + 20 });
    p.put({ sessionId: 's2', participantId: 'cy', state: 'away', expiresAt: T + 20 });
    const held = p.entry('cy', 's2')!;
    p.put({ sessionId: 's2', participantId: 'cy', state: 'active', expiresAt: T + 30 });
    expect(held.state).toBe('away');
    expect(p.sessions('cy', T).map((e) => e.state)).toEqual(['away', 'active']);
  });
});
