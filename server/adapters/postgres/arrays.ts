/** Characters an element of an array literal must escape inside its double quotes. */
const NEEDS_ESCAPE = /["\\]/;

/**
 * A `text[]` or `int[]` parameter as PostgreSQL's array literal, built here in one pass: `pg` turns a
 * JavaScript array into the same text, but runs two regular-expression replaces on every element, the
 * largest cost the driver had in bench:cluster's store run (1,000 messages of 10 columns a commit).
 * Every string element is quoted (an empty string, a comma, a brace or a space stays itself); numbers
 * are written as they are. No NULL elements.
 */
export function arrayLiteral(values: readonly (string | number)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i) out += ',';
    if (typeof v === 'number') out += String(v);
    else out += '"' + (NEEDS_ESCAPE.test(v) ? v.replace(/["\\]/g, '\\$&') : v) + '"';
  }
  return out + '}';
}
