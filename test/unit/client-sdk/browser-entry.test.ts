import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { CloseCode, PROTOCOL_VERSION } from '../../../protocol/index.js';
import { ROOT } from '../../support/hub.js';

/** The browser entry as a page gets it: bundled and minified by esbuild, nothing external. */
async function bundle(entry: string) {
  const result = await build({
    entryPoints: [`${ROOT}/client-sdk/${entry}`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.contents, inputs: Object.keys(result.metafile.inputs) };
}

describe('client SDK browser entry', () => {
  it('imports nothing from node: and no Node-only package, and carries no zod', async () => {
    const { inputs } = await bundle('browser.ts');
    expect(inputs.filter((i) => i.startsWith('node:') || i.includes('node_modules'))).toEqual([]);
    expect(inputs.every((i) => i.startsWith('client-sdk/'))).toBe(true);
  });

  it('is at most 10 KB minified and gzipped', async () => {
    const { code } = await bundle('browser.ts');
    expect(gzipSync(code).length).toBeLessThanOrEqual(10 * 1024);
  });

  it('the Node entry differs only by its socket: it is the one that imports ws', async () => {
    const result = await build({ entryPoints: [`${ROOT}/client-sdk/node.ts`], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent', external: ['ws'] });
    expect(Object.values(result.metafile.outputs)[0]!.imports.map((i) => i.path)).toContain('ws');
  });

  it('restates the protocol numbers it acts on exactly as protocol/ defines them', async () => {
    const source = (await import('node:fs')).readFileSync(`${ROOT}/client-sdk/parley-client.ts`, 'utf8');
    const constant = (name: string) => Number(new RegExp(`const ${name} = (\\d+);`).exec(source)?.[1]);
    expect(constant('PROTOCOL_VERSION')).toBe(PROTOCOL_VERSION);
    expect(constant('CLOSE_FORBIDDEN')).toBe(CloseCode.FORBIDDEN);
    expect(constant('CLOSE_PROTOCOL_VIOLATION')).toBe(CloseCode.PROTOCOL_VIOLATION);
    expect(constant('CLOSE_UNAUTHENTICATED')).toBe(CloseCode.UNAUTHENTICATED);
  });
});
