import { BroadcastPostSchema, ProtocolError, wellFormed } from '../../protocol/index.js';
import type { Broadcasts } from '../core/notifications/broadcasts.js';
import type { HttpRouter } from './http.js';

/** A body of 100,000 characters (up to 4 bytes each) and 10,000 ids in each list fit. */
const BROADCAST_MAX_BYTES = 4 * 1024 * 1024;

const BroadcastIdSchema = wellFormed(128).min(1);

/** Admin broadcasts over HTTP (NOTIFICATIONS §7); an admin session token opens them too (§8). */
export function registerBroadcastRoutes(router: HttpRouter, deps: { broadcasts: Broadcasts }): void {
  const { broadcasts } = deps;
  router.add({
    method: 'post',
    pattern: '/v1/broadcasts',
    auth: true,
    admin: true,
    body: BroadcastPostSchema,
    maxBytes: BROADCAST_MAX_BYTES,
    handle: async ({ body }) => ({ status: 202, body: await broadcasts.post(body) }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/broadcasts/count',
    auth: true,
    admin: true,
    body: BroadcastPostSchema,
    maxBytes: BROADCAST_MAX_BYTES,
    handle: ({ body }) => ({ status: 200, body: broadcasts.count(body) }),
  });
  router.add({
    method: 'get',
    pattern: '/v1/broadcasts/:id',
    auth: true,
    admin: true,
    handle: async ({ params }) => {
      const id = BroadcastIdSchema.safeParse(params[0]);
      if (!id.success) throw new ProtocolError('invalid', 'invalid broadcast id');
      return { status: 200, body: await broadcasts.get(id.data) };
    },
  });
}
