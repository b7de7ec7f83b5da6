import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Liquid, type Template } from 'liquidjs';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { ComposedEmail, EmailComposer, EscalationEmail, Logger } from '../../core/ports/index.js';

const LOCALES = ['en', 'de', 'pl'] as const;
type Locale = (typeof LOCALES)[number];
type Part = 'subject' | 'text' | 'html';
/** Bodies longer than this (code points) are clipped, with a link to read them in full. */
export const CLIP_CHARS = 2000;

/** The first `n` code points of `s` and " [...]" when it was longer; never cuts an emoji in half. */
export function clip(s: string, n: number): string {
  const chars = Array.from(s);
  return chars.length > n ? chars.slice(0, n).join('') + ' [...]' : s;
}

/**
 * Every line break a body or name may hold: CR LF, CR, LF, VT, FF, NEL (U+0085), LINE SEPARATOR
 * (U+2028) and PARAGRAPH SEPARATOR (U+2029). Mail readers break lines at several of them.
 */
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/;
/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROLS = /[\p{Cc}\u2028\u2029]+/gu;
/** Control characters left inside one line of a body, TAB excepted. */
const INLINE_CONTROLS = /[\0-\x08\x0e-\x1f\x7f-\x9f]/g;
/** What the plain-text part puts before every line of a body, so none starts at column 0 (SPEC §5). */
export const BODY_INDENT = '  ';

/**
 * A name or subject on one line: every run of line breaks and other control characters becomes one
 * space, so a name cannot forge a sender line (or a header) in the plain-text part.
 */
export function oneLine(s: string): string {
  return s.replace(CONTROLS, ' ').trim();
}

/**
 * A body as the plain-text part shows it (SPEC §5): clipped to CLIP_CHARS, and every line of it —
 * the first included, after whatever line break — indented by BODY_INDENT under its sender line.
 * Sender lines start at column 0, body lines never do, so no body can forge a sender line, a
 * notice or a footer. Other control characters become spaces.
 */
export function indentBody(body: string): string {
  return bodyLines(body)
    .map((l) => BODY_INDENT + l)
    .join('\n');
}

/** The lines of a clipped body, split at every kind of line break (the HTML part joins them with <br>). */
function bodyLines(body: string): string[] {
  return clip(body, CLIP_CHARS)
    .split(LINE_BREAK)
    .map((l) => l.replace(INLINE_CONTROLS, ' '));
}

/**
 * A delay as the email texts say it, in the recipient's language: "30 seconds", "a minute",
 * "2 minutes", "1.5 hours" (en); "von 30 Sekunden", "einer Minute", "von 2 Minuten" (de, after
 * "innerhalb"); "30 sekund", "minuty", "2 minut" (pl, genitive after "w ciągu").
 */
export function humanDelay(ms: number, locale: 'en' | 'de' | 'pl'): string {
  const s = Math.max(1, Math.round(ms / 1000));
  const [n, unit]: [number, string] = s < 60 ? [s, 'second'] : s < 3600 ? [round1(s / 60), 'minute'] : [round1(s / 3600), 'hour'];
  const one = n === 1;
  const num = (locale === 'en' ? String(n) : String(n).replace('.', ','));
  if (locale === 'de') {
    const words = { second: ['einer Sekunde', 'Sekunden'], minute: ['einer Minute', 'Minuten'], hour: ['einer Stunde', 'Stunden'] }[unit as 'second'] as [string, string];
    return one ? words[0] : `von ${num} ${words[1]}`;
  }
  if (locale === 'pl') {
    // Genitive: "w ciągu sekundy / minuty / godziny"; 2–4 (not 12–14): sekund/minut/godzin after "w ciągu" too.
    const words = { second: ['sekundy', 'sekund'], minute: ['minuty', 'minut'], hour: ['godziny', 'godzin'] }[unit as 'second'] as [string, string];
    return one ? words[0] : `${num} ${Number.isInteger(n) ? words[1] : words[0]}`;
  }
  const words = { second: ['a second', 'seconds'], minute: ['a minute', 'minutes'], hour: ['an hour', 'hours'] }[unit as 'second'] as [string, string];
  return one ? words[0] : `${num} ${words[1]}`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** The last resort when the template files fail: plain, English, compiled into the code. */
const BUILTIN: Record<Part, string> = {
  subject: '[{{ site }}] {{ conversation.subject }}',
  text:
    'Hello {{ to.name }},\n\nYou have {{ total }} unread message(s) in "{{ conversation.subject }}":\n' +
    '{% if leftOut > 0 %}\n{{ leftOut }} earlier message(s) not shown — open the conversation to read them: {{ conversation.url }}\n{% endif %}' +
    '{% for m in messages %}\n{{ m.senderName }} — {{ m.time }}\n{{ m.body }}\n{% endfor %}\n' +
    'View the conversation: {{ conversation.url }}\n{% if unsubscribeUrl %}\nStop these emails: {{ unsubscribeUrl }}\n{% else %}\nYou get this email because you did not read these messages within {{ delay }}. Change this in your notification preferences: {{ preferencesUrl }}\n{% endif %}',
  html:
    '<p>Hello {{ to.name }},</p><p>You have {{ total }} unread message(s) in <strong>{{ conversation.subject }}</strong>:</p>' +
    '{% if leftOut > 0 %}<p>{{ leftOut }} earlier message(s) not shown — <a href="{{ conversation.url }}">open the conversation to read them</a></p>{% endif %}' +
    '{% for m in messages %}<p><strong>{{ m.senderName }}</strong> · {{ m.time }}<br>{% for line in m.lines %}{{ line }}{% unless forloop.last %}<br>{% endunless %}{% endfor %}</p>{% endfor %}' +
    '<p><a href="{{ conversation.url }}">View the conversation</a></p>{% if unsubscribeUrl %}<p><a href="{{ unsubscribeUrl }}">Stop these emails</a></p>{% else %}<p>You get this email because you did not read these messages within {{ delay }}. <a href="{{ preferencesUrl }}">Change this in your notification preferences</a>.</p>{% endif %}',
};

function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'server', 'adapters', 'email', 'templates');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('email templates not found');
    dir = up;
  }
}

/** RFC 5322 quoted-string for a List-Id phrase. */
function quoted(s: string): string {
  return `"${oneLine(s).replace(/["\\]/g, '\\$&')}"`;
}

/** A participant id as a msg-id atom: host ids may hold '@' and ':'. Server ids are nanoids, already atoms. */
function atom(id: string): string {
  return Buffer.from(id).toString('base64url');
}

export function emailMessageId(emailId: string, domain: string): string {
  return `<e.${emailId}@${domain}>`;
}

/** One stable root per (conversation, recipient): every email of the thread references it. */
export function threadRootId(conversationId: string, participantId: string, domain: string): string {
  return `<c.${conversationId}.${atom(participantId)}@${domain}>`;
}

/**
 * Escalation emails from LiquidJS templates (files, one set per language) built into MIME by
 * nodemailer. User content is escaped in HTML (outputEscape, and `raw` cannot bypass it), filters
 * are strict, templates see only own properties, and parse/render/memory are bounded. A template
 * that fails is logged by name and replaced by English, then by the built-in template.
 */
export class LiquidComposer implements EmailComposer {
  private readonly html: Liquid;
  private readonly text: Liquid;
  private readonly templates = new Map<string, Template[]>();
  private readonly builtin: Record<Part, Template[]>;
  private readonly domain: string;
  private readonly site: string;
  private readonly log: Logger;

  constructor(private readonly opts: { from: string; domain?: string; templatesDir?: string; logger: Logger }) {
    this.log = opts.logger;
    this.domain = opts.domain ?? /@([^>\s]+)>?\s*$/.exec(opts.from)?.[1] ?? 'localhost';
    this.site = /^\s*"?([^"<]*?)"?\s*</.exec(opts.from)?.[1]?.trim() || 'Parley';
    const common = {
      strictFilters: true,
      ownPropertyOnly: true,
      parseLimit: 100_000,
      renderLimit: 1_000,
      memoryLimit: 10_000_000,
    };
    this.html = new Liquid({ ...common, outputEscape: 'escape' });
    this.text = new Liquid({ ...common });
    for (const engine of [this.html, this.text]) {
      engine.registerFilter('clip', (s: unknown, n: unknown) => clip(String(s ?? ''), Number(n) || CLIP_CHARS));
      // `raw` would print unescaped HTML: in our templates it escapes like any other output.
      engine.registerFilter('raw', (s: unknown) => s);
    }
    this.builtin = {
      subject: this.text.parse(BUILTIN.subject),
      text: this.text.parse(BUILTIN.text),
      html: this.html.parse(BUILTIN.html),
    };
    const dir = opts.templatesDir ?? templatesDir();
    for (const locale of LOCALES) {
      for (const part of ['subject', 'text', 'html'] as const) {
        const name = `escalation/${locale}.${part}.liquid`;
        try {
          const source = readFileSync(join(dir, name), 'utf8');
          this.templates.set(`${locale}.${part}`, (part === 'html' ? this.html : this.text).parse(source));
        } catch (e) {
          this.log.error('email template failed', { template: name, error: String(e) });
        }
      }
    }
  }

  private render(locale: Locale, part: Part, data: object): { out: string; template: string } {
    const engine = part === 'html' ? this.html : this.text;
    for (const l of locale === 'en' ? (['en'] as const) : ([locale, 'en'] as const)) {
      const t = this.templates.get(`${l}.${part}`);
      if (!t) continue;
      try {
        return { out: engine.renderSync(t, data) as string, template: `escalation.${l}` };
      } catch (e) {
        this.log.error('email template failed', { template: `escalation/${l}.${part}.liquid`, error: String(e) });
      }
    }
    return { out: engine.renderSync(this.builtin[part], data) as string, template: 'builtin.en' };
  }

  async compose(e: EscalationEmail): Promise<ComposedEmail> {
    const lang = (e.to.locale.split('-')[0] ?? 'en').toLowerCase();
    const locale: Locale = (LOCALES as readonly string[]).includes(lang) ? (lang as Locale) : 'en';
    const format = timeFormat(e.to.locale, e.to.timezone);
    const conversation = { ...e.conversation, subject: oneLine(e.conversation.subject) };
    // Templates see user text only in safe forms: names and the subject on one line, and `body`
    // indented line by line (plain text); HTML escapes all of it on output and joins `lines`.
    const data = {
      site: this.site,
      to: { name: oneLine(e.to.name) },
      conversation,
      /** Messages shown; `leftOut` earlier ones are only counted; `total` is both. */
      count: e.messages.length,
      leftOut: e.leftOut,
      total: e.messages.length + e.leftOut,
      unsubscribeUrl: e.unsubscribeUrl,
      /** "2 minutes", "30 seconds": PARLEY_ESCALATION_DELAY_MS in the recipient's language. */
      delay: humanDelay(e.delayMs ?? 60_000, locale),
      preferencesUrl: e.preferencesUrl ?? null,
      messages: e.messages.map((m) => {
        const clipped = Array.from(m.body).length > CLIP_CHARS;
        return { senderName: oneLine(m.senderName), time: format.format(m.createdAt), body: indentBody(m.body), clipped, lines: bodyLines(m.body) };
      }),
    };
    const subject = oneLine(this.render(locale, 'subject', data).out.replace(/\s+/g, ' '));
    const text = this.render(locale, 'text', data);
    const html = this.render(locale, 'html', data);

    const messageId = emailMessageId(e.emailId, this.domain);
    const root = threadRootId(e.conversation.id, e.to.id, this.domain);
    const previous = e.previousMessageIds.slice(-20);
    const listId = `${quoted(conversation.subject)} <c.${e.conversation.id}.${this.domain}>`;
    const headers: Record<string, string | { prepared: true; value: string }> = {
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      // ASCII goes out as written; anything else is left to nodemailer's RFC 2047 encoding.
      'List-Id': /^[\x20-\x7e]*$/.test(listId) ? { prepared: true, value: listId } : listId,
      'Feedback-ID': `${e.conversation.id}:escalation:parley`,
      'In-Reply-To': previous.at(-1) ?? root,
      References: [root, ...previous].join(' '),
    };
    if (e.unsubscribeUrl) {
      headers['List-Unsubscribe'] = `<${e.unsubscribeUrl}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    const mail = new MailComposer({
      from: this.opts.from,
      to: { name: oneLine(e.to.name), address: e.to.email },
      subject,
      text: text.out,
      html: html.out,
      messageId,
      date: new Date(e.createdAt),
      headers,
      textEncoding: 'quoted-printable',
    });
    const raw = await mailToString(mail);
    return { raw, messageId, subject, to: e.to.email, template: text.template === html.template ? text.template : `${text.template}+${html.template}` };
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();
function timeFormat(locale: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}`;
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'medium', timeStyle: 'short' });
    } catch {
      f = new Intl.DateTimeFormat('en', { timeZone: 'UTC', dateStyle: 'medium', timeStyle: 'short', timeZoneName: 'short' });
    }
    formats.set(key, f);
  }
  return f;
}

function mailToString(mail: MailComposer): Promise<string> {
  return new Promise((resolve, reject) => {
    mail.compile().build((err, message) => (err ? reject(err) : resolve(message.toString('utf8'))));
  });
}
