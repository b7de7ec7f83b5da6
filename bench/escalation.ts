/**
 * bench:escalation — the whole escalation path in one process, through the real parts: HostApi and
 * Hub (messages committed by SqliteStore), Escalation (timer wheel), LiquidComposer, the outbox
 * worker and nodemailer's pooled SMTP transport to a local SMTP sink (smtp-server).
 *
 * 100,000 messages from customers into 10,000 conversations of 1 customer and 3 agents (10 each).
 * Before they fall due, every agent sees the first half of each conversation; so each (agent,
 * conversation) gets one email holding the 5 unseen messages: 30,000 emails.
 *
 *   npm run bench:escalation [-- --conversations 10000 --per 10 --delay 8000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { SmtpMailer } from '../server/adapters/email/smtp-mailer.js';
import type { Logger } from '../server/core/ports/index.js';
import { loadConfig } from '../server/config.js';
import { createParley, NULL_METRICS } from '../server/parley.js';
import { MemoryBus } from '../server/adapters/memory/bus.js';

const { values } = parseArgs({
  options: {
    conversations: { type: 'string', default: '10000' },
    per: { type: 'string', default: '10' },
    delay: { type: 'string', default: '8000' },
    agents: { type: 'string', default: '30' },
  },
});
const CONVERSATIONS = Number(values.conversations);
const PER = Number(values.per);
const DELAY_MS = Number(values.delay);
const AGENTS = Number(values.agents);
const SEEN = Math.floor(PER / 2);
const WATCHDOG_MS = 600_000;

const quiet: Logger = { info() {}, warn() {}, error: (m, f) => console.error(m, f) };
const noop = () => {};


setTimeout(() => {
  console.error('bench:escalation: watchdog fired');
  process.exit(1);
}, WATCHDOG_MS).unref();

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

// The SMTP sink: counts messages, keeps nothing.
let received = 0;
const sink = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, _session, cb) {
    stream.on('data', noop);
    stream.on('end', () => {
      received++;
      cb();
    });
  },
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
const smtpPort = (sink.server.address() as { port: number }).port;

const dir = mkdtempSync(join(tmpdir(), 'parley-bench-escalation-'));
const config = loadConfig({
  PARLEY_DATA_DIR: dir,
  PARLEY_API_KEY: 'bench-api-key-0123456789',
  PARLEY_JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
  PARLEY_ESCALATION_DELAY_MS: String(DELAY_MS),
  PARLEY_APP_URL: 'http://localhost:8080',
});
const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${smtpPort}`, maxConnections: 16 });
const { hub, api, directoryApi, store, escalation, outbox } = await createParley(config, { logger: quiet, metrics: NULL_METRICS, mailer, bus: new MemoryBus(noop), outboxConcurrency: 32 });

// Setup (not timed): agents, customers, conversations.
for (let a = 0; a < AGENTS; a++) await directoryApi.putParticipant(`agent${a}`, { kind: 'user', name: `Agent ${a}`, email: `agent${a}@example.com`, timezone: 'Europe/Berlin', locale: 'de' });
const convs: string[] = [];
for (let i = 0; i < CONVERSATIONS; i++) {
  await directoryApi.putParticipant(`cust${i}`, { kind: 'customer', name: `Customer ${i}`, email: `cust${i}@example.org` });
  const agents = [0, 1, 2].map((k) => `agent${(i + k) % AGENTS}`);
  const c = await api.createConversation({ kind: 'direct', createdBy: agents[0]!, members: [`cust${i}`, agents[1]!, agents[2]!], subject: `Order ${i}` });
  convs.push(c.id);
}
await new Promise((r) => setTimeout(r, 5));

// Post: 100,000 messages, a turn of 1,000 at a time (group commit as under load).
const t0 = performance.now();
const total = CONVERSATIONS * PER;
for (let k = 0; k < total; k += 1000) {
  const turn: Promise<unknown>[] = [];
  for (let j = k; j < Math.min(total, k + 1000); j++) {
    const i = j % CONVERSATIONS;
    const c = hub.directory.conversations.get(convs[i]!)!;
    turn.push(hub.post(hub.directory.participants.get(`cust${i}`)!, c, { body: `Message ${j}: where is my order?`, format: 'text', clientMsgId: `m${j}`, source: 'api' }));
  }
  await Promise.all(turn);
}
const postSeconds = (performance.now() - t0) / 1000;
const firstDue = Date.now() + DELAY_MS - (performance.now() - t0);

// Half seen before due: every agent sees the first half of each conversation.
const t1 = performance.now();
for (let i = 0; i < CONVERSATIONS; i++) {
  const c = hub.directory.conversations.get(convs[i]!)!;
  await Promise.all([...c.members.keys()].filter((id) => id.startsWith('agent')).map((id) => hub.markSeen(hub.directory.participants.get(id)!, c, SEEN)));
}
const seenSeconds = (performance.now() - t1) / 1000;
if (Date.now() >= firstDue) console.error('warning: the seen marks took longer than the delay; raise --delay');

const expected = CONVERSATIONS * 3;
const pendingTimers = escalation.pending;
while (received < expected) {
  if (Date.now() > firstDue + WATCHDOG_MS / 2) break;
  await new Promise((r) => setTimeout(r, 100));
}
const drainSeconds = (Date.now() - firstDue) / 1000;
await new Promise((r) => setTimeout(r, 1000));
const queuedRows = await store.listEmails(0, 1_000_000);

clearInterval(sampler);
escalation.stop();
outbox.stop();
await mailer.close();
await store.close();
sink.close();
rmSync(dir, { recursive: true, force: true });

const fmt = (n: number) => Math.round(n).toLocaleString('en');
console.log('');
console.log('bench:escalation — 1 customer + 3 agents per conversation, half of each conversation seen before due');
console.log('');
console.log('| messages | conversations | timers pending | emails expected | emails received | outbox rows | post (msg/s) | first due → outbox drained | emails/s | peak RSS |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
console.log(
  `| ${fmt(total)} | ${fmt(CONVERSATIONS)} | ${fmt(pendingTimers)} | ${fmt(expected)} | ${fmt(received)} | ${fmt(queuedRows.length)} | ${fmt(total / postSeconds)} | ${drainSeconds.toFixed(1)} s | ${fmt(received / drainSeconds)} | ${fmt(peakRss / 1048576)} MB |`,
);
console.log('');
console.log(`(seen marks for ${fmt(CONVERSATIONS * 3)} pairs took ${seenSeconds.toFixed(1)} s)`);
process.exit(received === expected && queuedRows.length === expected ? 0 : 1);
