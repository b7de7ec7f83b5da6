import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread with its own connection: copying WAL pages into the database (and the
// fsync that goes with it) happens off the event loop, on the other core. One request at a time.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 2000');
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)')[0];
parentPort.on('message', (m) => {
  if (m === 'stop') {
    try { checkpoint(); } catch {}
    db.close();
    parentPort.close();
    return;
  }
  try { parentPort.postMessage({ result: checkpoint() }); } catch (e) { parentPort.postMessage({ error: String(e) }); }
});
`;

/** What `PRAGMA wal_checkpoint` says: frames in the WAL, and how many of them are now in the database. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * PASSIVE checkpoints on a worker thread for the single writer, which runs with
 * wal_autocheckpoint = 0 so that no commit ever stalls the event loop for a checkpoint. The store
 * decides when (see SqliteStore.checkpointCycle): a checkpoint alone never lets the WAL start over
 * under steady writes, so the store holds its commits for the last, short one.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private gone = false;
  private failure: Error | null = null;
  private pending: { resolve: (r: CheckpointResult) => void; reject: (e: Error) => void } | null = null;

  constructor(file: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
    this.worker.unref();
    this.worker.on('message', (m: { result?: CheckpointResult; error?: string }) => {
      const p = this.pending;
      this.pending = null;
      if (m.result) p?.resolve(m.result);
      else p?.reject(new Error(m.error));
    });
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.gone = true;
        this.pending?.reject(this.failure ?? new Error('the checkpoint worker stopped'));
        this.pending = null;
        resolve();
      }),
    );
    this.worker.on('error', (e) => (this.failure = e)); // reported by the exit above
  }

  /** One PASSIVE checkpoint: copies what the WAL holds now, alongside the writer's commits. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.gone) return Promise.reject(new Error('the checkpoint worker stopped'));
    if (this.pending) return Promise.reject(new Error('a checkpoint is already running'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage('checkpoint');
    });
  }

  /** Run a last checkpoint and stop. */
  async stop(): Promise<void> {
    if (this.gone) return;
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
