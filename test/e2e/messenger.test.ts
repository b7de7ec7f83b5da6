import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TICKET, seedDemo, startHelpdesk, type DemoData, type Helpdesk } from '../../web/demo/helpdesk.js';
import type { TestClient } from '../support/client.js';
import { launchChromium, SHOTS } from '../support/browser.js';
import { API_KEY, JWT_SECRET, TestHub } from '../support/hub.js';

const ESCALATION_DELAY_MS = 2_000;

/**
 * The product as people use it: the agent messenger and the customer widget in a real Chromium, two
 * browser contexts, against the real hub and the demo helpdesk. The tests are the steps of one story
 * and run in order.
 */
describe('agent messenger and customer widget in a browser', () => {
  let hub: TestHub;
  let helpdesk: Helpdesk;
  let demo: DemoData;
  let browser: Browser;
  let agent: Page;
  let customer: Page;
  let bob: TestClient;
  /** Every WebSocket frame the customer's page received, as text. */
  const customerFrames: string[] = [];
  let step = 0;

  const widget = () => customer.locator('#parley-widget');
  const shoot = async (name: string) => {
    step++;
    const prefix = String(step).padStart(2, '0');
    await agent.screenshot({ path: join(SHOTS, `${prefix}-${name}-agent.png`) });
    await customer.screenshot({ path: join(SHOTS, `${prefix}-${name}-widget.png`) });
  };
  const customerWrites = async (text: string) => {
    await widget().getByLabel('Your message').fill(text);
    await widget().getByLabel('Your message').press('Enter');
  };
  const agentWrites = async (text: string) => {
    await agent.getByLabel('Message', { exact: true }).fill(text);
    await agent.getByLabel('Message', { exact: true }).press('Enter');
  };
  const openInbox = () => agent.locator('[data-section="customers"] .conv', { hasText: 'Carol Diaz' }).click();

  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_ESCALATION_DELAY_MS: String(ESCALATION_DELAY_MS) } });
    const access = { hubUrl: hub.url, apiKey: API_KEY, jwtSecret: JWT_SECRET };
    demo = await seedDemo(access);
    helpdesk = await startHelpdesk(access);
    bob = await hub.connect('bob');
    browser = await launchChromium();
    agent = await (await browser.newContext()).newPage();
    customer = await (await browser.newContext()).newPage();
    customer.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => customerFrames.push(String(payload))));
    await agent.goto(helpdesk.agentUrl('alice'));
    await agent.locator('.me strong', { hasText: 'Alice Martin' }).waitFor();
    await agent.locator('.conv', { hasText: DEMO_TICKET.title }).first().waitFor();
    await customer.goto(helpdesk.url);
    await widget().getByRole('button', { name: 'Open chat' }).click();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await helpdesk?.close();
    await hub?.stop();
  });

  it('the customer writes in the widget; the agent sees the message under "From customers" and a bubble', async () => {
    await customerWrites('Hello, my printer is smoking again.');
    await agent.getByTestId('toast').filter({ hasText: 'Carol Diaz: Hello, my printer is smoking again.' }).waitFor();
    await agent.locator('[data-section="customers"] .conv', { hasText: 'Carol Diaz' }).waitFor();
    await expect.poll(() => agent.getByTestId('unseen-customers').textContent()).toMatch(/^[1-9]/);
    await shoot('customer-writes');
  });

  it('the agent replies and the widget shows it', async () => {
    await openInbox();
    await agent.getByTestId('message').filter({ hasText: 'Hello, my printer is smoking again.' }).waitFor();
    await agentWrites('Hi Carol, please unplug it. I am on it.');
    await widget().getByTestId('message').filter({ hasText: 'Hi Carol, please unplug it. I am on it.' }).waitFor();
    // Alice is a member now: the widget watches her presence.
    await widget().getByTestId('agent-status').filter({ hasText: 'An agent is online' }).waitFor();
    await widget().getByLabel('Your message').pressSequentially('Thank');
    await agent.locator('.typing', { hasText: 'Carol Diaz is typing…' }).waitFor();
    await shoot('agent-replies');
    await widget().getByLabel('Your message').fill('');
  });

  it('seen ticks appear on both sides', async () => {
    // The widget is open and focused, so Carol saw the reply; Alice has the conversation open.
    await agent.getByTestId('message').filter({ hasText: 'I am on it.' }).getByTestId('seen-by').filter({ hasText: 'Seen by Carol Diaz' }).waitFor();
    const tick = widget().getByTestId('message').filter({ hasText: 'smoking again' }).getByTestId('tick');
    await expect.poll(() => tick.getAttribute('data-state')).toBe('seen');
    await shoot('seen-ticks');
  });

  it('an internal message in the ticket never reaches the widget, not even as a frame', async () => {
    const secret = 'INTERNAL: this customer is on the recall list';
    await agent.locator('[data-section="internal"] .conv').first().click();
    await agent.getByTestId('message').filter({ hasText: 'recall last month' }).waitFor();
    await agentWrites(secret);
    await agent.getByTestId('message').filter({ hasText: secret }).getByTestId('status').waitFor();
    await hub.ok('POST', `/v1/conversations/${demo.internalConversationId}/messages`, { senderId: 'bob', body: `${secret} (via the API)`, clientMsgId: 'e2e-internal' });
    // A barrier: once this later reply reaches the widget, anything sent before it would have too.
    await openInbox();
    await agentWrites('Checking with the team.');
    await widget().getByTestId('message').filter({ hasText: 'Checking with the team.' }).waitFor();
    expect(customerFrames.some((f) => f.includes('Checking with the team.'))).toBe(true);
    expect(customerFrames.filter((f) => f.includes('INTERNAL'))).toEqual([]);
    expect(await widget().textContent()).not.toContain('INTERNAL');
    await shoot('internal-stays-internal');
  });

  it('preferences saved in the panel change what the hub notifies', async () => {
    await agent.getByRole('button', { name: 'Preferences' }).click();
    const panel = agent.getByRole('form', { name: 'Preferences' });
    await expect.poll(() => panel.locator('select[name="fromCustomers"]').inputValue()).toBe('all');
    await panel.locator('select[name="fromCustomers"]').selectOption('none');
    await panel.getByRole('button', { name: 'Save' }).click();
    await panel.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect((await hub.ok('GET', '/v1/participants/alice/preferences')).notifications.fromCustomers).toBe('none');
    await shoot('preferences-saved');

    const bobNotified = bob.next((f) => f.t === 'notify' && f.reason === 'from_customer');
    await customerWrites('Is anyone there?');
    await bobNotified;
    // Alice still receives the message (she may see it) but is no longer told: no bubble.
    await agent.getByTestId('message').filter({ hasText: 'Is anyone there?' }).waitFor();
    expect(await agent.getByTestId('toast').filter({ hasText: 'Is anyone there?' }).count()).toBe(0);
    await shoot('no-bubble-after-preferences');
    await panel.getByRole('button', { name: 'Close' }).click();
  });

  it('an agent starts a direct conversation by typing @ and picking people', async () => {
    await agent.getByRole('button', { name: '+ New conversation' }).click();
    await agent.getByLabel('People').fill('@Bo');
    await agent.getByRole('option', { name: /Bob Chen/ }).click();
    await agent.getByRole('button', { name: 'Start conversation' }).click();
    await agent.locator('[data-section="direct"] .conv', { hasText: 'Bob Chen' }).waitFor();
    const pushed = await bob.next((f) => f.t === 'conversation' && f.conversation.kind === 'direct');
    expect(pushed.t === 'conversation' && [...pushed.conversation.members].sort()).toEqual(['alice', 'bob']);
    await agentWrites('Bob, can you check the recall list?');
    await bob.next((f) => f.t === 'message' && f.message.body === 'Bob, can you check the recall list?');
    await shoot('direct-conversation');
  });

  it('a reply left unseen past the delay shows as emailed', async () => {
    await widget().getByRole('button', { name: 'Minimize chat' }).click();
    await openInbox();
    await agentWrites('Carol, we will send a technician tomorrow.');
    const status = agent.getByTestId('message').filter({ hasText: 'technician tomorrow' }).getByTestId('emailed');
    await status.filter({ hasText: 'Emailed Carol Diaz' }).waitFor({ timeout: ESCALATION_DELAY_MS + 10_000 });
    const emails = await hub.ok<{ emails: Array<{ to: string; participantId: string }> }>('GET', '/v1/emails');
    expect(emails.emails.some((e) => e.participantId === 'carol')).toBe(true);
    await shoot('emailed');
  });
});
