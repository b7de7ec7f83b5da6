import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, ROOT, TestHub } from '../support/hub.js';

/** The tour's shell block from the README, with the lines that point at the default hub left out. */
function tourScript(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /## A tour[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README has no tour block');
  return block
    .split('\n')
    .filter((l) => !/^(PARLEY|KEY)=/.test(l))
    .join('\n');
}

describe('the README tour', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
  });
  afterAll(() => hub.stop());

  it('runs as written against a fresh hub and ends with both messages stored', async () => {
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', tourScript()], {
      cwd: ROOT,
      env: { ...process.env, PARLEY: hub.url, KEY: API_KEY },
      timeout: 60_000,
    });
    expect(stdout).toContain('tour: done');
    const last = stdout.trim().split('\n').at(-1)!;
    const page = JSON.parse(last) as { messages: Array<{ body: string; senderId: string }> };
    expect(page.messages.map((m) => [m.senderId, m.body])).toEqual([
      ['alice', 'Hello Carol, how can we help?'],
      ['carol', 'My printer is on fire.'],
    ]);
    // The tour's `npm run tour` builds first: on a loaded 2-core machine that alone can take 30 s.
  }, 90_000);
});
