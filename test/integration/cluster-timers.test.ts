import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rendezvous } from '../../server/core/scheduler/rendezvous.js';
import { TestCluster, clusterServices, hubIdOf } from '../support/cluster.js';
import type { TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

/**
 * Appointment reminders across hubs (SPEC §9, DESIGN §8): each reminder is kept by the live hub that
 * rendezvous hashing picks for `reminder:<id>`, whichever hub the appointment was written on. Three
 * hub processes on one PostgreSQL and one Redis; the hub that keeps the most reminders is killed
 * with -9 before they fall due. Every reminder still goes out, exactly once.
 */

const services = await clusterServices();
const APPOINTMENTS = 12;
const START = Date.UTC(2027, 0, 15, 9, 30, 0);

if (services) {
  describe('appointment reminders on three hubs, one killed', () => {
    let sink: SmtpSink;
    let cluster: TestCluster;

    beforeAll(async () => {
      sink = await SmtpSink.start();
      cluster = await TestCluster.start(3, services, { env: { PARLEY_SMTP_URL: sink.url, PARLEY_NODE_TTL_MS: '3000', PARLEY_OUTBOX_RETRY_BASE_MS: '200' } });
    }, 120_000);
    afterAll(async () => {
      await cluster?.stop();
      await sink?.stop();
    });

    it('sends every reminder once, written on any hub, those the killed hub kept taken over', async () => {
      const hubs = cluster.hubs as [TestHub, TestHub, TestHub];
      await hubs[0].user('ada', { name: 'Ada' });
      const def = await hubs[0].ok<{ id: string }>('POST', '/v1/notification-definitions', {
        name: 'Reminder across hubs',
        type: 'appointment',
        events: ['AppointmentNotification'],
        recipients: { agents: ['ada'] },
        transports: { email: { enabled: true } },
        messages: { en: { subject: 'Reminder: <OTOBO_APPOINTMENT_TITLE>', body: 'Soon.' } },
      });
      for (const h of hubs) {
        await until(async () => (await h.api('GET', `/v1/notification-definitions/${def.id}`)).status === 200, 'the definition on every hub');
        await h.ok('PUT', '/v1/calendars/cal1', { name: 'Rota' });
      }
      await until(async () => (await cluster.liveHubs()).length === 3, 'three live hubs');
      const ids = hubs.map(hubIdOf);
      const titles = Array.from({ length: APPOINTMENTS }, (_, i) => `r${i}`);
      const owner = (title: string) => ids.indexOf(rendezvous(`reminder:${title}`, ids)!);
      const owned = ids.map((_, h) => titles.filter((t) => owner(t) === h).length);
      const victim = owned.indexOf(Math.max(...owned));
      // Written on every hub, most of them on a hub that does not keep them.
      const reminderAt = Date.now() + 8_000;
      for (const [i, title] of titles.entries()) {
        await hubs[i % 3]!.ok('PUT', `/v1/appointments/${title}`, { calendarId: 'cal1', title, startAt: START, endAt: START, reminderAt });
      }
      expect(titles.some((t, i) => owner(t) !== i % 3)).toBe(true);
      expect(owned[victim]).toBeGreaterThan(0);
      await hubs[victim]!.crash();
      const survivors = hubs.filter((_, i) => i !== victim);

      const reminders = (title: string) => sink.to('ada@example.com').filter((m) => m.raw.includes(`Subject: Reminder: ${title}\r`));
      await until(() => titles.every((t) => reminders(t).length >= 1), 'every reminder', 45_000);
      // A positive signal that the survivors are past those reminders: one more, due after them.
      await survivors[0]!.ok('PUT', '/v1/appointments/marker', { calendarId: 'cal1', title: 'marker', startAt: START, endAt: START, reminderAt: Date.now() + 4_000 });
      await until(() => reminders('marker').length >= 1, 'the marker', 30_000);
      for (const t of titles) expect(reminders(t), t).toHaveLength(1);
      expect(reminders('marker')).toHaveLength(1);
    });
  });
}
