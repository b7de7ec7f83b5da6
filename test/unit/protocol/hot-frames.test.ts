import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLIENT_FRAME_SCHEMAS } from '../../../protocol/frames.js';
import { decodeHotFrame } from '../../../protocol/hot-frames.js';

/**
 * The hand-written checks of send, seen and typing (protocol/hot-frames.ts) against their zod
 * schemas: over random frames, the fast path accepts a frame exactly when the schema does, with the
 * same value. (It never rejects on its own: a frame it does not take goes to the schema.)
 */
const lone = '\ud800';
const strings = fc.oneof(
  fc.constantFrom('', 'c1', 'm-1', 'r', ' ', '\u200b', '\u3164', `a${lone}`, '😀', 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129)),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  // Around the body's 16,000 code points: in UTF-16 units and in astral characters, which count one each.
  fc.constantFrom('b'.repeat(16000), 'b'.repeat(16001), '😀'.repeat(16000), '😀'.repeat(16001), `${'😀'.repeat(7999)}bb`),
);
const numbers = fc.oneof(fc.integer(), fc.constantFrom(0, -0, -1, 1.5, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, Number.NaN, Infinity), fc.double());
const values = fc.oneof(strings, numbers, fc.constantFrom(null, true, false, 'text', 'markdown', 'html', [], {}, ['x'], { a: 1 }));

const KEYS = { send: ['id', 'conversationId', 'clientMsgId', 'body', 'format'], seen: ['conversationId', 'upTo'], typing: ['conversationId'] } as const;

/** A frame of type `t`: each of its keys present or not, each value valid-looking or not, sometimes an extra key. */
const frames = fc.constantFrom('send', 'seen', 'typing').chain((t) =>
  fc
    .record({
      fields: fc.array(fc.tuple(fc.boolean(), fc.oneof(values, fc.constant(undefined))), { minLength: 5, maxLength: 5 }),
      valid: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      extra: fc.option(fc.tuple(fc.constantFrom('extra', '__proto__', 'T', 'id', 'format', 'upTo'), values), { nil: undefined }),
    })
    .map(({ fields, valid, extra }) => {
      const good: Record<string, unknown> = { id: 'r1', conversationId: 'c1', clientMsgId: 'm1', body: 'hi', format: 'markdown', upTo: 3 };
      const text = JSON.stringify({ t }).slice(0, -1);
      const parts: string[] = [];
      KEYS[t].forEach((k, i) => {
        const [present, v] = fields[i]!;
        if (!present && !valid[i]) return;
        const value = valid[i] ? good[k] : v;
        if (value !== undefined) parts.push(`${JSON.stringify(k)}:${JSON.stringify(value)}`);
      });
      if (extra) parts.push(`${JSON.stringify(extra[0])}:${JSON.stringify(extra[1]) ?? 'null'}`);
      // Through JSON.parse, as frames arrive (a "__proto__" key is then an own key).
      return JSON.parse(parts.length ? `${text},${parts.join(',')}}` : `${text}}`) as Record<string, unknown>;
    }),
);

describe('decodeHotFrame: the same verdicts as the zod schemas of send, seen and typing', () => {
  it('accepts exactly what the schema accepts, with the same value', () => {
    let accepted = 0;
    fc.assert(
      fc.property(frames, (obj) => {
        const schema = CLIENT_FRAME_SCHEMAS[obj.t as keyof typeof KEYS];
        const z = schema.safeParse(obj);
        const hot = decodeHotFrame(obj);
        if (z.success) accepted++;
        expect(hot !== null).toBe(z.success);
        if (z.success) expect(hot).toStrictEqual(z.data);
      }),
      { numRuns: 20_000 },
    );
    // The generator reaches both sides.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('leaves every other frame type to its schema', () => {
    for (const t of ['hello', 'open', 'presence', 'ping', 'history', 'notification_seen', 'SEND', undefined]) expect(decodeHotFrame({ t, conversationId: 'c1' })).toBeNull();
  });
});
