import { readFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import { boundary, multipartSigned, signable } from './mime.js';

const CRLF = '\r\n';

/**
 * PGP/MIME (RFC 3156) with openpgp: multipart/signed with a detached signature, and
 * multipart/encrypted. Sign+encrypt is the combined method (§6.2): one OpenPGP message, signed and
 * encrypted, whose literal data is the MIME entity — `gpg --decrypt` checks both at once.
 */
export class PgpMime {
  private constructor(private readonly key: openpgp.PrivateKey | null) {}

  /** The hub's secret key from PARLEY_PGP_KEY_FILE (armored or binary), unlocked with the passphrase; throws a clear Error if it cannot be used. */
  static async load(keyFile: string | undefined, passphrase: string | undefined): Promise<PgpMime> {
    if (!keyFile) return new PgpMime(null);
    const bytes = readFileSync(keyFile);
    let key: openpgp.PrivateKey;
    try {
      const text = bytes.toString('utf8');
      key = text.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----')
        ? await openpgp.readPrivateKey({ armoredKey: text })
        : await openpgp.readPrivateKey({ binaryKey: new Uint8Array(bytes) });
    } catch (e) {
      throw new Error(`PARLEY_PGP_KEY_FILE (${keyFile}) is not an OpenPGP secret key: ${errorText(e)}`);
    }
    if (!key.isDecrypted()) {
      if (!passphrase) throw new Error(`PARLEY_PGP_KEY_FILE (${keyFile}) is protected by a passphrase: set PARLEY_PGP_PASSPHRASE`);
      try {
        key = await openpgp.decryptKey({ privateKey: key, passphrase });
      } catch (e) {
        throw new Error(`PARLEY_PGP_KEY_FILE (${keyFile}) could not be unlocked with PARLEY_PGP_PASSPHRASE: ${errorText(e)}`);
      }
    }
    try {
      await key.getSigningKey();
    } catch (e) {
      throw new Error(`PARLEY_PGP_KEY_FILE (${keyFile}) cannot sign: ${errorText(e)}`);
    }
    return new PgpMime(key);
  }

  /** False without a hub key, or once it expired or was revoked. */
  async canSign(now: number): Promise<boolean> {
    if (!this.key) return false;
    try {
      await this.key.getSigningKey(undefined, new Date(now));
      return true;
    } catch {
      return false; // expired or revoked since start-up: the caller treats it as a missing signing key
    }
  }

  /** The recipient's key if it can encrypt at `now`, else null. */
  async recipientKey(armored: string | null, now: number): Promise<openpgp.PublicKey | null> {
    if (!armored) return null;
    const read = await readPublicKey(armored, now);
    return typeof read === 'string' ? null : read;
  }

  /** multipart/signed; micalg names the hash openpgp chose (from the key's preferences). */
  async sign(entity: string, now: number): Promise<string> {
    const key = this.requireKey();
    const signed = signable(entity);
    const armoredSignature = await openpgp.sign({
      message: await openpgp.createMessage({ binary: Buffer.from(signed, 'utf8') }),
      signingKeys: key,
      detached: true,
      format: 'armored',
      date: new Date(now),
    });
    const signature = await openpgp.readSignature({ armoredSignature });
    const hash = signature.packets[0]?.hashAlgorithm;
    if (hash == null) throw new Error('openpgp produced a signature without a hash algorithm');
    const micalg = `pgp-${openpgp.enums.read(openpgp.enums.hash, hash).toLowerCase().replace(/_/g, '-')}`;
    const part =
      `Content-Type: application/pgp-signature; name="signature.asc"${CRLF}` +
      `Content-Description: OpenPGP digital signature${CRLF}` +
      `Content-Disposition: attachment; filename="signature.asc"${CRLF}${CRLF}` +
      canonicalArmor(armoredSignature);
    return multipartSigned(
      (b) => `multipart/signed; micalg=${micalg};${CRLF} protocol="application/pgp-signature";${CRLF} boundary="${b}"`,
      'This is an OpenPGP/MIME signed message (RFC 4880 and 3156)',
      signed,
      part,
    );
  }

  /** multipart/encrypted to the recipient (and, with `sign`, signed by the hub in the same OpenPGP message). */
  async encrypt(entity: string, recipient: openpgp.PublicKey, sign: boolean, now: number): Promise<string> {
    const armored = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(entity, 'utf8'), format: 'binary' }),
      encryptionKeys: recipient,
      ...(sign ? { signingKeys: this.requireKey() } : {}),
      format: 'armored',
      date: new Date(now),
    });
    const control = `Content-Type: application/pgp-encrypted${CRLF}Content-Description: PGP/MIME version identification${CRLF}${CRLF}Version: 1${CRLF}`;
    const data =
      `Content-Type: application/octet-stream; name="encrypted.asc"${CRLF}` +
      `Content-Description: OpenPGP encrypted message${CRLF}` +
      `Content-Disposition: inline; filename="encrypted.asc"${CRLF}${CRLF}` +
      canonicalArmor(armored);
    const b = boundary(control, data);
    return (
      `Content-Type: multipart/encrypted;${CRLF} protocol="application/pgp-encrypted";${CRLF} boundary="${b}"${CRLF}${CRLF}` +
      `This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)${CRLF}` +
      `--${b}${CRLF}${control}${CRLF}--${b}${CRLF}${data}--${b}--${CRLF}`
    );
  }

  private requireKey(): openpgp.PrivateKey {
    if (!this.key) throw new Error('PgpMime: no hub key (the caller checks canSign first)');
    return this.key;
  }
}

/** See EmailSecurity.validatePgpPublicKey. */
export async function validatePgpPublicKey(armored: string, now: number = Date.now()): Promise<string | null> {
  const read = await readPublicKey(armored, now);
  return typeof read === 'string' ? read : null;
}

/** The key, or why it cannot encrypt at `now`. */
async function readPublicKey(armored: string, now: number): Promise<openpgp.PublicKey | string> {
  let key: openpgp.Key;
  try {
    key = await openpgp.readKey({ armoredKey: armored });
  } catch (e) {
    return `not an OpenPGP public key: ${errorText(e)}`;
  }
  if (key.isPrivate()) return 'this is a private key: give the public key only (gpg --armor --export)';
  const date = new Date(now);
  try {
    await key.verifyPrimaryKey(date);
  } catch (e) {
    return `the key is not valid: ${errorText(e)}`.replace(/Primary key is (\w+)/, 'it is $1');
  }
  try {
    await key.getEncryptionKey(undefined, date);
  } catch {
    return 'the key has no valid encryption subkey';
  }
  return key;
}

/** openpgp armors with LF; every line of a MIME part ends with CRLF. */
function canonicalArmor(armored: string): string {
  const text = armored.replace(/\r\n|\r|\n/g, CRLF);
  return text.endsWith(CRLF) ? text : text + CRLF;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
