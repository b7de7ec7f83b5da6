import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { dkimSign, type DNSResolver } from 'mailauth';
import { describe, expect, it } from 'vitest';
import { MailauthSenderAuth } from '../../../server/adapters/email-in/mailauth-sender-auth.js';
import { PostalReader } from '../../../server/adapters/email-in/postal-reader.js';
import { MAX_REPLY_PARSER_CHARS } from '../../../server/adapters/email-in/reply-text.js';
import { MalformedEmailError, type ParsedEmail } from '../../../server/core/ports/inbound.js';
import { EMAIL_FIXTURES, FIXTURE_DEFAULTS, FIXTURE_MARKER, fixture } from '../../support/emails.js';

const reader = new PostalReader();
const REPLY = FIXTURE_DEFAULTS.REPLY_ADDRESS;
const OURS = FIXTURE_DEFAULTS.IN_REPLY_TO;
/** Hostile inputs must finish well within this (vitest's per-test timeout, not a timing assertion). */
const NO_HANG_MS = 5_000;

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');
const parseFixture = (name: Parameters<typeof fixture>[0], vars = {}): Promise<ParsedEmail> =>
  reader.parse(fixture(name, vars));
const replyOf = async (name: Parameters<typeof fixture>[0]): Promise<string> =>
  reader.replyText(await parseFixture(name), FIXTURE_MARKER);
const textEmail = (text: string): ParsedEmail => emailWith({ text });
const htmlEmail = (html: string): ParsedEmail => emailWith({ html });

function emailWith(body: { text?: string; html?: string }): ParsedEmail {
  return {
    messageId: null,
    inReplyTo: null,
    references: [],
    from: null,
    to: [],
    cc: [],
    deliveredTo: [],
    returnPath: null,
    subject: '',
    date: null,
    headers: new Map(),
    text: body.text ?? null,
    html: body.html ?? null,
    attachments: [],
    bounce: null,
  };
}

/** Either a parse or MalformedEmailError: anything else is a bug. */
async function saneOrMalformed(raw: Uint8Array): Promise<ParsedEmail | MalformedEmailError> {
  try {
    return await reader.parse(raw);
  } catch (err) {
    if (err instanceof MalformedEmailError) return err;
    throw err;
  }
}

function nestedMultipart(depth: number): Buffer {
  const lines = ['From: deep@example.com', 'To: r@example.org', 'Subject: deep', 'MIME-Version: 1.0'];
  for (let i = 0; i < depth; i++) lines.push(`Content-Type: multipart/mixed; boundary="b${i}"`, '', `--b${i}`);
  lines.push('Content-Type: text/plain', '', 'bottom');
  for (let i = depth - 1; i >= 0; i--) lines.push(`--b${i}--`);
  return crlf(lines);
}

describe('PostalReader.parse', () => {
  it('reads a Gmail reply: ids without brackets, lowercased addresses, envelope headers, both bodies', async () => {
    const email = await parseFixture('gmail-reply', { FROM: 'Anna.Kowalski@Example.COM', MESSAGE_ID: 'CAF=x+1@mail.gmail.example.com' });
    expect(email.messageId).toBe('CAF=x+1@mail.gmail.example.com');
    expect(email.inReplyTo).toBe(OURS);
    expect(email.references).toEqual([OURS]);
    expect(email.from).toEqual({ name: 'Anna Kowalski', address: 'anna.kowalski@example.com' });
    expect(email.to).toEqual([{ name: 'Parley Support', address: REPLY }]);
    expect(email.cc).toEqual([]);
    expect(email.deliveredTo).toEqual([REPLY]);
    expect(email.returnPath).toBe('anna.kowalski@example.com');
    expect(email.subject).toBe('Re: [Parley] New message in "Order 1234 delayed"');
    expect(email.date).toBe(Date.parse('2026-12-07T14:02:03Z'));
    expect(email.text).toContain('Thanks, the tracking number works now.');
    expect(email.html).toContain('gmail_quote');
    expect(email.headers.get('dkim-signature')).toHaveLength(1);
    expect(email.attachments).toEqual([]);
    expect(email.bounce).toBeNull();
  });

  it('decodes an RFC 2047 From name (Apple Mail)', async () => {
    const email = await parseFixture('apple-mail-reply');
    expect(email.from).toEqual({ name: 'José García', address: FIXTURE_DEFAULTS.FROM });
    expect(email.messageId).toBe('apple-mail-reply@mail.example.com');
  });

  it('leaves text null for an HTML-only email', async () => {
    const email = await parseFixture('html-only-reply');
    expect(email.text).toBeNull();
    expect(email.html).toContain('<blockquote type="cite"');
  });

  it('leaves html null for a text-only email', async () => {
    expect((await parseFixture('signature')).html).toBeNull();
  });

  it('finds the reply address in Cc when To names someone else', async () => {
    const email = await parseFixture('reply-in-cc');
    expect(email.to.map((a) => a.address)).toEqual(['erik@example.com']);
    expect(email.cc).toEqual([{ name: 'Parley Support', address: REPLY }]);
    expect(email.deliveredTo).toEqual([]);
  });

  it('keeps every header under its lowercased name (auto-reply signs)', async () => {
    expect((await parseFixture('auto-reply')).headers.get('auto-submitted')).toEqual(['auto-replied (vacation)']);
    const ooo = await parseFixture('ooo-exchange');
    expect(ooo.headers.get('auto-submitted')).toEqual(['auto-generated']);
    expect(ooo.headers.get('x-auto-response-suppress')).toEqual(['All']);
    expect(ooo.headers.has('precedence')).toBe(false);
    expect(ooo.subject).toBe('Automatic reply: [Parley] New message in "Invoice 2026-118"');
    expect(ooo.text).toContain('nicht im Büro');
  });

  it('reads a permanent DSN: the failed recipient, 5.1.1, and our Message-ID from the returned headers', async () => {
    const email = await parseFixture('dsn-permanent', { FROM: 'Gone@Example.com' });
    expect(email.returnPath).toBe('');
    expect(email.bounce).toEqual({
      reports: [{ recipient: 'gone@example.com', action: 'failed', status: '5.1.1', permanent: true }],
      originalMessageId: OURS,
    });
  });

  it('reads a delay DSN as not permanent, with our Message-ID from the returned message/rfc822', async () => {
    const email = await parseFixture('dsn-delay', { IN_REPLY_TO: 'parley.c9.m1@example.org' });
    expect(email.bounce).toEqual({
      reports: [{ recipient: FIXTURE_DEFAULTS.FROM, action: 'delayed', status: '4.4.7', permanent: false }],
      originalMessageId: 'parley.c9.m1@example.org',
    });
  });

  it('marks Status 5.x.x permanent even when Action is not failed, and skips blocks without a recipient', async () => {
    const raw = crlf([
      'From: MAILER-DAEMON@mx.example.org',
      'To: b@example.org',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
      '',
      '--r',
      'Content-Type: text/plain',
      '',
      'Bounce.',
      '--r',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      '',
      'Original-Recipient: rfc822; <First@Example.com>',
      'Action: relayed',
      'Status: 5.7.1 (policy)',
      '',
      'Final-Recipient: rfc822; second@example.com',
      'Action: delivered',
      'Status: 2.0.0',
      '--r--',
    ]);
    expect((await reader.parse(raw)).bounce).toEqual({
      reports: [
        { recipient: 'first@example.com', action: 'relayed', status: '5.7.1', permanent: true },
        { recipient: 'second@example.com', action: 'delivered', status: '2.0.0', permanent: false },
      ],
      originalMessageId: null,
    });
  });

  it('does not take a multipart/report of another type for a bounce', async () => {
    const raw = crlf([
      'From: a@example.com',
      'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"',
      '',
      '--r',
      'Content-Type: text/plain',
      '',
      'Read.',
      '--r--',
    ]);
    expect((await reader.parse(raw)).bounce).toBeNull();
  });

  it('lists an attachment by name, type and size, never its content', async () => {
    const email = await parseFixture('with-attachment');
    expect(email.attachments).toEqual([{ filename: 'Rechnung März.pdf', contentType: 'application/pdf', size: 142 }]);
    expect(Object.keys(email.attachments[0] ?? {}).sort()).toEqual(['contentType', 'filename', 'size']);
  });

  it('collects every Delivered-To and X-Original-To, lowercased, once each', async () => {
    const raw = crlf([
      'Delivered-To: R1@Reply.Example.org',
      'X-Original-To: <r2@reply.example.org>',
      'Delivered-To: r1@reply.example.org',
      'From: a@example.com',
      'Message-ID: no-brackets@example.com',
      'In-Reply-To: <x@example.org> (Anna\'s message of Monday)',
      'References: <a@example.org>\r\n <b@example.org> <c@example.org>',
      '',
      'hi',
    ]);
    const email = await reader.parse(raw);
    expect(email.deliveredTo).toEqual(['r1@reply.example.org', 'r2@reply.example.org']);
    expect(email.messageId).toBe('no-brackets@example.com');
    expect(email.inReplyTo).toBe('x@example.org');
    expect(email.references).toEqual(['a@example.org', 'b@example.org', 'c@example.org']);
    expect(email.returnPath).toBeNull();
    expect(email.date).toBeNull();
  });

  it('flattens address groups', async () => {
    const email = await reader.parse(crlf(['From: a@example.com', 'To: team: B@example.com, c@example.com;, d@example.com', '', 'x']));
    expect(email.to.map((a) => a.address)).toEqual(['b@example.com', 'c@example.com', 'd@example.com']);
  });

  it('keeps CR, LF and other controls out of names, subject, header values and file names (header injection)', async () => {
    const word = (s: string): string => `=?utf-8?B?${Buffer.from(s).toString('base64')}?=`;
    const raw = crlf([
      `From: ${word('Eve\r\nBcc: victim@example.com')} <eve@example.com>`,
      `To: ${word('Bob\nX-Injected: 1')} <bob@example.org>`,
      `Subject: ${word('Hello\r\nBcc: victim@example.com')}`,
      `X-Custom: ${word('a\r\nb\u0000c')}`,
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: text/plain',
      '',
      'body',
      '--m',
      'Content-Type: application/octet-stream',
      `Content-Disposition: attachment; filename="${word('evil\r\n\u202Efdp.exe')}"`,
      '',
      'data',
      '--m--',
    ]);
    const email = await reader.parse(raw);
    const texts = [
      email.from?.name ?? '',
      ...email.to.map((a) => a.name),
      email.subject,
      ...[...email.headers.values()].flat(),
      ...email.attachments.map((a) => a.filename),
    ];
    for (const text of texts) expect(text).not.toMatch(/[\r\n\u0000\u202e]/);
    expect(email.from).toEqual({ name: 'Eve Bcc: victim@example.com', address: 'eve@example.com' });
    expect(email.subject).toBe('Hello Bcc: victim@example.com');
    expect(email.attachments[0]?.filename).toBe('evil fdp.exe');
  });

  it('parses every fixture without an error', async () => {
    for (const name of EMAIL_FIXTURES) {
      const email = await parseFixture(name);
      expect(email.from?.address, name).toBeTruthy();
    }
  });
});

describe('PostalReader limits and hostile input', () => {
  it('reads malformed MIME (broken boundaries, bad QP and base64) as far as it goes', { timeout: NO_HANG_MS }, async () => {
    const email = await parseFixture('malformed');
    expect(email.text).toContain('yes, please go ahead');
    expect(email.from?.address).toBe(FIXTURE_DEFAULTS.FROM);
  });

  it('reads an unknown charset and invalid bytes without throwing', { timeout: NO_HANG_MS }, async () => {
    const email = await parseFixture('broken-charset');
    expect(email.text).toContain('end of answer');
    expect(email.subject).toContain('broken');
    expect(reader.replyText(email, FIXTURE_MARKER)).toMatch(/^Caf.* end of answer$/);
  });

  it('refuses 100 levels of nested multiparts with MalformedEmailError', { timeout: NO_HANG_MS }, async () => {
    await expect(reader.parse(nestedMultipart(100))).rejects.toBeInstanceOf(MalformedEmailError);
  });

  it('reads nesting within its limit', async () => {
    expect((await reader.parse(nestedMultipart(10))).text).toContain('bottom');
    const deepReader = new PostalReader({ maxNestingDepth: 200 });
    expect((await deepReader.parse(nestedMultipart(100))).text).toContain('bottom');
  });

  it('reads 1,000 recipients', { timeout: NO_HANG_MS }, async () => {
    const to = Array.from({ length: 1000 }, (_, i) => `"Person ${i}" <p${i}@example.com>`).join(',\r\n ');
    const email = await reader.parse(crlf(['From: a@example.com', `To: ${to}`, `Cc: ${to}`, '', 'x']));
    expect(email.to).toHaveLength(1000);
    expect(email.cc[999]).toEqual({ name: 'Person 999', address: 'p999@example.com' });
  });

  it('refuses an email over maxBytes before parsing it', async () => {
    const small = new PostalReader({ maxBytes: 1024 });
    await expect(small.parse(crlf(['From: a@example.com', '', 'x'.repeat(2000)]))).rejects.toBeInstanceOf(MalformedEmailError);
    await expect(small.parse(crlf(['From: a@example.com', '', 'x'.repeat(100)]))).resolves.toBeTruthy();
  });

  it('refuses more parts than maxParts', { timeout: NO_HANG_MS }, async () => {
    const parts = Array.from({ length: 1500 }, () => '--p\r\nContent-Type: text/plain\r\n\r\nx').join('\r\n');
    const raw = Buffer.from(`From: a@example.com\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n${parts}\r\n--p--\r\n`);
    await expect(reader.parse(raw)).rejects.toBeInstanceOf(MalformedEmailError);
    await expect(new PostalReader({ maxParts: 2000 }).parse(raw)).resolves.toBeTruthy();
  });

  it('refuses headers over maxHeadersBytes', { timeout: NO_HANG_MS }, async () => {
    const raw = crlf(['From: a@example.com', ...Array.from({ length: 20_000 }, (_, i) => `X-Filler-${i}: ${'y'.repeat(60)}`), '', 'x']);
    await expect(reader.parse(raw)).rejects.toBeInstanceOf(MalformedEmailError);
  });

  it('reads empty input and input that is not MIME at all', async () => {
    expect((await reader.parse(new Uint8Array())).from).toBeNull();
    const junk = await saneOrMalformed(Buffer.from('\u0000\u00ff\r\n\r\n--\r\n:::\r\n'));
    expect(junk instanceof MalformedEmailError || junk.from === null).toBe(true);
  });

  it('answers any bytes with a parse or MalformedEmailError', { timeout: 20_000 }, async () => {
    const token = fc.constantFrom(
      'Content-Type: multipart/mixed; boundary="a"\r\n',
      'Content-Type: message/rfc822\r\n',
      'Content-Type: multipart/report; report-type=delivery-status; boundary=a\r\n',
      'Content-Type: message/delivery-status\r\n',
      'Content-Transfer-Encoding: base64\r\n',
      'Content-Transfer-Encoding: quoted-printable\r\n',
      'From: =?x-bad?Q?=FF?= <a@b>\r\n',
      '--a\r\n',
      '--a--\r\n',
      '\r\n',
      'Final-Recipient: rfc822; x@y\r\n',
      '=?utf-8?B?****?=',
      '>',
    );
    const chunk = fc.oneof(token, fc.string(), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')));
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 40 }), async (chunks) => {
        const result = await saneOrMalformed(Buffer.from(chunks.join(''), 'latin1'));
        if (!(result instanceof MalformedEmailError)) reader.replyText(result, FIXTURE_MARKER);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe('PostalReader.replyText', () => {
  it('keeps only the new text of a Gmail reply (plain part: wrapped "On … wrote:" and > quotes)', async () => {
    expect(await replyOf('gmail-reply')).toBe('Thanks, the tracking number works now.\nCould you also update the delivery address?');
  });

  it('keeps only the new text of a Gmail reply from its HTML (div.gmail_quote)', async () => {
    const email = await parseFixture('gmail-reply');
    expect(reader.replyText({ ...email, text: null }, FIXTURE_MARKER)).toBe(
      'Thanks, the tracking number works now.\nCould you also update the delivery address?',
    );
  });

  it('keeps only the new text of an Outlook reply (plain part: -----Original Message-----, signature)', async () => {
    expect(await replyOf('outlook-reply')).toBe('Hello,\n\nthe invoice is attached to my previous mail. Please check again.');
  });

  it('keeps only the new text of an Outlook reply from its HTML (#appendonsend, #divRplyFwdMsg)', async () => {
    const email = await parseFixture('outlook-reply');
    expect(reader.replyText({ ...email, text: null }, FIXTURE_MARKER)).toBe(
      'Hello,\n\nthe invoice is attached to my previous mail. Please check again.',
    );
  });

  it('keeps only the new text of an Apple Mail reply, plain and HTML (blockquote type=cite)', async () => {
    expect(await replyOf('apple-mail-reply')).toBe('Sure, Tuesday at 10 works for me.');
    const email = await parseFixture('apple-mail-reply');
    expect(reader.replyText({ ...email, text: null }, FIXTURE_MARKER)).toBe('Sure, Tuesday at 10 works for me.');
  });

  it('turns an HTML-only reply into its new text', async () => {
    expect(await replyOf('html-only-reply')).toBe('Hi Ben,\n\nthe replacement arrived, all good – thank you!\n\nCarla');
  });

  it('strips a "-- " signature and a Mutt attribution', async () => {
    expect(await replyOf('signature')).toBe('The parcel arrived this morning, thank you.');
  });

  it('keeps the new text of a reply in Cc and of a reply with an attachment', async () => {
    expect(await replyOf('reply-in-cc')).toBe('Erik, please sign the renewal before Friday.\nSupport team: Erik will send the signed copy.');
    expect(await replyOf('with-attachment')).toBe('Here is the invoice again.');
  });

  it('cuts at the marker line even when it is not quoted and its spacing changed', () => {
    const text = 'Fine by me.\n\n##-  Please type your reply\u00a0above this line  -##\nBen wrote: old text';
    expect(reader.replyText(textEmail(text), FIXTURE_MARKER)).toBe('Fine by me.');
  });

  it('strips quotes without our marker too: German "Am … schrieb …:" and an Outlook From/Sent block', () => {
    const german = 'Passt, danke!\n\nAm 07.12.2026 um 14:45 schrieb Parley Support <x@reply.example.org>:\n> alter Text';
    expect(reader.replyText(textEmail(german), FIXTURE_MARKER)).toBe('Passt, danke!');
    const outlook = 'Agreed.\n\nFrom: Parley Support <x@reply.example.org>\nSent: Monday, December 7, 2026 2:45 PM\nTo: Max\n\nold text';
    expect(reader.replyText(textEmail(outlook), FIXTURE_MARKER)).toBe('Agreed.');
  });

  it('cuts Outlook HTML at #divRplyFwdMsg whatever language its From/Sent labels are in', () => {
    const html =
      '<div>Zgoda, dziękuję.</div><div id="appendonsend"></div><hr>' +
      '<div id="divRplyFwdMsg"><b>Od:</b> Parley Support<br><b>Wysłano:</b> poniedziałek<br></div>' +
      '<div><p>Stara wiadomość.</p></div>';
    expect(reader.replyText(htmlEmail(html), FIXTURE_MARKER)).toBe('Zgoda, dziękuję.');
  });

  it('cuts at quote headers in a reply too long for email-reply-parser', () => {
    const long = Array.from({ length: 200 }, (_, i) => `Line ${i} of a long answer.`).join('\n');
    expect(long.length).toBeGreaterThan(MAX_REPLY_PARSER_CHARS);
    const outlook = `${long}\n\n-----Original Message-----\nFrom: Parley Support <x@reply.example.org>\nSent: Monday\n\nold text`;
    expect(reader.replyText(textEmail(outlook), FIXTURE_MARKER)).toBe(long);
    const gmail = `${long}\n\nOn Mon, Dec 7, 2026 at 2:45 PM Parley Support <x@reply.example.org>\nwrote:\n\n> old text`;
    expect(reader.replyText(textEmail(gmail), FIXTURE_MARKER)).toBe(long);
  });

  it('keeps a line of the reply that merely ends in "wrote:" when the reply goes on', () => {
    const text = 'On Monday my colleague wrote:\nthe server is down again.';
    expect(reader.replyText(textEmail(text), FIXTURE_MARKER)).toBe(text);
  });

  it('keeps interleaved answers and drops the quoted lines between them', () => {
    const text = '> Does Tuesday work?\nYes.\n\n> And 10:00?\nBetter 11:00.';
    expect(reader.replyText(textEmail(text), FIXTURE_MARKER)).toBe('Yes.\nBetter 11:00.');
  });

  it('is empty when nothing but quotes, a signature or the marker is left', () => {
    expect(reader.replyText(textEmail(`${FIXTURE_MARKER}\nold`), FIXTURE_MARKER)).toBe('');
    expect(reader.replyText(textEmail('> quoted only\n> more'), FIXTURE_MARKER)).toBe('');
    expect(reader.replyText(htmlEmail('<blockquote type="cite">old</blockquote>'), FIXTURE_MARKER)).toBe('');
    expect(reader.replyText(emailWith({}), FIXTURE_MARKER)).toBe('');
  });

  it('uses the HTML when the text part is blank', () => {
    const email = emailWith({ text: '  \n', html: '<p>From the HTML</p><div class="gmail_quote">old</div>' });
    expect(reader.replyText(email, FIXTURE_MARKER)).toBe('From the HTML');
  });

  it('finishes on text crafted against email-reply-parser\'s quadratic patterns', { timeout: NO_HANG_MS }, () => {
    const crafted = 'abc. x skrev y\n'.repeat(Math.ceil((4 * MAX_REPLY_PARSER_CHARS) / 15));
    const out = reader.replyText(textEmail(`${crafted}-- \nsig\n> quoted`), FIXTURE_MARKER);
    expect(out.startsWith('abc. x skrev y')).toBe(true);
    expect(out).not.toContain('sig');
    expect(out).not.toContain('quoted');
  });

  it('finishes on 10,000 nested HTML elements and on 1 MB of lines ending in a colon', { timeout: NO_HANG_MS }, () => {
    const deep = `${'<div>'.repeat(10_000)}deep${'</div>'.repeat(10_000)}<p>top</p>`;
    expect(reader.replyText(htmlEmail(deep), FIXTURE_MARKER)).toContain('top');
    const colons = `On a ${'<a@b> '.repeat(40)}wrote:\n`.repeat(4000);
    expect(typeof reader.replyText(textEmail(colons), FIXTURE_MARKER)).toBe('string');
  });
});

describe('MailauthSenderAuth', () => {
  const notFound = (name: string): Error => Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  function fakeResolver(records: Record<string, string[][]>): DNSResolver {
    return async (name, rrtype) => {
      const found = records[`${rrtype} ${name.toLowerCase()}`];
      if (found === undefined) throw notFound(name);
      return found;
    };
  }
  const DNS = {
    'TXT example.com': [['v=spf1 ip4:192.0.2.10 -all']],
    'TXT _dmarc.example.com': [['v=DMARC1; p=reject']],
  };
  const message = (from: string): Buffer =>
    crlf([`From: Anna <${from}>`, 'To: r@reply.example.org', 'Subject: hi', 'Message-ID: <m1@example.com>', 'Date: Mon, 7 Dec 2026 14:00:00 +0000', '', 'Hello.', '']);

  it('passes a From domain whose SPF designates the client IP (aligned)', async () => {
    const auth = new MailauthSenderAuth({ resolver: fakeResolver(DNS), mta: 'mx.example.org' });
    const verdict = await auth.dmarc(message('anna@example.com'), { mailFrom: 'anna@example.com', clientIp: '192.0.2.10', helo: 'mail.example.com' });
    expect(verdict).toBe('pass');
  });

  it('fails a From domain with a DMARC policy when neither SPF nor DKIM passes', async () => {
    const auth = new MailauthSenderAuth({ resolver: fakeResolver(DNS), mta: 'mx.example.org' });
    const verdict = await auth.dmarc(message('anna@example.com'), { mailFrom: 'anna@example.com', clientIp: '198.51.100.7', helo: 'evil.example.net' });
    expect(verdict).toBe('fail');
  });

  it('passes on an aligned DKIM signature even when SPF fails', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const raw = message('anna@example.com');
    const signed = await dkimSign(raw, {
      signatureData: [{ signingDomain: 'example.com', selector: 's1', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) }],
    } as unknown as Parameters<typeof dkimSign>[1]);
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const resolver = fakeResolver({ ...DNS, 'TXT s1._domainkey.example.com': [[`v=DKIM1; k=rsa; p=${spki}`]] });
    const auth = new MailauthSenderAuth({ resolver, mta: 'mx.example.org' });
    const verdict = await auth.dmarc(Buffer.concat([Buffer.from(signed.signatures), raw]), {
      mailFrom: 'anna@example.com',
      clientIp: '198.51.100.7',
      helo: 'relay.example.net',
    });
    expect(verdict).toBe('pass');
  });

  it('answers none for a domain without a DMARC record', async () => {
    const auth = new MailauthSenderAuth({ resolver: fakeResolver(DNS) });
    expect(await auth.dmarc(message('bob@example.net'), { mailFrom: 'bob@example.net', clientIp: '192.0.2.10', helo: null })).toBe('none');
  });

  it('fails a message with two From addresses', async () => {
    const auth = new MailauthSenderAuth({ resolver: fakeResolver(DNS) });
    const raw = crlf(['From: a@example.com, b@example.org', 'Subject: x', '', 'x']);
    expect(await auth.dmarc(raw, { mailFrom: 'a@example.com', clientIp: '192.0.2.10', helo: null })).toBe('fail');
  });

  it('settles quickly without DNS: refused lookups and a resolver that never answers', { timeout: NO_HANG_MS }, async () => {
    const refused: DNSResolver = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    const env = { mailFrom: 'anna@example.com', clientIp: '192.0.2.10', helo: null };
    expect(['fail', 'none']).toContain(await new MailauthSenderAuth({ resolver: refused }).dmarc(message('anna@example.com'), env));
    const silent: DNSResolver = () => new Promise(() => undefined);
    expect(await new MailauthSenderAuth({ resolver: silent, timeoutMs: 200 }).dmarc(message('anna@example.com'), env)).toBe('fail');
  });
});
