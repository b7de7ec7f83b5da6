/**
 * The caps of one escalation email (SPEC §5): it holds at most EMAIL_MAX_MESSAGES messages and
 * EMAIL_MAX_TEXT_BYTES of message text (the full bodies in UTF-8, before the composer clips long
 * ones). When more are due it holds the latest that fit both, and counts the earlier ones it leaves
 * out ("12 earlier messages are not shown"); the emailed watermark still rises to the last seq.
 * Without them 1,000 unseen messages made a 4.6 MB email.
 */
export const EMAIL_MAX_MESSAGES = 50;
export const EMAIL_MAX_TEXT_BYTES = 200 * 1024;

/** UTF-8 length of a string, without encoding it. */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * How many of `bodies` (ascending seq, all due) one email holds: the longest tail within both caps,
 * and never fewer than one (the newest message always goes, whatever its size).
 */
export function heldCount(bodies: readonly string[], caps = { messages: EMAIL_MAX_MESSAGES, bytes: EMAIL_MAX_TEXT_BYTES }): number {
  let held = 0;
  let bytes = 0;
  for (let i = bodies.length - 1; i >= 0 && held < caps.messages; i--) {
    bytes += utf8Bytes(bodies[i]!);
    if (held > 0 && bytes > caps.bytes) break;
    held++;
  }
  return held;
}
