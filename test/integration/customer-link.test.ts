import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { SmtpSink, type Received } from '../support/smtp-sink.js';

const DELAY_MS = 2_000;
const APP_URL = 'https://chat.example.com';

/** A direct conversation between agent `a` and customer `c`, created a moment ago so relations count. */
async function pair(hub: TestHub, a: string, c: string) {
  await hub.user(a);
  await hub.customer(c);
  const conv = (await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: a, members: [c], subject: `Printer ${a}` })) as { id: string };
  await new Promise((r) => setTimeout(r, 5));
  return conv;
}
const post = (hub: TestHub, conversationId: string, senderId: string, body: string) =>
  hub.ok('POST', `/v1/conversations/${conversationId}/messages`, { senderId, body, clientMsgId: `${senderId}-${Math.random()}` });

/** The `#link=` of the customer page link in an email's plain-text part. */
function linkIn(mail: Received): { url: string; link: string } {
  const m = /(https?:\/\/\S+?\/chat\/#link=([A-Za-z0-9._-]+))/.exec(mail.mail.text ?? '');
  if (!m) throw new Error(`no customer link in:\n${mail.mail.text}`);
  return { url: m[1]!, link: m[2]! };
}

async function session(hub: TestHub, body: unknown, contentType = 'application/json') {
  const res = await fetch(`${hub.url}/chat/session`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('customer links in escalation emails (PARLEY_CUSTOMER_URL)', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url, PARLEY_ESCALATION_DELAY_MS: String(DELAY_MS), PARLEY_OUTBOX_RETRY_BASE_MS: '200', PARLEY_APP_URL: APP_URL } });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  let link = '';
  let conversationId = '';

  it("a customer's email links to the customer page with a signed link, and names the delay", async () => {
    const conv = await pair(hub, 'agent1', 'cust1');
    conversationId = conv.id;
    await post(hub, conv.id, 'agent1', 'Your printer is ready.');
    await sink.waitFor(1, DELAY_MS + 10_000);
    const mail = sink.to('cust1@example.org')[0]!;
    const found = linkIn(mail);
    expect(found.url.startsWith(`${APP_URL}/chat/#link=`)).toBe(true);
    expect(mail.mail.html).toContain(`${APP_URL}/chat/#link=${found.link}`);
    expect(mail.mail.text).not.toContain('/app/#/c/');
    link = found.link;
    // The customer keeps its unsubscribe link; the delay text follows PARLEY_ESCALATION_DELAY_MS.
    expect(mail.mail.text).toContain('within 2 seconds');
    expect(mail.mail.text).not.toContain('/app/#/preferences');
    expect(mail.mail.text).toContain(`${APP_URL}/u/`);
    expect(mail.header('list-unsubscribe')).toContain(`${APP_URL}/u/`);
  });

  it('the link opens a session for exactly that customer and conversation', async () => {
    const r = await session(hub, { link });
    expect(r.status).toBe(200);
    expect(r.body.conversationId).toBe(conversationId);
    expect(r.body.expiresAt).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(r.body.expiresAt).toBeLessThanOrEqual(Date.now() + 61 * 60_000);
    const c = await hub.raw();
    c.send({ t: 'hello', v: 1, token: r.body.token });
    const welcome = await c.next('welcome');
    expect(welcome.t === 'welcome' && welcome.participant).toMatchObject({ id: 'cust1', kind: 'customer' });
    const h = await c.request({ t: 'history', conversationId }, 'history');
    expect(h.t === 'history' && h.messages.map((m) => m.body)).toEqual(['Your printer is ready.']);
  });

  it('a tampered participant, conversation or expiry is refused; so is garbage and a non-JSON body', async () => {
    const [p, c, exp, mac] = link.split('.') as [string, string, string, string];
    const other = await pair(hub, 'agent2', 'cust2');
    const tampered = [
      [Buffer.from('cust2').toString('base64url'), c, exp, mac],
      [p, other.id, exp, mac],
      [p, c, (parseInt(exp, 36) + 86_400_000).toString(36), mac],
      [p, c, exp, `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`],
    ].map((parts) => parts.join('.'));
    for (const t of tampered) {
      const r = await session(hub, { link: t });
      expect(r.status, t).toBe(401);
      expect(r.body.error.code).toBe('unauthenticated');
    }
    expect((await session(hub, { link: 'nonsense' })).status).toBe(401);
    expect((await session(hub, { link: '' })).status).toBe(400);
    expect((await session(hub, { link, extra: 1 })).status).toBe(400);
    expect((await session(hub, 'not json')).status).toBe(400);
    const form = await session(hub, `link=${link}`, 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('unsupported_media_type');
  });

  it('a disabled customer is refused with 403', async () => {
    await hub.customer('cust1', { disabled: true });
    const r = await session(hub, { link });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('forbidden');
    await hub.customer('cust1', { disabled: false });
  });

  it("an agent's email still links to the agent app, names the delay and links to the preferences", async () => {
    const conv = await pair(hub, 'agent3', 'cust3');
    const before = sink.received.length;
    await post(hub, conv.id, 'cust3', 'Is it ready?');
    await sink.waitFor(before + 1, DELAY_MS + 10_000);
    const mail = sink.to('agent3@example.com')[0]!;
    expect(mail.mail.text).toContain(`${APP_URL}/app/#/c/${conv.id}`);
    expect(mail.mail.text).not.toContain('/chat/');
    expect(mail.mail.text).toContain('within 2 seconds');
    expect(mail.mail.text).toContain(`${APP_URL}/app/#/preferences`);
    expect(mail.mail.html).toContain(`href="${APP_URL}/app/#/preferences"`);
    expect(mail.mail.text).not.toContain('within a minute');
  });

  it('the customer page is served at /chat/ with the page headers', async () => {
    const res = await fetch(`${hub.url}/chat/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const html = await res.text();
    expect(html).toContain('name="viewport"');
    const redirect = await fetch(`${hub.url}/chat`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
  });
});

describe('customer links expire (PARLEY_CUSTOMER_LINK_TTL_MS)', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({
      env: { PARLEY_SMTP_URL: sink.url, PARLEY_ESCALATION_DELAY_MS: '500', PARLEY_OUTBOX_RETRY_BASE_MS: '200', PARLEY_CUSTOMER_LINK_TTL_MS: '1500', PARLEY_CUSTOMER_URL: 'https://help.example.com/chat/' },
    });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  it('works until the TTL, then is refused as expired; the email follows PARLEY_CUSTOMER_URL and the delay', async () => {
    const conv = await pair(hub, 'agent9', 'cust9');
    await post(hub, conv.id, 'agent9', 'Ping');
    await sink.waitFor(1, 10_000);
    const mail = sink.to('cust9@example.org')[0]!;
    expect(mail.mail.text).toContain('https://help.example.com/chat/#link=');
    const { link } = linkIn(mail);
    expect((await session(hub, { link })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_100));
    const r = await session(hub, { link });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('token_expired');
  });
});
