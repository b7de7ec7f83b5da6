import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpListener, type SmtpEnvelope, type SmtpListenerOptions } from '../../../server/adapters/email-in/smtp-listener.js';
import type { Logger } from '../../../server/core/ports/index.js';

const KNOWN = 'r1abcdefghijklmnopqrstuvwxyz234567@reply.example.com';
const SUPPORT = 'support@example.com';
const OTHER = 'someone@elsewhere.example.org';
const MAX_BYTES = 4096;

/** CRLF throughout, lines that need dot-stuffing, 8-bit text: the bytes `deliver` must see unchanged. */
const RAW = Buffer.from(
  [
    'From: Ann <ann@customer.example>',
    `To: ${KNOWN}`,
    'Subject: Re: Printer on fire',
    'Message-ID: <m1@customer.example>',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'It is still burning — zażółć gęślą jaźń.',
    '.a line that starts with a dot',
    '..and one with two',
    '',
  ].join('\r\n'),
);

interface LogEntry {
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown> | undefined;
}

interface Harness {
  listener: SmtpListener;
  port: number;
  delivered: Array<{ raw: Buffer; envelope: SmtpEnvelope }>;
  asked: string[];
  logs: LogEntry[];
}

const listeners: SmtpListener[] = [];
const tmpDirs: string[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'parley-smtp-'));
  tmpDirs.push(d);
  return d;
}

/** A real listener on port 0 that knows KNOWN and SUPPORT (and anything `extra` accepts). */
async function start(over: Partial<SmtpListenerOptions> & { extra?: (a: string) => boolean } = {}): Promise<Harness> {
  const delivered: Harness['delivered'] = [];
  const asked: string[] = [];
  const logs: LogEntry[] = [];
  const log = (level: LogEntry['level']) => (msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, fields });
  const logger: Logger = { info: log('info'), warn: log('warn'), error: log('error') };
  const { extra, ...rest } = over;
  const listener = new SmtpListener({
    host: '127.0.0.1',
    port: 0,
    maxBytes: MAX_BYTES,
    logger,
    acceptRecipient: (a) => {
      asked.push(a);
      return a === KNOWN || a === SUPPORT || (extra?.(a) ?? false);
    },
    deliver: async (raw, envelope) => {
      delivered.push({ raw, envelope });
    },
    ...rest,
  });
  listeners.push(listener);
  const port = await listener.listen();
  return { listener, port, delivered, asked, logs };
}

function client(port: number, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    tls: { rejectUnauthorized: false },
    name: 'mx.sender.test',
    ...extra,
  } as Parameters<typeof nodemailer.createTransport>[0]);
}

interface SmtpFailure {
  responseCode?: number;
  response?: string;
  command?: string;
}

async function failure(p: Promise<unknown>): Promise<SmtpFailure> {
  try {
    await p;
  } catch (e) {
    return e as SmtpFailure;
  }
  throw new Error('expected the SMTP transaction to fail');
}

describe('SmtpListener', () => {
  it('hands a message for a known recipient to deliver with its exact bytes and envelope', async () => {
    const h = await start();
    const info = await client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN.toUpperCase()] }, raw: RAW });
    expect(info.response).toMatch(/^250 /);
    expect(h.delivered).toHaveLength(1);
    expect(h.delivered[0]!.raw.equals(RAW)).toBe(true);
    expect(h.delivered[0]!.envelope).toEqual({ mailFrom: 'ann@customer.example', rcptTo: [KNOWN], clientIp: '127.0.0.1', helo: 'mx.sender.test' });
    // The recipient check sees the address lowercased.
    expect(h.asked).toEqual([KNOWN]);
  });

  it('passes the null sender as an empty mailFrom', async () => {
    const h = await start();
    await client(h.port).sendMail({ envelope: { from: '', to: [SUPPORT] }, raw: RAW });
    expect(h.delivered.map((d) => d.envelope.mailFrom)).toEqual(['']);
  });

  it('refuses an unknown recipient at RCPT TO with 550 5.1.1 and delivers nothing', async () => {
    const h = await start();
    const err = await failure(client(h.port).sendMail({ envelope: { from: 'spam@forged.example', to: [OTHER] }, raw: RAW }));
    expect(err.responseCode).toBe(550);
    expect(err.command).toBe('RCPT TO');
    expect(err.response).toMatch(/^550 5\.1\.1 /);
    expect(h.delivered).toEqual([]);
  });

  it('delivers a mixed envelope to the known recipient only', async () => {
    const h = await start();
    const info = await client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [OTHER, KNOWN] }, raw: RAW });
    expect(info.accepted).toEqual([KNOWN]);
    expect(info.rejected).toEqual([OTHER]);
    expect(h.delivered).toHaveLength(1);
    expect(h.delivered[0]!.envelope.rcptTo).toEqual([KNOWN]);
  });

  it('answers a message over maxBytes with 552 5.3.4 at DATA and delivers nothing', async () => {
    const h = await start();
    const big = Buffer.concat([RAW, Buffer.from(`${'y'.repeat(76)}\r\n`.repeat(Math.ceil(MAX_BYTES / 78)))]);
    expect(big.length).toBeGreaterThan(MAX_BYTES);
    const err = await failure(client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN] }, raw: big }));
    expect(err.responseCode).toBe(552);
    expect(err.command).toBe('DATA');
    expect(err.response).toMatch(/^552 5\.3\.4 /);
    expect(h.delivered).toEqual([]);
  });

  it('accepts a message of exactly maxBytes', async () => {
    const h = await start();
    const exact = Buffer.concat([RAW, Buffer.alloc(MAX_BYTES - RAW.length - 2, 'z'), Buffer.from('\r\n')]);
    expect(exact.length).toBe(MAX_BYTES);
    await client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN] }, raw: exact });
    expect(h.delivered.map((d) => d.raw.length)).toEqual([MAX_BYTES]);
  });

  it('answers 451 4.3.0 when deliver rejects, so the sender retries, and logs the failure', async () => {
    const h = await start({
      deliver: async () => {
        throw new Error('database is locked');
      },
    });
    const err = await failure(client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN] }, raw: RAW }));
    expect(err.responseCode).toBe(451);
    expect(err.response).toMatch(/^451 4\.3\.0 /);
    expect(h.logs.some((l) => l.level === 'error' && l.fields?.error === 'database is locked')).toBe(true);
  });

  it('answers 451 when the recipient check itself fails', async () => {
    const h = await start({
      acceptRecipient: async () => {
        throw new Error('store down');
      },
    });
    const err = await failure(client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN] }, raw: RAW }));
    expect(err.responseCode).toBe(451);
    expect(err.command).toBe('RCPT TO');
  });

  it('answers 452 to recipients beyond the 50th and delivers to the first 50', async () => {
    const h = await start({ extra: (a) => /^user\d+@reply\.example\.com$/.test(a) });
    const to = Array.from({ length: 51 }, (_, i) => `user${i}@reply.example.com`);
    const info = await client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to }, raw: RAW });
    expect(info.accepted).toEqual(to.slice(0, 50));
    expect(info.rejected).toEqual([to[50]]);
    const errors = (info as unknown as { rejectedErrors: SmtpFailure[] }).rejectedErrors;
    expect(errors.map((e) => e.responseCode)).toEqual([452]);
    expect(h.delivered).toHaveLength(1);
    expect(h.delivered[0]!.envelope.rcptTo).toEqual(to.slice(0, 50));
  });

  it('offers no STARTTLS without a certificate', async () => {
    const h = await start();
    const err = await failure(client(h.port, { ignoreTLS: false, requireTLS: true }).sendMail({ envelope: { from: 'a@b.example', to: [KNOWN] }, raw: RAW }));
    expect(String((err as { message?: string }).message)).toMatch(/STARTTLS/);
    expect(h.delivered).toEqual([]);
  });

  it('logs each session at info without addresses or message content', async () => {
    const h = await start();
    await client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN, OTHER] }, raw: RAW });
    await waitFor(() => h.logs.some((l) => l.msg === 'smtp-in: session closed'));
    const closed = h.logs.find((l) => l.msg === 'smtp-in: session closed')!;
    expect(closed.level).toBe('info');
    expect(closed.fields).toMatchObject({ delivered: 1, rejectedRecipients: 1, clientIp: '127.0.0.1', helo: 'mx.sender.test', tls: false });
    const all = JSON.stringify(h.logs);
    for (const secret of ['Printer on fire', 'still burning', 'ann@customer.example', KNOWN, OTHER]) expect(all).not.toContain(secret);
  });

  it('lets a session in progress finish on close, then refuses new connections', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let deliverCalled!: () => void;
    const inDeliver = new Promise<void>((r) => (deliverCalled = r));
    const h = await start({
      deliver: async () => {
        deliverCalled();
        await released;
      },
    });
    const sending = client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN] }, raw: RAW });
    await inDeliver;
    const closing = h.listener.close();
    release();
    const info = await sending;
    expect(info.response).toMatch(/^250 /);
    await closing;
    const err = await failure(client(h.port).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN] }, raw: RAW }));
    expect((err as { code?: string }).code).toBe('ESOCKET');
  });

  it('refuses AUTH and STARTTLS commands even when a client sends them unannounced', async () => {
    const h = await start();
    const replies = await rawSession(h.port, ['EHLO raw.test', 'AUTH PLAIN AHUAcA==', 'STARTTLS', 'QUIT']);
    expect(replies[0]).toMatch(/^220 /);
    expect(replies[1]).toMatch(/^250 /);
    expect(replies[2]).toMatch(/^5\d\d /);
    expect(replies[3]).toMatch(/^5\d\d /);
    expect(replies[4]).toMatch(/^221 /);
  });

  it('delivers nothing when the client hangs up in the middle of DATA', async () => {
    const h = await start();
    await rawSession(h.port, ['EHLO raw.test', 'MAIL FROM:<ann@customer.example>', `RCPT TO:<${KNOWN}>`, 'DATA', 'Subject: half a message', null]);
    await waitFor(() => h.logs.some((l) => l.msg === 'smtp-in: session closed'));
    expect(h.logs.find((l) => l.msg === 'smtp-in: session closed')!.fields).toMatchObject({ aborted: 1, delivered: 0 });
    expect(h.delivered).toEqual([]);
  });

  describe('STARTTLS', () => {
    let certs: { key: string; cert: string } | null = null;
    beforeAll(() => {
      const dir = tmp();
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
        certs = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
      } catch (e) {
        console.warn(`\n*** SKIPPING the STARTTLS test: openssl could not make a certificate (${(e as Error).message}) ***\n`);
      }
    });

    it('upgrades a client that requires TLS and delivers', async (ctx) => {
      if (!certs) {
        console.warn('*** SKIPPED: STARTTLS test needs openssl ***');
        ctx.skip();
        return;
      }
      const h = await start({ tls: certs });
      const info = await client(h.port, { ignoreTLS: false, requireTLS: true }).sendMail({ envelope: { from: 'ann@customer.example', to: [KNOWN] }, raw: RAW });
      expect(info.response).toMatch(/^250 /);
      expect(h.delivered.map((d) => d.raw.equals(RAW))).toEqual([true]);
      await waitFor(() => h.logs.some((l) => l.msg === 'smtp-in: session closed'));
      expect(h.logs.find((l) => l.msg === 'smtp-in: session closed')!.fields).toMatchObject({ tls: true, delivered: 1 });
    });
  });

  describe('a raw session with swaks', () => {
    const hasSwaks = (() => {
      try {
        execFileSync('swaks', ['--version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    if (!hasSwaks) console.warn('\n*** SKIPPING the swaks tests: swaks is not installed (apt-get install swaks) ***\n');
    const maybe = hasSwaks ? it : it.skip;

    /** Runs swaks to completion without blocking the event loop the listener runs on. */
    function swaks(args: string[]): Promise<{ code: number; out: string }> {
      return new Promise((resolve) => {
        execFile('swaks', args, { timeout: 20_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, out: stdout + stderr });
        });
      });
    }

    maybe('speaks plain SMTP: no AUTH, SIZE advertised, null sender accepted and delivered', async () => {
      const h = await start();
      const file = join(tmp(), 'msg.eml');
      writeFileSync(file, RAW);
      const r = await swaks(['--server', '127.0.0.1', '--port', String(h.port), '--ehlo', 'swaks.test', '--from', '<>', '--to', KNOWN, '--data', `@${file}`]);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(new RegExp(`<-\\s+250[- ]SIZE ${MAX_BYTES}\\b`));
      expect(r.out).not.toMatch(/250[- ]AUTH/);
      expect(r.out).not.toMatch(/250[- ]STARTTLS/);
      expect(r.out).toMatch(/<-\s+250 2\.6\.0 /);
      expect(h.delivered).toHaveLength(1);
      expect(h.delivered[0]!.envelope).toMatchObject({ mailFrom: '', rcptTo: [KNOWN], helo: 'swaks.test' });
      expect(h.delivered[0]!.raw.toString('utf8')).toContain('Subject: Re: Printer on fire');
    });

    maybe('refuses to relay: RCPT TO a foreign address gets 550 5.1.1', async () => {
      const h = await start();
      const r = await swaks(['--server', '127.0.0.1', '--port', String(h.port), '--from', 'spam@forged.example', '--to', OTHER, '--quit-after', 'RCPT']);
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/<\*\*\s+550 5\.1\.1 /);
      expect(h.delivered).toEqual([]);
    });

  });
});

/**
 * Speaks SMTP line by line over a plain socket: sends each command after the previous reply and
 * returns the last line of every reply (the greeting first). A `null` command hangs up right after
 * the line before it, without waiting for a reply.
 */
function rawSession(port: number, commands: Array<string | null>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffer = '';
    let next = 0;
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('close', () => resolve(replies));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (/^\d{3}-/.test(line)) continue; // a multi-line reply goes on
        replies.push(line);
        if (next >= commands.length) {
          socket.end();
          continue;
        }
        socket.write(`${commands[next++]}\r\n`);
        if (commands[next] === null) socket.end();
      }
    });
  });
}

/** Waits for a condition that an event will make true (the session's close is logged after the client's QUIT). */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}
