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
  /** A user's session token that also opens the messaging center's admin routes (NOTIFICATIONS §8). */
  admin?: boolean;
}

/** Mints and verifies session tokens (JWT HS256 with the hub's secret). */
export interface Tokens {
  /** A token for `sub` that expires after `ttlSeconds`. */
  sign(sub: string, ttlSeconds: number, extra?: { admin?: boolean }): Promise<{ token: string; expiresAt: number }>;
  /**
   * Verify signature and expiry. Rejects with ProtocolError `token_expired` for an expired token and
   * `unauthenticated` for anything else wrong (signature, algorithm, missing `exp` or `sub`, bad claims).
   */
  verify(token: string): Promise<TokenClaims>;
  /** A token for the unsubscribe link of `participantId` (HMAC-signed, no expiry: old emails keep working). */
  signUnsubscribe(participantId: string): string;
  /** The participant an unsubscribe token names, or null when it is not one of ours. */
  verifyUnsubscribe(token: string): string | null;
  /**
   * The signed link of a customer's email to its conversation (PARLEY_CUSTOMER_URL's `#link=`): bound to
   * (participant, conversation), expiring at `expiresAt` (ms). HMAC-signed with a key of its own.
   */
  signCustomerLink(participantId: string, conversationId: string, expiresAt: number): string;
  /**
   * What a customer link names. Rejects with ProtocolError `token_expired` once it has expired and
   * `unauthenticated` for anything not signed by us (a changed participant or conversation included).
   */
  verifyCustomerLink(link: string, now?: number): CustomerLinkClaims;
}

/** A verified customer link. */
export interface CustomerLinkClaims {
  participantId: string;
  conversationId: string;
  expiresAt: number;
}
