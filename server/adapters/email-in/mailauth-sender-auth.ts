import { Resolver } from 'node:dns/promises';
import { authenticate, type DNSResolver } from 'mailauth';
import type { SenderAuth } from '../../core/ports/inbound.js';

export const DEFAULT_DMARC_TIMEOUT_MS = 10_000;
const DNS_TIMEOUT_MS = 2_000;

export interface MailauthSenderAuthOptions {
  /** DNS lookups `(name, rrtype)`, as mailauth calls them; defaults to the system's servers with a short timeout. */
  resolver?: DNSResolver;
  /** The verdict is `fail` when checking takes longer (a resolver that never answers must not hold an email). */
  timeoutMs?: number;
  /** This host's name in the Authentication-Results mailauth builds (unused here; defaults to os.hostname()). */
  mta?: string;
}

/**
 * DMARC through mailauth (SPF and DKIM, aligned with the From domain). Anything but a clear `pass` or a
 * domain without a policy (`none`) is `fail`: a temporary DNS error, a broken record or a message
 * mailauth cannot read has not authenticated its sender.
 */
export class MailauthSenderAuth implements SenderAuth {
  private readonly resolver: DNSResolver;
  private readonly timeoutMs: number;
  private readonly mta: string | undefined;

  constructor(options: MailauthSenderAuthOptions = {}) {
    this.resolver = options.resolver ?? systemResolver();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DMARC_TIMEOUT_MS;
    this.mta = options.mta;
  }

  async dmarc(
    raw: Uint8Array,
    envelope: { mailFrom: string; clientIp: string | null; helo: string | null },
  ): Promise<'pass' | 'fail' | 'none'> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'fail'>((resolve) => {
      timer = setTimeout(() => resolve('fail'), this.timeoutMs);
    });
    try {
      return await Promise.race([this.check(raw, envelope), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async check(
    raw: Uint8Array,
    envelope: { mailFrom: string; clientIp: string | null; helo: string | null },
  ): Promise<'pass' | 'fail' | 'none'> {
    try {
      const result = await authenticate(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
        // An empty MAIL FROM (a bounce) is checked as postmaster@helo (RFC 7208 §2.4), never as the Return-Path header.
        sender: envelope.mailFrom,
        ...(envelope.clientIp === null ? {} : { ip: envelope.clientIp }),
        ...(envelope.helo === null ? {} : { helo: envelope.helo }),
        ...(this.mta === undefined ? {} : { mta: this.mta }),
        resolver: this.resolver,
        // Neither changes the DMARC verdict; BIMI would also fetch logos over HTTPS.
        disableArc: true,
        disableBimi: true,
      });
      // `false`: no single From address to align with.
      if (result.dmarc === false) return 'fail';
      const verdict = result.dmarc.status.result;
      return verdict === 'pass' || verdict === 'none' ? verdict : 'fail';
    } catch {
      // mailauth rejects input it cannot read; such a sender is not authenticated.
      return 'fail';
    }
  }
}

function systemResolver(): DNSResolver {
  const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: 2 });
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}
