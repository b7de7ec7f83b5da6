import { join } from 'node:path';
import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TICKET, seedDemo, startHelpdesk, type DemoData, type Helpdesk } from '../../web/demo/helpdesk.js';
import type { TestClient } from '../support/client.js';
import { axeSerious, launchChromium, SHOTS } from '../support/browser.js';
import { API_KEY, JWT_SECRET, TestHub } from '../support/hub.js';

const INTERNAL_LABEL = 'Internal — customers never see this';

/**
 * The agent app as a support team uses it every day (the issue "The widget and the agent messenger,
 * as a support team uses them every day"): seen on open and scroll, links into conversations and
 * sign-in through the helpdesk, internal vs external, offline and token trouble, narrow screens,
 * the keyboard, contrast and axe, markdown, previews and desktop notifications. Real Chromium, real
 * hub, the demo helpdesk.
 */
describe('agent app', () => {
  let hub: TestHub;
  let helpdesk: Helpdesk;
  let demo: DemoData;
  let browser: Browser;
  let ctx: BrowserContext;
  let agent: Page;
  let carol: TestClient;
  let bob: TestClient;
  let n = 0;

  const post = async (conversationId: string, senderId: string, body: string) =>
    (await hub.ok<{ message: { id: string; seq: number } }>('POST', `/v1/conversations/${conversationId}/messages`, { senderId, body, clientMsgId: `e2e-${++n}` })).message;
  const conv = (page: Page, section: string, title: string) => page.locator(`[data-section="${section}"] .conv`).filter({ has: page.locator('.title', { hasText: title }) });
  const writes = async (page: Page, text: string) => {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
  };
  /** Goes to an app route; on the app already, only the hash changes (as a click on a link would). */
  const visit = async (page: Page, route: string) => {
    if (page.url().startsWith(`${hub.url}/app/`)) await page.evaluate((r) => (location.hash = r), route);
    else await page.goto(`${hub.url}/app/#${route}`);
  };
  const signedIn = (page: Page) => page.locator('.me strong', { hasText: 'Alice Martin' }).waitFor();

  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_ESCALATION_DELAY_MS: '60000' } });
    const access = { hubUrl: hub.url, apiKey: API_KEY, jwtSecret: JWT_SECRET };
    demo = await seedDemo(access);
    helpdesk = await startHelpdesk(access);
    carol = await hub.connect('carol');
    bob = await hub.connect('bob');
    browser = await launchChromium();
    // bypassCSP: axe-core is injected as an inline script; the app's own CSP allows only its files.
    ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    // Generous for a machine busy with other suites; a hang still fails well inside the test's own limit.
    ctx.setDefaultTimeout(15_000);
    agent = await ctx.newPage();
    await agent.goto(helpdesk.agentUrl('alice'));
    await agent.locator('.me strong', { hasText: 'Alice Martin' }).waitFor({ timeout: 30_000 });
    await conv(agent, 'customers', DEMO_TICKET.title).waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.close();
    await hub?.stop();
  });

  it('opening a conversation marks what is on screen seen: the badge clears, the others get the receipt, no email is due', async () => {
    const m = await post(demo.externalConversationId, 'carol', 'Seen test: is it fixed yet?');
    // It arrived before this page loaded (as after a night off): only opening the conversation can mark it.
    await agent.reload();
    await signedIn(agent);
    await expect.poll(() => agent.getByTestId('unseen-customers').textContent()).toMatch(/^[1-9]/);
    // (A customer gets seen receipts from members only, SPEC §2; Bob, on the team, gets Alice's.)
    const receipt = bob.next((f) => f.t === 'receipt' && f.kind === 'seen' && f.participantId === 'alice' && f.upTo >= m.seq, 10_000);
    await conv(agent, 'customers', DEMO_TICKET.title).click();
    await agent.getByTestId('message').filter({ hasText: 'Seen test: is it fixed yet?' }).waitFor();
    await receipt;
    await expect.poll(() => agent.getByTestId('unseen-customers').count()).toBe(0);
    // The hub will not email Alice about a message she looked at.
    const answer = await bob.request({ t: 'receipts', id: bob.id(), messageId: m.id }, 'receipts');
    const alice = answer.t === 'receipts' ? answer.recipients.find((r) => r.participantId === 'alice') : undefined;
    expect(alice?.seenAt).not.toBeNull();
    expect(alice?.email).toBe('seen_in_time');
    // A message arriving while the conversation is on screen is seen as it lands.
    const next = await post(demo.externalConversationId, 'carol', 'And one more thing…');
    await bob.next((f) => f.t === 'receipt' && f.kind === 'seen' && f.participantId === 'alice' && f.upTo >= next.seq, 10_000);
    await expect.poll(() => agent.getByTestId('unseen-customers').count()).toBe(0);
  });

  it('a long conversation is marked seen as far as it is scrolled, from the "new messages" divider', async () => {
    let last = 0;
    for (let i = 1; i <= 40; i++) last = (await post(demo.internalConversationId, 'bob', `Line ${i} of the long internal thread`)).seq;
    await expect.poll(() => agent.getByTestId('unseen-internal').textContent()).toBe('41');
    await conv(agent, 'internal', DEMO_TICKET.title).click();
    const divider = agent.getByTestId('new-divider');
    await divider.waitFor();
    // The divider sits just above the first unseen message: Bob's heads-up from the demo.
    expect(await agent.locator('.messages > *').first().getAttribute('data-testid')).toBe('new-divider');
    // Only the first screenful is seen.
    await expect.poll(async () => Number(await agent.getByTestId('unseen-internal').textContent())).toBeGreaterThan(5);
    // Bob's run of messages is one group: his name and time once.
    expect(await agent.locator('.msg.grouped').count()).toBeGreaterThan(10);
    await agent.screenshot({ path: join(SHOTS, 'agent-new-messages-divider-1280.png') });
    const seenLast = bob.next((f) => f.t === 'receipt' && f.kind === 'seen' && f.participantId === 'alice' && f.upTo === last, 10_000);
    await agent.locator('.messages').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await seenLast;
    await expect.poll(() => agent.getByTestId('unseen-internal').count()).toBe(0);
  });

  it('internal threads are unmistakable; external ones say who reads them; titles are stable', async () => {
    await conv(agent, 'internal', DEMO_TICKET.title).click();
    await expect.poll(() => agent.getByTestId('audience').textContent()).toBe(INTERNAL_LABEL);
    expect(await agent.getByTestId('composer-notice').textContent()).toBe(INTERNAL_LABEL);
    expect(await agent.getByTestId('conversation').getAttribute('class')).toContain('internal');
    const internalBg = await agent.locator('.composer').evaluate((el) => getComputedStyle(el).backgroundColor);
    await conv(agent, 'customers', DEMO_TICKET.title).click();
    await expect.poll(() => agent.getByTestId('audience').textContent()).toBe('Visible to Carol Diaz');
    expect(await agent.getByTestId('composer-notice').textContent()).toBe('Visible to Carol Diaz');
    expect(await agent.locator('.composer').evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe(internalBg);
    expect(await agent.locator('#conversation-title').textContent()).toBe(`#${DEMO_TICKET.number} ${DEMO_TICKET.title}`);

    // Carol's inbox keeps her name as its title when agents join it.
    const opened = await carol.request({ t: 'open', id: carol.id(), members: [] }, 'conversation');
    const inboxId = opened.t === 'conversation' ? opened.conversation.id : '';
    await post(inboxId, 'carol', 'A new question from my inbox');
    await post(inboxId, 'bob', 'Bob here, I will take it.');
    const inbox = agent.locator(`.conv[data-conversation="${inboxId}"]`);
    await expect.poll(() => inbox.locator('.title').textContent()).toBe('Carol Diaz');
    // Most recent activity first, with the last message and its time.
    expect(await agent.locator('[data-section="customers"] .conv').first().getAttribute('data-conversation')).toBe(inboxId);
    expect(await inbox.getByTestId('preview').textContent()).toBe('Bob: Bob here, I will take it.');
    expect(await inbox.locator('time').textContent()).toMatch(/\d/);
  });

  it('links: #/c/{id} and #/preferences open in a new tab through the helpdesk sign-in; without a helpdesk, a clear message', async () => {
    const tab = await ctx.newPage();
    await tab.goto(`${hub.url}/app/#/c/${demo.internalConversationId}`);
    await signedIn(tab);
    await expect.poll(() => tab.getByTestId('audience').textContent()).toBe(INTERNAL_LABEL);
    expect(new URL(tab.url()).hash).toBe(`#/c/${demo.internalConversationId}`);
    const prefs = await ctx.newPage();
    await prefs.goto(`${hub.url}/app/#/preferences`);
    await prefs.getByRole('form', { name: 'Preferences' }).waitFor();
    await tab.close();
    await prefs.close();

    const stranger = await browser.newContext();
    const page = await stranger.newPage();
    await page.goto(`${hub.url}/app/#/c/${demo.internalConversationId}`);
    await page.getByTestId('signed-out').filter({ hasText: 'Open the messenger from your helpdesk' }).waitFor();
    await stranger.close();
  });

  it('a bad token shows a clear message and a way to sign in again', async () => {
    const fresh = await browser.newContext();
    fresh.setDefaultTimeout(15_000);
    const page = await fresh.newPage();
    await page.goto(`${hub.url}/app/#helpdesk=${encodeURIComponent(helpdesk.url)}&token=not-a-valid-token&route=${encodeURIComponent(`/c/${demo.externalConversationId}`)}`);
    const banner = page.getByRole('alert').filter({ hasText: 'sign-in' });
    await banner.waitFor({ timeout: 15_000 });
    expect(await banner.getByRole('button', { name: 'Retry' }).count()).toBe(1);
    await banner.getByRole('button', { name: 'Sign in again' }).click();
    // This browser never signed in at the helpdesk: it asks who, then comes back to the conversation.
    await page.getByRole('link', { name: 'Alice Martin' }).click();
    await signedIn(page);
    await expect.poll(() => page.getByTestId('audience').textContent()).toBe('Visible to Carol Diaz');
    await fresh.close();
  });

  it('offline: a banner, presence unknown, own messages "sending…" on their own side; a refused one offers retry', async () => {
    const page = await ctx.newPage();
    let offline = false;
    let refuseNextSend = false;
    const sockets = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();
    await page.routeWebSocket(/\/v1\/ws/, (ws) => {
      if (offline) {
        void ws.close({ code: 1001 });
        return;
      }
      const server = ws.connectToServer();
      ws.onMessage((msg) => {
        const f = JSON.parse(String(msg)) as { t: string; id?: string };
        if (f.t === 'send' && refuseNextSend) {
          refuseNextSend = false;
          ws.send(JSON.stringify({ t: 'error', re: f.id, code: 'forbidden', message: 'refused for the test' }));
          return;
        }
        server.send(msg);
      });
      sockets.add({ page: ws, server });
    });
    await page.goto(`${hub.url}/app/#/c/${demo.externalConversationId}`);
    await signedIn(page);
    await page.getByTestId('audience').waitFor();
    await page.locator('.member .dot.active, .member .dot.away, .member .dot.offline').first().waitFor();

    offline = true;
    for (const s of sockets) {
      void s.server.close();
      void s.page.close({ code: 1001 });
    }
    sockets.clear();
    await page.getByTestId('banner').filter({ hasText: 'offline' }).waitFor();
    expect(await page.locator('.member .dot:not(.unknown)').count()).toBe(0);
    await writes(page, 'Written while offline');
    const pending = page.getByTestId('message').filter({ hasText: 'Written while offline' });
    await pending.filter({ hasText: 'sending…' }).waitFor();
    expect(await pending.getAttribute('class')).toContain('mine');
    const box = (await pending.boundingBox())!;
    expect(box.x + box.width).toBeGreaterThan(1280 - 300 - 40);
    await page.screenshot({ path: join(SHOTS, 'agent-offline-1280.png') });

    offline = false;
    await page.getByTestId('banner').waitFor({ state: 'detached', timeout: 20_000 });
    await pending.getByTestId('status').waitFor({ timeout: 10_000 });

    refuseNextSend = true;
    await writes(page, 'This one is refused once');
    const failed = page.getByTestId('message').filter({ hasText: 'This one is refused once' });
    await failed.getByRole('button', { name: 'retry' }).click();
    await failed.getByTestId('status').waitFor();
    expect(await failed.getAttribute('data-state')).toBe('sent');
    await page.close();
  });

  it('the @ picker, panels and the composer work from the keyboard; focus goes into the picker and back', async () => {
    await visit(agent, `/c/${demo.externalConversationId}`);
    await signedIn(agent);
    const newButton = agent.getByRole('button', { name: '+ New conversation' });
    await newButton.focus();
    await agent.keyboard.press('Enter');
    const people = agent.getByRole('combobox', { name: 'People' });
    await expect.poll(() => people.evaluate((el) => el === document.activeElement)).toBe(true);
    await agent.keyboard.type('@');
    await expect.poll(() => agent.getByRole('option').count()).toBe(2);
    await agent.keyboard.press('ArrowDown');
    await agent.keyboard.press('ArrowUp');
    expect(await agent.getByRole('option', { selected: true }).textContent()).toContain('Bob Chen');
    await agent.keyboard.press('Escape'); // closes the suggestions only
    expect(await agent.getByRole('option').count()).toBe(0);
    await agent.keyboard.press('Escape'); // closes the picker, focus back on its button
    expect(await people.count()).toBe(0);
    await expect.poll(() => newButton.evaluate((el) => el === document.activeElement)).toBe(true);

    await agent.keyboard.press('Enter');
    await expect.poll(() => people.evaluate((el) => el === document.activeElement)).toBe(true);
    await agent.keyboard.type('@bo');
    await agent.keyboard.press('Enter');
    await agent.locator('.chip', { hasText: 'Bob Chen' }).waitFor();
    await agent.keyboard.press('Enter'); // on an empty field: start
    await expect.poll(() => agent.locator('#conversation-title').textContent()).toBe('Bob Chen');
    expect(await agent.getByTestId('audience').textContent()).toBe(INTERNAL_LABEL);
    await agent.getByLabel('Message', { exact: true }).focus();
    await agent.keyboard.type('Hi Bob, sent from the keyboard');
    await agent.keyboard.press('Enter');
    await bob.next((f) => f.t === 'message' && f.message.body === 'Hi Bob, sent from the keyboard');

    const prefs = agent.getByRole('button', { name: 'Preferences' });
    await prefs.focus();
    await agent.keyboard.press('Enter');
    await agent.getByRole('form', { name: 'Preferences' }).waitFor();
    await agent.keyboard.press('Escape');
    await agent.getByRole('form', { name: 'Preferences' }).waitFor({ state: 'detached' });
    await expect.poll(() => prefs.evaluate((el) => el === document.activeElement)).toBe(true);

    // Every control is reachable with Tab: walk the page and collect what got focus.
    const reached = new Set<string>();
    await agent.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    for (let i = 0; i < 40; i++) {
      await agent.keyboard.press('Tab');
      reached.add(await agent.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.trim().slice(0, 30) ?? ''));
    }
    await newButton.focus();
    await agent.keyboard.press('Shift+Tab');
    reached.add(await agent.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? ''));
    for (const name of ['Preferences', '+ New conversation', 'Message', 'Send']) expect([...reached].some((r) => r.includes(name)), `${name} in ${[...reached].join(' | ')}`).toBe(true);
  });

  it('markdown renders safely and links open in a new tab', async () => {
    await post(demo.internalConversationId, 'bob', '**Recall** list: see https://example.com/recall?model=7. Not javascript:alert(1)\n- check `serial`\n- _call_ the customer');
    await visit(agent, `/c/${demo.internalConversationId}`);
    const msg = agent.getByTestId('message').filter({ hasText: 'Recall list' });
    await msg.waitFor();
    const link = msg.getByRole('link', { name: 'https://example.com/recall?model=7' });
    expect(await link.getAttribute('href')).toBe('https://example.com/recall?model=7');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await msg.locator('a').count()).toBe(1);
    expect(await msg.locator('.body strong').textContent()).toBe('Recall');
    expect(await msg.locator('li').count()).toBe(2);
    expect(await msg.locator('code').textContent()).toBe('serial');
  });

  it('timestamps and "Seen by" are at least 12 px and AA contrast; axe finds no serious or critical violation', async () => {
    await visit(agent, `/c/${demo.externalConversationId}`);
    await signedIn(agent);
    // One of Alice's messages, seen by Bob, so a "Seen by" line is on screen.
    await writes(agent, 'Contrast check, Bob will see this');
    await agent.getByTestId('message').filter({ hasText: 'Contrast check' }).getByTestId('status').waitFor();
    bob.send({ t: 'seen', conversationId: demo.externalConversationId, upTo: 1_000_000 });
    await agent.getByTestId('message').filter({ hasText: 'Contrast check' }).getByTestId('seen-by').waitFor();
    await agent.locator('.msg time').first().waitFor();
    const checks = await agent.evaluate(() => {
      const rgb = (s: string) => (s.match(/[\d.]+/g) ?? []).map(Number);
      const lum = ([r, g, b]: number[]) => {
        const c = [r!, g!, b!].map((v) => {
          const x = v / 255;
          return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
      };
      const background = (el: Element | null): number[] => {
        for (; el; el = el.parentElement) {
          const c = rgb(getComputedStyle(el).backgroundColor);
          if (c.length === 3 || (c.length === 4 && c[3]! > 0.9)) return c;
        }
        return [255, 255, 255];
      };
      return [...document.querySelectorAll('.msg time, .status, .conv time')].map((el) => {
        const s = getComputedStyle(el);
        const [a, b] = [lum(rgb(s.color)), lum(background(el))];
        return { text: el.textContent, px: parseFloat(s.fontSize), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
    });
    expect(checks.length).toBeGreaterThan(3);
    for (const c of checks) {
      expect(c.px, c.text ?? '').toBeGreaterThanOrEqual(12);
      expect(c.ratio, c.text ?? '').toBeGreaterThanOrEqual(4.5);
    }
    await agent.screenshot({ path: join(SHOTS, 'agent-app-1280.png') });

    expect(await axeSerious(agent, '(agent app, 1280 px, a conversation open)')).toEqual([]);
  });

  it('at 375 px the list and the conversation take turns; inputs are 16 px; nothing overflows', async () => {
    const phone = await ctx.newPage();
    await phone.setViewportSize({ width: 375, height: 740 });
    await phone.goto(`${hub.url}/app/`);
    await signedIn(phone);
    await conv(phone, 'customers', DEMO_TICKET.title).waitFor();
    await phone.screenshot({ path: join(SHOTS, 'agent-list-375.png') });
    expect(await phone.locator('.main').isVisible()).toBe(false);
    await conv(phone, 'customers', DEMO_TICKET.title).click();
    await phone.getByTestId('audience').waitFor();
    expect(await phone.locator('.sidebar').isVisible()).toBe(false);
    expect(await phone.getByLabel('Message', { exact: true }).evaluate((el) => getComputedStyle(el).fontSize)).toBe('16px');
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await phone.screenshot({ path: join(SHOTS, 'agent-conversation-375.png') });
    await phone.getByRole('button', { name: 'Back to conversations' }).click();
    await conv(phone, 'customers', DEMO_TICKET.title).waitFor();
    await phone.setViewportSize({ width: 360, height: 740 });
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await visit(phone, '/preferences');
    await phone.getByRole('form', { name: 'Preferences' }).waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await phone.screenshot({ path: join(SHOTS, 'agent-preferences-360.png') });
    await phone.keyboard.press('Escape');
    await phone.getByRole('button', { name: '+ New conversation' }).click();
    await expect.poll(() => phone.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('People');
    await phone.keyboard.type('@');
    await phone.getByRole('option').first().waitFor();
    await phone.screenshot({ path: join(SHOTS, 'agent-picker-360.png') });
    await phone.keyboard.press('Escape');
    await phone.keyboard.press('Escape');
    await conv(phone, 'customers', DEMO_TICKET.title).waitFor();
    expect(await axeSerious(phone, '(agent app, 360 px, the list)')).toEqual([]);
    await phone.close();
  });

  it('desktop notifications, allowed from a click in preferences, show while the page is not looked at', async () => {
    const page = await ctx.newPage();
    await page.addInitScript(() => {
      const shown: string[] = [];
      (window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
      class FakeNotification {
        static permission = 'default';
        static requestPermission() {
          FakeNotification.permission = 'granted';
          return Promise.resolve('granted');
        }
        onclick: (() => void) | null = null;
        constructor(_title: string, options: { body: string }) {
          shown.push(options.body);
        }
        close() {}
      }
      (window as unknown as { Notification: unknown }).Notification = FakeNotification;
    });
    await page.goto(`${hub.url}/app/#/preferences`);
    await signedIn(page);
    await page.getByRole('button', { name: 'Enable desktop notifications' }).click();
    await expect.poll(() => page.getByTestId('desktop-state').textContent()).toBe('On');
    await page.keyboard.press('Escape');
    await page.evaluate(() => (document.hasFocus = () => false));
    await post(demo.externalConversationId, 'carol', 'Ping for the desktop');
    await expect.poll(() => page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications)).toEqual([expect.stringContaining('Ping for the desktop')]);
    await page.close();
  });
});
