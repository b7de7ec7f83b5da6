import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { BODY_INDENT, LiquidComposer, clip, indentBody, oneLine } from '../../../../server/adapters/email/liquid-composer.js';
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
    leftOut: 0,
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
  const out = await composer.compose('escalation', e);
  return { out, mail: await PostalMime.parse(out.raw) };
};
/** Lines of a text part, split at every break a mail reader may honour. */
const lines = (text: string) => text.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/);
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

  describe('plain text cannot be forged by names and bodies (SPEC §5)', () => {
    const BREAKS = { CRLF: '\r\n', CR: '\r', LF: '\n', VT: '\v', FF: '\f', NEL: '\u0085', LS: '\u2028', PS: '\u2029' };
    const msg = (over: Partial<EscalationEmail['messages'][number]>) => ({ ...email().messages[0]!, ...over });

    it.each(Object.entries(BREAKS))('indents every line of a body after a %s under its sender line', async (_name, br) => {
      const body = `See you.${br}${br}Mallory — 10:00${br}fake`;
      const { mail } = await parse(email({ messages: [msg({ body }), msg({ id: 'M2', seq: 2, senderName: 'Bob', body: 'second' })] }));
      const text = lines(mail.text!);
      // Sender lines start at column 0; nothing of the body does.
      expect(text.filter((l) => / — /.test(l) && !l.startsWith(' ')).map((l) => l.split(' — ')[0])).toEqual(['Alice', 'Bob']);
      expect(text).toContain(`${BODY_INDENT}See you.`);
      expect(text).toContain(`${BODY_INDENT}Mallory — 10:00`);
      expect(text).toContain(`${BODY_INDENT}fake`);
      expect(text.some((l) => l.startsWith('Mallory') || l.startsWith('fake'))).toBe(false);
      // The HTML part shows the same lines, escaped, one <br> apart.
      expect(mail.html).toContain('See you.<br><br>Mallory — 10:00<br>fake');
    });

    it('keeps a body that starts with a break, or with a forged line, indented', async () => {
      const { mail } = await parse(email({ messages: [msg({ body: 'Mallory — 10:00\n' }), msg({ id: 'M2', seq: 2, body: '\nMallory — 10:01' })] }));
      const text = lines(mail.text!);
      expect(text.filter((l) => l.startsWith('Mallory'))).toEqual([]);
      expect(text.filter((l) => l === `${BODY_INDENT}Mallory — 10:00` || l === `${BODY_INDENT}Mallory — 10:01`)).toHaveLength(2);
    });

    it.each(Object.entries(BREAKS))('collapses a %s in names and the subject to a space', async (_name, br) => {
      const { mail, out } = await parse(
        email({ conversation: { id: 'C1', subject: `Printer${br}Bcc: x@evil.example`, url: 'https://chat.example.com/app/#/c/C1' }, messages: [msg({ senderName: `Alice${br}Mallory — 10:00${br}` })] }, { name: `Carol${br}Mallory` }),
      );
      expect(out.subject).toBe('[Acme Support] Printer Bcc: x@evil.example');
      expect(mail.subject).toBe(out.subject);
      expect(mail.bcc ?? []).toEqual([]);
      const text = lines(mail.text!);
      expect(text).toContain('Hello Carol Mallory,');
      expect(text.some((l) => l.startsWith('Alice Mallory — 10:00 — '))).toBe(true);
      expect(text.some((l) => l.startsWith('Mallory'))).toBe(false);
      expect(header(mail, 'list-id')).toBe('"Printer Bcc: x@evil.example" <c.C1.chat.example.com>');
      expect(mail.to?.[0]?.name).toBe('Carol Mallory');
    });

    it('turns other control characters into spaces and leaves tabs', () => {
      expect(oneLine(' Ann\u0000\t\u001b[31mX\u007f ')).toBe('Ann [31mX');
      expect(indentBody('a\tb\u0000c\u009bd')).toBe(`${BODY_INDENT}a\tb c d`);
      expect(indentBody('one\r\ntwo\n\nthree')).toBe(`${BODY_INDENT}one\n${BODY_INDENT}two\n${BODY_INDENT}\n${BODY_INDENT}three`);
    });
  });

  describe('an email over its caps', () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({ id: `M${i + 11}`, seq: i + 11, senderName: 'Alice', senderKind: 'user' as const, body: `body ${i + 11}`, format: 'text' as const, createdAt: T }));

    it('says in both parts how many earlier messages it leaves out', async () => {
      const { mail } = await parse(email({ messages, leftOut: 10 }));
      expect(mail.text).toContain('You have 60 unread messages');
      expect(mail.text).toContain('10 earlier messages are not shown — open the conversation to read them: https://chat.example.com/app/#/c/C1');
      expect(mail.html).toContain('10 earlier messages are not shown — <a href="https://chat.example.com/app/#/c/C1">open the conversation to read them</a>');
      // The notice comes before the messages it precedes.
      expect(mail.text!.indexOf('earlier messages')).toBeLessThan(mail.text!.indexOf('body 11'));
      const one = (await parse(email({ messages, leftOut: 1 }))).mail;
      expect(one.text).toContain('1 earlier message is not shown — open the conversation to read it');
      expect(one.html).toContain('1 earlier message is not shown');
    });

    it('says it in German and Polish too, and nothing when it leaves nothing out', async () => {
      const de = (await parse(email({ messages, leftOut: 12 }, { locale: 'de' }))).mail;
      expect(de.text).toContain('12 frühere Nachrichten werden hier nicht gezeigt');
      expect(de.html).toContain('12 frühere Nachrichten werden hier nicht gezeigt');
      const pl = (await parse(email({ messages, leftOut: 12 }, { locale: 'pl' }))).mail;
      expect(pl.text).toContain('Nie pokazano 12 wcześniejszych wiadomości');
      expect(pl.html).toContain('Nie pokazano 12 wcześniejszych wiadomości');
      const none = (await parse(email({ messages }))).mail;
      expect(none.text).not.toContain('not shown');
      expect(none.html).not.toContain('not shown');
      expect(none.text).toContain('You have 50 unread messages');
    });

    it('renders the built-in template’s notice when no template file can be read', async () => {
      const bare = new LiquidComposer({ from: 'Acme <n@chat.example.com>', templatesDir: mkdtempSync(join(tmpdir(), 'parley-empty-')), logger: logger() });
      const mail = await PostalMime.parse((await bare.compose('escalation', email({ messages, leftOut: 10 }))).raw);
      expect(mail.text).toContain('10 earlier message(s) not shown');
      expect(mail.html).toContain('10 earlier message(s) not shown');
      expect(lines(mail.text!)).toContain(`${BODY_INDENT}body 60`);
    });

    it('stays within its budget at the caps: 50 bodies of 4 KB render in time and memory', async () => {
      const big = messages.map((m) => ({ ...m, body: 'x'.repeat(1999) + '\n' + 'y'.repeat(2000) }));
      const { mail, out } = await parse(email({ messages: big, leftOut: 950 }));
      expect(out.template).toBe('escalation.en');
      expect(mail.text).toContain('950 earlier messages are not shown');
      expect(out.raw.length).toBeLessThan(1024 * 1024);
    });
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
    const out = await broken.compose('escalation', email({}, { locale: 'de' }));
    const mail = await PostalMime.parse(out.raw);
    expect(mail.text).toContain('Hello Carol');
    expect(log.errors.some((f) => String(f?.template).includes('de.text.liquid'))).toBe(true);
  });

  it('looks templates up by id and refuses an id it does not know', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-templates-'));
    mkdirSync(join(dir, 'escalation'));
    for (const part of ['subject', 'text', 'html']) writeFileSync(join(dir, 'escalation', `en.${part}.liquid`), `custom ${part} for {{ to.name }}`);
    const custom = new LiquidComposer({ from: 'Acme <n@chat.example.com>', templatesDir: dir, logger: logger() });
    const out = await custom.compose('escalation', email());
    expect(out.template).toBe('escalation.en');
    expect(out.subject).toBe('custom subject for Carol');
    await expect(custom.compose('no-such-template' as 'escalation', email())).rejects.toThrow(/unknown email template/);
  });

  it('uses its built-in template when no template file can be read', async () => {
    const log = logger();
    const bare = new LiquidComposer({ from: 'Acme <n@chat.example.com>', templatesDir: mkdtempSync(join(tmpdir(), 'parley-empty-')), logger: log });
    const out = await bare.compose('escalation', email());
    expect(out.template).toBe('builtin.en');
    expect((await PostalMime.parse(out.raw)).text).toContain('We are on it.');
    expect(log.errors.length).toBeGreaterThan(0);
  });
});
