/** The WebSocket protocol version this package speaks (SPEC §3, `hello.v`). */
export const PROTOCOL_VERSION = 1;

/**
 * Every error code that crosses the wire, in WebSocket `error` frames and in HTTP error bodies
 * (SPEC §3, §4). Clients switch on these; the set only ever grows.
 */
export const ERROR_CODES = [
  'bad_frame',
  'unauthenticated',
  'token_expired',
  'forbidden',
  'not_found',
  'invalid',
  'rate_limited',
  'too_large',
  'conflict',
  'internal',
  'unavailable',
  /** HTTP only: a request body that is not `application/json` (SPEC §4). */
  'unsupported_media_type',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status for each error code (SPEC §4). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_frame: 400,
  invalid: 400,
  unauthenticated: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/**
 * WebSocket close codes (SPEC §3). The 4xxx range follows HTTP: a client should not reconnect
 * after 4001/4003 without a new token or an operator's help; after 1001/1008/4008 it reconnects
 * with backoff and catches up with `conversations` and `history`.
 */
export const CloseCode = {
  /** The server is shutting down or restarting. Reconnect with backoff. */
  GOING_AWAY: 1001,
  /** The session could not keep up (its send buffer passed the bound). Reconnect and resume. */
  TOO_SLOW: 1008,
  /** A frame larger than `limits.maxFrameBytes`. */
  TOO_LARGE: 1009,
  /** No `hello` in time, or a bad or expired token. Get a new token before reconnecting. */
  UNAUTHENTICATED: 4001,
  /** The participant is disabled. Do not reconnect. */
  FORBIDDEN: 4003,
  /** Too many requests. Reconnect after a pause. */
  RATE_LIMITED: 4008,
  /** Too many bad frames: a broken client. */
  PROTOCOL_VIOLATION: 4400,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Whether a client should reconnect after the server closed with `code`. */
export function isReconnectable(code: number): boolean {
  return code !== CloseCode.UNAUTHENTICATED && code !== CloseCode.FORBIDDEN && code !== CloseCode.PROTOCOL_VIOLATION;
}
