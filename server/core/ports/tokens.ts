import type { ParticipantKind } from '../../../protocol/index.js';

/** What a verified session token says. Claims beyond `sub` are present only when the token carries them. */
export interface TokenClaims {
  sub: string;
  expiresAt: number;
  /** `iat` in ms, when the token carries it. */
  issuedAt?: number;
  /** Just-in-time creation claims (SPEC §3 Token). */
  kind?: ParticipantKind;
  name?: string;
  email?: string;
  locale?: string;
}

/** Mints and verifies session tokens (JWT HS256 with the hub's secret). */
export interface Tokens {
  /** A token for `sub` that expires after `ttlSeconds`. */
  sign(sub: string, ttlSeconds: number): Promise<{ token: string; expiresAt: number }>;
  /**
   * Verify signature and expiry. Rejects with ProtocolError `token_expired` for an expired token and
   * `unauthenticated` for anything else wrong (signature, algorithm, missing `exp` or `sub`, bad claims).
   */
  verify(token: string): Promise<TokenClaims>;
  /** A token for the unsubscribe link of `participantId` (HMAC-signed, no expiry: old emails keep working). */
  signUnsubscribe(participantId: string): string;
  /** The participant an unsubscribe token names, or null when it is not one of ours. */
  verifyUnsubscribe(token: string): string | null;
}
