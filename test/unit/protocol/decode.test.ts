import { describe, expect, it } from 'vitest';
import { codePointLength, decodeClientFrame } from '../../../protocol/index.js';

const send = (extra: Record<string, unknown> = {}) => JSON.stringify({ t: 'send', id: 'r1', conversationId: 'c1', clientMsgId: 'm1', body: 'hi', ...extra });

describe('decodeClientFrame', () => {
  it('accepts a well-formed send', () => {
    const r = decodeClientFrame(send());
    expect(r).toEqual({ ok: true, frame: { t: 'send', id: 'r1', conversationId: 'c1', clientMsgId: 'm1', body: 'hi' } });
  });

  it.each([
    ['invalid JSON', '{"t":', undefined],
    ['a JSON array', '[1,2]', undefined],
    ['an unknown type', '{"t":"shout","id":"r9"}', 'r9'],
    ['a missing type', '{"id":"r9"}', 'r9'],
    ['a missing field', JSON.stringify({ t: 'send', id: 'r2', conversationId: 'c1', clientMsgId: 'm1' }), 'r2'],
    ['an extra field', send({ id: 'r3', extra: 1 }), 'r3'],
    ['a wrongly typed field', send({ id: 'r4', body: 42 }), 'r4'],
    ['a wrong enum value', send({ id: 'r5', format: 'html' }), 'r5'],
    ['an over-long request id', send({ id: 'x'.repeat(65) }), undefined],
  ])('answers %s with bad_frame', (_name, text, re) => {
    const r = decodeClientFrame(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('bad_frame');
    expect(r.re).toBe(re);
  });

  it.each([
    ['a body of only whitespace', send({ body: ' \n\t ' })],
    ['a body over 16000 code points', send({ body: 'a'.repeat(16001) })],
    ['an empty body', send({ body: '' })],
    ['a limit out of range', JSON.stringify({ t: 'history', id: 'r1', conversationId: 'c1', limit: 201 })],
    ['both before and after', JSON.stringify({ t: 'history', id: 'r1', conversationId: 'c1', before: 5, after: 1 })],
    ['too many members', JSON.stringify({ t: 'open', id: 'r1', members: Array.from({ length: 51 }, (_, i) => `u${i}`) })],
    ['a member id with bad characters', JSON.stringify({ t: 'open', id: 'r1', members: ['a b'] })],
  ])('answers %s with invalid and re', (_name, text) => {
    const r = decodeClientFrame(text);
    expect(r).toMatchObject({ ok: false, code: 'invalid', re: 'r1' });
  });

  it('counts body length in code points, so 16000 emoji pass', () => {
    const body = '😀'.repeat(16000);
    expect(body.length).toBe(32000);
    expect(codePointLength(body)).toBe(16000);
    expect(decodeClientFrame(send({ body })).ok).toBe(true);
    expect(decodeClientFrame(send({ body: body + '😀' }))).toMatchObject({ ok: false, code: 'invalid' });
  });
});
