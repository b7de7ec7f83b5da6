/**
 * Email in (SPEC §8, EMAIL.md "Inbound"): what core needs from a MIME parser, a quote stripper and a
 * sender authenticator. Adapters: `adapters/email-in/` (postal-mime, email-reply-parser, html-to-text,
 * mailauth).
 */

/** An address as a header names it. */
export interface MailAddress {
  name: string;
  /** Lowercased. */
  address: string;
}

/** A delivery status notification's verdict on one recipient (RFC 3464). */
export interface BounceReport {
  /** The failed recipient (Final-Recipient, else Original-Recipient), lowercased. */
  recipient: string;
  /** `failed` (permanent, 5.x.x), `delayed` (4.x.x), or another Action. */
  action: string;
  /** The Status code, e.g. `5.1.1`. */
  status: string;
  permanent: boolean;
}

/** One inbound email, parsed. Every header value is decoded text; absent ones are null or empty. */
export interface ParsedEmail {
  /** Message-ID without angle brackets, or null. */
  messageId: string | null;
  inReplyTo: string | null;
  /** References ids without angle brackets, oldest first. */
  references: string[];
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  /** Delivered-To and X-Original-To values, lowercased. */
  deliveredTo: string[];
  /** The Return-Path header: '' for the null sender `<>`, null when absent. */
  returnPath: string | null;
  subject: string;
  date: number | null;
  /** Lowercased header name → values, for the auto-reply signs (Auto-Submitted, Precedence, List-Id, X-Autoreply, X-Autorespond…). */
  headers: ReadonlyMap<string, string[]>;
  text: string | null;
  html: string | null;
  attachments: Array<{ filename: string; contentType: string; size: number }>;
  /** Set when the email is a delivery status notification (multipart/report; report-type=delivery-status). */
  bounce: { reports: BounceReport[]; originalMessageId: string | null } | null;
}

/** Thrown by the parser for input it cannot take (over its limits, not MIME at all). */
export class MalformedEmailError extends Error {
  override readonly name = 'MalformedEmailError';
}

export interface EmailReader {
  /** Parse a raw RFC 5322 message within the reader's limits (size, nesting, parts); rejects with MalformedEmailError. */
  parse(raw: Uint8Array): Promise<ParsedEmail>;
  /**
   * The new text of a reply: cut at our marker line (`marker`, when present), then quoted history
   * and signatures stripped; an HTML-only email is turned into text first. Empty when nothing is left.
   */
  replyText(email: ParsedEmail, marker: string): string;
}

/** DMARC for the From domain (PARLEY_INBOUND_REQUIRE_DMARC). */
export interface SenderAuth {
  dmarc(raw: Uint8Array, envelope: { mailFrom: string; clientIp: string | null; helo: string | null }): Promise<'pass' | 'fail' | 'none'>;
}

/** What an address is to the hub (SPEC §8). */
export type OurAddress =
  | { kind: 'reply'; conversationId: string; participantId: string }
  /** Our reply-address shape, but its signature does not verify (or names nothing). */
  | { kind: 'bad_signature' }
  /** A per-email bounce address (VERP): a delivery report about that outbox email. */
  | { kind: 'bounce'; emailId: string };

/**
 * Reply and bounce addresses at PARLEY_INBOUND_DOMAIN (EMAIL.md "Inbound"): bound to one
 * (conversation, participant) or one outbox email, signed with a rotating key, lowercase, no `+`.
 */
export interface ReplyAddresses {
  readonly domain: string;
  replyAddress(conversationId: string, participantId: string): Promise<string>;
  bounceAddress(emailId: string): string;
  /** Null: not an address of ours at all. */
  classify(address: string): Promise<OurAddress | null>;
}
