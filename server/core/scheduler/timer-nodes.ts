// Node states, kept in the prev field of nodes that are not linked into a list (a linked node's prev is ≥ 0).
/** Detached from its slot and waiting in `firing` to fire during the current advance. */
const FIRING = -1;
/** Was FIRING, then cancelled or re-armed: skipped, and freed when the firing loop reaches it. */
const DEAD = -2;
/** On the free list (chained through next). */
const FREE = -3;

/** The expired list's sentinel: timers armed with a due time already passed. */
export const EXPIRED = 0;
const INITIAL_CAPACITY = 8192;

/**
 * The timers of a `TimerWheel` (timer-wheel.ts), their keys and its slots' lists: the wheel
 * decides which list a timer goes in and when it fires; this pool stores it.
 *
 * Memory and speed. A timer is an index, not an object, into parallel typed arrays: 8 bytes of links
 * (next, prev), all that cancel() touches of a node, kept apart so that they stay dense in cache; 8
 * of due time; 4 of arm sequence, read only by arming and firing. Slots are the sentinels of
 * circular doubly-linked lists among the same nodes, so unlinking needs no slot lookup; free nodes
 * are chained through next. Keys are looked up through a `Map<K, node>` plus a `keys[node]` array
 * (about 40 bytes a timer more). Arrays double when full and never shrink.
 *
 * Sentinels: node 0 is the expired list ({@link EXPIRED}); slot k of level L is node 1 + L × slots + k.
 *
 * `grow()` replaces `link`, `due` and `seq` (never `keys`, `index` or `occupied`): a caller that keeps
 * them in locals reads them again after anything that may allocate a node (`acquire()`, so `arm()`,
 * so `onFire`).
 */
export class TimerNodes<K> {
  /** Node i: next = link[2i], prev = link[2i + 1]. */
  link: Int32Array;
  due: Float64Array;
  /** seq[i]: the arm sequence of node i, for firing ties in arm order. */
  seq: Int32Array;
  /** key → node, and node → key. */
  readonly index = new Map<K, number>();
  readonly keys: (K | undefined)[];
  /** Non-empty slots per level; occupied[levels] is the expired list (0 or 1). */
  readonly occupied: number[];
  /** The nodes detachDue() took, to be fired; grows (and is replaced) as needed. */
  firing = new Int32Array(256);

  private readonly slots: number;
  private readonly levels: number;
  private capacity: number;
  /** Next never-used node. */
  private top: number;
  private freeHead = -1;
  private armSeq = 0;

  /** Nodes for `levels` levels of `slots` slots each, plus the expired list, all empty. */
  constructor(slots: number, levels: number) {
    this.slots = slots;
    this.levels = levels;
    this.occupied = new Array<number>(levels + 1).fill(0);
    const sentinels = 1 + levels * slots;
    let capacity = INITIAL_CAPACITY;
    while (capacity < sentinels * 2) capacity *= 2;
    this.capacity = capacity;
    this.link = new Int32Array(capacity * 2);
    this.due = new Float64Array(capacity);
    this.seq = new Int32Array(capacity);
    this.keys = new Array<K | undefined>(capacity).fill(undefined);
    for (let s = 0; s < sentinels; s++) {
      this.link[s << 1] = s;
      this.link[(s << 1) + 1] = s;
    }
    this.top = sentinels;
  }

  /**
   * The node that will hold `key`'s timer, due at `dueAt` with a new arm sequence, in no list: its
   * present node unlinked, or a new one. May grow the arrays.
   */
  acquire(key: K, dueAt: number): number {
    const link = this.link;
    let i: number;
    const found = this.index.get(key);
    if (found === undefined) {
      i = this.allocKey(key);
      this.index.set(key, i);
    } else if (link[(found << 1) + 1]! >= 0) {
      i = found;
      this.unlink(i);
    } else {
      // It is waiting in `firing` to fire in this very advance: leave that node dead, start afresh.
      link[(found << 1) + 1] = DEAD;
      this.keys[found] = undefined;
      i = this.allocKey(key);
      this.index.set(key, i);
    }
    this.due[i] = dueAt;
    this.seq[i] = this.armSeq;
    this.armSeq = (this.armSeq + 1) | 0;
    return i;
  }

  /** Drops `key`'s timer: unlinked and freed, or left DEAD if it is FIRING. False if it had none. */
  release(key: K): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.index.delete(key);
    if (this.link[(i << 1) + 1]! >= 0) {
      this.unlink(i);
      this.free(i);
    } else {
      this.link[(i << 1) + 1] = DEAD;
      this.keys[i] = undefined;
    }
    return true;
  }

  /** Links node i at the tail of list s, which belongs to `level`. */
  append(i: number, s: number, level: number): void {
    const link = this.link;
    const tail = link[(s << 1) + 1]!;
    if (tail === s) this.occupied[level]!++;
    link[tail << 1] = i;
    link[(i << 1) + 1] = tail;
    link[i << 1] = s;
    link[(s << 1) + 1] = i;
  }

  unlink(i: number): void {
    const link = this.link;
    const p = link[(i << 1) + 1]!;
    const n = link[i << 1]!;
    link[p << 1] = n;
    link[(n << 1) + 1] = p;
    // Only a sentinel can be both neighbours: the slot is now empty.
    if (p === n) this.occupied[p === EXPIRED ? this.levels : Math.floor((p - 1) / this.slots)]!--;
  }

  /**
   * Detaches the nodes of list s due at or before `limit` into `firing[0 … n − 1]`, marked FIRING, in
   * the order they fire (due time, ties in arm order); returns n.
   */
  detachDue(s: number, limit: number): number {
    const link = this.link;
    const due = this.due;
    let firing = this.firing;
    let n = 0;
    let i = link[s << 1]!;
    while (i !== s) {
      const nx = link[i << 1]!;
      if (due[i]! <= limit) {
        this.unlink(i);
        link[(i << 1) + 1] = FIRING;
        if (n === firing.length) {
          const grown = new Int32Array(n * 2);
          grown.set(firing);
          this.firing = firing = grown;
        }
        firing[n++] = i;
      }
      i = nx;
    }
    if (n > 1 && !this.isSorted(firing, n)) firing.subarray(0, n).sort(this.byDue);
    return n;
  }

  /** Empties list s, of `level`, without touching its nodes' links; returns its first node (s if none). */
  detachAll(s: number, level: number): number {
    const link = this.link;
    const first = link[s << 1]!;
    if (first === s) return s;
    link[s << 1] = s;
    link[(s << 1) + 1] = s;
    this.occupied[level]!--;
    return first;
  }

  /**
   * Frees node j, taken from `firing`, whose key was `key`; false if it was DEAD (cancelled or
   * re-armed since), else `key` leaves the index too and the timer is the caller's to fire.
   */
  retire(j: number, key: K): boolean {
    const live = this.link[(j << 1) + 1] !== DEAD;
    if (live) this.index.delete(key);
    this.free(j);
    return live;
  }

  /** The offset k ≥ 0 of the first non-empty slot of `level` from slot `from` (mod slots) on; −1 if none. */
  firstOccupied(level: number, from: number): number {
    const S = this.slots;
    const link = this.link;
    const base = 1 + level * S;
    for (let k = 0; k < S; k++) {
      const s = base + ((from + k) % S);
      if (link[s << 1] !== s) return k;
    }
    return -1;
  }

  /** Puts node i on the free list; its key must already be out of `index`. */
  free(i: number): void {
    this.keys[i] = undefined;
    this.link[(i << 1) + 1] = FREE;
    this.link[i << 1] = this.freeHead;
    this.freeHead = i;
  }

  private readonly byDue = (a: number, b: number): number => this.due[a]! - this.due[b]! || (this.seq[a]! - this.seq[b]!) | 0;

  private isSorted(s: Int32Array, n: number): boolean {
    for (let k = 1; k < n; k++) if (this.byDue(s[k - 1]!, s[k]!) > 0) return false;
    return true;
  }

  private alloc(): number {
    let i = this.freeHead;
    if (i >= 0) {
      this.freeHead = this.link[i << 1]!;
    } else {
      if (this.top === this.capacity) this.grow();
      i = this.top++;
    }
    return i;
  }

  private allocKey(key: K): number {
    const i = this.alloc();
    // As a Map keeps it: -0 is stored (and fired) as 0.
    this.keys[i] = (key as unknown) === 0 ? (0 as K) : key;
    return i;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    if (capacity > 2 ** 28) throw new RangeError('TimerWheel: more than 2^28 pending timers');
    const link = new Int32Array(capacity * 2);
    link.set(this.link);
    this.link = link;
    const due = new Float64Array(capacity);
    due.set(this.due);
    this.due = due;
    const seq = new Int32Array(capacity);
    seq.set(this.seq);
    this.seq = seq;
    for (let i = this.capacity; i < capacity; i++) this.keys.push(undefined);
    this.capacity = capacity;
  }
}
