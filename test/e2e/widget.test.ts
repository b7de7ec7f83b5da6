import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TICKET, seedDemo, startHelpdesk, type DemoData, type Helpdesk } from '../../web/demo/helpdesk.js';
import type { TestClient } from '../support/client.js';
import { axeSerious, launchChromium, SHOTS } from '../support/browser.js';
import { API_KEY, JWT_SECRET, TestHub } from '../support/hub.js';

const ESCALATION_DELAY_MS = 1_500;

/**
 * The customer's side in a real Chromium against the real hub and the demo helpdesk: the widget's
 * list of conversations (inbox and ticket), badge, keyboard, offline and error states, and the customer
 * page (/chat/) opened from the link in an escalation email. The steps run in order.
 */
describe('customer widget and customer page in a browser', () => {
  let hub: TestHub;
  let helpdesk: Helpdesk;
  let demo: DemoData;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let alice: TestClient;

  const widget = () => page.locator('#parley-widget');
  const launcher = () => widget().locator('button.launcher');
  const agentReplies = (conversationId: string, body: string) =>
    hub.ok('POST', `/v1/conversations/${conversationId}/messages`, { senderId: 'alice', body, clientMsgId: `e2e-${Math.random()}` });
  /** Where keyboard focus is, inside the widget's shadow root. */
  const focused = () =>
    page.evaluate(() => {
      const el = document.getElementById('parley-widget')?.shadowRoot?.activeElement as HTMLElement | null | undefined;
      return el ? `${el.tagName.toLowerCase()}${el.className ? `.${el.className.split(' ')[0]}` : ''}` : (document.activeElement?.tagName.toLowerCase() ?? null);
    });

  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_ESCALATION_DELAY_MS: String(ESCALATION_DELAY_MS) } });
    const access = { hubUrl: hub.url, apiKey: API_KEY, jwtSecret: JWT_SECRET };
    demo = await seedDemo(access);
    helpdesk = await startHelpdesk(access);
    alice = await hub.connect('alice');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(helpdesk.url);
    await launcher().waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.close();
    await hub?.stop();
  });

  it('lists the ticket conversation, and a first message from the home view opens the inbox conversation', async () => {
    await widget().getByRole('button', { name: 'Open chat' }).click();
    const conversations = widget().getByTestId('conversation');
    await conversations.first().waitFor();
    expect(await conversations.count()).toBe(1);
    expect(await conversations.first().getAttribute('data-id')).toBe(demo.externalConversationId);
    expect(await conversations.first().textContent()).toContain(`Request ${DEMO_TICKET.id}`);

    await widget().getByLabel('Your message').fill('Hello, a new question about toner.');
    await widget().getByLabel('Your message').press('Enter');
    await widget().getByTestId('message').filter({ hasText: 'a new question about toner' }).getByTestId('tick').and(widget().locator('[data-state="sent"]')).waitFor();
    await widget().getByRole('button', { name: 'Back to all conversations' }).click();
    await expect.poll(() => conversations.count()).toBe(2);
    // Newest first: the inbox conversation just written in, then the ticket.
    expect(await conversations.first().textContent()).toContain('Chat with the team');
    expect(await conversations.nth(1).getAttribute('data-id')).toBe(demo.externalConversationId);
    await page.screenshot({ path: join(SHOTS, 'widget-list-1280.png') });
  });

  it("an agent's reply in the ticket's external conversation raises the badge and shows in the widget", async () => {
    await widget().getByRole('button', { name: 'Minimize chat' }).click();
    await agentReplies(demo.externalConversationId, 'About the smoking printer: please send us its serial number.');
    await widget().getByTestId('badge').filter({ hasText: '1' }).waitFor();
    expect(await launcher().getAttribute('aria-label')).toBe('Open chat, 1 unread');
    await agentReplies(demo.externalConversationId, 'And a photo of the label, if you can.');
    await widget().getByTestId('badge').filter({ hasText: '2' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'widget-badge-1280.png') });

    await launcher().click();
    const ticket = widget().locator(`[data-testid="conversation"][data-id="${demo.externalConversationId}"]`);
    await ticket.getByTestId('conversation-unseen').filter({ hasText: '2' }).waitFor();
    // The ticket moved to the top: it has the newest message.
    expect(await widget().getByTestId('conversation').first().getAttribute('data-id')).toBe(demo.externalConversationId);
    await ticket.click();
    await widget().getByTestId('message').filter({ hasText: 'please send us its serial number' }).waitFor();
    await widget().getByTestId('message').filter({ hasText: 'photo of the label' }).waitFor();
    // On screen while the page is visible and focused: marked seen, the counts go.
    await alice.next((f) => f.t === 'receipt' && f.kind === 'seen' && f.participantId === 'carol' && f.conversationId === demo.externalConversationId && f.upTo >= 3, 10_000);
    await page.screenshot({ path: join(SHOTS, 'widget-ticket-1280.png') });
    await widget().getByRole('button', { name: 'Back to all conversations' }).click();
    await expect.poll(() => ticket.getByTestId('conversation-unseen').count()).toBe(0);
  });

  it('the customer answers in the ticket conversation; pending shows "Sending…"-free once stored, a refused one offers retry', async () => {
    await widget().locator(`[data-testid="conversation"][data-id="${demo.externalConversationId}"]`).click();
    await widget().getByLabel('Your message').fill('Serial number is PR-2231.');
    await widget().getByLabel('Your message').press('Enter');
    await alice.next((f) => f.t === 'message' && f.message.body === 'Serial number is PR-2231.' && f.message.conversationId === demo.externalConversationId);
    // Over the hub's body limit: refused, shown as not sent with a retry.
    await widget().getByLabel('Your message').fill('x'.repeat(16_001));
    await widget().getByLabel('Your message').press('Enter');
    const failed = widget().getByTestId('message').filter({ has: page.getByTestId('failed') });
    await failed.waitFor();
    expect(await failed.getByRole('button', { name: 'Retry' }).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'widget-failed-1280.png') });
  });

  it('keyboard: Tab reaches the launcher, the panel takes focus, every control is reachable, Escape closes it and focus returns', async () => {
    await widget().getByRole('button', { name: 'Minimize chat' }).click();
    await expect.poll(focused).toBe('button.launcher');
    await page.keyboard.press('Enter');
    await widget().getByRole('dialog').waitFor();
    await expect.poll(focused).toBe('textarea');
    // Tab through the panel: the back control, the close control and the send button are reachable.
    const reached = new Set<string>();
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      reached.add((await focused()) ?? '');
    }
    expect([...reached]).toEqual(expect.arrayContaining(['button.back', 'button.close', 'button', 'textarea']));
    await page.keyboard.press('Escape');
    await expect.poll(() => widget().getByRole('dialog').count()).toBe(0);
    await expect.poll(focused).toBe('button.launcher');
  });

  it('axe: no serious or critical violations in the open widget', async () => {
    await launcher().click();
    await widget().getByRole('dialog').waitFor();
    await widget().getByTestId('message').first().waitFor();
    expect(await axeSerious(page, 'widget (conversation)')).toEqual([]);
    await widget().getByRole('button', { name: 'Back to all conversations' }).click();
    expect(await axeSerious(page, 'widget (list)')).toEqual([]);
  });

  it('at 375 px the panel fills the screen, with 16 px inputs', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    p.setDefaultTimeout(10_000);
    // A host page of our own: the demo page's wide <pre> makes mobile Chromium lay the page out wider than the screen.
    await p.goto(helpdesk.url);
    expect(await p.locator('meta[name="viewport"]').count()).toBe(1);
    console.log('demo page width at 375 px:', await p.evaluate(() => document.documentElement.scrollWidth));
    await p.setContent(
      `<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme</title></head><body><h1>Acme Printers</h1><p>Our products.</p>` +
        `<script src="${hub.url}/widget.js" data-token="${await hub.token('carol')}"></script></body></html>`,
    );
    await p.locator('#parley-widget').getByRole('button', { name: 'Open chat' }).click();
    await p.locator('#parley-widget').getByTestId('conversation').first().waitFor();
    const box = await p.locator('#parley-widget .panel').boundingBox();
    expect(box?.width).toBeGreaterThanOrEqual(370);
    expect(await p.locator('#parley-widget textarea').evaluate((el) => getComputedStyle(el).fontSize)).toBe('16px');
    await p.screenshot({ path: join(SHOTS, 'widget-list-375.png') });
    await p.locator('#parley-widget').getByTestId('conversation').first().click();
    await p.locator('#parley-widget').getByTestId('message').first().waitFor();
    await p.screenshot({ path: join(SHOTS, 'widget-conversation-375.png') });
    await phone.close();
  });

  it('the customer page opened from the link in the email reads and answers the conversation', async () => {
    // Carol is not looking: the widget is closed and the tab is elsewhere.
    await widget().getByRole('button', { name: 'Minimize chat' }).click();
    const since = Date.now();
    await agentReplies(demo.externalConversationId, 'We have booked a technician for Tuesday.');
    let raw = '';
    await expect
      .poll(
        async () => {
          const { emails } = await hub.ok<{ emails: Array<{ id: string; participantId: string; createdAt: number }> }>('GET', `/v1/emails?since=${since}`);
          const mail = emails.find((e) => e.participantId === 'carol');
          if (!mail) return false;
          raw = (await hub.api('GET', `/v1/emails/${mail.id}/raw`)).body as string;
          return true;
        },
        { timeout: ESCALATION_DELAY_MS + 15_000, interval: 300 },
      )
      .toBe(true);
    const unfolded = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    const link = /\/chat\/#link=([A-Za-z0-9._-]+)/.exec(unfolded)?.[1];
    expect(link).toBeTruthy();
    expect(unfolded).toContain('within 2 seconds');

    // bypassCSP only lets the test inject axe-core; the page's own CSP header is checked below.
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, bypassCSP: true });
    const p = await phone.newPage();
    p.setDefaultTimeout(10_000);
    const response = await p.goto(`${hub.url}/chat/#link=${link}`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');
    expect(await p.locator('meta[name="viewport"]').count()).toBe(1);
    await p.getByTestId('message').filter({ hasText: 'booked a technician for Tuesday' }).waitFor();
    await p.getByTestId('message').filter({ hasText: 'Serial number is PR-2231.' }).waitFor();
    await alice.next((f) => f.t === 'receipt' && f.kind === 'seen' && f.participantId === 'carol' && f.conversationId === demo.externalConversationId, 10_000);
    await p.getByLabel('Your message').fill('Tuesday works for me, thank you!');
    await p.getByLabel('Your message').press('Enter');
    const answer = await alice.next((f) => f.t === 'message' && f.message.body === 'Tuesday works for me, thank you!');
    expect(answer.t === 'message' && answer.message).toMatchObject({ conversationId: demo.externalConversationId, senderId: 'carol' });
    expect(await p.getByLabel('Your message').evaluate((el) => getComputedStyle(el).fontSize)).toBe('16px');
    await p.screenshot({ path: join(SHOTS, 'chat-page-375.png') });
    expect(await axeSerious(p, 'customer page')).toEqual([]);

    // A tampered link: a clear message, no conversation.
    const bad = await phone.newPage();
    await bad.goto(`${hub.url}/chat/#link=${link!.slice(0, -2)}xx`);
    await bad.getByRole('alert').filter({ hasText: 'This link is not valid' }).waitFor();
    await phone.close();
  });

  it('a refused token shows a clear message and a retry', async () => {
    const p = await context.newPage();
    await p.setContent(`<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Host</title></head><body><h1>Host</h1><script src="${hub.url}/widget.js" data-token="not-a-token"></script></body></html>`);
    await p.locator('#parley-widget').getByRole('button', { name: 'Open chat' }).click();
    const refused = p.locator('#parley-widget').getByTestId('refused');
    await refused.filter({ hasText: 'We could not sign you in to the chat.' }).waitFor();
    await refused.getByRole('button', { name: 'Try again' }).click();
    await refused.filter({ hasText: 'We could not sign you in to the chat.' }).waitFor();
    await p.screenshot({ path: join(SHOTS, 'widget-refused-1280.png') });
    await p.close();
  });

  it('a token endpoint that keeps answering a refused token is reported, not left at "connecting…"', async () => {
    const p = await context.newPage();
    // The host's endpoint answers, but with a token the hub refuses: the SDK asks it again and again.
    await p.route('**/parley-token', (route) => route.fulfill({ status: 200, headers: { 'access-control-allow-origin': '*' }, contentType: 'application/json', body: JSON.stringify({ token: 'not-a-token' }) }));
    await p.setContent(
      `<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Host</title></head><body><h1>Host</h1><script src="${hub.url}/widget.js" data-token-url="http://host.invalid/parley-token"></script></body></html>`,
    );
    await p.locator('#parley-widget').getByRole('button', { name: 'Open chat' }).click();
    await p.locator('#parley-widget').getByTestId('refused').filter({ hasText: 'We could not sign you in to the chat.' }).waitFor();
    await p.close();
  });

  it('offline: a banner, no claim that an agent is online, and a message written meanwhile waits as "Sending…"', async () => {
    await launcher().click();
    await widget().locator(`[data-testid="conversation"][data-id="${demo.externalConversationId}"]`).click();
    await widget().getByTestId('message').first().waitFor();
    await widget().getByTestId('agent-status').filter({ hasText: 'An agent is online' }).waitFor();
    await hub.stop();
    await widget().getByTestId('offline').waitFor({ timeout: 15_000 });
    expect(await widget().getByTestId('agent-status').textContent()).not.toContain('An agent is online');
    await widget().getByLabel('Your message').fill('Are you still there?');
    await widget().getByLabel('Your message').press('Enter');
    await widget().getByTestId('message').filter({ hasText: 'Are you still there?' }).getByTestId('pending').filter({ hasText: 'Sending…' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'widget-offline-1280.png') });
  });
});
