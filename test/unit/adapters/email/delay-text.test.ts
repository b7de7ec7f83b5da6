import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { LiquidComposer, humanDelay } from '../../../../server/adapters/email/liquid-composer.js';
import type { EscalationEmail } from '../../../../server/core/ports/index.js';

const T = Date.UTC(2026, 0, 15, 12, 30);
const composer = new LiquidComposer({ from: 'Acme Support <notify@chat.example.com>', logger: { info() {}, warn() {}, error() {} } });

function email(kind: 'user' | 'customer', locale: string, delayMs: number): EscalationEmail {
  return {
    emailId: 'E1',
    createdAt: T,
    to: { id: 'p1', name: 'Pat', email: 'pat@example.org', kind, locale, timezone: 'UTC' },
    conversation: { id: 'C1', subject: 'Printer', url: 'https://chat.example.com/app/#/c/C1' },
    messages: [{ id: 'M1', seq: 1, senderName: 'Alice', senderKind: 'user', body: 'Hi', format: 'text', createdAt: T }],
    leftOut: 0,
    previousMessageIds: [],
    unsubscribeUrl: kind === 'customer' ? 'https://chat.example.com/u/tok' : null,
    delayMs,
    preferencesUrl: kind === 'user' ? 'https://chat.example.com/app/#/preferences' : null,
  };
}

describe('humanDelay: PARLEY_ESCALATION_DELAY_MS as the email says it', () => {
  it.each([
    [60_000, 'en', 'a minute'],
    [120_000, 'en', '2 minutes'],
    [30_000, 'en', '30 seconds'],
    [1_000, 'en', 'a second'],
    [90_000, 'en', '1.5 minutes'],
    [3_600_000, 'en', 'an hour'],
    [7_200_000, 'en', '2 hours'],
    [60_000, 'de', 'einer Minute'],
    [120_000, 'de', 'von 2 Minuten'],
    [30_000, 'de', 'von 30 Sekunden'],
    [90_000, 'de', 'von 1,5 Minuten'],
    [60_000, 'pl', 'minuty'],
    [120_000, 'pl', '2 minut'],
    [30_000, 'pl', '30 sekund'],
    [5_400_000, 'pl', '1,5 godziny'],
  ] as const)('%i ms in %s: %s', (ms, locale, text) => {
    expect(humanDelay(ms, locale)).toBe(text);
  });
});

describe('escalation texts follow the delay and link users to their preferences', () => {
  it.each([
    ['en', 'within 2 minutes', 'within 30 seconds'],
    ['de', 'innerhalb von 2 Minuten', 'innerhalb von 30 Sekunden'],
    ['pl', 'w ciągu 2 minut', 'w ciągu 30 sekund'],
  ])('%s', async (locale, twoMinutes, thirtySeconds) => {
    for (const kind of ['user', 'customer'] as const) {
      for (const [ms, want] of [
        [120_000, twoMinutes],
        [30_000, thirtySeconds],
      ] as const) {
        const mail = await PostalMime.parse((await composer.compose('escalation', email(kind, locale, ms))).raw);
        expect(mail.text, `${kind} ${ms}`).toContain(want);
        expect(mail.html, `${kind} ${ms}`).toContain(want);
        expect(mail.text).not.toMatch(/within a minute|innerhalb einer Minute|w ciągu minuty/);
        if (kind === 'user') {
          expect(mail.text).toContain('https://chat.example.com/app/#/preferences');
          expect(mail.html).toContain('href="https://chat.example.com/app/#/preferences"');
        } else {
          expect(mail.text).toContain('https://chat.example.com/u/tok');
          expect(mail.text).not.toContain('/app/#/preferences');
        }
      }
    }
  });
});
