import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './hub.js';

/** Where the browser tests save their screenshots (a reviewer looks at them). */
export const SHOTS = join(ROOT, 'test-results', 'e2e');

/**
 * Debian's Chromium (CHROMIUM_PATH points elsewhere), headless, with nothing of its own reaching for
 * the network: this machine's network is closed and Chromium's background connections are refused.
 */
export function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * Runs axe-core on the page (the context needs `bypassCSP`: axe is injected as a script of the test's);
 * prints every violation into the test output and returns the serious and critical ones.
 */
export async function axeSerious(page: Page, name: string): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  const { passes, violations } = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }).axe.run();
    return {
      passes: r.passes.length,
      violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })),
    };
  });
  console.log(`axe ${name}: ${passes} rules pass, ${violations.length} violation(s)`);
  for (const v of violations) console.log(`  [${v.impact}] ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('\n')}`);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
