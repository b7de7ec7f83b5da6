import { describe, expect, it } from 'vitest';
import { EMAIL_MAX_MESSAGES, EMAIL_MAX_TEXT_BYTES, heldCount, utf8Bytes } from '../../../../server/core/escalation/escalation.js';

describe('the caps of one escalation email (SPEC §5)', () => {
  it('are 50 messages and 200 KB of message text', () => {
    expect(EMAIL_MAX_MESSAGES).toBe(50);
    expect(EMAIL_MAX_TEXT_BYTES).toBe(200 * 1024);
  });

  it('holds every message when they fit', () => {
    expect(heldCount([])).toBe(0);
    expect(heldCount(['a', 'b', 'c'])).toBe(3);
    expect(heldCount(Array.from({ length: 50 }, () => 'x'))).toBe(50);
  });

  it('holds the latest 50 of 60 or of 1,000', () => {
    expect(heldCount(Array.from({ length: 60 }, () => 'x'))).toBe(50);
    expect(heldCount(Array.from({ length: 1000 }, () => 'x'))).toBe(50);
  });

  it('holds the latest that fit in 200 KB of text, counted in UTF-8 bytes', () => {
    // 20 bodies of 15,000 bytes: 13 make 195,000 bytes, 14 would make 210,000.
    expect(heldCount(Array.from({ length: 20 }, () => 'x'.repeat(15_000)))).toBe(13);
    // The same in code points, but 3 bytes each (€): 4 make 180,000 bytes, 5 would make 225,000.
    expect(heldCount(Array.from({ length: 20 }, () => '€'.repeat(15_000)))).toBe(4);
    // A small old message after a big one is not pulled in: the held ones are a tail.
    expect(heldCount(['small', 'x'.repeat(150_000), 'y'.repeat(60_000)])).toBe(1);
    // Exactly at the cap fits.
    expect(heldCount(['a'.repeat(100 * 1024), 'b'.repeat(100 * 1024)])).toBe(2);
  });

  it('always holds the newest message, whatever its size', () => {
    expect(heldCount(['x', 'y'.repeat(300_000)])).toBe(1);
  });

  it('measures UTF-8 without encoding', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b€é', '\ud800x']) expect(utf8Bytes(s)).toBe(Buffer.byteLength(s, 'utf8'));
  });
});
