import { describe, expect, it } from 'vitest';
import {
  BodySchema,
  ConversationCreateSchema,
  ItemPutSchema,
  MessagePostSchema,
  NameSchema,
  ParticipantPutSchema,
  ProjectPutSchema,
  decodeClientFrame,
  illFormedPath,
  isBlank,
  isWellFormed,
  text,
} from '../../../protocol/index.js';

/** SPEC §3 Text: well-formed Unicode everywhere; bodies and names are not blank. */

const LONE = [
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', '\udc00'],
  ['a high surrogate at the end', 'ok\ud83d'],
  ['a low surrogate first', '\ude00ok'],
  ['two high surrogates', '\ud83d\ud83d'],
  ['a reversed pair', '\ude00\ud83d'],
] as const;

const WELL_FORMED = [
  ['ASCII', 'hello'],
  ['an emoji (a surrogate pair)', '😀'],
  ['a flag (two pairs)', '🇨🇭'],
  ['CJK', '你好'],
  ['the empty string', ''],
] as const;

describe('isWellFormed', () => {
  it.each(LONE)('refuses %s', (_name, s) => expect(isWellFormed(s)).toBe(false));
  it.each(WELL_FORMED)('accepts %s', (_name, s) => expect(isWellFormed(s)).toBe(true));
});

/** Blank: nothing but White_Space, Default_Ignorable or the blank look-alikes SPEC names. */
const BLANK = [
  ['spaces', '   '],
  ['tab, newline, CR', '\t\n\r'],
  ['NBSP and narrow NBSP', '\u00a0\u202f'],
  ['ideographic space', '\u3000'],
  ['line and paragraph separators', '\u2028\u2029'],
  ['NEL', '\u0085'],
  ['ogham space mark', '\u1680'],
  ['zero-width space U+200B', '\u200b'],
  ['word joiner U+2060', '\u2060'],
  ['BOM U+FEFF', '\ufeff'],
  ['soft hyphen U+00AD', '\u00ad'],
  ['combining grapheme joiner U+034F', '\u034f'],
  ['Mongolian vowel separator U+180E', '\u180e'],
  ['ZWNJ and ZWJ U+200C/D', '\u200c\u200d'],
  ['LRM and RLM', '\u200e\u200f'],
  ['a variation selector U+FE0F', '\ufe0f'],
  ['a supplementary variation selector U+E0100', '\u{e0100}'],
  ['tag characters U+E0020..E007F', '\u{e0020}\u{e0041}\u{e007f}'],
  ['Hangul filler U+3164', '\u3164'],
  ['Hangul choseong filler U+115F', '\u115f'],
  ['Hangul jungseong filler U+1160', '\u1160'],
  ['halfwidth Hangul filler U+FFA0', '\uffa0'],
  ['braille blank U+2800', '\u2800'],
  ['a mix of them all', ' \u200b\u3164\u2800\ufeff\u2060\u00a0\n'],
  ['many of them', '\u200b'.repeat(16000)],
] as const;

const NOT_BLANK = [
  ['a letter', 'a'],
  ['a letter among blanks', '\u200b\u3164a\u2800'],
  ['a dot', '.'],
  ['an emoji with VS16', '❤\ufe0f'],
  ['a ZWJ emoji sequence', '👩\u200d💻'],
  ['a braille letter (not the blank)', '\u2801'],
  ['a Hangul syllable', '한'],
  ['a combining mark alone', '\u0301'],
  ['a digit after a BOM', '\ufeff1'],
] as const;

describe('isBlank', () => {
  it.each(BLANK)('%s is blank', (_name, s) => expect(isBlank(s)).toBe(true));
  it.each(NOT_BLANK)('%s is not blank', (_name, s) => expect(isBlank(s)).toBe(false));
});

describe('BodySchema and NameSchema', () => {
  it.each(BLANK)('refuse a body or name of %s', (_name, s) => {
    expect(BodySchema.safeParse(s).success).toBe(false);
    if ([...s].length <= 200) expect(NameSchema.safeParse(s).success).toBe(false);
  });
  it.each(NOT_BLANK)('accept a body or name of %s', (_name, s) => {
    expect(BodySchema.safeParse(s).success).toBe(true);
    expect(NameSchema.safeParse(s).success).toBe(true);
  });
  it.each(LONE)('refuse a body or name with %s, even inside text', (_name, s) => {
    expect(BodySchema.safeParse(`Hello ${s} world`).success).toBe(false);
    expect(NameSchema.safeParse(`Ann ${s}`).success).toBe(false);
  });
  it('keeps the code point limits', () => {
    expect(BodySchema.safeParse('😀'.repeat(16000)).success).toBe(true);
    expect(BodySchema.safeParse('😀'.repeat(16001)).success).toBe(false);
    expect(NameSchema.safeParse('é'.repeat(200)).success).toBe(true);
    expect(NameSchema.safeParse('é'.repeat(201)).success).toBe(false);
    expect(NameSchema.safeParse('').success).toBe(false);
  });
});

describe('text()', () => {
  it.each(LONE)('refuses %s with a custom issue (a value error: `invalid`)', (_name, s) => {
    const r = text(1, 200).safeParse(`subject ${s}`);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe('custom');
  });
  it('accepts whitespace-only text: only bodies and names must not be blank', () => {
    expect(text(1, 200).safeParse(' ').success).toBe(true);
  });
});

describe('HTTP bodies refuse a lone surrogate in every stored string', () => {
  const bad = '\ud800';
  it.each([
    ['participant name', ParticipantPutSchema, { kind: 'user', name: `a${bad}` }],
    ['participant group', ParticipantPutSchema, { kind: 'user', name: 'a', groups: [`g${bad}`] }],
    ['participant role', ParticipantPutSchema, { kind: 'user', name: 'a', roles: [bad] }],
    ['project name', ProjectPutSchema, { name: bad }],
    ['item title', ItemPutSchema, { kind: 'ticket', title: `t${bad}` }],
    ['item kind', ItemPutSchema, { kind: `k${bad}`, title: 't' }],
    ['item status', ItemPutSchema, { kind: 'ticket', title: 't', status: bad }],
    ['item number', ItemPutSchema, { kind: 'ticket', title: 't', number: bad }],
    ['item field value', ItemPutSchema, { kind: 'ticket', title: 't', fields: { a: bad } }],
    ['item field key', ItemPutSchema, { kind: 'ticket', title: 't', fields: { [bad]: 'x' } }],
    ['conversation subject', ConversationCreateSchema, { kind: 'direct', createdBy: 'a', members: [], subject: bad }],
    ['message body', MessagePostSchema, { senderId: 'a', body: `hi ${bad}`, clientMsgId: 'm1' }],
    ['message clientMsgId', MessagePostSchema, { senderId: 'a', body: 'hi', clientMsgId: `m${bad}` }],
  ] as const)('%s', (_name, schema, value) => {
    expect((schema as { safeParse(v: unknown): { success: boolean } }).safeParse(value).success).toBe(false);
  });

  it.each([
    ['participant name of spaces', ParticipantPutSchema, { kind: 'user', name: '   ' }],
    ['participant name U+3164', ParticipantPutSchema, { kind: 'user', name: '\u3164' }],
    ['project name U+200B', ProjectPutSchema, { name: '\u200b' }],
    ['message body U+2800', MessagePostSchema, { senderId: 'a', body: '\u2800', clientMsgId: 'm1' }],
  ] as const)('and a blank %s', (_name, schema, value) => {
    expect((schema as { safeParse(v: unknown): { success: boolean } }).safeParse(value).success).toBe(false);
  });
});

describe('decodeClientFrame and lone surrogates', () => {
  const send = (extra: Record<string, unknown>) => JSON.stringify({ t: 'send', id: 'r1', conversationId: 'c1', clientMsgId: 'm1', body: 'hi', ...extra });
  it.each([
    ['the body', send({ body: 'hi \ud800' })],
    ['the clientMsgId (a plain string in the frame schema)', send({ clientMsgId: 'm\udc00' })],
    ['the conversation id', send({ conversationId: 'c\ud800' })],
    ['an open subject', JSON.stringify({ t: 'open', id: 'r1', members: [], subject: 'x\ud800' })],
    ['a conversations cursor', JSON.stringify({ t: 'conversations', id: 'r1', cursor: '\ud800' })],
  ])('answers one in %s with invalid and re', (_name, frame) => {
    expect(frame).toMatch(/\\ud[89a-f]/i); // JSON.stringify escapes a lone surrogate
    expect(decodeClientFrame(frame)).toMatchObject({ ok: false, code: 'invalid', re: 'r1' });
  });
  it('answers one in the hello client name with invalid', () => {
    expect(decodeClientFrame(JSON.stringify({ t: 'hello', v: 1, token: 't', client: { name: 'x\ud800' } }))).toMatchObject({ ok: false, code: 'invalid' });
  });
  it('does not echo a request id that holds one', () => {
    const r = decodeClientFrame(JSON.stringify({ t: 'ping', id: 'r\ud800' }));
    expect(r).toMatchObject({ ok: false, code: 'invalid' });
    expect(r).not.toHaveProperty('re');
  });
  it('accepts escaped surrogate pairs', () => {
    expect(decodeClientFrame('{"t":"send","id":"r1","conversationId":"c1","clientMsgId":"\\ud83d\\ude00","body":"\\ud83d\\ude00"}')).toMatchObject({
      ok: true,
      frame: { clientMsgId: '😀', body: '😀' },
    });
  });
  it.each(BLANK.filter(([, s]) => s.length < 100))('answers a body of %s with invalid and re', (_name, body) => {
    expect(decodeClientFrame(send({ body }))).toMatchObject({ ok: false, code: 'invalid', re: 'r1' });
  });
});

describe('illFormedPath', () => {
  it('finds nothing without a surrogate escape in the text', () => {
    expect(illFormedPath('{"a":"b"}', { a: 'b' })).toBeNull();
  });
  it('names the path of a bad value or the object of a bad key', () => {
    const v = { a: [{ b: 'ok' }, { c: 'x\ud800' }] };
    expect(illFormedPath(JSON.stringify(v), v)).toBe('a.1.c');
    const k = { a: { ['\udc00']: 1 } };
    expect(illFormedPath(JSON.stringify(k), k)).toBe('a');
    expect(illFormedPath(JSON.stringify('\ud800'), '\ud800')).toBe('(root)');
  });
  it('passes well-formed pairs', () => {
    const v = { a: '😀', b: ['🇨🇭'] };
    expect(illFormedPath('{"a":"\\ud83d\\ude00"}', v)).toBeNull();
  });
});
