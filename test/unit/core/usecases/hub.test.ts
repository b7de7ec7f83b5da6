import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeClientFrame, type ClientFrame } from '../../../../protocol/index.js';
import { JoseTokens } from '../../../../server/adapters/jwt/jose-tokens.js';
import { loadConfig } from '../../../../server/config.js';
import type { Session } from '../../../../server/core/session.js';
import { createParley, type Parley } from '../../../../server/parley.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { MemoryTopics, type MemoryConnection } from '../../../support/memory-transport.js';

const SECRET = 'unit-jwt-secret-0123456789abcdef0123456789';
const quiet = { info() {}, warn() {}, error() {} };

/**
 * The hub's use cases in process, on a fake clock: the real assembly (createParley) with a real
 * SqliteStore in a temp dir, an in-memory transport, and time that moves only when a test says so.
 * Nothing here sleeps: a test waits for the frame it expects, or advances the clock.
 */
describe('the hub on a fake clock', () => {
  let dir: string;
  let clock: FakeClock;
  let topics: MemoryTopics;
  let parley: Parley;
  const tokens = new JoseTokens({ secret: SECRET });

  async function start(env: Record<string, string> = {}): Promise<void> {
    const config = loadConfig({ PARLEY_DATA_DIR: dir, PARLEY_API_KEY: 'unit-api-key-0123456789', PARLEY_JWT_SECRET: SECRET, ...env });
    parley = await createParley(config, { logger: quiet, clock, bus: topics, mailer: { send: async () => {}, close: async () => {} } });
  }

  /**
   * Turns of the event loop until `done()` holds: a positive signal, never a timed wait. The store
   * commits on real timers, so on a loaded machine this may take many turns; it gives up after 10 s.
   */
  async function until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  async function connect(sub: string, ttlSeconds = 3600): Promise<{ s: Session; conn: MemoryConnection }> {
    const conn = topics.connection();
    const s = parley.hub.accept(conn);
    conn.onClose = () => parley.hub.closed(s);
    send(s, { t: 'hello', v: 1, token: (await tokens.sign(sub, ttlSeconds)).token });
    await until(() => conn.of('welcome').length > 0 || conn.closed !== null, `${sub}'s welcome`);
    return { s, conn };
  }

  function send(s: Session, frame: ClientFrame): void {
    parley.hub.receive(s, decodeClientFrame(JSON.stringify(frame)));
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-unit-hub-'));
    clock = new FakeClock(Date.now());
    topics = new MemoryTopics();
  });

  afterEach(async () => {
    await parley.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends a session at its token’s expiry, and not one that sent refresh with a newer token', async () => {
    await start();
    await parley.directoryApi.putParticipant('ann', { kind: 'user', name: 'Ann' });
    const short = await connect('ann', 2);
    const refreshed = await connect('ann', 2);
    send(refreshed.s, { t: 'refresh', id: 'r1', token: (await tokens.sign('ann', 3600)).token });
    await until(() => refreshed.conn.of('refreshed').length === 1, 'refreshed');

    clock.advance(1_000);
    expect(short.conn.closed).toBeNull();
    clock.advance(2_500);
    expect(short.conn.of('error').map((e) => e.code)).toEqual(['token_expired']);
    expect(short.conn.closed?.code).toBe(4001);
    expect(refreshed.conn.closed).toBeNull();
  });

  it('ends every expired session of a participant in the same sweep, each closing as it is ended', async () => {
    await start();
    await parley.directoryApi.putParticipant('al', { kind: 'user', name: 'Al' });
    const three = [await connect('al', 2), await connect('al', 2), await connect('al', 2)];
    expect(parley.hub.sessionCount).toBe(3);
    // Sweep by sweep (once a second) until one ends any: that sweep ends all three.
    for (let i = 0; i < 5 && three.every((x) => x.conn.closed === null); i++) clock.advance(1_000);
    expect(three.map((x) => x.conn.closed?.code)).toEqual([4001, 4001, 4001]);
    expect(parley.hub.sessionCount).toBe(0);
  });

  it('delivers the messages of inbox and item conversations to a user who may see every one', async () => {
    await start();
    await parley.directoryApi.putParticipant('ur', { kind: 'user', name: 'Ur' });
    await parley.directoryApi.patchPreferences('ur', { access: { viewConversations: 'all' } });
    await parley.directoryApi.putParticipant('cu', { kind: 'customer', name: 'Cu' });
    await parley.directoryApi.putItem('jam', { kind: 'ticket', title: 'Jam' });
    const item = await parley.api.createConversation({ kind: 'item', itemId: 'jam', visibility: 'internal' });
    const ur = await connect('ur');
    const cu = await connect('cu');
    send(cu.s, { t: 'open', id: 'o1', members: [] });
    await until(() => cu.conn.of('conversation').length > 0, 'the inbox');
    const inbox = cu.conn.of('conversation')[0]!.conversation.id;
    send(cu.s, { t: 'send', id: 's1', conversationId: inbox, clientMsgId: 'm1', body: 'help' });
    await parley.api.postMessage(item.id, { senderId: 'ur', clientMsgId: 'm2', body: 'noted' });
    await until(() => ur.conn.of('message').length === 2, 'both messages');
    expect(ur.conn.of('message').map((f) => [f.message.conversationId, f.message.body])).toEqual([
      [inbox, 'help'],
      [item.id, 'noted'],
    ]);
  });

  it('counts a limit per participant across its sessions, and refills it with time', async () => {
    await start({ PARLEY_RATE_PING_PER_S: '1', PARLEY_RATE_PING_BURST: '2' });
    await parley.directoryApi.putParticipant('bo', { kind: 'user', name: 'Bo' });
    await parley.directoryApi.putParticipant('cy', { kind: 'user', name: 'Cy' });
    const [one, two, other] = [await connect('bo'), await connect('bo'), await connect('cy')];
    send(one.s, { t: 'ping', id: 'a' });
    send(two.s, { t: 'ping', id: 'b' });
    send(two.s, { t: 'ping', id: 'c' });
    send(other.s, { t: 'ping', id: 'd' });
    expect(one.conn.of('pong').map((f) => f.re)).toEqual(['a']);
    expect(two.conn.of('pong').map((f) => f.re)).toEqual(['b']);
    expect(two.conn.of('error').map((e) => [e.re, e.code])).toEqual([['c', 'rate_limited']]);
    expect(other.conn.of('pong').map((f) => f.re)).toEqual(['d']);
    clock.advance(1_000);
    send(two.s, { t: 'ping', id: 'e' });
    expect(two.conn.of('pong').map((f) => f.re)).toEqual(['b', 'e']);
  });

  it('turns a participant offline for the other members a grace period after its last session', async () => {
    await start({ PARLEY_PRESENCE_GRACE_MS: '5000' });
    await parley.directoryApi.putParticipant('di', { kind: 'user', name: 'Di' });
    await parley.directoryApi.putParticipant('ed', { kind: 'user', name: 'Ed' });
    await parley.api.createConversation({ kind: 'direct', createdBy: 'di', members: ['ed'] });
    const ed = await connect('ed');
    const di = await connect('di');
    await until(() => ed.conn.of('presence').some((p) => p.participantId === 'di' && p.state === 'active'), 'di active');
    di.conn.close(1000, 'bye');
    clock.advance(4_999);
    expect(ed.conn.of('presence').filter((p) => p.participantId === 'di' && p.state === 'offline')).toEqual([]);
    clock.advance(1);
    expect(ed.conn.of('presence').filter((p) => p.participantId === 'di').map((p) => p.state)).toEqual(['active', 'offline']);
  });

  it('tells what changed in the directory as events, so a copy elsewhere can reload it', async () => {
    await start();
    const changed: string[] = [];
    parley.events.subscribe('DirectoryChanged', (e) => changed.push(`${e.entity}:${e.id}`));
    await parley.directoryApi.putParticipant('gu', { kind: 'user', name: 'Gu' });
    await parley.directoryApi.putProject('pr', { name: 'Printers', followers: ['gu'] });
    await parley.directoryApi.putItem('it', { kind: 'ticket', title: 'Jam', projectId: 'pr' });
    await parley.directoryApi.patchPreferences('gu', { access: { viewConversations: 'mine' } });
    expect(changed).toEqual(['participant:gu', 'project:pr', 'item:it', 'participant:gu']);
  });

  it('refuses an eleventh session of one participant and keeps the ten', async () => {
    await start();
    await parley.directoryApi.putParticipant('fa', { kind: 'user', name: 'Fa' });
    const open: MemoryConnection[] = [];
    for (let i = 0; i < 10; i++) open.push((await connect('fa')).conn);
    const extra = await connect('fa');
    expect(extra.conn.of('error').map((e) => e.code)).toEqual(['rate_limited']);
    expect(extra.conn.closed?.code).toBe(4008);
    expect(open.every((c) => c.closed === null && c.of('welcome').length === 1)).toBe(true);
  });
});
