// Builds the browser assets into dist/assets/: the SDK's browser entry, the customer widget (one script
// tag), the customer page (/chat/) and the agent messenger. Run by `npm run build`; fails if the SDK bundle passes 10 KB gzipped.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'assets');
const SDK_BUDGET_BYTES = 10 * 1024;

const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: 'es2020',
  platform: 'browser',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
  legalComments: 'none',
};

await Promise.all([
  build({ ...common, entryPoints: [join(ROOT, 'client-sdk', 'browser.ts')], format: 'esm', outfile: join(OUT, 'sdk', 'parley-client.js') }),
  build({ ...common, entryPoints: [join(ROOT, 'web', 'widget', 'main.tsx')], format: 'iife', outfile: join(OUT, 'widget.js') }),
  build({ ...common, entryPoints: [join(ROOT, 'web', 'agent', 'main.tsx')], format: 'iife', outfile: join(OUT, 'app', 'app.js') }),
  build({ ...common, entryPoints: [join(ROOT, 'web', 'chat', 'main.tsx')], format: 'iife', outfile: join(OUT, 'chat', 'chat.js') }),
]);
mkdirSync(join(OUT, 'app'), { recursive: true });
for (const f of ['index.html', 'app.css']) copyFileSync(join(ROOT, 'web', 'agent', f), join(OUT, 'app', f));
// The customer page (/chat/): its HTML, and its CSS from web/widget/styles.ts (the hub's CSP allows no inline styles).
copyFileSync(join(ROOT, 'web', 'chat', 'index.html'), join(OUT, 'chat', 'index.html'));
const styles = await build({ ...common, sourcemap: false, minify: false, entryPoints: [join(ROOT, 'web', 'widget', 'styles.ts')], format: 'esm', write: false });
const { CHAT_CSS } = await import(`data:text/javascript;base64,${Buffer.from(styles.outputFiles[0].text).toString('base64')}`);
writeFileSync(join(OUT, 'chat', 'chat.css'), CHAT_CSS);

const sdk = readFileSync(join(OUT, 'sdk', 'parley-client.js'));
const gz = gzipSync(sdk).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`web: client SDK ${kb(sdk.length)} minified, ${kb(gz)} gzipped (budget ${kb(SDK_BUDGET_BYTES)}); widget ${kb(gzipSync(readFileSync(join(OUT, 'widget.js'))).length)} gzipped; agent app ${kb(gzipSync(readFileSync(join(OUT, 'app', 'app.js'))).length)} gzipped`);
if (gz > SDK_BUDGET_BYTES) {
  console.error(`web: the client SDK is ${kb(gz)} gzipped, over its ${kb(SDK_BUDGET_BYTES)} budget`);
  process.exit(1);
}
