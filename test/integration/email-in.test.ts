import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, TestHub } from '../support/hub.js';
import { fixture, type EmailFixture } from '../support/emails.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

const DOMAIN = 'reply.example.org';
const SUPPORT = 'support@example.org';
let counter = 0;
const fresh = (name: string) => `${name}.${Date.now()}.${++counter}@mail.example.com`;

type Outcome = { id: string; status: string; reason?: string; conversationId?: string; postedMessageId?: string };

describe('email in (SPEC §8) against the real hub', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  let smtpPort = 0;
  /** The escalation email anna got: its reply address and Message-ID (without brackets). */
  let replyTo = '';
  let answered = '';
  let conversationId = '';

  const postRaw = async (raw: Buffer): Promise<{ status: number; body: Outcome }> => {
    const res = await fetch(`http://127.0.0.1:${hub.port}/v1/inbound-emails`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'message/rfc822' }, body: raw });
    return { status: res.status, body: (await res.json()) as Outcome };
  };
  const post = (name: EmailFixture, vars: Parameters<typeof fixture>[1] = {}) =>
    postRaw(fixture(name, { REPLY_ADDRESS: replyTo, IN_REPLY_TO: answered, FROM: 'anna@example.com', MESSAGE_ID: fresh(name), ...vars }));
  const messages = async () => (await hub.ok('GET', `/v1/conversations/${conversationId}/messages?limit=200`)).messages as Array<{ id: string; body: string; source: string; senderId: string }>;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({
      env: {
        PARLEY_SMTP_URL: sink.url,
        PARLEY_ESCALATION_DELAY_MS: '300',
        PARLEY_INBOUND_DOMAIN: DOMAIN,
        PARLEY_INBOUND_SMTP_PORT: '0',
        PARLEY_SUPPORT_ADDRESS: SUPPORT,
        PARLEY_MAIL_FROM: 'Parley <parley@example.org>',
      },
    });
    smtpPort = Number(/"msg":"inbound smtp listening"[^\n]*"port":(\d+)/.exec(hub.output)?.[1]);
    await hub.user('ben', { name: 'Ben Agent' });
    await hub.customer('anna', { name: 'Anna Kowalski', email: 'anna@example.com' });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'ben', members: ['anna'], subject: 'Order 1234 delayed' });
    conversationId = conv.id;
    await new Promise((r) => setTimeout(r, 5));
    await hub.ok('POST', `/v1/conversations/${conversationId}/messages`, { senderId: 'ben', body: 'Your parcel is on its way.', clientMsgId: 'm1' });
    const [mail] = await until(() => sink.to('anna@example.com').length > 0 && sink.to('anna@example.com'), 'the escalation email');
    replyTo = mail!.header('reply-to')!.replace(/[<>]/g, '');
    answered = mail!.header('message-id')!.replace(/[<>]/g, '');
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  it('sends escalation emails with a reply address at the inbound domain, a marker line and a VERP envelope sender', async () => {
    expect(replyTo).toMatch(new RegExp(`^r[a-z0-9][a-z2-7]{32}@${DOMAIN.replace(/\./g, '\\.')}$`));
    const mail = sink.to('anna@example.com')[0]!;
    expect(mail.raw).toContain('##- Please type your reply above this line -##');
    expect(mail.from).toMatch(new RegExp(`^b[a-z0-9][a-z2-7]+@${DOMAIN.replace(/\./g, '\\.')}$`));
  });

  it('posts a Gmail reply as the customer with only the new text, raises seen, and answers a duplicate as such', async () => {
    const id = fresh('gmail');
    const first = await post('gmail-reply', { MESSAGE_ID: id });
    expect(first).toMatchObject({ status: 202, body: { status: 'posted', conversationId } });
    const posted = (await messages()).find((m) => m.id === first.body.postedMessageId)!;
    expect(posted).toMatchObject({ senderId: 'anna', source: 'email', body: 'Thanks, the tracking number works now.\nCould you also update the delivery address?' });
    const receipts = await hub.ok('GET', `/v1/messages/${(await messages())[0]!.id}/receipts`);
    expect(receipts.recipients.find((r: { participantId: string }) => r.participantId === 'anna').seenAt).not.toBeNull();
    const again = await post('gmail-reply', { MESSAGE_ID: id });
    expect(again.body).toMatchObject({ status: 'ignored', reason: 'duplicate' });
    expect((await messages()).filter((m) => m.source === 'email' && m.body.startsWith('Thanks, the tracking'))).toHaveLength(1);
  });

  it.each([
    ['outlook-reply', 'the invoice is attached to my previous mail. Please check again.'],
    ['apple-mail-reply', 'Sure, Tuesday at 10 works for me.'],
    ['html-only-reply', 'the replacement arrived, all good'],
    ['reply-in-cc', ''],
    ['with-attachment', 'Rechnung März.pdf'],
  ] as const)('posts a %s', async (name, text) => {
    const r = await post(name);
    expect(r.body).toMatchObject({ status: 'posted' });
    const body = (await messages()).find((m) => m.id === r.body.postedMessageId)!.body;
    expect(body).toContain(text);
    expect(body).not.toContain('Please type your reply');
    expect(body).not.toContain('Your parcel is on its way');
  });

  it('receives over SMTP: refuses unknown recipients at RCPT TO with 550 and posts a reply', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    const raw = fixture('signature', { REPLY_ADDRESS: replyTo, IN_REPLY_TO: answered, FROM: 'anna@example.com', MESSAGE_ID: fresh('smtp') });
    await transport.sendMail({ envelope: { from: 'anna@example.com', to: [replyTo] }, raw });
    await until(async () => (await messages()).some((m) => m.body === 'The parcel arrived this morning, thank you.'), 'the SMTP reply posted');
    await expect(transport.sendMail({ envelope: { from: 'x@example.com', to: [`nobody@${DOMAIN}`] }, raw })).rejects.toMatchObject({ responseCode: 550 });
    await expect(transport.sendMail({ envelope: { from: 'x@example.com', to: ['someone@example.com'] }, raw })).rejects.toMatchObject({ responseCode: 550 });
    transport.close();
  });

  it('ignores auto-replies and rejects forged senders and forged addresses', async () => {
    expect((await post('auto-reply')).body).toMatchObject({ status: 'ignored', reason: 'auto_reply' });
    expect((await post('ooo-exchange')).body).toMatchObject({ status: 'ignored', reason: 'auto_reply' });
    expect((await post('gmail-reply', { FROM: 'mallory@example.net' })).body).toMatchObject({ status: 'rejected', reason: 'sender_mismatch' });
    const tampered = replyTo.replace(/^(r.)(.)/, (_m, a: string, c: string) => a + (c === 'a' ? 'b' : 'a'));
    expect((await post('gmail-reply', { REPLY_ADDRESS: tampered, IN_REPLY_TO: 'nothing@example.com' })).body).toMatchObject({ status: 'rejected', reason: 'bad_signature' });
    expect((await post('gmail-reply', { REPLY_ADDRESS: 'someone@example.com', IN_REPLY_TO: 'nothing@example.com' })).body).toMatchObject({ status: 'rejected', reason: 'unknown_address' });
  });

  it('opens an inbox conversation for a customer writing to the support address, and the log keeps every email with its raw source', async () => {
    const r = await post('gmail-reply', { REPLY_ADDRESS: SUPPORT, IN_REPLY_TO: 'nothing@example.com', FROM: 'newcomer@example.net' });
    expect(r.body).toMatchObject({ status: 'posted' });
    const conv = await hub.ok('GET', `/v1/conversations/${r.body.conversationId}`);
    expect(conv).toMatchObject({ kind: 'inbox', visibility: 'external', subject: 'Re: [Parley] New message in "Order 1234 delayed"' });
    const log = (await hub.ok('GET', '/v1/inbound-emails?since=0&limit=1000')).inboundEmails as Array<{ id: string; status: string; from: string }>;
    expect(log.find((l) => l.id === r.body.id)).toMatchObject({ status: 'posted', from: 'newcomer@example.net' });
    const raw = await fetch(`http://127.0.0.1:${hub.port}/v1/inbound-emails/${r.body.id}/raw`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(raw.headers.get('content-type')).toContain('message/rfc822');
    expect(await raw.text()).toContain('From: Anna Kowalski <newcomer@example.net>');
  });

  it('marks an address bounced from a DSN; escalation then skips it with the receipt code bounced', async () => {
    await hub.customer('carl', { name: 'Carl', email: 'carl@example.com' });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'ben', members: ['carl'], subject: 'Bounce' });
    await new Promise((r) => setTimeout(r, 5));
    expect((await post('dsn-permanent', { FROM: 'carl@example.com', REPLY_ADDRESS: `bounce@${DOMAIN}` })).body).toMatchObject({ status: 'ignored', reason: 'bounce' });
    expect((await post('dsn-delay', { FROM: 'carl@example.com', REPLY_ADDRESS: `bounce2@${DOMAIN}` })).body).toMatchObject({ status: 'ignored', reason: 'bounce' });
    const { message } = await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'ben', body: 'hello?', clientMsgId: 'b1' });
    await until(async () => (await hub.ok('GET', `/v1/messages/${message.id}/receipts`)).recipients.find((r: { participantId: string; email: string }) => r.participantId === 'carl' && r.email === 'bounced'), 'receipt bounced');
  });

  it('rejects a reply from a participant who may no longer post there', async () => {
    await hub.customer('anna', { name: 'Anna Kowalski', email: 'anna@example.com', disabled: true });
    expect((await post('gmail-reply')).body).toMatchObject({ status: 'rejected', reason: 'forbidden' });
    await hub.customer('anna', { name: 'Anna Kowalski', email: 'anna@example.com' });
  });

  it('refuses a body that is not message/rfc822 and an oversize one', async () => {
    const wrong = await fetch(`http://127.0.0.1:${hub.port}/v1/inbound-emails`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'text/plain' }, body: 'hi' });
    expect(wrong.status).toBe(415);
    const malformed = await postRaw(fixture('malformed', { MESSAGE_ID: fresh('malformed') }));
    expect(malformed.status).toBe(202);
  });
});

describe('email in with PARLEY_INBOUND_REQUIRE_DMARC=1', () => {
  it('rejects a sender whose domain does not pass DMARC (sender_unverified), and posts nothing', async () => {
    const hub = await TestHub.start({ env: { PARLEY_SUPPORT_ADDRESS: SUPPORT, PARLEY_INBOUND_REQUIRE_DMARC: '1' } });
    try {
      const res = await fetch(`http://127.0.0.1:${hub.port}/v1/inbound-emails`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'message/rfc822' },
        body: fixture('gmail-reply', { REPLY_ADDRESS: SUPPORT, IN_REPLY_TO: 'nothing@example.com', FROM: 'newcomer@example.net', MESSAGE_ID: fresh('dmarc') }),
      });
      expect(await res.json()).toMatchObject({ status: 'rejected', reason: 'sender_unverified' });
      expect((await hub.api('GET', '/v1/participants/email.x')).status).toBe(404);
    } finally {
      await hub.stop();
    }
  });
});

describe('email in: hostile shapes get one outcome each and never crash the hub', () => {
  it('takes a 9 MB attachment, 1,000 recipients and header injection in names, and keeps serving', async () => {
    const hub = await TestHub.start({ env: { PARLEY_SUPPORT_ADDRESS: SUPPORT } });
    try {
      const send = async (raw: Buffer) => {
        const res = await fetch(`http://127.0.0.1:${hub.port}/v1/inbound-emails`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'message/rfc822' }, body: raw });
        return { status: res.status, body: (await res.json()) as Outcome };
      };
      const big = Buffer.from('A'.repeat(9 * 1024 * 1024)).toString('base64').replace(/.{76}/g, '$&\r\n');
      const attachment = Buffer.from(
        [
          `From: Big Sender <big@example.net>`,
          `To: ${SUPPORT}`,
          `Subject: Huge attachment`,
          `Message-ID: <${fresh('big')}>`,
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="b1"',
          '',
          '--b1',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'See the attached log.',
          '--b1',
          'Content-Type: application/octet-stream; name="log.bin"',
          'Content-Disposition: attachment; filename="log.bin"',
          'Content-Transfer-Encoding: base64',
          '',
          big.slice(0, 9 * 1024 * 1024),
          '--b1--',
          '',
        ].join('\r\n'),
      );
      const r1 = await send(attachment);
      expect([202, 413]).toContain(r1.status);
      const many = Array.from({ length: 1000 }, (_, i) => `r${i}@example.com`).join(', ');
      const r2 = await send(Buffer.from(`From: Many <many@example.net>\r\nTo: ${SUPPORT}, ${many}\r\nSubject: hi\r\nMessage-ID: <${fresh('many')}>\r\n\r\nHello all.\r\n`));
      expect(r2.body).toMatchObject({ status: 'posted' });
      const r3 = await send(Buffer.from(`From: "Eve\\r\\nBcc: x@example.com" <eve@example.net>\r\nTo: ${SUPPORT}\r\nSubject: =?utf-8?Q?a=0D=0AInjected:_yes?=\r\nMessage-ID: <${fresh('inj')}>\r\n\r\nHello.\r\n`));
      expect(r3.body).toMatchObject({ status: 'posted' });
      // No line break survives into a stored name or subject (header injection).
      const conv = await hub.ok('GET', `/v1/conversations/${r3.body.conversationId}`);
      expect(conv.subject).not.toMatch(/[\r\n]/);
      const eve = await hub.ok('GET', `/v1/participants/${encodeURIComponent(conv.members[0])}`);
      expect(eve.name).not.toMatch(/[\r\n]/);
      const log = (await hub.ok('GET', '/v1/inbound-emails?since=0')).inboundEmails as Array<{ id: string; subject: string }>;
      expect(log.find((l) => l.id === r3.body.id)?.subject).not.toMatch(/[\r\n]/);
      expect((await fetch(`http://127.0.0.1:${hub.port}/healthz`)).status).toBe(200);
    } finally {
      await hub.stop();
    }
  });
});
