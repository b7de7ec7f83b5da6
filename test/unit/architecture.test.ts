import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/hub.js';

/** Every import specifier of every .ts file under `dir`, with the file it appears in. */
function imports(dir: string): Array<{ file: string; spec: string; target: string }> {
  const out: Array<{ file: string; spec: string; target: string }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8');
        for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
          const spec = (m[1] ?? m[2] ?? m[3])!;
          const target = spec.startsWith('.') ? relative(ROOT, resolve(dirname(p), spec)) : spec;
          out.push({ file: relative(ROOT, p), spec, target });
        }
      }
    }
  };
  walk(join(ROOT, dir));
  return out;
}

/** Whether every import of `spec` in `file` is `import type` / `export type` (erased at build). */
function typeOnly(file: string, spec: string): boolean {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const statements = [...text.matchAll(/(import|export)\s([^;]*?)from\s+['"]([^'"]+)['"]/g)].filter((m) => m[3] === spec);
  return statements.every((m) => m[2]!.trimStart().startsWith('type '));
}

const isOurs = (t: string) => /^(server|protocol|client-sdk|bench|test)\//.test(t);

describe('the dependency rule (DESIGN §2)', () => {
  it('keeps protocol/ a leaf that imports only zod', () => {
    const bad = imports('protocol').filter((i) => !(i.spec === 'zod' || i.target.startsWith('protocol/')));
    expect(bad).toEqual([]);
  });

  it('keeps core/ free of adapters, transport, drivers and Node I/O', () => {
    const allowedPackages = new Set(['zod', 'nanoid']);
    const bad = imports('server/core').filter((i) => {
      if (isOurs(i.target)) return !(i.target.startsWith('server/core/') || i.target.startsWith('protocol/'));
      return !allowedPackages.has(i.spec);
    });
    expect(bad).toEqual([]);
  });

  it('lets only transport/ import uWebSockets.js (and the raw-uWS peer of the benchmark)', () => {
    const all = [...imports('server'), ...imports('protocol'), ...imports('client-sdk'), ...imports('bench')];
    const bad = all.filter((i) => i.spec === 'uWebSockets.js' && !i.file.startsWith('server/transport/') && i.file !== 'bench/peers/uws-raw.ts');
    expect(bad).toEqual([]);
    // The scan must see the one legitimate importer, or it is scanning nothing.
    expect(all.some((i) => i.spec === 'uWebSockets.js')).toBe(true);
  });

  it('lets only the sqlite and postgres adapters import the database drivers', () => {
    const drivers = /^(better-sqlite3|drizzle-orm|pg$)/;
    const bad = imports('server').filter((i) => drivers.test(i.spec) && !i.file.startsWith('server/adapters/sqlite/') && !i.file.startsWith('server/adapters/postgres/'));
    expect(bad).toEqual([]);
  });

  it('keeps client-sdk/ to itself and protocol types; only its Node entry imports ws', () => {
    const found = imports('client-sdk').filter((i) => !i.file.startsWith('client-sdk/examples/'));
    const bad = found.filter((i) => {
      if (i.target.startsWith('client-sdk/')) return false;
      if (i.target.startsWith('protocol/')) return !typeOnly(i.file, i.spec);
      // 'parley/client' is the package's own export, named in the Node entry's @example.
      return !((i.spec === 'ws' || i.spec === 'parley/client') && i.file === 'client-sdk/node.ts');
    });
    expect(bad).toEqual([]);
    expect(found.some((i) => i.target.startsWith('protocol/'))).toBe(true);
  });

  it('keeps adapters from importing the transport', () => {
    const bad = imports('server/adapters').filter((i) => i.target.startsWith('server/transport/'));
    expect(bad).toEqual([]);
  });
});
