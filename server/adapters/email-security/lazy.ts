import type { EmailSecurityMode } from '../../../protocol/index.js';
import type { EmailSecurity, EmailSecurityOptions, EmailSecurityRecipient, SecuredEmail } from '../../core/ports/index.js';
import type { EmailSecurityFiles } from './index.js';

/**
 * The hub's EmailSecurity, loading openpgp and node-forge (about 29 MB resident) only when needed.
 * With key files configured they are read and checked at start-up, as `createEmailSecurity` does;
 * without, the libraries load on first use (a definition that signs or encrypts, a participant stored
 * with a key or certificate) — a hub that uses neither never loads them.
 */
export async function emailSecurity(files: EmailSecurityFiles): Promise<EmailSecurity> {
  const configured = Boolean(files.pgpKeyFile || files.smimeKeyFile || files.smimeCertFile);
  const load = () => import('./index.js').then((m) => m.createEmailSecurity(files));
  if (configured) return load();
  let loading: Promise<EmailSecurity> | null = null;
  const get = () => (loading ??= load());
  return {
    secure: async (raw: string, mode: EmailSecurityMode, recipient: EmailSecurityRecipient, opts: EmailSecurityOptions): Promise<SecuredEmail> => (await get()).secure(raw, mode, recipient, opts),
    validatePgpPublicKey: async (armored: string, now?: number) => (await get()).validatePgpPublicKey(armored, now),
    validateSmimeCertificate: async (pem: string, now: number) => (await get()).validateSmimeCertificate(pem, now),
  };
}
