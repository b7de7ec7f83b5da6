import { InboundEmailsQuerySchema, ProtocolError, ServerIdSchema } from '../../protocol/index.js';
import type { InboundMail } from '../core/inbound/inbound-mail.js';
import type { InboundStore } from '../core/ports/index.js';
import type { HttpRouter } from './http.js';

const RFC822 = /^message\/rfc822\s*(;|$)/i;

/** Email in over HTTP (SPEC §4, §8): a mail server's pipe or a provider's webhook, and the inbound log. */
export function registerInboundRoutes(router: HttpRouter, deps: { inbound: InboundMail; store: InboundStore; maxBytes: number }): void {
  const { inbound, store } = deps;
  router.add({
    method: 'post',
    pattern: '/v1/inbound-emails',
    auth: true,
    rawBody: 'bytes',
    maxBytes: deps.maxBytes,
    handle: async ({ body, headers }) => {
      if (!RFC822.test(headers['content-type'] ?? '')) throw new ProtocolError('unsupported_media_type', 'an inbound email is message/rfc822');
      const raw = body as Buffer;
      if (raw.byteLength === 0) throw new ProtocolError('invalid', 'the email is empty');
      const outcome = await inbound.receive(raw, { mailFrom: '', rcptTo: [], clientIp: null, helo: null });
      const { reason, conversationId, postedMessageId, ...rest } = outcome;
      return {
        status: 202,
        body: { ...rest, ...(reason ? { reason } : {}), ...(conversationId ? { conversationId } : {}), ...(postedMessageId ? { postedMessageId } : {}) },
      };
    },
  });
  router.add({
    method: 'get',
    pattern: '/v1/inbound-emails',
    auth: true,
    admin: true,
    query: InboundEmailsQuerySchema,
    handle: async ({ query }) => {
      const rows = await store.listInbound(query.since ?? 0, query.limit ?? 100, { ...(query.status ? { status: query.status } : {}), newestFirst: query.order === 'desc' });
      return { status: 200, body: { inboundEmails: rows.map(({ from, to, ...r }) => ({ ...r, from, to })) } };
    },
  });
  router.add({
    method: 'get',
    pattern: '/v1/inbound-emails/:id/raw',
    auth: true,
    admin: true,
    handle: async ({ params }) => {
      const id = ServerIdSchema.safeParse(params[0]);
      const raw = id.success ? await store.getInboundRaw(id.data) : null;
      if (!raw) throw new ProtocolError('not_found', `no such inbound email: ${params[0]}`);
      return { status: 200, body: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), contentType: 'message/rfc822' };
    },
  });
}
