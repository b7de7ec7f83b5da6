import { describe, expect, it } from 'vitest';
import { chooseLanguage } from '../../../../server/core/notifications/language.js';

describe('chooseLanguage', () => {
  it.each([
    // [case, recipient locale, default locale, the definition's languages, chosen]
    ['the recipient locale, exactly', 'de', 'en', ['en', 'de'], 'de'],
    ['the recipient locale before the default', 'de', 'en', ['de', 'en'], 'de'],
    ['a BCP 47 locale finds an OTOBO key (pt-BR → pt_BR)', 'pt-BR', 'en', ['en', 'pt', 'pt_BR'], 'pt_BR'],
    ['an OTOBO locale finds a BCP 47 key (pt_BR → pt-BR)', 'pt_BR', 'en', ['en', 'pt-BR'], 'pt-BR'],
    ['the language part when the region is missing (pt-BR → pt)', 'pt-BR', 'en', ['en', 'pt'], 'pt'],
    ['each shorter form in turn (zh-Hant-TW → zh_Hant)', 'zh-Hant-TW', 'en', ['en', 'zh', 'zh_Hant'], 'zh_Hant'],
    ['down to the bare language (zh-Hant-TW → zh)', 'zh-Hant-TW', 'en', ['en', 'zh'], 'zh'],
    ['case-insensitively, answering the key as spelled', 'PT-br', 'en', ['EN', 'Pt_bR'], 'Pt_bR'],
    ['a POSIX suffix is ignored', 'de_DE.UTF-8', 'en', ['en', 'de_DE'], 'de_DE'],
    ['the default when the recipient language is absent', 'fr', 'de', ['en', 'de'], 'de'],
    ['the default with the same normalisation (de_AT → de)', 'fr', 'de_AT', ['en', 'de'], 'de'],
    ['the default matched case-insensitively (EN-us → en_US)', 'fr', 'EN-us', ['de', 'en_US'], 'en_US'],
    ['the default when the recipient has no locale (null)', null, 'en', ['de', 'en'], 'en'],
    ['the default when the recipient has no locale (undefined)', undefined, 'en', ['de', 'en'], 'en'],
    ['the default when the recipient locale is empty', '', 'en', ['de', 'en'], 'en'],
    ['the first language when neither matches', 'fr', 'es', ['zh_CN', 'en'], 'zh_CN'],
    ['the first language when the default is empty too', null, '', ['ja', 'en'], 'ja'],
    ['a language never widens to a region (pt does not pick pt_BR)', 'pt', 'en', ['pt_BR', 'en'], 'en'],
    ['no prefix matching of partial codes (e is not en)', 'e', 'de', ['en', 'de'], 'de'],
    ['the first of two spellings of one language', 'pt-BR', 'en', ['pt-BR', 'pt_BR'], 'pt-BR'],
  ] as const)('chooses %s', (_case, locale, defaultLocale, available, chosen) => {
    expect(chooseLanguage(locale, defaultLocale, available)).toBe(chosen);
  });

  it('refuses a definition without languages', () => {
    expect(() => chooseLanguage('en', 'en', [])).toThrow(/no language/);
  });
});
