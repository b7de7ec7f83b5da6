import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/ports/index.js';

// Runs in a worker thread with its own connection: copying WAL pages into the database (and the
// fsync that goes with it) happens off the event loop, on the other core.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 2000');
const tick = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { parentPort.postMessage({ error: String(e) }); }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); tick(); db.close(); parentPort.close(); });
`;

/**
 * Background WAL checkpoints for the single writer: the main connection runs with
 * wal_autocheckpoint = 0 and this worker checkpoints every `intervalMs` (PASSIVE: it never blocks the
 * writer). Without it, every ~1000th commit would stall the event loop for the whole checkpoint.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(opts: { file: string; intervalMs: number; logger: Logger }) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: opts.file, intervalMs: opts.intervalMs, driver } });
    this.worker.unref();
    this.worker.on('message', (m: { error?: string }) => opts.logger.warn('checkpoint failed', { error: m.error }));
    this.worker.on('error', (e) => opts.logger.error('checkpointer crashed', { error: String(e) }));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Run a last checkpoint and stop. */
  async stop(): Promise<void> {
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
