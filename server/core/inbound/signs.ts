import type { ParsedEmail } from '../ports/index.js';

/**
 * SPEC §8's signs that an email was written by a machine, not a person: RFC 3834's Auto-Submitted
 * (anything but `no`), the X-Autoreply / X-Autorespond headers, Precedence bulk / junk / list /
 * auto_reply, a List-Id (mailing lists), or the null Return-Path `<>`. `X-Auto-Response-Suppress` is a
 * request to others, not a sign. Pure.
 */
export function isAutoReply(e: ParsedEmail): boolean {
  const h = e.headers;
  const first = (name: string) => h.get(name)?.[0]?.trim().toLowerCase();
  const auto = first('auto-submitted');
  if (auto !== undefined && auto !== '' && !auto.startsWith('no')) return true;
  if (h.has('x-autoreply') || h.has('x-autorespond')) return true;
  const precedence = first('precedence');
  if (precedence !== undefined && ['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return true;
  if (h.has('list-id')) return true;
  return e.returnPath === '';
}

/** Every address an email was sent to, as received: To, Cc, Delivered-To, X-Original-To, the envelope. */
export function recipientsOf(e: ParsedEmail, envelopeTo: readonly string[]): string[] {
  const out = new Set<string>();
  for (const a of e.to) out.add(a.address);
  for (const a of e.cc) out.add(a.address);
  for (const a of e.deliveredTo) out.add(a.toLowerCase());
  for (const a of envelopeTo) out.add(a.toLowerCase());
  return [...out];
}

/** The Message-IDs an email answers, most direct first: In-Reply-To, then References newest first. */
export function answeredIds(e: ParsedEmail): string[] {
  const out: string[] = [];
  if (e.inReplyTo) out.push(e.inReplyTo);
  for (let i = e.references.length - 1; i >= 0; i--) if (!out.includes(e.references[i]!)) out.push(e.references[i]!);
  return out;
}

/** `12 KB`, `3.4 MB`: an attachment's size as the posted text names it. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
