import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDefinition } from '../../protocol/notifications.js';
import { axeSerious, launchChromium, SHOTS } from '../support/browser.js';
import { ROOT, TestHub } from '../support/hub.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'otobo');

/**
 * The messaging center's notification screens (NOTIFICATIONS §3, §5, §8) in the agent app: an admin
 * lists, creates, edits, copies, switches, deletes, previews, imports and exports definitions; a plain
 * agent sees none of it. Real Chromium against a real hub; every change is checked through the API.
 */
describe('messaging center: notification definitions', () => {
  let hub: TestHub;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let adminToken: string;

  const defs = async () => (await hub.ok<{ definitions: NotificationDefinition[] }>('GET', '/v1/notification-definitions')).definitions;
  const byName = async (name: string) => (await defs()).find((d) => d.name === name);
  const row = (name: string) => page.locator(`tr[data-definition="${name}"]`);
  /** The app at a route, signed in with `token` (the helpdesk is the hub itself: no directory, which the admin screens do not need). */
  const appUrl = (token: string, route: string) => `${hub.url}/app/#helpdesk=${encodeURIComponent(hub.url)}&token=${encodeURIComponent(token)}&route=${encodeURIComponent(route)}`;
  const toList = async () => {
    // Read afresh: the test changes definitions through the API behind the page's back.
    await page.evaluate(() => (location.hash = '/admin/definitions'));
    await page.reload();
    await page.getByRole('heading', { name: 'Notifications', exact: true }).waitFor();
  };

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.user('root', { name: 'Ada Admin' });
    await hub.user('ann', { name: 'Ann Agent', locale: 'en' });
    await hub.user('bob', { name: 'Bob Builder', outOfOffice: true });
    await hub.customer('carol', { name: 'Carol Customer' });
    await hub.ok('PUT', '/v1/items/T-1', { kind: 'ticket', title: 'Printer on fire', number: '1001', queue: 'Support', status: 'new', ownerId: 'ann', responsibleId: 'bob', customerId: 'carol' });
    adminToken = (await hub.ok<{ token: string }>('POST', '/v1/tokens', { sub: 'root', admin: true, ttlSeconds: 3600 })).token;
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true, acceptDownloads: true });
    ctx.setDefaultTimeout(15_000);
    page = await ctx.newPage();
    await page.goto(appUrl(adminToken, '/'));
    await page.getByRole('link', { name: 'Admin' }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'admin-link-1280.png') });
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Messaging center' }).waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Notifications', exact: true }).waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('a plain agent sees no Admin link, #/admin says it is not allowed, and the API answers 403', async () => {
    const plain = await hub.token('ann');
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    other.setDefaultTimeout(15_000);
    const p = await other.newPage();
    const asked = p.waitForResponse((r) => new URL(r.url()).pathname === '/v1/notification-definitions');
    await p.goto(appUrl(plain, '/'));
    expect((await asked).status()).toBe(403);
    await p.locator('.me').waitFor();
    expect(await p.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    await p.evaluate(() => (location.hash = '/admin'));
    await p.getByTestId('admin-denied').filter({ hasText: 'not allowed' }).waitFor();
    expect(await p.getByRole('table').count()).toBe(0);
    const res = await fetch(`${hub.url}/v1/notification-definitions`, { headers: { authorization: `Bearer ${plain}` } });
    expect(res.status).toBe(403);
    await other.close();
  });

  it('the list shows name, type, validity, events and transports; axe finds nothing serious', async () => {
    expect(await page.getByRole('link', { name: 'Notifications', exact: true }).getAttribute('aria-current')).toBe('page');
    // A new hub's built-ins (§6).
    const builtIn = row('Assignment changes');
    await builtIn.waitFor();
    expect(await builtIn.textContent()).toContain('built-in');
    expect(await builtIn.textContent()).toContain('ItemAssignmentUpdate');
    expect(await builtIn.getByRole('switch').getAttribute('aria-checked')).toBe('true');
    await page.screenshot({ path: join(SHOTS, 'admin-definitions-list-1280.png'), fullPage: true });
    expect(await axeSerious(page, 'definitions list')).toEqual([]);
  });

  it('creates a definition with the keyboard; an incomplete one shows the hub’s field errors beside the form', async () => {
    await page.getByRole('link', { name: 'Add notification' }).click();
    await page.getByRole('heading', { name: 'New notification' }).waitFor();
    // Nothing filled in: the hub's 400 names the fields.
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const problems = page.getByTestId('form-problems');
    await problems.filter({ hasText: 'Not saved' }).waitFor();
    expect(await problems.textContent()).toContain('events');
    expect(await page.locator('#def-events-error').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'admin-definition-errors-1280.png'), fullPage: true });

    // The editor with the keyboard only.
    await page.locator('#def-name').focus();
    await page.keyboard.type('Owner hears of new tickets');
    await page.keyboard.press('Tab');
    await page.keyboard.type('For the ticket owner');
    await page.locator('#def-events').focus();
    await page.keyboard.type('TicketCreate');
    await page.keyboard.press('Enter');
    await page.getByRole('checkbox', { name: /^Owner/ }).focus();
    await page.keyboard.press('Space');
    await page.getByRole('checkbox', { name: /^Responsible/ }).focus();
    await page.keyboard.press('Space');
    await page.locator('#def-agents').focus();
    await page.keyboard.type('Ann Agent');
    await page.keyboard.press('Enter');
    await page.getByRole('checkbox', { name: 'Web notification' }).focus();
    await page.keyboard.press('Space');
    await page.locator('#def-subject-en').focus();
    await page.keyboard.type('New: <OTOBO_TICKET_Title> for <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>');
    await page.locator('#def-body-en').focus();
    await page.keyboard.type('Ticket <OTOBO_TICKET_TicketNumber> is waiting.');
    await page.screenshot({ path: join(SHOTS, 'admin-definition-editor-1280.png'), fullPage: true });
    expect(await axeSerious(page, 'definition editor')).toEqual([]);
    await page.getByRole('button', { name: 'Create', exact: true }).focus();
    await page.keyboard.press('Enter');

    await row('Owner hears of new tickets').waitFor();
    expect(await page.getByTestId('flash').textContent()).toContain('Created');
    const text = await row('Owner hears of new tickets').textContent();
    expect(text).toContain('TicketCreate');
    expect(text).toContain('email, web');
    const d = await byName('Owner hears of new tickets');
    expect(d).toMatchObject({
      comment: 'For the ticket owner',
      valid: 'valid',
      type: 'ticket',
      events: ['TicketCreate'],
      recipients: { relations: ['AgentOwner', 'AgentResponsible'], agents: ['ann'], groups: [], roles: [] },
      transports: { email: { enabled: true }, web: { enabled: true } },
      messages: { en: { subject: 'New: <OTOBO_TICKET_Title> for <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>', body: 'Ticket <OTOBO_TICKET_TicketNumber> is waiting.', contentType: 'text/plain' } },
    });
  });

  it('edits every kind of field and saves them all', async () => {
    await page.getByRole('link', { name: 'Owner hears of new tickets', exact: true }).click();
    await page.getByRole('heading', { name: /Edit “Owner hears of new tickets”/ }).waitFor();
    await page.locator('#def-comment').fill('Owner and responsible');
    await page.locator('#def-valid').selectOption('invalid-temporarily');
    await page.locator('#def-events').fill('ArticleCreate');
    await page.getByRole('button', { name: 'Add to Events' }).click();
    // Filters (collapsed while empty).
    await page.getByText('Ticket filter').click();
    await page.locator('#def-filter-queue').fill('Support');
    await page.locator('#def-filter-queue').press('Enter');
    await page.locator('#def-filter-priority').fill('3 normal');
    await page.locator('#def-filter-priority').press('Enter');
    await page.getByRole('checkbox', { name: 'Locked', exact: true }).check();
    await page.locator('#def-new-field').fill('Product');
    await page.getByRole('button', { name: 'Add field filter' }).click();
    await page.locator('#def-field-Product').fill('Widget');
    await page.locator('#def-field-Product').press('Enter');
    await page.getByText('Article filter').click();
    await page.getByRole('group', { name: 'Sender' }).getByRole('checkbox', { name: 'Customer' }).check();
    await page.getByRole('group', { name: 'Channel' }).getByRole('checkbox', { name: 'Email' }).check();
    await page.locator('#def-article-visible').selectOption('yes');
    await page.locator('#def-article-subject').fill('urgent');
    // Recipients.
    await page.locator('#def-groups').fill('support');
    await page.locator('#def-groups').press('Enter');
    await page.locator('#def-roles').fill('supervisors');
    await page.locator('#def-roles').press('Enter');
    await page.getByRole('button', { name: 'Remove Ann Agent from Agents' }).click();
    await page.getByRole('checkbox', { name: 'Send also when the recipient is out of office' }).check();
    await page.getByRole('checkbox', { name: /Once per day/ }).check();
    // Transports.
    await page.locator('#def-extra').fill('desk@example.com');
    await page.locator('#def-extra').press('Enter');
    await page.locator('#def-unseen').fill('5');
    await page.locator('#def-security').selectOption('SMIMESign');
    await page.locator('#def-missing-signing').selectOption('send_unsigned');
    await page.getByRole('group', { name: 'Web and SMS' }).getByRole('checkbox', { name: 'SMS' }).check();
    // Agent preferences.
    await page.locator('#def-visible').selectOption('mandatory');
    await page.locator('#def-tooltip').fill('About your own tickets');
    await page.getByRole('group', { name: 'Enabled by default' }).getByRole('checkbox', { name: 'Email' }).check();
    // A second language, in HTML.
    await page.locator('#def-new-lang').fill('de');
    await page.getByRole('button', { name: 'Add language' }).click();
    await page.locator('#def-subject-de').fill('Neu: <OTOBO_TICKET_Title>');
    await page.locator('#def-body-de').fill('<p>Ticket wartet.</p>');
    await page.locator('#def-content-type-de').selectOption('text/html');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await row('Owner hears of new tickets').waitFor();

    const d = await byName('Owner hears of new tickets');
    expect(d).toMatchObject({
      comment: 'Owner and responsible',
      valid: 'invalid-temporarily',
      events: ['TicketCreate', 'ArticleCreate'],
      filter: { queue: ['Support'], priority: ['3 normal'], lock: ['lock'], fields: { Product: ['Widget'] } },
      articleFilter: { senderKind: ['customer'], channel: ['email'], visibleForCustomer: true, subject: 'urgent' },
      recipients: { relations: ['AgentOwner', 'AgentResponsible'], agents: [], groups: ['support'], roles: ['supervisors'] },
      sendOnOutOfOffice: true,
      oncePerDay: true,
      transports: {
        email: { enabled: true, extraAddresses: ['desk@example.com'], onlyIfUnseenMs: 300_000, security: { mode: 'SMIMESign', missingSigningKeys: 'send_unsigned', missingCryptingKeys: 'skip' } },
        web: { enabled: true },
        sms: { enabled: true },
      },
      agentPreferences: { visible: 'mandatory', tooltip: 'About your own tickets', enabledByDefault: ['email'] },
      messages: { de: { subject: 'Neu: <OTOBO_TICKET_Title>', body: '<p>Ticket wartet.</p>', contentType: 'text/html' } },
    });
    expect(await row('Owner hears of new tickets').getByRole('switch').textContent()).toBe('Invalid temporarily');
  });

  it('the validity switch turns a definition off and on', async () => {
    const name = 'Owner hears of new tickets';
    await row(name).getByRole('switch').click();
    await expect.poll(async () => (await byName(name))?.valid).toBe('valid');
    await expect.poll(() => row(name).getByRole('switch').getAttribute('aria-checked')).toBe('true');
    await row(name).getByRole('switch').click();
    await expect.poll(async () => (await byName(name))?.valid).toBe('invalid');
    await expect.poll(() => row(name).getByRole('switch').getAttribute('aria-checked')).toBe('false');
    // Nothing else changed on the way.
    expect((await byName(name))?.transports.sms).toEqual({ enabled: true });
  });

  it('copies a definition under a new name', async () => {
    await page.getByRole('button', { name: 'Copy Owner hears of new tickets' }).click();
    await row('Owner hears of new tickets (copy)').waitFor();
    const [original, copy] = [await byName('Owner hears of new tickets'), await byName('Owner hears of new tickets (copy)')];
    expect(copy?.id).not.toBe(original?.id);
    expect(copy?.events).toEqual(original?.events);
    expect(copy?.messages).toEqual(original?.messages);
  });

  it('deletes behind a dialog that keeps the focus and closes on Escape; a built-in is refused with 409, said plainly', async () => {
    const name = 'Owner hears of new tickets (copy)';
    const del = page.getByRole('button', { name: `Delete ${name}` });
    await del.click();
    const dialog = page.getByRole('dialog', { name: `Delete “${name}”?` });
    await dialog.waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim());
    expect(await focused()).toBe('Cancel');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Delete');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Cancel');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('Delete');
    await page.screenshot({ path: join(SHOTS, 'admin-definition-delete-dialog-1280.png') });
    expect(await axeSerious(page, 'delete dialog')).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Delete ${name}`);
    expect(await byName(name)).toBeDefined();

    await del.click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row(name).waitFor({ state: 'detached' });
    expect(await byName(name)).toBeUndefined();

    await page.getByRole('button', { name: 'Delete Assignment changes' }).click();
    const builtIn = page.getByRole('dialog', { name: 'Delete “Assignment changes”?' });
    await builtIn.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('confirm-problem').filter({ hasText: 'built in: it cannot be deleted' }).waitFor();
    await builtIn.getByRole('button', { name: 'Close' }).click();
    await builtIn.waitFor({ state: 'detached' });
    expect(await byName('Assignment changes')).toBeDefined();
  });

  it('previews a definition: the subject rendered for a recipient, who would get it and who not, and why', async () => {
    const created = await hub.ok<NotificationDefinition>('POST', '/v1/notification-definitions', {
      name: 'Preview me',
      events: ['TicketCreate'],
      recipients: { relations: ['AgentOwner', 'AgentResponsible'] },
      transports: { email: { enabled: true } },
      messages: { en: { subject: 'Ticket <OTOBO_TICKET_Title> for <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>', body: 'Hello <OTOBO_NOTIFICATION_RECIPIENT_UserFullname>' } },
    });
    const emailsBefore = (await hub.ok<{ emails: unknown[] }>('GET', '/v1/emails')).emails.length;
    await toList();
    await page.getByRole('link', { name: 'Preview Preview me' }).click();
    await page.getByRole('heading', { name: 'Preview “Preview me”' }).waitFor();
    await page.locator('#preview-event').fill('TicketCreate');
    // The choices come from the hub: the item and the agents by name.
    await page.locator('#preview-target option[value="T-1"]').waitFor({ state: 'attached' });
    await page.locator('#preview-target').selectOption('T-1');
    await page.locator('#preview-recipient').selectOption('ann');
    await page.getByRole('button', { name: 'Show preview' }).click();
    await page.getByTestId('preview-result').waitFor();
    expect(await page.getByTestId('rendered-subject').textContent()).toBe('Ticket Printer on fire for Ann');
    expect(await page.getByTestId('would-send').textContent()).toContain('Ann Agent — email');
    // Bob is responsible but out of office.
    const skipped = page.getByTestId('skipped').locator('li[data-reason="out_of_office"]');
    expect(await skipped.textContent()).toContain('Bob Builder');
    expect(await skipped.textContent()).toContain('is out of office');
    await page.screenshot({ path: join(SHOTS, 'admin-definition-preview-1280.png'), fullPage: true });
    expect(await axeSerious(page, 'preview')).toEqual([]);

    // An unsaved draft previews as it stands in the editor: here with a changed subject.
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.locator('#def-subject-en').fill('Draft for <OTOBO_NOTIFICATION_RECIPIENT_UserFullname>');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.locator('#preview-target option[value="T-1"]').waitFor({ state: 'attached' });
    await page.locator('#preview-target').selectOption('T-1');
    await page.locator('#preview-recipient').selectOption('bob');
    // Enter in the preview's field previews (it does not save the editor's form around it).
    await page.locator('#preview-event').press('Enter');
    await expect.poll(() => page.getByTestId('rendered-subject').textContent()).toBe('Draft for Bob Builder');
    // Still a draft: the stored definition keeps its subject.
    expect((await byName('Preview me'))?.messages.en?.subject).toBe('Ticket <OTOBO_TICKET_Title> for <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    // A dry run: nothing was sent or queued.
    expect((await hub.ok<{ emails: unknown[] }>('GET', '/v1/emails')).emails).toHaveLength(emailsBefore);
    expect((await byName('Preview me'))?.id).toBe(created.id);
  });

  it('an appointment notification edits the appointment filter and relations, and previews against an appointment', async () => {
    const start = Date.now() + 24 * 3600_000;
    await hub.ok('PUT', '/v1/calendars/cal-1', { name: 'Team calendar' });
    await hub.ok('PUT', '/v1/appointments/ap-1', { calendarId: 'cal-1', title: 'Quarterly review', startAt: start, endAt: start + 3600_000, resourceIds: ['ann', 'bob'] });
    await toList();
    await page.getByRole('link', { name: 'Add notification' }).click();
    await page.locator('#def-name').fill('Reminder to the resources');
    await page.locator('#def-type').selectOption('appointment');
    // Ticket-only parts give way to the appointment's.
    expect(await page.getByText('Article filter').count()).toBe(0);
    await page.getByText('Appointment filter').click();
    await page.locator('#def-filter-calendarId').fill('cal-1');
    await page.locator('#def-filter-calendarId').press('Enter');
    expect(await page.getByRole('checkbox', { name: /AgentOwner/ }).count()).toBe(0);
    await page.getByRole('checkbox', { name: /AppointmentResource/ }).check();
    await page.locator('#def-events').fill('AppointmentNotification');
    await page.locator('#def-events').press('Enter');
    await page.locator('#def-subject-en').fill('Soon: <OTOBO_APPOINTMENT_TITLE>');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.locator('#preview-target option[value="ap-1"]').waitFor({ state: 'attached' });
    expect(await page.getByLabel('Appointment', { exact: true }).count()).toBe(1);
    await page.locator('#preview-target').selectOption('ap-1');
    await page.getByRole('button', { name: 'Show preview' }).click();
    await expect.poll(() => page.getByTestId('rendered-subject').textContent()).toBe('Soon: Quarterly review');
    expect(await page.getByTestId('would-send').textContent()).toContain('Ann Agent — email');
    expect(await page.getByTestId('skipped').locator('li[data-reason="out_of_office"]').textContent()).toContain('Bob Builder');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await row('Reminder to the resources').waitFor();
    expect(await byName('Reminder to the resources')).toMatchObject({
      type: 'appointment',
      events: ['AppointmentNotification'],
      filter: { calendarId: ['cal-1'] },
      recipients: { relations: ['AppointmentResource'] },
    });
  });

  it('imports an OTOBO export with a report, refuses existing names without overwrite, and updates them with it', async () => {
    await toList();
    const file = join(FIXTURES, 'ticket-notifications.yml');
    await page.locator('#import-file').setInputFiles(file);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const report = page.getByTestId('import-report');
    await report.filter({ hasText: '2 added' }).waitFor();
    await row('Ticket note added (owner, watchers)').waitFor();
    await row('New ticket for Widget products').waitFor();
    expect(await report.textContent()).toContain('Added: Ticket note added (owner, watchers), New ticket for Widget products');
    await page.screenshot({ path: join(SHOTS, 'admin-definitions-import-1280.png'), fullPage: true });

    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await report.filter({ hasText: '2 not imported' }).waitFor();
    expect(await report.locator('.errors li').count()).toBe(2);

    await page.getByRole('checkbox', { name: 'Overwrite notifications of the same name' }).check();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await report.filter({ hasText: '2 updated' }).waitFor();
    expect((await defs()).filter((d) => d.name === 'New ticket for Widget products')).toHaveLength(1);

    // A file that is not a list: the hub's refusal, said as it is.
    await page.locator('#import-file').setInputFiles(join(FIXTURES, 'bad-not-a-list.yml'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await report.filter({ hasText: 'Import refused' }).waitFor();
  });

  it('exports all definitions as Export_Notification.yml, and one on its own', async () => {
    await toList();
    const [all] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export all' }).click()]);
    expect(all.suggestedFilename()).toBe('Export_Notification.yml');
    const yaml = readFileSync((await all.path())!, 'utf8');
    for (const d of await defs()) expect(yaml).toContain(d.name.includes("'") ? d.name.replace(/'/g, "''") : d.name);

    const [one] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Preview me' }).click()]);
    const single = readFileSync((await one.path())!, 'utf8');
    expect(single).toContain('Preview me');
    expect(single).not.toContain('Assignment changes');
  });
});
