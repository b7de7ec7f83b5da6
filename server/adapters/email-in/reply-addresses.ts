import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock, InboundStore, OurAddress, ReplyAddresses } from '../../core/ports/index.js';

/** One signing key; the last of the list signs, every one verifies (so a key can be rotated out slowly). */
export interface ReplyKey {
  /** One character of [a-z0-9]: the address names which key signed it. */
  id: string;
  secret: string;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lowercase, no padding. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(s: string): Buffer | null {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of s) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return null;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** `r{keyId}{base32(rid[10] ‖ mac[10])}`: 34 characters. */
const REPLY = /^r([a-z0-9])([a-z2-7]{32})$/;
/** `b{keyId}{base32(emailId ‖ mac[8])}`: a bounce address naming one outbox email. */
const BOUNCE = /^b([a-z0-9])([a-z2-7]{16,60})$/;

/**
 * Reply and VERP bounce addresses signed with HMAC-SHA256 (EMAIL.md "Inbound"). A reply address binds
 * a random row id (stored: InboundStore.replyRid) to one (conversation, participant); the MAC covers the
 * id and both names, so neither a guessed id nor a moved one verifies. Lowercase base32 survives case
 * folding; there is no `+` for list software to drop.
 */
export class HmacReplyAddresses implements ReplyAddresses {
  readonly domain: string;
  private readonly keys: Map<string, string>;
  private readonly current: ReplyKey;

  constructor(private readonly o: { domain: string; keys: ReplyKey[]; store: Pick<InboundStore, 'replyRid' | 'replyTarget'>; clock: Clock }) {
    if (o.keys.length === 0) throw new Error('reply addresses need a key');
    for (const k of o.keys) if (!/^[a-z0-9]$/.test(k.id)) throw new Error(`reply key id must be one of [a-z0-9]: ${k.id}`);
    this.domain = o.domain.toLowerCase();
    this.keys = new Map(o.keys.map((k) => [k.id, k.secret]));
    this.current = o.keys.at(-1)!;
  }

  async replyAddress(conversationId: string, participantId: string): Promise<string> {
    const rid = await this.o.store.replyRid(conversationId, participantId, randomBytes(10).toString('hex'), this.o.clock.now());
    const mac = this.mac(this.current.secret, ['reply', rid, conversationId, participantId], 10);
    return `r${this.current.id}${base32(Buffer.concat([Buffer.from(rid, 'hex'), mac]))}@${this.domain}`;
  }

  bounceAddress(emailId: string): string {
    const id = Buffer.from(emailId, 'utf8');
    const mac = this.mac(this.current.secret, ['bounce', emailId], 8);
    return `b${this.current.id}${base32(Buffer.concat([id, mac]))}@${this.domain}`;
  }

  async classify(address: string): Promise<OurAddress | null> {
    const at = address.lastIndexOf('@');
    if (at < 0 || address.slice(at + 1).toLowerCase() !== this.domain) return null;
    const local = address.slice(0, at).toLowerCase();
    const reply = REPLY.exec(local);
    if (reply) {
      const secret = this.keys.get(reply[1]!);
      const bytes = unbase32(reply[2]!);
      if (!secret || !bytes || bytes.length !== 20) return { kind: 'bad_signature' };
      const rid = bytes.subarray(0, 10).toString('hex');
      const target = await this.o.store.replyTarget(rid);
      if (!target) return { kind: 'bad_signature' };
      const expected = this.mac(secret, ['reply', rid, target.conversationId, target.participantId], 10);
      return timingSafeEqual(expected, bytes.subarray(10)) ? { kind: 'reply', ...target } : { kind: 'bad_signature' };
    }
    const bounce = BOUNCE.exec(local);
    if (bounce) {
      const secret = this.keys.get(bounce[1]!);
      const bytes = unbase32(bounce[2]!);
      if (!secret || !bytes || bytes.length <= 8) return { kind: 'bad_signature' };
      const emailId = bytes.subarray(0, bytes.length - 8).toString('utf8');
      const expected = this.mac(secret, ['bounce', emailId], 8);
      return timingSafeEqual(expected, bytes.subarray(bytes.length - 8)) ? { kind: 'bounce', emailId } : { kind: 'bad_signature' };
    }
    return null;
  }

  private mac(secret: string, parts: string[], bytes: number): Buffer {
    return createHmac('sha256', secret).update(parts.join('\0')).digest().subarray(0, bytes);
  }
}
