/**
 * What a contract suite runs against: a fresh, empty store (its own storage), and a way to close it
 * and throw the storage away. `peer`, when the adapter supports several writers on one storage
 * (PostgreSQL: a second hub), is another store on the same storage; concurrency cases then spread
 * their calls over both. SQLite has one writer per file and gives none.
 */
export interface OpenedStore<T> {
  store: T;
  peer?: T | undefined;
  close(): Promise<void>;
}

export type StoreFactory<T> = () => Promise<OpenedStore<T>>;

/** Open a fresh store for one test and close it after, whatever the test did. */
export async function withStore<T>(factory: StoreFactory<T>, run: (s: OpenedStore<T>) => Promise<void>): Promise<void> {
  const opened = await factory();
  try {
    await run(opened);
  } finally {
    await opened.close();
  }
}

/** The writers of a store: itself, and its peer when it has one. */
export function writers<T>(s: OpenedStore<T>): T[] {
  return s.peer ? [s.store, s.peer] : [s.store];
}

/** Poll `read` until `done` holds (or give up after `ms`): for writes the contract lets go behind. */
export async function eventually<V>(read: () => Promise<V>, done: (v: V) => boolean, ms = 3000): Promise<V> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}
