import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { LiquidComposer, clip } from '../../../../server/adapters/email/liquid-composer.js';
import type { EscalationEmail, Logger } from '../../../../server/core/ports/index.js';
import { ROOT } from '../../../support/hub.js';

const T = Date.UTC(2026, 0, 15, 12, 30); // 12:30 UTC, 13:30 in Warsaw and Berlin

function email(over: Partial<EscalationEmail> = {}, to: Partial<EscalationEmail['to']> = {}): EscalationEmail {
  return {
    emailId: 'E1',
    createdAt: T,
    to: { id: 'carol@acme', name: 'Carol', email: 'carol@example.org', kind: 'customer', locale: 'en', timezone: 'UTC', ...to },
    conversation: { id: 'C1', subject: 'Printer on fire', url: 'https://chat.example.com/app/#/c/C1' },
    messages: [{ id: 'M1', seq: 1, senderName: 'Alice', senderKind: 'user', body: 'We are on it.', format: 'text', createdAt: T }],
    previousMessageIds: [],
    unsubscribeUrl: 'https://chat.example.com/u/tok',
    ...over,
  };
}

function logger(): Logger & { errors: Array<Record<string, unknown> | undefined> } {
  const errors: Array<Record<string, unknown> | undefined> = [];
  return { info() {}, warn() {}, error: (_m, f) => errors.push(f), errors };
}

const composer = new LiquidComposer({ from: 'Acme Support <notify@chat.example.com>', logger: logger() });
const parse = async (e: EscalationEmail) => {
  const out = await composer.compose(e);
  return { out, mail: await PostalMime.parse(out.raw) };
};
const header = (mail: Awaited<ReturnType<typeof PostalMime.parse>>, name: string) => mail.headers.find((h) => h.key === name)?.value;

describe('LiquidComposer', () => {
  it('writes the header recipe of EMAIL.md', async () => {
    const { out, mail } = await parse(email());
    expect(mail.messageId).toBe('<e.E1@chat.example.com>');
    expect(out.messageId).toBe('<e.E1@chat.example.com>');
    expect(header(mail, 'auto-submitted')).toBe('auto-generated');
    expect(header(mail, 'x-auto-response-suppress')).toBe('All');
    expect(header(mail, 'list-id')).toBe('"Printer on fire" <c.C1.chat.example.com>');
    expect(header(mail, 'feedback-id')).toBe('C1:escalation:parley');
    expect(header(mail, 'list-unsubscribe')).toBe('<https://chat.example.com/u/tok>');
    expect(header(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header(mail, 'precedence')).toBeUndefined();
    expect(mail.subject).toBe('[Acme Support] Printer on fire');
    expect(mail.to?.[0]?.address).toBe('carol@example.org');
  });

  it('threads on a stable root per conversation and recipient, then on earlier emails', async () => {
    const first = (await parse(email())).mail;
    const root = header(first, 'references')!;
    expect(first.inReplyTo).toBe(root);
    const second = (await parse(email({ emailId: 'E2', previousMessageIds: ['<e.E1@chat.example.com>'] }))).mail;
    expect(header(second, 'references')).toBe(`${root} <e.E1@chat.example.com>`);
    expect(second.inReplyTo).toBe('<e.E1@chat.example.com>');
    expect(second.subject).toBe(first.subject);
    // A participant id with '@' still gives a valid msg-id (one '@').
    expect(root.match(/@/g)).toHaveLength(1);
  });

  it('leaves List-Unsubscribe out of users’ emails', async () => {
    const { mail } = await parse(email({ unsubscribeUrl: null }, { kind: 'user' }));
    expect(header(mail, 'list-unsubscribe')).toBeUndefined();
    expect(header(mail, 'list-unsubscribe-post')).toBeUndefined();
  });

  it('escapes bodies in HTML and never interprets them as templates', async () => {
    const body = '<img src=x onerror=alert(1)> {{ 7 | times: 6 }} {% raw %}x{% endraw %}';
    const { mail } = await parse(email({ messages: [{ ...email().messages[0]!, body }] }));
    expect(mail.html).not.toContain('<img');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(mail.html).toContain('{{ 7 | times: 6 }}');
    expect(mail.html).not.toContain('42');
    expect(mail.text).toContain(body);
  });

  it('lists every message in order with sender and time in the recipient’s zone and language', async () => {
    const messages = [1, 2, 3].map((seq) => ({ id: `M${seq}`, seq, senderName: `Sender ${seq}`, senderKind: 'user' as const, body: `body ${seq}`, format: 'text' as const, createdAt: T }));
    const utc = (await parse(email({ messages }))).mail.text!;
    expect(utc.indexOf('body 1')).toBeLessThan(utc.indexOf('body 2'));
    expect(utc.indexOf('body 2')).toBeLessThan(utc.indexOf('body 3'));
    expect(utc).toContain('12:30');
    const warsaw = (await parse(email({ messages }, { locale: 'pl', timezone: 'Europe/Warsaw' }))).mail.text!;
    expect(warsaw).toContain('13:30');
    expect(warsaw).toContain('Dzień dobry Carol');
    const berlin = (await parse(email({}, { locale: 'de-AT', timezone: 'Europe/Berlin' }))).mail.text!;
    expect(berlin).toContain('Hallo Carol');
    expect(berlin).toContain('15.01.2026');
    const french = (await parse(email({}, { locale: 'fr', timezone: 'UTC' }))).mail.text!;
    expect(french).toContain('Hello Carol');
  });

  it('clips long bodies without splitting an emoji', () => {
    expect(clip('😀😀😀', 2)).toBe('😀😀 [...]');
    expect(clip('short', 10)).toBe('short');
  });

  it('falls back to English, naming the broken template, when a language’s template fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-templates-'));
    const src = join(ROOT, 'server', 'adapters', 'email', 'templates', 'escalation');
    mkdirSync(join(dir, 'escalation'));
    for (const f of readdirSync(src)) writeFileSync(join(dir, 'escalation', f), readFileSync(join(src, f)));
    writeFileSync(join(dir, 'escalation', 'de.text.liquid'), 'Hallo {{ to.name | no_such_filter }}');
    const log = logger();
    const broken = new LiquidComposer({ from: 'Acme <n@chat.example.com>', templatesDir: dir, logger: log });
    const out = await broken.compose(email({}, { locale: 'de' }));
    const mail = await PostalMime.parse(out.raw);
    expect(mail.text).toContain('Hello Carol');
    expect(log.errors.some((f) => String(f?.template).includes('de.text.liquid'))).toBe(true);
  });

  it('uses its built-in template when no template file can be read', async () => {
    const log = logger();
    const bare = new LiquidComposer({ from: 'Acme <n@chat.example.com>', templatesDir: mkdtempSync(join(tmpdir(), 'parley-empty-')), logger: log });
    const out = await bare.compose(email());
    expect(out.template).toBe('builtin.en');
    expect((await PostalMime.parse(out.raw)).text).toContain('We are on it.');
    expect(log.errors.length).toBeGreaterThan(0);
  });
});
