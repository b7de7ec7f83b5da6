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
