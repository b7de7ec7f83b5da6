import { ProtocolError, type Notification, type NotificationDefinition } from '../../../protocol/index.js';
import type { NotFound } from '../../core/notifications/types.js';
import type {
  DeliveryMark,
  DeliveryRecord,
  EventCommit,
  EventRecord,
  NewEmailRow,
  NotificationRow,
  NotificationState,
  NotificationStore,
  UnseenEmailTimer,
} from '../../core/ports/index.js';
import { type NotificationRowDb, toNotification } from '../sql/rows.js';
import type { PgEngine, Tx } from './engine.js';
import type { PgOutbox } from './outbox.js';

const NOTIFICATION_COLUMNS = 'id, definition_id, event_id, broadcast_id, subject, body, item_id, appointment_id, created_at, seen_at';

type EventRowDb = {
  id: string;
  type: string;
  occurred_at: number;
  received_at: number;
  actor_id: string | null;
  item_id: string | null;
  deliveries: DeliveryRecord[];
  not_found: NotFound[];
};

type TimerRowDb = { notification_id: string; event_id: string; delivery_index: number; due_at: number; email: NewEmailRow };

/** Insert web notifications inside a commit (events and broadcasts), one statement for any number. */
export async function insertNotifications(tx: Tx, rows: readonly NotificationRow[]): Promise<void> {
  if (!rows.length) return;
  const docs = rows.map((n) => ({
    id: n.id,
    participant_id: n.participantId,
    definition_id: n.definitionId,
    event_id: n.eventId,
    broadcast_id: n.broadcastId,
    subject: n.subject,
    body: n.body,
    item_id: n.itemId,
    appointment_id: n.appointmentId,
    created_at: n.createdAt,
    seen_at: n.seenAt,
  }));
  await tx.run(
    `INSERT INTO notifications (id, participant_id, ${NOTIFICATION_COLUMNS.slice(4)})
     SELECT id, participant_id, ${NOTIFICATION_COLUMNS.slice(4)}
     FROM jsonb_to_recordset($1::jsonb) AS r(id text, participant_id text, definition_id text, event_id text, broadcast_id text, subject text, body text,
          item_id text, appointment_id text, created_at bigint, seen_at bigint)`,
    [JSON.stringify(docs)],
    'pg_ntf_insert',
  );
}

/**
 * Notification rules on PostgreSQL (NOTIFICATIONS.md): definitions as jsonb documents, events with their
 * audit, web notifications, only-if-unseen timers, once-per-day marks and article addresses. Writes
 * that must be atomic run in a savepoint of the group commit, so a failed statement leaves nothing of
 * its call behind. Insert-if-absent by event id holds across hubs: a racing second insert waits for
 * the first's commit and then inserts nothing.
 */
export class PgNotifications implements NotificationStore {
  constructor(
    private readonly engine: PgEngine,
    private readonly outbox: PgOutbox,
  ) {}

  async loadNotificationState(since: number): Promise<NotificationState> {
    const [defs, marks, articles] = await Promise.all([
      this.engine.read<{ id: string; doc: Record<string, unknown>; built_in: boolean; created_at: number; updated_at: number }>(
        'SELECT id, doc, built_in, created_at, updated_at FROM notification_definitions ORDER BY name COLLATE "C"',
      ),
      this.engine.read<{ definition_id: string; item_key: string; recipient: string; transport: DeliveryMark['transport']; at: number }>(
        'SELECT definition_id, item_key, recipient, transport, at FROM notification_marks WHERE at >= $1',
        [since],
      ),
      this.engine.read<{ item_id: string; first: string[]; last: string[] }>('SELECT item_id, first, last FROM item_articles'),
    ]);
    return {
      definitions: defs.map((d) => ({ ...d.doc, id: d.id, builtIn: d.built_in, createdAt: d.created_at, updatedAt: d.updated_at }) as NotificationDefinition),
      marks: marks.map((m) => ({ definitionId: m.definition_id, itemKey: m.item_key === '' ? null : m.item_key, recipient: m.recipient, transport: m.transport, at: m.at })),
      articleAddresses: articles.map((a) => ({ itemId: a.item_id, first: a.first, last: a.last })),
    };
  }

  async putDefinitions(definitions: readonly NotificationDefinition[]): Promise<void> {
    try {
      await this.engine.enqueue(
        async (tx) => {
          for (const d of definitions) {
            const { id, builtIn, createdAt, updatedAt, ...doc } = d;
            await tx.run(
              `INSERT INTO notification_definitions (id, name, doc, built_in, created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, $5, $6)
               ON CONFLICT (id) DO UPDATE SET name = excluded.name, doc = excluded.doc, built_in = excluded.built_in, updated_at = excluded.updated_at`,
              [id, d.name, JSON.stringify(doc), builtIn, createdAt, updatedAt],
              'pg_ntf_put_definition',
            );
          }
        },
        { savepoint: true },
      );
    } catch (e) {
      if (e instanceof Error && (e as { code?: unknown }).code === '23505') throw new ProtocolError('conflict', 'a notification definition with this name exists');
      throw e;
    }
  }

  deleteDefinition(id: string): Promise<boolean> {
    return this.engine.enqueue(async (tx) => (await tx.run('DELETE FROM notification_definitions WHERE id = $1', [id], 'pg_ntf_delete_definition')) > 0);
  }

  async getEvent(id: string): Promise<EventRecord | null> {
    const [r] = await this.engine.read<EventRowDb>(
      'SELECT id, type, occurred_at, received_at, actor_id, item_id, deliveries, not_found FROM notification_events WHERE id = $1',
      [id],
      'pg_ntf_event',
    );
    if (!r) return null;
    return { id: r.id, type: r.type, occurredAt: r.occurred_at, receivedAt: r.received_at, actorId: r.actor_id, itemId: r.item_id, deliveries: r.deliveries, notFound: r.not_found };
  }

  commitEvent(c: EventCommit): Promise<boolean> {
    return this.engine.enqueue(
      async (tx) => {
        const e = c.event;
        const inserted = await tx.run(
          `INSERT INTO notification_events (id, type, occurred_at, received_at, actor_id, item_id, deliveries, not_found)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb) ON CONFLICT (id) DO NOTHING`,
          [e.id, e.type, e.occurredAt, e.receivedAt, e.actorId, e.itemId, JSON.stringify(e.deliveries), JSON.stringify(e.notFound)],
          'pg_ntf_insert_event',
        );
        if (inserted === 0) return false;
        await this.outbox.insert(tx, c.outbox);
        await insertNotifications(tx, c.notifications);
        for (const t of c.timers) {
          await tx.run(
            'INSERT INTO notification_timers (notification_id, event_id, delivery_index, due_at, email) VALUES ($1, $2, $3, $4, $5::jsonb)',
            [t.notificationId, t.eventId, t.deliveryIndex, t.dueAt, JSON.stringify(t.email)],
            'pg_ntf_insert_timer',
          );
        }
        for (const m of c.marks) {
          await tx.run(
            `INSERT INTO notification_marks (definition_id, item_key, recipient, transport, at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (definition_id, item_key, recipient, transport) DO UPDATE SET at = greatest(notification_marks.at, excluded.at)`,
            [m.definitionId, m.itemKey ?? '', m.recipient, m.transport, m.at],
            'pg_ntf_upsert_mark',
          );
        }
        const a = c.articleAddresses;
        if (a) {
          await tx.run(
            'INSERT INTO item_articles (item_id, first, last) VALUES ($1, $2::jsonb, $3::jsonb) ON CONFLICT (item_id) DO UPDATE SET first = excluded.first, last = excluded.last',
            [a.itemId, JSON.stringify(a.first), JSON.stringify(a.last)],
            'pg_ntf_upsert_articles',
          );
        }
        return true;
      },
      { savepoint: true },
    );
  }

  async outboxStatus(ids: readonly string[]): Promise<Map<string, { status: 'queued' | 'sent' | 'failed'; error: string | null }>> {
    const out = new Map<string, { status: 'queued' | 'sent' | 'failed'; error: string | null }>();
    if (!ids.length) return out;
    const rows = await this.engine.read<{ id: string; status: 'queued' | 'sent' | 'failed'; error: string | null }>(
      'SELECT id, status, error FROM emails WHERE id = ANY($1::text[])',
      [ids],
      'pg_ntf_outbox_status',
    );
    for (const r of rows) out.set(r.id, { status: r.status, error: r.error });
    return out;
  }

  async listNotifications(participantId: string, before: string | undefined, limit: number): Promise<{ notifications: Notification[]; hasMore: boolean; unseen: number }> {
    const rows =
      before === undefined
        ? await this.engine.read<NotificationRowDb>(
            `SELECT ${NOTIFICATION_COLUMNS} FROM notifications WHERE participant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
            [participantId, limit + 1],
            'pg_ntf_latest',
          )
        : await this.engine.read<NotificationRowDb>(
            `SELECT ${NOTIFICATION_COLUMNS} FROM notifications n
             WHERE participant_id = $1 AND (created_at, id) < (SELECT created_at, id FROM notifications WHERE id = $2 AND participant_id = $1)
             ORDER BY created_at DESC, id DESC LIMIT $3`,
            [participantId, before, limit + 1],
            'pg_ntf_before',
          );
    const [unseen] = await this.engine.read<{ n: number }>(
      'SELECT count(*) AS n FROM notifications WHERE participant_id = $1 AND seen_at IS NULL',
      [participantId],
      'pg_ntf_unseen',
    );
    return { notifications: rows.slice(0, limit).map(toNotification), hasMore: rows.length > limit, unseen: unseen!.n };
  }

  markNotificationsSeen(participantId: string, ids: readonly string[], at: number): Promise<number> {
    return this.engine.enqueue((tx) =>
      tx.run('UPDATE notifications SET seen_at = $1 WHERE id = ANY($2::text[]) AND participant_id = $3 AND seen_at IS NULL', [at, ids, participantId], 'pg_ntf_mark_seen'),
    );
  }

  async dueUnseenTimers(now: number, limit: number): Promise<UnseenEmailTimer[]> {
    const rows = await this.engine.read<TimerRowDb>(
      'SELECT notification_id, event_id, delivery_index, due_at, email FROM notification_timers WHERE due_at <= $1 ORDER BY due_at LIMIT $2',
      [now, limit],
      'pg_ntf_due_timers',
    );
    return rows.map((r) => ({ notificationId: r.notification_id, eventId: r.event_id, deliveryIndex: r.delivery_index, dueAt: r.due_at, email: r.email }));
  }

  async nextUnseenTimerAt(): Promise<number | null> {
    const [r] = await this.engine.read<{ at: number | null }>('SELECT min(due_at) AS at FROM notification_timers', [], 'pg_ntf_next_timer');
    return r?.at ?? null;
  }

  fireUnseenTimer(notificationId: string, at: number): Promise<'queued' | 'seen' | 'gone'> {
    return this.engine.enqueue(
      async (tx): Promise<'queued' | 'seen' | 'gone'> => {
        // Deleting the timer is the decision: of racing hubs, one deletes it, the others find nothing.
        const [t] = await tx.query<TimerRowDb>(
          'DELETE FROM notification_timers WHERE notification_id = $1 RETURNING notification_id, event_id, delivery_index, due_at, email',
          [notificationId],
          'pg_ntf_take_timer',
        );
        if (!t) return 'gone';
        const [n] = await tx.query<{ seen_at: number | null }>('SELECT seen_at FROM notifications WHERE id = $1', [notificationId], 'pg_ntf_seen_at');
        const seen = n?.seen_at ?? null;
        const email = t.email;
        // Unseen when it fell due (a hub that was down then still sends it now).
        const outcome = seen !== null && seen <= t.due_at ? 'seen' : 'queued';
        if (outcome === 'queued') await this.outbox.insert(tx, [{ ...email, createdAt: at }]);
        const [ev] = await tx.query<{ deliveries: DeliveryRecord[] }>('SELECT deliveries FROM notification_events WHERE id = $1 FOR UPDATE', [t.event_id], 'pg_ntf_event_lock');
        const d = ev?.deliveries[t.delivery_index];
        if (ev && d) {
          if (outcome === 'queued') Object.assign(d, { status: 'queued', reason: null, outboxId: email.id });
          else Object.assign(d, { status: 'skipped', reason: 'seen_in_time', outboxId: null });
          await tx.run('UPDATE notification_events SET deliveries = $1::jsonb WHERE id = $2', [JSON.stringify(ev.deliveries), t.event_id], 'pg_ntf_set_deliveries');
        }
        return outcome;
      },
      { savepoint: true },
    );
  }
}
