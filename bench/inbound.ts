/**
 * bench:inbound — inbound replies per second through the whole email-in pipeline of a hub assembled in
 * process (`parley.inbound.receive(raw, envelope)`): parse (postal-mime), dedupe, auto-reply and loop
 * signs, the signed reply address, the sender check, quote stripping (marker, html-to-text), the post
 * (group commit, fan-out, escalation timers) and the inbound log row with its raw source. SQLite in a
 * temp dir, PARLEY_INBOUND_DOMAIN set, no sockets.
 *
 * Setup (not timed): agents and customers, one direct conversation per customer with an agent, and each
 * (conversation, customer)'s reply address from HmacReplyAddresses built over the hub's own keys, domain
 * and store (the same address escalation would put in Reply-To). Each email is a ~20 KB Gmail-shaped
 * reply: three lines of new text, a long quoted history under our marker line, multipart/alternative
 * with a quoted-printable HTML part, a unique Message-ID. They are fed with a bounded number in flight,
 * like an MTA's parallel deliveries. Every one must be posted (a check is printed; exit 1 if not).
 * A customer sends 5 emails a run, under the loop guard's 20 per sender and hour (SPEC §8).
 *
 * A second row sends over real SMTP: the hub's listener (PARLEY_INBOUND_SMTP_PORT=0) and nodemailer's
 * pooled transport with 8 connections, end to end (RCPT TO check, DATA, the same pipeline, 250).
 *
 *   npm run bench:inbound [-- --emails 5000 --concurrency 16 --runs 3 --smtp-emails 2000]
 *   node dist/bench/inbound.js --quick   (500 emails, one run; asserts no timing)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { HmacReplyAddresses } from '../server/adapters/email-in/reply-addresses.js';
import { PostalReader } from '../server/adapters/email-in/postal-reader.js';
import { MemoryBus } from '../server/adapters/memory/bus.js';
import { SystemClock } from '../server/adapters/system/system-clock.js';
import { loadConfig } from '../server/config.js';
import { REPLY_MARKER, type Envelope } from '../server/core/inbound/inbound-mail.js';
import type { Logger } from '../server/core/ports/index.js';
import { createParley, NULL_METRICS, type Parley } from '../server/parley.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    emails: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    runs: { type: 'string' },
    'smtp-emails': { type: 'string' },
    'smtp-connections': { type: 'string', default: '8' },
    'no-smtp': { type: 'boolean', default: false },
  },
});
const QUICK = values.quick;
const EMAILS = Number(values.emails ?? (QUICK ? 500 : 5000));
const RUNS = Number(values.runs ?? (QUICK ? 1 : 3));
const CONCURRENCY = Number(values.concurrency);
const SMTP_EMAILS = values['no-smtp'] ? 0 : Number(values['smtp-emails'] ?? (QUICK ? 200 : 2000));
const SMTP_CONNECTIONS = Number(values['smtp-connections']);
/** Emails per customer in one run: the loop guard ignores more than 20 from one sender in an hour. */
const PER_CUSTOMER = 5;
const AGENTS = 20;
/** Earlier messages quoted in each reply: ~20 KB emails. */
const HISTORY = 8;
const TARGET_PER_S = 300;
const DOMAIN = 'reply.example.org';
const WATCHDOG_MS = QUICK ? 120_000 : 900_000;

setTimeout(() => {
  console.error('bench:inbound: watchdog fired');
  process.exit(1);
}, WATCHDOG_MS).unref();

/** Quiet, but keeps the SMTP listener's port (logged as "inbound smtp listening"). */
let smtpPort = 0;
const logger: Logger = {
  info(msg, fields) {
    if (msg === 'inbound smtp listening') smtpPort = Number((fields as { port?: number } | undefined)?.port);
  },
  warn() {},
  error: (m, f) => console.error(m, f),
};

// ---------------------------------------------------------------------------------------------------
// The emails: a Gmail-shaped reply, ~20 KB, most of it quoted history.

const SENTENCES = [
  'Your parcel left our warehouse today and should arrive within two to three working days.',
  'We checked the order again and the invoice address is the one you gave us on the phone.',
  'The replacement part is on back order; our supplier promised it for the end of next week.',
  'Could you send us a photo of the damaged packaging, so that we can file the claim with the carrier?',
  'Thank you for your patience – we know this took longer than it should have.',
  'The refund was issued this morning; depending on your bank it shows up in three to five days.',
  'I have forwarded your question to our logistics team, who will get back to you directly.',
  'Please note that the tracking page is only updated once the carrier scans the parcel at the depot.',
  'We are sorry for the inconvenience and added a voucher for your next order to your account.',
  'If the delivery address needs to change, please tell us before the parcel is handed to the carrier.',
];
const NEW_TEXT = (i: number) => `Thanks, the tracking number works now (ticket ${i}).\nCould you also update the delivery address to Lindenstraße 12?\nBest, and have a good week`;

/** Quoted-printable (RFC 2045): `=` and non-ASCII escaped, soft line breaks at 76. */
function qp(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let enc = '';
    for (const byte of Buffer.from(line, 'utf8')) enc += byte === 0x3d || byte > 0x7e || (byte < 0x20 && byte !== 0x09) ? `=${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
    while (enc.length > 76) {
      let cut = 75;
      // Never split an =XX escape.
      if (enc[cut - 1] === '=') cut -= 1;
      else if (enc[cut - 2] === '=') cut -= 2;
      out.push(enc.slice(0, cut) + '=');
      enc = enc.slice(cut);
    }
    out.push(enc);
  }
  return out.join('\r\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The earlier messages of the thread, newest first: [author, paragraphs]. */
function history(seed: number, count: number): Array<[string, string[]]> {
  const h: Array<[string, string[]]> = [];
  for (let k = 0; k < count; k++) {
    const paras: string[] = [];
    for (let p = 0; p < 3; p++) paras.push([0, 1, 2].map((s) => SENTENCES[(seed + k * 7 + p * 3 + s) % SENTENCES.length]).join(' '));
    h.push([k % 2 ? 'Anna Kowalski' : 'Ben Agent', paras]);
  }
  return h;
}

/** Wraps at 72 like a mail client's plain part. */
function wrap(text: string, width = 72): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

interface Recipient {
  conversationId: string;
  participantId: string;
  email: string;
  name: string;
  replyAddress: string;
  subject: string;
}

/** Quoted history depends only on the conversation; built once per recipient and reused. */
const historyCache = new Map<string, { plain: string; html: string }>();
function quotedHistory(r: Recipient, seed: number): { plain: string; html: string } {
  let h = historyCache.get(r.replyAddress);
  if (h) return h;
  const msgs = history(seed, HISTORY);
  const plain: string[] = [`> ${REPLY_MARKER}`, '>', `> Ben Agent wrote in "${r.subject}":`, '>'];
  const html: string[] = [`<div style="color:#888">${REPLY_MARKER}</div>`, `<p>Ben Agent wrote in &quot;${esc(r.subject)}&quot;:</p>`];
  msgs.forEach(([author, paras], k) => {
    const depth = '>'.repeat(1 + Math.min(k, 3));
    plain.push(`${depth} On Mon, Dec ${7 - Math.min(k, 6)}, 2026 at ${9 + (k % 8)}:${String(10 + k).padStart(2, '0')} AM ${author} wrote:`, depth);
    for (const p of paras) {
      for (const l of wrap(p)) plain.push(`${depth} ${l}`);
      plain.push(depth);
    }
    html.push(`<div class="gmail_attr">On Mon, Dec ${7 - Math.min(k, 6)}, 2026 ${esc(author)} wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">`);
    for (const p of paras) html.push(`<p style="margin:0 0 12px 0;font-family:Arial,Helvetica,sans-serif;font-size:14px">${esc(p)}</p>`);
  });
  for (let k = 0; k < msgs.length; k++) html.push('</blockquote>');
  plain.push('> --', '> You receive this email because you take part in this conversation.', '>');
  html.push('<p style="color:#888">You receive this email because you take part in this conversation.</p>');
  h = { plain: plain.join('\n'), html: html.join('\n') };
  historyCache.set(r.replyAddress, h);
  return h;
}

function buildEmail(r: Recipient, i: number, messageId: string, seed: number): Buffer {
  const q = quotedHistory(r, seed);
  const text = NEW_TEXT(i);
  const boundary = `000000000000${(0xa1b2c3 + i).toString(16)}e5f60718`;
  const plain = `${text}\n\nOn Mon, Dec 7, 2026 at 2:45 PM Parley Support <${r.replyAddress}>\nwrote:\n\n${q.plain}\n`;
  const html =
    `<div dir="ltr">${text
      .split('\n')
      .map((l) => `<div>${esc(l)}</div>`)
      .join('')}</div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Mon, Dec 7, 2026 at 2:45 PM Parley Support &lt;<a href="mailto:${r.replyAddress}">${r.replyAddress}</a>&gt; wrote:<br></div>` +
    `<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">\n${q.html}\n</blockquote></div>\n`;
  const headers = [
    `Return-Path: <${r.email}>`,
    `Delivered-To: ${r.replyAddress}`,
    'Received: from mail-wr1-f41.google.example.com (mail-wr1-f41.google.example.com [192.0.2.41])',
    `\tby mx.example.org (Postfix) with ESMTPS id 4Rk2Lq0Zx${i.toString(36)}`,
    `\tfor <${r.replyAddress}>; Mon,  7 Dec 2026 14:02:11 +0000 (UTC)`,
    'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=20230601; t=1796652131;',
    '\th=to:subject:message-id:date:from:in-reply-to:references:mime-version;',
    '\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;',
    '\tb=Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy',
    'MIME-Version: 1.0',
    `References: <parley.${r.conversationId}.m${seed}@example.org>`,
    `In-Reply-To: <parley.${r.conversationId}.m${seed}@example.org>`,
    `From: ${r.name} <${r.email}>`,
    'Date: Mon, 7 Dec 2026 15:02:03 +0100',
    `Message-ID: <${messageId}>`,
    `Subject: Re: [Parley] New message in "${r.subject}"`,
    `To: Parley Support <${r.replyAddress}>`,
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const body = [
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="UTF-8"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    qp(plain),
    `--${boundary}`,
    'Content-Type: text/html; charset="UTF-8"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    qp(html),
    `--${boundary}--`,
    '',
  ];
  return Buffer.from([...headers, ...body].join('\r\n'), 'utf8');
}

// ---------------------------------------------------------------------------------------------------
// The hub.

interface Bench {
  parley: Parley;
  dir: string;
  recipients: Recipient[];
}

async function startHub(customers: number, smtp: boolean): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-inbound-'));
  const config = loadConfig({
    PARLEY_DATA_DIR: dir,
    PARLEY_API_KEY: 'bench-api-key-0123456789',
    PARLEY_JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
    PARLEY_APP_URL: 'http://localhost:8080',
    PARLEY_MAIL_FROM: 'Parley <parley@example.org>',
    PARLEY_INBOUND_DOMAIN: DOMAIN,
    // No escalation email falls due while the bench runs (each reply arms the agent's timer).
    PARLEY_ESCALATION_DELAY_MS: '3600000',
    ...(smtp ? { PARLEY_INBOUND_SMTP_PORT: '0' } : {}),
  });
  smtpPort = 0;
  const parley = await createParley(config, { logger, metrics: NULL_METRICS, bus: new MemoryBus(() => {}) });
  const addresses = new HmacReplyAddresses({ domain: config.inbound.domain!, keys: config.inbound.replyKeys, store: parley.store, clock: new SystemClock() });
  for (let a = 0; a < AGENTS; a++) await parley.directoryApi.putParticipant(`agent${a}`, { kind: 'user', name: `Agent ${a}`, email: `agent${a}@example.com`, timezone: 'Europe/Berlin', locale: 'de' });
  const recipients: Recipient[] = [];
  for (let i = 0; i < customers; i++) {
    const id = `cust${i}`;
    const email = `customer${i}@example.net`;
    const name = `Customer ${i}`;
    await parley.directoryApi.putParticipant(id, { kind: 'customer', name, email });
    const subject = `Order ${10000 + i} delayed`;
    const c = await parley.api.createConversation({ kind: 'direct', createdBy: `agent${i % AGENTS}`, members: [id], subject });
    recipients.push({ conversationId: c.id, participantId: id, email, name, subject, replyAddress: await addresses.replyAddress(c.id, id) });
  }
  // Messages must be later than the conversations' creation (the same millisecond would be "before").
  await new Promise((r) => setTimeout(r, 5));
  return { parley, dir, recipients };
}

async function stopHub(b: Bench): Promise<void> {
  await b.parley.stop();
  rmSync(b.dir, { recursive: true, force: true });
}

function emailsFor(b: Bench, n: number, tag: string): Array<{ raw: Buffer; envelope: Envelope }> {
  const out: Array<{ raw: Buffer; envelope: Envelope }> = [];
  for (let i = 0; i < n; i++) {
    const r = b.recipients[i % b.recipients.length]!;
    const raw = buildEmail(r, i, `CAB${tag}${i.toString(36)}.${r.participantId}@mail.example.com`, i % b.recipients.length);
    out.push({ raw, envelope: { mailFrom: r.email, rcptTo: [r.replyAddress], clientIp: '192.0.2.41', helo: 'mail-wr1-f41.google.example.com' } });
  }
  return out;
}

/** Runs `fn` over 0..n-1 with at most `k` in flight; returns each call's latency in ms. */
async function pool(n: number, k: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const lat = new Array<number>(n);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const t = performance.now();
      await fn(i);
      lat[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: Math.min(k, n) }, worker));
  return lat;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (xs: number[]) => pct(xs, 50);

interface RunResult {
  perS: number;
  p50: number;
  p99: number;
  posted: number;
  logged: number;
  sent: number;
  bytes: number;
  /** This process's CPU (all threads) per email, ms. */
  cpuMs: number;
  outcomes: Map<string, number>;
}

async function countLogged(b: Bench): Promise<number> {
  const rows = await b.parley.store.listInbound(0, 1_000_000);
  return rows.filter((r) => r.status === 'posted').length;
}

/** In process: `parley.inbound.receive` with CONCURRENCY in flight. */
async function inProcessRun(run: number): Promise<RunResult> {
  const b = await startHub(Math.ceil(EMAILS / PER_CUSTOMER), false);
  try {
    const warm = emailsFor(b, Math.min(200, b.recipients.length), `w${run}x`);
    await pool(warm.length, CONCURRENCY, async (i) => void (await b.parley.inbound.receive(warm[i]!.raw, warm[i]!.envelope)));
    const emails = emailsFor(b, EMAILS, `r${run}x`);
    const outcomes = new Map<string, number>();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const lat = await pool(emails.length, CONCURRENCY, async (i) => {
      const o = await b.parley.inbound.receive(emails[i]!.raw, emails[i]!.envelope);
      const k = o.reason ? `${o.status}:${o.reason}` : o.status;
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const logged = (await countLogged(b)) - warm.length;
    return { perS: EMAILS / seconds, p50: pct(lat, 50), p99: pct(lat, 99), posted: outcomes.get('posted') ?? 0, logged, sent: EMAILS, bytes: emails.reduce((s, e) => s + e.raw.byteLength, 0) / EMAILS, cpuMs: (cpu.user + cpu.system) / 1000 / EMAILS, outcomes };
  } finally {
    await stopHub(b);
  }
}

/** Over SMTP: the hub's listener, nodemailer's pooled transport, SMTP_CONNECTIONS in flight. */
async function smtpRun(run: number): Promise<RunResult> {
  const b = await startHub(Math.ceil(SMTP_EMAILS / PER_CUSTOMER), true);
  if (!smtpPort) throw new Error('no "inbound smtp listening" port logged');
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: SMTP_CONNECTIONS, maxMessages: Infinity });
  try {
    const warm = emailsFor(b, Math.min(100, b.recipients.length), `sw${run}x`);
    await pool(warm.length, SMTP_CONNECTIONS, async (i) => void (await transport.sendMail({ envelope: { from: warm[i]!.envelope.mailFrom, to: warm[i]!.envelope.rcptTo }, raw: warm[i]!.raw })));
    const emails = emailsFor(b, SMTP_EMAILS, `s${run}x`);
    let accepted = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const lat = await pool(emails.length, SMTP_CONNECTIONS, async (i) => {
      const info = await transport.sendMail({ envelope: { from: emails[i]!.envelope.mailFrom, to: emails[i]!.envelope.rcptTo }, raw: emails[i]!.raw });
      if (info.accepted.length === 1) accepted++;
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const posted = (await countLogged(b)) - warm.length;
    return { perS: SMTP_EMAILS / seconds, p50: pct(lat, 50), p99: pct(lat, 99), posted, logged: posted, sent: SMTP_EMAILS, bytes: emails.reduce((s, e) => s + e.raw.byteLength, 0) / SMTP_EMAILS, cpuMs: (cpu.user + cpu.system) / 1000 / SMTP_EMAILS, outcomes: new Map([['accepted (250)', accepted]]) };
  } finally {
    transport.close();
    await stopHub(b);
  }
}

// A sanity check outside the timing: the new text is what quote stripping keeps of one of our emails.
{
  const r: Recipient = { conversationId: 'c0', participantId: 'cust0', email: 'customer0@example.net', name: 'Customer 0', replyAddress: `rabcdefghijklmnopqrstuvwxyz2345672@${DOMAIN}`, subject: 'Order 10000 delayed' };
  const reader = new PostalReader();
  const kept = reader.replyText(await reader.parse(buildEmail(r, 7, 'check@mail.example.com', 0)), REPLY_MARKER);
  historyCache.clear();
  if (kept !== NEW_TEXT(7)) {
    console.error(`bench:inbound: quote stripping kept ${JSON.stringify(kept.slice(0, 300))}, expected ${JSON.stringify(NEW_TEXT(7))}`);
    process.exit(1);
  }
}

const inProc: RunResult[] = [];
for (let run = 0; run < RUNS; run++) {
  console.error(`in process: run ${run + 1}/${RUNS}, ${EMAILS.toLocaleString('en')} emails`);
  inProc.push(await inProcessRun(run));
  historyCache.clear();
}
const smtp: RunResult[] = [];
if (SMTP_EMAILS > 0) {
  for (let run = 0; run < RUNS; run++) {
    console.error(`over SMTP: run ${run + 1}/${RUNS}, ${SMTP_EMAILS.toLocaleString('en')} emails`);
    smtp.push(await smtpRun(run));
    historyCache.clear();
  }
}

const f0 = (n: number) => Math.round(n).toLocaleString('en');
const f1 = (n: number) => n.toFixed(1);
const row = (name: string, xs: RunResult[], inFlight: number) => {
  const ok = xs.every((x) => x.posted === x.sent && x.logged === x.sent);
  const perS = median(xs.map((x) => x.perS));
  return {
    ok,
    perS,
    line: `| ${name} | ${f0(xs[0]!.sent)} | ${inFlight} | ${f1(median(xs.map((x) => x.bytes)) / 1024)} KB | **${f0(perS)}** | ${xs.map((x) => f0(x.perS)).join(', ')} | ${f1(median(xs.map((x) => x.p50)))} | ${f1(median(xs.map((x) => x.p99)))} | ${f1(median(xs.map((x) => x.cpuMs)))} | ${f0(1000 / median(xs.map((x) => x.cpuMs)))} | ${xs.map((x) => `${f0(x.posted)}/${f0(x.sent)}`).join(', ')} ${ok ? '✓' : '✗'} |`,
  };
};
const a = row('in process: `inbound.receive`', inProc, CONCURRENCY);
const s = smtp.length ? row(`SMTP: nodemailer pool → listener`, smtp, SMTP_CONNECTIONS) : null;
console.log('');
console.log(`bench:inbound — Gmail-shaped replies (multipart/alternative, quoted history, HTML part) to signed reply addresses, each posted to its direct conversation${QUICK ? ' (quick)' : ''}`);
console.log('');
console.log(`${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${RUNS} run(s), a fresh hub each, medians; ${Math.ceil(EMAILS / PER_CUSTOMER).toLocaleString('en')} customers × ${PER_CUSTOMER} emails.`);
console.log('');
console.log('| path | emails / run | in flight | size | emails/s (median) | emails/s (runs) | p50 ms | p99 ms | CPU ms / email | 1 core at that CPU, emails/s | posted and logged |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
console.log(a.line);
if (s) console.log(s.line);
console.log('');
const others = inProc.flatMap((x) => [...x.outcomes].filter(([k]) => k !== 'posted').map(([k, v]) => `${k} ${v}`));
console.log(`check: every email posted and logged: ${a.ok && (s?.ok ?? true) ? 'yes ✓' : `NO ✗ ${others.join(', ')}`}`);
const cpu = median(inProc.map((x) => x.cpuMs));
console.log(`target ≥ ${TARGET_PER_S} emails/s (20 KB, in process): ${f0(a.perS)}/s ${a.perS >= TARGET_PER_S ? 'met ✓' : 'MISSED ✗'}; CPU ${f1(cpu)} ms per email, i.e. ${f0(1000 / cpu)}/s where the process has a core to itself${QUICK ? ' (quick run: reported, not asserted)' : ''}`);
console.log(`(load average ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${availableParallelism()} cores: on a shared machine emails/s follows the CPU this process gets)`);
process.exit(a.ok && (s?.ok ?? true) ? 0 : 1);
