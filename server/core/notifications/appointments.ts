import { nanoid } from 'nanoid';
import { ProtocolError, type AppointmentPut, type CalendarPut } from '../../../protocol/index.js';
import type { AppointmentStore, Clock, Logger, StoredAppointment, TimerHandle, TimerOwnership } from '../ports/index.js';
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
  /** Which reminders this hub keeps (key `reminder:<appointmentId>`; several hubs). Default: all. */
  ownership?: TimerOwnership;
  /**
   * Several hubs: how often to read the appointments again from the store, for reminders other hubs
   * set, moved or deleted; each reminder is also checked against a fresh read when it fires. Unset:
   * never (one hub writes every appointment).
   */
  rescanMs?: number;
}

/** The ownership key of an appointment's reminder (core/ports/ownership.ts). */
export const reminderKey = (appointmentId: string): string => `reminder:${appointmentId}`;

const ALL: TimerOwnership = { owns: () => true, onChange: () => {} };

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
 *
 * Several hubs (DESIGN §8): a hub arms only the reminders it owns. It reads every appointment again
 * (the start-up code path) when ownership moves and every `rescanMs`, taking in what other hubs
 * wrote, arming the reminders it gained and dropping those it lost or that moved; and before a
 * reminder goes out it reads them again, so one moved or deleted on another hub since is not sent at
 * its old time. Two hubs that both own a reminder for a moment both raise its event: one id, acted
 * on once.
 */
export class Appointments {
  private readonly calendars = new Map<string, CalendarRecord>();
  private readonly appointments = new Map<string, AppointmentRecord>();
  private readonly wheel: TimerWheel<string>;
  private ticker: TimerHandle | null = null;
  private readonly ownership: TimerOwnership;
  /** The reminderAt each armed reminder was armed for. */
  private readonly armedFor = new Map<string, number>();
  /** Reminders being raised now: a read of the store meanwhile must not arm them again. */
  private readonly firing = new Set<string>();
  private scanning: Promise<void> | null = null;
  private scanAgain = false;
  /** Appointments written here while a read of the store runs: that read must not undo them. */
  private touched: Set<string> | null = null;
  /** Appointments being written here now, with how many writes each. */
  private readonly writing = new Map<string, number>();
  private rescanTimer: TimerHandle | null = null;
  private stopped = false;

  constructor(private readonly o: AppointmentsOptions) {
    this.ownership = o.ownership ?? ALL;
    this.wheel = new TimerWheel<string>({
      now: o.clock.now(),
      onFire: (id) => {
        const armed = this.armedFor.get(id);
        this.armedFor.delete(id);
        this.firing.add(id);
        void this.remind(id, armed)
          .catch((error: unknown) => o.logger.error('reminder failed', { appointmentId: id, error: String(error) }))
          .finally(() => this.firing.delete(id));
      },
      onError: (error, id) => o.logger.error('reminder failed', { appointmentId: id, error: String(error) }),
    });
  }

  async start(): Promise<void> {
    this.ownership.onChange(() => void this.rescan());
    await this.rescan();
    this.tick();
    this.scheduleRescan();
  }

  stop(): void {
    this.stopped = true;
    if (this.ticker) this.o.clock.clearTimer(this.ticker);
    this.ticker = null;
    if (this.rescanTimer) this.o.clock.clearTimer(this.rescanTimer);
    this.rescanTimer = null;
  }

  /**
   * Read every calendar and appointment from the store (at start, when ownership moves, every
   * `rescanMs`): take in what other hubs wrote, arm the pending reminders this hub owns and drop the
   * rest. One read at a time; one asked for meanwhile runs after it, and the promise resolves then.
   */
  rescan(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.scanning) {
      this.scanAgain = true;
      return this.scanning.then(() => this.scanning ?? undefined);
    }
    this.scanning = this.scan()
      .catch((e: unknown) => this.o.logger.error('appointments read failed', { error: e instanceof Error ? e.stack : String(e) }))
      .finally(() => {
        this.scanning = null;
        if (this.scanAgain) {
          this.scanAgain = false;
          void this.rescan();
        }
      });
    return this.scanning;
  }

  private async scan(): Promise<void> {
    // A write under way when the read begins may land in the store after it: it counts as touched too.
    const touched = (this.touched = new Set(this.writing.keys()));
    let loaded: { calendars: CalendarRecord[]; appointments: StoredAppointment[] };
    try {
      loaded = await this.o.store.loadAppointments();
    } finally {
      this.touched = null;
    }
    for (const c of loaded.calendars) this.calendars.set(c.id, c);
    const seen = new Set<string>();
    for (const stored of loaded.appointments) {
      seen.add(stored.id);
      if (touched.has(stored.id)) continue;
      const { remindedAt, ...a } = stored;
      this.appointments.set(a.id, a);
      const pending = a.reminderAt !== null && remindedAt === null;
      if (!pending || !this.ownership.owns(reminderKey(a.id))) this.cancel(a.id);
      else if (this.armedFor.get(a.id) !== a.reminderAt && !this.firing.has(a.id)) this.arm(a.id, a.reminderAt!);
    }
    // Deleted on another hub since this hub read or wrote it.
    for (const id of [...this.appointments.keys()]) {
      if (seen.has(id) || touched.has(id)) continue;
      this.appointments.delete(id);
      this.cancel(id);
    }
  }

  private scheduleRescan(): void {
    const every = this.o.rescanMs;
    if (every === undefined || this.stopped) return;
    this.rescanTimer = this.o.clock.setTimer(every, () => {
      this.rescanTimer = null;
      void this.rescan().finally(() => this.scheduleRescan());
    });
  }

  private cancel(id: string): void {
    this.armedFor.delete(id);
    this.wheel.cancel(id);
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
    await this.write(id, () => this.o.store.putAppointment(a));
    this.appointments.set(id, a);
    if (old?.reminderAt !== a.reminderAt) {
      this.cancel(id);
      if (a.reminderAt !== null && this.ownership.owns(reminderKey(id))) this.arm(id, a.reminderAt);
    }
    await this.raise(old ? 'AppointmentUpdate' : 'AppointmentCreate', a, calendar);
    return a;
  }

  async deleteAppointment(id: string): Promise<void> {
    const a = this.appointment(id);
    await this.write(id, () => this.o.store.deleteAppointment(id));
    this.appointments.delete(id);
    this.cancel(id);
    await this.raise('AppointmentDelete', a, this.calendars.get(a.calendarId) ?? null);
  }

  /** A store write of appointment `id`, marked as under way for any read of the store meanwhile. */
  private async write(id: string, fn: () => Promise<unknown>): Promise<void> {
    this.writing.set(id, (this.writing.get(id) ?? 0) + 1);
    this.touched?.add(id);
    try {
      await fn();
    } finally {
      const n = this.writing.get(id)! - 1;
      if (n === 0) this.writing.delete(id);
      else this.writing.set(id, n);
    }
  }

  /** A reminder in the past fires at once if inside the recovery window, else never (logged). */
  private arm(id: string, reminderAt: number): void {
    const now = this.o.clock.now();
    if (reminderAt < now - this.o.recoveryMs) {
      // Too old to be useful: never sent. Its event is recorded with no deliveries, so the audit
      // (GET /v1/events/reminder:{id}:{reminderAt}) says it was not.
      this.o.logger.warn('reminder too old to send', { appointmentId: id, reminderAt });
      // Marked below: a read of the store before the mark lands must not take it up again.
      this.armedFor.set(id, reminderAt);
      const a = this.appointments.get(id);
      const event = a && this.event('AppointmentNotification', a, this.calendars.get(a.calendarId) ?? null, `reminder:${id}:${reminderAt}`);
      void (event ? this.o.notifier.runQueued(event, []) : Promise.resolve())
        .then(() => this.o.store.markReminded(id, reminderAt, now))
        .catch((e: unknown) => this.o.logger.error('reminder mark failed', { error: String(e) }));
      return;
    }
    this.armedFor.set(id, reminderAt);
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

  /** Raise the reminder of `id` armed for `armedFor`, unless it moved, went or changed hands since. */
  private async remind(id: string, armedFor: number | undefined): Promise<void> {
    // Several hubs: another hub may have moved or deleted it since this hub last read it.
    if (this.o.rescanMs !== undefined) await this.rescan();
    const a = this.appointments.get(id);
    if (!a || a.reminderAt === null || !this.ownership.owns(reminderKey(id))) return;
    // Moved since it was armed: arm it for its new time instead (the read above left it to us).
    if (a.reminderAt !== armedFor) return this.arm(id, a.reminderAt);
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
