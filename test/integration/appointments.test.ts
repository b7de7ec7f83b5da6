import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, ROOT, TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

const createDefinition = {
  name: 'New appointment',
  type: 'appointment',
  events: ['AppointmentCreate'],
  recipients: { relations: ['AppointmentAgentReadPermissions', 'AppointmentResource'] },
  transports: { email: { enabled: true } },
  messages: {
    en: { subject: '<OTOBO_APPOINTMENT_TITLE> at <OTOBO_APPOINTMENT_STARTTIME>', body: 'In <OTOBO_CALENDAR_CALENDARNAME>, <OTOBO_APPOINTMENT_LOCATION>.' },
  },
};

const reminderDefinition = {
  ...createDefinition,
  name: 'Appointment reminder',
  events: ['AppointmentNotification'],
  messages: { en: { subject: 'Reminder: <OTOBO_APPOINTMENT_TITLE>', body: 'Soon.' } },
};

const START = Date.UTC(2027, 0, 15, 9, 30, 0);

describe('calendars, appointments and reminders (NOTIFICATIONS §1)', () => {
  let sink: SmtpSink;
  let hub: TestHub;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url } });
    await hub.user('ada', { name: 'Ada', timezone: 'Europe/Berlin', groups: [{ id: 'team', permission: 'ro' }] });
    await hub.user('bob', { name: 'Bob', timezone: 'America/New_York' });
    await hub.user('cy', { name: 'Cy' });
    await hub.ok('PUT', '/v1/calendars/cal1', { name: 'Support rota', color: '#3a87ad', groupId: 'team' });
    await hub.ok('POST', '/v1/notification-definitions', createDefinition);
    await hub.ok('POST', '/v1/notification-definitions', reminderDefinition);
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
  });

  it('raises AppointmentCreate to the calendar group and the resources, with times in each recipient’s time zone', async () => {
    await hub.ok('PUT', '/v1/appointments/a1', { calendarId: 'cal1', title: 'Rota review', location: 'Room 2', startAt: START, endAt: START + 3_600_000, resourceIds: ['bob'] });
    const ada = await until(() => sink.to('ada@example.com').find((m) => m.raw.includes('Rota review')), 'ada told');
    const bob = await until(() => sink.to('bob@example.com').find((m) => m.raw.includes('Rota review')), 'bob told');
    expect(ada.raw).toContain('Subject: Rota review at 2027-01-15 10:30:00');
    expect(bob.raw).toContain('Subject: Rota review at 2027-01-15 04:30:00');
    expect(sink.to('cy@example.com')).toHaveLength(0);
  });

  it('fires a reminder once at reminderAt, moved by an update, cancelled by a delete, and never twice across kill -9', async () => {
    const soon = Date.now() + 1500;
    await hub.ok('PUT', '/v1/appointments/a2', { calendarId: 'cal1', title: 'Moved one', startAt: START, endAt: START, reminderAt: soon + 60_000 });
    await hub.ok('PUT', '/v1/appointments/a2', { calendarId: 'cal1', title: 'Moved one', startAt: START, endAt: START, reminderAt: soon });
    await hub.ok('PUT', '/v1/appointments/a3', { calendarId: 'cal1', title: 'Deleted one', startAt: START, endAt: START, reminderAt: soon });
    expect((await hub.api('DELETE', '/v1/appointments/a3')).status).toBe(204);
    // Down before the reminder falls due: the restarted hub sends it.
    await hub.crash();
    await hub.launch();
    const reminders = (title: string) => sink.to('ada@example.com').filter((m) => m.raw.includes(`Subject: Reminder: ${title}`));
    await until(() => reminders('Moved one').length >= 1, 'the reminder after the restart');
    await hub.crash();
    await hub.launch();
    // A positive signal that the restarted hub is working: a new appointment's create email.
    await hub.ok('PUT', '/v1/appointments/a4', { calendarId: 'cal1', title: 'Marker', startAt: START, endAt: START });
    await until(() => sink.to('ada@example.com').some((m) => m.raw.includes('Subject: Marker')), 'the marker');
    expect(reminders('Moved one')).toHaveLength(1);
    expect(reminders('Deleted one')).toHaveLength(0);
    // The reminder is an event like any other, with its audit.
    const audit = await hub.ok('GET', `/v1/events/${encodeURIComponent(`reminder:a2:${soon}`)}`);
    expect(audit).toMatchObject({ type: 'AppointmentNotification' });
    expect(audit.deliveries).toEqual(expect.arrayContaining([expect.objectContaining({ participantId: 'ada', transport: 'email', reason: null })]));
  });

  it('never sends a reminder older than the recovery window, and its audit says so (no deliveries)', async () => {
    const old = Date.now() - 2 * 86_400_000;
    await hub.ok('PUT', '/v1/appointments/a-old', { calendarId: 'cal1', title: 'Long ago', startAt: START, endAt: START, reminderAt: old });
    const audit = await until(async () => {
      const r = await hub.api('GET', `/v1/events/${encodeURIComponent(`reminder:a-old:${old}`)}`);
      return r.status === 200 && (r.body as { deliveries: unknown[] });
    }, 'the audit of the dropped reminder');
    expect(audit.deliveries).toEqual([]);
    expect(sink.to('ada@example.com').some((m) => m.raw.includes('Reminder: Long ago'))).toBe(false);
  });

  it('refuses bad appointments: unknown calendar 404, end before start 400', async () => {
    expect((await hub.api('PUT', '/v1/appointments/bad', { calendarId: 'nope', title: 'x', startAt: START, endAt: START })).status).toBe(404);
    expect((await hub.api('PUT', '/v1/appointments/bad', { calendarId: 'cal1', title: 'x', startAt: START, endAt: START - 1 })).status).toBe(400);
  });

  it('imports an OTOBO appointment notification export as is', async () => {
    const yaml = readFileSync(join(ROOT, 'test', 'fixtures', 'otobo', 'appointment-notifications.yml'), 'utf8');
    const res = await fetch(`http://127.0.0.1:${hub.port}/v1/notification-definitions/import?overwrite=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/yaml' },
      body: yaml,
    });
    const result = (await res.json()) as { added: string[]; errors: unknown[] };
    expect(res.status).toBe(200);
    expect(result.errors).toEqual([]);
    const defs = (await hub.ok('GET', '/v1/notification-definitions')).definitions as Array<{ name: string; type: string }>;
    for (const name of result.added) expect(defs.find((d) => d.name === name)?.type).toBe('appointment');
  });
});
