import type { EmailSecurityMode } from '../../../protocol/index.js';
/** The data of one escalation email (SPEC §5), template id `escalation`. */
export interface EscalationEmail {
  /** Our id; the Message-ID is `<e.{emailId}@{domain}>`. */
  emailId: string;
  /** ms; the Date header. */
  createdAt: number;
  to: { id: string; name: string; email: string; kind: 'user' | 'customer' | 'bot'; locale: string; timezone: string };
  /** `subject` is stable per conversation; `url` links to the conversation. */
  conversation: { id: string; subject: string; url: string };
  /** Ascending seq: the latest due messages, within the caps of core/escalation/caps.ts (EMAIL_MAX_MESSAGES, EMAIL_MAX_TEXT_BYTES). */
  messages: Array<{ id: string; seq: number; senderName: string; senderKind: 'user' | 'customer' | 'bot'; body: string; format: 'text' | 'markdown'; createdAt: number }>;
  /** How many earlier due messages the email leaves out over its caps (0: none); it says so in both parts. */
  leftOut: number;
  /** Message-ID values (with angle brackets) of earlier emails of this (conversation, recipient) thread, oldest first. */
  previousMessageIds: string[];
  /** Set for customers: List-Unsubscribe and List-Unsubscribe-Post. */
  unsubscribeUrl: string | null;
  /** PARLEY_ESCALATION_DELAY_MS: the texts say "not seen within 2 minutes" (default: one minute). */
  delayMs?: number;
  /** Set for users: the agent app's preferences, linked from the "change this" line. */
  preferencesUrl?: string | null;
  /** With reply-by-email on (SPEC §8): the recipient's reply address, as Reply-To, with the marker line above the messages. */
  replyTo?: string | null;
}

export interface ComposedEmail {
  raw: string;
  /** The Message-ID header value, with angle brackets. */
  messageId: string;
  subject: string;
  to: string;
  /** Which template rendered it, e.g. `escalation.de` or `builtin.en`. */
  template: string;
}

/**
 * The data each email template takes, by template id: `escalation` and `notification` today; reminders
 * and system emails add their ids and data types here.
 */
export interface EmailTemplates {
  escalation: EscalationEmail;
  notification: NotificationEmail;
  system: SystemEmail;
  broadcast: BroadcastEmail;
}

/** One notification email (NOTIFICATIONS §3), its subject and body already rendered from the definition. */
export interface NotificationEmail {
  /** Our id; the Message-ID is `<e.{emailId}@{domain}>`. */
  emailId: string;
  createdAt: number;
  to: { name: string | null; email: string; locale: string };
  subject: string;
  body: string;
  contentType: 'text/plain' | 'text/html';
  /** Emails about one item (or appointment) thread together per recipient: `i.{itemId}` / `a.{appointmentId}`. */
  threadKey: string | null;
  /** The recipient's participant id, or its lowercased address. */
  recipientKey: string;
  /** Set for customers: List-Unsubscribe and List-Unsubscribe-Post (their `optOut` stops these emails too). */
  unsubscribeUrl: string | null;
  /** The definition's signing / encryption (NOTIFICATIONS §3), applied when the email is sent. */
  security?: {
    mode: EmailSecurityMode;
    missingSigningKeys: 'skip' | 'send_unsigned';
    missingCryptingKeys: 'skip' | 'send_unencrypted';
    recipient: { pgpPublicKey: string | null; smimeCertificate: string | null };
  } | null;
}
/**
 * One email of an admin broadcast (NOTIFICATIONS §7): the admin's subject and body as given, in the
 * notification layout. The composer may build the message once per `broadcastId` and vary only the
 * recipient's headers, so every field but `emailId`, `to` and `unsubscribeUrl` must be the same for
 * all emails of one broadcast.
 */
export interface BroadcastEmail {
  /** Our id; the Message-ID is `<e.{emailId}@{domain}>`. */
  emailId: string;
  broadcastId: string;
  createdAt: number;
  /** The From header (a mailbox); null: PARLEY_MAIL_FROM. */
  from: { name: string | null; address: string } | null;
  to: { name: string | null; email: string };
  subject: string;
  body: string;
  contentType: 'text/plain' | 'text/html';
  /** Set for customers: List-Unsubscribe and List-Unsubscribe-Post, and the footer link. */
  unsubscribeUrl: string | null;
}
export type EmailTemplateId = keyof EmailTemplates;

/**
 * Turns one email's data into a complete RFC 5322 message (SPEC §5, EMAIL.md), with the template of
 * `templateId` in the recipient's language. It never rejects for template problems: it falls back to
 * English, then to a built-in template, and says which one it used.
 */
export interface EmailComposer {
  compose<T extends EmailTemplateId>(templateId: T, data: EmailTemplates[T]): Promise<ComposedEmail>;
}

/** The system email kinds (NOTIFICATIONS §8). */
export type SystemKind = 'welcome' | 'invitation' | 'password_reset' | 'email_change';

/** One language's system email texts: LiquidJS subject and plain-text body. */
export interface SystemTexts {
  subject: string;
  body: string;
}

/**
 * One system email (NOTIFICATIONS §8), template id `system`. Its templates see exactly `participant`
 * (id, name, email, locale), `variables` and `autoAccept`; the body is plain text, and the HTML part is
 * that text escaped line by line with its URLs linked.
 */
export interface SystemEmail {
  emailId: string;
  createdAt: number;
  to: { id: string; name: string; email: string; locale: string };
  kind: SystemKind;
  /** The language of `texts` (one of the template's keys). */
  language: string;
  /** The texts to render (stored or built-in); when they fail the built-in texts of `kind` in `language` (else English) are used. */
  texts: SystemTexts;
  variables: Record<string, string>;
  /** The recipient's `preferences.email.autoAcceptInvitations` (users; false for others): invitations say "you were added". */
  autoAccept: boolean;
}

/** A rendered template, for previews. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** The escalation email's three parts in one language, as Liquid source. */
export interface EscalationTexts {
  subject: string;
  text: string;
  html: string;
}

/**
 * The editable side of the composer (NOTIFICATIONS §8): checks and previews user-edited templates with
 * the same LiquidJS settings the emails use (EMAIL.md "Templates"), gives the built-in texts, and takes
 * escalation overrides at run time. Core never sees LiquidJS; it goes through this port.
 */
export interface EmailTemplateEditor {
  /** Null when `source` parses (strict filters, parse limit); else the reason, safe to show an admin. */
  check(source: string, part: 'subject' | 'text' | 'html'): string | null;
  /** Renders a system email's subject, text and HTML from `data.texts` with no fallback; throws Error with the reason when a template fails. */
  renderSystem(data: SystemEmail): RenderedEmail;
  /** The built-in texts of `kind`, by language (at least `en` and `de`). */
  builtinSystemTexts(kind: SystemKind): Record<string, SystemTexts>;
  /** The built-in escalation texts in `lang` (its file, else English). */
  builtinEscalationTexts(lang: string): EscalationTexts;
  /**
   * Renders the escalation email's subject, text and HTML parts from `texts` over `e`'s data (the data
   * the sent email's templates see), with no fallback; throws Error with the reason when a part fails.
   */
  renderEscalation(e: EscalationEmail, texts: EscalationTexts): RenderedEmail;
  /** Use `texts` for escalation emails in `lang` instead of the built-in file (null: back to the file). They must have passed `check`. */
  setEscalationTexts(lang: string, texts: EscalationTexts | null): void;
}
