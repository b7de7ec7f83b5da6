import { SignJWT, errors, jwtVerify } from 'jose';
import { z } from 'zod';
import { LocaleSchema, ParticipantIdSchema, ProtocolError } from '../../../protocol/index.js';
import type { TokenClaims, Tokens } from '../../core/ports/index.js';

const ClaimsSchema = z.object({
  sub: ParticipantIdSchema,
  exp: z.number().int(),
  kind: z.enum(['user', 'customer', 'bot']).optional(),
  name: z.string().min(1).max(200).optional(),
  email: z.email().max(254).optional(),
  locale: LocaleSchema.optional(),
});

/** Session tokens as JWTs signed HS256 with the hub's secret (SPEC §3 Token). */
export class JoseTokens implements Tokens {
  private readonly key: Uint8Array;

  constructor(opts: { secret: string }) {
    this.key = new TextEncoder().encode(opts.secret);
  }

  async sign(sub: string, ttlSeconds: number): Promise<{ token: string; expiresAt: number }> {
    const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub).setIssuedAt().setExpirationTime(exp).sign(this.key);
    return { token, expiresAt: exp * 1000 };
  }

  async verify(token: string): Promise<TokenClaims> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw new ProtocolError('token_expired', 'token expired');
      throw new ProtocolError('unauthenticated', 'invalid token');
    }
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) throw new ProtocolError('unauthenticated', 'invalid token claims');
    const c = claims.data;
    const out: TokenClaims = { sub: c.sub, expiresAt: c.exp * 1000 };
    if (c.kind) out.kind = c.kind;
    if (c.name) out.name = c.name;
    if (c.email) out.email = c.email;
    if (c.locale) out.locale = c.locale;
    return out;
  }
}
