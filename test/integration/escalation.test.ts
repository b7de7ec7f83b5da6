import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

const DELAY_MS = 600;

/** A hub with a short escalation delay, sending to a real SMTP server in this process. */
async function hubWithSmtp(sink: SmtpSink, env: Record<string, string> = {}, dataDir?: string): Promise<TestHub> {
  return TestHub.start({
    dataDir,
    env: { PARLEY_SMTP_URL: sink.url, PARLEY_ESCALATION_DELAY_MS: String(DELAY_MS), PARLEY_OUTBOX_RETRY_BASE_MS: '200', ...env },
  });
}

/** A direct conversation between agent `a` and customer `c`, created `settleMs` ago so relations count. */
async function pair(hub: TestHub, a: string, c: string, extra: { customer?: Record<string, unknown>; agent?: Record<string, unknown> } = {}) {
  await hub.user(a, extra.agent);
  await hub.customer(c, extra.customer);
  const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: a, members: [c], subject: `Printer ${a}` });
  // A relation begun in the same millisecond as a message does not count (SPEC §2).
  await new Promise((r) => setTimeout(r, 5));
  return conv as { id: string };
}

const post = (hub: TestHub, conversationId: string, senderId: string, body: string, clientMsgId = `${senderId}-${Math.random()}`) =>
  hub.ok('POST', `/v1/conversations/${conversationId}/messages`, { senderId, body, clientMsgId }) as Promise<{ message: { id: string; seq: number } }>;

/** The emails `address` got, once there are at least `n`. */
const mailsTo = (sink: SmtpSink, address: string, n = 1) => until(() => sink.to(address).length >= n && sink.to(address), `${n} email(s) to ${address}`);

const receiptOf = async (hub: TestHub, messageId: string, participantId: string) =>
  (await hub.ok('GET', `/v1/messages/${messageId}/receipts`)).recipients.find((x: { participantId: string }) => x.participantId === participantId);

type EmailRow = { id: string; to: string; status: string; attempts: number; error: string | null; messageIds: string[]; participantId: string };
const outbox = async (hub: TestHub) => (await hub.ok('GET', '/v1/emails?since=0&limit=1000')).emails as EmailRow[];

describe('email escalation', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await hubWithSmtp(sink);
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  it('sends one email after the delay, and none before', async () => {
    const conv = await pair(hub, 'a1', 'c1');
    const started = Date.now();
    await post(hub, conv.id, 'a1', 'We fixed your printer.');
    await sink.waitFor(1);
    const mails = sink.to('c1@example.org');
    expect(mails).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(DELAY_MS - 50);
    expect(mails[0]!.mail.text).toContain('We fixed your printer.');
    expect(mails[0]!.mail.subject).toContain('Printer a1');
    // The sender is never emailed about its own message.
    expect(sink.to('a1@example.com')).toHaveLength(0);
  });

  it('puts several messages into one email', async () => {
    const conv = await pair(hub, 'a2', 'c2');
    const before = sink.received.length;
    const sent = [await post(hub, conv.id, 'a2', 'first'), await post(hub, conv.id, 'a2', 'second'), await post(hub, conv.id, 'a2', 'third')];
    await sink.waitFor(before + 1);
    // The one email holds all three, so its emailed watermark leaves nothing for a second one.
    const rows = (await outbox(hub)).filter((e) => e.participantId === 'c2');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.messageIds).toEqual(sent.map((m) => m.message.id));
    const mails = sink.to('c2@example.org');
    expect(mails).toHaveLength(1);
    const text = mails[0]!.mail.text ?? '';
    expect(text.indexOf('first')).toBeLessThan(text.indexOf('second'));
    expect(text.indexOf('second')).toBeLessThan(text.indexOf('third'));
  });

  it('sends nothing when the message is seen before it is due', async () => {
    const conv = await pair(hub, 'a3', 'c3');
    const customer = await hub.connect('c3');
    const { message } = await post(hub, conv.id, 'a3', 'seen in time');
    customer.send({ t: 'seen', conversationId: conv.id, upTo: message.seq });
    await customer.sync();
    expect(await receiptOf(hub, message.id, 'c3')).toMatchObject({ email: 'seen_in_time', emailedAt: null });
    // A later unseen message falls due after the first would have: its email is the first and only one.
    await post(hub, conv.id, 'a3', 'left unread');
    const mails = await mailsTo(sink, 'c3@example.org');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.mail.text).toContain('left unread');
    expect(mails[0]!.mail.text).not.toContain('seen in time');
    expect(await receiptOf(hub, message.id, 'c3')).toMatchObject({ email: 'seen_in_time', emailedAt: null });
  });

  it('emails only the unseen messages when some were seen', async () => {
    const conv = await pair(hub, 'a4', 'c4');
    const customer = await hub.connect('c4');
    const first = await post(hub, conv.id, 'a4', 'old news');
    customer.send({ t: 'seen', conversationId: conv.id, upTo: first.message.seq });
    await customer.sync();
    const before = sink.received.length;
    await post(hub, conv.id, 'a4', 'fresh news');
    await sink.waitFor(before + 1);
    const text = sink.to('c4@example.org')[0]!.mail.text ?? '';
    expect(text).toContain('fresh news');
    expect(text).not.toContain('old news');
  });

  it('reports a message seen before the email went as seen in time, not emailed, though the email covers later ones', async () => {
    const conv = await pair(hub, 'a4b', 'c4b');
    const customer = await hub.connect('c4b');
    const agent = await hub.connect('a4b');
    const first = await post(hub, conv.id, 'a4b', 'read at once');
    customer.send({ t: 'seen', conversationId: conv.id, upTo: first.message.seq });
    await customer.sync();
    const second = await post(hub, conv.id, 'a4b', 'left unread');
    await agent.next((f) => f.t === 'receipt' && f.kind === 'emailed' && f.upTo === second.message.seq);
    const of = async (id: string) => (await hub.ok('GET', `/v1/messages/${id}/receipts`)).recipients.find((x: { participantId: string }) => x.participantId === 'c4b');
    expect(await of(first.message.id)).toMatchObject({ email: 'seen_in_time', emailedAt: null, emailId: null, seenAt: expect.any(Number) });
    expect(await of(second.message.id)).toMatchObject({ email: 'emailed', emailedAt: expect.any(Number), emailId: expect.any(String), seenAt: null });
  });

  it('escapes message bodies in the HTML part', async () => {
    const conv = await pair(hub, 'a5', 'c5');
    const before = sink.received.length;
    await post(hub, conv.id, 'a5', '<img src=x onerror=alert(1)>');
    await sink.waitFor(before + 1);
    const mail = sink.to('c5@example.org')[0]!.mail;
    expect(mail.html).not.toContain('<img src=x');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('threads every email of a conversation and carries the automation headers', async () => {
    const conv = await pair(hub, 'a6', 'c6');
    const before = sink.received.length;
    await post(hub, conv.id, 'a6', 'one');
    await sink.waitFor(before + 1);
    await post(hub, conv.id, 'a6', 'two');
    await sink.waitFor(before + 2);
    const [m1, m2] = sink.to('c6@example.org');
    for (const m of [m1!, m2!]) {
      expect(m.header('auto-submitted')).toBe('auto-generated');
      expect(m.header('x-auto-response-suppress')).toBe('All');
      expect(m.header('list-id')).toContain(conv.id);
      expect(m.header('list-unsubscribe')).toMatch(/^<http.*\/u\/.+>$/);
      expect(m.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    }
    expect(m1!.mail.subject).toBe(m2!.mail.subject);
    expect(m1!.mail.messageId).not.toBe(m2!.mail.messageId);
    const root = m1!.header('references')!.split(/\s+/)[0];
    expect(m2!.header('references')!.split(/\s+/)[0]).toBe(root);
    expect(m2!.mail.inReplyTo).toBe(m1!.mail.messageId);
    expect(m2!.header('references')).toContain(m1!.mail.messageId!);
  });

  it('does not email a participant without an address, and says so in receipts', async () => {
    await hub.user('a7');
    await hub.ok('PUT', '/v1/participants/c7', { kind: 'customer', name: 'No Mail' });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'a7', members: ['c7'] });
    await new Promise((r) => setTimeout(r, 5));
    const { message } = await post(hub, conv.id, 'a7', 'anyone there?');
    const pending = await hub.ok('GET', `/v1/messages/${message.id}/receipts`);
    expect(pending.recipients.find((r: { participantId: string }) => r.participantId === 'c7').email).toBe('no_address');
  });

  it('stops emailing a customer who unsubscribed with the one-click POST', async () => {
    const conv = await pair(hub, 'a8', 'c8');
    const before = sink.received.length;
    await post(hub, conv.id, 'a8', 'first email');
    await sink.waitFor(before + 1);
    const link = /^<(.+)>$/.exec(sink.to('c8@example.org')[0]!.header('list-unsubscribe')!)![1]!;
    const path = new URL(link).pathname;
    const page = await fetch(hub.url + path);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post">');
    expect((await hub.ok('GET', '/v1/participants/c8/preferences')).email.optOut).toBe(false);
    const res = await fetch(hub.url + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    expect((await hub.ok('GET', '/v1/participants/c8/preferences')).email.optOut).toBe(true);
    const { message } = await post(hub, conv.id, 'a8', 'second email?');
    expect((await receiptOf(hub, message.id, 'c8')).email).toBe('opted_out');
    // The customer answers; the agent's email about it falls due after c8's would have.
    await post(hub, conv.id, 'c8', 'a reply from the customer');
    await mailsTo(sink, 'a8@example.com');
    expect(sink.to('c8@example.org')).toHaveLength(1);
    expect((await outbox(hub)).filter((e) => e.participantId === 'c8')).toHaveLength(1);
    expect((await receiptOf(hub, message.id, 'c8')).email).toBe('opted_out');
    expect((await fetch(hub.url + '/u/not-a-token.AAAAAAAAAAAAAAAAAAAAAA', { method: 'POST' })).status).toBe(404);
  });

  it('reports emailed receipts with the email id, lists the email and serves its raw MIME', async () => {
    const conv = await pair(hub, 'a9', 'c9');
    const agent = await hub.connect('a9');
    const before = sink.received.length;
    const { message } = await post(hub, conv.id, 'a9', 'where is my receipt');
    await sink.waitFor(before + 1);
    const frame = await agent.next((f) => f.t === 'receipt' && f.kind === 'emailed');
    expect(frame).toMatchObject({ conversationId: conv.id, participantId: 'c9', upTo: message.seq });
    const receipts = await hub.ok('GET', `/v1/messages/${message.id}/receipts`);
    const r = receipts.recipients.find((x: { participantId: string }) => x.participantId === 'c9');
    expect(r).toMatchObject({ email: 'emailed' });
    expect(typeof r.emailId).toBe('string');
    expect(r.emailedAt).toBeGreaterThan(0);
    const list = await hub.ok('GET', `/v1/emails?since=0&limit=1000`);
    const row = list.emails.find((e: { id: string }) => e.id === r.emailId);
    expect(row).toMatchObject({ to: 'c9@example.org', kind: 'escalation', participantId: 'c9', conversationId: conv.id, messageIds: [message.id] });
    const raw = await fetch(`${hub.url}/v1/emails/${r.emailId}/raw`, { headers: { authorization: `Bearer ${(await import('../support/hub.js')).API_KEY}` } });
    expect(raw.headers.get('content-type')).toContain('message/rfc822');
    expect(await raw.text()).toContain('Auto-Submitted: auto-generated');
  });
});

describe('receipts say what escalation will do', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_ESCALATION_DELAY_MS: '60000' } });
  });
  afterAll(() => hub.stop());

  it('gives pending, not_notified, not_eligible and disabled where each applies', async () => {
    await hub.user('writer');
    await hub.user('quiet');
    await hub.user('late', {});
    await hub.user('gone');
    await hub.customer('cust');
    await hub.ok('PATCH', '/v1/participants/quiet/preferences', { notifications: { repliesToCustomers: 'none' } });
    await hub.ok('PATCH', '/v1/participants/late/preferences', { access: { viewConversations: 'mine' } });
    await hub.ok('PUT', '/v1/items/t9', { kind: 'ticket', title: 'Receipts', customerId: 'cust', followers: ['quiet', 'gone'] });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't9', visibility: 'external' });
    await new Promise((r) => setTimeout(r, 5));
    const { message } = await post(hub, conv.id, 'writer', 'status check');
    // `late` starts following only after the message was written; `gone` is disabled.
    await hub.ok('PUT', '/v1/items/t9', { kind: 'ticket', title: 'Receipts', customerId: 'cust', followers: ['quiet', 'gone', 'late'] });
    await hub.ok('PUT', '/v1/participants/gone', { kind: 'user', name: 'gone', email: 'gone@example.com', disabled: true });
    const { recipients } = await hub.ok('GET', `/v1/messages/${message.id}/receipts`);
    const email = Object.fromEntries(recipients.map((r: { participantId: string; email: string }) => [r.participantId, r.email]));
    expect(email).toMatchObject({ cust: 'pending', quiet: 'not_notified', late: 'not_eligible', gone: 'disabled' });
    expect(email.writer).toBeUndefined();
  });
});

describe('notification preferences decide who is emailed', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  beforeEach(async () => {
    sink = await SmtpSink.start();
    hub = await hubWithSmtp(sink);
  });
  afterEach(async () => {
    await hub.stop();
    await sink.stop();
  });

  /** `witness` follows the item with default preferences: emailed about every message the agent might be. */
  async function itemSetup(prefs: Record<string, unknown>, follows: boolean) {
    await hub.user('agent', {});
    await hub.user('writer', {});
    await hub.user('witness', {});
    await hub.customer('cust');
    await hub.ok('PATCH', '/v1/participants/agent/preferences', prefs);
    await hub.ok('PUT', '/v1/items/t1', { kind: 'ticket', title: 'Broken printer', customerId: 'cust', followers: follows ? ['agent', 'witness'] : ['witness'] });
    const ext = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't1', visibility: 'external' });
    const int = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't1', visibility: 'internal' });
    await new Promise((r) => setTimeout(r, 5));
    return { ext: ext.id as string, int: int.id as string };
  }

  /**
   * Post, and say whether `agent` got an email: once the witness's email about the same message came
   * (the due time passed), the agent's receipt code says whether one is coming; if so, wait for it.
   */
  async function agentEmailed(conv: string, sender: string): Promise<boolean> {
    const { message } = await post(hub, conv, sender, `from ${sender}`);
    await mailsTo(sink, 'witness@example.com');
    const code = (await receiptOf(hub, message.id, 'agent')).email;
    if (code === 'not_notified') {
      expect(sink.to('agent@example.com')).toHaveLength(0);
      expect((await outbox(hub)).filter((e) => e.participantId === 'agent')).toHaveLength(0);
      return false;
    }
    await mailsTo(sink, 'agent@example.com');
    expect((await receiptOf(hub, message.id, 'agent')).email).toBe('emailed');
    return true;
  }

  it.each([
    ['all', false, true],
    ['mine', true, true],
    ['mine', false, false],
    ['none', true, false],
  ])('fromCustomers %s (following: %s) → emailed: %s', async (fromCustomers, follows, expected) => {
    const { ext } = await itemSetup({ notifications: { fromCustomers } }, follows);
    expect(await agentEmailed(ext, 'cust')).toBe(expected);
  });

  it.each([
    ['all', false, true],
    ['followed', true, true],
    ['followed', false, false],
    ['none', true, false],
  ])('repliesToCustomers %s (following: %s) → emailed: %s', async (repliesToCustomers, follows, expected) => {
    const { ext } = await itemSetup({ notifications: { repliesToCustomers } }, follows);
    expect(await agentEmailed(ext, 'writer')).toBe(expected);
  });

  it.each([
    [true, true, true],
    [true, false, false],
    [false, true, false],
  ])('followedInternal %s (following: %s) → emailed: %s', async (followedInternal, follows, expected) => {
    const { int } = await itemSetup({ notifications: { followedInternal } }, follows);
    expect(await agentEmailed(int, 'writer')).toBe(expected);
  });

  it('never emails a customer about an internal conversation', async () => {
    const { int } = await itemSetup({}, true);
    await post(hub, int, 'writer', 'internal only');
    // The agents who follow it were emailed, so the due time passed.
    await mailsTo(sink, 'agent@example.com');
    await mailsTo(sink, 'witness@example.com');
    expect(sink.to('cust@example.org')).toHaveLength(0);
    expect((await outbox(hub)).filter((e) => e.participantId === 'cust')).toHaveLength(0);
    expect(sink.to('agent@example.com')).toHaveLength(1);
  });
});

describe('escalation across restarts and outages', () => {
  it('sends exactly one email after a kill -9 before the due time', async () => {
    const sink = await SmtpSink.start();
    const hub = await hubWithSmtp(sink, { PARLEY_ESCALATION_DELAY_MS: '1500' });
    try {
      const conv = await pair(hub, 'ka', 'kc');
      await post(hub, conv.id, 'ka', 'survives a crash');
      await hub.crash();
      expect(sink.received).toHaveLength(0);
      await hub.launch();
      await sink.waitFor(1);
      // After it was sent, a restart sends nothing more: a later message's email, due after anything
      // the rebuild could fire, is the second and last.
      await hub.crash();
      await hub.launch();
      await post(hub, conv.id, 'ka', 'after the restarts');
      const mails = await mailsTo(sink, 'kc@example.org', 2);
      expect(sink.received).toHaveLength(2);
      expect(mails[0]!.mail.text).toContain('survives a crash');
      expect(mails[1]!.mail.text).toContain('after the restarts');
      expect(mails[1]!.mail.text).not.toContain('survives a crash');
    } finally {
      await hub.stop();
      await sink.stop();
    }
  });

  it('queues through an SMTP outage and delivers each email once when it is back', async () => {
    const sink = await SmtpSink.start();
    const hub = await hubWithSmtp(sink);
    try {
      await sink.stop();
      const conv = await pair(hub, 'oa', 'oc');
      await post(hub, conv.id, 'oa', 'during the outage');
      const queued = await until(async () => {
        const rows = await outbox(hub);
        return rows.length > 0 && rows[0]!.attempts >= 1 && rows;
      }, 'a failed attempt');
      expect(queued).toHaveLength(1);
      expect(queued[0]).toMatchObject({ status: 'queued' });
      await sink.listen();
      await sink.waitFor(1, 20_000);
      // Sent is final: the worker never sends a sent row again.
      const sent = await until(async () => {
        const rows = await outbox(hub);
        return rows[0]?.status === 'sent' && rows;
      }, 'the row marked sent');
      expect(sent).toHaveLength(1);
      expect(sink.to('oc@example.org')).toHaveLength(1);
    } finally {
      await hub.stop();
      await sink.stop();
    }
  });

  it('marks an address the server rejects as failed with its reply, without blocking others', async () => {
    const sink = await SmtpSink.start();
    const hub = await hubWithSmtp(sink);
    try {
      sink.reject.add('bad@example.org');
      await hub.user('ra');
      await hub.customer('bad', { email: 'bad@example.org' });
      await hub.customer('good', { email: 'good@example.org' });
      const c1 = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'ra', members: ['bad'] });
      const c2 = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'ra', members: ['good'] });
      await new Promise((r) => setTimeout(r, 5));
      await post(hub, c1.id, 'ra', 'to the bad address');
      await post(hub, c2.id, 'ra', 'to the good address');
      await sink.waitFor(1);
      const list = await until(async () => {
        const rows = await outbox(hub);
        return rows.length === 2 && rows.every((e) => e.status !== 'queued') && rows;
      }, 'both rows settled');
      expect(list.find((e) => e.to === 'bad@example.org')).toMatchObject({ status: 'failed' });
      expect(list.find((e) => e.to === 'bad@example.org')!.error).toContain('550');
      expect(list.find((e) => e.to === 'good@example.org')).toMatchObject({ status: 'sent' });
    } finally {
      await hub.stop();
      await sink.stop();
    }
  });

  it('prunes sent emails older than the retention at start, and keeps them otherwise', async () => {
    const sink = await SmtpSink.start();
    const hub = await hubWithSmtp(sink);
    try {
      const conv = await pair(hub, 'pa', 'pc');
      await post(hub, conv.id, 'pa', 'soon pruned');
      await sink.waitFor(1);
      await until(async () => (await outbox(hub))[0]?.status === 'sent', 'the row marked sent');
      expect((await hub.ok('GET', '/v1/emails')).emails).toHaveLength(1);
      await hub.killWith('SIGTERM');
      await hub.launch();
      expect((await hub.ok('GET', '/v1/emails')).emails).toHaveLength(1);
      await hub.killWith('SIGTERM');
      const pruning = await TestHub.start({ dataDir: hub.dataDir, env: { PARLEY_OUTBOX_RETENTION_MS: '1' } });
      try {
        const deadline = Date.now() + 5000;
        let left = 1;
        while (left > 0 && Date.now() < deadline) {
          left = (await pruning.ok('GET', '/v1/emails')).emails.length;
          if (left) await new Promise((r) => setTimeout(r, 50));
        }
        expect(left).toBe(0);
      } finally {
        await pruning.killWith('SIGTERM');
      }
    } finally {
      await hub.stop();
      await sink.stop();
    }
  });

  it('writes .eml files to the data dir when no SMTP server is configured', async () => {
    const hub = await TestHub.start({ env: { PARLEY_ESCALATION_DELAY_MS: String(DELAY_MS) } });
    try {
      const conv = await pair(hub, 'fa', 'fc');
      await post(hub, conv.id, 'fa', 'to a file');
      const { readdirSync, readFileSync, existsSync } = await import('node:fs');
      const dir = `${hub.dataDir}/outbox`;
      const deadline = Date.now() + 10_000;
      while ((!existsSync(dir) || readdirSync(dir).filter((f) => f.endsWith('.eml')).length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
      expect(files).toHaveLength(1);
      expect(readFileSync(`${dir}/${files[0]}`, 'utf8')).toMatch(/^To: .*<fc@example\.org>\r?$/m);
    } finally {
      await hub.stop();
    }
  });
});

describe('email caps, receipt codes and plain-text layout (SPEC §5)', () => {
  const DELAY = 2000;
  let sink: SmtpSink;
  let hub: TestHub;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    // A longer delay: sixty posts must all be due in the same email.
    hub = await hubWithSmtp(sink, { PARLEY_ESCALATION_DELAY_MS: String(DELAY) });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  // An emailed receipt comes at commit, before SMTP: mailsTo waits for the email itself.
  const receiptOf = async (messageId: string, participantId: string) =>
    (await hub.ok('GET', `/v1/messages/${messageId}/receipts`)).recipients.find((x: { participantId: string }) => x.participantId === participantId);

  it('holds the latest 50 of 60 due messages, says 10 are left out, and receipts say summarized for those', async () => {
    const conv = await pair(hub, 'capa', 'capc');
    const agent = await hub.connect('capa');
    const sent: Array<{ id: string; seq: number }> = [];
    for (let i = 1; i <= 60; i++) sent.push((await post(hub, conv.id, 'capa', `numbered message ${String(i).padStart(2, '0')}`)).message);
    // The emailed watermark still rises to the last seq.
    await agent.next((f) => f.t === 'receipt' && f.kind === 'emailed' && f.participantId === 'capc' && f.upTo === sent[59]!.seq, DELAY * 3);
    const mails = await mailsTo(sink, 'capc@example.org');
    expect(mails).toHaveLength(1);
    const { text, html } = mails[0]!.mail;
    expect(text).toContain('10 earlier messages are not shown — open the conversation to read them');
    expect(html).toContain('10 earlier messages are not shown');
    for (let i = 1; i <= 10; i++) expect(text).not.toContain(`numbered message ${String(i).padStart(2, '0')}`);
    for (let i = 11; i <= 60; i++) expect(text).toContain(`numbered message ${String(i).padStart(2, '0')}`);

    const row = (await hub.ok('GET', '/v1/emails?since=0&limit=1000')).emails.find((e: { participantId: string }) => e.participantId === 'capc');
    expect(row.messageIds).toEqual(sent.slice(10).map((m) => m.id));
    for (const m of sent.slice(0, 10)) expect(await receiptOf(m.id, 'capc')).toMatchObject({ email: 'summarized', emailId: row.id, emailedAt: expect.any(Number) });
    for (const m of [sent[10]!, sent[35]!, sent[59]!]) expect(await receiptOf(m.id, 'capc')).toMatchObject({ email: 'emailed', emailId: row.id, emailedAt: expect.any(Number) });
    // Nothing is emailed twice: the summarized ones do not come back in the next email.
    const later = await post(hub, conv.id, 'capa', 'one more after the caps');
    await agent.next((f) => f.t === 'receipt' && f.kind === 'emailed' && f.participantId === 'capc' && f.upTo === later.message.seq, DELAY * 3);
    const next = await mailsTo(sink, 'capc@example.org', 2);
    expect(next).toHaveLength(2);
    expect(next[1]!.mail.text).toContain('one more after the caps');
    expect(next[1]!.mail.text).not.toContain('numbered message');
  });

  it('does not say emailed for a message that was not eligible, below a later one that was emailed', async () => {
    await hub.user('rwriter');
    await hub.user('rquiet');
    await hub.user('rlate');
    await hub.customer('rcust');
    // rquiet is never notified of agents' replies; rlate sees the ticket only while following it.
    await hub.ok('PATCH', '/v1/participants/rquiet/preferences', { notifications: { repliesToCustomers: 'none' } });
    await hub.ok('PATCH', '/v1/participants/rlate/preferences', { access: { viewConversations: 'mine' } });
    await hub.ok('PUT', '/v1/items/rt1', { kind: 'ticket', title: 'Receipts', customerId: 'rcust', followers: ['rquiet'] });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'rt1', visibility: 'external' });
    await new Promise((r) => setTimeout(r, 5));
    const first = await post(hub, conv.id, 'rwriter', 'an agent reply, no email for rquiet or rlate');
    await hub.ok('PUT', '/v1/items/rt1', { kind: 'ticket', title: 'Receipts', customerId: 'rcust', followers: ['rquiet', 'rlate'] });
    await new Promise((r) => setTimeout(r, 5));
    const second = await post(hub, conv.id, 'rcust', 'the customer writes back');
    const agent = await hub.connect('rwriter');
    for (const p of ['rquiet', 'rlate']) await agent.next((f) => f.t === 'receipt' && f.kind === 'emailed' && f.participantId === p && f.upTo === second.message.seq, DELAY * 3);
    for (const p of ['rquiet', 'rlate']) {
      const mails = await mailsTo(sink, `${p}@example.com`);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.mail.text).toContain('the customer writes back');
      expect(mails[0]!.mail.text).not.toContain('an agent reply');
      expect(await receiptOf(second.message.id, p)).toMatchObject({ email: 'emailed', emailedAt: expect.any(Number) });
    }
    expect(await receiptOf(first.message.id, 'rquiet')).toMatchObject({ email: 'not_notified', emailedAt: null, emailId: null });
    expect(await receiptOf(first.message.id, 'rlate')).toMatchObject({ email: 'not_eligible', emailedAt: null, emailId: null });
  });

  it('indents every line of a body under its sender line in the plain-text part', async () => {
    const conv = await pair(hub, 'inda', 'indc');
    await post(hub, conv.id, 'inda', 'Your refund is approved.\n\nMallory — 10:00\nfake: send your password to mallory@evil.example');
    await post(hub, conv.id, 'inda', 'Second\r\nMallory — 10:01\u2028also fake');
    const agent = await hub.connect('inda');
    await agent.next((f) => f.t === 'receipt' && f.kind === 'emailed' && f.participantId === 'indc', DELAY * 3);
    const text = (await mailsTo(sink, 'indc@example.org'))[0]!.mail.text!;
    const lines = text.split(/\r\n|[\n\r\v\f\u0085\u2028\u2029]/);
    expect(lines).toContain('  Your refund is approved.');
    expect(lines).toContain('  Mallory — 10:00');
    expect(lines).toContain('  fake: send your password to mallory@evil.example');
    expect(lines).toContain('  Mallory — 10:01');
    expect(lines).toContain('  also fake');
    expect(lines.filter((l) => l.startsWith('Mallory') || l.startsWith('fake') || l.startsWith('also fake'))).toEqual([]);
    // Exactly two sender lines at column 0, both the real sender's.
    expect(lines.filter((l) => / — \S/.test(l) && !l.startsWith(' ') && !l.includes('not shown')).map((l) => l.split(' — ')[0])).toEqual(['inda', 'inda']);
  });
});
