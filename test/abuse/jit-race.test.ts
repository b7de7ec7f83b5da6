import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../protocol/index.js';
import type { TestClient } from '../support/client.js';
import { TestHub } from '../support/hub.js';
import { DEFAULT_ENV, hello, jitToken } from '../support/abuse.js';
import { expectError } from '../support/ws.js';

const SUBS = 20;

/**
 * Finding 4: two first hellos for one new id, one with `kind: customer` and one with `kind: user`.
 * Just-in-time creation is insert-if-absent: the first kind written wins, in memory and on disk, and
 * the other hello is refused (SPEC §3 Token).
 */
describe('finding 4: just-in-time creation race', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { ...DEFAULT_ENV } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('exactly one of two simultaneous first hellos is welcomed, and its kind survives kill -9', async () => {
    const subs = Array.from({ length: SUBS }, (_, i) => `race-${i}`);
    const tokens = await Promise.all(subs.map(async (sub) => ({ customer: await jitToken(sub, 'customer'), user: await jitToken(sub, 'user') })));
    // Every socket open first, then all hellos in one burst.
    const sockets = await Promise.all(subs.map(async () => ({ customer: await hub.raw(), user: await hub.raw() })));
    const firsts = sockets.map((s) => ({
      customer: s.customer.next(() => true, 10_000),
      user: s.user.next(() => true, 10_000),
    }));
    for (const [i, s] of sockets.entries()) {
      s.customer.send({ t: 'hello', v: 1, token: tokens[i]!.customer });
      s.user.send({ t: 'hello', v: 1, token: tokens[i]!.user });
    }

    const winners = new Map<string, 'customer' | 'user'>();
    for (const [i, sub] of subs.entries()) {
      const answers: Record<'customer' | 'user', ServerFrame> = { customer: await firsts[i]!.customer, user: await firsts[i]!.user };
      const welcomed = (['customer', 'user'] as const).filter((k) => answers[k].t === 'welcome');
      expect(welcomed, `${sub}: ${JSON.stringify(answers)}`).toHaveLength(1);
      const won = welcomed[0]!;
      const lost = won === 'customer' ? 'user' : 'customer';
      const w = answers[won];
      expect(w.t === 'welcome' && w.participant).toMatchObject({ id: sub, kind: won });
      expectError(answers[lost], 'unauthenticated');
      const loser: TestClient = sockets[i]![lost];
      expect((await loser.waitClose()).code).toBe(4001);
      winners.set(sub, won);
      // What the hub answers over HTTP right away agrees with the welcome.
      expect((await hub.ok('GET', `/v1/participants/${sub}`)).kind).toBe(won);
    }

    await hub.crash();
    await hub.launch();
    for (const [sub, kind] of winners) {
      expect((await hub.ok('GET', `/v1/participants/${sub}`)).kind, sub).toBe(kind);
    }
    // After the restart too, the winning kind's token is welcomed and the other refused.
    const [sub, kind] = [...winners][0]!;
    const again = await hello(hub, await jitToken(sub, kind));
    expect(again.first.t).toBe('welcome');
    const other = await hello(hub, await jitToken(sub, kind === 'user' ? 'customer' : 'user'));
    expectError(other.first, 'unauthenticated');
    expect((await other.client.waitClose()).code).toBe(4001);
  });
});
