import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerWheel } from '../../../../server/core/scheduler/timer-wheel.js';
import { WheelDriver } from '../../../../server/core/scheduler/wheel-driver.js';
import { FakeClock } from '../../../support/fake-clock.js';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
/** A realistic epoch start, not aligned to a tick. */
const T0 = 1_750_000_000_037;

type Fired<K> = Array<[K, number]>;

function wheelAt<K = string>(now = T0, opts: { tickMs?: number; slots?: number } = {}) {
  const fired: Fired<K> = [];
  const wheel = new TimerWheel<K>({ now, ...opts, onFire: (k, d) => fired.push([k, d]) });
  return { wheel, fired };
}

describe('TimerWheel', () => {
  it('fires a timer at its due time and not a millisecond before', () => {
    const { wheel, fired } = wheelAt();
    wheel.arm('a', T0 + 250);
    wheel.advance(T0 + 249);
    expect(fired).toEqual([]);
    wheel.advance(T0 + 250);
    expect(fired).toEqual([['a', T0 + 250]]);
    expect(wheel.size).toBe(0);
  });

  it('fires a timer once even when later advances pass its due time again', () => {
    const { wheel, fired } = wheelAt();
    wheel.arm('a', T0 + 10);
    wheel.advance(T0 + 20);
    wheel.advance(T0 + 5000);
    expect(fired).toEqual([['a', T0 + 10]]);
  });

  it('fires many timers of one tick in due order, ties in arm order', () => {
    const { wheel, fired } = wheelAt(0);
    const dues = [99, 10, 55, 10, 1, 100, 55, 73];
    dues.forEach((d, i) => wheel.arm(`k${i}`, d));
    wheel.advance(100);
    expect(fired).toEqual([
      ['k4', 1],
      ['k1', 10],
      ['k3', 10],
      ['k2', 55],
      ['k6', 55],
      ['k7', 73],
      ['k0', 99],
      ['k5', 100],
    ]);
  });

  it('breaks ties in arm order even when the first one reached the tick by cascading', () => {
    const { wheel, fired } = wheelAt(0);
    wheel.arm('armed-first', 200_000); // beyond one revolution (102.4 s): a coarser level
    wheel.advance(100_000);
    wheel.arm('armed-second', 200_000); // now within level 0, linked before the first one cascades
    wheel.advance(200_000);
    expect(fired.map(([k]) => k)).toEqual(['armed-first', 'armed-second']);
  });

  it('fires a thousand timers of the same tick in one advance', () => {
    const { wheel, fired } = wheelAt<number>(0);
    for (let i = 0; i < 1000; i++) wheel.arm(i, 1000 + (i % 100));
    wheel.advance(1099);
    expect(fired).toHaveLength(1000);
    expect(fired.map(([, d]) => d)).toEqual([...fired.map(([, d]) => d)].sort((a, b) => a - b));
  });

  it('fires timers 2 hours and 3 days away through the coarser levels, at their due time', () => {
    const { wheel, fired } = wheelAt();
    wheel.arm('2h', T0 + 2 * HOUR + 7);
    wheel.arm('3d', T0 + 3 * DAY + 123);
    // Step through time in uneven strides, as a driver with a busy clock would.
    let now = T0;
    while (now < T0 + 2 * HOUR) {
      now += 61_234;
      if (now >= T0 + 2 * HOUR) break;
      wheel.advance(now);
    }
    expect(fired).toEqual([]);
    wheel.advance(T0 + 2 * HOUR + 6);
    expect(fired).toEqual([]);
    wheel.advance(T0 + 2 * HOUR + 7);
    expect(fired).toEqual([['2h', T0 + 2 * HOUR + 7]]);
    wheel.advance(T0 + 3 * DAY + 122);
    expect(fired).toHaveLength(1);
    wheel.advance(T0 + 3 * DAY + 123);
    expect(fired).toEqual([
      ['2h', T0 + 2 * HOUR + 7],
      ['3d', T0 + 3 * DAY + 123],
    ]);
  });

  it('fires far-future timers in due order when one advance jumps over all of them', () => {
    const { wheel, fired } = wheelAt<number>();
    const dues = [3 * DAY, 2 * HOUR, 400 * DAY, 5 * SECOND, 2 * HOUR - 1, 101_000];
    dues.forEach((d, i) => wheel.arm(i, T0 + d));
    wheel.advance(T0 + 500 * DAY);
    expect(fired.map(([, d]) => d - T0)).toEqual([...dues].sort((a, b) => a - b));
  });

  it('does not fire a cancelled timer', () => {
    const { wheel, fired } = wheelAt();
    wheel.arm('a', T0 + 100);
    wheel.arm('b', T0 + 3 * DAY);
    expect(wheel.cancel('a')).toBe(true);
    expect(wheel.cancel('b')).toBe(true);
    expect(wheel.cancel('a')).toBe(false);
    expect(wheel.cancel('never')).toBe(false);
    wheel.advance(T0 + 4 * DAY);
    expect(fired).toEqual([]);
    expect(wheel.size).toBe(0);
  });

  it('re-arming to an earlier time fires only at the earlier time', () => {
    const { wheel, fired } = wheelAt();
    wheel.arm('a', T0 + 3 * DAY);
    wheel.arm('a', T0 + 300);
    expect(wheel.size).toBe(1);
    wheel.advance(T0 + 300);
    expect(fired).toEqual([['a', T0 + 300]]);
    wheel.advance(T0 + 4 * DAY);
    expect(fired).toHaveLength(1);
  });

  it('re-arming to a later time does not fire at the earlier time', () => {
    const { wheel, fired } = wheelAt();
    wheel.arm('a', T0 + 300);
    wheel.arm('a', T0 + 2 * HOUR);
    wheel.advance(T0 + HOUR);
    expect(fired).toEqual([]);
    expect(wheel.dueAt('a')).toBe(T0 + 2 * HOUR);
    wheel.advance(T0 + 2 * HOUR);
    expect(fired).toEqual([['a', T0 + 2 * HOUR]]);
  });

  it('lets onFire re-arm its own key, which then fires on a later advance', () => {
    const fired: number[] = [];
    const wheel: TimerWheel<string> = new TimerWheel<string>({
      now: 0,
      onFire: (k, d) => {
        fired.push(d);
        expect(wheel.has(k)).toBe(false);
        if (fired.length < 3) wheel.arm(k, d); // the same, already passed, due time
      },
    });
    wheel.arm('a', 50);
    wheel.advance(100);
    expect(fired).toEqual([50]);
    wheel.advance(100);
    expect(fired).toEqual([50, 50]);
    wheel.advance(100);
    expect(fired).toEqual([50, 50, 50]);
    expect(wheel.size).toBe(0);
  });

  it('fires a timer armed inside onFire in the same advance when its tick is still ahead', () => {
    const fired: string[] = [];
    const wheel: TimerWheel<string> = new TimerWheel<string>({
      now: 0,
      onFire: (k) => {
        fired.push(k);
        if (k === 'a') wheel.arm('b', 950);
        if (k === 'b') wheel.arm('c', 1500);
      },
    });
    wheel.arm('a', 100);
    wheel.advance(1000);
    expect(fired).toEqual(['a', 'b']);
    expect(wheel.dueAt('c')).toBe(1500);
    wheel.advance(1500);
    expect(fired).toEqual(['a', 'b', 'c']);
  });

  it('lets onFire cancel another timer of the same tick before its turn', () => {
    const fired: string[] = [];
    const wheel: TimerWheel<string> = new TimerWheel<string>({
      now: 0,
      onFire: (k) => {
        fired.push(k);
        if (k === 'a') expect(wheel.cancel('b')).toBe(true);
      },
    });
    wheel.arm('a', 10);
    wheel.arm('b', 20);
    wheel.arm('c', 30);
    wheel.advance(100);
    expect(fired).toEqual(['a', 'c']);
    expect(wheel.size).toBe(0);
  });

  it('lets onFire re-arm another timer of the same tick to later, and it fires only then', () => {
    const fired: Fired<string> = [];
    const wheel: TimerWheel<string> = new TimerWheel<string>({
      now: 0,
      onFire: (k, d) => {
        fired.push([k, d]);
        if (k === 'a') wheel.arm('b', 5000);
      },
    });
    wheel.arm('a', 10);
    wheel.arm('b', 20);
    wheel.advance(100);
    expect(fired).toEqual([['a', 10]]);
    expect(wheel.dueAt('b')).toBe(5000);
    wheel.advance(5000);
    expect(fired).toEqual([
      ['a', 10],
      ['b', 5000],
    ]);
  });

  it('fires a timer armed with a due time in the past on the next advance', () => {
    const { wheel, fired } = wheelAt();
    wheel.advance(T0 + 10_000);
    wheel.arm('late', T0 + 1);
    wheel.arm('now', T0 + 10_000);
    expect(fired).toEqual([]);
    wheel.advance(T0 + 10_000);
    expect(fired).toEqual([
      ['late', T0 + 1],
      ['now', T0 + 10_000],
    ]);
  });

  it('fires overdue timers before the ones due later in the same advance', () => {
    const { wheel, fired } = wheelAt(1000);
    wheel.arm('future', 1050);
    wheel.arm('past', 500);
    wheel.advance(1100);
    expect(fired.map(([k]) => k)).toEqual(['past', 'future']);
  });

  it('counts pending timers in size and answers has and dueAt', () => {
    const { wheel } = wheelAt();
    expect(wheel.size).toBe(0);
    wheel.arm('a', T0 + 100);
    wheel.arm('b', T0 + 3 * DAY);
    wheel.arm('a', T0 + 200);
    expect(wheel.size).toBe(2);
    expect(wheel.has('a')).toBe(true);
    expect(wheel.dueAt('a')).toBe(T0 + 200);
    expect(wheel.dueAt('zz')).toBeUndefined();
    wheel.advance(T0 + 200);
    expect(wheel.size).toBe(1);
    expect(wheel.has('a')).toBe(false);
    wheel.cancel('b');
    expect(wheel.size).toBe(0);
  });

  it('treats an advance to an earlier time as the current time', () => {
    const { wheel, fired } = wheelAt(1000);
    wheel.advance(2000);
    wheel.arm('a', 2050);
    wheel.advance(1500);
    expect(fired).toEqual([]);
    wheel.advance(2050);
    expect(fired).toEqual([['a', 2050]]);
  });

  it('refuses an advance from inside onFire', () => {
    const errors: unknown[] = [];
    const wheel: TimerWheel<string> = new TimerWheel<string>({ now: 0, onFire: () => wheel.advance(10), onError: (e) => errors.push(e) });
    wheel.arm('a', 5);
    wheel.advance(10);
    expect(String(errors[0])).toMatch(/not reentrant/);
  });

  it('reports an onFire error to onError and fires the rest', () => {
    const fired: string[] = [];
    const errors: Array<[unknown, string]> = [];
    const wheel = new TimerWheel<string>({
      now: 0,
      onFire: (k) => {
        if (k === 'b') throw new Error('boom');
        fired.push(k);
      },
      onError: (e, k) => errors.push([e, k]),
    });
    ['a', 'b', 'c'].forEach((k, i) => wheel.arm(k, 10 + i));
    wheel.advance(100);
    expect(fired).toEqual(['a', 'c']);
    expect(errors).toHaveLength(1);
    expect(errors[0]![1]).toBe('b');
  });

  it('without onError, rethrows the first onFire error after firing the rest', () => {
    const fired: string[] = [];
    const wheel = new TimerWheel<string>({
      now: 0,
      onFire: (k) => {
        fired.push(k);
        if (k === 'a' || k === 'b') throw new Error(`boom ${k}`);
      },
    });
    ['a', 'b', 'c'].forEach((k, i) => wheel.arm(k, 10 + i));
    expect(() => wheel.advance(100)).toThrow('boom a');
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(wheel.size).toBe(0);
    wheel.arm('d', 150);
    wheel.advance(200);
    expect(fired).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects a due time that is not a finite number', () => {
    const { wheel } = wheelAt();
    expect(() => wheel.arm('a', Number.NaN)).toThrow(RangeError);
    expect(() => wheel.arm('a', Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(wheel.size).toBe(0);
  });

  it('rejects a tick that is not a positive integer and too few slots', () => {
    expect(() => new TimerWheel({ now: 0, tickMs: 0, onFire: () => {} })).toThrow(RangeError);
    expect(() => new TimerWheel({ now: 0, tickMs: 2.5, onFire: () => {} })).toThrow(RangeError);
    expect(() => new TimerWheel({ now: 0, slots: 1, onFire: () => {} })).toThrow(RangeError);
  });

  it('keeps number and string keys apart, and treats -0 as 0 as a Map does', () => {
    const { wheel, fired } = wheelAt<number | string>(0);
    wheel.arm(1, 10);
    wheel.arm('1', 20);
    wheel.arm(1.5, 30);
    wheel.arm(2 ** 40, 40);
    wheel.arm(-0, 50);
    expect(wheel.size).toBe(5);
    expect(wheel.dueAt(0)).toBe(50);
    expect(wheel.cancel(1.5)).toBe(true);
    wheel.advance(100);
    expect(fired).toEqual([
      [1, 10],
      ['1', 20],
      [2 ** 40, 40],
      [0, 50],
    ]);
    expect(Object.is(fired[3]![0], 0)).toBe(true);
  });

  it('finds every key after heavy arm and cancel churn', () => {
    const { wheel } = wheelAt<number>(0);
    const model = new Map<number, number>();
    let x = 12345;
    const rand = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
    for (let step = 0; step < 200_000; step++) {
      const key = rand(20_000) * (step % 2 ? 1 : 4096); // clustered and strided keys
      if (rand(3) === 0) expect(wheel.cancel(key)).toBe(model.delete(key));
      else {
        wheel.arm(key, 1 + rand(1_000_000));
        model.set(key, wheel.dueAt(key)!);
      }
    }
    expect(wheel.size).toBe(model.size);
    for (const [key, due] of model) expect(wheel.dueAt(key)).toBe(due);
    for (let key = 0; key < 20_000; key++) expect(wheel.has(key)).toBe(model.has(key));
  });

  it('keeps working when onFire arms 200,000 timers and cancels one waiting in the same batch', () => {
    const fired: Fired<number> = [];
    const wheel: TimerWheel<number> = new TimerWheel<number>({
      now: 0,
      onFire: (k, d) => {
        fired.push([k, d]);
        // Arming 200,000 timers (the arrays grow) while 200_000 and 200_001 wait in the same batch.
        if (k === 5 && d === 50) for (let id = 0; id < 200_000; id++) wheel.arm(id, 10_000 + id);
        if (k === 200_000) expect(wheel.cancel(200_001)).toBe(true);
      },
    });
    wheel.arm(200_000, 60);
    wheel.arm(200_001, 70);
    wheel.arm(5, 50);
    wheel.arm(1_000_000_000, 80);
    expect(wheel.dueAt(200_000)).toBe(60);
    wheel.advance(100);
    expect(fired).toEqual([
      [5, 50],
      [200_000, 60],
      [1_000_000_000, 80],
    ]);
    wheel.arm(300_002, 20_000);
    expect(wheel.has(300_002)).toBe(true);
    expect(wheel.size).toBe(200_001);
    wheel.advance(300_000);
    expect(fired).toHaveLength(3 + 200_001);
    expect(wheel.size).toBe(0);
  });

  it('grows past its initial capacity and reuses freed entries', () => {
    const { wheel, fired } = wheelAt<number | string>(0);
    for (let i = 0; i < 50_000; i++) wheel.arm(i, 1 + ((i * 7919) % 200_000));
    for (let i = 0; i < 50_000; i += 2) wheel.cancel(i);
    for (let i = 0; i < 10_000; i++) wheel.arm(`x${i}`, 300_000 + i);
    expect(wheel.size).toBe(35_000);
    wheel.advance(400_000);
    expect(fired).toHaveLength(35_000);
    expect(fired.every(([, d], i) => i === 0 || fired[i - 1]![1] <= d)).toBe(true);
  });

  it('says when to wake next: the end of the earliest non-empty tick, now when overdue', () => {
    const { wheel } = wheelAt(1000);
    expect(wheel.nextWakeAt()).toBeUndefined();
    wheel.arm('a', 1250);
    expect(wheel.nextWakeAt()).toBe(1300);
    wheel.arm('b', 1201);
    expect(wheel.nextWakeAt()).toBe(1300);
    wheel.arm('c', 1200);
    expect(wheel.nextWakeAt()).toBe(1200);
    wheel.cancel('c');
    expect(wheel.nextWakeAt()).toBe(1300);
    wheel.arm('old', 10);
    expect(wheel.nextWakeAt()).toBe(1000);
  });

  it('wakes for a far timer no later than its due time', () => {
    const { wheel } = wheelAt(T0);
    wheel.arm('far', T0 + 3 * DAY);
    const at = wheel.nextWakeAt()!;
    expect(at).toBeGreaterThan(T0);
    expect(at).toBeLessThanOrEqual(T0 + 3 * DAY);
  });

  it('works with tiny wheels and other tick sizes', () => {
    const { wheel, fired } = wheelAt<number>(0, { tickMs: 7, slots: 2 });
    const dues = [1, 7, 8, 13, 14, 15, 100, 1000, 12345];
    [...dues].reverse().forEach((d) => wheel.arm(d, d));
    for (let now = 0; now <= 13_000; now += 3) wheel.advance(now);
    expect(fired.map(([k]) => k)).toEqual(dues);
  });
});

describe('WheelDriver', () => {
  function driven(start = T0) {
    const clock = new FakeClock(start);
    const fired: Array<[string, number, number]> = [];
    const wheel = new TimerWheel<string>({ now: clock.now(), onFire: (k, d) => fired.push([k, d, clock.now()]) });
    const driver = new WheelDriver({ wheel, clock });
    const arm = (k: string, at: number) => {
      wheel.arm(k, at);
      driver.poke();
    };
    return { clock, wheel, driver, fired, arm };
  }

  it('sets no clock timer while the wheel is empty', () => {
    const { clock, driver } = driven();
    driver.start();
    expect(clock.pending).toBe(0);
    expect(driver.scheduled).toBe(false);
  });

  it('keeps exactly one clock timer, at the end of the earliest non-empty tick', () => {
    const { clock, driver, arm } = driven(1000);
    driver.start();
    arm('a', 1550);
    arm('b', 1560);
    arm('c', 9000);
    expect(clock.pending).toBe(1);
    expect(clock.pendingAt()).toEqual([1600]);
  });

  it('pulls the clock timer forward when poked after an earlier arm', () => {
    const { clock, driver, arm } = driven(1000);
    driver.start();
    arm('a', 5000);
    expect(clock.pendingAt()).toEqual([5000]);
    arm('b', 1234);
    expect(clock.pendingAt()).toEqual([1300]);
  });

  it('fires timers at most one tick late and then stops when the wheel is empty', () => {
    const { clock, driver, fired, arm } = driven(1000);
    driver.start();
    arm('a', 1234);
    arm('b', 1300);
    arm('c', 2 * HOUR);
    clock.advance(3 * HOUR);
    expect(fired.map(([k]) => k)).toEqual(['a', 'b', 'c']);
    for (const [, due, at] of fired) {
      expect(at).toBeGreaterThanOrEqual(due);
      expect(at - due).toBeLessThan(100);
    }
    expect(clock.pending).toBe(0);
    expect(driver.scheduled).toBe(false);
  });

  it('wakes only a few times for a timer 3 days away', () => {
    const { clock, driver, fired, arm } = driven();
    driver.start();
    arm('far', T0 + 3 * DAY);
    let wakes = 0;
    while (clock.pending > 0 && wakes < 100) {
      clock.advance(clock.pendingAt()[0]! - clock.now());
      wakes++;
    }
    expect(fired).toHaveLength(1);
    expect(fired[0]![2] - fired[0]![1]).toBeLessThan(100);
    expect(wakes).toBeLessThanOrEqual(5);
  });

  it('re-arms the clock for timers armed inside onFire', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const wheel: TimerWheel<string> = new TimerWheel<string>({
      now: 0,
      onFire: (k, d) => {
        fired.push(clock.now());
        if (fired.length < 3) wheel.arm(k, d + 1000);
      },
    });
    const driver = new WheelDriver({ wheel, clock });
    driver.start();
    wheel.arm('tick', 1000);
    driver.poke();
    clock.advance(10_000);
    expect(fired).toEqual([1000, 2000, 3000]);
    expect(clock.pending).toBe(0);
  });

  it('fires timers already overdue at start at once', () => {
    const { clock, wheel, driver, fired } = driven(1000);
    wheel.arm('old', 500);
    driver.start();
    expect(clock.pendingAt()).toEqual([1000]);
    clock.advance(0);
    expect(fired).toEqual([['old', 500, 1000]]);
  });

  it('clears its clock timer on stop and ignores pokes until restarted', () => {
    const { clock, driver, fired, arm } = driven(1000);
    driver.start();
    arm('a', 1500);
    driver.stop();
    expect(clock.pending).toBe(0);
    arm('b', 1600);
    expect(clock.pending).toBe(0);
    clock.advance(1000);
    expect(fired).toEqual([]);
    driver.start();
    clock.advance(0);
    expect(fired.map(([k]) => k)).toEqual(['a', 'b']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties against a naive model: a map of key → (due, arm sequence); advance(now) fires every entry
// with due ≤ now, sorted by (due, sequence).

type Cmd = { t: 'arm'; key: number; offset: number } | { t: 'cancel'; key: number } | { t: 'advance'; by: number };

const configs = [
  { tickMs: 100, slots: 1024 },
  { tickMs: 10, slots: 8 },
  { tickMs: 1, slots: 2 },
  { tickMs: 100, slots: 4 },
];

const offset = fc.oneof(
  fc.integer({ min: -500, max: 500 }),
  fc.integer({ min: 0, max: 5_000 }),
  fc.integer({ min: 0, max: 3 * DAY }),
);
const step = fc.oneof(fc.integer({ min: 0, max: 150 }), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: DAY }));
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('arm' as const), key: fc.nat(15), offset }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), key: fc.nat(15) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('advance' as const), by: step }) },
);

/** Keys of every kind go through the one Map; mixed puts ints, fractions and strings side by side. */
type Key = number | string;
const keyOf = {
  int: (n: number): Key => n - 8, // negative ones too
  string: (n: number): Key => `k${n}`,
  mixed: (n: number): Key => (n % 3 === 0 ? `k${n}` : n % 3 === 1 ? n * 2 ** 32 + 0.5 : n),
};
const keyKind = fc.constantFrom<keyof typeof keyOf>('int', 'string', 'mixed');

describe('TimerWheel properties', () => {
  it('fires the same keys, in the same order, at the same advances as a naive model', () => {
    fc.assert(
      fc.property(fc.constantFrom(...configs), keyKind, fc.integer({ min: 0, max: 2 ** 40 }), fc.array(cmd, { maxLength: 300 }), (config, kind, start, cmds) => {
        const key = keyOf[kind];
        const fired: Fired<Key> = [];
        const wheel = new TimerWheel<Key>({ now: start, ...config, onFire: (k, d) => fired.push([k, d]) });
        const model = new Map<Key, { due: number; seq: number }>();
        let now = start;
        let seq = 0;
        for (const c of [...cmds, { t: 'advance', by: 4 * DAY } as const]) {
          if (c.t === 'arm') {
            wheel.arm(key(c.key), now + c.offset);
            model.set(key(c.key), { due: now + c.offset, seq: seq++ });
          } else if (c.t === 'cancel') {
            expect(wheel.cancel(key(c.key))).toBe(model.delete(key(c.key)));
          } else {
            now += c.by;
            fired.length = 0;
            wheel.advance(now);
            const expected = [...model.entries()]
              .filter(([, v]) => v.due <= now)
              .sort(([, a], [, b]) => a.due - b.due || a.seq - b.seq)
              .map(([k, v]): [Key, number] => [k, v.due]);
            for (const [k] of expected) model.delete(k);
            expect(fired).toEqual(expected);
          }
          expect(wheel.size).toBe(model.size);
          for (const [k, v] of model) expect(wheel.dueAt(k)).toBe(v.due);
        }
        expect(wheel.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('never fires early, late, twice or after a cancel when onFire arms and cancels', () => {
    type Action = { t: 'arm'; key: number; offset: number } | { t: 'cancel'; key: number } | { t: 'none' };
    const action: fc.Arbitrary<Action> = fc.oneof(
      fc.record({ t: fc.constant('arm' as const), key: fc.nat(15), offset }),
      fc.record({ t: fc.constant('cancel' as const), key: fc.nat(15) }),
      fc.constant({ t: 'none' as const }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...configs),
        keyKind,
        fc.array(cmd, { maxLength: 200 }),
        fc.array(action, { minLength: 1, maxLength: 50 }),
        (config, kind, cmds, actions) => {
          const key = keyOf[kind];
          const model = new Map<Key, number>();
          let now = 1_000_000;
          let a = 0;
          const armedDuringAdvance = new Set<Key>();
          let advancing = false;
          const doArm = (k: Key, due: number) => {
            wheel.arm(k, due);
            model.set(k, due);
            if (advancing) armedDuringAdvance.add(k);
          };
          const wheel: TimerWheel<Key> = new TimerWheel<Key>({
            now,
            ...config,
            onFire: (k, d) => {
              expect(model.get(k)).toBe(d); // pending, with this very due time
              expect(d).toBeLessThanOrEqual(now); // not early
              model.delete(k);
              const act = actions[a++ % actions.length]!;
              if (act.t === 'arm') doArm(key(act.key), now + act.offset);
              else if (act.t === 'cancel') expect(wheel.cancel(key(act.key))).toBe(model.delete(key(act.key)));
            },
          });
          for (const c of [...cmds, { t: 'advance', by: 4 * DAY } as const]) {
            if (c.t === 'arm') doArm(key(c.key), now + c.offset);
            else if (c.t === 'cancel') expect(wheel.cancel(key(c.key))).toBe(model.delete(key(c.key)));
            else {
              now += c.by;
              armedDuringAdvance.clear();
              advancing = true;
              wheel.advance(now);
              advancing = false;
              // Not late: whatever is still due was armed by onFire during this advance.
              for (const [k, due] of model) if (due <= now) expect(armedDuringAdvance.has(k)).toBe(true);
            }
            expect(wheel.size).toBe(model.size);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
