import { createHmac, timingSafeEqual, webcrypto } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import { LocaleSchema, NameSchema, ParticipantIdSchema, ProtocolError } from '../../../protocol/index.js';
import type { CustomerLinkClaims, TokenClaims, Tokens } from '../../core/ports/index.js';

const ClaimsSchema = z.object({
  sub: ParticipantIdSchema,
  exp: z.number().int(),
  iat: z.number().optional(),
  kind: z.enum(['user', 'customer', 'bot']).optional(),
  // Well-formed and not blank, like a name given over HTTP (SPEC §3 Text).
  name: NameSchema.optional(),
  email: z.email().max(254).optional(),
  locale: LocaleSchema.optional(),
  admin: z.boolean().optional(),
});

/** Session tokens as JWTs signed HS256 with the hub's secret (SPEC §3 Token). */
export class JoseTokens implements Tokens {
  /** The HMAC key, imported once (given raw bytes, jose would import it again for every token). */
  private readonly key: Promise<webcrypto.CryptoKey>;
  /** A key of its own for unsubscribe links, derived so that it can never verify as a session token. */
  private readonly unsubscribeKey: Buffer;
  /** And one for customer links (SPEC §6 PARLEY_CUSTOMER_URL), so neither kind verifies as the other. */
  private readonly customerLinkKey: Buffer;

  constructor(opts: { secret: string }) {
    this.key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(opts.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    this.unsubscribeKey = createHmac('sha256', opts.secret).update('parley/unsubscribe/v1').digest();
    this.customerLinkKey = createHmac('sha256', opts.secret).update('parley/customer-link/v1').digest();
  }

  /**
   * `<base64url(participantId)>.<conversationId>.<expiresAt, ms, base 36>.<mac>`: the MAC (HMAC-SHA256,
   * 128 bits) covers all three fields, so changing the participant, the conversation or the expiry
   * makes it fail. URL- and fragment-safe.
   */
  signCustomerLink(participantId: string, conversationId: string, expiresAt: number): string {
    const payload = `${Buffer.from(participantId).toString('base64url')}.${conversationId}.${Math.floor(expiresAt).toString(36)}`;
    return `${payload}.${this.customerLinkMac(payload)}`;
  }

  verifyCustomerLink(link: string, now = Date.now()): CustomerLinkClaims {
    const m = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{1,64})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/.exec(link);
    if (!m) throw new ProtocolError('unauthenticated', 'not a valid link');
    const expected = Buffer.from(this.customerLinkMac(`${m[1]}.${m[2]}.${m[3]}`));
    const given = Buffer.from(m[4]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ProtocolError('unauthenticated', 'not a valid link');
    const expiresAt = parseInt(m[3]!, 36);
    if (expiresAt <= now) throw new ProtocolError('token_expired', 'this link has expired');
    return { participantId: Buffer.from(m[1]!, 'base64url').toString('utf8'), conversationId: m[2]!, expiresAt };
  }

  private customerLinkMac(payload: string): string {
    return createHmac('sha256', this.customerLinkKey).update(payload).digest().subarray(0, 16).toString('base64url');
  }

  signUnsubscribe(participantId: string): string {
    const id = Buffer.from(participantId).toString('base64url');
    return `${id}.${this.unsubscribeMac(id)}`;
  }

  verifyUnsubscribe(token: string): string | null {
    const m = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{22})$/.exec(token);
    if (!m) return null;
    const expected = Buffer.from(this.unsubscribeMac(m[1]!));
    const given = Buffer.from(m[2]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return Buffer.from(m[1]!, 'base64url').toString('utf8');
  }

  private unsubscribeMac(encodedId: string): string {
    return createHmac('sha256', this.unsubscribeKey).update(encodedId).digest().subarray(0, 16).toString('base64url');
  }

  async sign(sub: string, ttlSeconds: number, extra: { admin?: boolean } = {}): Promise<{ token: string; expiresAt: number }> {
    const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
    const token = await new SignJWT(extra.admin ? { admin: true } : {}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub).setIssuedAt().setExpirationTime(exp).sign(await this.key);
    return { token, expiresAt: exp * 1000 };
  }

  async verify(token: string): Promise<TokenClaims> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, await this.key, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new ProtocolError('token_expired', 'token expired');
      throw new ProtocolError('unauthenticated', 'invalid token');
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) throw new ProtocolError('unauthenticated', 'invalid token claims');
    const c = claims.data;
    const out: TokenClaims = { sub: c.sub, expiresAt: c.exp * 1000 };
    if (c.iat !== undefined) out.issuedAt = c.iat * 1000;
    if (c.kind) out.kind = c.kind;
    if (c.name) out.name = c.name;
    if (c.email) out.email = c.email;
    if (c.locale) out.locale = c.locale;
    if (c.admin) out.admin = true;
    return out;
  }
}
