import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

const definition = (over: Record<string, unknown> = {}) => ({
  name: `New ticket ${Math.random()}`,
  events: ['NotificationNewTicket'],
  recipients: { relations: ['AgentMyQueues', 'Customer'] },
  transports: { email: { enabled: true }, web: { enabled: true } },
  messages: {
    en: { subject: 'New ticket <OTOBO_TICKET_TicketNumber>: <OTOBO_TICKET_Title>', body: 'Hi <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n<OTOBO_CUSTOMER_BODY[2]>' },
    de: { subject: 'Neues Ticket <OTOBO_TICKET_TicketNumber>: <OTOBO_TICKET_Title>', body: 'Hallo <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n<OTOBO_CUSTOMER_BODY[2]>' },
  },
  ...over,
});

const item = (queue: string, over: Record<string, unknown> = {}) => ({ kind: 'ticket', title: 'Printer on fire', number: '2026120700001', queue, customerId: 'carla', ...over });
const article = (visibleForCustomer: boolean) => ({ senderKind: 'customer', channel: 'email', visibleForCustomer, body: 'line one\nline two\nline three', to: ['support@example.com'] });

describe('notification rules against the real hub (NOTIFICATIONS §2–§6)', () => {
  let sink: SmtpSink;
  let hub: TestHub;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url, PARLEY_OUTBOX_RETRY_BASE_MS: '200' } });
    await hub.user('ada', { name: 'Ada Lovelace', queues: ['Raw'], locale: 'de-AT' });
    await hub.user('bob', { name: 'Bob Smith', queues: ['Raw'] });
    await hub.user('olga', { name: 'Olga Away', queues: ['Raw'], outOfOffice: true });
    await hub.customer('carla', { name: 'Carla Customer' });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  it('delivers an event by email (in the recipient language) and web, audits every recipient, and answers a repeat with the first answer', async () => {
    await hub.ok('POST', '/v1/notification-definitions', definition());
    const ada = await hub.connect('ada');
    const first = await hub.api('POST', '/v1/events', { id: 'ev-new-1', type: 'NotificationNewTicket', actorId: 'bob', itemId: 'T1', item: item('Raw'), article: article(true) });
    expect(first.status).toBe(202);
    const frame = await ada.next('notification');
    expect(frame).toMatchObject({ t: 'notification', notification: { eventId: 'ev-new-1', subject: 'Neues Ticket 2026120700001: Printer on fire', itemId: 'T1', seenAt: null } });

    const [mail] = await until(() => sink.to('ada@example.com').length > 0 && sink.to('ada@example.com'), 'the email to ada');
    expect(mail!.raw).toContain('Subject: Neues Ticket 2026120700001: Printer on fire');
    expect(mail!.raw).toContain('Hallo Ada,');
    expect(mail!.raw).not.toContain('line three');
    const [customerMail] = await until(() => sink.to('carla@example.org').length > 0 && sink.to('carla@example.org'), 'the email to the customer');
    // Customers can stop these emails as they stop escalation emails (one-click, RFC 8058).
    expect(customerMail!.raw).toMatch(/^List-Unsubscribe: <http[^>]+\/u\/[^>]+>/m);
    expect(customerMail!.raw).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(mail!.raw).not.toContain('List-Unsubscribe');

    const repeat = await hub.api('POST', '/v1/events', { id: 'ev-new-1', type: 'NotificationNewTicket' });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);

    const audit = await hub.ok('GET', '/v1/events/ev-new-1');
    const line = (pid: string, t: string) => audit.deliveries.find((d: { participantId: string; transport: string }) => d.participantId === pid && d.transport === t);
    expect(line('bob', 'email')).toMatchObject({ status: 'skipped', reason: 'actor' });
    expect(line('olga', 'email')).toMatchObject({ status: 'skipped', reason: 'out_of_office' });
    expect(line('ada', 'web')).toMatchObject({ status: 'sent', reason: null });
    expect(line('carla', 'web')).toBeUndefined();
    await until(async () => (await hub.ok('GET', '/v1/events/ev-new-1')).deliveries.find((d: { participantId: string; transport: string; status: string }) => d.participantId === 'ada' && d.transport === 'email' && d.status === 'sent'), 'the email marked sent');
    const metrics = await (await fetch(`http://127.0.0.1:${hub.port}/metrics`)).text();
    expect(metrics).toMatch(/parley_notification_deliveries_total\{transport="web",outcome="sent"\} [1-9]/);
    expect(metrics).toMatch(/parley_notification_deliveries_total\{transport="email",outcome="skipped"\} [1-9]/);
  });

  it('never tells a customer about an internal article, by any transport', async () => {
    await hub.ok('POST', '/v1/events', { id: 'ev-internal', type: 'NotificationNewTicket', actorId: 'bob', itemId: 'T2', item: item('Raw'), article: article(false) });
    const audit = await hub.ok('GET', '/v1/events/ev-internal');
    const carla = audit.deliveries.filter((d: { participantId: string }) => d.participantId === 'carla');
    expect(carla.length).toBeGreaterThan(0);
    for (const d of carla) expect(d).toMatchObject({ status: 'skipped', reason: 'not_visible_for_customer' });
  });

  it('lists web notifications with the unseen count, and notification_seen marks them', async () => {
    const ada = await hub.connect('ada');
    const page = (await ada.request({ t: 'notifications', id: ada.id(), limit: 200 }, 'notifications')) as { notifications: Array<{ id: string }>; unseen: number };
    expect(page.unseen).toBeGreaterThan(0);
    ada.send({ t: 'notification_seen', ids: page.notifications.map((n) => n.id) });
    await until(async () => ((await ada.request({ t: 'notifications', id: ada.id() }, 'notifications')) as { unseen: number }).unseen === 0, 'unseen 0');
    const carla = await hub.connect('carla');
    expect(await carla.request({ t: 'notifications', id: carla.id() }, 'notifications')).toMatchObject({ notifications: [], unseen: 0 });
  });

  it('keeps a mandatory definition on at least one transport, and honours a user turning one off', async () => {
    const d = await hub.ok('POST', '/v1/notification-definitions', {
      ...definition({ name: 'Mandatory one', events: ['TicketQueueUpdate'] }),
      recipients: { relations: ['AgentMyQueues'] },
      agentPreferences: { visible: 'mandatory', enabledByDefault: ['email', 'web'] },
    });
    // Shown in preferences at its defaults until the user chooses.
    expect((await hub.ok('GET', '/v1/participants/bob/preferences')).notificationDefinitions[d.id]).toEqual({ email: true, web: true });
    const off = await hub.api('PATCH', '/v1/participants/bob/preferences', { notificationDefinitions: { [d.id]: { email: false, web: false } } });
    expect(off.status).toBe(400);
    const chosen = await hub.ok('PATCH', '/v1/participants/bob/preferences', { notificationDefinitions: { [d.id]: { email: false } } });
    expect(chosen.notificationDefinitions[d.id]).toEqual({ email: false, web: true });
    await hub.ok('POST', '/v1/events', { id: 'ev-queue', type: 'TicketQueueUpdate', itemId: 'T1' });
    const audit = await hub.ok('GET', '/v1/events/ev-queue');
    expect(audit.deliveries.find((x: { participantId: string; transport: string }) => x.participantId === 'bob' && x.transport === 'email')).toMatchObject({ reason: 'preference_off' });
    expect(audit.deliveries.find((x: { participantId: string; transport: string }) => x.participantId === 'bob' && x.transport === 'web')).toMatchObject({ reason: null });
  });


  it('lets a user save preferences after a definition they chose for is deleted, and checks only what a patch changes', async () => {
    const d = await hub.ok('POST', '/v1/notification-definitions', { ...definition({ name: 'Soon gone', events: ['TicketLockUpdate'] }), agentPreferences: { visible: 'yes', enabledByDefault: ['email'] } });
    await hub.ok('PATCH', '/v1/participants/ada/preferences', { notificationDefinitions: { [d.id]: { email: false } } });
    await hub.ok('DELETE', `/v1/notification-definitions/${d.id}`);
    // The stale choice neither blocks nor shows.
    const saved = await hub.ok('PATCH', '/v1/participants/ada/preferences', { notifications: { fromCustomers: 'none' } });
    expect(saved.notifications.fromCustomers).toBe('none');
    expect(saved.notificationDefinitions?.[d.id]).toBeUndefined();
    // A patch naming a definition nobody has is still refused.
    const bad = await hub.api('PATCH', '/v1/participants/ada/preferences', { notificationDefinitions: { [d.id]: { email: true } } });
    expect(bad.status).toBe(400);
  });
  it('raises ItemAssignmentUpdate itself and emails the new owner (built-in "Assignment changes")', async () => {
    await hub.ok('PUT', '/v1/items/T9', item('Raw', { ownerId: 'bob' }));
    const mails = await until(() => sink.to('bob@example.com').find((m) => m.raw.includes('Assignment changed')), 'the assignment email');
    expect(mails.raw).toContain('Printer on fire');
    const builtIns = (await hub.ok('GET', '/v1/notification-definitions')).definitions.filter((x: { builtIn: boolean }) => x.builtIn);
    expect(builtIns.map((x: { name: string }) => x.name).sort()).toEqual(['Assignment changes', 'New members in my projects']);
    expect((await hub.api('DELETE', `/v1/notification-definitions/${builtIns[0].id}`)).status).toBe(409);
  });

  it('refuses bad definitions and events with a clear 400, and unknown items with 404', async () => {
    expect((await hub.api('POST', '/v1/notification-definitions', { ...definition(), surprise: 1 })).status).toBe(400);
    expect((await hub.api('POST', '/v1/notification-definitions', { ...definition(), messages: {} })).status).toBe(400);
    expect((await hub.api('POST', '/v1/events', { id: 'x', type: 'bad type!' })).status).toBe(400);
    expect((await hub.api('POST', '/v1/events', { id: 'ev-404', type: 'NotificationNewTicket', itemId: 'nope' })).status).toBe(404);
  });

  it('imports an OTOBO export, exports it again, and a new hub imports that to equal definitions', async () => {
    const yaml = readFileSync(join(ROOT, 'test', 'fixtures', 'otobo', 'ticket-notifications.yml'), 'utf8');
    const res = await fetch(`http://127.0.0.1:${hub.port}/v1/notification-definitions/import?overwrite=false`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(await import('../support/hub.js')).API_KEY}`, 'content-type': 'application/yaml' },
      body: yaml,
    });
    const result = (await res.json()) as { added: string[]; errors: unknown[] };
    expect(res.status).toBe(200);
    expect(result.added.length).toBeGreaterThan(0);
    const exported = await fetch(`http://127.0.0.1:${hub.port}/v1/notification-definitions/export`, { headers: { authorization: `Bearer ${(await import('../support/hub.js')).API_KEY}` } });
    expect(exported.headers.get('content-type')).toContain('application/yaml');
    expect(exported.headers.get('content-disposition')).toContain('Export_Notification.yml');
    const text = await exported.text();

    const fresh = await TestHub.start();
    try {
      const again = await fetch(`http://127.0.0.1:${fresh.port}/v1/notification-definitions/import?overwrite=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${(await import('../support/hub.js')).API_KEY}`, 'content-type': 'application/yaml' },
        body: text,
      });
      expect(again.status).toBe(200);
      const strip = (defs: Array<Record<string, unknown>>) =>
        defs.map(({ id: _id, createdAt: _c, updatedAt: _u, ...rest }) => rest).sort((a, b) => String(a.name).localeCompare(String(b.name)));
      const before = strip((await hub.ok('GET', '/v1/notification-definitions')).definitions);
      const after = strip((await fresh.ok('GET', '/v1/notification-definitions')).definitions);
      expect(after).toEqual(before);
    } finally {
      await fresh.stop();
    }
    const bad = await fetch(`http://127.0.0.1:${hub.port}/v1/notification-definitions/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(await import('../support/hub.js')).API_KEY}`, 'content-type': 'application/yaml' },
      body: readFileSync(join(ROOT, 'test', 'fixtures', 'otobo', 'bad-alias.yml'), 'utf8'),
    });
    expect(bad.status).toBe(400);
  });
});
