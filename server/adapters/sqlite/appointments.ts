import type { AppointmentStore, StoredAppointment } from '../../core/ports/index.js';
import type { AppointmentRecord, CalendarRecord } from '../../core/notifications/types.js';
import { type AppointmentRowDb, type CalendarRowDb, toCalendar, toStoredAppointment } from '../sql/rows.js';
import type { SqliteEngine } from './engine.js';

type Row = AppointmentRowDb<number, string>;

/** Calendars and appointments on SQLite; a reminder is pending while `reminded_at` is null. */
export class SqliteAppointments implements AppointmentStore {
  private readonly stmt;

  constructor(private readonly engine: SqliteEngine) {
    const s = engine.sqlite;
    this.stmt = {
      calendars: s.prepare('SELECT id, name, color, group_id FROM calendars'),
      appointments: s.prepare('SELECT * FROM appointments'),
      putCalendar: s.prepare(
        'INSERT INTO calendars (id, name, color, group_id, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, color = excluded.color, group_id = excluded.group_id, updated_at = excluded.updated_at',
      ),
      putAppointment: s.prepare(
        `INSERT INTO appointments (id, calendar_id, title, description, location, start_at, end_at, all_day, recurring, resource_ids, reminder_at, reminded_at, updated_at)
         VALUES (@id, @calendarId, @title, @description, @location, @startAt, @endAt, @allDay, @recurring, @resourceIds, @reminderAt, NULL, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET calendar_id = excluded.calendar_id, title = excluded.title, description = excluded.description,
           location = excluded.location, start_at = excluded.start_at, end_at = excluded.end_at, all_day = excluded.all_day,
           recurring = excluded.recurring, resource_ids = excluded.resource_ids,
           reminded_at = CASE WHEN appointments.reminder_at IS excluded.reminder_at THEN appointments.reminded_at ELSE NULL END,
           reminder_at = excluded.reminder_at, updated_at = excluded.updated_at`,
      ),
      deleteAppointment: s.prepare('DELETE FROM appointments WHERE id = ?'),
      markReminded: s.prepare('UPDATE appointments SET reminded_at = ? WHERE id = ? AND reminder_at = ? AND reminded_at IS NULL'),
    };
  }

  loadAppointments(): Promise<{ calendars: CalendarRecord[]; appointments: StoredAppointment[] }> {
    const calendars = (this.stmt.calendars.all() as CalendarRowDb[]).map(toCalendar);
    const appointments = (this.stmt.appointments.all() as Row[]).map((r) => toStoredAppointment(r, (f) => f === 1, (l) => JSON.parse(l) as string[]));
    return Promise.resolve({ calendars, appointments });
  }

  putCalendar(c: CalendarRecord): Promise<void> {
    return this.engine.enqueue(() => void this.stmt.putCalendar.run(c.id, c.name, c.color, c.groupId, Date.now()));
  }

  putAppointment(a: AppointmentRecord): Promise<void> {
    return this.engine.enqueue(
      () => void this.stmt.putAppointment.run({ ...a, allDay: a.allDay ? 1 : 0, recurring: a.recurring ? 1 : 0, resourceIds: JSON.stringify(a.resourceIds), updatedAt: Date.now() }),
    );
  }

  deleteAppointment(id: string): Promise<boolean> {
    return this.engine.enqueue(() => this.stmt.deleteAppointment.run(id).changes > 0);
  }

  markReminded(id: string, reminderAt: number, at: number): Promise<boolean> {
    return this.engine.enqueue(() => this.stmt.markReminded.run(at, id, reminderAt).changes > 0);
  }
}
