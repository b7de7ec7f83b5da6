import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolError, type DefinitionInput } from '../../../../protocol/index.js';
import { loadConfig } from '../../../../server/config.js';
import { createParley, type Parley } from '../../../../server/parley.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { MemoryTopics } from '../../../support/memory-transport.js';

const quiet = { info() {}, warn() {}, error() {} };
const DAY = 24 * 3600 * 1000;

const def = (over: Partial<DefinitionInput> = {}): DefinitionInput => ({
  name: `D ${Math.random()}`,
  events: ['E'],
  recipients: { relations: [], agents: ['ada'], groups: [], roles: [] },
  transports: { email: { enabled: true, extraAddresses: [] } },
  messages: { en: { subject: 'S <OTOBO_TICKET_Title>', body: 'B', contentType: 'text/plain' } },
  ...over,
});

/**
 * The notification use cases in process on a fake clock: the real assembly with a real SQLite store,
 * time moving only when a test says so (once per day, only-if-unseen timers).
 */
describe('notifications on a fake clock', () => {
  let dir: string;
  let clock: FakeClock;
  let parley: Parley;
  const sent: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-unit-notify-'));
    clock = new FakeClock(Date.now());
    sent.length = 0;
    const config = loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_API_KEY: 'unit-api-key-0123456789', PARLEY_JWT_SECRET: 'unit-jwt-secret-0123456789abcdef0123456789' });
    parley = await createParley(config, { logger: quiet, clock, bus: new MemoryTopics(), mailer: { send: async (m) => void sent.push(m.to), close: async () => {} } });
    await parley.directoryApi.putParticipant('ada', { kind: 'user', name: 'Ada Lovelace', email: 'ada@example.com' });
    await parley.directoryApi.putItem('T1', { kind: 'ticket', title: 'Printer' });
  });
  afterEach(async () => {
    await parley.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const reason = async (eventId: string, transport = 'email') => (await parley.notifier.audit(eventId)).deliveries.find((d) => d.participantId === 'ada' && d.transport === transport);

  it('once per day lapses 24 hours after the last delivery', async () => {
    await parley.definitions.create(def({ oncePerDay: true }));
    await parley.notifier.post({ id: 'a', type: 'E', itemId: 'T1' });
    clock.advance(DAY - 1);
    await parley.notifier.post({ id: 'b', type: 'E', itemId: 'T1' });
    clock.advance(2);
    await parley.notifier.post({ id: 'c', type: 'E', itemId: 'T1' });
    expect((await reason('a'))?.reason).toBeNull();
    expect((await reason('b'))?.reason).toBe('once_per_day');
    expect((await reason('c'))?.reason).toBeNull();
  });

  it('queues the only-if-unseen email when the timer falls due unseen, and skips it when seen in time', async () => {
    await parley.definitions.create(def({ transports: { web: { enabled: true }, email: { enabled: true, extraAddresses: [], onlyIfUnseenMs: 60_000 } } }));
    await parley.notifier.post({ id: 'unseen', type: 'E', itemId: 'T1' });
    await parley.notifier.post({ id: 'seen', type: 'E', itemId: 'T1' });
    expect(await reason('unseen')).toMatchObject({ status: 'queued', reason: null });
    const page = await parley.store.listNotifications('ada', undefined, 10);
    const seenOne = page.notifications.find((n) => n.eventId === 'seen')!;
    clock.advance(30_000);
    await parley.store.markNotificationsSeen('ada', [seenOne.id], clock.now());
    expect((await parley.store.listEmails(0, 10)).filter((e) => e.kind === 'notification')).toHaveLength(0);
    clock.advance(30_001);
    const deadline = Date.now() + 10_000;
    while ((await reason('seen'))?.reason !== 'seen_in_time' || (await parley.store.listEmails(0, 10)).length === 0) {
      if (Date.now() > deadline) throw new Error('the timers never fired');
      await new Promise((r) => setImmediate(r));
    }
    const emails = (await parley.store.listEmails(0, 10)).filter((e) => e.kind === 'notification');
    expect(emails).toHaveLength(1);
    expect(await reason('unseen')).toMatchObject({ status: expect.stringMatching(/queued|sent/), reason: null });
  });

  it('keeps names unique, built-ins undeletable, and a mandatory definition on at least one transport', async () => {
    const a = await parley.definitions.create(def({ name: 'Same' }));
    await expect(parley.definitions.create(def({ name: 'Same' }))).rejects.toMatchObject({ code: 'conflict' });
    await expect(parley.definitions.put(a.id, def({ name: 'Same' }))).resolves.toMatchObject({ id: a.id });
    const builtIn = parley.definitions.all().find((d) => d.builtIn)!;
    await expect(parley.definitions.delete(builtIn.id)).rejects.toBeInstanceOf(ProtocolError);
    const m = await parley.definitions.create(def({ transports: { email: { enabled: true, extraAddresses: [] }, web: { enabled: true } }, agentPreferences: { visible: 'mandatory', enabledByDefault: ['email'] } }));
    await expect(parley.directoryApi.patchPreferences('ada', { notificationDefinitions: { [m.id]: { email: false } } })).rejects.toMatchObject({ code: 'invalid' });
    await expect(parley.directoryApi.patchPreferences('ada', { notificationDefinitions: { [m.id]: { email: false, web: true } } })).resolves.toBeTruthy();
    await expect(parley.directoryApi.patchPreferences('ada', { notificationDefinitions: { nope: { email: true } } })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('imports all or nothing per name: an existing name is an error without overwrite, updated in place (id kept) with it', async () => {
    const a = await parley.definitions.create(def({ name: 'Kept' }));
    const without = await parley.definitions.importMany([{ name: 'Kept', input: def({ name: 'Kept', comment: 'new' }) }, { name: 'Fresh', input: def({ name: 'Fresh' }) }], false);
    expect(without).toMatchObject({ added: ['Fresh'], updated: [], errors: [{ name: 'Kept' }] });
    const withIt = await parley.definitions.importMany([{ name: 'Kept', input: def({ name: 'Kept', comment: 'new' }) }], true);
    expect(withIt).toMatchObject({ added: [], updated: ['Kept'], errors: [] });
    expect(parley.definitions.get(a.id).comment).toBe('new');
  });
});
