import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rendezvous } from '../../server/core/scheduler/rendezvous.js';

const hubIds = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 8 });
const keys = fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 60 });

describe('rendezvous', () => {
  it.each([
    { name: 'no live hub owns nothing', key: 'p1:c1', hubs: [], owner: null },
    { name: 'one live hub owns everything', key: 'p1:c1', hubs: ['a'], owner: 'a' },
    { name: 'the empty key has an owner too', key: '', hubs: ['a'], owner: 'a' },
    { name: 'a hub named twice counts once', key: 'p1:c1', hubs: ['a', 'a'], owner: 'a' },
  ])('$name', ({ key, hubs, owner }) => {
    expect(rendezvous(key, hubs)).toBe(owner);
  });

  it('gives the owners of the table, with three hubs and after hub-b left (the hash is pinned: every hub must agree)', () => {
    const table: Array<[key: string, ofThree: string, withoutB: string]> = [
      ['esc:ann:c1', 'hub-a', 'hub-a'],
      ['esc:bob:c1', 'hub-b', 'hub-a'],
      ['rem:42', 'hub-b', 'hub-c'],
      ['notif:7', 'hub-a', 'hub-a'],
      ['esc:cy:c9', 'hub-b', 'hub-a'],
      ['notif:8', 'hub-b', 'hub-c'],
      ['rem:45', 'hub-a', 'hub-a'],
      ['esc:dee:c2', 'hub-c', 'hub-c'],
    ];
    for (const [key, ofThree, withoutB] of table) {
      expect(rendezvous(key, ['hub-a', 'hub-b', 'hub-c'])).toBe(ofThree);
      expect(rendezvous(key, ['hub-c', 'hub-a'])).toBe(withoutB);
    }
  });

  it('gives each key exactly one owner among the hubs, whatever their order', () => {
    fc.assert(
      fc.property(hubIds, keys, (hubs, ks) => {
        const reversed = [...hubs].reverse();
        for (const k of ks) {
          const owner = rendezvous(k, hubs);
          expect(hubs).toContain(owner);
          expect(rendezvous(k, reversed)).toBe(owner);
        }
      }),
    );
  });

  it('moves only the removed hub’s keys when a hub leaves, and only to the new hub when one joins', () => {
    fc.assert(
      fc.property(hubIds, keys, fc.nat(), fc.string({ minLength: 1, maxLength: 12 }), (hubs, ks, pick, joiner) => {
        const gone = hubs[pick % hubs.length]!;
        const rest = hubs.filter((h) => h !== gone);
        const joined = hubs.includes(joiner) ? hubs : [...hubs, joiner];
        for (const k of ks) {
          const before = rendezvous(k, hubs);
          if (before !== gone) expect(rendezvous(k, rest)).toBe(before);
          const after = rendezvous(k, joined);
          if (after !== before) expect(after).toBe(joiner);
        }
      }),
    );
  });

  it('spreads keys over the hubs', () => {
    const hubs = ['n1', 'n2', 'n3', 'n4'];
    const counts = new Map(hubs.map((h) => [h, 0]));
    for (let i = 0; i < 4000; i++) {
      const owner = rendezvous(`esc:p${i}:c${i % 97}`, hubs)!;
      counts.set(owner, counts.get(owner)! + 1);
    }
    for (const n of counts.values()) expect(n).toBeGreaterThan(800);
  });
});
