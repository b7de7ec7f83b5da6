import type { Liquid, Template } from 'liquidjs';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { ComposedEmail, Logger, RenderedEmail, SystemEmail, SystemKind, SystemTexts } from '../../core/ports/index.js';
import { oneLine } from './text.js';

/**
 * Built-in system email texts (NOTIFICATIONS §8), used until an admin PUTs a kind's template. They see
 * `participant` (id, name, email, locale), `variables` and `autoAccept`; a variable the host did not
 * send renders empty, so each optional line is wrapped in `{% if %}`.
 */
export const BUILTIN_SYSTEM_TEXTS: Record<SystemKind, Record<'en' | 'de', SystemTexts>> = {
  welcome: {
    en: {
      subject: 'Welcome, {{ participant.name }}',
      body: 'Hello {{ participant.name }},\n\nyour account is ready.{% if variables.loginUrl %}\n\nSign in: {{ variables.loginUrl }}{% endif %}\n',
    },
    de: {
      subject: 'Willkommen, {{ participant.name }}',
      body: 'Hallo {{ participant.name }},\n\nIhr Konto ist eingerichtet.{% if variables.loginUrl %}\n\nAnmelden: {{ variables.loginUrl }}{% endif %}\n',
    },
  },
  invitation: {
    en: {
      subject: '{% if autoAccept %}You were added{% else %}You are invited{% endif %}{% if variables.inviterName %} by {{ variables.inviterName }}{% endif %}',
      body:
        'Hello {{ participant.name }},\n\n{% if autoAccept %}{{ variables.inviterName | default: "Someone" }} added you{% if variables.projectName %} to {{ variables.projectName }}{% endif %}. You were added; there is nothing to accept.' +
        '{% if variables.invitationUrl %}\n\nOpen it: {{ variables.invitationUrl }}{% endif %}' +
        '{% else %}{{ variables.inviterName | default: "Someone" }} invited you{% if variables.projectName %} to {{ variables.projectName }}{% endif %}. Please accept the invitation.' +
        '{% if variables.invitationUrl %}\n\nAccept the invitation: {{ variables.invitationUrl }}{% endif %}{% endif %}\n',
    },
    de: {
      subject: '{% if autoAccept %}Sie wurden hinzugefügt{% else %}Sie sind eingeladen{% endif %}{% if variables.inviterName %} von {{ variables.inviterName }}{% endif %}',
      body:
        'Hallo {{ participant.name }},\n\n{% if autoAccept %}{{ variables.inviterName | default: "Jemand" }} hat Sie{% if variables.projectName %} zu {{ variables.projectName }}{% endif %} hinzugefügt. Sie wurden hinzugefügt; Sie müssen nichts annehmen.' +
        '{% if variables.invitationUrl %}\n\nÖffnen: {{ variables.invitationUrl }}{% endif %}' +
        '{% else %}{{ variables.inviterName | default: "Jemand" }} hat Sie{% if variables.projectName %} zu {{ variables.projectName }}{% endif %} eingeladen. Bitte nehmen Sie die Einladung an.' +
        '{% if variables.invitationUrl %}\n\nEinladung annehmen: {{ variables.invitationUrl }}{% endif %}{% endif %}\n',
    },
  },
  password_reset: {
    en: {
      subject: 'Reset your password',
      body: 'Hello {{ participant.name }},\n\nsomeone asked to reset the password of {{ participant.email }}. Choose a new one here: {{ variables.resetUrl }}\n\nIf it was not you, ignore this email: your password stays as it is.\n',
    },
    de: {
      subject: 'Passwort zurücksetzen',
      body: 'Hallo {{ participant.name }},\n\njemand möchte das Passwort für {{ participant.email }} zurücksetzen. Hier wählen Sie ein neues: {{ variables.resetUrl }}\n\nWaren Sie es nicht, ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist.\n',
    },
  },
  email_change: {
    en: {
      subject: 'Confirm your new email address',
      body: 'Hello {{ participant.name }},\n\nplease confirm {% if variables.newEmail %}{{ variables.newEmail }} as {% endif %}your new email address{% if variables.confirmUrl %}: {{ variables.confirmUrl }}{% else %}.{% endif %}\n\nIf it was not you, ignore this email.\n',
    },
    de: {
      subject: 'Neue E-Mail-Adresse bestätigen',
      body: 'Hallo {{ participant.name }},\n\nbitte bestätigen Sie {% if variables.newEmail %}{{ variables.newEmail }} als {% endif %}Ihre neue E-Mail-Adresse{% if variables.confirmUrl %}: {{ variables.confirmUrl }}{% else %}.{% endif %}\n\nWaren Sie es nicht, ignorieren Sie diese E-Mail.\n',
    },
  },
};

/** Parsed templates kept by source: a hub sends the same few texts over and over. */
const PARSED_KEPT = 256;

/**
 * System emails (NOTIFICATIONS §8) from user-editable LiquidJS texts: the subject on one line, the body
 * as text/plain, and text/html made from that text — every character escaped (the template's own text
 * and every variable alike, so neither can inject markup), blank lines as paragraphs, URLs linked. The
 * engines are the LiquidComposer's (EMAIL.md "Templates": strict filters, own properties, limits).
 */
export class SystemComposer {
  private readonly parsed = new Map<string, Template[]>();

  constructor(private readonly o: { text: Liquid; from: string; domain: string; logger: Logger }) {}

  /** Null when `source` parses; else the reason. */
  check(source: string): string | null {
    try {
      this.parse(source);
      return null;
    } catch (e) {
      return reason(e);
    }
  }

  /** Renders `data.texts` with no fallback; throws an Error with the reason when a part fails. */
  render(data: SystemEmail): RenderedEmail {
    const scope = {
      participant: { id: data.to.id, name: oneLine(data.to.name), email: data.to.email, locale: data.to.locale },
      variables: { ...data.variables },
      autoAccept: data.autoAccept,
    };
    const subject = oneLine(this.renderPart(data.texts.subject, scope).replace(/\s+/g, ' '));
    const text = this.renderPart(data.texts.body, scope);
    return { subject, text, html: textToHtml(text) };
  }

  /** The whole email; a failing template is logged and replaced by the built-in texts of its kind. */
  async compose(data: SystemEmail): Promise<ComposedEmail> {
    let rendered: RenderedEmail;
    let template = `system.${data.kind}.${data.language}`;
    try {
      rendered = this.render(data);
    } catch (e) {
      this.o.logger.error('email template failed', { template, error: reason(e) });
      const builtin = BUILTIN_SYSTEM_TEXTS[data.kind];
      const lang = data.language.slice(0, 2).toLowerCase() === 'de' ? 'de' : 'en';
      rendered = this.render({ ...data, texts: builtin[lang] });
      template = `builtin.${data.kind}.${lang}`;
    }
    const messageId = `<e.${data.emailId}@${this.o.domain}>`;
    const mail = new MailComposer({
      from: this.o.from,
      to: { name: oneLine(data.to.name), address: data.to.email },
      subject: rendered.subject,
      text: rendered.text,
      html: `<!doctype html><html><body>${rendered.html}</body></html>`,
      messageId,
      date: new Date(data.createdAt),
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All', 'Feedback-ID': `${data.kind}:system:parley` },
      textEncoding: 'quoted-printable',
    });
    const raw = await new Promise<string>((resolve, reject) => mail.compile().build((err, m) => (err ? reject(err) : resolve(m.toString('utf8')))));
    return { raw, messageId, subject: rendered.subject, to: data.to.email, template };
  }

  private parse(source: string): Template[] {
    let t = this.parsed.get(source);
    if (!t) {
      t = this.o.text.parse(source);
      if (this.parsed.size >= PARSED_KEPT) this.parsed.delete(this.parsed.keys().next().value!);
      this.parsed.set(source, t);
    }
    return t;
  }

  private renderPart(source: string, scope: object): string {
    return this.o.text.renderSync(this.parse(source), scope) as string;
  }
}

/** A Liquid error's message without the stack, at most 500 characters. */
export function reason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 500);
}

const URL = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/** Plain text as HTML: everything escaped, paragraphs at blank lines, `<br>` at line breaks, http(s) URLs as links. */
export function textToHtml(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .trim()
    .split(/\n{2,}/)
    .map((para) => `<p>${para.split('\n').map(linkLine).join('<br>')}</p>`)
    .join('');
}

function linkLine(line: string): string {
  let out = '';
  let last = 0;
  for (const m of line.matchAll(URL)) {
    out += escapeHtml(line.slice(last, m.index)) + `<a href="${escapeHtml(m[0])}">${escapeHtml(m[0])}</a>`;
    last = m.index + m[0].length;
  }
  return out + escapeHtml(line.slice(last));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
