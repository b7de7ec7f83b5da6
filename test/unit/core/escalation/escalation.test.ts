import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../server/config.js';
import type { Logger } from '../../../../server/core/ports/index.js';
import { createParley, NULL_METRICS, type Parley, type ParleyMetrics } from '../../../../server/parley.js';
import { MemoryBus } from '../../../../server/adapters/memory/bus.js';
import { FakeClock } from '../../../support/fake-clock.js';

/**
 * The escalation scheduler and email builder on the fake clock, over the real assembly (createParley):
 * SqliteStore in a temp dir, the hub's use cases, LiquidComposer. Nothing sleeps: time moves only
 * when a test advances the clock, and `run` then waits for the evaluations it started to finish.
 */
const DELAY = 60_000;
/**
 * One ms before a 100 ms tick boundary: `pair()` advances 1 ms, so messages land on boundaries and,
 * with delays and steps in whole ticks, due times fall exactly where the wheel wakes (it fires at the
 * end of a due time's tick, at most one tick late).
 */
const T0 = Date.UTC(2026, 0, 15, 9, 0, 0) - 1;
const quiet: Logger = { info() {}, warn() {}, error: (m, f) => console.error(m, f) };

interface Counts {
  armed: number;
  fired: number;
  queued: number;
}

function metrics(counts: Counts): ParleyMetrics {
  return {
    ...NULL_METRICS,
    timerArmed: () => counts.armed++,
    timerFired: () => counts.fired++,
    emailQueued: () => counts.queued++,
  };
}

const dirs: string[] = [];
const open: Parley[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A hub on the fake clock; `restart()` stops it and assembles a new one on the same data dir. */
async function world(env: Record<string, string> = {}) {
  const clock = new FakeClock(T0);
  const counts: Counts = { armed: 0, fired: 0, queued: 0 };
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-escalation-unit-'));
  dirs.push(dataDir);
  const config = loadConfig({
    PARLEY_DATA_DIR: dataDir,
    PARLEY_API_KEY: 'unit-api-key-0123456789',
    PARLEY_JWT_SECRET: 'unit-secret-unit-secret-unit-secret!',
    PARLEY_ESCALATION_DELAY_MS: String(DELAY),
    PARLEY_APP_URL: 'http://localhost:8080',
    ...env,
  });
  const assemble = async () => {
    const p = await createParley(config, { logger: quiet, clock, metrics: metrics(counts), bus: new MemoryBus(() => {}) });
    open.push(p);
    return p;
  };
  const w = {
    clock,
    counts,
    parley: await assemble(),
    get scheduler() {
      return w.parley.escalation.scheduler;
    },
    get builder() {
      return w.parley.escalation.emails;
    },
    /** Moves the clock by `ms`, then lets every evaluation it started (and re-arms due at once) finish. */
    async run(ms: number) {
      clock.advance(ms);
      for (let i = 0; i < 50; i++) {
        await w.scheduler.idle();
        await new Promise((r) => setImmediate(r));
        if (!clock.pendingAt().some((at) => at <= clock.now())) return;
        clock.advance(0);
      }
      throw new Error('escalation did not settle');
    },
    /** Stops the hub, lets `downMs` pass, and assembles a new one on the same data dir. */
    async restart(downMs = 0) {
      const old = w.parley;
      open.splice(open.indexOf(old), 1);
      await old.stop();
      clock.advance(downMs);
      w.parley = await assemble();
    },
    participant: (id: string) => w.parley.hub.directory.participants.get(id)!,
    conversation: (id: string) => w.parley.hub.directory.conversations.get(id)!,
    /** An agent and a customer in a direct conversation, created 1 ms before now so relations count. */
    async pair(agent = 'alice', customer = 'carol', extra: Record<string, unknown> = {}) {
      const { api, directoryApi } = w.parley;
      await directoryApi.putParticipant(agent, { kind: 'user', name: agent, email: `${agent}@example.com` });
      await directoryApi.putParticipant(customer, { kind: 'customer', name: customer, email: `${customer}@example.org`, ...extra });
      const c = await api.createConversation({ kind: 'direct', createdBy: agent, members: [customer], subject: `Printer ${agent}` });
      clock.advance(1);
      return c.id as string;
    },
    async post(conversationId: string, senderId: string, body: string) {
      const c = w.conversation(conversationId);
      return (await w.parley.hub.post(w.participant(senderId), c, { body, format: 'text', clientMsgId: `${senderId}-${clock.now()}-${body.length}-${Math.random()}`, source: 'api' })).message;
    },
    seen: (conversationId: string, participantId: string, upTo: number) => w.parley.hub.markSeen(w.participant(participantId), w.conversation(conversationId), upTo),
    emails: async () => (await w.parley.store.listEmails(0, 10_000)).sort((a, b) => a.createdAt - b.createdAt),
  };
  return w;
}

describe('EscalationScheduler', () => {
  it('arms one timer per (participant, conversation) on a message, due at its time + delay, and fires it then', async () => {
    const w = await world();
    const conv = await w.pair();
    const m = await w.post(conv, 'alice', 'We fixed your printer.');
    expect(w.scheduler.dueAt('carol', conv)).toBe(m.createdAt + DELAY);
    // The sender is never armed.
    expect(w.scheduler.dueAt('alice', conv)).toBeUndefined();
    await w.post(conv, 'alice', 'A second one keeps the earlier due time.');
    expect(w.scheduler.dueAt('carol', conv)).toBe(m.createdAt + DELAY);
    expect(w.scheduler.pending).toBe(1);

    await w.run(DELAY - 1);
    expect(await w.emails()).toEqual([]);
    expect(w.scheduler.dueAt('carol', conv)).toBe(m.createdAt + DELAY);
    await w.run(1);
    const emails = await w.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to: 'carol@example.org', participantId: 'carol', conversationId: conv });
    expect(emails[0]!.messageIds).toHaveLength(2);
    expect(w.scheduler.pending).toBe(0);
  });

  it('cancels the timer when the last message is seen, and emails nothing', async () => {
    const w = await world();
    const conv = await w.pair();
    const m = await w.post(conv, 'alice', 'seen in time');
    await w.seen(conv, 'carol', m.seq);
    expect(w.scheduler.dueAt('carol', conv)).toBeUndefined();
    expect(w.scheduler.pending).toBe(0);
    await w.run(3 * DELAY);
    expect(w.counts.fired).toBe(0);
    expect(await w.emails()).toEqual([]);
  });

  it('moves the timer to the next unseen message when one was seen part way', async () => {
    const w = await world();
    const conv = await w.pair();
    const first = await w.post(conv, 'alice', 'old news');
    w.clock.advance(10_000);
    const second = await w.post(conv, 'alice', 'fresh news');
    await w.seen(conv, 'carol', first.seq);
    expect(w.scheduler.dueAt('carol', conv)).toBe(first.createdAt + DELAY);
    await w.run(DELAY - 10_000);
    // It fired, found the oldest eligible message not yet due, and moved to it.
    expect(w.counts.fired).toBe(1);
    expect(await w.emails()).toEqual([]);
    expect(w.scheduler.dueAt('carol', conv)).toBe(second.createdAt + DELAY);
    await w.run(10_000);
    const emails = await w.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.messageIds).toEqual([second.id]);
  });

  it('re-arms at once when the watermarks moved under the commit (compare-and-set failure)', async () => {
    const w = await world();
    const conv = await w.pair();
    const first = await w.post(conv, 'alice', 'read while the email was composed');
    const second = await w.post(conv, 'alice', 'still unread');
    w.clock.advance(DELAY - 1);
    expect(w.counts.fired).toBe(0);
    // The timer fires and the builder reads the watermarks; the seen lands before its commit.
    w.clock.advance(1);
    expect(w.counts.fired).toBe(1);
    const seen = w.seen(conv, 'carol', first.seq);
    await w.run(0);
    await seen;
    // Fired twice: once for the commit that failed, once more at once (the re-arm), which sent.
    expect(w.counts.fired).toBe(2);
    const emails = await w.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.messageIds).toEqual([second.id]);
    expect(w.counts.queued).toBe(1);
  });

  it('sends a busy conversation at most one email per person per delay, each message once', async () => {
    const w = await world();
    const conv = await w.pair();
    const posted: string[] = [];
    for (let i = 0; i < 12; i++) {
      posted.push((await w.post(conv, 'alice', `update ${i}`)).id);
      await w.run(DELAY / 4);
    }
    await w.run(2 * DELAY);
    const emails = await w.emails();
    expect(emails.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < emails.length; i++) expect(emails[i]!.createdAt - emails[i - 1]!.createdAt).toBeGreaterThanOrEqual(DELAY);
    expect(emails.flatMap((e) => e.messageIds)).toEqual(posted);
  });

  it('rebuilds timers on start: a restart before the due time sends exactly one email, later restarts none', async () => {
    const w = await world();
    const conv = await w.pair();
    await w.post(conv, 'alice', 'survives a restart');
    await w.run(DELAY / 2);
    await w.restart();
    expect(w.scheduler.dueAt('carol', conv)).toBe(T0 + 1 + DELAY);
    await w.run(DELAY / 2);
    expect(await w.emails()).toHaveLength(1);
    await w.restart();
    expect(w.scheduler.dueAt('carol', conv)).toBeUndefined();
    await w.run(3 * DELAY);
    await w.restart();
    await w.run(3 * DELAY);
    expect(await w.emails()).toHaveLength(1);
  });

  it('sends an email that fell due while the hub was down promptly after start, once', async () => {
    const w = await world();
    const conv = await w.pair();
    await w.post(conv, 'alice', 'due during the outage');
    await w.restart(5 * DELAY);
    // Overdue: armed for its past due time, so it fires on the first tick.
    expect(w.scheduler.dueAt('carol', conv)).toBeLessThan(w.clock.now());
    await w.run(0);
    await w.run(100);
    expect(await w.emails()).toHaveLength(1);
    await w.restart();
    await w.run(2 * DELAY);
    expect(await w.emails()).toHaveLength(1);
  });
});

describe('EscalationEmailBuilder', () => {
  it('says not yet due, commits once when due, and then has nothing more', async () => {
    const w = await world();
    const conv = await w.pair();
    const m = await w.post(conv, 'alice', 'hello');
    w.parley.escalation.stop();
    expect(await w.builder.emailFor('carol', conv)).toEqual({ kind: 'not_due', dueAt: m.createdAt + DELAY });
    w.clock.advance(DELAY);
    const sent = await w.builder.emailFor('carol', conv);
    expect(sent).toMatchObject({ kind: 'committed', upTo: m.seq });
    expect(await w.builder.emailFor('carol', conv)).toEqual({ kind: 'nothing' });
    expect(await w.builder.emailFor('alice', conv)).toEqual({ kind: 'nothing' });
    const emails = await w.emails();
    expect(emails.map((e) => e.id)).toEqual([(sent as { emailId: string }).emailId]);
  });

  it('sends nothing to a participant without an address or who opted out, and says why in emailStatus', async () => {
    const w = await world();
    const conv = await w.pair('alice', 'nomail', { email: undefined });
    const m = await w.post(conv, 'alice', 'anyone there?');
    await w.parley.directoryApi.putParticipant('optout', { kind: 'customer', name: 'optout', email: 'optout@example.org' });
    await w.parley.directoryApi.patchPreferences('optout', { email: { optOut: true } });
    const conv2 = (await w.parley.api.createConversation({ kind: 'direct', createdBy: 'alice', members: ['optout'] })).id as string;
    w.clock.advance(1);
    const m2 = await w.post(conv2, 'alice', 'no emails please');
    w.parley.escalation.stop();
    w.clock.advance(DELAY);
    expect(await w.builder.emailFor('nomail', conv)).toEqual({ kind: 'nothing' });
    expect(await w.builder.emailFor('optout', conv2)).toEqual({ kind: 'nothing' });
    expect(await w.emails()).toEqual([]);
    const none = { seenAt: null, emailedAt: null };
    expect(w.parley.escalation.emailStatus(w.participant('nomail'), w.conversation(conv), m, none)).toBe('no_address');
    expect(w.parley.escalation.emailStatus(w.participant('optout'), w.conversation(conv2), m2, none)).toBe('opted_out');
  });

  it('holds the latest 50 of 60 due messages and summarizes the rest; the watermark passes all', async () => {
    const w = await world();
    const conv = await w.pair();
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await w.post(conv, 'alice', `numbered ${i}`)).id);
    await w.run(DELAY);
    const emails = await w.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.messageIds).toEqual(ids.slice(10));
    await w.run(3 * DELAY);
    expect(await w.emails()).toHaveLength(1);
  });

  it('holds only what fits 200 KB of text, and always the newest message', async () => {
    const w = await world();
    const conv = await w.pair();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await w.post(conv, 'alice', `${i} `.padEnd(15_000, 'x'))).id);
    const huge = await w.post(conv, 'alice', 'y'.repeat(15_900));
    await w.run(DELAY);
    const emails = await w.emails();
    expect(emails).toHaveLength(1);
    // 13 × 15,000-ish bytes fit under 200 KiB with the newest one.
    expect(emails[0]!.messageIds).toEqual([...ids.slice(-12), huge.id]);
  });
});
