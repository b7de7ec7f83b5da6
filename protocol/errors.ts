import type { ErrorCode } from './codes.js';

/**
 * An expected failure that crosses the wire with one of SPEC's error codes. The message is shown to
 * the client, so it must never carry internal data; `details` (HTTP only) holds validation issues.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
