import type { AppointmentStore, StoredAppointment } from '../../core/ports/index.js';
import type { AppointmentRecord, CalendarRecord } from '../../core/notifications/types.js';
import { type AppointmentRowDb, type CalendarRowDb, toCalendar, toStoredAppointment } from '../sql/rows.js';
import type { PgEngine } from './engine.js';

type Row = AppointmentRowDb<boolean, string[]>;

/**
 * Calendars and appointments on PostgreSQL; a reminder is pending while `reminded_at` is null.
 * markReminded is a compare-and-set in one UPDATE: of racing hubs, the first to commit changes the
 * row and the others' WHERE, re-checked on the committed row, no longer holds.
 */
export class PgAppointments implements AppointmentStore {
  constructor(private readonly engine: PgEngine) {}

  async loadAppointments(): Promise<{ calendars: CalendarRecord[]; appointments: StoredAppointment[] }> {
    const [calendars, rows] = await Promise.all([
      this.engine.read<CalendarRowDb>('SELECT id, name, color, group_id FROM calendars'),
      this.engine.read<Row>(
        'SELECT id, calendar_id, title, description, location, start_at, end_at, all_day, recurring, resource_ids, reminder_at, reminded_at FROM appointments',
      ),
    ]);
    return {
      calendars: calendars.map(toCalendar),
      appointments: rows.map((r) => toStoredAppointment(r, (f) => f, (l) => l)),
    };
  }

  putCalendar(c: CalendarRecord): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      await tx.run(
        `INSERT INTO calendars (id, name, color, group_id, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, color = excluded.color, group_id = excluded.group_id, updated_at = excluded.updated_at`,
        [c.id, c.name, c.color, c.groupId, Date.now()],
        'pg_ap_put_calendar',
      );
    });
  }

  putAppointment(a: AppointmentRecord): Promise<void> {
    return this.engine.enqueue(async (tx) => {
      await tx.run(
        `INSERT INTO appointments (id, calendar_id, title, description, location, start_at, end_at, all_day, recurring, resource_ids, reminder_at, reminded_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, NULL, $12)
         ON CONFLICT (id) DO UPDATE SET calendar_id = excluded.calendar_id, title = excluded.title, description = excluded.description,
           location = excluded.location, start_at = excluded.start_at, end_at = excluded.end_at, all_day = excluded.all_day,
           recurring = excluded.recurring, resource_ids = excluded.resource_ids,
           reminded_at = CASE WHEN appointments.reminder_at IS NOT DISTINCT FROM excluded.reminder_at THEN appointments.reminded_at ELSE NULL END,
           reminder_at = excluded.reminder_at, updated_at = excluded.updated_at`,
        [a.id, a.calendarId, a.title, a.description, a.location, a.startAt, a.endAt, a.allDay, a.recurring, JSON.stringify(a.resourceIds), a.reminderAt, Date.now()],
        'pg_ap_put_appointment',
      );
    });
  }

  deleteAppointment(id: string): Promise<boolean> {
    return this.engine.enqueue(async (tx) => (await tx.run('DELETE FROM appointments WHERE id = $1', [id], 'pg_ap_delete')) > 0);
  }

  markReminded(id: string, reminderAt: number, at: number): Promise<boolean> {
    return this.engine.enqueue(
      async (tx) =>
        (await tx.run('UPDATE appointments SET reminded_at = $1 WHERE id = $2 AND reminder_at = $3 AND reminded_at IS NULL', [at, id, reminderAt], 'pg_ap_reminded')) > 0,
    );
  }
}
