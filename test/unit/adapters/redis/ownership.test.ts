import { describe, expect, it } from 'vitest';
import { RedisOwnership, type LiveHubs } from '../../../../server/adapters/redis/ownership.js';

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
