import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TICKET, seedDemo, startHelpdesk, type DemoData, type Helpdesk } from '../../web/demo/helpdesk.js';
import type { TestClient } from '../support/client.js';
import { axeSerious, launchChromium, SHOTS } from '../support/browser.js';
import { API_KEY, JWT_SECRET, TestHub } from '../support/hub.js';
import { until } from '../support/until.js';

/** Two rules agents see in their preferences: one they may switch off, one mandatory. */
const updates = {
  name: 'Ticket updates',
  events: ['DemoTicketUpdate'],
  recipients: { agents: ['alice', 'bob'] },
  transports: { email: { enabled: true }, web: { enabled: true } },
  agentPreferences: { visible: 'yes', tooltip: 'When someone else changes a ticket you work on.', enabledByDefault: ['web'] },
  messages: { en: { subject: 'Ticket <OTOBO_TICKET_TicketNumber> updated: <OTOBO_CUSTOMER_SUBJECT>', body: '<OTOBO_CURRENT_UserFullname> wrote:\n<OTOBO_CUSTOMER_BODY>' } },
};
const escalations = {
  name: 'Escalations',
  events: ['DemoEscalation'],
  recipients: { agents: ['alice', 'bob'] },
  transports: { email: { enabled: true }, web: { enabled: true } },
  agentPreferences: { visible: 'mandatory', tooltip: 'A ticket of yours passed its response time.', enabledByDefault: ['web'] },
  messages: { en: { subject: 'Escalated: <OTOBO_TICKET_Title>', body: 'Answer the customer now.' } },
};

/**
 * Web notifications in the agent app (the issue "for every agent"): the bell with the unseen count,
 * its panel (seen when shown, live, "Load more", links), the notification rules in preferences, at
 * 1280 and 375 px, with axe. Real Chromium, real hub, the demo helpdesk.
 */
describe('agent app: notifications', () => {
  let hub: TestHub;
  let helpdesk: Helpdesk;
  let demo: DemoData;
  let browser: Browser;
  let ctx: BrowserContext;
  let agent: Page;
  let aliceWs: TestClient;
  let updatesId: string;
  let escalationsId: string;
  let n = 0;

  /** An event of `type` by Bob about the demo ticket: Alice, not its actor, is told. */
  const event = (subject: string, type = 'DemoTicketUpdate') =>
    hub.ok('POST', '/v1/events', {
      id: `e2e-ev-${++n}`,
      type,
      actorId: 'bob',
      itemId: DEMO_TICKET.id,
      article: { senderKind: 'user', channel: 'internal', visibleForCustomer: false, subject, body: `Details of ${subject}` },
    });
  const bell = (page: Page) => page.getByTestId('bell');
  const bellLabel = (page: Page) => bell(page).getAttribute('aria-label');
  const panel = (page: Page) => page.getByRole('dialog', { name: 'Notifications' });
  const subjects = (page: Page) => panel(page).getByTestId('notification').locator('.notif-subject').allTextContents();
  /** Alice's unseen count as the hub has it. */
  const hubUnseen = async () => {
    const r = await aliceWs.request({ t: 'notifications', id: aliceWs.id(), limit: 1 }, 'notifications');
    return r.t === 'notifications' ? r.unseen : -1;
  };
  const signedIn = (page: Page) => page.locator('.me strong', { hasText: 'Alice Martin' }).waitFor({ timeout: 30_000 });

  beforeAll(async () => {
    hub = await TestHub.start();
    const access = { hubUrl: hub.url, apiKey: API_KEY, jwtSecret: JWT_SECRET };
    demo = await seedDemo(access);
    helpdesk = await startHelpdesk(access);
    updatesId = (await hub.ok<{ id: string }>('POST', '/v1/notification-definitions', updates)).id;
    escalationsId = (await hub.ok<{ id: string }>('POST', '/v1/notification-definitions', escalations)).id;
    aliceWs = await hub.connect('alice');
    browser = await launchChromium();
    // bypassCSP: axe-core is injected as an inline script; the app's own CSP allows only its files.
    ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    ctx.setDefaultTimeout(15_000);
    agent = await ctx.newPage();
    await agent.goto(helpdesk.agentUrl('alice'));
    await signedIn(agent);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.close();
    await hub?.stop();
  });

  it('an event posted through the API shows in the bell live; opening the list marks it seen, and it stays seen after a reload', async () => {
    await expect.poll(() => bellLabel(agent)).toBe('Notifications, 0 unseen');
    // Nothing reloads the page meanwhile: this mark survives only in the same document.
    await agent.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
    await event('Printer moved to the lab');
    await event('Customer sent the serial number');
    await event('Spare part ordered');
    await expect.poll(() => bellLabel(agent)).toBe('Notifications, 3 unseen');
    expect(await agent.getByTestId('bell-count').textContent()).toBe('3');
    expect(await agent.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    await agent.screenshot({ path: join(SHOTS, 'agent-bell-unseen-1280.png') });

    await agent.bringToFront();
    await bell(agent).click();
    await panel(agent).waitFor();
    expect(await bell(agent).getAttribute('aria-expanded')).toBe('true');
    // Focus moves into the panel; newest first, each with its body and time.
    await expect.poll(() => agent.evaluate(() => document.activeElement?.id)).toBe('notifications-heading');
    expect(await subjects(agent)).toEqual([
      expect.stringContaining(`Ticket ${DEMO_TICKET.number} updated: Spare part ordered`),
      expect.stringContaining('Customer sent the serial number'),
      expect.stringContaining('Printer moved to the lab'),
    ]);
    const first = panel(agent).getByTestId('notification').first();
    expect(await first.locator('.notif-body').textContent()).toBe('Bob Chen wrote:\nDetails of Spare part ordered');
    expect(await first.locator('time').textContent()).toMatch(/\d/);
    // What was unseen when shown is marked "new" for this look, and seen at the hub.
    expect(await panel(agent).locator('.notif.fresh').count()).toBe(3);
    await expect.poll(() => bellLabel(agent)).toBe('Notifications, 0 unseen');
    expect(await agent.getByTestId('bell-count').count()).toBe(0);
    await until(async () => (await hubUnseen()) === 0, 'the hub to count them seen');
    await agent.screenshot({ path: join(SHOTS, 'agent-notifications-panel-1280.png') });
    expect(await axeSerious(agent, '(agent app, notifications panel open, 1280 px)')).toEqual([]);

    // Escape closes it and gives focus back to the bell.
    await agent.keyboard.press('Escape');
    await panel(agent).waitFor({ state: 'detached' });
    await expect.poll(() => bell(agent).evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await bell(agent).getAttribute('aria-expanded')).toBe('false');

    await agent.reload();
    await signedIn(agent);
    await bell(agent).click();
    await expect.poll(() => panel(agent).getByTestId('notification').count()).toBe(3);
    // Loaded from the hub as seen: none new, and the count stays 0.
    expect(await panel(agent).locator('.notif.fresh').count()).toBe(0);
    expect(await bellLabel(agent)).toBe('Notifications, 0 unseen');
    // Enter and Space work the bell too.
    await bell(agent).focus();
    await agent.keyboard.press('Enter');
    await panel(agent).waitFor({ state: 'detached' });
    await agent.keyboard.press('Enter');
    await panel(agent).waitFor();
    await agent.keyboard.press('Escape');
    await panel(agent).waitFor({ state: 'detached' });
    // Tab walks through the panel (close, then each notification) and out of it, which closes it.
    await agent.keyboard.press('Space');
    await panel(agent).waitFor();
    await agent.keyboard.press('Tab');
    await expect.poll(() => agent.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Close notifications');
    for (let i = 0; i < 3; i++) await agent.keyboard.press('Tab');
    await expect.poll(() => agent.evaluate(() => document.activeElement?.closest('[data-testid="notification"]') !== null)).toBe(true);
    await agent.keyboard.press('Tab');
    await panel(agent).waitFor({ state: 'detached' });
  });

  it('a notification pushed while the panel is open appears at the top; one arriving while closed bumps the count; "Load more" shows older ones', async () => {
    await agent.bringToFront();
    await bell(agent).click();
    await panel(agent).waitFor();
    await event('Technician booked', 'DemoEscalation');
    await expect.poll(async () => (await subjects(agent))[0]).toContain(`Escalated: ${DEMO_TICKET.title}`);
    // Shown on a looked-at page: seen at once.
    await until(async () => (await hubUnseen()) === 0, 'the live one seen');
    await agent.keyboard.press('Escape');

    // 22 more: the first page holds 20.
    for (let i = 1; i <= 22; i++) await event(`Batch ${i}`);
    await expect.poll(() => bellLabel(agent)).toBe('Notifications, 22 unseen');
    await agent.reload();
    await signedIn(agent);
    await expect.poll(() => bellLabel(agent)).toBe('Notifications, 22 unseen');
    await bell(agent).click();
    await expect.poll(() => panel(agent).getByTestId('notification').count()).toBe(20);
    // Only what is shown is seen: two unseen are still on the next page.
    await expect.poll(() => bellLabel(agent)).toBe('Notifications, 2 unseen');
    await panel(agent).getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => panel(agent).getByTestId('notification').count()).toBe(26);
    await expect.poll(() => bellLabel(agent)).toBe('Notifications, 0 unseen');
    expect(await panel(agent).getByRole('button', { name: 'Load more' }).count()).toBe(0);
    const all = await subjects(agent);
    expect(all[0]).toContain('Batch 22');
    expect(all.at(-1)).toContain('Printer moved to the lab');
    await until(async () => (await hubUnseen()) === 0, 'all seen at the hub');

    // Each links to its item's conversation; following it closes the panel.
    const link = panel(agent).getByTestId('notification').first().getByRole('link');
    const href = await link.getAttribute('href');
    expect([`#/c/${demo.internalConversationId}`, `#/c/${demo.externalConversationId}`]).toContain(href);
    await link.click();
    await panel(agent).waitFor({ state: 'detached' });
    await expect.poll(() => new URL(agent.url()).hash).toBe(href);
    await agent.locator('#conversation-title').waitFor();
  });

  it('at 375 px the panel fits the screen, works from the keyboard and passes axe', async () => {
    const phoneCtx = await browser.newContext({ viewport: { width: 375, height: 740 }, bypassCSP: true, hasTouch: true });
    phoneCtx.setDefaultTimeout(15_000);
    const phone = await phoneCtx.newPage();
    await phone.goto(helpdesk.agentUrl('alice'));
    await signedIn(phone);
    await event('Seen on the phone');
    await expect.poll(() => bellLabel(phone)).toBe('Notifications, 1 unseen');
    await phone.bringToFront();
    await bell(phone).click();
    await panel(phone).waitFor();
    await expect.poll(() => bellLabel(phone)).toBe('Notifications, 0 unseen');
    const box = (await panel(phone).boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(375);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await phone.screenshot({ path: join(SHOTS, 'agent-notifications-panel-375.png') });
    expect(await axeSerious(phone, '(agent app, notifications panel open, 375 px)')).toEqual([]);
    await phone.keyboard.press('Escape');
    await panel(phone).waitFor({ state: 'detached' });
    await expect.poll(() => bell(phone).evaluate((el) => el === document.activeElement)).toBe(true);
    await phoneCtx.close();
    // The wide tab counted it live; the hub tells no other session it was seen, so that tab counts again when it is looked at.
    expect(await bellLabel(agent)).toBe('Notifications, 1 unseen');
    await agent.bringToFront();
    await agent.evaluate(() => dispatchEvent(new Event('focus')));
    await expect.poll(() => bellLabel(agent)).toBe('Notifications, 0 unseen');
  });

  it('preferences show each rule with a switch per transport and its tooltip; a mandatory one cannot lose its last transport, and the hub’s refusal is shown', async () => {
    await agent.evaluate(() => (location.hash = '/preferences'));
    const form = agent.getByRole('form', { name: 'Preferences' });
    await form.waitFor();
    const rules = form.getByTestId('notification-rules');
    await rules.getByRole('heading', { name: 'Notification rules' }).waitFor();
    const rule = (name: string) => rules.getByRole('group', { name });
    const sw = (name: string, transport: string) => rule(name).getByRole('switch', { name: transport });

    // Ticket updates: both switches, on as enabledByDefault says, the tooltip as help text.
    await rule('Ticket updates').waitFor();
    expect(await rule('Ticket updates').locator('.help').textContent()).toBe(updates.agentPreferences.tooltip);
    expect(await sw('Ticket updates', 'Email').isChecked()).toBe(false);
    expect(await sw('Ticket updates', 'In the app').isChecked()).toBe(true);
    expect(await sw('Ticket updates', 'In the app').isDisabled()).toBe(false);

    // Escalations: marked mandatory with an explanation; its one transport on cannot be switched off.
    const esc = rule('Escalations (mandatory)');
    expect(await esc.locator('legend').textContent()).toBe('Escalations* (mandatory)');
    expect(await rules.locator('#rules-mandatory').textContent()).toContain('Mandatory');
    expect(await sw('Escalations', 'In the app').isChecked()).toBe(true);
    expect(await sw('Escalations', 'In the app').isDisabled()).toBe(true);
    expect(await esc.locator('.locked').textContent()).toContain('In the app stays on');
    // Turning email on frees the app switch; turning the app off then locks email.
    await sw('Escalations', 'Email').check();
    expect(await sw('Escalations', 'In the app').isDisabled()).toBe(false);
    await sw('Escalations', 'In the app').uncheck();
    expect(await sw('Escalations', 'Email').isDisabled()).toBe(true);
    expect(await esc.locator('.locked').textContent()).toContain('Email stays on');
    await agent.screenshot({ path: join(SHOTS, 'agent-preferences-rules-1280.png'), fullPage: true });
    expect(await axeSerious(agent, '(agent app, preferences with notification rules, 1280 px)')).toEqual([]);
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => form.locator('.saved').textContent()).toBe('Saved');
    const saved = await hub.ok<{ notificationDefinitions: Record<string, unknown> }>('GET', '/v1/participants/alice/preferences');
    expect(saved.notificationDefinitions[escalationsId]).toEqual({ email: true, web: false });
    expect(saved.notificationDefinitions[updatesId]).toEqual({ email: false, web: true });

    // Ticket updates is optional here, so both may go off; an admin makes it mandatory before Save: the hub refuses, and says why.
    await sw('Ticket updates', 'In the app').uncheck();
    expect(await sw('Ticket updates', 'Email').isDisabled()).toBe(false);
    await hub.ok('PUT', `/v1/notification-definitions/${updatesId}`, { ...updates, agentPreferences: { ...updates.agentPreferences, visible: 'mandatory' } });
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => form.locator('.saved').textContent()).toBe('Not saved: Ticket updates is mandatory; keep at least one transport on');
    expect(await form.locator('.saved').getAttribute('class')).toContain('error');
    expect((await hub.ok<{ notificationDefinitions: Record<string, unknown> }>('GET', '/v1/participants/alice/preferences')).notificationDefinitions[updatesId]).toEqual({ email: false, web: true });
    // The rule shows as it is now, mandatory, with the person's choices kept so they can mend them.
    await rule('Ticket updates (mandatory)').waitFor();
    expect(await rule('Ticket updates').locator('.locked').textContent()).toBe('This rule is mandatory: turn at least one way on.');
    expect(await sw('Ticket updates', 'In the app').isChecked()).toBe(false);
    await agent.screenshot({ path: join(SHOTS, 'agent-preferences-rules-refused-1280.png'), fullPage: true });

    // Opened again, the rule is shown as mandatory, its last transport locked.
    await agent.reload();
    await form.waitFor();
    await rule('Ticket updates (mandatory)').waitFor();
    expect(await sw('Ticket updates', 'In the app').isChecked()).toBe(true);
    expect(await sw('Ticket updates', 'In the app').isDisabled()).toBe(true);
    await agent.setViewportSize({ width: 375, height: 740 });
    expect(await agent.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await agent.screenshot({ path: join(SHOTS, 'agent-preferences-rules-375.png'), fullPage: true });
    await agent.setViewportSize({ width: 1280, height: 800 });
  });
});
