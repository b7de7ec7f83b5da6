/**
 * One client WebSocket as core sees it, implemented by the transport. Calls after close are no-ops.
 */
export interface Connection {
  /** Send one encoded frame to this session only. Returns false when the session was cut off as too slow. */
  send(frame: string): boolean;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Close with a SPEC close code; the transport then reports the close to core exactly once. */
  close(code: number, reason: string): void;
}
