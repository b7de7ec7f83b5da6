import { describe, expect, it } from 'vitest';
import { isWellFormed } from '../../../../protocol/text.js';
import { SMS_MAX_CHARS, smsText } from '../../../../server/core/notifications/sms-text.js';

const codePoints = (s: string) => Array.from(s).length;
const EMOJI = '🎉'; // one code point, two UTF-16 units

describe('smsText', () => {
  it('allows 320 code points', () => {
    expect(SMS_MAX_CHARS).toBe(320);
  });

  it.each([
    ['a short subject, as it is', 'Ticket #1042: Printer on fire', 'Ticket #1042: Printer on fire'],
    ['an empty subject', '', ''],
    ['exactly 320 characters, uncut', 'a'.repeat(320), 'a'.repeat(320)],
    ['exactly 320 emoji (640 UTF-16 units), uncut', EMOJI.repeat(320), EMOJI.repeat(320)],
    ['321 characters, cut to 319 and an ellipsis', 'a'.repeat(321), 'a'.repeat(319) + '…'],
    ['a long subject, cut to 319 and an ellipsis', 'b'.repeat(1000), 'b'.repeat(319) + '…'],
    ['an emoji at the cut, kept whole', 'a'.repeat(318) + EMOJI + 'cd', 'a'.repeat(318) + EMOJI + '…'],
    ['an emoji just after the cut, left out whole', 'a'.repeat(319) + EMOJI + 'cd', 'a'.repeat(319) + '…'],
    ['emoji only, over the limit', EMOJI.repeat(400), EMOJI.repeat(319) + '…'],
    ['a space at the cut, not kept before the ellipsis', 'a'.repeat(318) + ' ' + 'b'.repeat(10), 'a'.repeat(318) + '…'],
    ['CR LF, CR and LF, each one space', 'one\r\ntwo\rthree\nfour', 'one two three four'],
    ['a run of breaks, one space', 'one\r\n\r\n\ntwo', 'one two'],
    ['breaks at the ends, trimmed', '\r\nsubject\n', 'subject'],
    ['tabs and other controls, spaces', 'a\tb\u0000c\u2028d', 'a b c d'],
    ['breaks before the count: 330 with breaks is 320 without', 'a'.repeat(160) + '\r\n'.repeat(5) + 'b'.repeat(159), 'a'.repeat(160) + ' ' + 'b'.repeat(159)],
  ])('%s', (_name, subject, expected) => {
    const out = smsText(subject);
    expect(out).toBe(expected);
    expect(codePoints(out)).toBeLessThanOrEqual(SMS_MAX_CHARS);
    expect(isWellFormed(out)).toBe(true);
  });
});
