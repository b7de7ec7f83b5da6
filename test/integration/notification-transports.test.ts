import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

type Line = { participantId: string | null; address: string | null; transport: string; status: string; reason: string | null };
const audit = async (hub: TestHub, id: string) => (await hub.ok('GET', `/v1/events/${id}`)) as { deliveries: Line[]; notFound: Array<{ kind: string; id: string }> };
const lineOf = (lines: Line[], who: string, transport: string) => lines.find((d) => (d.participantId ?? d.address) === who && d.transport === transport);

const messages = { en: { subject: 'Ticket <OTOBO_TICKET_TicketNumber> moved: <OTOBO_TICKET_Title>', body: 'Now in <OTOBO_TICKET_Queue>.' } };
const SECRET = 'sms-secret-0123456789abcdef';

describe('notification transports: SMS, extra addresses, groups and roles, message, once per day', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  let webhook: Server;
  const smsRequests: Array<{ body: string; signature: string | undefined }> = [];

  beforeAll(async () => {
    sink = await SmtpSink.start();
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        smsRequests.push({ body, signature: req.headers['x-parley-signature'] as string | undefined });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    const smsUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/sms`;
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url, PARLEY_SMS_URL: smsUrl, PARLEY_SMS_SECRET: SECRET } });
    await hub.user('ada', { name: 'Ada Lovelace', phone: '+4930123456', groups: [{ id: 'support', permission: 'ro' }] });
    await hub.user('bob', { name: 'Bob Smith', roles: ['lead'] });
    await hub.user('nophone', { name: 'No Phone', groups: ['support'] });
    await hub.bot('helper-bot', { name: 'Helper' });
    await hub.ok('PUT', '/v1/items/T1', { kind: 'ticket', title: 'Printer on fire', number: '1001', queue: 'Raw' });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
    await new Promise((r) => webhook.close(r));
  });

  it('sends SMS through the signed webhook, to group members (ro too) and role members, and names unknown groups and agents', async () => {
    await hub.ok('POST', '/v1/notification-definitions', {
      name: 'Queue moves by SMS',
      events: ['TicketQueueUpdate'],
      recipients: { groups: ['support', 'ghost-group'], roles: ['lead'], agents: ['ghost-agent'] },
      transports: { sms: { enabled: true }, email: { enabled: true, extraAddresses: ['oncall@example.net'] } },
      messages,
    });
    await hub.ok('POST', '/v1/events', { id: 'ev-sms', type: 'TicketQueueUpdate', itemId: 'T1' });
    const req = await until(() => smsRequests.find((r) => r.body.includes('+4930123456')), 'the SMS webhook call');
    const expected = `sha256=${createHmac('sha256', SECRET).update(req.body).digest('hex')}`;
    expect(req.signature).toBe(expected);
    expect(JSON.parse(req.body)).toMatchObject({ to: '+4930123456', text: 'Ticket 1001 moved: Printer on fire' });

    const a = await audit(hub, 'ev-sms');
    expect(lineOf(a.deliveries, 'nophone', 'sms')).toMatchObject({ status: 'skipped', reason: 'no_phone' });
    expect(lineOf(a.deliveries, 'bob', 'email')).toMatchObject({ reason: null });
    expect(lineOf(a.deliveries, 'oncall@example.net', 'email')).toMatchObject({ reason: null });
    expect(a.notFound).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'group', id: 'ghost-group' }), expect.objectContaining({ kind: 'agent', id: 'ghost-agent' })]));
    await until(() => sink.to('oncall@example.net').length > 0, 'the extra address email');
    await until(async () => lineOf((await audit(hub, 'ev-sms')).deliveries, 'ada', 'sms')?.status === 'sent', 'the SMS marked sent');
  });

  it('tells once per day: the same definition, item and recipient again within 24 h is skipped', async () => {
    await hub.ok('POST', '/v1/notification-definitions', {
      name: 'Daily digest-ish',
      events: ['TicketPriorityUpdate'],
      recipients: { agents: ['bob'] },
      oncePerDay: true,
      transports: { email: { enabled: true } },
      messages,
    });
    await hub.ok('POST', '/v1/events', { id: 'ev-day-1', type: 'TicketPriorityUpdate', itemId: 'T1' });
    await hub.ok('POST', '/v1/events', { id: 'ev-day-2', type: 'TicketPriorityUpdate', itemId: 'T1' });
    expect(lineOf((await audit(hub, 'ev-day-1')).deliveries, 'bob', 'email')).toMatchObject({ reason: null });
    expect(lineOf((await audit(hub, 'ev-day-2')).deliveries, 'bob', 'email')).toMatchObject({ status: 'skipped', reason: 'once_per_day' });
  });

  it('posts the message transport as the bot into the item conversation (created once), and never an internal note into an external one', async () => {
    await hub.ok('POST', '/v1/notification-definitions', {
      name: 'Post into the ticket',
      events: ['ArticleCreate'],
      transports: { message: { enabled: true, botId: 'helper-bot', visibility: 'internal' } },
      messages,
    });
    await hub.ok('POST', '/v1/notification-definitions', {
      name: 'Post for the customer',
      events: ['ArticleCreate'],
      transports: { message: { enabled: true, botId: 'helper-bot', visibility: 'external' } },
      messages,
    });
    const note = { senderKind: 'user', channel: 'internal', visibleForCustomer: false, body: 'secret' };
    await hub.ok('POST', '/v1/events', { id: 'ev-msg-1', type: 'ArticleCreate', itemId: 'T1', article: note });
    await hub.ok('POST', '/v1/events', { id: 'ev-msg-2', type: 'ArticleCreate', itemId: 'T1', article: note });
    const lines = (await audit(hub, 'ev-msg-1')).deliveries.filter((d) => d.transport === 'message');
    expect(lines.map((l) => [l.status, l.reason]).sort()).toEqual([
      ['sent', null],
      ['skipped', 'not_visible_for_customer'],
    ]);
    const bob = await hub.connect('bob');
    const list = (await bob.request({ t: 'conversations', id: bob.id() }, 'conversations')) as { conversations: Array<{ id: string; itemId: string | null; visibility: string; lastSeq: number }> };
    const onItem = list.conversations.filter((c) => c.itemId === 'T1');
    expect(onItem).toHaveLength(1);
    expect(onItem[0]).toMatchObject({ visibility: 'internal', lastSeq: 2 });
  });
});

describe('email only if unseen (NOTIFICATIONS §3), across kill -9', () => {
  it('sends the email of an unseen web notification once after a crash, and none for one seen in time', async () => {
    const sink = await SmtpSink.start();
    const env = { PARLEY_SMTP_URL: sink.url };
    const hub = await TestHub.start({ env });
    try {
      await hub.user('ada', { name: 'Ada' });
      await hub.user('bob', { name: 'Bob' });
      await hub.ok('PUT', '/v1/items/T1', { kind: 'ticket', title: 'Printer', queue: 'Raw' });
      await hub.ok('POST', '/v1/notification-definitions', {
        name: 'Unseen',
        events: ['NotificationNewTicket'],
        recipients: { agents: ['ada', 'bob'] },
        transports: { web: { enabled: true }, email: { enabled: true, onlyIfUnseenMs: 1500 } },
        messages: { en: { subject: 'New: <OTOBO_TICKET_Title>', body: 'See it.' } },
      });
      const bob = await hub.connect('bob');
      await hub.ok('POST', '/v1/events', { id: 'ev-unseen', type: 'NotificationNewTicket', itemId: 'T1' });
      const frame = (await bob.next('notification')) as { notification: { id: string } };
      bob.send({ t: 'notification_seen', ids: [frame.notification.id] });
      await until(async () => ((await bob.request({ t: 'notifications', id: bob.id() }, 'notifications')) as { unseen: number }).unseen === 0, 'bob saw it');
      // Down before the timer falls due; the restarted hub fires it.
      await hub.crash();
      await hub.launch();
      await until(() => sink.to('ada@example.com').length > 0, 'ada emailed after the restart');
      const a = await until(async () => {
        const lines = (await audit(hub, 'ev-unseen')).deliveries;
        const bobEmail = lineOf(lines, 'bob', 'email');
        return bobEmail?.reason === 'seen_in_time' && lines;
      }, 'bob skipped as seen_in_time');
      expect(lineOf(a, 'ada', 'email')).toMatchObject({ reason: null });
      // Restart once more: nothing goes twice.
      await hub.crash();
      await hub.launch();
      await hub.ok('POST', '/v1/notification-definitions', {
        name: 'Marker',
        events: ['Marker'],
        recipients: { agents: ['ada'] },
        transports: { email: { enabled: true } },
        messages: { en: { subject: 'marker', body: 'm' } },
      });
      await hub.ok('POST', '/v1/events', { id: 'ev-marker', type: 'Marker', itemId: 'T1' });
      await until(() => sink.to('ada@example.com').some((m) => m.raw.includes('Subject: marker')), 'the marker email');
      expect(sink.to('ada@example.com').filter((m) => m.raw.includes('Subject: New: Printer'))).toHaveLength(1);
      expect(sink.to('bob@example.com')).toHaveLength(0);
    } finally {
      await hub.stop();
      await sink.stop();
    }
  });

  it('captures SMS to files when no webhook is configured', async () => {
    const hub = await TestHub.start();
    try {
      await hub.user('ada', { name: 'Ada', phone: '+15551234567' });
      await hub.ok('PUT', '/v1/items/T1', { kind: 'ticket', title: 'Printer', queue: 'Raw' });
      await hub.ok('POST', '/v1/notification-definitions', {
        name: 'SMS', events: ['E'], recipients: { agents: ['ada'] }, transports: { sms: { enabled: true } }, messages: { en: { subject: 'Hi <OTOBO_TICKET_Title>', body: '' } },
      });
      await hub.ok('POST', '/v1/events', { id: 'ev-file', type: 'E', itemId: 'T1' });
      const rows = await until(async () => {
        const emails = (await hub.ok('GET', '/v1/emails?since=0')).emails as Array<{ id: string; kind: string; status: string }>;
        return emails.find((e) => e.kind === 'sms' && e.status === 'sent');
      }, 'the SMS row sent');
      const file = join(hub.dataDir, 'outbox', `${rows.id}.sms.json`);
      expect(existsSync(file)).toBe(true);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ to: '+15551234567', text: 'Hi Printer' });
    } finally {
      await hub.stop();
    }
  });
});
