import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The fixtures in test/fixtures/email (see its README for what each one is). */
export type EmailFixture =
  | 'gmail-reply'
  | 'outlook-reply'
  | 'apple-mail-reply'
  | 'html-only-reply'
  | 'reply-in-cc'
  | 'auto-reply'
  | 'ooo-exchange'
  | 'dsn-permanent'
  | 'dsn-delay'
  | 'with-attachment'
  | 'malformed'
  | 'broken-charset'
  | 'signature';

export const EMAIL_FIXTURES: readonly EmailFixture[] = [
  'gmail-reply',
  'outlook-reply',
  'apple-mail-reply',
  'html-only-reply',
  'reply-in-cc',
  'auto-reply',
  'ooo-exchange',
  'dsn-permanent',
  'dsn-delay',
  'with-attachment',
  'malformed',
  'broken-charset',
  'signature',
];

/** The placeholders a fixture may hold, each written `{{NAME}}`; all are plain addresses or ids, no angle brackets. */
export interface FixtureVars {
  /** Our reply address the email is sent to (in a DSN: the envelope sender our email had, which the DSN goes back to). */
  REPLY_ADDRESS?: string;
  /** The Message-ID of our email being answered (in a DSN: of our email that bounced). */
  IN_REPLY_TO?: string;
  /** The participant's address: the sender of a reply, the failed recipient of a DSN. */
  FROM?: string;
  /** This email's own Message-ID. */
  MESSAGE_ID?: string;
}

/** The marker line our emails carry above the quoted text; the fixtures quote it. */
export const FIXTURE_MARKER = '##- Please type your reply above this line -##';

export const FIXTURE_DEFAULTS: Required<Omit<FixtureVars, 'MESSAGE_ID'>> = {
  REPLY_ADDRESS: 'r1abcdefghijklmnopqrstuvwxyz234567@reply.example.org',
  IN_REPLY_TO: 'parley.c42.m7@example.org',
  FROM: 'anna@example.com',
};

const DIR = fileURLToPath(new URL('../fixtures/email/', import.meta.url));

/**
 * A fixture with its placeholders substituted and CRLF line endings, as an MTA hands it over. Bytes that
 * are not placeholders are kept as they are (broken-charset.eml holds invalid UTF-8 on purpose);
 * substituted values are written as UTF-8. `MESSAGE_ID` defaults to `<name>@mail.example.com`.
 * Throws for a placeholder the fixture holds that has no value, so a typo cannot pass silently.
 */
export function fixture(name: EmailFixture, vars: FixtureVars = {}): Buffer {
  const values: Record<string, string> = { ...FIXTURE_DEFAULTS, MESSAGE_ID: `${name}@mail.example.com`, ...vars };
  // latin1 maps each byte to one char and back, so non-UTF-8 bytes survive the round trip.
  const text = readFileSync(`${DIR}${name}.eml`).toString('latin1');
  const substituted = text.replace(/\{\{([A-Z_]+)\}\}/g, (_whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`fixture ${name}: no value for {{${key}}}`);
    return Buffer.from(value, 'utf8').toString('latin1');
  });
  return Buffer.from(substituted.replace(/\r?\n/g, '\r\n'), 'latin1');
}
