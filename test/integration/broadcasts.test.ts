import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

type Status = { id: string; recipients: number; queued: number; sent: number; failed: number; skipped: number };

describe('admin broadcasts against the real hub (NOTIFICATIONS §7)', () => {
  let sink: SmtpSink;
  let hub: TestHub;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url, PARLEY_OUTBOX_RETRY_BASE_MS: '100' } });
    await hub.user('ada', { name: 'Ada Lovelace', groups: ['ops'], roles: ['admin'] });
    await hub.user('bob', { name: 'Bob Smith', groups: [{ id: 'ops', permission: 'ro' }], roles: ['admin'] });
    await hub.user('cy', { name: 'Cy Müller, Jr.', roles: ['oncall'] });
    await hub.user('dee', { groups: ['ops'], disabled: true });
    await hub.user('eve', { groups: ['ops'] });
    await hub.ok('PATCH', '/v1/participants/eve/preferences', { email: { optOut: true } });
    await hub.user('nomail', { groups: ['ops'], email: undefined });
    await hub.customer('carla', { groups: ['ops'] });
    await hub.customer('cora', { groups: ['sales'] });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  it('reaches each person of overlapping users, groups and roles once by email, skipping the disabled, opted out and address-less', async () => {
    const post = await hub.api('POST', '/v1/broadcasts', {
      from: 'IT Team <it@example.com>',
      subject: 'Maintenance tonight',
      body: 'The hub is down from 22:00 to 23:00.\nSave your work.',
      users: ['ada', 'cy'],
      groups: [{ id: 'ops', permission: 'ro' }],
      roles: ['admin', 'oncall'],
      customersInGroups: true,
    });
    expect(post.status).toBe(202);
    expect(post.body).toEqual({ id: expect.any(String), recipients: 4 });
    const id = post.body.id as string;
    const status = await until(async () => {
      const s = (await hub.ok('GET', `/v1/broadcasts/${id}`)) as Status;
      return s.sent === 4 && s;
    }, 'every email sent');
    expect(status).toEqual({ id, recipients: 4, queued: 0, sent: 4, failed: 0, skipped: 3 });

    const mine = sink.received.filter((m) => m.header('list-id')?.includes(`b.${id}.`));
    expect(mine.map((m) => m.to[0]).sort()).toEqual(['ada@example.com', 'bob@example.com', 'carla@example.org', 'cy@example.com']);
    const ada = mine.find((m) => m.to[0] === 'ada@example.com')!;
    expect(ada.mail.from).toEqual({ name: 'IT Team', address: 'it@example.com' });
    expect(ada.mail.to).toEqual([{ name: 'Ada Lovelace', address: 'ada@example.com' }]);
    expect(ada.mail.subject).toBe('Maintenance tonight');
    expect(ada.mail.text).toContain('Save your work.');
    expect(ada.header('auto-submitted')).toBe('auto-generated');
    expect(ada.header('list-unsubscribe')).toBeUndefined();
    expect(mine.find((m) => m.to[0] === 'cy@example.com')!.mail.to).toEqual([{ name: 'Cy Müller, Jr.', address: 'cy@example.com' }]);
    // Customers can stop these emails (one-click, RFC 8058), and are told how in the footer.
    const carla = mine.find((m) => m.to[0] === 'carla@example.org')!;
    expect(carla.header('list-unsubscribe')).toMatch(/^<http[^>]+\/u\/[^>]+>$/);
    expect(carla.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(carla.mail.text).toContain('Stop these emails');
    const ids = new Set(mine.map((m) => m.mail.messageId));
    expect(ids.size).toBe(4);
  });

  it('pushes a notification frame with the broadcastId to a connected user when web is asked, and keeps it', async () => {
    const ada = await hub.connect('ada');
    const eve = await hub.connect('eve');
    const post = await hub.ok('POST', '/v1/broadcasts', { subject: 'New VPN', body: '<p>Install the <b>new</b> client.</p>', contentType: 'text/html', users: ['ada', 'eve'], web: true });
    // eve opted out of email, not of the web notification.
    expect(post.recipients).toBe(2);
    for (const c of [ada, eve]) {
      const frame = await c.next('notification');
      expect(frame).toMatchObject({ t: 'notification', notification: { broadcastId: post.id, definitionId: null, eventId: null, subject: 'New VPN', body: 'Install the new client.', seenAt: null } });
    }
    const page = (await ada.request({ t: 'notifications', id: ada.id() }, 'notifications')) as { notifications: Array<{ broadcastId: string | null }> };
    expect(page.notifications[0]!.broadcastId).toBe(post.id);
    const status = await until(async () => {
      const s = (await hub.ok('GET', `/v1/broadcasts/${post.id}`)) as Status;
      return s.sent === 1 && s;
    }, 'the one email sent');
    expect(status).toMatchObject({ recipients: 2, sent: 1, skipped: 1 });
    const mail = await until(() => sink.received.find((m) => m.header('list-id')?.includes(`b.${post.id}.`)), 'the html email');
    expect(mail.mail.html).toContain('<b>new</b>');
    expect(mail.mail.text).toContain('Install the new client.');
  });

  it('counts emails queued while the mail server is down, then sent once it is back', async () => {
    // A hub of its own: a sink that has served the pool does not close until its connections do.
    const down = await SmtpSink.start();
    const other = await TestHub.start({ env: { PARLEY_SMTP_URL: down.url, PARLEY_OUTBOX_RETRY_BASE_MS: '100' } });
    try {
      await down.stop();
      await other.user('ann', { roles: ['admin'] });
      await other.user('ben', { roles: ['admin'] });
      const post = await other.ok('POST', '/v1/broadcasts', { subject: 'Queued first', body: 'Hello', roles: ['admin'] });
      expect(await other.ok('GET', `/v1/broadcasts/${post.id}`)).toEqual({ id: post.id, recipients: 2, queued: 2, sent: 0, failed: 0, skipped: 0 });
      await down.listen();
      await until(async () => ((await other.ok('GET', `/v1/broadcasts/${post.id}`)) as Status).sent === 2, 'both sent after the outage');
      expect(await other.ok('GET', `/v1/broadcasts/${post.id}`)).toMatchObject({ queued: 0, sent: 2, failed: 0 });
      expect(down.received.map((m) => m.to[0]).sort()).toEqual(['ann@example.com', 'ben@example.com']);
    } finally {
      await other.stop();
      await down.stop();
    }
  }, 60_000);

  it('refuses bad broadcasts with 400 and answers an unknown id with 404', async () => {
    const ok = { subject: 'Hi', body: 'Hello', users: ['ada'] };
    for (const bad of [
      { ...ok, surprise: true },
      { ...ok, subject: '' },
      { ...ok, body: '   ' },
      { ...ok, subject: 'x'.repeat(1001) },
      { ...ok, from: 'not a mailbox' },
      { ...ok, from: 'IT <it@example.com>\r\nBcc: all@example.com' },
      { ...ok, groups: [{ id: 'ops', permission: 'admin' }] },
      { ...ok, groups: ['ops'] },
      { ...ok, contentType: 'text/markdown' },
      { ...ok, users: Array.from({ length: 10_001 }, (_, i) => `u${i}`) },
    ]) {
      const r = await hub.api('POST', '/v1/broadcasts', bad);
      expect(r.status, JSON.stringify(bad).slice(0, 80)).toBe(400);
      expect(r.body.error.code).toBe('invalid');
    }
    expect((await hub.api('GET', '/v1/broadcasts/nope')).status).toBe(404);
  });

  it("opens to an admin's session token, not to a plain one (NOTIFICATIONS §8)", async () => {
    const admin = (await hub.ok('POST', '/v1/tokens', { sub: 'ada', admin: true })).token as string;
    const plain = (await hub.ok('POST', '/v1/tokens', { sub: 'bob' })).token as string;
    const body = { subject: 'From the messaging center', body: 'Hello', users: ['cy'] };
    const posted = await hub.api('POST', '/v1/broadcasts', body, { authorization: `Bearer ${admin}` });
    expect(posted.status).toBe(202);
    expect((await hub.api('GET', `/v1/broadcasts/${posted.body.id}`, undefined, { authorization: `Bearer ${admin}` })).status).toBe(200);
    expect((await hub.api('POST', '/v1/broadcasts', body, { authorization: `Bearer ${plain}` })).status).toBe(403);
  });

  it('queues a 2,000-person broadcast at once and sends every email exactly once', async () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `mass${String(i).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => hub.user(id, { groups: [{ id: 'all-hands', permission: 'ro' }] })));
    const post = await hub.ok('POST', '/v1/broadcasts', { subject: 'All hands', body: 'Friday 10:00, big room.', groups: [{ id: 'all-hands', permission: 'ro' }] });
    expect(post.recipients).toBe(2000);
    const first = (await hub.ok('GET', `/v1/broadcasts/${post.id}`)) as Status;
    // One commit: every email exists the moment the answer comes.
    expect(first.queued + first.sent + first.failed).toBe(2000);
    await until(async () => ((await hub.ok('GET', `/v1/broadcasts/${post.id}`)) as Status).sent === 2000, 'all 2,000 sent', 90_000);
    expect(await hub.ok('GET', `/v1/broadcasts/${post.id}`)).toEqual({ id: post.id, recipients: 2000, queued: 0, sent: 2000, failed: 0, skipped: 0 });
    const got = sink.received.filter((m) => m.header('list-id')?.includes(`b.${post.id}.`)).map((m) => m.to[0]);
    expect(got.length).toBe(2000);
    expect(new Set(got)).toEqual(new Set(ids.map((id) => `${id}@example.com`)));
  }, 180_000);
});
