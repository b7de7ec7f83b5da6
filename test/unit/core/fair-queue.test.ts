import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../../server/core/fair-queue.js';

/** A queue whose turns of the loop are run by hand. */
function manual() {
  const turns: Array<() => void> = [];
  const q = new FairQueue((fn) => turns.push(fn));
  const turn = () => {
    const fn = turns.shift();
    if (!fn) throw new Error('nothing scheduled');
    fn();
  };
  return { q, turns, turn };
}

describe('FairQueue', () => {
  it('runs one task per turn of the loop, never inside push', () => {
    const { q, turns, turn } = manual();
    const ran: string[] = [];
    q.push('a', () => ran.push('a1'));
    q.push('a', () => ran.push('a2'));
    expect(ran).toEqual([]);
    turn();
    expect(ran).toEqual(['a1']);
    turn();
    expect(ran).toEqual(['a1', 'a2']);
    expect(turns).toEqual([]);
    expect(q.size).toBe(0);
  });

  it('takes owners in turn: a burst from one waits behind one task of each other owner', () => {
    const { q, turn } = manual();
    const ran: string[] = [];
    for (let i = 1; i <= 5; i++) q.push('mallory', () => ran.push(`m${i}`));
    q.push('alice', () => ran.push('a1'));
    q.push('bob', () => ran.push('b1'));
    for (let i = 0; i < 7; i++) turn();
    expect(ran).toEqual(['m1', 'a1', 'b1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('keeps one turn scheduled at a time however many tasks wait', () => {
    const { q, turns } = manual();
    for (let i = 0; i < 100; i++) q.push(`p${i % 3}`, () => {});
    expect(turns.length).toBe(1);
  });
});
