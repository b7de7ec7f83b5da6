import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../protocol/index.js';
import { TestHub } from '../support/hub.js';
import { direct, expectNoViolations, expectType } from '../support/ws.js';

const GRACE_MS = 200;

const presenceOf = (id: string, state?: string) => (f: ServerFrame) => f.t === 'presence' && f.participantId === id && (state === undefined || f.state === state);

/** SPEC §3 `presence`, `who` with `watch`, and the offline grace. */
describe('presence', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_PRESENCE_GRACE_MS: String(GRACE_MS) } });
    for (const id of ['watcher', 'pam', 'otto', 'rita', 'mia', 'ned', 'olga', 'sam', 'bea', 'ivo', 'jon', 'zed', 'lou']) await hub.user(id);
    await hub.customer('cleo');
    await hub.customer('kim');
  });
  afterAll(() => hub.stop());

  it('a watching session sees active turn away when the only session says away, and active again', async () => {
    const pam = await hub.connect('pam');
    const watcher = await hub.connect('watcher');
    const who = expectType(await watcher.request({ t: 'who', participantIds: ['pam'], watch: true }, 'who'), 'who');
    expect(who.presence).toHaveLength(1);
    expect(who.presence[0]).toMatchObject({ participantId: 'pam', state: 'active' });
    const activeAt = who.presence[0]!.lastActiveAt;
    expect(typeof activeAt).toBe('number');
    pam.send({ t: 'presence', state: 'away' });
    const away = await watcher.next(presenceOf('pam'));
    expect(away).toEqual({ t: 'presence', participantId: 'pam', state: 'away', lastActiveAt: activeAt });
    pam.send({ t: 'presence', state: 'active' });
    const back = expectType(await watcher.next(presenceOf('pam')), 'presence');
    expect(back.state).toBe('active');
    expect(back.lastActiveAt).toBeGreaterThanOrEqual(activeAt!);
    // presence carries no id and gets no answer.
    await pam.sync();
    expect(pam.frames.filter((f) => f.t === 'error')).toEqual([]);
    pam.close();
    await watcher.next(presenceOf('pam', 'offline'), 3000);
    expectNoViolations(pam, watcher);
  });

  it('a participant stays active while any of its sessions is active', async () => {
    const r1 = await hub.connect('rita');
    const r2 = await hub.connect('rita');
    const watcher = await hub.connect('watcher');
    await watcher.request({ t: 'who', participantIds: ['rita'], watch: true }, 'who');
    r1.send({ t: 'presence', state: 'away' });
    await r1.sync();
    r2.send({ t: 'presence', state: 'away' });
    // Only the second away changes rita's presence.
    expect(await watcher.next(presenceOf('rita'))).toMatchObject({ state: 'away' });
    await watcher.sync();
    expect(watcher.queued('presence')).toEqual([]);
    const who = expectType(await watcher.request({ t: 'who', participantIds: ['rita'] }, 'who'), 'who');
    expect(who.presence[0]).toMatchObject({ participantId: 'rita', state: 'away' });
    r1.close();
    r2.close();
    await watcher.next(presenceOf('rita', 'offline'), 3000);
    expectNoViolations(r1, r2, watcher);
  });

  it('a participant whose last session closes is offline after the grace, not before', async () => {
    const otto = await hub.connect('otto');
    const watcher = await hub.connect('watcher');
    await watcher.request({ t: 'who', participantIds: ['otto'], watch: true }, 'who');
    const closedAt = Date.now();
    otto.close();
    const offline = expectType(await watcher.next(presenceOf('otto'), 3000), 'presence');
    expect(offline.state).toBe('offline');
    expect(typeof offline.lastActiveAt).toBe('number');
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS - 20);
    const who = expectType(await watcher.request({ t: 'who', participantIds: ['otto'] }, 'who'), 'who');
    expect(who.presence).toEqual([{ participantId: 'otto', state: 'offline', lastActiveAt: offline.lastActiveAt }]);
    expectNoViolations(watcher);
  });

  it('a reconnect within the grace produces no offline', async () => {
    const samToken = await hub.token('sam');
    const sam = await hub.connect('sam');
    const pam = await hub.connect('pam');
    const watcher = await hub.connect('watcher');
    await watcher.request({ t: 'who', participantIds: ['sam', 'pam'], watch: true }, 'who');
    sam.close();
    await sam.waitClose();
    const again = await hub.raw();
    again.send({ t: 'hello', v: 1, token: samToken });
    await again.next('welcome');
    // A marker: pam leaves after sam came back; pam's offline comes after the moment sam's would have.
    pam.close();
    await watcher.next(presenceOf('pam', 'offline'), 3000);
    await watcher.sync();
    expect(watcher.frames.filter(presenceOf('sam'))).toEqual([]);
    const who = expectType(await watcher.request({ t: 'who', participantIds: ['sam'] }, 'who'), 'who');
    expect(who.presence[0]).toMatchObject({ participantId: 'sam', state: 'active' });
    expectNoViolations(again, watcher);
  });

  it('the other members of a shared conversation get presence frames without watching; others do not', async () => {
    await direct(hub, 'ned', ['mia']);
    const ned = await hub.connect('ned');
    const olga = await hub.connect('olga');
    const mia = await hub.connect('mia');
    expect(await ned.next(presenceOf('mia'))).toMatchObject({ participantId: 'mia', state: 'active' });
    mia.send({ t: 'presence', state: 'away' });
    expect(await ned.next(presenceOf('mia'))).toMatchObject({ participantId: 'mia', state: 'away' });
    mia.close();
    expect(await ned.next(presenceOf('mia'), 3000)).toMatchObject({ participantId: 'mia', state: 'offline' });
    await olga.sync();
    expect(olga.frames.filter(presenceOf('mia'))).toEqual([]);
    expectNoViolations(ned, olga, mia);
  });

  it('who with watch false stops the presence frames of watched participants', async () => {
    const pam = await hub.connect('pam');
    const watcher = await hub.connect('watcher');
    await watcher.request({ t: 'who', participantIds: ['pam'], watch: true }, 'who');
    const reply = expectType(await watcher.request({ t: 'who', participantIds: ['pam'], watch: false }, 'who'), 'who');
    expect(reply.presence).toEqual([expect.objectContaining({ participantId: 'pam', state: 'active' })]);
    // Marker: a second watcher still watching sees pam go away.
    const other = await hub.connect('olga');
    await other.request({ t: 'who', participantIds: ['pam'], watch: true }, 'who');
    pam.send({ t: 'presence', state: 'away' });
    await other.next(presenceOf('pam', 'away'));
    await watcher.sync();
    expect(watcher.frames.filter(presenceOf('pam'))).toEqual([]);
    pam.close();
    await other.next(presenceOf('pam', 'offline'), 3000);
    expectNoViolations(pam, watcher, other);
  });

  it('a new session starts active', async () => {
    const watcher = await hub.connect('watcher');
    await watcher.request({ t: 'who', participantIds: ['otto'], watch: true }, 'who');
    const otto = await hub.connect('otto');
    expect(await watcher.next(presenceOf('otto'))).toMatchObject({ participantId: 'otto', state: 'active' });
    otto.close();
    await watcher.next(presenceOf('otto', 'offline'), 3000);
    expectNoViolations(watcher, otto);
  });

  it('a new session of a participant who is away makes it active again', async () => {
    const first = await hub.connect('rita');
    const watcher = await hub.connect('watcher');
    await watcher.request({ t: 'who', participantIds: ['rita'], watch: true }, 'who');
    first.send({ t: 'presence', state: 'away' });
    expect(await watcher.next(presenceOf('rita'))).toMatchObject({ state: 'away' });
    const second = await hub.connect('rita');
    expect(await watcher.next(presenceOf('rita'))).toMatchObject({ state: 'active' });
    first.close();
    second.close();
    await watcher.next(presenceOf('rita', 'offline'), 3000);
    expectNoViolations(watcher, first, second);
  });

  it('a new who with watch replaces the watch list', async () => {
    const pam = await hub.connect('pam');
    const otto = await hub.connect('otto');
    const watcher = await hub.connect('watcher');
    await watcher.request({ t: 'who', participantIds: ['pam'], watch: true }, 'who');
    await watcher.request({ t: 'who', participantIds: ['otto'], watch: true }, 'who');
    pam.send({ t: 'presence', state: 'away' });
    await pam.sync();
    otto.send({ t: 'presence', state: 'away' });
    expect(await watcher.next((f) => f.t === 'presence')).toMatchObject({ participantId: 'otto', state: 'away' });
    await watcher.sync();
    expect(watcher.frames.filter(presenceOf('pam'))).toEqual([]);
    pam.close();
    otto.close();
    await watcher.next(presenceOf('otto', 'offline'), 3000);
    expectNoViolations(watcher, pam, otto);
  });

  it('a member who also watches gets each presence change once', async () => {
    await direct(hub, 'ivo', ['jon']);
    const ivo = await hub.connect('ivo');
    await ivo.request({ t: 'who', participantIds: ['jon'], watch: true }, 'who');
    const jon = await hub.connect('jon');
    expect(await ivo.next(presenceOf('jon'))).toMatchObject({ state: 'active' });
    await ivo.sync();
    expect(ivo.frames.filter(presenceOf('jon'))).toEqual([]);
    jon.close();
    await ivo.next(presenceOf('jon', 'offline'), 3000);
    expectNoViolations(ivo, jon);
  });

  it("an item's customer and the agents in its external conversation see each other's presence as members", async () => {
    await hub.ok('PUT', '/v1/items/t-1', { kind: 'ticket', title: 'Presence', customerId: 'kim' });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 't-1', visibility: 'external' });
    await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'bea', body: 'Hi Kim', clientMsgId: 'p-1' });
    const bea = await hub.connect('bea');
    const kim = await hub.connect('kim');
    expect(await bea.next(presenceOf('kim'))).toMatchObject({ participantId: 'kim', state: 'active' });
    bea.send({ t: 'presence', state: 'away' });
    expect(await kim.next(presenceOf('bea'))).toMatchObject({ participantId: 'bea', state: 'away' });
    expectNoViolations(bea, kim);
  });

  it('a customer gets no presence of users who are not members of its conversations', async () => {
    await direct(hub, 'zed', ['cleo']);
    await direct(hub, 'zed', ['lou']);
    const cleo = await hub.connect('cleo');
    // lou shares a conversation with zed, not with cleo: its coming online and going away reach zed's conversations only.
    const lou = await hub.connect('lou');
    lou.send({ t: 'presence', state: 'away' });
    await lou.sync();
    // Marker: zed, a member of cleo's conversation, comes online after lou's changes.
    const zed = await hub.connect('zed');
    await cleo.next(presenceOf('zed', 'active'));
    await cleo.sync();
    expect(cleo.frames.filter(presenceOf('lou'))).toEqual([]);
    expectNoViolations(cleo, lou, zed);
  });
});
