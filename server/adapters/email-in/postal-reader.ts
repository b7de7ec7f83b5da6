import PostalMime, { addressParser, decodeWords } from 'postal-mime';
import type { Address, Attachment, Email, Mailbox, PostalMimeOptions } from 'postal-mime';
import {
  MalformedEmailError,
  type BounceReport,
  type EmailReader,
  type MailAddress,
  type ParsedEmail,
} from '../../core/ports/inbound.js';
import { parseDeliveryStatus } from './delivery-status.js';
import { replyTextOf } from './reply-text.js';

export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_NESTING_DEPTH = 32;
export const DEFAULT_MAX_PARTS = 1000;
export const DEFAULT_MAX_HEADERS_BYTES = 1024 * 1024;

export interface PostalReaderOptions {
  /** Larger raw input is refused before parsing (the caller also enforces PARLEY_INBOUND_MAX_BYTES). */
  maxBytes?: number;
  /** MIME nesting depth (postal-mime's `maxNestingDepth`). */
  maxNestingDepth?: number;
  /** MIME parts in the whole message, forwarded messages included (postal-mime's `maxPartCount`). */
  maxParts?: number;
  /** Header bytes in the whole message (postal-mime's `maxHeadersSize`). */
  maxHeadersBytes?: number;
}

/** How much of a returned message is read to find its Message-ID: its header block is enough. */
const MAX_RETURNED_HEADER_BYTES = 256 * 1024;
const MAX_FILENAME_CHARS = 255;
/** C0 and C1 controls (CR and LF among them) and bidirectional overrides, which a name shown to people must not carry. */
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Parses inbound mail with postal-mime under its own limits; the quote stripping lives in reply-text.ts. */
export class PostalReader implements EmailReader {
  private readonly maxBytes: number;
  private readonly postalOptions: PostalMimeOptions;

  constructor(options: PostalReaderOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.postalOptions = {
      attachmentEncoding: 'arraybuffer',
      maxNestingDepth: options.maxNestingDepth ?? DEFAULT_MAX_NESTING_DEPTH,
      maxPartCount: options.maxParts ?? DEFAULT_MAX_PARTS,
      maxHeadersSize: options.maxHeadersBytes ?? DEFAULT_MAX_HEADERS_BYTES,
      // A forward inside a forward inside a reply is already unusual.
      maxRfc822NestingDepth: 3,
      maxForwardedAddresses: 1000,
    };
    // postal-mime validates its options when constructed: a bad limit fails here, at wiring, not per email.
    new PostalMime(this.postalOptions);
  }

  async parse(raw: Uint8Array): Promise<ParsedEmail> {
    if (raw.byteLength > this.maxBytes) {
      throw new MalformedEmailError(`email of ${raw.byteLength} bytes is over the ${this.maxBytes}-byte limit`);
    }
    let email: Email;
    try {
      email = await new PostalMime(this.postalOptions).parse(raw);
    } catch (err) {
      // postal-mime throws only for its limits (EMAX*) on well-formed options; malformed content is recovered from.
      throw new MalformedEmailError(`unparseable email: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    try {
      return await this.toParsed(email);
    } catch (err) {
      throw new MalformedEmailError(`unreadable email: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }

  replyText(email: ParsedEmail, marker: string): string {
    return replyTextOf(email, marker);
  }

  private async toParsed(email: Email): Promise<ParsedEmail> {
    const headers = new Map<string, string[]>();
    for (const header of email.headers) {
      const key = header.key.trim();
      const values = headers.get(key) ?? [];
      values.push(safeText(decodeWords(header.value)));
      headers.set(key, values);
    }
    const rawHeader = (key: string): string[] => email.headers.filter((h) => h.key.trim() === key).map((h) => h.value);

    const deliveredTo: string[] = [];
    for (const value of [...rawHeader('delivered-to'), ...rawHeader('x-original-to')]) {
      for (const mailbox of mailboxes(addressParser(value))) {
        if (!deliveredTo.includes(mailbox.address)) deliveredTo.push(mailbox.address);
      }
    }

    const date = email.date === undefined ? Number.NaN : Date.parse(email.date);
    return {
      messageId: firstId(email.messageId),
      inReplyTo: firstId(email.inReplyTo),
      references: allIds(rawHeader('references').join(' ')),
      from: email.from === undefined ? null : (mailboxes([email.from])[0] ?? null),
      to: mailboxes(email.to ?? []),
      cc: mailboxes(email.cc ?? []),
      deliveredTo,
      returnPath: returnPathOf(rawHeader('return-path')[0]),
      subject: safeText(email.subject ?? ''),
      date: Number.isFinite(date) ? date : null,
      headers,
      // postal-mime renders one text type from the other only when both occur somewhere, so a missing
      // part stays undefined: an HTML-only email has no `text`.
      text: email.text ?? null,
      html: email.html ?? null,
      attachments: email.attachments.map((a) => ({
        filename: safeText(a.filename ?? '').slice(0, MAX_FILENAME_CHARS),
        contentType: a.mimeType,
        size: byteLength(a),
      })),
      bounce: isDeliveryReport(rawHeader('content-type')[0]) ? await bounceOf(email.attachments) : null,
    };
  }
}

function safeText(value: string): string {
  return value.replace(UNSAFE_CHARS, ' ').replace(/ {2,}/g, ' ').trim();
}

function mailboxes(addresses: Address[]): MailAddress[] {
  const out: MailAddress[] = [];
  const add = (mailbox: Mailbox): void => {
    const address = safeText(mailbox.address).toLowerCase();
    // An encoded word that decodes to a mailbox gives a name and no address: nothing to answer or match.
    if (address !== '') out.push({ name: safeText(mailbox.name), address });
  };
  for (const address of addresses) {
    if (address.group !== undefined) address.group.forEach(add);
    else add(address);
  }
  return out;
}

function allIds(value: string): string[] {
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] ?? '');
  if (bracketed.length > 0) return bracketed.filter((id) => id !== '');
  // Some software writes ids without brackets.
  return value.split(/[\s,]+/).filter((id) => id.includes('@'));
}

function firstId(value: string | undefined): string | null {
  return value === undefined ? null : (allIds(value)[0] ?? null);
}

function returnPathOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  const inner = value.trim().replace(/^<|>$/g, '').trim();
  if (inner === '') return '';
  return mailboxes(addressParser(value))[0]?.address ?? inner.toLowerCase();
}

function byteLength(attachment: Attachment): number {
  const content = attachment.content;
  return typeof content === 'string' ? new TextEncoder().encode(content).byteLength : content.byteLength;
}

function isDeliveryReport(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  return (
    type === 'multipart/report' &&
    params.some((p) => /^report-type\s*=\s*"?(delivery-status|global-delivery-status)"?$/.test(p))
  );
}

async function bounceOf(
  attachments: Attachment[],
): Promise<{ reports: BounceReport[]; originalMessageId: string | null }> {
  const status = attachments.find((a) => ['message/delivery-status', 'message/global-delivery-status'].includes(a.mimeType));
  const reports = status === undefined ? [] : parseDeliveryStatus(new TextDecoder().decode(bytesOf(status)));
  const returned = attachments.find((a) =>
    ['message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers'].includes(a.mimeType),
  );
  let originalMessageId: string | null = null;
  if (returned !== undefined) {
    // Only the header block matters; postal-mime reads it like any message.
    const header = await PostalMime.parse(headerBlock(bytesOf(returned)), {
      maxNestingDepth: 2,
      maxPartCount: 2,
      maxRfc822NestingDepth: 0,
    }).catch((err: unknown) => {
      // A returned message we cannot read still leaves a bounce with its reports.
      if (err instanceof Error && 'code' in err) return null;
      throw err;
    });
    originalMessageId = firstId(header?.messageId);
  }
  return { reports, originalMessageId };
}

function bytesOf(attachment: Attachment): Uint8Array {
  const content = attachment.content;
  return typeof content === 'string' ? new TextEncoder().encode(content) : new Uint8Array(content);
}

function headerBlock(bytes: Uint8Array): Uint8Array {
  const head = bytes.subarray(0, MAX_RETURNED_HEADER_BYTES);
  for (let i = 0; i + 1 < head.length; i++) {
    if (head[i] === 0x0a && (head[i + 1] === 0x0a || (head[i + 1] === 0x0d && head[i + 2] === 0x0a))) {
      return head.subarray(0, i + 1);
    }
  }
  return head;
}
