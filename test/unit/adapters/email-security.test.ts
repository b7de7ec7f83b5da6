import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailSecurity, EmailSecurityOptions } from '../../../server/core/ports/index.js';
import { createEmailSecurity, validatePgpPublicKey, validateSmimeCertificate } from '../../../server/adapters/email-security/index.js';

// Everything here is checked by tools that share no code with ours: GnuPG and OpenSSL.
const has = (cmd: string, arg: string) => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const HAVE_GPG = has('gpg', '--version');
const HAVE_OPENSSL = has('openssl', 'version');
if (!HAVE_GPG) console.warn('\n*** SKIPPING the PGP/MIME email-security tests: gpg is not installed (apt-get install gnupg) ***\n');
if (!HAVE_OPENSSL) console.warn('\n*** SKIPPING the S/MIME email-security tests: openssl is not installed (apt-get install openssl) ***\n');

const DAY_MS = 86_400_000;
const SKIP: EmailSecurityOptions = { missingSigningKeys: 'skip', missingCryptingKeys: 'skip' };
const LENIENT: EmailSecurityOptions = { missingSigningKeys: 'send_unsigned', missingCryptingKeys: 'send_unencrypted' };
const NO_KEYS = { pgpPublicKey: null, smimeCertificate: null };

let dir = '';
const gpgHomes: string[] = [];

function run(cmd: string, args: string[], input?: string | Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(cmd: string, args: string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A GnuPG home with one fresh key; returns the home and its armored public and secret keys. */
function gpgKey(name: string, uid: string, algo: string, usage: string, expire: string, passphrase = '', extra: string[] = []) {
  const home = join(dir, `gnupg-${name}`);
  mkdirSync(home, { mode: 0o700 });
  gpgHomes.push(home);
  const base = ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', passphrase];
  must('gpg', [...base, ...extra, '--quick-gen-key', uid, algo, usage, expire]);
  return {
    home,
    pub: must('gpg', [...base, '--armor', '--export', uid]),
    sec: must('gpg', [...base, '--armor', '--export-secret-keys', uid]),
  };
}

function selfSigned(name: string, cn: string, keyArgs: string[] = ['-newkey', 'rsa:2048'], days = '30') {
  const key = join(dir, `${name}.key`);
  const crt = join(dir, `${name}.crt`);
  must('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', crt, '-days', days, '-subj', `/CN=${cn}/emailAddress=${cn.toLowerCase().replace(/\W+/g, '.')}@example.com`]);
  return { key, crt, pem: readFileSync(crt, 'utf8') };
}

async function composed(): Promise<string> {
  const mail = new MailComposer({
    from: 'Acme Support <notifications@chat.example.com>',
    to: { name: 'Carol Öztürk', address: 'carol@example.org' },
    subject: '[Acme] Drucker brennt',
    text: 'Hello Carol,\nline with a trailing space \nFrom the start of a line\n.\nGrüße ✓',
    html: '<p>Hello Carol, Grüße ✓</p>',
    messageId: '<e.abc@chat.example.com>',
    date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    replyTo: 'r123@reply.chat.example.com',
    headers: {
      'In-Reply-To': '<e.prev@chat.example.com>',
      References: '<c.1.x@chat.example.com> <e.prev@chat.example.com>',
      'Auto-Submitted': 'auto-generated',
      'List-Id': '"Acme" <c.1.chat.example.com>',
      'List-Unsubscribe': '<https://chat.example.com/u/t>',
    },
    textEncoding: 'quoted-printable',
  });
  return new Promise((resolve, reject) => mail.compile().build((err, message) => (err ? reject(err) : resolve(message.toString('utf8')))));
}

const crlf = (s: string) => s.replace(/\r\n|\r|\n/g, '\r\n');

/** Header block and body of a message (CRLF). */
function cut(raw: string): { head: string; body: string } {
  const i = raw.indexOf('\r\n\r\n');
  return { head: raw.slice(0, i + 2), body: raw.slice(i + 4) };
}

/** The original body's MIME entity: its Content-* headers and its body, as the verifier must see them. */
function originalEntity(raw: string): string {
  const { head, body } = cut(crlf(raw));
  const fields = head.split(/\r\n(?![ \t])/).filter((f) => /^content-/i.test(f));
  return fields.join('\r\n') + '\r\n\r\n' + body;
}

function boundaryOf(head: string): string {
  const m = /boundary="([^"]+)"/.exec(head);
  if (!m) throw new Error(`no boundary in ${head}`);
  return m[1]!;
}

/** The parts of a multipart body, each exactly as between its delimiters (RFC 2046 §5.1.1). */
function parts(raw: string): string[] {
  const { head, body } = cut(raw);
  const b = boundaryOf(head);
  const text = '\r\n' + body;
  const chunks = text.split(`\r\n--${b}`);
  // chunks[0] is the preamble; the last starts with "--" (the close delimiter).
  return chunks.slice(1, -1).map((c) => c.slice(c.indexOf('\r\n') + 2));
}

function partBody(part: string): string {
  return part.slice(part.indexOf('\r\n\r\n') + 4);
}

function expectOuterHeadersKept(original: string, secured: string, contentType: RegExp): void {
  const before = cut(crlf(original)).head;
  const after = cut(secured).head;
  for (const name of ['From', 'To', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References', 'Auto-Submitted', 'List-ID', 'List-Unsubscribe', 'Reply-To']) {
    const field = new RegExp(`^${name}:.*(?:\\r\\n[ \\t].*)*`, 'mi').exec(before)?.[0];
    expect(field, name).toBeTruthy();
    expect(after).toContain(field!);
  }
  expect(after.match(/^MIME-Version: 1\.0$/gim)).toHaveLength(1);
  expect(after.match(/^Content-Type:/gim)).toHaveLength(1);
  expect(after).toMatch(contentType);
  expect(after).not.toMatch(/multipart\/alternative/);
}

afterAll(() => {
  for (const home of gpgHomes) spawnSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore' });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-sec-'));
});

describe.skipIf(!HAVE_GPG)('PGP/MIME email security (checked with gpg)', () => {
  let hub: ReturnType<typeof gpgKey>;
  let recipient: ReturnType<typeof gpgKey>;
  let security: EmailSecurity;
  let raw = '';

  beforeAll(async () => {
    hub = gpgKey('hub', 'Parley Hub <hub@chat.example.com>', 'default', 'default', 'never', 'hub passphrase');
    // The recipient uses the other common key type (Ed25519 signing, Curve25519 encryption).
    recipient = gpgKey('recipient', 'Carol <carol@example.org>', 'future-default', 'default', 'never');
    must('gpg', ['--homedir', recipient.home, '--batch', '--import'], hub.pub);
    security = await createEmailSecurity({ pgpKeyFile: file('hub.sec.asc', hub.sec), pgpPassphrase: 'hub passphrase' });
    raw = await composed();
  });

  /** gpg's verdict on a detached signature over `data`. */
  function gpgVerify(data: string, signature: string) {
    return run('gpg', ['--homedir', recipient.home, '--batch', '--status-fd', '1', '--verify', file('sig.asc', signature), file('signed.bin', data)]);
  }

  function gpgDecrypt(secured: string) {
    const [control, encrypted] = parts(secured);
    expect(control).toMatch(/^Content-Type: application\/pgp-encrypted/);
    expect(partBody(control!)).toBe('Version: 1\r\n');
    expect(encrypted).toMatch(/^Content-Type: application\/octet-stream/);
    const out = join(dir, 'decrypted.eml');
    rmSync(out, { force: true });
    const r = run('gpg', ['--homedir', recipient.home, '--batch', '--status-fd', '1', '--output', out, '--decrypt', file('encrypted.asc', partBody(encrypted!))]);
    return { ...r, plain: r.status === 0 ? readFileSync(out, 'utf8') : '' };
  }

  it('signs as multipart/signed that gpg verifies, with micalg naming the hash gpg saw', async () => {
    const result = await security.secure(raw, 'PGPSign', NO_KEYS, SKIP);
    if (!('raw' in result)) throw new Error('skipped');
    writeFileSync(join(dir, 'pgp-signed.eml'), result.raw);
    expectOuterHeadersKept(raw, result.raw, /multipart\/signed;[\s\S]*protocol="application\/pgp-signature"/);
    const micalg = /micalg=([\w-]+)/.exec(cut(result.raw).head)?.[1];
    const [signed, signature] = parts(result.raw);
    expect(signed).toBe(originalEntity(raw).replace(/\r\n$/, ''));
    expect(signature).toMatch(/^Content-Type: application\/pgp-signature/);
    const r = gpgVerify(signed!, partBody(signature!));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[GNUPG:\] GOODSIG \w+ Parley Hub/);
    // VALIDSIG's 8th field is the hash algorithm (RFC 4880 §9.4: 8 = SHA256, 9 = SHA384, 10 = SHA512).
    const hashId = /\[GNUPG:\] VALIDSIG (?:\S+ ){7}(\d+)/.exec(r.stdout)?.[1];
    expect(micalg).toBe({ '8': 'pgp-sha256', '9': 'pgp-sha384', '10': 'pgp-sha512' }[hashId!]);
  });

  it('has a tampered signed part rejected by gpg', async () => {
    const result = await security.secure(raw, 'PGPSign', NO_KEYS, SKIP);
    if (!('raw' in result)) throw new Error('skipped');
    const [signed, signature] = parts(result.raw);
    const r = gpgVerify(signed!.replace('Hello Carol', 'Hello Carl!'), partBody(signature!));
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/\[GNUPG:\] BADSIG/);
  });

  it('encrypts as multipart/encrypted that gpg decrypts to the original entity', async () => {
    const result = await security.secure(raw, 'PGPCrypt', { pgpPublicKey: recipient.pub, smimeCertificate: null }, SKIP);
    if (!('raw' in result)) throw new Error('skipped');
    expectOuterHeadersKept(raw, result.raw, /multipart\/encrypted;[\s\S]*protocol="application\/pgp-encrypted"/);
    expect(result.raw).not.toContain('Hello Carol');
    const r = gpgDecrypt(result.raw);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[GNUPG:\] DECRYPTION_OKAY/);
    expect(r.stdout).not.toMatch(/GOODSIG/);
    expect(r.plain).toBe(originalEntity(raw));
  });

  it('signs and encrypts in one OpenPGP message that gpg decrypts and verifies', async () => {
    const result = await security.secure(raw, 'PGPSignCrypt', { pgpPublicKey: recipient.pub, smimeCertificate: null }, SKIP);
    if (!('raw' in result)) throw new Error('skipped');
    writeFileSync(join(dir, 'pgp-signcrypt.eml'), result.raw);
    const r = gpgDecrypt(result.raw);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[GNUPG:\] DECRYPTION_OKAY/);
    expect(r.stdout).toMatch(/\[GNUPG:\] GOODSIG \w+ Parley Hub/);
    expect(r.plain).toBe(originalEntity(raw));
  });

  it('skips or sends unsigned when the hub has no PGP key', async () => {
    const keyless = await createEmailSecurity({});
    expect(await keyless.secure(raw, 'PGPSign', NO_KEYS, SKIP)).toEqual({ skipped: 'missing_key' });
    expect(await keyless.secure(raw, 'PGPSign', NO_KEYS, LENIENT)).toEqual({ raw });
    const result = await keyless.secure(raw, 'PGPSignCrypt', { pgpPublicKey: recipient.pub, smimeCertificate: null }, { ...SKIP, missingSigningKeys: 'send_unsigned' });
    if (!('raw' in result)) throw new Error('skipped');
    const r = gpgDecrypt(result.raw);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/GOODSIG/);
    expect(r.plain).toBe(originalEntity(raw));
  });

  it('skips or sends unencrypted when the recipient has no usable PGP key', async () => {
    expect(await security.secure(raw, 'PGPCrypt', NO_KEYS, SKIP)).toEqual({ skipped: 'missing_key' });
    expect(await security.secure(raw, 'PGPCrypt', { pgpPublicKey: 'garbage', smimeCertificate: null }, SKIP)).toEqual({ skipped: 'missing_key' });
    expect(await security.secure(raw, 'PGPCrypt', NO_KEYS, LENIENT)).toEqual({ raw });
    expect(await security.secure(raw, 'PGPSignCrypt', NO_KEYS, { ...LENIENT, missingSigningKeys: 'skip' })).toMatchObject({ raw: expect.stringMatching(/multipart\/signed/) });
    expect(await security.secure(raw, 'PGPSignCrypt', NO_KEYS, { ...LENIENT, missingCryptingKeys: 'skip' })).toEqual({ skipped: 'missing_key' });
  });

  it('counts a key that expired as missing', async () => {
    const old = gpgKey('old', 'Old <old@example.org>', 'default', 'default', '1d', '', ['--faked-system-time', '20200101T000000']);
    expect(await security.secure(raw, 'PGPCrypt', { pgpPublicKey: old.pub, smimeCertificate: null }, SKIP)).toEqual({ skipped: 'missing_key' });
    expect(await validatePgpPublicKey(old.pub)).toMatch(/expired/);
  });

  it('accepts a good public key and says what is wrong with a broken, a private and a sign-only one', async () => {
    expect(await validatePgpPublicKey(recipient.pub)).toBeNull();
    expect(await validatePgpPublicKey('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all\n-----END PGP PUBLIC KEY BLOCK-----\n')).toMatch(/not an OpenPGP public key/);
    expect(await validatePgpPublicKey(hub.sec)).toMatch(/private key/);
    const signOnly = gpgKey('signonly', 'Sign Only <so@example.org>', 'rsa2048', 'sign', 'never');
    expect(await validatePgpPublicKey(signOnly.pub)).toMatch(/no valid encryption subkey/);
  });

  it('refuses at start-up a key file that does not parse or will not unlock', async () => {
    await expect(createEmailSecurity({ pgpKeyFile: file('bad.asc', 'nonsense') })).rejects.toThrow(/PARLEY_PGP_KEY_FILE .* is not an OpenPGP secret key/);
    await expect(createEmailSecurity({ pgpKeyFile: file('hub2.sec.asc', hub.sec) })).rejects.toThrow(/set PARLEY_PGP_PASSPHRASE/);
    await expect(createEmailSecurity({ pgpKeyFile: file('hub3.sec.asc', hub.sec), pgpPassphrase: 'wrong' })).rejects.toThrow(/could not be unlocked/);
  });
});

describe.skipIf(!HAVE_OPENSSL)('S/MIME email security (checked with openssl)', () => {
  let hub: ReturnType<typeof selfSigned>;
  let recipient: ReturnType<typeof selfSigned>;
  let security: EmailSecurity;
  let raw = '';

  beforeAll(async () => {
    hub = selfSigned('smime-hub', 'Parley Hub');
    recipient = selfSigned('smime-recipient', 'Carol');
    security = await createEmailSecurity({ smimeKeyFile: hub.key, smimeCertFile: hub.crt });
    raw = await composed();
  });

  const verify = (path: string) => run('openssl', ['smime', '-verify', '-noverify', '-in', path]);
  const decrypt = (path: string) => run('openssl', ['smime', '-decrypt', '-recip', recipient.crt, '-inkey', recipient.key, '-in', path]);

  it('signs as multipart/signed that openssl verifies', async () => {
    const result = await security.secure(raw, 'SMIMESign', NO_KEYS, SKIP);
    if (!('raw' in result)) throw new Error('skipped');
    expectOuterHeadersKept(raw, result.raw, /multipart\/signed;[\s\S]*protocol="application\/pkcs7-signature";[\s\S]*micalg=sha-256/);
    const path = file('smime-signed.eml', result.raw);
    const r = verify(path);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Verification successful/);
    expect(crlf(r.stdout)).toBe(originalEntity(raw).replace(/\r\n$/, ''));
    // The signer's chain checks out too, with the hub's self-signed certificate as the trust anchor.
    const chained = run('openssl', ['smime', '-verify', '-CAfile', hub.crt, '-in', path, '-out', '/dev/null']);
    expect(chained.status, chained.stderr).toBe(0);
  });

  it('has a tampered signed part rejected by openssl', async () => {
    const result = await security.secure(raw, 'SMIMESign', NO_KEYS, SKIP);
    if (!('raw' in result)) throw new Error('skipped');
    const r = verify(file('smime-tampered.eml', result.raw.replace('Hello Carol', 'Hello Carl!')));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/digest failure|verification failure/i);
  });

  it('encrypts as AES-256-CBC enveloped-data that openssl decrypts to the original entity', async () => {
    const result = await security.secure(raw, 'SMIMECrypt', { pgpPublicKey: null, smimeCertificate: recipient.pem }, SKIP);
    if (!('raw' in result)) throw new Error('skipped');
    expectOuterHeadersKept(raw, result.raw, /application\/pkcs7-mime; smime-type=enveloped-data/);
    expect(cut(result.raw).head).toMatch(/^Content-Transfer-Encoding: base64$/m);
    expect(result.raw).not.toContain('Hello Carol');
    const path = file('smime-encrypted.eml', result.raw);
    const r = decrypt(path);
    expect(r.status, r.stderr).toBe(0);
    expect(crlf(r.stdout)).toBe(originalEntity(raw));
    const der = file('smime-encrypted.der', Buffer.from(cut(result.raw).body, 'base64'));
    expect(must('openssl', ['asn1parse', '-inform', 'DER', '-in', der])).toMatch(/aes-256-cbc/);
  });

  it('signs then envelopes: openssl decrypts to a multipart/signed it verifies', async () => {
    const result = await security.secure(raw, 'SMIMESignCrypt', { pgpPublicKey: null, smimeCertificate: recipient.pem }, SKIP);
    if (!('raw' in result)) throw new Error('skipped');
    expect(result.raw).not.toContain('Hello Carol');
    const r = decrypt(file('smime-signcrypt.eml', result.raw));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Content-Type: multipart\/signed;/);
    const v = verify(file('smime-signcrypt-inner.eml', r.stdout));
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/Verification successful/);
    expect(crlf(v.stdout)).toBe(originalEntity(raw).replace(/\r\n$/, ''));
  });

  it('skips or sends unsigned when the hub has no S/MIME certificate', async () => {
    const keyless = await createEmailSecurity({});
    expect(await keyless.secure(raw, 'SMIMESign', NO_KEYS, SKIP)).toEqual({ skipped: 'missing_key' });
    expect(await keyless.secure(raw, 'SMIMESignCrypt', { pgpPublicKey: null, smimeCertificate: recipient.pem }, LENIENT)).toMatchObject({
      raw: expect.stringMatching(/smime-type=enveloped-data/),
    });
    expect(await keyless.secure(raw, 'SMIMESignCrypt', NO_KEYS, LENIENT)).toEqual({ raw });
  });

  it('counts an expired recipient certificate as a missing crypting key', async () => {
    const later = await createEmailSecurity({ smimeKeyFile: hub.key, smimeCertFile: hub.crt, now: () => Date.now() + 60 * DAY_MS });
    const recipientKeys = { pgpPublicKey: null, smimeCertificate: recipient.pem };
    expect(await later.secure(raw, 'SMIMECrypt', recipientKeys, SKIP)).toEqual({ skipped: 'missing_key' });
    // The hub's own certificate expired as well by then: both halves dropped, the email goes as it was.
    expect(await later.secure(raw, 'SMIMESignCrypt', recipientKeys, LENIENT)).toEqual({ raw });
  });

  it('accepts a current RSA certificate and says what is wrong with a broken, expired, future or non-RSA one', () => {
    const now = Date.now();
    expect(validateSmimeCertificate(recipient.pem, now)).toBeNull();
    expect(validateSmimeCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', now)).toMatch(/not a PEM X\.509 certificate/);
    expect(validateSmimeCertificate('hello', now)).toMatch(/not a PEM X\.509 certificate/);
    expect(validateSmimeCertificate(recipient.pem, now + 31 * DAY_MS)).toMatch(/expired/);
    expect(validateSmimeCertificate(recipient.pem, now - DAY_MS)).toMatch(/not valid before/);
    const ec = selfSigned('smime-ec', 'Elliptic', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']);
    expect(validateSmimeCertificate(ec.pem, now)).toMatch(/no RSA public key/);
  });

  it('refuses at start-up a key or certificate that does not parse or does not match', async () => {
    await expect(createEmailSecurity({ smimeKeyFile: file('bad.key', 'nonsense'), smimeCertFile: hub.crt })).rejects.toThrow(/PARLEY_SMIME_KEY_FILE/);
    await expect(createEmailSecurity({ smimeKeyFile: hub.key, smimeCertFile: file('bad.crt', 'nonsense') })).rejects.toThrow(/PARLEY_SMIME_CERT_FILE .* is not a PEM RSA certificate/);
    await expect(createEmailSecurity({ smimeKeyFile: hub.key, smimeCertFile: hub.key })).rejects.toThrow(/PARLEY_SMIME_CERT_FILE .* holds no PEM certificate/);
    await expect(createEmailSecurity({ smimeKeyFile: hub.key, smimeCertFile: recipient.crt })).rejects.toThrow(/does not belong to the key/);
    await expect(createEmailSecurity({ smimeKeyFile: hub.key })).rejects.toThrow(/go together/);
  });
});
