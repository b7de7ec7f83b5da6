/**
 * Counters and histograms core reports; the adapter exposes them (Prometheus text at /metrics).
 * Every method is cheap and synchronous: safe on the hot path.
 */
export interface Metrics {
  connectionOpened(): void;
  connectionClosed(): void;
  frameIn(type: string): void;
  frameOut(type: string, count?: number): void;
  messageStored(source: string): void;
  /** Frames carrying a message handed to sessions (one per recipient participant). */
  deliveries(count: number): void;
  commitBatch(size: number, seconds: number): void;
  error(code: string): void;
  /** A request refused by a per-participant limit; `limit` names it (a frame type, `session`, `inflight`, `inboxes`). */
  rateLimited(limit: string): void;
}
