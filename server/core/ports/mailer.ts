/** Why a send failed: `permanent` failures (a 5xx reply: no such mailbox) are not retried. */
export class MailerError extends Error {
  override readonly name = 'MailerError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface OutgoingEmail {
  id: string;
  /** Envelope sender and recipient (the headers are inside `raw`). */
  from: string;
  to: string;
  /** The complete RFC 5322 message, as stored in the outbox. */
  raw: string;
}

/**
 * Hands a finished email to the world: an SMTP server (pooled connections) or, without one, a file
 * per email. Resolves when the email was accepted; rejects with MailerError (permanent or not) or
 * any other error (treated as temporary). Safe to call concurrently.
 */
export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
  close(): Promise<void>;
}
