import type { EmailSecurityMode } from '../../../protocol/index.js';
import type { EmailSecurity, EmailSecurityOptions, EmailSecurityRecipient, SecuredEmail } from '../../core/ports/index.js';
import { joinMessage, splitMessage } from './mime.js';
import { PgpMime, validatePgpPublicKey } from './pgp-mime.js';
import { Smime, validateSmimeCertificate } from './smime.js';

export { PgpMime, validatePgpPublicKey } from './pgp-mime.js';
export { Smime, validateSmimeCertificate } from './smime.js';

export interface EmailSecurityFiles {
  /** PARLEY_PGP_KEY_FILE: the hub's OpenPGP secret key (armored or binary). */
  pgpKeyFile?: string | undefined;
  /** PARLEY_PGP_PASSPHRASE: unlocks it, if it is protected. */
  pgpPassphrase?: string | undefined;
  /** PARLEY_SMIME_KEY_FILE: the hub's unencrypted PEM RSA private key. */
  smimeKeyFile?: string | undefined;
  /** PARLEY_SMIME_CERT_FILE: its PEM certificate, optionally followed by the issuing chain. */
  smimeCertFile?: string | undefined;
  /** Milliseconds since the epoch, for key and certificate validity (default Date.now). */
  now?: () => number;
}

/**
 * The hub's EmailSecurity. Reads and checks the key files now: an unreadable, unparsable or locked
 * key, or a certificate that is not the key's, rejects with an Error naming the variable — at
 * start-up, not at the first email. Async because openpgp parses and unlocks keys only asynchronously.
 */
export async function createEmailSecurity(files: EmailSecurityFiles = {}): Promise<EmailSecurity> {
  const pgp = await PgpMime.load(files.pgpKeyFile, files.pgpPassphrase);
  const smime = Smime.load(files.smimeKeyFile, files.smimeCertFile);
  return new MimeEmailSecurity(pgp, smime, files.now ?? Date.now);
}

class MimeEmailSecurity implements EmailSecurity {
  constructor(
    private readonly pgp: PgpMime,
    private readonly smime: Smime,
    private readonly now: () => number,
  ) {}

  async secure(raw: string, mode: EmailSecurityMode, recipient: EmailSecurityRecipient, opts: EmailSecurityOptions): Promise<SecuredEmail> {
    const now = this.now();
    const wantSign = mode.includes('Sign');
    const wantCrypt = mode.endsWith('Crypt');
    if (mode.startsWith('PGP')) {
      const canSign = wantSign && (await this.pgp.canSign(now));
      const key = wantCrypt ? await this.pgp.recipientKey(recipient.pgpPublicKey, now) : null;
      const plan = decide(wantSign, canSign, wantCrypt, key !== null, opts);
      if (plan === 'skip') return { skipped: 'missing_key' };
      if (!plan.sign && !plan.crypt) return { raw };
      const { outer, entity } = splitMessage(raw);
      const secured = key && plan.crypt ? await this.pgp.encrypt(entity, key, plan.sign, now) : await this.pgp.sign(entity, now);
      return { raw: joinMessage(outer, secured) };
    }
    const canSign = wantSign && this.smime.canSign(now);
    const cert = wantCrypt ? this.smime.recipientCertificate(recipient.smimeCertificate, now) : null;
    const plan = decide(wantSign, canSign, wantCrypt, cert !== null, opts);
    if (plan === 'skip') return { skipped: 'missing_key' };
    if (!plan.sign && !plan.crypt) return { raw };
    const { outer, entity } = splitMessage(raw);
    const inner = plan.sign ? this.smime.sign(entity) : entity;
    return { raw: joinMessage(outer, cert && plan.crypt ? this.smime.encrypt(inner, cert) : inner) };
  }

  validatePgpPublicKey(armored: string, now?: number): Promise<string | null> {
    return validatePgpPublicKey(armored, now ?? this.now());
  }

  validateSmimeCertificate(pem: string, now: number): string | null {
    return validateSmimeCertificate(pem, now);
  }
}

/** What to do with the halves the mode asks for, given which keys are there (NOTIFICATIONS §3). */
function decide(wantSign: boolean, canSign: boolean, wantCrypt: boolean, canCrypt: boolean, opts: EmailSecurityOptions): 'skip' | { sign: boolean; crypt: boolean } {
  if (wantSign && !canSign && opts.missingSigningKeys === 'skip') return 'skip';
  if (wantCrypt && !canCrypt && opts.missingCryptingKeys === 'skip') return 'skip';
  return { sign: wantSign && canSign, crypt: wantCrypt && canCrypt };
}
