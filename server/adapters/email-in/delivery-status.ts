import type { BounceReport } from '../../core/ports/inbound.js';

/** A DSN lists one block per recipient; more than this is not a report we act on. */
const MAX_REPORTS = 1000;
/** The machine-readable part is a few hundred bytes per recipient. */
const MAX_STATUS_CHARS = 256 * 1024;

const STATUS_CODE = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

/**
 * The per-recipient blocks of a `message/delivery-status` body (RFC 3464 §2.3): header-style fields,
 * blocks separated by blank lines, the first block being the per-message fields.
 */
export function parseDeliveryStatus(body: string): BounceReport[] {
  const reports: BounceReport[] = [];
  for (const fields of fieldBlocks(body.slice(0, MAX_STATUS_CHARS))) {
    const recipient = addressOf(fields.get('final-recipient')) ?? addressOf(fields.get('original-recipient'));
    if (recipient === null) continue;
    const action = (fields.get('action') ?? '').trim().toLowerCase();
    const status = STATUS_CODE.exec(fields.get('status') ?? '')?.[0] ?? '';
    reports.push({ recipient, action, status, permanent: action === 'failed' || status.startsWith('5.') });
    if (reports.length >= MAX_REPORTS) break;
  }
  return reports;
}

function fieldBlocks(body: string): Array<Map<string, string>> {
  const blocks: Array<Map<string, string>> = [];
  let current = new Map<string, string>();
  let lastName: string | null = null;
  for (const line of body.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (current.size > 0) blocks.push(current);
      current = new Map();
      lastName = null;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && lastName !== null) {
      current.set(lastName, `${current.get(lastName) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    lastName = line.slice(0, colon).trim().toLowerCase();
    // The first occurrence wins, as for any single-valued field.
    if (!current.has(lastName)) current.set(lastName, line.slice(colon + 1).trim());
  }
  if (current.size > 0) blocks.push(current);
  return blocks;
}

/** `rfc822; user@example.com` (address-type, then the address) → `user@example.com`. */
function addressOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  const semicolon = value.indexOf(';');
  const address = (semicolon >= 0 ? value.slice(semicolon + 1) : value).trim().replace(/^<|>$/g, '').trim();
  return address === '' ? null : address.toLowerCase();
}
