import { PreviewPostSchema } from '../../protocol/index.js';
import type { DefinitionChoices } from '../core/notifications/choices.js';
import type { NotificationPreview } from '../core/notifications/preview.js';
import type { HttpRouter } from './http.js';

/**
 * The messaging center's own routes (NOTIFICATIONS §8, protocol/admin.ts): what a definition's form
 * can pick from, and a definition's dry run. Admin routes: an admin session token opens them too.
 * Registered before the definitions' `/:id` routes, so their fixed names are never read as an id.
 */
export function registerAdminRoutes(router: HttpRouter, deps: { choices: DefinitionChoices; preview: NotificationPreview }): void {
  const { choices, preview } = deps;
  router.add({
    method: 'get',
    pattern: '/v1/notification-definitions/choices',
    auth: true,
    admin: true,
    handle: () => ({ status: 200, body: choices.list() }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/notification-definitions/preview',
    auth: true,
    admin: true,
    body: PreviewPostSchema,
    handle: async ({ body }) => ({ status: 200, body: await preview.preview(body) }),
  });
}
