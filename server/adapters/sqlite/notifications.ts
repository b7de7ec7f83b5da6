import { ProtocolError, type Notification, type NotificationDefinition } from '../../../protocol/index.js';
import type {
  DeliveryMark,
  DeliveryRecord,
  EventCommit,
  EventRecord,
  NewEmailRow,
  NotificationState,
  NotificationStore,
  UnseenEmailTimer,
} from '../../core/ports/index.js';
import type { NotFound } from '../../core/notifications/types.js';
import { type NotificationRowDb, toNotification } from '../sql/rows.js';
import type { SqliteEngine } from './engine.js';
import type { SqliteOutbox } from './outbox.js';

/**
 * Notification rules on SQLite (NOTIFICATIONS.md): definitions as JSON documents, events with their
 * audit, web notifications, only-if-unseen timers, once-per-day marks and article addresses. Writes
 * that must be atomic run in a savepoint inside the engine's group commit, so a failed statement
 * leaves nothing of its call behind; the outbox rows of an event ride the same savepoint.
 */
export class SqliteNotifications implements NotificationStore {
  private readonly stmt;

  /**
   * One event's writes, all or none (a savepoint inside the group commit): nothing when the event is
   * already stored. Made once: better-sqlite3 builds a wrapper per `transaction()` call.
   */
  private readonly eventTx: (c: EventCommit) => boolean;

  constructor(
    private readonly engine: SqliteEngine,
    private readonly outbox: SqliteOutbox,
  ) {
    const s = engine.sqlite;
    this.stmt = {
      definitions: s.prepare('SELECT id, doc, built_in, created_at, updated_at FROM notification_definitions ORDER BY name'),
      definitionNames: s.prepare('SELECT id, name FROM notification_definitions'),
      upsertDefinition: s.prepare(
        `INSERT INTO notification_definitions (id, name, doc, built_in, created_at, updated_at) VALUES (@id, @name, @doc, @builtIn, @createdAt, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc, built_in = excluded.built_in, updated_at = excluded.updated_at`,
      ),
      deleteDefinition: s.prepare('DELETE FROM notification_definitions WHERE id = ?'),
      marks: s.prepare('SELECT definition_id, item_key, recipient, transport, at FROM notification_marks WHERE at >= ?'),
      upsertMark: s.prepare(
        `INSERT INTO notification_marks (definition_id, item_key, recipient, transport, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (definition_id, item_key, recipient, transport) DO UPDATE SET at = max(at, excluded.at)`,
      ),
      articles: s.prepare('SELECT item_id, first, last FROM item_articles'),
      upsertArticles: s.prepare(
        'INSERT INTO item_articles (item_id, first, last) VALUES (?, ?, ?) ON CONFLICT (item_id) DO UPDATE SET first = excluded.first, last = excluded.last',
      ),
      event: s.prepare('SELECT id, type, occurred_at, received_at, actor_id, item_id, deliveries, not_found FROM notification_events WHERE id = ?'),
      insertEvent: s.prepare(
        `INSERT INTO notification_events (id, type, occurred_at, received_at, actor_id, item_id, deliveries, not_found)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ),
      setDeliveries: s.prepare('UPDATE notification_events SET deliveries = ? WHERE id = ?'),
      insertNotification: s.prepare(
        `INSERT INTO notifications (id, participant_id, definition_id, event_id, broadcast_id, subject, body, item_id, appointment_id, created_at, seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      notificationAt: s.prepare('SELECT created_at FROM notifications WHERE id = ? AND participant_id = ?').pluck(),
      latest: s.prepare(
        `SELECT id, definition_id, event_id, broadcast_id, subject, body, item_id, appointment_id, created_at, seen_at FROM notifications
         WHERE participant_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      before: s.prepare(
        `SELECT id, definition_id, event_id, broadcast_id, subject, body, item_id, appointment_id, created_at, seen_at FROM notifications
         WHERE participant_id = ? AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      unseen: s.prepare('SELECT count(*) FROM notifications WHERE participant_id = ? AND seen_at IS NULL').pluck(),
      markSeen: s.prepare('UPDATE notifications SET seen_at = ? WHERE id = ? AND participant_id = ? AND seen_at IS NULL'),
      seenAt: s.prepare('SELECT seen_at FROM notifications WHERE id = ?').pluck(),
      insertTimer: s.prepare('INSERT INTO notification_timers (notification_id, event_id, delivery_index, due_at, email) VALUES (?, ?, ?, ?, ?)'),
      dueTimers: s.prepare('SELECT notification_id, event_id, delivery_index, due_at, email FROM notification_timers WHERE due_at <= ? ORDER BY due_at LIMIT ?'),
      nextTimer: s.prepare('SELECT min(due_at) FROM notification_timers').pluck(),
      timer: s.prepare('SELECT notification_id, event_id, delivery_index, due_at, email FROM notification_timers WHERE notification_id = ?'),
      deleteTimer: s.prepare('DELETE FROM notification_timers WHERE notification_id = ?'),
      outboxStatus: s.prepare('SELECT status, error FROM emails WHERE id = ?'),
    };
    this.eventTx = s.transaction((c: EventCommit): boolean => {
      const st = this.stmt;
      const e = c.event;
      const inserted = st.insertEvent.run(e.id, e.type, e.occurredAt, e.receivedAt, e.actorId, e.itemId, JSON.stringify(e.deliveries), JSON.stringify(e.notFound));
      if (inserted.changes === 0) return false;
      for (const row of c.outbox) this.outbox.insert(row);
      for (const n of c.notifications) {
        st.insertNotification.run(n.id, n.participantId, n.definitionId, n.eventId, n.broadcastId, n.subject, n.body, n.itemId, n.appointmentId, n.createdAt, n.seenAt);
      }
      for (const t of c.timers) st.insertTimer.run(t.notificationId, t.eventId, t.deliveryIndex, t.dueAt, JSON.stringify(t.email));
      for (const m of c.marks) st.upsertMark.run(m.definitionId, m.itemKey ?? '', m.recipient, m.transport, m.at);
      const a = c.articleAddresses;
      if (a) st.upsertArticles.run(a.itemId, JSON.stringify(a.first), JSON.stringify(a.last));
      return true;
    });
  }

  loadNotificationState(since: number): Promise<NotificationState> {
    const defs = this.stmt.definitions.all() as Array<{ id: string; doc: string; built_in: number; created_at: number; updated_at: number }>;
    const marks = this.stmt.marks.all(since) as Array<{ definition_id: string; item_key: string; recipient: string; transport: DeliveryMark['transport']; at: number }>;
    const articles = this.stmt.articles.all() as Array<{ item_id: string; first: string; last: string }>;
    return Promise.resolve({
      definitions: defs.map((d) => ({ ...(JSON.parse(d.doc) as object), id: d.id, builtIn: d.built_in === 1, createdAt: d.created_at, updatedAt: d.updated_at }) as NotificationDefinition),
      marks: marks.map((m) => ({ definitionId: m.definition_id, itemKey: m.item_key === '' ? null : m.item_key, recipient: m.recipient, transport: m.transport, at: m.at })),
      articleAddresses: articles.map((a) => ({ itemId: a.item_id, first: JSON.parse(a.first) as string[], last: JSON.parse(a.last) as string[] })),
    });
  }

  putDefinitions(definitions: readonly NotificationDefinition[]): Promise<void> {
    return this.engine.enqueue(() =>
      this.engine.sqlite.transaction(() => {
        for (const d of definitions) {
          const { id, builtIn, createdAt, updatedAt, ...doc } = d;
          this.stmt.upsertDefinition.run({ id, name: d.name, doc: JSON.stringify(doc), builtIn: builtIn ? 1 : 0, createdAt, updatedAt });
        }
      })(),
    ).catch((e: unknown) => {
      if (e instanceof Error && 'code' in e && String((e as { code: unknown }).code).startsWith('SQLITE_CONSTRAINT')) {
        throw new ProtocolError('conflict', 'a notification definition with this name exists');
      }
      throw e;
    });
  }

  deleteDefinition(id: string): Promise<boolean> {
    return this.engine.enqueue(() => this.stmt.deleteDefinition.run(id).changes > 0);
  }

  getEvent(id: string): Promise<EventRecord | null> {
    const r = this.stmt.event.get(id) as
      | { id: string; type: string; occurred_at: number; received_at: number; actor_id: string | null; item_id: string | null; deliveries: string; not_found: string }
      | undefined;
    if (!r) return Promise.resolve(null);
    return Promise.resolve({
      id: r.id,
      type: r.type,
      occurredAt: r.occurred_at,
      receivedAt: r.received_at,
      actorId: r.actor_id,
      itemId: r.item_id,
      deliveries: JSON.parse(r.deliveries) as DeliveryRecord[],
      notFound: JSON.parse(r.not_found) as NotFound[],
    });
  }

  commitEvent(c: EventCommit): Promise<boolean> {
    return this.engine.enqueue(() => this.eventTx(c));
  }


  outboxStatus(ids: readonly string[]): Promise<Map<string, { status: 'queued' | 'sent' | 'failed'; error: string | null }>> {
    const out = new Map<string, { status: 'queued' | 'sent' | 'failed'; error: string | null }>();
    for (const id of ids) {
      const row = this.stmt.outboxStatus.get(id) as { status: 'queued' | 'sent' | 'failed'; error: string | null } | undefined;
      if (row) out.set(id, row);
    }
    return Promise.resolve(out);
  }

  listNotifications(participantId: string, before: string | undefined, limit: number) {
    const s = this.stmt;
    let rows: NotificationRowDb[];
    if (before === undefined) rows = s.latest.all(participantId, limit + 1) as NotificationRowDb[];
    else {
      const at = s.notificationAt.get(before, participantId) as number | undefined;
      rows = at === undefined ? [] : (s.before.all(participantId, at, at, before, limit + 1) as NotificationRowDb[]);
    }
    const hasMore = rows.length > limit;
    return Promise.resolve({ notifications: rows.slice(0, limit).map(toNotification), hasMore, unseen: s.unseen.get(participantId) as number });
  }

  markNotificationsSeen(participantId: string, ids: readonly string[], at: number): Promise<number> {
    return this.engine.enqueue(() => {
      let changed = 0;
      for (const id of ids) changed += this.stmt.markSeen.run(at, id, participantId).changes;
      return changed;
    });
  }

  dueUnseenTimers(now: number, limit: number): Promise<UnseenEmailTimer[]> {
    const rows = this.stmt.dueTimers.all(now, limit) as Array<{ notification_id: string; event_id: string; delivery_index: number; due_at: number; email: string }>;
    return Promise.resolve(
      rows.map((r) => ({ notificationId: r.notification_id, eventId: r.event_id, deliveryIndex: r.delivery_index, dueAt: r.due_at, email: JSON.parse(r.email) as NewEmailRow })),
    );
  }

  nextUnseenTimerAt(): Promise<number | null> {
    return Promise.resolve((this.stmt.nextTimer.get() as number | null) ?? null);
  }

  fireUnseenTimer(notificationId: string, at: number): Promise<'queued' | 'seen' | 'gone'> {
    const s = this.stmt;
    return this.engine.enqueue(() =>
      this.engine.sqlite.transaction((): 'queued' | 'seen' | 'gone' => {
        const t = s.timer.get(notificationId) as { event_id: string; delivery_index: number; due_at: number; email: string } | undefined;
        if (!t) return 'gone';
        s.deleteTimer.run(notificationId);
        const seen = s.seenAt.get(notificationId) as number | null | undefined;
        const email = JSON.parse(t.email) as NewEmailRow;
        // Unseen when it fell due (a hub that was down then still sends it now).
        const outcome = seen != null && seen <= t.due_at ? 'seen' : 'queued';
        if (outcome === 'queued') this.outbox.insert({ ...email, createdAt: at });
        const ev = s.event.get(t.event_id) as { deliveries: string } | undefined;
        if (ev) {
          const deliveries = JSON.parse(ev.deliveries) as DeliveryRecord[];
          const d = deliveries[t.delivery_index];
          if (d) {
            if (outcome === 'queued') Object.assign(d, { status: 'queued', reason: null, outboxId: email.id });
            else Object.assign(d, { status: 'skipped', reason: 'seen_in_time', outboxId: null });
            s.setDeliveries.run(JSON.stringify(deliveries), t.event_id);
          }
        }
        return outcome;
      })(),
    );
  }
}
