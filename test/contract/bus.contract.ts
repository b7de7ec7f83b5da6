import { describe, expect, it } from 'vitest';
import type { Bus } from '../../server/core/ports/index.js';
import { eventually } from './factory.js';

/** Two hubs' buses on one exchange, each with what its local delivery and inbound handler received. */
export interface OpenedBuses {
  hubs: Array<{ bus: Bus; local: Array<[string, string]>; inbound: Array<[string, string]> }>;
  /**
   * A bus across processes confirms subscription changes later than the call: resolves when every
   * subscribe and unsubscribe made so far is in effect (absent: they are at once).
   */
  settle?: () => Promise<void>;
  close(): Promise<void>;
}

/**
 * The Bus contract (server/core/ports/bus.ts), for two hubs on one exchange: a publish reaches the
 * publishing hub's local delivery once, and every other hub that subscribed to the topic once, through
 * its inbound handler, in publish order; a hub that did not subscribe, or unsubscribed, gets nothing.
 */
export function describeBus(name: string, open: () => Promise<OpenedBuses>): void {
  const got = (xs: Array<[string, string]>, topic: string) => xs.filter(([t]) => t === topic).map(([, f]) => f);

  describe(`Bus contract: ${name}`, () => {
    it('delivers a publish locally once, and to a subscribed other hub once, in order', async () => {
      const { hubs, settle, close } = await open();
      try {
        const [a, b] = hubs as [OpenedBuses['hubs'][0], OpenedBuses['hubs'][0]];
        b.bus.subscribe('c:1');
        await settle?.();
        a.bus.publish('c:1', 'one');
        a.bus.publish('c:1', 'two');
        expect(got(a.local, 'c:1')).toEqual(['one', 'two']);
        expect(got(a.inbound, 'c:1')).toEqual([]);
        const seen = await eventually(async () => got(b.inbound, 'c:1'), (xs) => xs.length >= 2);
        expect(seen).toEqual(['one', 'two']);
        expect(got(b.local, 'c:1')).toEqual([]);
      } finally {
        await close();
      }
    });

    it('keeps each topic in publish order both ways, each frame once, for many frames', async () => {
      const { hubs, settle, close } = await open();
      try {
        const [a, b] = hubs as [OpenedBuses['hubs'][0], OpenedBuses['hubs'][0]];
        for (const h of [a, b]) for (const t of ['c:o1', 'c:o2']) h.bus.subscribe(t);
        await settle?.();
        const sent = (from: string, t: string) => Array.from({ length: 200 }, (_, i) => `${from}${t}#${i}`);
        for (let i = 0; i < 200; i++) {
          for (const t of ['c:o1', 'c:o2']) {
            a.bus.publish(t, `a${t}#${i}`);
            b.bus.publish(t, `b${t}#${i}`);
          }
        }
        const done = (h: OpenedBuses['hubs'][0]) => got(h.inbound, 'c:o1').length + got(h.inbound, 'c:o2').length >= 400;
        await eventually(async () => [a, b], (xs) => xs.every(done));
        for (const t of ['c:o1', 'c:o2']) {
          expect(got(b.inbound, t)).toEqual(sent('a', t));
          expect(got(a.inbound, t)).toEqual(sent('b', t));
          expect(got(a.local, t)).toEqual(sent('a', t));
          expect(got(b.local, t)).toEqual(sent('b', t));
        }
      } finally {
        await close();
      }
    });

    it('carries nothing to a hub that did not subscribe or has unsubscribed', async () => {
      const { hubs, settle, close } = await open();
      try {
        const [a, b] = hubs as [OpenedBuses['hubs'][0], OpenedBuses['hubs'][0]];
        b.bus.subscribe('p:x');
        b.bus.subscribe('p:y');
        b.bus.unsubscribe('p:x');
        await settle?.();
        a.bus.publish('p:x', 'not for b');
        a.bus.publish('p:z', 'nobody');
        a.bus.publish('p:y', 'marker');
        await eventually(async () => got(b.inbound, 'p:y'), (xs) => xs.length >= 1);
        expect(b.inbound).toEqual([['p:y', 'marker']]);
      } finally {
        await close();
      }
    });

    it('treats subscribe and unsubscribe as idempotent', async () => {
      const { hubs, settle, close } = await open();
      try {
        const [a, b] = hubs as [OpenedBuses['hubs'][0], OpenedBuses['hubs'][0]];
        b.bus.subscribe('all:item');
        b.bus.subscribe('all:item');
        await settle?.();
        a.bus.publish('all:item', 'once');
        await eventually(async () => got(b.inbound, 'all:item'), (xs) => xs.length >= 1);
        b.bus.unsubscribe('all:item');
        b.bus.unsubscribe('all:item');
        b.bus.subscribe('p:m');
        await settle?.();
        a.bus.publish('all:item', 'after');
        a.bus.publish('p:m', 'marker');
        await eventually(async () => got(b.inbound, 'p:m'), (xs) => xs.length >= 1);
        expect(got(b.inbound, 'all:item')).toEqual(['once']);
      } finally {
        await close();
      }
    });
  });
}
