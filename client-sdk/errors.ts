import type { ErrorCode } from '../protocol/index.js';

/** Every error the SDK raises: `code` says which, so apps switch on it rather than on messages. */
export abstract class ParleyError extends Error {
  abstract readonly code: string;
}

/**
 * The hub answered a request with an `error` frame (SPEC §3). `code` is SPEC's error code; `temporary`
 * errors may succeed when retried later.
 */
export class ParleyServerError extends ParleyError {
  override readonly name = 'ParleyServerError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get temporary(): boolean {
    return this.code === 'rate_limited' || this.code === 'unavailable' || this.code === 'internal';
  }
}

/**
 * A failure on this side of the wire: `not_connected` (no open session right now; the request was not
 * sent or its connection dropped before the answer), `timeout` (no answer within `requestTimeoutMs`),
 * `closed` (the app called `close()`, or the hub refused the session for good).
 */
export type ClientErrorCode = 'not_connected' | 'timeout' | 'closed';

export class ParleyClientError extends ParleyError {
  override readonly name = 'ParleyClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    override readonly cause?: ParleyError,
  ) {
    super(message);
  }
}
