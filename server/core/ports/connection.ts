/**
 * One client WebSocket as core sees it, implemented by the transport. Calls after close are no-ops.
 */
export interface Connection {
  /** Send one encoded frame to this session only. Returns false when the session was cut off as too slow. */
  send(frame: string): boolean;
  /**
   * Send one frame to this session after every frame published so far, in the same write as those
   * this session gets from them: the ack of a `send` rides with the sender's own copy of the message.
   */
  sendAfterPublished(frame: string): void;
  /** Bytes written to this session that its client has not taken yet. */
  bufferedAmount(): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Close with a SPEC close code; the transport then reports the close to core exactly once. */
  close(code: number, reason: string): void;
}
