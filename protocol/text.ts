import { z } from 'zod';

/** Length in Unicode code points (SPEC §1: every length of text counts code points). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

// With the `u` flag a surrogate pair is one code point, so \p{Cs} matches only a lone surrogate.
const LONE_SURROGATE = /\p{Cs}/u;
const nativeIsWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/**
 * Whether `s` is well-formed Unicode: no lone surrogate (SPEC §3 Text). Such a string cannot be
 * encoded as UTF-8, so storing it would turn it into U+FFFD on the way out. Native
 * `String.prototype.isWellFormed` (Node 20) where it exists; browsers without it use the regex.
 */
export const isWellFormed: (s: string) => boolean = nativeIsWellFormed
  ? (s) => (nativeIsWellFormed as (this: string) => boolean).call(s)
  : (s) => !LONE_SURROGATE.test(s);

/**
 * A code point that shows something: not White_Space, not Default_Ignorable (U+200B, U+2060,
 * U+FEFF, U+00AD, U+034F, U+180E, U+200C/D, variation selectors, tags, the Hangul fillers U+115F,
 * U+1160, U+3164, U+FFA0 …) and not the blank look-alike U+2800 (braille blank). The Hangul fillers
 * are listed although Default_Ignorable covers them: SPEC names them.
 */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\u115F\u1160\u3164\uFFA0\u2800]/u;

/**
 * Whether a body or name is blank (SPEC §3 Text): it holds nothing but White_Space, Default_Ignorable
 * code points or the blank look-alikes U+3164, U+115F, U+1160, U+FFA0 and U+2800.
 */
export function isBlank(s: string): boolean {
  return !VISIBLE.test(s);
}

const NOT_WELL_FORMED = 'not well-formed Unicode (a lone surrogate)';

/**
 * Any string the hub stores or echoes: well-formed Unicode (SPEC §3 Text), `max` UTF-16 units at
 * most where given (ids, labels). A lone surrogate is a `custom` issue, so frames answer `invalid`.
 */
export function wellFormed(max?: number) {
  const s = max === undefined ? z.string() : z.string().max(max);
  return s.refine(isWellFormed, { message: NOT_WELL_FORMED });
}

/**
 * A text of `min`..`max` code points, well-formed (SPEC §3 Text). UTF-16 length bounds code points
 * from above, so the exact count only runs for strings longer than `max` UTF-16 units.
 */
export function text(min: number, max: number) {
  return z.string().check((ctx) => {
    const s = ctx.value;
    if (!isWellFormed(s)) {
      ctx.issues.push({ code: 'custom', input: s, message: NOT_WELL_FORMED });
      return;
    }
    const n = s.length <= max ? (s.length >= min ? -1 : codePointLength(s)) : codePointLength(s);
    if (n === -1) return;
    if (n > max) ctx.issues.push({ code: 'too_big', origin: 'string', maximum: max, inclusive: true, input: s, message: `at most ${max} characters` });
    else if (n < min) ctx.issues.push({ code: 'too_small', origin: 'string', minimum: min, inclusive: true, input: s, message: `at least ${min} characters` });
  });
}

/** A text of `min`..`max` code points that is not blank (names, bodies: SPEC §3 Text). */
export function nonBlankText(min: number, max: number, what: string) {
  return text(min, max).refine((s) => !isBlank(s), { message: `${what} is blank` });
}

/** A participant's, project's or token's name: 1–200 code points, not blank. */
export const NameSchema = nonBlankText(1, 200, 'name');

/** Body text: 1–16000 code points, well-formed and not blank (SPEC §3 `send`, Text). */
export const MAX_BODY_CHARS = 16000;
export const BodySchema = nonBlankText(1, MAX_BODY_CHARS, 'body');

// A lone surrogate reaches a parsed JSON value only through a \uD800–\uDFFF escape: UTF-8 text decodes
// to well-formed strings. Only a raw text that has such an escape needs the walk below.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * The path of the first string (value or key) in `value`, parsed from the JSON text `raw`, that is
 * not well-formed Unicode; null when every one is (SPEC §3 Text: every text field).
 */
export function illFormedPath(raw: string, value: unknown): string | null {
  if (!SURROGATE_ESCAPE.test(raw)) return null;
  const walk = (v: unknown, path: string): string | null => {
    if (typeof v === 'string') return isWellFormed(v) ? null : path || '(root)';
    if (typeof v !== 'object' || v === null) return null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const p = walk(v[i], path ? `${path}.${i}` : String(i));
        if (p !== null) return p;
      }
      return null;
    }
    for (const [k, x] of Object.entries(v)) {
      const p = isWellFormed(k) ? walk(x, path ? `${path}.${k}` : k) : path || '(root)';
      if (p !== null) return p;
    }
    return null;
  };
  return walk(value, '');
}
