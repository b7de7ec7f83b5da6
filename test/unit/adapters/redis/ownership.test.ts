import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HubMembership } from '../../../../server/adapters/redis/membership.js';
import { RedisOwnership, type LiveHubs } from '../../../../server/adapters/redis/ownership.js';
import type { Logger } from '../../../../server/core/ports/index.js';
import { redisUrl } from '../../../support/services.js';
import { until } from '../../../support/until.js';

/** A live set changed by hand, as HubMembership would after a refresh. */
class FakeLiveHubs implements LiveHubs {
  private handler: ((live: readonly string[]) => void) | null = null;
  constructor(private current: readonly string[]) {}
  live(): readonly string[] {
    return this.current;
  }
  onChange(handler: (live: readonly string[]) => void): void {
    this.handler = handler;
  }
  set(live: readonly string[]): void {
    this.current = live;
    this.handler?.(live);
  }
}

const keys = Array.from({ length: 300 }, (_, i) => `esc:c${i % 17}:p${i}`);

describe('RedisOwnership', () => {
  it('gives every key to exactly one of the hubs that share a live set', () => {
    const hubs = ['hub-a', 'hub-b', 'hub-c'];
    const owners = hubs.map((hubId) => new RedisOwnership({ hubId, membership: new FakeLiveHubs(hubs) }));
    for (const key of keys) expect(owners.filter((o) => o.owns(key))).toHaveLength(1);
    for (const o of owners) expect(keys.some((k) => o.owns(k))).toBe(true);
  });

  it('moves only the keys of a hub that left, and tells its listeners', () => {
    const live = new FakeLiveHubs(['hub-a', 'hub-b']);
    const a = new RedisOwnership({ hubId: 'hub-a', membership: live });
    let changes = 0;
    a.onChange(() => changes++);
    const before = keys.filter((k) => a.owns(k));
    live.set(['hub-a']);
    expect(changes).toBe(1);
    expect(keys.every((k) => a.owns(k))).toBe(true);
    live.set(['hub-a', 'hub-b']);
    expect(keys.filter((k) => a.owns(k))).toEqual(before);
    expect(changes).toBe(2);
  });

  it('calls every listener, in the order they were added', () => {
    const live = new FakeLiveHubs(['hub-a']);
    const a = new RedisOwnership({ hubId: 'hub-a', membership: live });
    const calls: string[] = [];
    a.onChange(() => calls.push('escalation'));
    a.onChange(() => calls.push('reminders'));
    live.set(['hub-a', 'hub-b']);
    expect(calls).toEqual(['escalation', 'reminders']);
  });
});

const redisAt = await redisUrl();
const quiet: Logger = { info() {}, warn() {}, error() {} };

describe.skipIf(!redisAt)('RedisOwnership over HubMembership on a real Redis', () => {
  it('splits the keys between two live hubs, and gives them all to the one left when the other stops', async () => {
    const prefix = `parley-test-own-${randomUUID().slice(0, 8)}:`;
    const open = (hubId: string) => new HubMembership({ url: redisAt!, prefix, hubId, ttlMs: 600, refreshMs: 100, logger: quiet });
    const a = open('hub-a');
    const b = open('hub-b');
    const ownA = new RedisOwnership({ hubId: 'hub-a', membership: a });
    const ownB = new RedisOwnership({ hubId: 'hub-b', membership: b });
    let changedA = 0;
    ownA.onChange(() => changedA++);
    try {
      await Promise.all([a.ready(), b.ready()]);
      await until(() => a.live().length === 2 && b.live().length === 2, 'both hubs live on both');
      for (const key of keys) expect(ownA.owns(key)).toBe(!ownB.owns(key));
      expect(keys.filter((k) => ownA.owns(k)).length).toBeGreaterThan(0);
      expect(keys.filter((k) => ownB.owns(k)).length).toBeGreaterThan(0);
      const before = changedA;
      await b.close();
      await until(() => a.live().length === 1, 'hub-b gone');
      expect(changedA).toBeGreaterThan(before);
      expect(keys.every((k) => ownA.owns(k))).toBe(true);
    } finally {
      await a.close();
      if (b.isReady()) await b.close();
    }
  });
});
