import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { until } from '../support/until.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();
if (!hasOpenssl) console.warn('\n*** SKIPPING notification-security.test.ts: openssl is not installed (apt-get install openssl) ***\n');

const definition = (name: string, mode: string, extra: Record<string, unknown> = {}) => ({
  name,
  events: [name],
  recipients: { agents: ['ada'] },
  transports: { email: { enabled: true, security: { mode, missingSigningKeys: 'skip', missingCryptingKeys: 'skip', ...extra } } },
  messages: { en: { subject: `${name} <OTOBO_TICKET_Title>`, body: 'Signed body.' } },
});

type Line = { participantId: string; transport: string; status: string; reason: string | null };
const lineOf = async (hub: TestHub, id: string) =>
  ((await hub.ok('GET', `/v1/events/${id}`)).deliveries as Line[]).find((d) => d.participantId === 'ada' && d.transport === 'email');

describe.skipIf(!hasOpenssl)('signed notification emails end to end (NOTIFICATIONS §3)', () => {
  let dir: string;
  let sink: SmtpSink;
  let hub: TestHub;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parley-smime-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=Parley Hub', '-days', '2', '-keyout', join(dir, 'hub.key'), '-out', join(dir, 'hub.crt')], { stdio: 'ignore' });
    sink = await SmtpSink.start();
    hub = await TestHub.start({ env: { PARLEY_SMTP_URL: sink.url, PARLEY_SMIME_KEY_FILE: join(dir, 'hub.key'), PARLEY_SMIME_CERT_FILE: join(dir, 'hub.crt') } });
    await hub.user('ada', { name: 'Ada' });
    await hub.ok('PUT', '/v1/items/T1', { kind: 'ticket', title: 'Printer', queue: 'Raw' });
  });
  afterAll(async () => {
    await hub.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs with the hub key as S/MIME, and openssl verifies what arrives (and rejects a tampered copy)', async () => {
    await hub.ok('POST', '/v1/notification-definitions', definition('SignedOne', 'SMIMESign'));
    await hub.ok('POST', '/v1/events', { id: 'ev-signed', type: 'SignedOne', itemId: 'T1' });
    const mail = await until(() => sink.to('ada@example.com').find((m) => m.raw.includes('SignedOne Printer')), 'the signed email');
    expect(mail.raw).toMatch(/Content-Type: multipart\/signed;[\s\S]*application\/pkcs7-signature/);
    const file = join(dir, 'signed.eml');
    writeFileSync(file, mail.raw);
    const out = execFileSync('openssl', ['smime', '-verify', '-noverify', '-in', file], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    expect(out).toContain('Signed body.');
    writeFileSync(file, mail.raw.replace('Signed body.', 'Forged body.'));
    expect(() => execFileSync('openssl', ['smime', '-verify', '-noverify', '-in', file], { stdio: 'ignore' })).toThrow();
    await until(async () => (await lineOf(hub, 'ev-signed'))?.status === 'sent', 'the audit says sent');
  });

  it('skips with missing_key: encryption to a recipient without a certificate, and PGP signing without a hub key', async () => {
    await hub.ok('POST', '/v1/notification-definitions', definition('CryptOne', 'SMIMECrypt'));
    await hub.ok('POST', '/v1/events', { id: 'ev-crypt', type: 'CryptOne', itemId: 'T1' });
    expect(await lineOf(hub, 'ev-crypt')).toMatchObject({ status: 'skipped', reason: 'missing_key' });
    await hub.ok('POST', '/v1/notification-definitions', definition('PgpSigned', 'PGPSign'));
    await hub.ok('POST', '/v1/events', { id: 'ev-pgp', type: 'PgpSigned', itemId: 'T1' });
    await until(async () => (await lineOf(hub, 'ev-pgp'))?.reason === 'missing_key', 'missing_key once the send found no PGP key');
    await hub.ok('POST', '/v1/notification-definitions', definition('PgpUnsigned', 'PGPSign', { missingSigningKeys: 'send_unsigned' }));
    await hub.ok('POST', '/v1/events', { id: 'ev-unsigned', type: 'PgpUnsigned', itemId: 'T1' });
    const plain = await until(() => sink.to('ada@example.com').find((m) => m.raw.includes('PgpUnsigned Printer')), 'the unsigned email');
    expect(plain.raw).not.toContain('multipart/signed');
    expect(sink.to('ada@example.com').some((m) => m.raw.includes('PgpSigned Printer') || m.raw.includes('CryptOne Printer'))).toBe(false);
  });
});
