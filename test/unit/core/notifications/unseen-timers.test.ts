import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../../server/adapters/sqlite/sqlite-store.js';
import { InProcessEvents } from '../../../../server/core/events.js';
import { UnseenTimers, unseenKey } from '../../../../server/core/notifications/unseen-timers.js';
import type { Logger, NotificationRow, UnseenEmailTimer } from '../../../../server/core/ports/index.js';
import { emailRow } from '../../../contract/watermark-store.contract.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { FakeOwnership } from '../../../support/fake-ownership.js';
import { until } from '../../../support/until.js';

/**
 * Only-if-unseen timers with one owner (DESIGN §8): "hubs" are UnseenTimers over one real SqliteStore
 * (what hubs share through PostgreSQL), each with ownership set by hand, on a fake clock.
 */
const T0 = 1_000_000;
const DUE = T0 + 60_000;
const RESCAN = 10_000;
const quiet: Logger = { info() {}, warn() {}, error: (m, f) => console.error(m, f) };

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-unseen-owner-'));
  const store = new SqliteStore({ file: join(dir, 'parley.db'), logger: quiet });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
  const clock = new FakeClock(T0);
  const hub = (ownership: FakeOwnership, rescanMs?: number) => {
    const t = new UnseenTimers({ store, clock, events: new InProcessEvents(quiet), logger: quiet, ownership, ...(rescanMs !== undefined ? { rescanMs } : {}) });
    cleanup.push(() => t.stop());
    return t;
  };
  /** One event with `n` web notifications for u, each with an only-if-unseen email due at `dueAt`. */
  const arm = async (ids: readonly string[], dueAt = DUE) => {
    const web = (id: string): NotificationRow => ({ id, participantId: 'u', definitionId: 'D', eventId: `ev-${ids[0]}`, broadcastId: null, subject: id, body: 'b', itemId: 'T1', appointmentId: null, createdAt: T0, seenAt: null });
    const timers: UnseenEmailTimer[] = ids.map((id, i) => ({ notificationId: id, eventId: `ev-${ids[0]}`, deliveryIndex: i, dueAt, email: emailRow({ id: `E-${id}`, kind: 'notification', conversationId: 'T1', createdAt: T0 }) }));
    const deliveries = ids.map((id) => ({ definitionId: 'D', participantId: 'u', address: null, transport: 'email' as const, status: 'queued' as const, reason: null, outboxId: null, notificationId: id }));
    await store.commitEvent({
      event: { id: `ev-${ids[0]}`, type: 'E', occurredAt: T0, receivedAt: T0, actorId: null, itemId: 'T1', deliveries, notFound: [] },
      outbox: [],
      notifications: ids.map(web),
      timers,
      marks: [],
      articleAddresses: null,
    });
  };
  const emailed = async () => (await store.listEmails(0, 10_000)).map((e) => e.id.slice(2)).sort();
  const left = async () => (await store.dueUnseenTimers(Number.MAX_SAFE_INTEGER, 10_000)).map((t) => t.notificationId).sort();
  return { store, clock, hub, arm, emailed, left };
}

const ids = (n: number, prefix = 'n') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

describe('only-if-unseen timers with one owner', () => {
  it('fires only the due timers this hub owns, reading past the others that come first', async () => {
    const w = await world();
    // 150 of another hub's timers fall due before 20 of ours: more than one read of the store.
    await w.arm(ids(150, 'theirs'), DUE - 1);
    await w.arm(ids(20, 'ours'));
    const t = w.hub(new FakeOwnership((k) => k.startsWith(unseenKey('ours'))), RESCAN);
    t.start();
    w.clock.advance(DUE - T0);
    await until(async () => (await w.emailed()).length === 20, 'our 20 emails');
    expect(await w.emailed()).toEqual(ids(20, 'ours'));
    expect(await w.left()).toEqual(ids(150, 'theirs'));
  });

  it('fires, after ownership moves to it, the timers a hub that died left in the store, once', async () => {
    const w = await world();
    await w.arm(ids(5));
    const ownership = new FakeOwnership(() => false);
    const t = w.hub(ownership, RESCAN);
    t.start();
    w.clock.advance(DUE - T0 + 5 * RESCAN);
    expect(await w.left()).toEqual(ids(5));
    ownership.change(() => true);
    await until(async () => (await w.left()).length === 0, 'the timers taken over');
    expect(await w.emailed()).toEqual(ids(5));
  });

  it('learns of a timer another hub armed for it at its next look in the store', async () => {
    const w = await world();
    const owner = w.hub(new FakeOwnership(() => true), RESCAN);
    owner.start();
    // Armed on another hub (which kicks only its own loop), due in 30 s.
    await w.arm(['n1'], T0 + 30_000);
    w.clock.advance(RESCAN);
    w.clock.advance(30_000 - RESCAN);
    await until(async () => (await w.emailed()).length === 1, 'the email of the timer armed elsewhere');
    expect(await w.left()).toEqual([]);
  });

  it('queues each email once when two hubs both own every timer for a while and both fire them', async () => {
    const w = await world();
    await w.arm(ids(40));
    const a = w.hub(new FakeOwnership(() => true), RESCAN);
    const b = w.hub(new FakeOwnership(() => true), RESCAN);
    a.start();
    b.start();
    w.clock.advance(DUE - T0);
    a.kick();
    b.kick();
    await until(async () => (await w.left()).length === 0, 'every timer fired');
    expect(await w.emailed()).toEqual(ids(40));
  });
});
