import {
  ProtocolError,
  SystemTemplateSchema,
  type EscalationRecipient,
  type EscalationTemplate,
  type EscalationTemplatePreview,
  type RenderedPreview,
  type SystemEmailAnswer,
  type SystemEmailKind,
  type SystemEmailPost,
  type SystemTemplate,
  type SystemTemplatePreview,
} from '../../../protocol/index.js';
import type { ParticipantRecord } from '../model.js';
import { outboxRow } from '../outbox/outbox-row.js';
import type { Clock, EmailComposer, EmailTemplateEditor, EscalationEmail, EventBus, Logger, SystemEmail, SystemTexts, TemplateStore } from '../ports/index.js';
import { chooseLanguage } from '../notifications/language.js';
import { timeOrderedId } from '../time-id.js';

/** Stored kind of a language's escalation texts. */
const ESCALATION_PREFIX = 'escalation.';

/** What a preview renders with: nobody's real data. */
export const SAMPLE_PARTICIPANT = { id: 'sample-user', name: 'Ada Lovelace', email: 'ada@example.com' } as const;
export const SAMPLE_VARIABLES: Record<string, string> = {
  loginUrl: 'https://app.example.com/login',
  inviterName: 'Grace Hopper',
  projectName: 'Analytical Engine',
  invitationUrl: 'https://app.example.com/invitations/sample',
  resetUrl: 'https://app.example.com/reset/sample-token',
  newEmail: 'ada.new@example.com',
  confirmUrl: 'https://app.example.com/confirm/sample-token',
};

/** The sample escalation email's people: the recipient of each kind, and who wrote to them. */
const SAMPLE_CUSTOMER = { id: 'sample-customer', name: 'Charles Babbage', email: 'charles@example.com' } as const;
const SAMPLE_COLLEAGUE = 'Grace Hopper';
const SAMPLE_SUBJECT = 'The engine stops at column 7';

/**
 * A sample escalation email to an agent (`user`) or a `customer` in `lang`: a conversation with a few
 * messages from the other side written in the minutes before `now`, and example.com links.
 */
export function sampleEscalationEmail(as: EscalationRecipient, lang: string, now: number, delayMs: number): EscalationEmail {
  const customer = as === 'customer';
  const to = customer ? SAMPLE_CUSTOMER : SAMPLE_PARTICIPANT;
  const written: Array<[string, 'user' | 'customer', string]> = customer
    ? [
        [SAMPLE_PARTICIPANT.name, 'user', 'Thank you, we are looking into it.'],
        [SAMPLE_COLLEAGUE, 'user', 'The workshop can come on Tuesday.\nPlease leave the crank where it is until then.'],
      ]
    : [
        [SAMPLE_CUSTOMER.name, 'customer', 'The engine stopped at column 7 this morning.'],
        [SAMPLE_CUSTOMER.name, 'customer', 'It grinds when I turn the crank.\nShould I keep turning?'],
        [SAMPLE_COLLEAGUE, 'user', 'I have asked the workshop to look at it.'],
      ];
  return {
    emailId: 'preview',
    createdAt: now,
    to: { ...to, kind: as, locale: lang, timezone: 'UTC' },
    conversation: { id: 'sample', subject: SAMPLE_SUBJECT, url: customer ? 'https://app.example.com/c/sample-link' : 'https://app.example.com/app/#/c/sample' },
    messages: written.map(([senderName, senderKind, body], i) => ({
      id: `sample-${i + 1}`,
      seq: i + 1,
      senderName,
      senderKind,
      body,
      format: 'text' as const,
      createdAt: now - (written.length - i) * 2 * 60_000,
    })),
    leftOut: 0,
    previousMessageIds: [],
    unsubscribeUrl: customer ? 'https://app.example.com/u/sample-token' : null,
    preferencesUrl: customer ? null : 'https://app.example.com/app/#/preferences',
    replyTo: null,
    delayMs,
  };
}

/**
 * The language of a template a recipient reads: the locale, its shorter forms, PARLEY_DEFAULT_LOCALE
 * (and its shorter forms), then English, then the template's first language.
 */
export function systemLanguage(locale: string | null | undefined, defaultLocale: string, available: readonly string[]): string {
  const en = available.find((l) => l.toLowerCase() === 'en');
  return chooseLanguage(locale, defaultLocale, en ? [en, ...available.filter((l) => l !== en)] : available);
}

/** `autoAccept` for a participant: a user's `email.autoAcceptInvitations`; false for customers and bots (they have no such choice). */
export function autoAcceptOf(p: Pick<ParticipantRecord, 'preferences'>): boolean {
  const email = p.preferences.email as { autoAcceptInvitations?: boolean };
  return email.autoAcceptInvitations === true;
}

/**
 * System emails (NOTIFICATIONS §8): welcome, invitation, password reset and email change, from templates
 * an admin edits per kind and language, queued in the outbox as kind `system` (sent ahead of every
 * other kind). They ignore `optOut` and recorded bounces: a person who asked for a password reset must
 * get it, and an address that bounced a chat email once may work again (the host asked for this email
 * now). Also the escalation email's editable texts, handed to the composer at start and on every PUT.
 */
export class SystemEmails {
  constructor(
    private readonly o: {
      store: TemplateStore;
      participant: (id: string) => ParticipantRecord | undefined;
      editor: EmailTemplateEditor;
      composer: EmailComposer;
      events: EventBus;
      clock: Clock;
      logger: Logger;
      defaultLocale: string;
      /** PARLEY_ESCALATION_DELAY_MS: what the escalation preview says ("within 2 minutes"). */
      escalationDelayMs: number;
    },
  ) {}

  /** Told after escalation texts are stored here (several hubs: the others `start()` again to take them). */
  onEscalationChanged: (() => void) | null = null;

  /** Hand every stored escalation override to the composer (a bad one is logged and left out). */
  async start(): Promise<void> {
    for (const t of await this.o.store.listTemplates(ESCALATION_PREFIX)) {
      const lang = t.kind.slice(ESCALATION_PREFIX.length);
      try {
        this.o.editor.setEscalationTexts(lang, t.doc as unknown as EscalationTemplate);
      } catch (e) {
        this.o.logger.error('email template failed', { template: t.kind, error: String(e) });
      }
    }
  }

  async send(input: SystemEmailPost): Promise<SystemEmailAnswer> {
    const p = this.o.participant(input.to);
    if (!p) throw new ProtocolError('not_found', 'no such participant');
    if (!p.email) throw new ProtocolError('conflict', 'the participant has no email address');
    const template = await this.template(input.kind);
    if (!template.enabled) return { emailId: null, skipped: 'disabled' };
    const language = systemLanguage(p.locale, this.o.defaultLocale, Object.keys(template.messages));
    const now = this.o.clock.now();
    const data: SystemEmail = {
      emailId: timeOrderedId(now),
      createdAt: now,
      to: { id: p.id, name: p.name, email: p.email, locale: p.locale },
      kind: input.kind,
      language,
      texts: template.messages[language]!,
      variables: input.variables ?? {},
      autoAccept: autoAcceptOf(p),
    };
    const composed = await this.o.composer.compose('system', data);
    await this.o.store.queueSystemEmail(
      outboxRow({ id: data.emailId, kind: 'system', participantId: p.id, conversationId: '', toAddress: p.email, subject: composed.subject, messageIdHeader: composed.messageId, raw: composed.raw, createdAt: now }),
    );
    this.o.events.publish('OutboxQueued', { count: 1 });
    return { emailId: data.emailId };
  }

  /** The stored template of `kind`, else the built-in one (enabled, en and de). */
  async template(kind: SystemEmailKind): Promise<SystemTemplate> {
    const stored = await this.o.store.getTemplate(kind);
    if (stored) {
      const parsed = SystemTemplateSchema.safeParse(stored.doc);
      if (parsed.success) return parsed.data;
      this.o.logger.error('stored system template is invalid; using the built-in one', { kind });
    }
    return { enabled: true, messages: this.o.editor.builtinSystemTexts(kind) };
  }

  async putTemplate(kind: SystemEmailKind, t: SystemTemplate): Promise<SystemTemplate> {
    if (kind === 'password_reset' && !t.enabled) throw new ProtocolError('conflict', 'password_reset cannot be disabled: people must always be able to get back in');
    const errors: Array<{ lang: string; part: string; reason: string }> = [];
    for (const [lang, m] of Object.entries(t.messages)) {
      for (const part of ['subject', 'body'] as const) {
        const reason = this.o.editor.check(m[part], part === 'subject' ? 'subject' : 'text');
        if (reason) errors.push({ lang, part, reason });
      }
      // Parsing is not all: a trial render catches the render and memory limits on sample data.
      if (!errors.some((e) => e.lang === lang)) {
        const failed = this.tryRender(kind, lang, m);
        if (typeof failed === 'string') errors.push({ lang, part: 'render', reason: failed });
      }
    }
    if (errors.length > 0) throw new ProtocolError('invalid', `template error: ${errors[0]!.lang} ${errors[0]!.part}: ${errors[0]!.reason}`, errors);
    await this.o.store.putTemplate(kind, t as unknown as Record<string, unknown>, this.o.clock.now());
    return t;
  }

  /** Renders with the sample participant and variables; a template that fails is 400 `invalid` with the reason. */
  async preview(kind: SystemEmailKind, body: SystemTemplatePreview): Promise<RenderedPreview> {
    const lang = body.lang ?? this.o.defaultLocale;
    let texts = body.template;
    if (!texts) {
      const t = await this.template(kind);
      texts = t.messages[systemLanguage(lang, this.o.defaultLocale, Object.keys(t.messages))]!;
    }
    for (const part of ['subject', 'body'] as const) {
      const reason = this.o.editor.check(texts[part], part === 'subject' ? 'subject' : 'text');
      if (reason) throw new ProtocolError('invalid', `template error: ${part}: ${reason}`);
    }
    const out = this.tryRender(kind, lang, texts);
    if (typeof out === 'string') throw new ProtocolError('invalid', `template error: ${out}`);
    return out;
  }

  async escalationTemplate(lang: string): Promise<EscalationTemplate> {
    const stored = await this.o.store.getTemplate(ESCALATION_PREFIX + lang.toLowerCase());
    return stored ? (stored.doc as unknown as EscalationTemplate) : this.o.editor.builtinEscalationTexts(lang.toLowerCase());
  }

  async putEscalationTemplate(lang: string, t: EscalationTemplate): Promise<EscalationTemplate> {
    const errors = (['subject', 'text', 'html'] as const).flatMap((part) => {
      const reason = this.o.editor.check(t[part], part);
      return reason ? [{ part, reason }] : [];
    });
    if (errors.length > 0) throw new ProtocolError('invalid', `template error: ${errors[0]!.part}: ${errors[0]!.reason}`, errors);
    const l = lang.toLowerCase();
    await this.o.store.putTemplate(ESCALATION_PREFIX + l, { ...t }, this.o.clock.now());
    this.o.editor.setEscalationTexts(l, t);
    this.onEscalationChanged?.();
    return t;
  }

  /**
   * The escalation email in `lang` rendered by the composer over a sample conversation to a sample
   * agent or customer: `body.template` (unsaved texts) or the stored, else built-in, texts of `lang`.
   * A template that fails to parse or render is 400 `invalid` with the reason.
   */
  async previewEscalation(lang: string, body: EscalationTemplatePreview): Promise<RenderedPreview> {
    const texts = body.template ?? (await this.escalationTemplate(lang));
    for (const part of ['subject', 'text', 'html'] as const) {
      const reason = this.o.editor.check(texts[part], part);
      if (reason) throw new ProtocolError('invalid', `template error: ${part}: ${reason}`);
    }
    try {
      return this.o.editor.renderEscalation(sampleEscalationEmail(body.as ?? 'user', lang, this.o.clock.now(), this.o.escalationDelayMs), texts);
    } catch (e) {
      throw new ProtocolError('invalid', `template error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 500)}`);
    }
  }

  /** The rendered sample, or the reason it failed. */
  private tryRender(kind: SystemEmailKind, lang: string, texts: SystemTexts): RenderedPreview | string {
    try {
      return this.o.editor.renderSystem({
        emailId: 'preview',
        createdAt: this.o.clock.now(),
        to: { ...SAMPLE_PARTICIPANT, locale: lang },
        kind,
        language: lang,
        texts,
        variables: { ...SAMPLE_VARIABLES },
        autoAccept: false,
      });
    } catch (e) {
      return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 500);
    }
  }
}
