import type { EmailSecurityMode } from '../../../protocol/index.js';

/** The recipient's keys as the participant stores them (NOTIFICATIONS §1); null: none given. */
export interface EmailSecurityRecipient {
  /** ASCII-armored OpenPGP public key. */
  pgpPublicKey: string | null;
  /** PEM X.509 certificate with an RSA key. */
  smimeCertificate: string | null;
}

/** A definition's `security.missingSigningKeys` / `missingCryptingKeys` (protocol/notifications.ts). */
export interface EmailSecurityOptions {
  missingSigningKeys: 'skip' | 'send_unsigned';
  missingCryptingKeys: 'skip' | 'send_unencrypted';
}

export type SecuredEmail = { raw: string } | { skipped: 'missing_key' };

/**
 * Signs and/or encrypts a finished email (NOTIFICATIONS §3 "Email security") as PGP/MIME (RFC 3156)
 * or S/MIME (RFC 8551), with the hub's key and the recipient's. What it sends verifies and decrypts
 * with `gpg` and `openssl smime`. Safe to call concurrently; it holds no state between calls.
 */
export interface EmailSecurity {
  /**
   * `raw` is a complete RFC 5322 message as the composer builds it. The result keeps every outer header
   * (From, To, Subject, Date, Message-ID, threading, Auto-Submitted, List-*, Reply-To …) and replaces
   * the body and its MIME headers (MIME-Version, Content-*) by the secured entity; the original MIME
   * headers move inside it. Line endings are CRLF.
   *
   * Missing keys: no hub key for the mode's family (or one that can no longer sign) is a missing
   * signing key; no recipient key or certificate, or one that is unusable (unparsable, expired,
   * revoked, no encryption key), is a missing crypting key. `skip` for either resolves
   * `{ skipped: 'missing_key' }` (the caller audits it); `send_unsigned` / `send_unencrypted` drops that
   * half; with both halves dropped, `raw` comes back unchanged. Rejects only on a bug or a crypto
   * library failure, never for a missing key.
   */
  secure(raw: string, mode: EmailSecurityMode, recipient: EmailSecurityRecipient, opts: EmailSecurityOptions): Promise<SecuredEmail>;
  /**
   * For the host API when a participant is stored: null when `armored` is a public key that can
   * encrypt now, else the reason (unparsable, a private key, no encryption subkey, expired or revoked).
   */
  validatePgpPublicKey(armored: string, now?: number): Promise<string | null>;
  /**
   * For the host API when a participant is stored: null when `pem` is a certificate valid at `now` (ms)
   * with an RSA public key, else the reason (unparsable, expired, not yet valid, no RSA public key).
   */
  validateSmimeCertificate(pem: string, now: number): string | null | Promise<string | null>;
}
