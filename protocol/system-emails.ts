import { z } from 'zod';
import { ParticipantIdSchema } from './model.js';
import { wellFormed } from './text.js';

/**
 * System emails and editable templates (NOTIFICATIONS.md §8): the host asks the hub to send a welcome,
 * invitation, password-reset or email-change email to a participant; admins edit each kind's texts
 * (LiquidJS, per language) and the escalation email's texts. Input schemas are strict (an unknown
 * field is 400 `invalid`); sizes are capped here, Liquid syntax is checked by the server on PUT.
 */

export const SystemEmailKindSchema = z.enum(['welcome', 'invitation', 'password_reset', 'email_change']);
export type SystemEmailKind = z.infer<typeof SystemEmailKindSchema>;
export const SYSTEM_EMAIL_KINDS = SystemEmailKindSchema.options;

/** A template's subject at most this long (characters of Liquid source). */
export const MAX_SUBJECT_TEMPLATE_CHARS = 1_000;
/** A text body (system emails, the escalation email's text part) at most this long. */
export const MAX_BODY_TEMPLATE_CHARS = 20_000;
/** The escalation email's HTML part at most this long (the composer's parse limit is 100,000). */
export const MAX_HTML_TEMPLATE_CHARS = 60_000;

/** A language key: `en`, `de`, `pt-BR`, `pt_BR` (matched as NOTIFICATIONS §3 "Languages" says). */
export const TemplateLanguageSchema = z.string().regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}$/, 'a language is a BCP 47 tag such as en, de or pt-BR');

/** Variables a system email's template sees as `variables.<name>` (e.g. `resetUrl`, `inviterName`). */
export const SystemEmailVariablesSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a variable name is 1–64 chars of [A-Za-z0-9_], not starting with a digit'), wellFormed(2_000))
  .refine((v) => Object.keys(v).length <= 50, { message: 'at most 50 variables' });
export type SystemEmailVariables = z.infer<typeof SystemEmailVariablesSchema>;

/**
 * `POST /v1/system-emails`: 202 `{emailId}` once the email is in the outbox (kind `system`, sent ahead
 * of every other kind), or 200 `{emailId: null, skipped: "disabled"}` when the kind is turned off.
 * Unknown participant 404; a participant without an email address 409 `conflict`. It ignores the
 * participant's `optOut` and a bounce recorded for the address.
 */
export const SystemEmailPostSchema = z.strictObject({
  kind: SystemEmailKindSchema,
  to: ParticipantIdSchema,
  variables: SystemEmailVariablesSchema.optional(),
});
export type SystemEmailPost = z.infer<typeof SystemEmailPostSchema>;
export type SystemEmailAnswer = { emailId: string } | { emailId: null; skipped: 'disabled' };

/** One language's texts of a system email: a Liquid subject and a Liquid plain-text body (the HTML part is the body, escaped, with links). */
export const SystemMessageSchema = z.strictObject({
  subject: wellFormed(MAX_SUBJECT_TEMPLATE_CHARS).min(1),
  body: wellFormed(MAX_BODY_TEMPLATE_CHARS).min(1),
});
export type SystemMessage = z.infer<typeof SystemMessageSchema>;

/**
 * `GET|PUT /v1/system-emails/templates/{kind}`: whether the kind is sent, and its texts per language
 * (at least one, at most 50). PUT replaces the whole template; GET shows the built-in one (en, de)
 * until a PUT. `password_reset` cannot be disabled (409 `conflict`).
 */
export const SystemTemplateSchema = z.strictObject({
  enabled: z.boolean(),
  messages: z
    .record(TemplateLanguageSchema, SystemMessageSchema)
    .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 50, { message: 'between 1 and 50 languages' }),
});
export type SystemTemplate = z.infer<typeof SystemTemplateSchema>;

/**
 * `POST /v1/system-emails/templates/{kind}/preview`: renders `template` (else the kind's stored or
 * built-in texts in `lang`) with a sample participant and sample variables; a template that fails to
 * parse or render is 400 `invalid` with the reason.
 */
export const SystemTemplatePreviewSchema = z.strictObject({
  lang: TemplateLanguageSchema.optional(),
  template: SystemMessageSchema.optional(),
});
export type SystemTemplatePreview = z.infer<typeof SystemTemplatePreviewSchema>;
export interface RenderedPreview {
  subject: string;
  text: string;
  html: string;
}

/**
 * `GET|PUT /v1/templates/escalation/{lang}`: the escalation email's subject, text and HTML parts in
 * one language (LiquidJS, the data of EMAIL.md's escalation template). A PUT replaces the built-in
 * file for that language; GET shows the stored texts, else the built-in ones. It cannot be disabled.
 */
export const EscalationTemplateSchema = z.strictObject({
  subject: wellFormed(MAX_SUBJECT_TEMPLATE_CHARS).min(1),
  text: wellFormed(MAX_BODY_TEMPLATE_CHARS).min(1),
  html: wellFormed(MAX_HTML_TEMPLATE_CHARS).min(1),
});
export type EscalationTemplate = z.infer<typeof EscalationTemplateSchema>;

/** Who a sample escalation email is written to: an agent (a `user`) or a `customer`. */
export const EscalationRecipientSchema = z.enum(['user', 'customer']);
export type EscalationRecipient = z.infer<typeof EscalationRecipientSchema>;

/**
 * `POST /v1/templates/escalation/{lang}/preview`: renders `template` (unsaved texts; else the stored or
 * built-in texts of `lang`) with the hub's composer over a sample conversation written to a sample
 * recipient of kind `as` (default `user`) in `lang`: 200 {@link RenderedPreview}. A template that
 * fails to parse or render is 400 `invalid` with the reason.
 */
export const EscalationTemplatePreviewSchema = z.strictObject({
  template: EscalationTemplateSchema.optional(),
  as: EscalationRecipientSchema.optional(),
});
export type EscalationTemplatePreview = z.infer<typeof EscalationTemplatePreviewSchema>;
