import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../server/config.js';
import { Appointments, reminderKey } from '../../../../server/core/notifications/appointments.js';
import type { Logger } from '../../../../server/core/ports/index.js';
import { createParley, NULL_METRICS, type Parley } from '../../../../server/parley.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { FakeOwnership } from '../../../support/fake-ownership.js';
import { MemoryTopics } from '../../../support/memory-transport.js';
import { until } from '../../../support/until.js';

/**
 * Appointment reminders with one owner (DESIGN §8) on a fake clock: the real assembly over SqliteStore
 * with its ownership set by hand, and "another hub" as a second Appointments over the same store and
 * notifier (what hubs share through PostgreSQL). A reminder that went out is an outbox email to Ada.
 */
const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
const RESCAN = 10_000;
const START = T0 + 86_400_000;
// The outbox worker may be mid-send when a test stops the hub: that is not what is tested here.
const quiet: Logger = { info() {}, warn() {}, error: (m, f) => void (m !== 'outbox worker failed' && console.error(m, f)) };

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function world(ownership: FakeOwnership) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-reminder-owner-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new FakeClock(T0);
  const config = loadConfig({
    PARLEY_DATA_DIR: dir,
    PARLEY_API_KEY: 'unit-api-key-0123456789',
    PARLEY_JWT_SECRET: 'unit-jwt-secret-0123456789abcdef0123456789',
    PARLEY_NODE_TTL_MS: String(RESCAN),
  });
  const parley: Parley = await createParley(config, { logger: quiet, clock, metrics: NULL_METRICS, bus: new MemoryTopics(), mailer: { send: async () => {}, close: async () => {} }, ownership });
  cleanup.push(() => parley.stop());
  await parley.directoryApi.putParticipant('ada', { kind: 'user', name: 'Ada', email: 'ada@example.com' });
  await parley.definitions.create({
    name: 'Reminder',
    type: 'appointment',
    events: ['AppointmentNotification'],
    recipients: { relations: [], agents: ['ada'], groups: [], roles: [] },
    transports: { email: { enabled: true, extraAddresses: [] } },
    messages: { en: { subject: 'Reminder: <OTOBO_APPOINTMENT_TITLE>', body: 'Soon.', contentType: 'text/plain' } },
  });
  await parley.appointments.putCalendar('cal', { name: 'Rota' });
  return {
    clock,
    parley,
    /** A second hub's reminders over the same store, notifier and definitions. */
    async otherHub(o: FakeOwnership) {
      const a = new Appointments({ store: parley.store, notifier: parley.notifier, definitions: parley.definitions, clock, logger: quiet, recoveryMs: 86_400_000, ownership: o, rescanMs: RESCAN });
      cleanup.push(() => a.stop());
      await a.start();
      return a;
    },
    put: (on: Appointments, id: string, reminderAt: number) => on.putAppointment(id, { calendarId: 'cal', title: id, startAt: START, endAt: START, reminderAt }),
    /** The titles of the reminders that went out, in order. */
    reminders: async () => (await parley.store.listEmails(0, 1000)).sort((a, b) => a.createdAt - b.createdAt).map((e) => e.subject.replace('Reminder: ', '')),
  };
}

describe('appointment reminders with one owner', () => {
  it('arms only the reminders this hub owns', async () => {
    const w = await world(new FakeOwnership((k) => k === reminderKey('mine')));
    await w.put(w.parley.appointments, 'theirs', T0 + 30_000);
    await w.put(w.parley.appointments, 'mine', T0 + 40_000);
    w.clock.advance(60_000);
    await until(async () => (await w.reminders()).length > 0, 'the reminder this hub owns');
    expect(await w.reminders()).toEqual(['mine']);
    // Its event, and none for the other one's reminder time.
    expect(await w.parley.store.getEvent(`reminder:theirs:${T0 + 30_000}`)).toBeNull();
  });

  it('takes over a reminder when ownership moves to it, and sends it once', async () => {
    const ownership = new FakeOwnership(() => false);
    const w = await world(ownership);
    await w.put(w.parley.appointments, 'a1', T0 + 30_000);
    w.clock.advance(60_000);
    expect(await w.reminders()).toEqual([]);
    ownership.change(() => true);
    await w.parley.appointments.rescan();
    w.clock.advance(1_000);
    await until(async () => (await w.reminders()).length > 0, 'the reminder taken over');
    ownership.change(() => true);
    await w.parley.appointments.rescan();
    w.clock.advance(60_000);
    // A positive signal after the second change: a new reminder of its own goes out after it.
    await w.put(w.parley.appointments, 'marker', w.clock.now() + 1_000);
    w.clock.advance(2_000);
    await until(async () => (await w.reminders()).length > 1, 'the marker');
    expect(await w.reminders()).toEqual(['a1', 'marker']);
  });

  it('hears of a reminder another hub set at its next read of the store, and sends it at its time', async () => {
    const w = await world(new FakeOwnership(() => false));
    const owner = await w.otherHub(new FakeOwnership(() => true));
    await w.put(w.parley.appointments, 'a1', T0 + 30_000);
    w.clock.advance(RESCAN);
    await owner.rescan();
    w.clock.advance(30_000 - RESCAN - 1_000);
    expect(await w.reminders()).toEqual([]);
    w.clock.advance(2_000);
    await until(async () => (await w.reminders()).length > 0, 'the reminder');
    expect(await w.reminders()).toEqual(['a1']);
    expect(await w.parley.store.getEvent(`reminder:a1:${T0 + 30_000}`)).not.toBeNull();
  });

  it('does not send at its old time a reminder another hub moved, and sends it once at the new one', async () => {
    const w = await world(new FakeOwnership(() => false));
    const owner = await w.otherHub(new FakeOwnership(() => true));
    await w.put(w.parley.appointments, 'a1', T0 + 30_000);
    await owner.rescan();
    // Moved on the hub that does not own it, a moment before its old time: the owner still has the old one armed.
    await w.put(w.parley.appointments, 'a1', T0 + 45_000);
    w.clock.advance(31_000);
    await owner.rescan();
    await new Promise((r) => setImmediate(r));
    expect(await w.reminders()).toEqual([]);
    w.clock.advance(15_000);
    await until(async () => (await w.reminders()).length > 0, 'the moved reminder');
    expect(await w.reminders()).toEqual(['a1']);
    expect(await w.parley.store.getEvent(`reminder:a1:${T0 + 30_000}`)).toBeNull();
    expect(await w.parley.store.getEvent(`reminder:a1:${T0 + 45_000}`)).not.toBeNull();
  });

  it('sends a reminder once when two hubs both own it and both fire it', async () => {
    const w = await world(new FakeOwnership(() => true));
    const other = await w.otherHub(new FakeOwnership(() => true));
    await w.put(w.parley.appointments, 'a1', T0 + 30_000);
    await other.rescan();
    w.clock.advance(31_000);
    await until(async () => (await w.reminders()).length > 0, 'the reminder');
    // Both raised it; a marker after both shows everything raised so far has landed.
    await w.put(w.parley.appointments, 'marker', w.clock.now() + 1_000);
    w.clock.advance(2_000);
    await until(async () => (await w.reminders()).includes('marker'), 'the marker');
    expect((await w.reminders()).filter((t) => t === 'a1')).toHaveLength(1);
  });
});
