import { describe, expect, it } from 'vitest';
import { autoAcceptOf, systemLanguage } from '../../../../server/core/system-emails/system-emails.js';
import { DEFAULT_CUSTOMER_PREFERENCES, DEFAULT_USER_PREFERENCES } from '../../../../protocol/index.js';

describe('system email language and autoAccept', () => {
  it('picks the locale, its language, the default locale, then English, then the first', () => {
    expect(systemLanguage('de-AT', 'en', ['en', 'de'])).toBe('de');
    expect(systemLanguage('pt-BR', 'de', ['en', 'de'])).toBe('de');
    expect(systemLanguage('pt-BR', 'fr', ['de', 'en'])).toBe('en');
    expect(systemLanguage(null, 'fr', ['pl', 'de'])).toBe('pl');
    expect(systemLanguage('pt_BR', 'en', ['en', 'pt-BR'])).toBe('pt-BR');
  });

  it('gives autoAccept from a user preference, false for customers', () => {
    expect(autoAcceptOf({ preferences: DEFAULT_USER_PREFERENCES })).toBe(true);
    expect(autoAcceptOf({ preferences: { ...DEFAULT_USER_PREFERENCES, email: { ...DEFAULT_USER_PREFERENCES.email, autoAcceptInvitations: false } } })).toBe(false);
    expect(autoAcceptOf({ preferences: DEFAULT_CUSTOMER_PREFERENCES })).toBe(false);
  });
});
