import { createHash } from 'node:crypto';

/** The default of PARLEY_FRAME_ANCESTORS: no site may frame the hub's pages (SPEC §6). */
export const DEFAULT_FRAME_ANCESTORS = "'none'";

export interface PagePolicy {
  /** The CSP `frame-ancestors` sources (PARLEY_FRAME_ANCESTORS). */
  frameAncestors: string;
  /** Extra `style-src` sources beyond 'self', e.g. the hash of a page's one inline style block. */
  styleSources?: string[];
  /** Extra `connect-src` sources beyond 'self'. */
  connectSources?: string[];
}

/**
 * The headers of every page the hub serves (SPEC §4 "pages"): a Content-Security-Policy that allows
 * scripts only from the hub itself (no inline script, no eval), no plugins, no <base>, forms posting
 * only back to the hub and framing only by PARLEY_FRAME_ANCESTORS; `nosniff`; and no Referer, so a
 * page's URL (an unsubscribe token, a fragment-less path) never leaks to another site.
 */
export function pageHeaders(policy: PagePolicy): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    ['style-src', "'self'", ...(policy.styleSources ?? [])].join(' '),
    ['connect-src', "'self'", ...(policy.connectSources ?? [])].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${policy.frameAncestors}`,
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

/** The CSP source that allows exactly one inline `<style>` block with this content. */
export function styleHash(css: string): string {
  return `'sha256-${createHash('sha256').update(css, 'utf8').digest('base64')}'`;
}
