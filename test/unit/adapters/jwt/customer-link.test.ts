import { describe, expect, it } from 'vitest';
import { JoseTokens } from '../../../../server/adapters/jwt/jose-tokens.js';

const tokens = new JoseTokens({ secret: 'unit-secret-0123456789abcdef0123456789' });
const now = Date.UTC(2026, 0, 1);

describe('customer links', () => {
  it('round-trips the participant, the conversation and the expiry', () => {
    const link = tokens.signCustomerLink('carol@acme.test', 'Cv1', now + 72 * 3_600_000);
    expect(link).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(tokens.verifyCustomerLink(link, now)).toEqual({ participantId: 'carol@acme.test', conversationId: 'Cv1', expiresAt: now + 72 * 3_600_000 });
  });

  it('refuses a changed participant, conversation, expiry or signature, and another secret', () => {
    const link = tokens.signCustomerLink('carol', 'Cv1', now + 1000);
    const [p, c, e, mac] = link.split('.') as [string, string, string, string];
    for (const bad of [
      [Buffer.from('dave').toString('base64url'), c, e, mac],
      [p, 'Cv2', e, mac],
      [p, c, (parseInt(e, 36) + 1).toString(36), mac],
      [p, c, e, mac.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'))],
    ])
      expect(() => tokens.verifyCustomerLink(bad.join('.'), now)).toThrow(expect.objectContaining({ code: 'unauthenticated' }));
    expect(() => new JoseTokens({ secret: 'another-secret-0123456789abcdef01234567' }).verifyCustomerLink(link, now)).toThrow(expect.objectContaining({ code: 'unauthenticated' }));
    expect(() => tokens.verifyCustomerLink('garbage', now)).toThrow(expect.objectContaining({ code: 'unauthenticated' }));
  });

  it('expires', () => {
    const link = tokens.signCustomerLink('carol', 'Cv1', now + 1000);
    expect(tokens.verifyCustomerLink(link, now + 999).participantId).toBe('carol');
    expect(() => tokens.verifyCustomerLink(link, now + 1000)).toThrow(expect.objectContaining({ code: 'token_expired' }));
  });

  it('is not an unsubscribe token, nor the other way round', () => {
    const link = tokens.signCustomerLink('carol', 'Cv1', now + 1000);
    expect(tokens.verifyUnsubscribe(link)).toBeNull();
    expect(() => tokens.verifyCustomerLink(tokens.signUnsubscribe('carol'), now)).toThrow();
  });
});
