import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../server/config.js';
import { EscalationScheduler, escalationKey } from '../../../../server/core/escalation/escalation.js';
import { InProcessEvents } from '../../../../server/core/events.js';
import type { Logger } from '../../../../server/core/ports/index.js';
import { createParley, NULL_METRICS, type Parley } from '../../../../server/parley.js';
import { MemoryBus } from '../../../../server/adapters/memory/bus.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { FakeOwnership } from '../../../support/fake-ownership.js';

/**
 * Escalation timers with one owner (DESIGN §8) on the fake clock: the real assembly over SqliteStore,
 * its ownership set by hand as a membership change would, and "another hub" as a second scheduler
 * over the same store, directory and email builder (what two hubs share through PostgreSQL).
 */
const DELAY = 60_000;
const RESCAN = 10_000;
const T0 = Date.UTC(2026, 0, 15, 9, 0, 0) - 1;
const quiet: Logger = { info() {}, warn() {}, error: (m, f) => console.error(m, f) };

const dirs: string[] = [];
const open: Parley[] = [];
const others: EscalationScheduler[] = [];
afterEach(async () => {
  for (const s of others.splice(0)) s.stop();
  for (const p of open.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function world(ownership: FakeOwnership) {
  const clock = new FakeClock(T0);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-escalation-owner-'));
  dirs.push(dataDir);
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_API_KEY: 'unit-api-key-0123456789',
    PARLEY_JWT_SECRET: 'unit-secret-unit-secret-unit-secret!',
    PARLEY_ESCALATION_DELAY_MS: String(DELAY),
    PARLEY_NODE_TTL_MS: String(RESCAN),
    PARLEY_APP_URL: 'http://localhost:8080',
  });
  const parley = await createParley(config, { logger: quiet, clock, metrics: NULL_METRICS, bus: new MemoryBus(() => {}), ownership });
  open.push(parley);
  const schedulers: EscalationScheduler[] = [parley.escalation.scheduler];
  const w = {
    clock,
    parley,
    /**
     * A second hub's scheduler over the same store and directory. `hearsMessages`: it handles the
     * hub's messages too (both arm from them); else it learns of them only from the store.
     */
    async otherHub(o: { ownership: FakeOwnership; hearsMessages: boolean; fired?: () => void }) {
      const s = new EscalationScheduler({
        events: o.hearsMessages ? parley.events : new InProcessEvents(quiet),
        store: parley.store,
        clock,
        directory: parley.hub.directory,
        logger: quiet,
        metrics: { ...NULL_METRICS, timerFired: o.fired ?? (() => {}) },
        delayMs: DELAY,
        recoveryMs: 86_400_000,
        evaluate: (p, c) => parley.escalation.emails.emailFor(p, c),
        ownership: o.ownership,
        rescanMs: RESCAN,
      });
      others.push(s);
      schedulers.push(s);
      await s.start();
      return s;
    },
    /** Moves the clock by `ms`, then lets every evaluation (and scan) it started finish. */
    async run(ms: number) {
      clock.advance(ms);
      for (let i = 0; i < 50; i++) {
        for (const s of schedulers) await s.idle();
        await new Promise((r) => setImmediate(r));
        if (!clock.pendingAt().some((at) => at <= clock.now())) return;
        clock.advance(0);
      }
      throw new Error('escalation did not settle');
    },
    async pair(agent: string, customer: string) {
      await parley.directoryApi.putParticipant(agent, { kind: 'user', name: agent, email: `${agent}@example.com` });
      await parley.directoryApi.putParticipant(customer, { kind: 'customer', name: customer, email: `${customer}@example.org` });
      const c = await parley.api.createConversation({ kind: 'direct', createdBy: agent, members: [customer], subject: `Printer ${customer}` });
      clock.advance(1);
      return c.id as string;
    },
    async post(conversationId: string, senderId: string, body: string) {
      const c = parley.hub.directory.conversations.get(conversationId)!;
      const p = parley.hub.directory.participants.get(senderId)!;
      return (await parley.hub.post(p, c, { body, format: 'text', clientMsgId: `${senderId}-${clock.now()}-${Math.random()}`, source: 'api' })).message;
    },
    emails: async () => (await parley.store.listEmails(0, 10_000)).sort((a, b) => a.createdAt - b.createdAt),
  };
  return w;
}

describe('escalation timers with one owner', () => {
  it('arms a timer only for the pairs this hub owns', async () => {
    const ownership = new FakeOwnership((k) => k.endsWith(':dave'));
    const w = await world(ownership);
    const carols = await w.pair('alice', 'carol');
    const daves = await w.pair('alice', 'dave');
    await w.post(carols, 'alice', 'for carol');
    const m = await w.post(daves, 'alice', 'for dave');
    const scheduler = w.parley.escalation.scheduler;
    expect(scheduler.dueAt('carol', carols)).toBeUndefined();
    expect(scheduler.dueAt('dave', daves)).toBe(m.createdAt + DELAY);
    await w.run(2 * DELAY);
    expect((await w.emails()).map((e) => e.participantId)).toEqual(['dave']);
  });

  it('takes over a pair it comes to own: rebuilt from the store, emailed once, at its due time', async () => {
    const ownership = new FakeOwnership(() => false);
    const w = await world(ownership);
    const conv = await w.pair('alice', 'carol');
    const m = await w.post(conv, 'alice', 'the owner of this pair died');
    await w.run(DELAY / 2);
    expect(w.parley.escalation.scheduler.pending).toBe(0);
    ownership.change(() => true);
    await w.parley.escalation.scheduler.rescan('full');
    expect(w.parley.escalation.scheduler.dueAt('carol', conv)).toBe(m.createdAt + DELAY);
    await w.run(DELAY / 2 - 1);
    expect(await w.emails()).toEqual([]);
    await w.run(1);
    expect(await w.emails()).toHaveLength(1);
    // A second change rebuilds again and finds nothing left to send.
    ownership.change(() => true);
    await w.parley.escalation.scheduler.rescan('full');
    await w.run(3 * DELAY);
    expect(await w.emails()).toHaveLength(1);
  });

  it('drops the timers of pairs it no longer owns, and sends nothing for them', async () => {
    const ownership = new FakeOwnership(() => true);
    const w = await world(ownership);
    const conv = await w.pair('alice', 'carol');
    await w.post(conv, 'alice', 'this pair moves to another hub');
    expect(w.parley.escalation.scheduler.dueAt('carol', conv)).toBeDefined();
    ownership.change((k) => k !== escalationKey('carol', conv));
    await w.parley.escalation.scheduler.rescan('full');
    expect(w.parley.escalation.scheduler.dueAt('carol', conv)).toBeUndefined();
    await w.run(3 * DELAY);
    expect(await w.emails()).toEqual([]);
  });

  it('hears of a message another hub committed for a pair it owns at its next look in the store, and emails it once', async () => {
    // The hub that handles the message owns nothing; the owner does not see MessageCommitted.
    const w = await world(new FakeOwnership(() => false));
    const owner = await w.otherHub({ ownership: new FakeOwnership(() => true), hearsMessages: false });
    const conv = await w.pair('alice', 'carol');
    const m = await w.post(conv, 'alice', 'committed on the other hub');
    expect(owner.dueAt('carol', conv)).toBeUndefined();
    expect(w.parley.escalation.scheduler.pending).toBe(0);
    await w.run(RESCAN);
    expect(owner.dueAt('carol', conv)).toBe(m.createdAt + DELAY);
    await w.run(DELAY - RESCAN - 1);
    expect(await w.emails()).toEqual([]);
    await w.run(1);
    const emails = await w.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.messageIds).toEqual([m.id]);
    await w.run(3 * DELAY);
    expect(await w.emails()).toHaveLength(1);
  });

  it('sends once when two hubs both own a pair for a while and both fire it (the compare-and-set)', async () => {
    const w = await world(new FakeOwnership(() => true));
    let otherFired = 0;
    const other = await w.otherHub({ ownership: new FakeOwnership(() => true), hearsMessages: true, fired: () => otherFired++ });
    const conv = await w.pair('alice', 'carol');
    const m = await w.post(conv, 'alice', 'two owners');
    expect(w.parley.escalation.scheduler.dueAt('carol', conv)).toBe(m.createdAt + DELAY);
    expect(other.dueAt('carol', conv)).toBe(m.createdAt + DELAY);
    await w.run(DELAY);
    await w.run(3 * DELAY);
    expect(otherFired).toBeGreaterThanOrEqual(1);
    const emails = await w.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.messageIds).toEqual([m.id]);
  });

  it('commits one email when two evaluations of one pair race, the other finding the watermark moved', async () => {
    const w = await world(new FakeOwnership(() => true));
    const conv = await w.pair('alice', 'carol');
    await w.post(conv, 'alice', 'raced');
    w.parley.escalation.stop();
    w.clock.advance(DELAY);
    const builder = w.parley.escalation.emails;
    const outcomes = await Promise.all([builder.emailFor('carol', conv), builder.emailFor('carol', conv)]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['committed', 'moved']);
    expect(await w.emails()).toHaveLength(1);
  });
});
