import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecipientRelationSchema } from '../../protocol/index.js';
import { API_KEY, TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

type EmailRow = { id: string; to: string; kind: string; status: string; createdAt: number };
type PreviewLine = { definitionId: string; participantId: string | null; address: string | null; transport: string; status: string; reason: string | null };
type Preview = {
  matched: boolean;
  deliveries: PreviewLine[];
  notFound: { agents: string[]; groups: string[]; roles: string[] };
  recipient: { participantId: string | null; address: string | null } | null;
  rendered: Array<{ language: string; subject: string; body: string; contentType: string }>;
};

const NEW_TICKET = {
  name: 'New ticket (once a day)',
  events: ['NotificationNewTicket'],
  recipients: { relations: ['AgentMyQueues', 'Customer'] },
  oncePerDay: true,
  transports: { email: { enabled: true }, web: { enabled: true } },
  messages: {
    en: { subject: 'New ticket <OTOBO_TICKET_TicketNumber>: <OTOBO_TICKET_Title>', body: 'Hi <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n<OTOBO_CUSTOMER_BODY[1]>' },
    de: { subject: 'Neues Ticket <OTOBO_TICKET_TicketNumber>: <OTOBO_TICKET_Title>', body: 'Hallo <OTOBO_NOTIFICATION_RECIPIENT_UserFirstname>,\n<OTOBO_CUSTOMER_BODY[1]>' },
  },
};
const ARTICLE = { senderKind: 'customer', channel: 'email', visibleForCustomer: true, body: 'It smokes.\nAnd beeps.', to: ['support@example.com'] };

/** The messaging center's API (protocol/admin.ts): choices, the dry-run preview, a broadcast's count, the log filters. */
describe('the messaging center API against the real hub', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  let admin: string;
  let plain: string;
  let customer: string;
  let definitionId: string;

  const as = async <T = any>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const emails = async (query = ''): Promise<EmailRow[]> => (await as<{ emails: EmailRow[] }>(admin, 'GET', `/v1/emails?limit=1000${query}`)).body.emails;
  /** The outbox's rows by id (their status moves on as the worker sends). */
  const emailIds = async () => (await emails()).map((e) => e.id);
  const preview = (body: unknown) => as<Preview>(admin, 'POST', '/v1/notification-definitions/preview', body);
  const line = (p: Preview, who: string, transport: string) => p.deliveries.find((d) => d.participantId === who && d.transport === transport);

  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url, PARLEY_OUTBOX_RETRY_BASE_MS: '100' } });
    await hub.user('ada', { name: 'Ada Lovelace', queues: ['Raw'], groups: ['ops'], roles: ['lead'], locale: 'de-AT', phone: '+4915112345678' });
    await hub.user('bob', { name: 'Bob Smith', queues: ['Raw'], groups: [{ id: 'ops', permission: 'ro' }] });
    await hub.user('root', { name: 'Root Admin' });
    await hub.customer('carla', { name: 'Carla Customer', groups: ['ops'], phone: '+4930123456' });
    await hub.bot('helper', { name: 'Helper Bot' });
    await hub.ok('PUT', '/v1/queues/Raw', { groupId: 'ops' });
    await hub.ok('PUT', '/v1/items/T1', { kind: 'ticket', title: 'Printer on fire', number: '2026120700001', queue: 'Raw', customerId: 'carla' });
    await hub.ok('PUT', '/v1/items/T2', { kind: 'ticket', title: 'Mouse missing', queue: 'Raw' });
    await hub.ok('PUT', '/v1/calendars/C1', { name: 'Team', groupId: 'ops' });
    const day = 24 * 3600_000;
    await hub.ok('PUT', '/v1/appointments/A1', { calendarId: 'C1', title: 'Standup', startAt: Date.now() + day, endAt: Date.now() + day + 900_000 });
    await hub.ok('PUT', '/v1/appointments/A0', { calendarId: 'C1', title: 'Yesterday', startAt: Date.now() - 2 * day, endAt: Date.now() - day });
    admin = (await hub.ok('POST', '/v1/tokens', { sub: 'root', admin: true })).token;
    plain = (await hub.ok('POST', '/v1/tokens', { sub: 'bob' })).token;
    customer = (await hub.ok('POST', '/v1/tokens', { sub: 'carla' })).token;
    definitionId = (await hub.ok('POST', '/v1/notification-definitions', NEW_TICKET)).id;
    await hub.ok('POST', '/v1/notification-definitions', { name: 'Custom', events: ['MyHostEvent'], messages: { fr: { subject: 's', body: 'b' } } });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  it('offers agents, groups, roles, queues, items, appointments, events, relations and languages, without an address or a phone number', async () => {
    // T1 changed again (its status): the most recently changed item comes first.
    await hub.ok('PUT', '/v1/items/T1', { kind: 'ticket', title: 'Printer on fire', number: '2026120700001', queue: 'Raw', customerId: 'carla', status: 'open' });
    const r = await as(admin, 'GET', '/v1/notification-definitions/choices');
    expect(r.status).toBe(200);
    const c = r.body;
    expect(c.agents).toEqual([
      { id: 'ada', name: 'Ada Lovelace' },
      { id: 'bob', name: 'Bob Smith' },
      { id: 'root', name: 'Root Admin' },
    ]);
    expect(c.groups).toEqual([{ id: 'ops', name: 'ops' }]);
    expect(c.roles).toEqual([{ id: 'lead', name: 'lead' }]);
    expect(c.queues).toEqual([{ name: 'Raw', groupId: 'ops' }]);
    expect(c.items).toEqual([
      { id: 'T1', title: 'Printer on fire' },
      { id: 'T2', title: 'Mouse missing' },
    ]);
    expect(c.appointments).toEqual([{ id: 'A1', title: 'Standup' }]);
    expect(c.eventTypes).toEqual(expect.arrayContaining(['NotificationNewTicket', 'TicketQueueUpdate', 'ArticleCreate', 'ItemAssignmentUpdate', 'ProjectMemberAdd', 'AppointmentNotification', 'CalendarCreate', 'MyHostEvent']));
    expect(c.relations).toEqual(RecipientRelationSchema.options);
    expect(c.languages).toEqual(expect.arrayContaining(['en', 'de', 'fr', 'de-AT']));
    const text = JSON.stringify(c);
    expect(text).not.toContain('@');
    expect(text).not.toContain('4915112345678');
    expect(text).not.toContain('4930123456');
  });

  it('previews a stored definition with reasons and every language rendered, and stores, sends and marks nothing: the real event still sends', async () => {
    const before = await emailIds();
    const r = await preview({ definitionId, event: { type: 'NotificationNewTicket', itemId: 'T1', article: ARTICLE }, recipientId: 'bob' });
    expect(r.status).toBe(200);
    const p = r.body;
    expect(p.matched).toBe(true);
    expect(line(p, 'ada', 'email')).toMatchObject({ definitionId, status: 'would-send', reason: null });
    expect(line(p, 'ada', 'web')).toMatchObject({ status: 'would-send', reason: null });
    expect(line(p, 'bob', 'email')).toMatchObject({ status: 'would-send', reason: null });
    expect(line(p, 'carla', 'email')).toMatchObject({ status: 'would-send', reason: null });
    expect(line(p, 'carla', 'web')).toBeUndefined();
    expect(p.recipient).toEqual({ participantId: 'bob', address: null });
    const byLang = Object.fromEntries(p.rendered.map((x) => [x.language, x]));
    expect(byLang.en).toEqual({ language: 'en', subject: 'New ticket 2026120700001: Printer on fire', body: 'Hi Bob,\nIt smokes.', contentType: 'text/plain' });
    expect(byLang.de).toMatchObject({ subject: 'Neues Ticket 2026120700001: Printer on fire', body: 'Hallo Bob,\nIt smokes.' });

    // Without recipientId, the first person who would be told.
    const first = (await preview({ definitionId, event: { type: 'NotificationNewTicket', itemId: 'T1', article: ARTICLE } })).body;
    expect(first.recipient?.participantId).toEqual(first.deliveries.find((d) => d.status === 'would-send')!.participantId);

    // Nothing stored or sent: no outbox row, no web notification.
    expect(await emailIds()).toEqual(before);
    const ada = await hub.connect('ada');
    expect(await ada.request({ t: 'notifications', id: ada.id() }, 'notifications')).toMatchObject({ notifications: [], unseen: 0 });

    // No once-per-day mark: the real event sends to each of them.
    expect((await hub.api('POST', '/v1/events', { id: 'ev-real-1', type: 'NotificationNewTicket', itemId: 'T1', article: ARTICLE })).status).toBe(202);
    const frame = await ada.next('notification');
    expect(frame).toMatchObject({ notification: { eventId: 'ev-real-1', subject: 'Neues Ticket 2026120700001: Printer on fire' } });
    const [mail] = await until(() => sink.to('ada@example.com').length > 0 && sink.to('ada@example.com'), 'the real email to ada');
    expect(mail!.raw).toContain('Hallo Ada,');
    const audit = await hub.ok('GET', '/v1/events/ev-real-1');
    expect(audit.deliveries.filter((d: { reason: string | null }) => d.reason === 'once_per_day')).toEqual([]);

    // The preview reads the real history: now the same preview says once_per_day.
    const again = (await preview({ definitionId, event: { type: 'NotificationNewTicket', itemId: 'T1', article: ARTICLE } })).body;
    expect(line(again, 'ada', 'email')).toMatchObject({ status: 'skipped', reason: 'once_per_day' });
  });

  it('previews a draft (agents, groups, roles, SMS, an appointment) and reports ids nobody has, storing no definition', async () => {
    const definitionsBefore = (await hub.ok('GET', '/v1/notification-definitions')).definitions.length;
    const before = await emailIds();
    const draft = {
      name: 'Draft',
      events: ['TicketQueueUpdate'],
      recipients: { agents: ['ada', 'ghost'], groups: ['nogroup'], roles: ['norole'] },
      transports: { email: { enabled: true }, sms: { enabled: true } },
      messages: { en: { subject: 'Moved: <OTOBO_TICKET_Title>', body: '<p>Dear <OTOBO_NOTIFICATION_RECIPIENT_UserFullname></p>', contentType: 'text/html' } },
    };
    const p = (await preview({ definition: draft, event: { type: 'TicketQueueUpdate', itemId: 'T2' } })).body;
    expect(p.matched).toBe(true);
    expect(line(p, 'ada', 'email')).toMatchObject({ definitionId: 'draft', status: 'would-send' });
    expect(line(p, 'ada', 'sms')).toMatchObject({ status: 'would-send', reason: null });
    expect(p.notFound).toEqual({ agents: ['ghost'], groups: ['nogroup'], roles: ['norole'] });
    expect(p.rendered).toEqual([{ language: 'en', subject: 'Moved: Mouse missing', body: '<p>Dear Ada Lovelace</p>', contentType: 'text/html' }]);

    // Another event type: no match, no deliveries, the unknown ids still named; tags render for nobody.
    const other = (await preview({ definition: draft, event: { type: 'TicketCreate', itemId: 'T2' } })).body;
    expect(other).toMatchObject({ matched: false, deliveries: [], recipient: null, notFound: { agents: ['ghost'] } });
    expect(other.rendered[0]).toMatchObject({ subject: 'Moved: Mouse missing', body: '<p>Dear -</p>' });

    const appointment = (
      await preview({
        definition: { name: 'Reminder', type: 'appointment', events: ['AppointmentNotification'], recipients: { agents: ['bob'] }, transports: { email: { enabled: true } }, messages: { en: { subject: 'Soon: <OTOBO_APPOINTMENT_TITLE> in <OTOBO_CALENDAR_CALENDARNAME>', body: 'x' } } },
        event: { type: 'AppointmentNotification', appointmentId: 'A1' },
      })
    ).body;
    expect(line(appointment, 'bob', 'email')).toMatchObject({ status: 'would-send' });
    expect(appointment.rendered[0]!.subject).toBe('Soon: Standup in Team');

    expect((await hub.ok('GET', '/v1/notification-definitions')).definitions.length).toBe(definitionsBefore);
    expect(await emailIds()).toEqual(before);
  });

  it('previews the built-in assignment changes as told to the item owner and responsible', async () => {
    await hub.ok('PUT', '/v1/items/T3', { kind: 'ticket', title: 'Assigned', ownerId: 'ada', responsibleId: 'bob' });
    const p = (await preview({ definitionId: 'builtin-assignment-changes', event: { type: 'ItemAssignmentUpdate', itemId: 'T3' } })).body;
    expect(p.matched).toBe(true);
    expect(p.deliveries.map((d) => `${d.participantId} ${d.transport} ${d.status}`).sort()).toEqual(['ada email would-send', 'bob email would-send']);
  });

  it('answers a preview of an unknown definition, item, appointment or recipient with 404, and bad input with 400', async () => {
    const event = { type: 'NotificationNewTicket', itemId: 'T1' };
    const notFound = [
      { definitionId: 'no-such-definition', event },
      { definitionId, event: { type: 'NotificationNewTicket', itemId: 'no-such-item' } },
      { definitionId, event: { type: 'AppointmentNotification', appointmentId: 'no-such-appointment' } },
      { definitionId, event, recipientId: 'nobody' },
    ];
    for (const body of notFound) {
      const r = await preview(body);
      expect(r.status, JSON.stringify(body)).toBe(404);
      expect(r.body).toMatchObject({ error: { code: 'not_found' } });
    }
    const bad = [
      { event },
      { definitionId, definition: NEW_TICKET, event },
      { definitionId, event, extra: true },
      { definitionId, event: { ...event, actorId: 'ada' } },
      { definitionId, event: { type: 'not an event type!' } },
      { definition: { ...NEW_TICKET, messages: {} }, event },
      { definitionId },
    ];
    for (const body of bad) {
      const r = await preview(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid' } });
    }
  });

  it('counts the people a broadcast would reach, exactly as many as the real one then reaches, sending and storing nothing', async () => {
    const body = { subject: 'Maintenance', body: 'Down at ten.', users: ['bob'], groups: [{ id: 'ops', permission: 'rw' }], roles: ['lead'], customersInGroups: true, web: true };
    const before = await emailIds();
    const count = await as(admin, 'POST', '/v1/broadcasts/count', body);
    expect(count.status).toBe(200);
    expect(count.body).toEqual({ recipients: 3 });
    expect(await emailIds()).toEqual(before);
    const posted = await as(admin, 'POST', '/v1/broadcasts', body);
    expect(posted.status).toBe(202);
    expect(posted.body.recipients).toBe(count.body.recipients);

    expect((await as(admin, 'POST', '/v1/broadcasts/count', { ...body, from: 'not a mailbox <' })).status).toBe(400);
    expect((await as(admin, 'POST', '/v1/broadcasts/count', { ...body, extra: 1 })).status).toBe(400);
  });

  it('filters the email log by status and kind and lists it newest first on asking, oldest first by default', async () => {
    await until(async () => (await emails()).every((e) => e.status !== 'queued'), 'every email sent');
    const all = await emails();
    expect(new Set(all.map((e) => e.kind))).toEqual(new Set(['notification', 'broadcast']));
    for (const kind of ['notification', 'broadcast']) {
      const rows = await emails(`&kind=${kind}`);
      expect(rows.map((e) => e.id)).toEqual(all.filter((e) => e.kind === kind).map((e) => e.id));
    }
    expect(await emails('&kind=system')).toEqual([]);
    expect((await emails('&status=sent')).map((e) => e.id)).toEqual(all.filter((e) => e.status === 'sent').map((e) => e.id));
    expect(await emails('&status=failed')).toEqual([]);
    expect((await emails('&kind=broadcast&status=sent')).length).toBe(all.filter((e) => e.kind === 'broadcast' && e.status === 'sent').length);

    const times = all.map((e) => e.createdAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const newest = await emails('&order=desc');
    expect(newest.map((e) => e.id)).toEqual([...all].reverse().map((e) => e.id));
    expect((await emails('&order=desc&limit=1'))[0]!.id).toBe(all[all.length - 1]!.id);
    for (const q of ['status=sending', 'kind=fax', 'order=sideways', 'colour=red']) expect((await as(admin, 'GET', `/v1/emails?${q}`)).status, q).toBe(400);
  });

  it('filters the inbound log by outcome and lists it newest first on asking', async () => {
    const send = async (n: number, extra: string) => {
      const raw = `From: someone${n}@example.net\r\nTo: support@example.com\r\nSubject: Hello ${n}\r\nMessage-ID: <in-${n}@example.net>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n${extra}\r\nHello there ${n}.\r\n`;
      const r = await fetch(`${hub.url}/v1/inbound-emails`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'message/rfc822' }, body: raw });
      expect(r.status).toBe(202);
      return (await r.json()) as { id: string; status: string };
    };
    const outcomes = [await send(1, 'Auto-Submitted: auto-replied\r\n'), await send(2, ''), await send(3, 'Auto-Submitted: auto-replied\r\n')];
    type Row = { id: string; status: string };
    const list = async (q = '') => (await as<{ inboundEmails: Row[] }>(admin, 'GET', `/v1/inbound-emails?limit=1000${q}`)).body.inboundEmails;
    const all = await list();
    expect(all.map((r) => r.id)).toEqual(outcomes.map((o) => o.id));
    expect((await list('&order=desc')).map((r) => r.id)).toEqual(outcomes.map((o) => o.id).reverse());
    for (const status of ['posted', 'ignored', 'rejected']) {
      expect((await list(`&status=${status}`)).map((r) => r.id)).toEqual(outcomes.filter((o) => o.status === status).map((o) => o.id));
    }
    expect(outcomes[0]!.status).toBe('ignored');
    expect((await list('&status=ignored&order=desc')).map((r) => r.id)).toEqual([outcomes[2]!.id, outcomes[0]!.id]);
    for (const q of ['status=queued', 'kind=broadcast', 'order=up']) expect((await as(admin, 'GET', `/v1/inbound-emails?${q}`)).status, q).toBe(400);
  });

  it('refuses a plain session token (403), a customer token (403) and a token of nobody (401) on every new route', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/notification-definitions/choices'],
      ['POST', '/v1/notification-definitions/preview', { definitionId, event: { type: 'NotificationNewTicket', itemId: 'T1' } }],
      ['POST', '/v1/broadcasts/count', { subject: 's', body: 'b', users: ['bob'] }],
      ['GET', '/v1/emails?kind=broadcast&status=sent&order=desc'],
      ['GET', '/v1/inbound-emails?status=ignored&order=desc'],
    ];
    for (const [method, path, body] of routes) {
      expect((await as(admin, method, path, body)).status, `${method} ${path}`).toBe(200);
      expect((await as(API_KEY, method, path, body)).status, `${method} ${path}`).toBe(200);
      expect((await as(plain, method, path, body)).status, `${method} ${path}`).toBe(403);
      expect((await as(customer, method, path, body)).status, `${method} ${path}`).toBe(403);
      expect((await as('not-a-token', method, path, body)).status, `${method} ${path}`).toBe(401);
    }
  });
});
