/**
 * Why an SMS was not accepted. `permanent` says whether retrying the same SMS can help: false for
 * 5xx, 408, 429, network errors and timeouts (the outbox worker retries with backoff); true for
 * every other refusal (a 4xx: bad number, bad signature, bad request), which is recorded as failed.
 */
export class SmsError extends Error {
  override readonly name = 'SmsError';
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface OutgoingSms {
  /**
   * The outbox row's id (a nanoid: `[A-Za-z0-9_-]`). Stable across retries, so a provider (or the
   * captured file) can tell a retry from a new SMS; a sender refuses, permanently, an id it cannot
   * carry safely (a path separator, a control character).
   */
  id: string;
  /** The recipient's `phone`, as the directory holds it; the provider validates the number. */
  to: string;
  /** What to send, already made one line and cut to length by `smsText`. */
  text: string;
}

/**
 * Hands one SMS to the world: a provider's webhook or, without one, a file per SMS (NOTIFICATIONS §3,
 * SPEC §6). Called by the outbox worker for rows of channel `sms`.
 *
 * - Resolves when the provider accepted the SMS (a 2xx reply), or the file was written. Accepted is
 *   not delivered: no delivery receipts come back through this port.
 * - Rejects with an SmsError whose `permanent` says whether retrying can help: a 4xx other than
 *   408 and 429 (and any other non-2xx reply) is permanent; a 5xx, 408, 429, a network error or a
 *   timeout is transient. Never rejects with anything but SmsError.
 * - Idempotency rests on `id`: sending the same id twice may reach the provider twice (a timeout
 *   after it accepted), so the provider should deduplicate on it; the file sender overwrites.
 * - Safe to call concurrently.
 */
export interface SmsSender {
  send(sms: OutgoingSms): Promise<void>;
}
