import { nanoid } from 'nanoid';
import { ProtocolError, type AppointmentPut, type CalendarPut } from '../../../protocol/index.js';
import type { AppointmentStore, Clock, Logger, TimerHandle } from '../ports/index.js';
import { TimerWheel } from '../scheduler/timer-wheel.js';
import type { Definitions } from './definitions.js';
import type { Notifier } from './notifier.js';
import type { AppointmentRecord, CalendarRecord, RuleEvent } from './types.js';

export interface AppointmentsOptions {
  store: AppointmentStore;
  notifier: Notifier;
  definitions: Definitions;
  clock: Clock;
  logger: Logger;
  /** A reminder that fell due longer ago than this (the hub was down) is not sent (PARLEY_ESCALATION_RECOVERY_MS). */
  recoveryMs: number;
}

/** How often the wheel is advanced while reminders are pending. */
const TICK_MS = 250;

/**
 * Calendars and appointments (NOTIFICATIONS §1): the host writes them, the hub raises
 * `CalendarCreate`/`CalendarUpdate`, `AppointmentCreate`/`AppointmentUpdate`/`AppointmentDelete`, and
 * at `reminderAt` `AppointmentNotification` — one timer per appointment on the timer wheel, persisted
 * as the appointment's pending reminder: an update moves it, a delete cancels it, a restart re-arms it,
 * and one that fell due while the hub was down fires at start if still inside the recovery window.
 * Exactly once: the reminder's event id is fixed by (appointment, reminderAt), so a second firing (a
 * crash between sending and marking) is a duplicate event that acts on nothing.
 */
export class Appointments {
  private readonly calendars = new Map<string, CalendarRecord>();
  private readonly appointments = new Map<string, AppointmentRecord>();
  private readonly wheel: TimerWheel<string>;
  private ticker: TimerHandle | null = null;

  constructor(private readonly o: AppointmentsOptions) {
    this.wheel = new TimerWheel<string>({
      now: o.clock.now(),
      onFire: (id) => void this.remind(id).catch((error: unknown) => o.logger.error('reminder failed', { appointmentId: id, error: String(error) })),
      onError: (error, id) => o.logger.error('reminder failed', { appointmentId: id, error: String(error) }),
    });
  }

  async start(): Promise<void> {
    const { calendars, appointments } = await this.o.store.loadAppointments();
    for (const c of calendars) this.calendars.set(c.id, c);
    for (const a of appointments) {
      this.appointments.set(a.id, a);
      if (a.reminderAt !== null && a.remindedAt === null) this.arm(a.id, a.reminderAt);
    }
    this.tick();
  }

  stop(): void {
    if (this.ticker) this.o.clock.clearTimer(this.ticker);
    this.ticker = null;
  }

  calendar(id: string): CalendarRecord {
    const c = this.calendars.get(id);
    if (!c) throw new ProtocolError('not_found', `no such calendar: ${id}`);
    return c;
  }

  appointment(id: string): AppointmentRecord {
    const a = this.appointments.get(id);
    if (!a) throw new ProtocolError('not_found', `no such appointment: ${id}`);
    return a;
  }

  /** Every appointment the hub holds, in no particular order (the messaging center's choices). */
  all(): Iterable<AppointmentRecord> {
    return this.appointments.values();
  }

  async putCalendar(id: string, body: CalendarPut): Promise<CalendarRecord> {
    const created = !this.calendars.has(id);
    const c: CalendarRecord = { id, name: body.name, color: body.color ?? null, groupId: body.groupId ?? null };
    await this.o.store.putCalendar(c);
    this.calendars.set(id, c);
    await this.raise(created ? 'CalendarCreate' : 'CalendarUpdate', null, c);
    return c;
  }

  async putAppointment(id: string, body: AppointmentPut): Promise<AppointmentRecord> {
    const calendar = this.calendar(body.calendarId);
    const old = this.appointments.get(id);
    const a: AppointmentRecord = {
      id,
      calendarId: body.calendarId,
      title: body.title,
      description: body.description ?? null,
      location: body.location ?? null,
      startAt: body.startAt,
      endAt: body.endAt,
      allDay: body.allDay ?? false,
      recurring: body.recurring ?? false,
      resourceIds: body.resourceIds ?? [],
      reminderAt: body.reminderAt ?? null,
    };
    await this.o.store.putAppointment(a);
    this.appointments.set(id, a);
    if (old?.reminderAt !== a.reminderAt) {
      this.wheel.cancel(id);
      if (a.reminderAt !== null) this.arm(id, a.reminderAt);
    }
    await this.raise(old ? 'AppointmentUpdate' : 'AppointmentCreate', a, calendar);
    return a;
  }

  async deleteAppointment(id: string): Promise<void> {
    const a = this.appointment(id);
    await this.o.store.deleteAppointment(id);
    this.appointments.delete(id);
    this.wheel.cancel(id);
    await this.raise('AppointmentDelete', a, this.calendars.get(a.calendarId) ?? null);
  }

  /** A reminder in the past fires at once if inside the recovery window, else never (logged). */
  private arm(id: string, reminderAt: number): void {
    const now = this.o.clock.now();
    if (reminderAt < now - this.o.recoveryMs) {
      // Too old to be useful: never sent. Its event is recorded with no deliveries, so the audit
      // (GET /v1/events/reminder:{id}:{reminderAt}) says it was not.
      this.o.logger.warn('reminder too old to send', { appointmentId: id, reminderAt });
      const a = this.appointments.get(id);
      const event = a && this.event('AppointmentNotification', a, this.calendars.get(a.calendarId) ?? null, `reminder:${id}:${reminderAt}`);
      void (event ? this.o.notifier.runQueued(event, []) : Promise.resolve())
        .then(() => this.o.store.markReminded(id, reminderAt, now))
        .catch((e: unknown) => this.o.logger.error('reminder mark failed', { error: String(e) }));
      return;
    }
    this.wheel.arm(id, Math.max(reminderAt, now));
    this.tick();
  }

  private tick(): void {
    if (this.ticker || this.wheel.size === 0) return;
    this.ticker = this.o.clock.setTimer(TICK_MS, () => {
      this.ticker = null;
      this.wheel.advance(this.o.clock.now());
      this.tick();
    });
  }

  private async remind(id: string): Promise<void> {
    const a = this.appointments.get(id);
    if (!a || a.reminderAt === null) return;
    const calendar = this.calendars.get(a.calendarId) ?? null;
    const event = this.event('AppointmentNotification', a, calendar, `reminder:${a.id}:${a.reminderAt}`);
    await this.o.notifier.runQueued(event, this.o.definitions.forEvent(event.type));
    await this.o.store.markReminded(a.id, a.reminderAt, this.o.clock.now());
  }

  private raise(type: string, a: AppointmentRecord | null, calendar: CalendarRecord | null) {
    const event = this.event(type, a, calendar, `hub:${nanoid()}`);
    return this.o.notifier.runQueued(event, this.o.definitions.forEvent(type));
  }

  private event(type: string, appointment: AppointmentRecord | null, calendar: CalendarRecord | null, id: string): RuleEvent {
    return { id, type, occurredAt: this.o.clock.now(), actorId: null, item: null, article: null, appointment, calendar };
  }
}
