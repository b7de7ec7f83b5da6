import { ProtocolError } from '../../protocol/index.js';

/**
 * Runs async tasks at most `concurrency` at a time, first come first served, each started on a turn
 * of its own (after pending I/O), so a burst (an event storm from the host app) waits in line instead
 * of running all at once: memory stays bounded by the queue, commits stay small, and the chat path
 * keeps its turns between two tasks. Over `maxQueued` waiting tasks, a new one is refused with
 * `unavailable` (the caller retries later) rather than held without bound.
 */
export class WorkQueue {
  private readonly waiting: Array<() => void> = [];
  private running = 0;

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
    private readonly defer: (fn: () => void) => void = setImmediate,
  ) {}

  get size(): number {
    return this.waiting.length + this.running;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.waiting.length >= this.maxQueued) return Promise.reject(new ProtocolError('unavailable', 'too much work queued: try again shortly'));
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        this.running++;
        const settle = () => {
          this.running--;
          this.next();
        };
        // The slot is free before the caller hears back, so `size` is exact when it does.
        Promise.resolve()
          .then(task)
          .then(
            (v) => (settle(), resolve(v)),
            (e: unknown) => (settle(), reject(e)),
          );
      });
      this.next();
    });
  }

  private next(): void {
    if (this.running >= this.concurrency || this.waiting.length === 0) return;
    const start = this.waiting.shift()!;
    // Reserve the slot now; the task starts on a later turn of the loop.
    this.running++;
    this.defer(() => {
      this.running--;
      start();
    });
  }
}
