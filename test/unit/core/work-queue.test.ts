import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../server/core/work-queue.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('runs at most `concurrency` tasks at once, in arrival order', async () => {
    const q = new WorkQueue(2, 100);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const task = (n: number) => () =>
      new Promise<number>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        order.push(n);
        releases.push(() => {
          running--;
          resolve(n);
        });
      });
    const all = [1, 2, 3, 4, 5].map((n) => q.run(task(n)));
    // Let the queue start what it may, then finish the running ones, until all five ran.
    for (let turn = 0; order.length < 5 || releases.length > 0; turn++) {
      if (turn > 1000) throw new Error('the queue stalled');
      await tick();
      for (const r of releases.splice(0)) r();
    }
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBeLessThanOrEqual(2);
  });

  it('refuses with unavailable beyond maxQueued waiting tasks, and a failed task frees its slot', async () => {
    const q = new WorkQueue(1, 2);
    let release!: () => void;
    const first = q.run(() => new Promise<void>((r) => (release = r)));
    await tick();
    const a = q.run(async () => 'a');
    const b = q.run(async () => 'b');
    await expect(q.run(async () => 'c')).rejects.toMatchObject({ code: 'unavailable' });
    release();
    await first;
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    await expect(q.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await q.run(async () => 'after')).toBe('after');
    expect(q.size).toBe(0);
  });
});
