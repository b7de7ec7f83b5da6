import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { base64Lines, multipartSigned, signable } from './mime.js';

const CRLF = '\r\n';

/**
 * S/MIME (RFC 8551) with node-forge's PKCS#7: multipart/signed with a detached SignedData (SHA-256),
 * and EnvelopedData with AES-256-CBC as application/pkcs7-mime. Sign+encrypt envelopes the
 * multipart/signed entity (§3.7: sign, then encrypt). forge's RSA key transport is PKCS#1 v1.5, so
 * every certificate involved carries an RSA key.
 */
export class Smime {
  private constructor(private readonly signer: { key: forge.pki.rsa.PrivateKey; chain: forge.pki.Certificate[] } | null) {}

  /** The hub's key and certificate (chain) from PARLEY_SMIME_KEY_FILE / PARLEY_SMIME_CERT_FILE; throws a clear Error if they cannot be used. */
  static load(keyFile: string | undefined, certFile: string | undefined): Smime {
    if (!keyFile && !certFile) return new Smime(null);
    if (!keyFile || !certFile) throw new Error('PARLEY_SMIME_KEY_FILE and PARLEY_SMIME_CERT_FILE go together');
    let key: forge.pki.rsa.PrivateKey;
    try {
      key = forge.pki.privateKeyFromPem(readFileSync(keyFile, 'utf8')) as forge.pki.rsa.PrivateKey;
    } catch (e) {
      throw new Error(`PARLEY_SMIME_KEY_FILE (${keyFile}) is not an unencrypted PEM RSA private key: ${errorText(e)}`);
    }
    let chain: forge.pki.Certificate[];
    try {
      chain = forge.pem
        .decode(readFileSync(certFile, 'utf8'))
        .filter((m) => m.type === 'CERTIFICATE')
        .map((m) => forge.pki.certificateFromAsn1(forge.asn1.fromDer(m.body)));
    } catch (e) {
      throw new Error(`PARLEY_SMIME_CERT_FILE (${certFile}) is not a PEM RSA certificate: ${errorText(e)}`);
    }
    const cert = chain[0];
    if (!cert) throw new Error(`PARLEY_SMIME_CERT_FILE (${certFile}) holds no PEM certificate`);
    if (!(cert.publicKey as forge.pki.rsa.PublicKey).n.equals(key.n)) {
      throw new Error(`PARLEY_SMIME_CERT_FILE (${certFile}) does not belong to the key in PARLEY_SMIME_KEY_FILE (the first certificate must be the hub's)`);
    }
    return new Smime({ key, chain });
  }

  /** False without a hub certificate, or outside its validity. */
  canSign(now: number): boolean {
    const cert = this.signer?.chain[0];
    return !!cert && certificateProblem(cert, now) === null;
  }

  /** The recipient's certificate if it is usable at `now`, else null. */
  recipientCertificate(pem: string | null, now: number): forge.pki.Certificate | null {
    if (!pem) return null;
    const read = readCertificate(pem, now);
    return typeof read === 'string' ? null : read;
  }

  /** multipart/signed with a detached application/pkcs7-signature. */
  sign(entity: string): string {
    if (!this.signer) throw new Error('Smime: no hub certificate (the caller checks canSign first)');
    const signed = signable(entity);
    const p7 = forge.pkcs7.createSignedData();
    p7.content = forge.util.createBuffer(Buffer.from(signed, 'utf8').toString('binary'));
    for (const c of this.signer.chain) p7.addCertificate(c);
    p7.addSigner({
      key: this.signer.key,
      certificate: this.signer.chain[0]!,
      digestAlgorithm: forge.pki.oids.sha256!,
      authenticatedAttributes: [
        { type: forge.pki.oids.contentType!, value: forge.pki.oids.data! },
        { type: forge.pki.oids.messageDigest! },
        { type: forge.pki.oids.signingTime! }, // forge fills in the current time
      ],
    });
    p7.sign({ detached: true });
    const part =
      `Content-Type: application/pkcs7-signature; name="smime.p7s"${CRLF}` +
      `Content-Transfer-Encoding: base64${CRLF}` +
      `Content-Disposition: attachment; filename="smime.p7s"${CRLF}` +
      `Content-Description: S/MIME Cryptographic Signature${CRLF}${CRLF}` +
      base64Lines(der(p7.toAsn1()));
    return multipartSigned(
      (b) => `multipart/signed; protocol="application/pkcs7-signature";${CRLF} micalg=sha-256;${CRLF} boundary="${b}"`,
      'This is an S/MIME signed message',
      signed,
      part,
    );
  }

  /** application/pkcs7-mime; smime-type=enveloped-data, AES-256-CBC, the key wrapped for `recipient`. */
  encrypt(entity: string, recipient: forge.pki.Certificate): string {
    const p7 = forge.pkcs7.createEnvelopedData();
    p7.addRecipient(recipient);
    p7.content = forge.util.createBuffer(Buffer.from(entity, 'utf8').toString('binary'));
    p7.encrypt(undefined, forge.pki.oids['aes256-CBC']);
    return (
      `Content-Type: application/pkcs7-mime; smime-type=enveloped-data;${CRLF} name="smime.p7m"${CRLF}` +
      `Content-Transfer-Encoding: base64${CRLF}` +
      `Content-Disposition: attachment; filename="smime.p7m"${CRLF}` +
      `Content-Description: S/MIME Encrypted Message${CRLF}${CRLF}` +
      base64Lines(der(p7.toAsn1()))
    );
  }
}

/** See EmailSecurity.validateSmimeCertificate. */
export function validateSmimeCertificate(pem: string, now: number): string | null {
  const read = readCertificate(pem, now);
  return typeof read === 'string' ? read : null;
}

/** The first certificate of `pem`, or why it cannot be used at `now`. */
function readCertificate(pem: string, now: number): forge.pki.Certificate | string {
  let cert: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromPem(pem);
  } catch (e) {
    const text = errorText(e);
    // forge parses only RSA keys and says so for any other algorithm.
    if (/not RSA/i.test(text)) return 'the certificate has no RSA public key (S/MIME encryption here needs RSA)';
    return `not a PEM X.509 certificate: ${text}`;
  }
  if (!(cert.publicKey as Partial<forge.pki.rsa.PublicKey>).n) return 'the certificate has no RSA public key (S/MIME encryption here needs RSA)';
  return certificateProblem(cert, now) ?? cert;
}

function certificateProblem(cert: forge.pki.Certificate, now: number): string | null {
  if (now > cert.validity.notAfter.getTime()) return `the certificate expired on ${cert.validity.notAfter.toISOString()}`;
  if (now < cert.validity.notBefore.getTime()) return `the certificate is not valid before ${cert.validity.notBefore.toISOString()}`;
  return null;
}

function der(asn1: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
