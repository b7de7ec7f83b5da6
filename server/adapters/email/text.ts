/** Text helpers of the email templates: user text made safe for one line, for the plain-text part, and the delay in words. */

/** Bodies longer than this (code points) are clipped, with a link to read them in full. */
export const CLIP_CHARS = 2000;

/** The first `n` code points of `s` and " [...]" when it was longer; never cuts an emoji in half. */
export function clip(s: string, n: number): string {
  const chars = Array.from(s);
  return chars.length > n ? chars.slice(0, n).join('') + ' [...]' : s;
}

/**
 * Every line break a body or name may hold: CR LF, CR, LF, VT, FF, NEL (U+0085), LINE SEPARATOR
 * (U+2028) and PARAGRAPH SEPARATOR (U+2029). Mail readers break lines at several of them.
 */
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/;
/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROLS = /[\p{Cc}\u2028\u2029]+/gu;
/** Control characters left inside one line of a body, TAB excepted. */
const INLINE_CONTROLS = /[\0-\x08\x0e-\x1f\x7f-\x9f]/g;
/** What the plain-text part puts before every line of a body, so none starts at column 0 (SPEC §5). */
export const BODY_INDENT = '  ';

/**
 * A name or subject on one line: every run of line breaks and other control characters becomes one
 * space, so a name cannot forge a sender line (or a header) in the plain-text part.
 */
export function oneLine(s: string): string {
  return s.replace(CONTROLS, ' ').trim();
}

/**
 * A body as the plain-text part shows it (SPEC §5): clipped to CLIP_CHARS, and every line of it —
 * the first included, after whatever line break — indented by BODY_INDENT under its sender line.
 * Sender lines start at column 0, body lines never do, so no body can forge a sender line, a
 * notice or a footer. Other control characters become spaces.
 */
export function indentBody(body: string): string {
  return bodyLines(body)
    .map((l) => BODY_INDENT + l)
    .join('\n');
}

/** The lines of a clipped body, split at every kind of line break (the HTML part joins them with <br>). */
export function bodyLines(body: string): string[] {
  return clip(body, CLIP_CHARS)
    .split(LINE_BREAK)
    .map((l) => l.replace(INLINE_CONTROLS, ' '));
}

/**
 * A delay as the email texts say it, in the recipient's language: "30 seconds", "a minute",
 * "2 minutes", "1.5 hours" (en); "von 30 Sekunden", "einer Minute", "von 2 Minuten" (de, after
 * "innerhalb"); "30 sekund", "minuty", "2 minut" (pl, genitive after "w ciągu").
 */
export function humanDelay(ms: number, locale: 'en' | 'de' | 'pl'): string {
  const s = Math.max(1, Math.round(ms / 1000));
  const [n, unit]: [number, string] = s < 60 ? [s, 'second'] : s < 3600 ? [round1(s / 60), 'minute'] : [round1(s / 3600), 'hour'];
  const one = n === 1;
  const num = (locale === 'en' ? String(n) : String(n).replace('.', ','));
  if (locale === 'de') {
    const words = { second: ['einer Sekunde', 'Sekunden'], minute: ['einer Minute', 'Minuten'], hour: ['einer Stunde', 'Stunden'] }[unit as 'second'] as [string, string];
    return one ? words[0] : `von ${num} ${words[1]}`;
  }
  if (locale === 'pl') {
    // Genitive: "w ciągu sekundy / minuty / godziny"; 2–4 (not 12–14): sekund/minut/godzin after "w ciągu" too.
    const words = { second: ['sekundy', 'sekund'], minute: ['minuty', 'minut'], hour: ['godziny', 'godzin'] }[unit as 'second'] as [string, string];
    return one ? words[0] : `${num} ${Number.isInteger(n) ? words[1] : words[0]}`;
  }
  const words = { second: ['a second', 'seconds'], minute: ['a minute', 'minutes'], hour: ['an hour', 'hours'] }[unit as 'second'] as [string, string];
  return one ? words[0] : `${num} ${words[1]}`;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

