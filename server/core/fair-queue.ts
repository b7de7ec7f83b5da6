/**
 * Runs expensive requests (the replies that read and encode many rows) one per turn of the event
 * loop, taking their owners in turn. A burst of heavy requests from one participant then cannot hold
 * the loop: everything else that arrived (a ping, a send, another participant's request) is handled
 * between two of them, and another participant's request waits for at most one of the burst's.
 */
export class FairQueue {
  /** Owner → its waiting tasks; Map order is the round-robin order. */
  private readonly queues = new Map<string, Array<() => void>>();
  private scheduled = false;

  constructor(private readonly defer: (fn: () => void) => void = setImmediate) {}

  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  push(owner: string, task: () => void): void {
    const q = this.queues.get(owner);
    if (q) q.push(task);
    else this.queues.set(owner, [task]);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.queues.size === 0) return;
    this.scheduled = true;
    this.defer(() => this.runOne());
  }

  private runOne(): void {
    this.scheduled = false;
    const first = this.queues.entries().next();
    if (first.done) return;
    const [owner, q] = first.value;
    const task = q.shift()!;
    // To the back of the line: the next turn serves the next owner.
    this.queues.delete(owner);
    if (q.length) this.queues.set(owner, q);
    this.schedule();
    task();
  }
}
