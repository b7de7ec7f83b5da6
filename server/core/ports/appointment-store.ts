import type { AppointmentRecord, CalendarRecord } from '../notifications/types.js';

/** An appointment as stored, with its reminder's state. */
export interface StoredAppointment extends AppointmentRecord {
  /** When its reminder fired (null: pending, or none). */
  remindedAt: number | null;
}

/**
 * Calendars and appointments (NOTIFICATIONS §1), with each appointment's reminder persisted.
 *
 * Contract (every adapter, any number of writers):
 * - Writes are durable on resolve; `putAppointment` replaces the whole appointment and resets its
 *   reminder to pending when `reminderAt` changed (an update moves the timer).
 * - `markReminded` is a compare-and-set: it succeeds once per (appointment, reminderAt) — for the
 *   caller that fires it — and fails when the reminder moved, was deleted or already fired.
 */
export interface AppointmentStore {
  loadAppointments(): Promise<{ calendars: CalendarRecord[]; appointments: StoredAppointment[] }>;
  putCalendar(c: CalendarRecord): Promise<void>;
  putAppointment(a: AppointmentRecord): Promise<void>;
  deleteAppointment(id: string): Promise<boolean>;
  markReminded(id: string, reminderAt: number, at: number): Promise<boolean>;
}
