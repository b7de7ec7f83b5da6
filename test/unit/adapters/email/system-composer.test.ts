import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { LiquidComposer } from '../../../../server/adapters/email/liquid-composer.js';
import { textToHtml } from '../../../../server/adapters/email/system-composer.js';
import type { EscalationEmail, Logger, SystemEmail } from '../../../../server/core/ports/index.js';

function logger(): Logger & { errors: Array<Record<string, unknown> | undefined> } {
  const errors: Array<Record<string, unknown> | undefined> = [];
  return { info() {}, warn() {}, error: (_m, f) => errors.push(f), errors };
}

const T = Date.UTC(2026, 0, 15, 12, 30);
function system(over: Partial<SystemEmail> = {}): SystemEmail {
  return {
    emailId: 'S1',
    createdAt: T,
    to: { id: 'ada', name: 'Ada', email: 'ada@example.com', locale: 'en' },
    kind: 'password_reset',
    language: 'en',
    texts: { subject: 'Reset for {{ participant.name }}', body: 'Go to {{ variables.resetUrl }}\n\n{{ variables.note }}' },
    variables: { resetUrl: 'https://x.example/r?a=1&b=2', note: '<b>bold</b>' },
    autoAccept: false,
    ...over,
  };
}

describe('system emails in the composer', () => {
  const composer = new LiquidComposer({ from: 'Acme <n@chat.example.com>', logger: logger() });

  it('renders subject and text, and escapes every variable in the HTML part while linking URLs', () => {
    const out = composer.renderSystem(system());
    expect(out.subject).toBe('Reset for Ada');
    expect(out.text).toBe('Go to https://x.example/r?a=1&b=2\n\n<b>bold</b>');
    expect(out.html).toBe('<p>Go to <a href="https://x.example/r?a=1&#38;b=2">https://x.example/r?a=1&#38;b=2</a></p><p>&#60;b&#62;bold&#60;/b&#62;</p>');
  });

  it('shows templates only participant, variables and autoAccept, with no prototype access', () => {
    const out = composer.renderSystem(system({ texts: { subject: '{{ participant.preferences }}{{ participant.constructor }}x', body: '{{ autoAccept }} {{ participant.locale }}' } }));
    expect(out.subject).toBe('x');
    expect(out.text).toBe('false en');
  });

  it('reports a parse error and an unknown filter, and the raw filter does not bypass anything', () => {
    expect(composer.check('{% if %}', 'text')).toMatch(/.+/);
    expect(composer.check('{{ x | nosuchfilter }}', 'subject')).toMatch(/nosuchfilter/);
    expect(composer.check('Hello {{ participant.name }}', 'text')).toBeNull();
    expect(() => composer.renderSystem(system({ texts: { subject: 's', body: '{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}' } }))).toThrow();
  });

  it('falls back to the built-in texts when a template fails at send time, and says so', async () => {
    const log = logger();
    const c = new LiquidComposer({ from: 'Acme <n@chat.example.com>', logger: log });
    const out = await c.compose('system', system({ language: 'de', texts: { subject: 's', body: '{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}' } }));
    expect(out.template).toBe('builtin.password_reset.de');
    expect(out.subject).toBe('Passwort zurücksetzen');
    expect(log.errors.length).toBe(1);
    const mail = await PostalMime.parse(out.raw);
    expect(mail.headers.find((h) => h.key === 'auto-submitted')?.value).toBe('auto-generated');
    expect(mail.headers.find((h) => h.key === 'list-unsubscribe')).toBeUndefined();
    expect(mail.messageId).toBe('<e.S1@chat.example.com>');
  });

  it('has built-in texts in en and de for every kind, and the invitation follows autoAccept', () => {
    for (const kind of ['welcome', 'invitation', 'password_reset', 'email_change'] as const) {
      const builtin = composer.builtinSystemTexts(kind);
      expect(Object.keys(builtin).sort()).toEqual(['de', 'en']);
      for (const lang of ['en', 'de']) expect(() => composer.renderSystem(system({ kind, texts: builtin[lang]! }))).not.toThrow();
    }
    const inv = composer.builtinSystemTexts('invitation').en!;
    const variables = { inviterName: 'Grace' };
    expect(composer.renderSystem(system({ kind: 'invitation', texts: inv, variables, autoAccept: true })).text).toContain('You were added');
    const manual = composer.renderSystem(system({ kind: 'invitation', texts: inv, variables, autoAccept: false })).text;
    expect(manual).toContain('accept the invitation');
    expect(manual).not.toContain('You were added');
  });

  it('takes escalation texts at run time, for a language without a file too, and drops them again', async () => {
    const c = new LiquidComposer({ from: 'Acme <n@chat.example.com>', logger: logger() });
    const e: EscalationEmail = {
      emailId: 'E1',
      createdAt: T,
      to: { id: 'x', name: 'Xavier', email: 'x@example.org', kind: 'customer', locale: 'fr-FR', timezone: 'UTC' },
      conversation: { id: 'C1', subject: 'Printer', url: 'https://c.example/C1' },
      messages: [{ id: 'M1', seq: 1, senderName: 'Alice', senderKind: 'user', body: 'Hi <there>', format: 'text', createdAt: T }],
      leftOut: 0,
      previousMessageIds: [],
      unsubscribeUrl: null,
    };
    expect((await c.compose('escalation', e)).template).toBe('escalation.en');
    c.setEscalationTexts('fr', { subject: 'Nouveaux messages: {{ conversation.subject }}', text: 'Bonjour {{ to.name }}', html: '<p>{% for m in messages %}{{ m.body }}{% endfor %}</p>' });
    const out = await c.compose('escalation', e);
    expect(out.subject).toBe('Nouveaux messages: Printer');
    expect(out.template).toBe('escalation.fr');
    expect(out.raw).toContain('Hi &lt;there&gt;');
    expect(c.builtinEscalationTexts('de').subject).toContain('{{');
    c.setEscalationTexts('fr', null);
    expect((await c.compose('escalation', e)).template).toBe('escalation.en');
  });

  it('turns text into HTML paragraphs and lines', () => {
    expect(textToHtml('a\nb\n\n\nc & d')).toBe('<p>a<br>b</p><p>c &#38; d</p>');
    expect(textToHtml('see https://a.example/x.')).toBe('<p>see <a href="https://a.example/x">https://a.example/x</a>.</p>');
  });
});
