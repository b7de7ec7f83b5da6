/**
 * npm run demo — the whole product in a minute: the hub (the `npm start` entry) with demo data, the
 * demo helpdesk beside it, and the URLs to open, the messaging center's too (web/demo/messaging.ts:
 * notification definitions, an appointment reminder, an admin token). Emails are captured to
 * data-demo/outbox/; the escalation delay is 15 s so an "emailed" mark shows up quickly.
 *
 *   PARLEY_DEMO_PORT (hub, default 8080), PARLEY_DEMO_HELPDESK_PORT (default 8081)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_PEOPLE, seedDemo, startHelpdesk, type DemoData } from './helpdesk.js';
import { adminUrl, seedMessagingCenter } from './messaging.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DATA_DIR = join(ROOT, 'data-demo');
const STATE_FILE = join(DATA_DIR, 'demo.json');
const HUB_PORT = Number(process.env.PARLEY_DEMO_PORT ?? 8080);
const HELPDESK_PORT = Number(process.env.PARLEY_DEMO_HELPDESK_PORT ?? 8081);
const ESCALATION_DELAY_MS = 15_000;

mkdirSync(DATA_DIR, { recursive: true });
type State = { apiKey: string; jwtSecret: string } & Partial<DemoData>;
const state: State = existsSync(STATE_FILE)
  ? (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State)
  : { apiKey: randomBytes(24).toString('base64url'), jwtSecret: randomBytes(32).toString('base64url') };

const log = createWriteStream(join(DATA_DIR, 'hub.log'), { flags: 'a' });
const hub = spawn(process.execPath, [join(ROOT, 'dist', 'server', 'main.js')], {
  cwd: ROOT,
  env: {
    ...process.env,
    PARLEY_PORT: String(HUB_PORT),
    PARLEY_DATA_DIR: DATA_DIR,
    PARLEY_API_KEY: state.apiKey,
    PARLEY_JWT_SECRET: state.jwtSecret,
    PARLEY_ESCALATION_DELAY_MS: String(ESCALATION_DELAY_MS),
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
hub.stderr.pipe(log);
const listening = new Promise<void>((resolveListening, reject) => {
  let seen = '';
  hub.stdout.on('data', (d: Buffer) => {
    log.write(d);
    seen += d.toString();
    if (/"msg":"listening"/.test(seen)) resolveListening();
  });
  hub.once('exit', (code) => reject(new Error(`the hub exited with ${code}; see ${join(DATA_DIR, 'hub.log')}`)));
});

try {
  await listening;
  const hubUrl = `http://127.0.0.1:${HUB_PORT}`;
  const access = { hubUrl, apiKey: state.apiKey, jwtSecret: state.jwtSecret };
  Object.assign(state, await seedDemo(access, state));
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
  const messaging = await seedMessagingCenter(access);
  const helpdesk = await startHelpdesk({ ...access, port: HELPDESK_PORT });
  const agents = DEMO_PEOPLE.filter((p) => p.kind === 'user');
  const at = new Date(messaging.reminderAt).toLocaleTimeString();
  console.log(`
Parley demo is running (hub log: data-demo/hub.log).

  Customer (widget on a host page):  ${helpdesk.url}/
${agents.map((a) => `  Agent app as ${a.name.padEnd(13)}  ${helpdesk.agentUrl(a.id)}`).join('\n')}

Write as the customer, answer as an agent. A message left unseen for ${ESCALATION_DELAY_MS / 1000} s is emailed:
the agent app then shows "Emailed", and the email is in data-demo/outbox/.

Messaging center (Alice, with an admin token; notification rules, templates, broadcasts, outbox):
  ${adminUrl(hubUrl, helpdesk.url, messaging.adminToken)}
Notification definitions imported from web/demo/notifications.yml (OTOBO's export format): ${[...messaging.imported.added, ...messaging.imported.updated].length}.
An appointment reminder falls due at ${at}, a minute from now: Alice and Bob get it in the agent app and by email.
Ctrl+C stops everything.
`);
  const stop = () => {
    hub.kill('SIGTERM');
    void helpdesk.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  console.error(String(err));
  hub.kill('SIGTERM');
  process.exit(1);
}
