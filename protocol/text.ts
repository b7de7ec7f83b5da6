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

/**
 * A string of `min`..`max` code points. UTF-16 length bounds code points from above, so the exact
 * count only runs for strings longer than `max` UTF-16 units.
 */
export function text(min: number, max: number) {
  return z.string().check((ctx) => {
    const s = ctx.value;
    const n = s.length <= max ? (s.length >= min ? -1 : codePointLength(s)) : codePointLength(s);
    if (n === -1) return;
    if (n > max) ctx.issues.push({ code: 'too_big', origin: 'string', maximum: max, inclusive: true, input: s, message: `at most ${max} characters` });
    else if (n < min) ctx.issues.push({ code: 'too_small', origin: 'string', minimum: min, inclusive: true, input: s, message: `at least ${min} characters` });
  });
}

/** Body text: 1–16000 code points and not only whitespace (SPEC §3 `send`). */
export const MAX_BODY_CHARS = 16000;
export const BodySchema = text(1, MAX_BODY_CHARS).refine((s) => /\S/u.test(s), { message: 'body is only whitespace' });
