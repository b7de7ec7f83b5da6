import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, startHelpdesk, type Helpdesk } from '../../web/demo/helpdesk.js';
import { adminUrl, DEMO_APPOINTMENT, seedMessagingCenter, type MessagingDemo } from '../../web/demo/messaging.js';
import { axeSerious, launchChromium, SHOTS } from '../support/browser.js';
import { API_KEY, JWT_SECRET, TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

type EmailRow = { id: string; to: string; subject: string; kind: string; status: string; attempts: number; error: string | null };

/**
 * The messaging center's templates, broadcasts and outbox/inbox screens (NOTIFICATIONS §7, §8) in the
 * agent app, as an admin uses them: real Chromium, a real hub sending to a real SMTP sink, the demo
 * helpdesk and the demo's own messaging seed (web/demo/messaging.ts).
 */
describe('messaging center: templates, broadcasts, outbox and inbox', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  let helpdesk: Helpdesk;
  let seeded: MessagingDemo;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;

  /** Goes to an admin route: the first time through the admin link, then by changing the hash as a click would. */
  const visit = async (route: string) => {
    if (page.url().startsWith(`${hub.url}/app/`)) await page.evaluate((r) => (location.hash = r), `#${route}`);
    else await page.goto(adminUrl(hub.url, helpdesk.url, seeded.adminToken, route));
  };
  const noSeriousAxe = async (name: string) => expect(await axeSerious(page, name)).toEqual([]);
  const outbox = async () => (await hub.ok<{ emails: EmailRow[] }>('GET', `/v1/emails?since=0&limit=1000&order=desc`)).emails;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url, PARLEY_OUTBOX_RETRY_BASE_MS: '300', PARLEY_ESCALATION_DELAY_MS: '3600000' } });
    const access = { hubUrl: hub.url, apiKey: API_KEY, jwtSecret: JWT_SECRET };
    await seedDemo(access);
    await hub.user('dan', { name: 'Dan Ops', groups: ['support'] });
    await hub.user('erin', { name: 'Erin Ops', groups: [{ id: 'support', permission: 'ro' }] });
    await hub.user('fay', { name: 'Fay Field' });
    // The demo's own seeding: the YAML import, the calendar and appointment, Alice's admin token.
    seeded = await seedMessagingCenter(access, { reminderInMs: 1_500 });
    helpdesk = await startHelpdesk(access);
    browser = await launchChromium();
    // bypassCSP: axe-core is injected as an inline script; the app's own CSP allows only its files.
    ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    ctx.setDefaultTimeout(15_000);
    page = await ctx.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.close();
    await hub?.stop();
    await sink?.stop();
  });

  it('the demo seeding imports web/demo/notifications.yml, and its appointment reminder reaches the calendar group by email', async () => {
    expect(seeded.imported.errors).toEqual([]);
    expect([...seeded.imported.added, ...seeded.imported.updated].sort()).toEqual([
      'Demo: appointment reminder',
      'Demo: new ticket for the support team',
      'Demo: the customer answered',
      'Demo: ticket moved to another queue',
    ]);
    const defs = (await hub.ok<{ definitions: Array<{ name: string; valid: string; type: string }> }>('GET', '/v1/notification-definitions')).definitions;
    expect(defs.find((d) => d.name === 'Demo: ticket moved to another queue')?.valid).toBe('invalid');
    expect(defs.find((d) => d.name === 'Demo: appointment reminder')?.type).toBe('appointment');
    // The reminder (resource Alice; the calendar's group: Alice, Bob, Dan, Erin) arrives by email, rendered, once each.
    const isReminder = (subject: string | undefined) => subject?.startsWith(`Reminder: ${DEMO_APPOINTMENT.title}`) === true;
    await until(() => sink.received.filter((m) => isReminder(m.mail.subject)).length >= 4, 'the reminder emails', 20_000);
    const reminders = sink.received.filter((m) => isReminder(m.mail.subject));
    expect(reminders.map((m) => m.to[0]).sort()).toEqual(['alice@helpdesk.test', 'bob@helpdesk.test', 'dan@example.com', 'erin@example.com']);
    expect(reminders.find((m) => m.to[0] === 'alice@helpdesk.test')!.mail.text).toContain('Hi Alice,');
  });

  it('edits a system email template beside its live preview, per language, and saves it', async () => {
    await visit('/admin/templates');
    const editor = page.getByTestId('system-template');
    await editor.waitFor();
    expect(await editor.getAttribute('data-kind')).toBe('welcome');
    const subject = page.getByTestId('preview-subject');
    await expect.poll(() => subject.textContent()).not.toBe('');
    await noSeriousAxe('admin templates');

    await editor.getByLabel('Subject').fill('Hello {{ participant.name }}, your account is ready');
    await expect.poll(() => subject.textContent()).toBe('Hello Ada Lovelace, your account is ready');
    await editor.getByLabel('Body').fill('Sign in here: {{ variables.loginUrl }}\n\nThe team');
    await expect.poll(() => page.getByTestId('preview-text').textContent()).toBe('Sign in here: https://app.example.com/login\n\nThe team');
    await page.screenshot({ path: join(SHOTS, 'admin-templates-1280.png') });

    // A template that does not parse says why, and the last good preview stays.
    await editor.getByLabel('Subject').fill('Hello {{ participant.name');
    await expect.poll(() => page.getByTestId('preview-error').textContent()).toMatch(/\S/);
    expect(await subject.textContent()).toBe('Hello Ada Lovelace, your account is ready');
    await editor.getByLabel('Subject').fill('Hello {{ participant.name }}, your account is ready');
    await expect.poll(() => page.getByTestId('preview-error').count()).toBe(0);

    await editor.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('template-status').textContent()).toBe('Saved');
    let stored = await hub.ok<{ enabled: boolean; messages: Record<string, { subject: string; body: string }> }>('GET', '/v1/system-emails/templates/welcome');
    expect(stored.messages.en).toEqual({ subject: 'Hello {{ participant.name }}, your account is ready', body: 'Sign in here: {{ variables.loginUrl }}\n\nThe team' });

    // A language of its own, starting from the texts on screen.
    await editor.getByLabel('Add a language').fill('fr');
    await editor.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => editor.locator('[data-lang="fr"]').getAttribute('aria-pressed')).toBe('true');
    await editor.getByLabel('Subject').fill('Bonjour {{ participant.name }}');
    await expect.poll(() => subject.textContent()).toBe('Bonjour Ada Lovelace');
    await editor.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('template-status').textContent()).toBe('Saved');
    stored = await hub.ok('GET', '/v1/system-emails/templates/welcome');
    expect(stored.messages.fr?.subject).toBe('Bonjour {{ participant.name }}');
    expect(stored.messages.en?.subject).toBe('Hello {{ participant.name }}, your account is ready');

    // Turning the welcome email off is saved at once, and the hub then skips it.
    await editor.getByLabel('Send this email').uncheck();
    await expect.poll(async () => (await hub.ok('GET', '/v1/system-emails/templates/welcome')).enabled).toBe(false);
    expect(await hub.api('POST', '/v1/system-emails', { kind: 'welcome', to: 'dan' })).toEqual({ status: 200, body: { emailId: null, skipped: 'disabled' } });
    await editor.getByLabel('Send this email').check();
    await expect.poll(async () => (await hub.ok('GET', '/v1/system-emails/templates/welcome')).enabled).toBe(true);
  });

  it('keeps the password reset email on, and says why', async () => {
    await visit('/admin/templates');
    await page.locator('.tpl-kinds [data-kind="password_reset"]').click();
    const editor = page.locator('[data-testid="system-template"][data-kind="password_reset"]');
    await editor.waitFor();
    const toggle = editor.getByLabel('Send this email');
    expect(await toggle.isChecked()).toBe(true);
    expect(await toggle.isDisabled()).toBe(true);
    expect(await page.getByTestId('locked-reason').textContent()).toContain('cannot be turned off');
    await expect.poll(() => page.getByTestId('preview-subject').textContent()).not.toBe('');
    await page.screenshot({ path: join(SHOTS, 'admin-password-reset-locked-1280.png') });
    // The hub holds the line too, whatever a page sends.
    const t = await hub.ok('GET', '/v1/system-emails/templates/password_reset');
    expect((await hub.api('PUT', '/v1/system-emails/templates/password_reset', { ...t, enabled: false })).status).toBe(409);
  });

  it('edits the escalation email per language beside the preview the hub renders as one types, with the reason when a template breaks', async () => {
    await visit('/admin/templates');
    await page.locator('.tpl-kinds [data-kind="escalation"]').click();
    const editor = page.getByTestId('escalation-template');
    await editor.getByLabel('Subject').waitFor();
    await expect.poll(() => editor.getByLabel('Subject').inputValue()).toContain('{{ conversation.subject }}');
    // The built-in English texts, rendered by the hub over its sample conversation to a sample agent.
    const subject = page.getByTestId('preview-subject');
    const text = page.getByTestId('preview-text');
    await expect.poll(() => subject.textContent()).toMatch(/^\[.+\] The engine stops at column 7$/);
    expect(await text.textContent()).toContain('Charles Babbage');
    expect(await text.textContent()).toContain('https://app.example.com/app/#/preferences');
    expect(await page.getByTestId('preview-note').textContent()).toContain('Rendered by the hub');

    // The preview follows the texts as they are typed, unsaved.
    await editor.locator('[data-lang="de"]').click();
    await expect.poll(() => editor.getByLabel('Text part').inputValue()).toContain('{{');
    await editor.getByLabel('Subject').fill('[{{ site }}] Ungelesen: {{ conversation.subject | upcase }}');
    await expect.poll(() => subject.textContent()).toMatch(/^\[.+\] Ungelesen: THE ENGINE STOPS AT COLUMN 7$/);
    await editor.getByLabel('Text part').fill('Hallo {{ to.name }}!\n{% for m in messages %}{{ forloop.index }}. {{ m.senderName }}\n{% endfor %}Stop: {{ unsubscribeUrl }}');
    await expect.poll(() => text.textContent()).toBe('Hallo Ada Lovelace!\n1. Charles Babbage\n2. Charles Babbage\n3. Grace Hopper\nStop: ');
    // A customer's email: the agents wrote, and it says how to stop them.
    await page.getByLabel('Sample recipient').selectOption('customer');
    await expect.poll(() => text.textContent()).toBe('Hallo Charles Babbage!\n1. Ada Lovelace\n2. Grace Hopper\nStop: https://app.example.com/u/sample-token');
    // The HTML part as the hub rendered it, shown without scripts, styles or images.
    await page.getByRole('button', { name: 'HTML', exact: true }).click();
    await expect.poll(() => page.getByTestId('preview-html').textContent()).toContain('Ada Lovelace');
    expect(await page.getByTestId('preview-html').textContent()).toContain('Keine solchen E-Mails mehr');
    expect(await page.getByTestId('preview-html').locator('script, style, img').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'admin-escalation-template-1280.png') });
    await noSeriousAxe('admin escalation template');

    // A broken template: the hub's reason, and the last good preview stays.
    await editor.getByLabel('Subject').fill('{{ conversation.subject | nosuchfilter }}');
    await expect.poll(() => page.getByTestId('preview-error').textContent()).toMatch(/template error: subject: .*nosuchfilter/);
    expect(await subject.textContent()).toMatch(/Ungelesen: THE ENGINE STOPS AT COLUMN 7$/);
    await editor.getByLabel('Subject').fill('{{ conversation.subject | downcase }}');
    await expect.poll(() => page.getByTestId('preview-error').count()).toBe(0);
    expect(await subject.textContent()).toBe('the engine stops at column 7');

    await editor.getByLabel('Text part').fill((await hub.ok<{ text: string }>('GET', '/v1/templates/escalation/de')).text);
    await editor.getByLabel('Subject').fill('[{{ site }}] Ungelesen: {{ conversation.subject }}');
    await editor.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('template-status').textContent()).toBe('Saved');
    expect((await hub.ok('GET', '/v1/templates/escalation/de')).subject).toBe('[{{ site }}] Ungelesen: {{ conversation.subject }}');
    // The hub checks the syntax: a broken template is not saved, and the page says why.
    await editor.getByLabel('Subject').fill('[{{ site }}] {% if %}');
    await editor.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('template-status').textContent()).toMatch(/^Not saved: /);
    expect((await hub.ok('GET', '/v1/templates/escalation/de')).subject).toBe('[{{ site }}] Ungelesen: {{ conversation.subject }}');
  });

  it('a broadcast shows how many it reaches, asks to confirm, and reaches exactly that many', async () => {
    await visit('/admin/broadcasts');
    const form = page.getByRole('form', { name: 'New broadcast' });
    await form.getByLabel('Subject').fill('Printer maintenance tonight');
    await form.getByLabel('Body').fill('The colour printers are serviced from 22:00.\nPlease print before then.');
    const groups = page.locator('[data-picker="groups"]');
    await groups.getByLabel('Support', { exact: true }).or(groups.getByLabel('support', { exact: true })).check();
    const count = page.getByTestId('broadcast-count');
    // Alice and Dan (read-write), Bob and Erin (read-only).
    await expect.poll(() => count.textContent()).toBe('Reaches 4 people.');
    await groups.getByRole('combobox').selectOption('rw');
    await expect.poll(() => count.textContent()).toBe('Reaches 2 people.');
    await groups.getByRole('combobox').selectOption('ro');
    await expect.poll(() => count.textContent()).toBe('Reaches 4 people.');
    await page.locator('[data-picker="users"]').getByLabel('Filter users').fill('fay');
    await page.locator('[data-picker="users"]').getByRole('checkbox', { name: /Fay Field/ }).check();
    await expect.poll(() => count.textContent()).toBe('Reaches 5 people.');
    await page.screenshot({ path: join(SHOTS, 'admin-broadcast-compose-1280.png'), fullPage: true });
    await noSeriousAxe('admin broadcast compose');

    await page.getByRole('button', { name: 'Review and send…' }).click();
    const confirm = page.getByTestId('broadcast-confirm');
    await confirm.waitFor();
    expect(await page.getByTestId('confirm-count').textContent()).toBe('5 people');
    await page.screenshot({ path: join(SHOTS, 'admin-broadcast-confirm-1280.png'), fullPage: true });
    // Nothing goes out before the confirmation.
    expect(sink.received.filter((m) => m.mail.subject === 'Printer maintenance tonight')).toHaveLength(0);
    await confirm.getByRole('button', { name: 'Send to 5 people' }).click();

    const status = page.getByTestId('broadcast-status');
    await expect.poll(() => status.getAttribute('data-done'), { timeout: 20_000 }).toBe('true');
    expect(await page.getByTestId('bc-sent').textContent()).toBe('5');
    expect(await page.getByTestId('bc-queued').textContent()).toBe('0');
    expect(await page.getByTestId('bc-failed').textContent()).toBe('0');
    const mails = sink.received.filter((m) => m.mail.subject === 'Printer maintenance tonight');
    expect(mails.map((m) => m.to[0]).sort()).toEqual(['alice@helpdesk.test', 'bob@helpdesk.test', 'dan@example.com', 'erin@example.com', 'fay@example.com']);
    await page.screenshot({ path: join(SHOTS, 'admin-broadcast-sent-1280.png') });
    await noSeriousAxe('admin broadcast status');
  });

  it('the outbox shows an email failing through an SMTP outage, then sent on a later attempt; a refused one failed', async () => {
    await sink.stop();
    const { emailId } = await hub.ok<{ emailId: string }>('POST', '/v1/system-emails', { kind: 'invitation', to: 'dan', variables: { inviterName: 'Alice Martin' } });
    await visit('/admin/logs');
    const outboxPanel = page.getByTestId('outbox');
    await outboxPanel.waitFor();
    const row = page.locator(`tr[data-email="${emailId}"]`);
    const refresh = page.getByTestId('logs-refresh');
    // Refreshed by hand, as an admin would, until the failed attempt shows.
    await until(async () => {
      await refresh.click();
      return (await row.count()) > 0 && (await row.getByTestId('email-status').textContent()) === 'retrying';
    }, 'the failed attempt in the outbox');
    expect(await row.getByTestId('email-error').textContent()).toMatch(/\S/);
    expect(Number(await row.getByTestId('email-attempts').textContent())).toBeGreaterThanOrEqual(1);
    expect(await row.textContent()).toContain('dan@example.com');
    await page.screenshot({ path: join(SHOTS, 'admin-outbox-outage-1280.png') });

    await sink.listen();
    await until(async () => {
      await refresh.click();
      return (await row.getByTestId('email-status').textContent()) === 'sent';
    }, 'the retry sent', 30_000);
    expect(Number(await row.getByTestId('email-attempts').textContent())).toBeGreaterThan(1);
    const api = (await outbox()).find((e) => e.id === emailId)!;
    expect(api).toMatchObject({ status: 'sent', kind: 'system' });
    expect(api.attempts).toBeGreaterThan(1);

    // A recipient the server refuses (550): failed for good, found by the status filter.
    sink.reject.add('erin@example.com');
    const refused = (await hub.ok<{ emailId: string }>('POST', '/v1/system-emails', { kind: 'password_reset', to: 'erin', variables: { resetUrl: 'https://app.example.com/reset/x' } })).emailId;
    await until(async () => (await outbox()).find((e) => e.id === refused)?.status === 'failed', 'the refused email failed');
    await page.getByLabel('Status', { exact: true }).selectOption('failed');
    await expect.poll(() => page.locator('tr[data-email]').count()).toBe(1);
    expect(await page.locator(`tr[data-email="${refused}"]`).getByTestId('email-status').textContent()).toBe('failed');
    await page.getByLabel('Status', { exact: true }).selectOption('');
    await page.getByLabel('Kind', { exact: true }).selectOption('broadcast');
    await expect.poll(() => page.locator('tr[data-email]').count()).toBe(5);
    await page.getByLabel('Kind', { exact: true }).selectOption('');
    await expect.poll(() => page.locator('tr[data-email]').count()).toBe((await outbox()).length);
    // Newest first.
    expect(await page.locator('tr[data-email]').first().getAttribute('data-email')).toBe(refused);
    await page.screenshot({ path: join(SHOTS, 'admin-outbox-1280.png'), fullPage: true });
    await noSeriousAxe('admin outbox');

    // The raw source, as text.
    await row.getByRole('button', { name: /^Raw/ }).click();
    const raw = page.getByTestId('raw-text');
    await expect.poll(() => raw.textContent()).toContain('To: ');
    expect(await raw.textContent()).toContain('dan@example.com');
    expect(await raw.textContent()).toMatch(/^Subject: /m);
    await page.screenshot({ path: join(SHOTS, 'admin-outbox-raw-1280.png') });
    await noSeriousAxe('admin raw email');
    await page.getByTestId('raw-dialog').getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => page.getByTestId('raw-dialog').count()).toBe(0);
  }, 90_000);

  it('the inbox lists received email with its outcome and raw source', async () => {
    const raw = [
      'From: Carol Diaz <carol@customer.test>',
      'To: somebody@elsewhere.test',
      'Subject: Is my printer fixed?',
      'Message-ID: <inbox-e2e-1@customer.test>',
      'Date: Mon, 07 Dec 2026 10:00:00 +0000',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Just asking.',
      '',
    ].join('\r\n');
    const res = await fetch(`${hub.url}/v1/inbound-emails`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'message/rfc822' }, body: raw });
    expect(res.status).toBe(202);
    const outcome = (await res.json()) as { id: string; status: string; reason?: string };

    await visit('/admin/logs');
    await page.getByRole('button', { name: 'Inbox (received email)' }).click();
    const row = page.locator(`tr[data-inbound="${outcome.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId('inbound-status').textContent()).toBe(outcome.status);
    expect(await row.textContent()).toContain('Is my printer fixed?');
    if (outcome.reason) expect(await row.textContent()).toContain(outcome.reason.replace(/_/g, ' '));
    await page.getByLabel('Outcome', { exact: true }).selectOption(outcome.status === 'posted' ? 'ignored' : 'posted');
    await expect.poll(() => page.locator(`tr[data-inbound="${outcome.id}"]`).count()).toBe(0);
    await page.getByLabel('Outcome', { exact: true }).selectOption(outcome.status);
    await row.waitFor();
    await page.screenshot({ path: join(SHOTS, 'admin-inbox-1280.png') });
    await noSeriousAxe('admin inbox');
    await row.getByRole('button', { name: /^Raw/ }).click();
    await expect.poll(() => page.getByTestId('raw-text').textContent()).toContain('Just asking.');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('raw-dialog').count()).toBe(0);
  });

  it('a user without an admin token gets 403 from these routes and a not-allowed page', async () => {
    const plain = await hub.token('bob');
    const as = (method: string, path: string, body?: unknown) =>
      fetch(`${hub.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${plain}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const broadcast = { subject: 's', body: 'b', users: ['bob'] };
    const calls: Array<[string, string, unknown?]> = [
      ['GET', '/v1/system-emails/templates/welcome'],
      ['PUT', '/v1/system-emails/templates/welcome', { enabled: true, messages: { en: { subject: 's', body: 'b' } } }],
      ['POST', '/v1/system-emails/templates/welcome/preview', {}],
      ['GET', '/v1/templates/escalation/en'],
      ['GET', '/v1/notification-definitions/choices'],
      ['POST', '/v1/broadcasts/count', broadcast],
      ['POST', '/v1/broadcasts', broadcast],
      ['GET', '/v1/emails?order=desc'],
      ['GET', '/v1/inbound-emails'],
    ];
    for (const [method, path, body] of calls) expect((await as(method, path, body)).status, `${method} ${path}`).toBe(403);
    expect(sink.received.filter((m) => m.mail.subject === 's')).toHaveLength(0);

    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const bob = await other.newPage();
      await bob.goto(`${hub.url}/app/#helpdesk=${encodeURIComponent(helpdesk.url)}&token=${plain}&route=${encodeURIComponent('/admin/broadcasts')}`);
      await expect.poll(() => bob.getByTestId('admin-denied').textContent(), { timeout: 15_000 }).toContain('not allowed');
      expect(await bob.locator('.admin-broadcasts').count()).toBe(0);
    } finally {
      await other.close();
    }
  });
});
