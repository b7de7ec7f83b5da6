import { createHmac } from 'node:crypto';
import { linkSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSmsSender, WebhookSmsSender, createSmsSender } from '../../../server/adapters/sms/index.js';
import { SmsError, type OutgoingSms, type SmsSender } from '../../../server/core/ports/index.js';

const SECRET = 'test-secret-0123456789';
const T = Date.UTC(2026, 0, 15, 12, 30);
const SMS: OutgoingSms = { id: 'S1_abc-XYZ', to: '+48123456789', text: 'Ticket #1042: Printer on fire' };

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A provider on port 0 that records every request and answers it with `reply` (or never, if it does nothing). */
async function provider(reply: (req: Received, res: ServerResponse) => void = (_q, res) => res.writeHead(202).end('queued')) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(r);
      reply(r, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/sms?token=provider-token`, port, received };
}

const webhook = (url: string, timeoutMs?: number) => new WebhookSmsSender({ url, secret: SECRET, ...(timeoutMs ? { timeoutMs } : {}) });

/** The SmsError `p` rejects with (failing the test if it resolves or rejects with anything else). */
async function refusal(p: Promise<void>): Promise<SmsError> {
  const e = await p.then(
    () => expect.fail('resolved'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SmsError);
  return e as SmsError;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'parley-sms-'));

describe.each([
  ['WebhookSmsSender', async (): Promise<SmsSender> => webhook((await provider()).url)],
  ['FileSmsSender', async (): Promise<SmsSender> => new FileSmsSender({ dataDir: tmp() })],
])('SmsSender contract: %s', (_name, make) => {
  it('resolves once the SMS is accepted', async () => {
    await expect((await make()).send(SMS)).resolves.toBeUndefined();
  });

  it('accepts the same id twice', async () => {
    const sender = await make();
    await sender.send(SMS);
    await expect(sender.send({ ...SMS, text: 'again' })).resolves.toBeUndefined();
  });

  it('refuses, permanently, an id it cannot carry', async () => {
    const e = await refusal((await make()).send({ ...SMS, id: 'S1\r\nX-Evil: 1' }));
    expect(e.permanent).toBe(true);
  });
});

describe('WebhookSmsSender', () => {
  it('POSTs the JSON {id, to, text} to the configured URL', async () => {
    const p = await provider();
    await webhook(p.url).send(SMS);
    expect(p.received).toHaveLength(1);
    expect(p.received[0]!.method).toBe('POST');
    expect(p.received[0]!.path).toBe('/sms?token=provider-token');
    expect(JSON.parse(p.received[0]!.body.toString('utf8'))).toEqual({ id: SMS.id, to: SMS.to, text: SMS.text });
  });

  it('signs the exact body bytes with an HMAC-SHA256 of the secret, in lowercase hex', async () => {
    const p = await provider();
    await webhook(p.url).send({ ...SMS, text: 'Zażółć gęślą jaźń 🎉 "quoted" \\ back' });
    const { headers, body } = p.received[0]!;
    const expected = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(headers['x-parley-signature']).toBe(`sha256=${expected}`);
    expect(headers['x-parley-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    // Another secret gives another signature: the header really depends on the secret.
    expect(headers['x-parley-signature']).not.toBe(`sha256=${createHmac('sha256', 'other').update(body).digest('hex')}`);
    expect(JSON.parse(body.toString('utf8')).text).toBe('Zażółć gęślą jaźń 🎉 "quoted" \\ back');
  });

  it('sends Content-Type application/json and the SMS id for the provider to deduplicate', async () => {
    const p = await provider();
    await webhook(p.url).send(SMS);
    expect(p.received[0]!.headers['content-type']).toBe('application/json');
    expect(p.received[0]!.headers['x-parley-sms-id']).toBe(SMS.id);
  });

  it.each([200, 201, 202, 204])('resolves on %i', async (status) => {
    const p = await provider((_q, res) => res.writeHead(status).end());
    await expect(webhook(p.url).send(SMS)).resolves.toBeUndefined();
  });

  it('rejects a 400 as permanent, with the status and the provider’s reason but not the URL', async () => {
    const p = await provider((_q, res) => res.writeHead(400, { 'Content-Type': 'text/plain' }).end('invalid number\n+48123'));
    const e = await refusal(webhook(p.url).send(SMS));
    expect(e.permanent).toBe(true);
    expect(e.message).toContain('400');
    expect(e.message).toContain('invalid number +48123');
    expect(e.message).not.toContain('provider-token');
  });

  it.each([401, 403, 404, 413, 422])('rejects a %i as permanent', async (status) => {
    const p = await provider((_q, res) => res.writeHead(status).end());
    expect((await refusal(webhook(p.url).send(SMS))).permanent).toBe(true);
  });

  it.each([503, 500, 502, 408, 429])('rejects a %i as transient', async (status) => {
    const p = await provider((_q, res) => res.writeHead(status).end('try later'));
    const e = await refusal(webhook(p.url).send(SMS));
    expect(e.permanent).toBe(false);
    expect(e.message).toContain(String(status));
  });

  it('keeps only the start of a long refusal in the message', async () => {
    const p = await provider((_q, res) => res.writeHead(400).end('x'.repeat(100_000)));
    const e = await refusal(webhook(p.url).send(SMS));
    expect(e.message.length).toBeLessThan(400);
  });

  // The test's own timeout is far below the sender's: reading the whole endless reply would fail it.
  it('reads no more of a refusal than its message needs', { timeout: 5_000 }, async () => {
    const p = await provider((_q, res) => {
      res.writeHead(400);
      res.write('y'.repeat(1000)); // and never ends
    });
    const e = await refusal(webhook(p.url, 20_000).send(SMS));
    expect(e.permanent).toBe(true);
    expect(e.message).toContain('yyyy');
  });

  it('does not follow a redirect, and counts it as permanent', async () => {
    const p = await provider((q, res) => (q.path.startsWith('/moved') ? res.writeHead(202).end() : res.writeHead(307, { Location: '/moved' }).end()));
    const e = await refusal(webhook(p.url).send(SMS));
    expect(e.permanent).toBe(true);
    expect(p.received.map((r) => r.path)).toEqual(['/sms?token=provider-token']);
  });

  it('rejects as transient when the provider does not answer in time', async () => {
    const p = await provider(() => {}); // never answers
    const e = await refusal(webhook(p.url, 200).send(SMS));
    expect(e.permanent).toBe(false);
    expect(e.message).toContain('timed out');
    expect(p.received).toHaveLength(1);
  });

  it('rejects as transient when the connection is refused', async () => {
    const { port } = await provider();
    const server = servers.pop()!;
    await new Promise((r) => server.close(r));
    const e = await refusal(webhook(`http://127.0.0.1:${port}/sms`).send(SMS));
    expect(e.permanent).toBe(false);
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('refuses to exist without a secret', () => {
    expect(() => new WebhookSmsSender({ url: 'http://127.0.0.1:9/sms', secret: '' })).toThrow(/PARLEY_SMS_SECRET/);
  });

  it.each(['not a url', 'ftp://sms.example.com/', 'https://user:pw@sms.example.com/'])('refuses the URL %s', (url) => {
    expect(() => new WebhookSmsSender({ url, secret: SECRET })).toThrow(/PARLEY_SMS_URL/);
  });

  it.each([0, -1, 1.5])('refuses a timeout of %s ms', (timeoutMs) => {
    expect(() => new WebhookSmsSender({ url: 'http://127.0.0.1:9/sms', secret: SECRET, timeoutMs })).toThrow(/timeout/);
  });
});

describe('FileSmsSender', () => {
  const fileOf = (dataDir: string, id = SMS.id) => join(dataDir, 'outbox', `${id}.sms.json`);

  it('writes <dataDir>/outbox/<id>.sms.json as pretty JSON, creating the folder', async () => {
    const dataDir = tmp();
    await new FileSmsSender({ dataDir, now: () => T }).send(SMS);
    const text = readFileSync(fileOf(dataDir), 'utf8');
    expect(JSON.parse(text)).toEqual({ id: SMS.id, to: SMS.to, text: SMS.text, createdAt: T });
    expect(text).toBe(JSON.stringify({ id: SMS.id, to: SMS.to, text: SMS.text, createdAt: T }, null, 2) + '\n');
  });

  it('replaces the file by a rename, never writing into it, and leaves no temp file', async () => {
    const dataDir = tmp();
    const sender = new FileSmsSender({ dataDir, now: () => T });
    await sender.send(SMS);
    // A second name for the first file's inode: a write in place would change it, a rename cannot.
    const alias = join(dataDir, 'first.json');
    linkSync(fileOf(dataDir), alias);
    await sender.send({ ...SMS, text: 'second' });
    expect(JSON.parse(readFileSync(alias, 'utf8')).text).toBe(SMS.text);
    expect(JSON.parse(readFileSync(fileOf(dataDir), 'utf8')).text).toBe('second');
    expect(readdirSync(join(dataDir, 'outbox'))).toEqual([`${SMS.id}.sms.json`]);
  });

  it('overwrites on the same id, keeping one file', async () => {
    const dataDir = tmp();
    const sender = new FileSmsSender({ dataDir, now: () => T });
    await sender.send(SMS);
    await sender.send({ ...SMS, text: 'second' });
    await Promise.all([sender.send({ ...SMS, text: 'third' }), sender.send({ ...SMS, text: 'third' })]);
    expect(readdirSync(join(dataDir, 'outbox'))).toEqual([`${SMS.id}.sms.json`]);
    expect(JSON.parse(readFileSync(fileOf(dataDir), 'utf8')).text).toBe('third');
  });

  it('refuses, permanently, an id that would leave the folder', async () => {
    const dataDir = tmp();
    const e = await refusal(new FileSmsSender({ dataDir }).send({ ...SMS, id: '../escape' }));
    expect(e.permanent).toBe(true);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('rejects as transient when the folder cannot be made', async () => {
    const dataDir = join(tmp(), 'a-file');
    writeFileSync(dataDir, '');
    const e = await refusal(new FileSmsSender({ dataDir }).send(SMS));
    expect(e.permanent).toBe(false);
  });
});

describe('createSmsSender', () => {
  it('captures to files when no URL is set', () => {
    expect(createSmsSender({ dataDir: tmp() })).toBeInstanceOf(FileSmsSender);
    expect(createSmsSender({ url: '', secret: SECRET, dataDir: tmp() })).toBeInstanceOf(FileSmsSender);
  });

  it('posts to the webhook when a URL is set', () => {
    expect(createSmsSender({ url: 'https://sms.example.com/hook', secret: SECRET, dataDir: tmp() })).toBeInstanceOf(WebhookSmsSender);
  });

  it('refuses a URL without a secret', () => {
    expect(() => createSmsSender({ url: 'https://sms.example.com/hook', dataDir: tmp() })).toThrow(/PARLEY_SMS_SECRET/);
  });

  // The test's own timeout is below the default 10 s: only the 100 ms passed on can end it in time.
  it('passes the timeout on', { timeout: 5_000 }, async () => {
    const p = await provider(() => {});
    const e = await refusal(createSmsSender({ url: p.url, secret: SECRET, dataDir: tmp(), timeoutMs: 100 }).send(SMS));
    expect(e.message).toContain('timed out');
  });
});
