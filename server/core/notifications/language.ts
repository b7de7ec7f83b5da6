/**
 * Which of a definition's languages a recipient reads (NOTIFICATIONS.md §3, "Languages").
 *
 * The chain, first match wins: the recipient's locale; then its shorter forms, dropping one subtag at a
 * time (`pt-BR` → `pt`, `zh-Hant-TW` → `zh-Hant` → `zh`); then the default locale and its shorter forms
 * the same way; then the first language the definition has.
 *
 * Matching ignores case and treats `-` and `_` alike, so a recipient's BCP 47 `pt-BR` finds a key written
 * OTOBO's way (`pt_BR`) and the reverse. A POSIX suffix (`de_DE.UTF-8`, `de_DE@euro`) is ignored. The
 * answer is always one of `available`, spelled exactly as it is there; when two keys differ only in
 * spelling (`pt_BR` and `pt-BR`), the first of them is the one that answers.
 *
 * Pure and allocation-light: it runs once per recipient of every event.
 */
export function chooseLanguage(recipientLocale: string | null | undefined, defaultLocale: string, available: readonly string[]): string {
  const first = available[0];
  // A definition always has at least one language (the schema refuses none): none here is a bug.
  if (first === undefined) throw new Error('chooseLanguage: the definition has no language');
  return lookup(recipientLocale, available) ?? lookup(defaultLocale, available) ?? first;
}

/** The key of `available` that `locale` or one of its shorter forms names, if any. */
function lookup(locale: string | null | undefined, available: readonly string[]): string | undefined {
  if (!locale) return undefined;
  let wanted = normalise(locale);
  while (wanted !== '') {
    for (const key of available) if (normalise(key) === wanted) return key;
    const cut = wanted.lastIndexOf('-');
    wanted = cut > 0 ? wanted.slice(0, cut) : '';
  }
  return undefined;
}

/** `pt_BR`, `PT-br`, ` pt-BR.UTF-8 ` → `pt-br`. */
function normalise(tag: string): string {
  let s = tag.trim();
  const posix = s.search(/[.@]/);
  if (posix >= 0) s = s.slice(0, posix);
  return s.replaceAll('_', '-').toLowerCase();
}
