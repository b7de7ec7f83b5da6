import { flag } from './otobo-tables.js';

/** Reading one raw entry of an OTOBO export: its scalars, its Data lists, and the keys Parley keeps. */

/** An entry that cannot become a definition; the message is shown to the admin as it is. */
export class EntryError extends Error {}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** A scalar as OTOBO (Perl) would read it: YAML's numbers and booleans become their text. */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return flag(v);
  return undefined;
}

export function checkKey(where: string, key: string): void {
  if (key === '__proto__') throw new EntryError(`${where}: the key __proto__ is not allowed`);
}

export function dataValues(key: string, v: unknown): string[] {
  // `Key:` with nothing after it is YAML's null: an empty list. A bare string is not a list (OTOBO fails on it too).
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new EntryError(`Data.${key}: must be a list of strings`);
  return v.map((x, i) => {
    const s = scalarText(x);
    if (s === undefined) throw new EntryError(`Data.${key}[${i}]: must be a string`);
    return s;
  });
}

/** The values of a Data key, each taken once; what is left at the end is unknown. */
export class DataReader {
  private readonly rest: Map<string, string[]>;
  readonly kept = new Map<string, string[]>();
  readonly warned: string[] = [];

  constructor(data: Map<string, string[]>) {
    this.rest = new Map(data);
  }

  has(key: string): boolean {
    return this.rest.has(key);
  }

  take(key: string): string[] | undefined {
    const v = this.rest.get(key);
    this.rest.delete(key);
    return v;
  }

  /** Keep values Parley cannot act on, to write them again; one warning per key. */
  keep(key: string, values: string[], evenIfEmpty = false): void {
    if (!values.length && !evenIfEmpty) return;
    this.kept.set(key, [...(this.kept.get(key) ?? []), ...values]);
    if (!this.warned.includes(key)) this.warned.push(key);
  }

  /** Split a list-valued key into the values `map` knows and the rest (kept). */
  partition<T>(key: string, map: ReadonlyMap<string, T>): T[] | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    const known: T[] = [];
    const unknown: string[] = [];
    for (const x of v) {
      const m = map.get(x);
      if (m === undefined) unknown.push(x);
      else known.push(m);
    }
    this.keep(key, unknown);
    return known;
  }

  /** A single-valued key: the value `map` knows, else the whole list is kept. */
  single<T>(key: string, map: ReadonlyMap<string, T>): T | undefined {
    const v = this.take(key);
    if (v === undefined || v.length === 0) return undefined;
    const m = map.get(v[0] as string);
    if (m === undefined) this.keep(key, v);
    return m;
  }

  remaining(): IterableIterator<[string, string[]]> {
    return this.rest.entries();
  }
}
