/** The most code points an SMS notification carries (NOTIFICATIONS §3 `sms`). */
export const SMS_MAX_CHARS = 320;

/** Runs of control characters (line breaks, tabs, C1) and the Unicode line and paragraph separators. */
const CONTROLS = /[\p{Cc}\u2028\u2029]+/gu;

/**
 * The text of an SMS notification from the rendered subject: on one line (every run of CR, LF and
 * other control characters becomes one space, the ends trimmed), then at most SMS_MAX_CHARS code
 * points. A longer text keeps its first SMS_MAX_CHARS − 1 code points and ends with '…'. Cuts fall
 * between code points, never inside a surrogate pair; a multi-code-point emoji (ZWJ sequence, flag)
 * at the cut may lose its tail.
 */
export function smsText(subject: string): string {
  const line = subject.replace(CONTROLS, ' ').trim();
  // UTF-16 length bounds the code point count from above: most subjects need no counting.
  if (line.length <= SMS_MAX_CHARS) return line;
  const chars = Array.from(line);
  if (chars.length <= SMS_MAX_CHARS) return line;
  return chars.slice(0, SMS_MAX_CHARS - 1).join('').trimEnd() + '…';
}
