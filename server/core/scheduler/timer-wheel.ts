import { EXPIRED, TimerNodes } from './timer-nodes.js';

/** Options of {@link TimerWheel}. */
export interface TimerWheelOptions<K> {
  /** The wheel's starting time, from the same clock as every later `dueAt` and `advance(now)`. */
  now: number;
  /**
   * Called once per fired timer, from inside `advance()`, after the timer was removed: `has(key)` is
   * already false, and the callback may `arm()` or `cancel()` any key, its own included.
   */
  onFire: (key: K, dueAt: number) => void;
  /** Width of one tick in ms, a positive integer; due times are coalesced per tick. Default 100. */
  tickMs?: number;
  /** Slots per level, an integer in [2, 65536]; one revolution of the finest level is `slots × tickMs`. Default 1024. */
  slots?: number;
  /**
   * Called with whatever `onFire` threw; the advance goes on with the next timer. Without it, the
   * first error is rethrown from `advance()` once every due timer has been handled.
   */
  onError?: (error: unknown, key: K) => void;
}

export const DEFAULT_TICK_MS = 100;
export const DEFAULT_SLOTS = 1024;

/**
 * Keyed one-shot timers on a hierarchical hashed timing wheel (Varghese & Lauck, scheme 7), for a
 * million pending timers that are mostly cancelled before they fire (DESIGN §5).
 *
 * Contract:
 * - One timer per key. `arm(key, dueAt)` sets or replaces it; `cancel(key)` removes it. Both O(1).
 *   Keys are compared as a Map compares them (SameValueZero).
 * - `advance(now)` fires, through `onFire`, exactly the pending timers whose `dueAt ≤ now`: never
 *   early, and never later than the `advance()` call that passes their due time. They fire in
 *   `dueAt` order, ties in the order they were armed. A timer armed with `dueAt` ≤ the wheel's
 *   current time fires on the next `advance()`. A timer armed from inside `onFire` fires in the same
 *   `advance()` if its due time lies in a tick that advance has not reached yet, else on the next one.
 * - Time only moves forward: an `advance(now)` with `now` below the current time counts as the
 *   current time.
 * - `advance()` is not reentrant (calling it from `onFire` throws).
 * - Not thread-safe, no timers of its own: WheelDriver (wheel-driver.ts) calls `advance()` from a Clock.
 *
 * Layout. Level 0 has `slots` slots of one tick; level L ≥ 1 has `slots` slots of `slots^L` ticks
 * each, with as many levels as it takes to reach any safe-integer due time (5 at the defaults:
 * 102.4 s, 29 h, 3.4 years, …). A timer due at tick d goes into the lowest level whose range covers
 * d, in the slot of d's block there. When level 0 turns past a block boundary, the higher slots of the
 * block now starting are emptied and their timers re-hashed one level down ("cascading", as in the
 * classic Linux timer wheel): each timer moves at most once per level and its slot alone is touched
 * when it does, so there is no sweep of far-future timers on every revolution.
 *
 * Memory and speed: timers are nodes in the parallel typed arrays of {@link TimerNodes}
 * (timer-nodes.ts), which also holds the slots' lists and the key index; this class places, cascades
 * and fires them.
 */
export class TimerWheel<K> {
  readonly tickMs: number;
  readonly slots: number;
  private readonly onFire: (key: K, dueAt: number) => void;
  private readonly onError: ((error: unknown, key: K) => void) | undefined;
  private readonly levels: number;
  /** spans[L] = slots^L: ticks per slot at level L. */
  private readonly spans: number[];
  private readonly nodes: TimerNodes<K>;
  /** nodes.occupied, never replaced: non-empty slots per level; occupied[levels] is the expired list (0 or 1). */
  private readonly occupied: number[];
  /** Tick numbers inside are relative to this absolute tick, so that they stay small integers. */
  private readonly origin: number;

  /** The last `now` reached; every timer in a slot (not the expired list) is due after it. */
  private time: number;
  /** The next tick whose slot is not fully fired: ticks < cur are done, slot cur may be partly done. */
  private cur: number;
  private advancing = false;
  private failed = false;
  private firstError: unknown = undefined;
  /** Cached scanWakeTick(); arm() can only lower it, cancel() and advance() invalidate it. */
  private wakeTick = Infinity;
  private wakeValid = true;

  constructor(options: TimerWheelOptions<K>) {
    const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    const slots = options.slots ?? DEFAULT_SLOTS;
    if (!Number.isSafeInteger(tickMs) || tickMs <= 0) throw new RangeError(`tickMs must be a positive integer, got ${tickMs}`);
    if (!Number.isInteger(slots) || slots < 2 || slots > 65536) throw new RangeError(`slots must be an integer in [2, 65536], got ${slots}`);
    if (!(Math.abs(options.now) <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`now must be a safe number, got ${options.now}`);
    this.tickMs = tickMs;
    this.slots = slots;
    this.onFire = options.onFire;
    this.onError = options.onError;

    // Enough levels that any tick distance between two safe-integer times fits the top level.
    const maxTicks = (2 * Number.MAX_SAFE_INTEGER) / tickMs;
    this.spans = [1];
    while (this.spans[this.spans.length - 1]! * slots <= maxTicks) this.spans.push(this.spans[this.spans.length - 1]! * slots);
    this.levels = this.spans.length;
    this.nodes = new TimerNodes<K>(slots, this.levels);
    this.occupied = this.nodes.occupied;

    this.time = options.now;
    this.origin = this.floorTick(options.now);
    this.cur = 1;
  }

  /** Pending timers, those being fired by the current advance() included until their turn. */
  get size(): number {
    return this.nodes.index.size;
  }

  /** Whether `key` has a pending timer. */
  has(key: K): boolean {
    return this.nodes.index.has(key);
  }

  /**
   * The keys of the pending timers, as a copy (so cancelling while iterating is safe): for a hub
   * dropping the timers it no longer owns. O(pending).
   */
  keys(): K[] {
    return [...this.nodes.index.keys()];
  }

  /** The due time of `key`'s pending timer, or undefined. */
  dueAt(key: K): number | undefined {
    const i = this.nodes.index.get(key);
    return i === undefined ? undefined : this.nodes.due[i];
  }

  /**
   * Sets `key`'s timer to fire at `dueAt` (ms, same clock as `now`), replacing any pending timer of
   * that key. O(1). Throws a RangeError for a due time that is not a safe number (NaN, ±Infinity).
   * After arming, tell the driver (`WheelDriver.poke()`) in case this is the new earliest timer.
   */
  arm(key: K, dueAt: number): void {
    if (!(Math.abs(dueAt) <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`dueAt must be a safe number, got ${dueAt}`);
    const wake = this.place(this.nodes.acquire(key, dueAt), dueAt);
    if (this.wakeValid && wake < this.wakeTick) this.wakeTick = wake;
  }

  /** Removes `key`'s pending timer; true if there was one. O(1). Safe inside onFire. */
  cancel(key: K): boolean {
    if (!this.nodes.release(key)) return false;
    this.wakeValid = false;
    return true;
  }

  /**
   * Fires every pending timer with `dueAt ≤ now` (see the class contract for order and for timers
   * armed meanwhile). Cost: the timers fired, plus the slots of the ticks crossed, except that runs
   * of ticks with nothing at the finer levels are skipped whole; an idle call allocates nothing.
   */
  advance(now: number): void {
    if (this.advancing) throw new Error('TimerWheel.advance() is not reentrant; it was called from onFire');
    if (!(now >= this.time)) {
      if (Number.isNaN(now)) throw new RangeError('now must be a number, got NaN');
      now = this.time;
    }
    this.advancing = true;
    this.wakeValid = false;
    const S = this.slots;
    try {
      if (this.occupied[this.levels]! > 0) this.fireList(EXPIRED, Infinity);
      const target = this.floorTick(now) - this.origin;
      while (this.cur <= target) {
        if (this.occupied[0] === 0) {
          // Nothing at level 0: jump to the next block boundary of the lowest non-empty level.
          let L = 1;
          while (L < this.levels && this.occupied[L] === 0) L++;
          const boundary = L < this.levels ? (Math.floor(this.cur / this.spans[L]!) + 1) * this.spans[L]! : Infinity;
          this.moveTo(Math.min(boundary, target + 1));
          continue;
        }
        const c = this.cur;
        this.time = (this.origin + c) * this.tickMs;
        this.fireList(1 + (c % S), Infinity);
        this.moveTo(c + 1);
      }
      this.time = now;
      // The tick in progress: fire what is already due in it, leave the rest.
      if (this.occupied[0]! > 0 && now > (this.origin + target) * this.tickMs) this.fireList(1 + (this.cur % S), now);
    } finally {
      this.advancing = false;
    }
    if (this.failed) {
      const e = this.firstError;
      this.failed = false;
      this.firstError = undefined;
      throw e;
    }
  }

  /**
   * When `advance()` should next be called: the end of the earliest tick that has a timer due (so a
   * timer fires at most one tick late), or the earlier boundary where a coarser slot must be
   * re-hashed; the current time if some timer is already overdue; undefined when nothing is pending.
   * Usually O(1) after arm(); a scan of at most `slots` slots per non-empty level otherwise.
   */
  nextWakeAt(): number | undefined {
    if (this.size === 0) return undefined;
    if (this.occupied[this.levels]! > 0) return this.time;
    if (!this.wakeValid) {
      this.wakeTick = this.scanWakeTick();
      this.wakeValid = true;
    }
    return this.wakeTick === Infinity ? undefined : (this.origin + this.wakeTick) * this.tickMs;
  }

  private floorTick(t: number): number {
    let k = Math.floor(t / this.tickMs);
    if (k * this.tickMs > t) k--; // defensive: float rounding must never put a tick's end past t
    return k;
  }

  /** Links node i, due at dueAt, into its slot; returns the tick at which it next needs advance() (−∞: now). */
  private place(i: number, dueAt: number): number {
    if (dueAt <= this.time) {
      this.nodes.append(i, EXPIRED, this.levels);
      return -Infinity;
    }
    let d = Math.ceil(dueAt / this.tickMs);
    if (d * this.tickMs < dueAt) d++; // defensive, as in floorTick: never early
    d -= this.origin;
    const delta = d - this.cur; // ≥ 0: dueAt > time ≥ end of tick cur − 1
    const S = this.slots;
    if (delta < S) {
      this.nodes.append(i, 1 + (d % S), 0);
      return d;
    }
    let L = 1;
    while (L + 1 < this.levels && delta >= this.spans[L + 1]!) L++;
    const span = this.spans[L]!;
    const block = Math.floor(d / span);
    this.nodes.append(i, 1 + L * S + (block % S), L);
    return block * span;
  }

  /** Sets cur; on a level-0 block boundary re-hashes the starting block's higher slots, top down. */
  private moveTo(tick: number): void {
    this.cur = tick;
    const S = this.slots;
    if (tick % S !== 0) return;
    // place() only links nodes, it never allocates: the arrays stay the same throughout.
    const link = this.nodes.link;
    const due = this.nodes.due;
    for (let L = this.levels - 1; L >= 1; L--) {
      const span = this.spans[L]!;
      if (tick % span !== 0 || this.occupied[L] === 0) continue;
      const s = 1 + L * S + (Math.floor(tick / span) % S);
      // Detach the whole list, then re-place each node (all land on lower levels).
      let i = this.nodes.detachAll(s, L);
      while (i !== s) {
        const n = link[i << 1]!;
        this.place(i, due[i]!);
        i = n;
      }
    }
  }

  /** Fires the nodes of list s with due ≤ limit, in (due, arm order). */
  private fireList(s: number, limit: number): void {
    const nodes = this.nodes;
    const n = nodes.detachDue(s, limit);
    if (n === 0) return;
    const firing = nodes.firing;
    const keys = nodes.keys;
    const onFire = this.onFire;
    let due = nodes.due;
    for (let k = 0; k < n; k++) {
      const j = firing[k]!;
      const dueAt = due[j]!;
      const key = keys[j] as K;
      if (!nodes.retire(j, key)) continue;
      try {
        onFire(key, dueAt);
      } catch (e) {
        this.report(e, key);
      }
      due = nodes.due; // onFire may have armed, and arming may have grown the arrays
    }
  }

  private report(error: unknown, key: K): void {
    if (this.onError) {
      try {
        this.onError(error, key);
        return;
      } catch (e) {
        error = e;
      }
    }
    if (!this.failed) {
      this.failed = true;
      this.firstError = error;
    }
  }

  private scanWakeTick(): number {
    const nodes = this.nodes;
    // Level 0 holds ticks cur … cur + S − 1, one per slot; the first non-empty one is the earliest.
    if (this.occupied[0]! > 0) return this.cur + nodes.firstOccupied(0, this.cur);
    let best = Infinity;
    for (let L = 1; L < this.levels; L++) {
      if (this.occupied[L] === 0) continue;
      const span = this.spans[L]!;
      // The current block's own slot was re-hashed on entry, so start with the next block.
      const b1 = Math.floor(this.cur / span) + 1;
      best = Math.min(best, (b1 + nodes.firstOccupied(L, b1)) * span);
    }
    return best;
  }
}
