import { z } from 'zod';
import {
  ConversationCreateSchema,
  EmailsQuerySchema,
  EntityIdSchema,
  ItemPutSchema,
  MessagePostSchema,
  MessagesQuerySchema,
  ParticipantIdSchema,
  ParticipantPutSchema,
  ProjectPutSchema,
  ProtocolError,
  ServerIdSchema,
  TokenCreateSchema,
} from '../../protocol/index.js';
import type { HostApi } from '../core/host-api.js';
import type { HostDirectory } from '../core/host-directory.js';
import type { Tokens } from '../core/ports/index.js';
import type { HttpRouter } from './http.js';
import { DEFAULT_FRAME_ANCESTORS, pageHeaders, styleHash } from './page-headers.js';

function id(schema: z.ZodType<string>, value: string | undefined, what: string): string {
  const r = schema.safeParse(value);
  if (!r.success) throw new ProtocolError('invalid', `invalid ${what} id`);
  return r.data;
}

/** The host application's API (SPEC §4), one line a route; behaviour lives in HostApi and HostDirectory. */
export function registerHostRoutes(router: HttpRouter, api: HostApi, directoryApi: HostDirectory): void {
  const pid = (p: string[]) => id(ParticipantIdSchema, p[0], 'participant');
  router.add({
    method: 'put',
    pattern: '/v1/participants/:id',
    auth: true,
    body: ParticipantPutSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await directoryApi.putParticipant(pid(params), body) }),
  });
  router.add({ method: 'get', pattern: '/v1/participants/:id', auth: true, handle: ({ params }) => ({ status: 200, body: directoryApi.getParticipant(pid(params)) }) });
  router.add({
    method: 'get',
    pattern: '/v1/participants/:id/preferences',
    auth: true,
    handle: ({ params }) => ({ status: 200, body: directoryApi.getPreferences(pid(params)) }),
  });
  router.add({
    method: 'patch',
    pattern: '/v1/participants/:id/preferences',
    auth: true,
    // The schema depends on the participant's kind, so HostDirectory validates the object.
    body: z.unknown(),
    handle: async ({ params, body }) => ({ status: 200, body: await directoryApi.patchPreferences(pid(params), body) }),
  });
  router.add({
    method: 'put',
    pattern: '/v1/projects/:id',
    auth: true,
    body: ProjectPutSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await directoryApi.putProject(id(EntityIdSchema, params[0], 'project'), body) }),
  });
  router.add({
    method: 'put',
    pattern: '/v1/items/:id',
    auth: true,
    body: ItemPutSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await directoryApi.putItem(id(EntityIdSchema, params[0], 'item'), body) }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/conversations',
    auth: true,
    body: ConversationCreateSchema,
    handle: async ({ body }) => ({ status: 201, body: await api.createConversation(body) }),
  });
  router.add({
    method: 'get',
    pattern: '/v1/conversations/:id',
    auth: true,
    handle: ({ params }) => ({ status: 200, body: api.getConversation(id(ServerIdSchema, params[0], 'conversation')) }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/conversations/:id/messages',
    auth: true,
    body: MessagePostSchema,
    handle: async ({ params, body }) => {
      const r = await api.postMessage(id(ServerIdSchema, params[0], 'conversation'), body);
      return r.duplicate ? { status: 200, body: { message: r.message, duplicate: true } } : { status: 201, body: { message: r.message } };
    },
  });
  router.add({
    method: 'get',
    pattern: '/v1/conversations/:id/messages',
    auth: true,
    query: MessagesQuerySchema,
    handle: async ({ params, query }) => ({ status: 200, body: await api.listMessages(id(ServerIdSchema, params[0], 'conversation'), query) }),
  });
  router.add({
    method: 'get',
    pattern: '/v1/messages/:id/receipts',
    auth: true,
    handle: async ({ params }) => ({ status: 200, body: await api.getReceipts(id(ServerIdSchema, params[0], 'message')) }),
  });
  router.add({
    method: 'get',
    pattern: '/v1/emails',
    auth: true,
    admin: true,
    query: EmailsQuerySchema,
    handle: async ({ query }) => ({ status: 200, body: await api.listEmails(query) }),
  });
  router.add({
    method: 'get',
    pattern: '/v1/emails/:id/raw',
    auth: true,
    admin: true,
    handle: async ({ params }) => ({ status: 200, body: await api.getEmailRaw(id(ServerIdSchema, params[0], 'email')), contentType: 'message/rfc822' }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/tokens',
    auth: true,
    body: TokenCreateSchema,
    handle: async ({ body }) => ({ status: 200, body: await api.createToken(body) }),
  });
}

/** The one inline style block of the unsubscribe pages, allowed by its hash in their CSP. */
const UNSUBSCRIBE_STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem}';

/**
 * The unsubscribe link of customers' emails (SPEC §4, RFC 8058). GET shows a page with a confirm
 * button and changes nothing (link scanners follow GETs); POST — the button, or a mail provider's
 * one-click `List-Unsubscribe=One-Click` — sets the participant's email.optOut. POST takes its body
 * as is: RFC 8058 sends form data, not JSON. Every page carries SPEC §4's page headers.
 */
export function registerUnsubscribeRoutes(router: HttpRouter, api: HostApi, opts: { frameAncestors?: string } = {}): void {
  const headers = pageHeaders({ frameAncestors: opts.frameAncestors ?? DEFAULT_FRAME_ANCESTORS, styleSources: [styleHash(UNSUBSCRIBE_STYLE)] });
  const page = (title: string, body: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${title}</title><style>${UNSUBSCRIBE_STYLE}</style></head><body>${body}</body></html>`;
  const html = (status: number, title: string, body: string) => ({ status, body: page(title, body), contentType: 'text/html; charset=utf-8', headers });
  router.add({
    method: 'get',
    pattern: '/u/:token',
    auth: false,
    handle: ({ params }) => {
      const p = api.unsubscribeTarget(params[0] ?? '');
      if (!p) return html(404, 'Link not valid', '<h1>This link is not valid</h1><p>It may have been copied incompletely.</p>');
      if (p.preferences.email.optOut) return html(200, 'Unsubscribed', '<h1>You are unsubscribed</h1><p>You will get no more emails about conversations.</p>');
      return html(
        200,
        'Unsubscribe',
        `<h1>Stop emails about conversations?</h1><p>You will still see every message when you open the chat.</p>` +
          `<form method="post"><button type="submit">Unsubscribe</button></form>`,
      );
    },
  });
  router.add({
    method: 'post',
    pattern: '/u/:token',
    auth: false,
    rawBody: true,
    handle: async ({ params }) => {
      if (!api.unsubscribeTarget(params[0] ?? '')) return html(404, 'Link not valid', '<h1>This link is not valid</h1>');
      await api.unsubscribe(params[0]!);
      return html(200, 'Unsubscribed', '<h1>You are unsubscribed</h1><p>You will get no more emails about conversations.</p>');
    },
  });
}

/** A customer page's session lasts this long; the page asks again with its link (until the link expires). */
export const CUSTOMER_SESSION_TTL_SECONDS = 3600;

const CustomerSessionSchema = z.strictObject({ link: z.string().min(1).max(512) });

/**
 * The customer page (/chat/, SPEC §6 PARLEY_CUSTOMER_URL): no API key. `POST /chat/session {link}`
 * trades the signed link of a customer's email for a normal session token of that customer (1 h),
 * and names the one conversation the link is for. A bad or tampered link is 401 `unauthenticated`, an
 * expired one 401 `token_expired`, a disabled customer 403 `forbidden`. The token is what a host would
 * mint for the customer, so the hub's may-see rules decide what the page can read, as for the widget.
 */
export function registerCustomerRoutes(router: HttpRouter, api: HostApi, directoryApi: HostDirectory, tokens: Pick<Tokens, 'verifyCustomerLink'>): void {
  router.add({
    method: 'post',
    pattern: '/chat/session',
    auth: false,
    body: CustomerSessionSchema,
    handle: async ({ body }) => {
      const claims = tokens.verifyCustomerLink(body.link);
      let kind: string;
      try {
        kind = directoryApi.getParticipant(claims.participantId).kind;
        api.getConversation(claims.conversationId);
      } catch {
        throw new ProtocolError('unauthenticated', 'not a valid link');
      }
      if (kind !== 'customer') throw new ProtocolError('unauthenticated', 'not a valid link');
      const { token, expiresAt } = await api.createToken({ sub: claims.participantId, ttlSeconds: CUSTOMER_SESSION_TTL_SECONDS });
      return { status: 200, body: { token, conversationId: claims.conversationId, expiresAt, linkExpiresAt: claims.expiresAt } };
    },
  });
}

/** Liveness, readiness and Prometheus metrics: no API key. */
export function registerOpsRoutes(router: HttpRouter, ops: { ready: () => boolean; metrics: () => Promise<{ text: string; contentType: string }> }): void {
  router.add({ method: 'get', pattern: '/healthz', auth: false, handle: () => ({ status: 200, body: { status: 'ok' } }) });
  router.add({
    method: 'get',
    pattern: '/readyz',
    auth: false,
    handle: () => (ops.ready() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { error: { code: 'unavailable', message: 'storage or Redis is not reachable' } } }),
  });
  router.add({
    method: 'get',
    pattern: '/metrics',
    auth: false,
    handle: async () => {
      const m = await ops.metrics();
      return { status: 200, body: m.text, contentType: m.contentType };
    },
  });
}
