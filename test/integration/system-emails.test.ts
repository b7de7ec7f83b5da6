import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { SmtpSink, type Received } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

const DELAY_MS = 400;

describe('system emails and editable templates (NOTIFICATIONS §8)', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  const mailTo = (sink: SmtpSink, address: string, n = 1) => until(() => sink.to(address).length >= n && sink.to(address), `${n} email(s) to ${address}`);
  const send = (kind: string, to: string, variables?: Record<string, string>) => hub.api('POST', '/v1/system-emails', { kind, to, ...(variables ? { variables } : {}) });

  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url, PARLEY_OUTBOX_RETRY_BASE_MS: '200', PARLEY_ESCALATION_DELAY_MS: String(DELAY_MS) } });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  it('sends every kind in the participant language, with variables rendered, and escaped in the HTML part', async () => {
    await hub.user('dora', { name: 'Dora', locale: 'de-AT' });
    await hub.user('eric', { name: 'Eric', locale: 'fr-FR' });
    const variables = { resetUrl: 'https://app.example.com/reset?t=1&x=<script>', loginUrl: 'https://app.example.com/login', inviterName: 'Grace <Admin>', newEmail: 'dora.new@example.com', confirmUrl: 'https://app.example.com/confirm/1' };
    const subjects: Record<string, [string, string]> = {
      welcome: ['Willkommen, Dora', 'Welcome, Eric'],
      invitation: ['Sie wurden hinzugefügt von Grace <Admin>', 'You were added by Grace <Admin>'],
      password_reset: ['Passwort zurücksetzen', 'Reset your password'],
      email_change: ['Neue E-Mail-Adresse bestätigen', 'Confirm your new email address'],
    };
    let n = 0;
    for (const [kind, [de, en]] of Object.entries(subjects)) {
      n++;
      for (const who of ['dora', 'eric']) {
        const r = await send(kind, who, variables);
        expect(r.status).toBe(202);
        expect(r.body.emailId).toEqual(expect.any(String));
      }
      const [dora, eric] = [await mailTo(sink, 'dora@example.com', n), await mailTo(sink, 'eric@example.com', n)];
      expect(dora.at(-1)!.mail.subject).toBe(de);
      expect(eric.at(-1)!.mail.subject).toBe(en);
    }
    const reset = sink.to('dora@example.com').find((m) => m.mail.subject === 'Passwort zurücksetzen')!;
    expect(reset.mail.text).toContain('Hallo Dora');
    expect(reset.mail.text).toContain('https://app.example.com/reset?t=1&x=<script>');
    // The URL ends at `<`; the rest is escaped text.
    expect(reset.mail.html).toContain('<a href="https://app.example.com/reset?t=1&#38;x=">https://app.example.com/reset?t=1&#38;x=</a>&#60;script&#62;');
    expect(reset.mail.html).not.toContain('<script>');
    const invitation = sink.to('eric@example.com').find((m) => m.mail.subject?.startsWith('You were added'))!;
    expect(invitation.mail.html).toContain('Grace &#60;Admin&#62;');
    expect(invitation.header('auto-submitted')).toBe('auto-generated');
    const log = await hub.ok('GET', '/v1/emails?since=0');
    expect(log.emails.filter((e: { kind: string }) => e.kind === 'system').length).toBe(8);
  });

  it('says "you were added" with autoAcceptInvitations and "accept the invitation" without', async () => {
    await hub.user('auto', { name: 'Auto' });
    await hub.user('manual', { name: 'Manual' });
    await hub.ok('PATCH', '/v1/participants/manual/preferences', { email: { autoAcceptInvitations: false } });
    await send('invitation', 'auto', { inviterName: 'Grace' });
    await send('invitation', 'manual', { inviterName: 'Grace' });
    const [auto] = await mailTo(sink, 'auto@example.com');
    const [manual] = await mailTo(sink, 'manual@example.com');
    expect(auto!.mail.text).toContain('You were added');
    expect(auto!.mail.text).not.toContain('accept the invitation');
    expect(manual!.mail.subject).toBe('You are invited by Grace');
    expect(manual!.mail.text).toContain('Please accept the invitation');
    expect(manual!.mail.text).not.toContain('You were added');
  });

  it('ignores optOut', async () => {
    await hub.customer('opted', { name: 'Opted' });
    await hub.ok('PATCH', '/v1/participants/opted/preferences', { email: { optOut: true } });
    expect((await send('password_reset', 'opted', { resetUrl: 'https://x.example/r' })).status).toBe(202);
    const [mail] = await mailTo(sink, 'opted@example.org');
    expect(mail!.mail.subject).toBe('Reset your password');
  });

  it('answers 404 for an unknown participant and 409 for one without an email address', async () => {
    expect((await send('welcome', 'nobody-here')).status).toBe(404);
    await hub.bot('mailless');
    const r = await send('welcome', 'mailless');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('conflict');
  });

  it('skips a disabled kind and refuses to disable password_reset', async () => {
    const t = await hub.ok('GET', '/v1/system-emails/templates/email_change');
    expect(t.enabled).toBe(true);
    expect(Object.keys(t.messages).sort()).toEqual(['de', 'en']);
    await hub.ok('PUT', '/v1/system-emails/templates/email_change', { ...t, enabled: false });
    await hub.user('fred');
    const r = await send('email_change', 'fred');
    expect(r).toEqual({ status: 200, body: { emailId: null, skipped: 'disabled' } });
    const reset = await hub.ok('GET', '/v1/system-emails/templates/password_reset');
    const off = await hub.api('PUT', '/v1/system-emails/templates/password_reset', { ...reset, enabled: false });
    expect(off.status).toBe(409);
    expect(off.body.error.code).toBe('conflict');
    expect((await hub.api('GET', '/v1/system-emails/templates/nosuch')).status).toBe(404);
  });

  it('uses an edited template, refuses one that does not parse, and previews with sample values', async () => {
    const put = await hub.api('PUT', '/v1/system-emails/templates/welcome', { enabled: true, messages: { en: { subject: 'Hi {{ participant.name }}', body: 'Start here: {{ variables.loginUrl | upcase }}' } } });
    expect(put.status).toBe(200);
    expect((await hub.ok('GET', '/v1/system-emails/templates/welcome')).messages).toEqual({ en: { subject: 'Hi {{ participant.name }}', body: 'Start here: {{ variables.loginUrl | upcase }}' } });
    const bad = await hub.api('PUT', '/v1/system-emails/templates/welcome', { enabled: true, messages: { en: { subject: 'x', body: '{% if participant.name %}no end' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/template error: en body/);
    const filter = await hub.api('PUT', '/v1/system-emails/templates/welcome', { enabled: true, messages: { en: { subject: '{{ x | evil }}', body: 'b' } } });
    expect(filter.status).toBe(400);
    const huge = await hub.api('PUT', '/v1/system-emails/templates/welcome', { enabled: true, messages: { en: { subject: 'x', body: 'y'.repeat(20_001) } } });
    expect(huge.status).toBe(400);

    const preview = await hub.ok('POST', '/v1/system-emails/templates/password_reset/preview', { lang: 'de' });
    expect(preview.subject).toBe('Passwort zurücksetzen');
    expect(preview.text).toContain('Hallo Ada Lovelace');
    expect(preview.text).toContain('https://app.example.com/reset/sample-token');
    expect(preview.html).toContain('<a href="https://app.example.com/reset/sample-token">');
    const own = await hub.ok('POST', '/v1/system-emails/templates/invitation/preview', { template: { subject: '{{ variables.inviterName }} & {{ participant.email }}', body: '<{{ variables.projectName }}>' } });
    expect(own).toEqual({ subject: 'Grace Hopper & ada@example.com', text: '<Analytical Engine>', html: '<p>&#60;Analytical Engine&#62;</p>' });
    const broken = await hub.api('POST', '/v1/system-emails/templates/invitation/preview', { template: { subject: 'ok', body: '{{ participant.name | nosuchfilter }}' } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/nosuchfilter/);

    await hub.user('gina', { name: 'Gina' });
    await send('welcome', 'gina', { loginUrl: 'https://a.example/in' });
    const [mail] = await mailTo(sink, 'gina@example.com');
    expect(mail!.mail.subject).toBe('Hi Gina');
    expect(mail!.mail.text).toContain('Start here: HTTPS://A.EXAMPLE/IN');
  });

  it('previews the escalation email with the hub composer over a sample conversation: stored texts, unsaved texts, an agent or a customer', async () => {
    const url = (lang: string) => `/v1/templates/escalation/${lang}/preview`;
    // The built-in German texts, to the sample agent: the sample customer's messages, the preferences link.
    const de = await hub.ok('POST', url('de'), {});
    expect(de.subject).toMatch(/^\[.+\] The engine stops at column 7$/);
    expect(de.text).toContain('Hallo Ada Lovelace,');
    expect(de.text).toContain('Sie haben 3 ungelesene Nachrichten in „The engine stops at column 7“');
    expect(de.text).toContain('Charles Babbage — ');
    expect(de.text).toContain('It grinds when I turn the crank.');
    expect(de.text).toContain('https://app.example.com/app/#/preferences');
    expect(de.html).toContain('<strong>The engine stops at column 7</strong>');
    expect(de.html).not.toContain('{{');
    // To the sample customer: the agents' messages and the unsubscribe link instead.
    const customer = await hub.ok('POST', url('de'), { as: 'customer' });
    expect(customer.text).toContain('Hallo Charles Babbage,');
    expect(customer.text).toContain('Ada Lovelace — ');
    expect(customer.text).toContain('Keine solchen E-Mails mehr: https://app.example.com/u/sample-token');
    expect(customer.text).not.toContain('/app/#/preferences');

    // The delay it names is this hub's PARLEY_ESCALATION_DELAY_MS (400 ms: "a second"), not the default minute.
    const delay = await hub.ok('POST', url('en'), { template: { subject: 'Unread', text: 'within {{ delay }}', html: '<p>within {{ delay }}</p>' } });
    expect(delay.text).toBe('within a second');

    // Stored texts of a language without a file are what it renders.
    const fr = { subject: 'Non lu : {{ conversation.subject }}', text: 'Bonjour {{ to.name }} ({{ total }})', html: '<p>Bonjour {{ to.name }}</p>' };
    await hub.ok('PUT', '/v1/templates/escalation/fr', fr);
    expect(await hub.ok('POST', url('fr'), {})).toEqual({ subject: 'Non lu : The engine stops at column 7', text: 'Bonjour Ada Lovelace (3)', html: '<p>Bonjour Ada Lovelace</p>' });

    // Unsaved texts, rendered over the sample data (HTML escaped as in the sent email); nothing is stored.
    const mine = {
      subject: '{{ conversation.subject | upcase }}',
      text: '{% for m in messages %}{{ forloop.index }}. {{ m.senderName }}: {{ m.lines | join: " / " }}\n{% endfor %}',
      html: '<ul>{% for m in messages %}<li>{{ m.senderName }}: {{ m.lines.first }}</li>{% endfor %}</ul><a href="{{ unsubscribeUrl }}">stop</a> {{ "<b>" }}',
    };
    const own = await hub.ok('POST', url('en'), { template: mine, as: 'customer' });
    expect(own).toEqual({
      subject: 'THE ENGINE STOPS AT COLUMN 7',
      text: '1. Ada Lovelace: Thank you, we are looking into it.\n2. Grace Hopper: The workshop can come on Tuesday. / Please leave the crank where it is until then.\n',
      html: '<ul><li>Ada Lovelace: Thank you, we are looking into it.</li><li>Grace Hopper: The workshop can come on Tuesday.</li></ul><a href="https://app.example.com/u/sample-token">stop</a> &lt;b&gt;',
    });
    expect((await hub.ok('GET', '/v1/templates/escalation/en')).subject).not.toBe(mine.subject);

    // A template that does not parse, or does not render, is 400 with the reason.
    const unparsed = await hub.api('POST', url('en'), { template: { ...mine, html: '{% for m in messages %}' } });
    expect(unparsed.status).toBe(400);
    expect(unparsed.body.error.code).toBe('invalid');
    expect(unparsed.body.error.message).toMatch(/^template error: html: .*for/);
    const unrendered = await hub.api('POST', url('en'), { template: { ...mine, text: '{{ to.name | nosuchfilter }}' } });
    expect(unrendered.status).toBe(400);
    expect(unrendered.body.error.message).toMatch(/template error: text: .*nosuchfilter/);
    const deep = await hub.api('POST', url('en'), { template: { ...mine, text: '{% for i in (1..100000) %}{% for j in (1..100000) %}x{% endfor %}{% endfor %}' } });
    expect(deep.status).toBe(400);
    expect(deep.body.error.message).toMatch(/^template error: text: /);

    // Strict bodies, language codes, admin only.
    expect((await hub.api('POST', url('en'), { as: 'bot' })).status).toBe(400);
    expect((await hub.api('POST', url('en'), { template: mine, extra: 1 })).status).toBe(400);
    expect((await hub.api('POST', url('en'), { template: { subject: 'only a subject' } })).status).toBe(400);
    expect((await hub.api('POST', url('english!'), {})).status).toBe(400);
    await hub.user('preview-admin');
    await hub.user('preview-plain');
    const admin = (await hub.ok('POST', '/v1/tokens', { sub: 'preview-admin', admin: true })).token as string;
    const plain = (await hub.ok('POST', '/v1/tokens', { sub: 'preview-plain' })).token as string;
    expect((await hub.api('POST', url('de'), {}, { authorization: `Bearer ${admin}` })).status).toBe(200);
    expect((await hub.api('POST', url('de'), {}, { authorization: `Bearer ${plain}` })).status).toBe(403);
  });

  it('uses an edited escalation template for the next escalation email', async () => {
    const builtin = await hub.ok('GET', '/v1/templates/escalation/en');
    expect(builtin.subject).toContain('{{');
    const bad = await hub.api('PUT', '/v1/templates/escalation/en', { ...builtin, html: '{% for m in messages %}' });
    expect(bad.status).toBe(400);
    const mine = { subject: 'Edited: {{ conversation.subject }}', text: 'Edited text for {{ to.name }}{% for m in messages %}\n{{ m.body }}{% endfor %}', html: '<p>Edited html{% for m in messages %} {{ m.body }}{% endfor %}</p>' };
    await hub.ok('PUT', '/v1/templates/escalation/en', mine);
    expect(await hub.ok('GET', '/v1/templates/escalation/en')).toEqual(mine);

    await hub.user('hank');
    await hub.customer('ines', { name: 'Ines' });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'hank', members: ['ines'], subject: 'Printer' });
    await new Promise((r) => setTimeout(r, 5));
    await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'hank', body: 'We are on it <b>', clientMsgId: 'h-1' });
    const [mail] = await mailTo(sink, 'ines@example.org');
    expect(mail!.mail.subject).toBe('Edited: Printer');
    expect(mail!.mail.text).toContain('Edited text for Ines');
    expect(mail!.mail.html).toMatch(/<p>Edited html\s+We are on it &lt;b&gt;<\/p>/);
  });

  it('sends a system email ahead of notification emails queued before it', async () => {
    const own = await SmtpSink.start();
    const h = await TestHub.start({ env: { PARLEY_SMTP_URL: own.url, PARLEY_OUTBOX_RETRY_BASE_MS: '600000' } });
    try {
      await h.user('queue-agent', { queues: ['Raw'] });
      await h.user('urgent');
      await h.ok('POST', '/v1/notification-definitions', {
        name: 'Every ticket',
        events: ['NotificationNewTicket'],
        recipients: { relations: ['AgentMyQueues'] },
        transports: { email: { enabled: true } },
        messages: { en: { subject: 'Ticket <OTOBO_TICKET_TicketNumber>', body: 'New ticket' } },
      });
      const port = own.port;
      await own.stop();
      for (let i = 0; i < 50; i++) {
        await h.ok('POST', '/v1/events', { id: `ev-${i}`, type: 'NotificationNewTicket', itemId: `T${i}`, item: { kind: 'ticket', title: `T${i}`, number: String(i), queue: 'Raw' } });
      }
      expect((await h.api('POST', '/v1/system-emails', { kind: 'password_reset', to: 'urgent', variables: { resetUrl: 'https://x.example/r' } })).status).toBe(202);
      // Every row has failed once against the stopped sink; make them all due at once, so that only priority orders them.
      await until(async () => (await h.ok('GET', '/v1/emails?since=0')).emails.filter((e: { attempts: number }) => e.attempts > 0).length === 51, 'every row attempted once');
      await h.killWith('SIGTERM');
      const db = new Database(join(h.dataDir, 'parley.db'));
      db.prepare("UPDATE emails SET next_attempt_at = 0, lease_until = NULL WHERE status = 'queued'").run();
      db.close();
      await own.listen(port);
      await h.launch();
      await own.waitFor(51, 20_000);
      const order = own.received.map((m: Received) => m.to[0]);
      // The pool sends up to 8 at once (in claim order); the system email is among the first of them, not the 51st.
      expect(order.indexOf('urgent@example.com')).toBeLessThan(8);
    } finally {
      await h.stop();
      await own.stop();
    }
  });
});
