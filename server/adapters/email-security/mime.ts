import { randomBytes } from 'node:crypto';

const CRLF = '\r\n';

/** A composed message cut where securing it needs: the headers that stay outside, and the MIME entity that gets signed or encrypted. */
export interface SplitMessage {
  /** Header fields that are not about the body, each with its folding intact (lines joined by CRLF). */
  outer: string[];
  /** The body's MIME headers (every Content-*) and the body, in canonical CRLF form, ending with CRLF. */
  entity: string;
}

/** Every line break as CRLF (RFC 3156 §5, RFC 8551 §3.1.1: sign and encrypt the canonical form). */
export function canonical(s: string): string {
  return s.replace(/\r\n|\r|\n/g, CRLF);
}

export function splitMessage(raw: string): SplitMessage {
  const text = canonical(raw);
  const end = text.indexOf(CRLF + CRLF);
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 4);
  const fields: string[] = [];
  for (const line of head.split(CRLF)) {
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1] += CRLF + line;
    else if (line) fields.push(line);
  }
  const outer: string[] = [];
  const content: string[] = [];
  for (const f of fields) {
    const name = f.slice(0, f.indexOf(':')).trim().toLowerCase();
    if (name === 'mime-version') continue;
    (name.startsWith('content-') ? content : outer).push(f);
  }
  // RFC 2045 §5.2: a message without Content-Type is US-ASCII text; say so once it is nested.
  if (!content.some((f) => /^content-type\s*:/i.test(f))) content.unshift('Content-Type: text/plain; charset=us-ascii');
  const entity = content.join(CRLF) + CRLF + CRLF + body;
  return { outer, entity: entity.endsWith(CRLF) ? entity : entity + CRLF };
}

/** The outer headers again, then MIME-Version and the secured entity's own headers and body. */
export function joinMessage(outer: string[], entity: string): string {
  return [...outer, 'MIME-Version: 1.0'].join(CRLF) + CRLF + entity;
}

/** A boundary that does not occur in any of `parts` (RFC 2046 §5.1.1: 1–70 characters, no trailing space). */
export function boundary(...parts: string[]): string {
  for (;;) {
    const b = `=_parley_${randomBytes(15).toString('base64url')}`;
    if (!parts.some((p) => p.includes(b))) return b;
  }
}

/** Base64 in lines of 76 characters (RFC 2045 §6.8), CRLF after each. */
export function base64Lines(bytes: Buffer): string {
  const b64 = bytes.toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += b64.slice(i, i + 76) + CRLF;
  return out;
}

/**
 * multipart/signed (RFC 1847 §2.1): the first part is the signed entity exactly as signed — the CRLF
 * before the next boundary belongs to the delimiter, so `signed` must not end with one.
 */
export function multipartSigned(contentType: (b: string) => string, preamble: string, signed: string, signaturePart: string): string {
  const b = boundary(signed, signaturePart);
  const signature = signable(signaturePart);
  return (
    `Content-Type: ${contentType(b)}${CRLF}${CRLF}${preamble}${CRLF}` +
    `--${b}${CRLF}${signed}${CRLF}--${b}${CRLF}${signature}${CRLF}--${b}--${CRLF}`
  );
}

/** The signed data of a multipart/signed first part: the canonical entity without its final CRLF. */
export function signable(entity: string): string {
  return entity.endsWith(CRLF) ? entity.slice(0, -2) : entity;
}
