/**
 * The text work of rendering one tag value (tags.ts): line breaks, the `[n]` cuts that never split a
 * character, and HTML escaping. Pure string functions, on the render loop's hot path.
 */

const LINE_BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/g;
const HAS_LINE_BREAK = /[\n\r\u0085\u2028\u2029]/;
const HTML_SPECIAL = /[&<>"'\n\r\u0085\u2028\u2029]/;
/** Code points that belong to the character before them (see {@link firstCharacters}). */
const EXTENDS_AT = /[\p{M}\u200D\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]/uy;

export function stripBreaks(s: string): string {
  return HAS_LINE_BREAK.test(s) ? s.replace(LINE_BREAK, ' ') : s;
}

function isLineBreak(c: number): boolean {
  return c === 10 || c === 13 || c === 0x85 || c === 0x2028 || c === 0x2029;
}

/** The first `n` lines, without the break that ends the last one kept (CRLF is one break). */
export function firstLines(s: string, n: number): string {
  if (n === 0) return '';
  let seen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isLineBreak(c)) continue;
    if (++seen === n) return s.slice(0, i);
    if (c === 13 && s.charCodeAt(i + 1) === 10) i++;
  }
  return s;
}

function isRegionalIndicator(cp: number): boolean {
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

/**
 * The first `n` characters, then `[...]` when anything was cut. A character is a code point together
 * with what extends it: combining marks and variation selectors, emoji skin-tone modifiers and tag
 * characters, whatever a zero-width joiner glues on, the second regional indicator of a flag, and the LF
 * of a CRLF. This is the grapheme cluster of Unicode for everything but rare scripts (Hangul jamo, Indic
 * conjuncts), and costs a fraction of `Intl.Segmenter`, which was too slow for this hot path.
 */
export function firstCharacters(s: string, n: number): string {
  // Every character is at least one UTF-16 unit: a string this short cannot have more than n of them.
  if (s.length <= n) return s;
  let count = 0;
  let prev = -1;
  let indicators = 0;
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i) as number;
    let extending = false;
    if (cp >= 0x300) {
      EXTENDS_AT.lastIndex = i;
      extending = prev === 0x200d || EXTENDS_AT.test(s) || (isRegionalIndicator(cp) && indicators % 2 === 1);
    } else if (cp === 10 && prev === 13) {
      extending = true;
    }
    if (!extending) {
      if (count === n) return `${s.slice(0, i)}[...]`;
      count++;
    }
    indicators = isRegionalIndicator(cp) ? indicators + 1 : 0;
    prev = cp;
    i += cp > 0xffff ? 2 : 1;
  }
  return s;
}

/** `& < > " '` as entities, each line break as `<br/>` (CRLF as one). */
export function escapeHtml(s: string): string {
  // Most values (names, titles, numbers) have nothing to escape: the native scan answers that fastest.
  if (!HTML_SPECIAL.test(s)) return s;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let entity: string;
    switch (s.charCodeAt(i)) {
      case 38:
        entity = '&amp;';
        break;
      case 60:
        entity = '&lt;';
        break;
      case 62:
        entity = '&gt;';
        break;
      case 34:
        entity = '&quot;';
        break;
      case 39:
        entity = '&#39;';
        break;
      case 13:
        entity = '<br/>';
        if (s.charCodeAt(i + 1) === 10) {
          out += s.slice(last, i) + entity;
          last = i + 2;
          i++;
          continue;
        }
        break;
      case 10:
      case 0x85:
      case 0x2028:
      case 0x2029:
        entity = '<br/>';
        break;
      default:
        continue;
    }
    out += s.slice(last, i) + entity;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}
