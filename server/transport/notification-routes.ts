import { z } from 'zod';
import { AppointmentPutSchema, CalendarPutSchema, DefinitionInputSchema, EntityIdSchema, EventPostSchema, ProtocolError, QueuePutSchema, wellFormed, type NotificationDefinition } from '../../protocol/index.js';
import type { HostDirectory } from '../core/host-directory.js';
import type { Appointments } from '../core/notifications/appointments.js';
import type { Definitions } from '../core/notifications/definitions.js';
import type { Notifier } from '../core/notifications/notifier.js';
import { fromOtoboEntries, toOtoboEntry } from '../core/notifications/otobo.js';
import { parseNotificationYaml, stringifyNotificationYaml } from '../adapters/yaml/otobo-yaml.js';
import type { HttpRouter } from './http.js';

const YAML_MEDIA_TYPE = /^(application|text)\/(x-)?yaml\s*(;|$)/i;

function entityId(value: string | undefined, what: string): string {
  const r = EntityIdSchema.safeParse(value);
  if (!r.success) throw new ProtocolError('invalid', `invalid ${what} id`);
  return r.data;
}

/** A definition as GET shows it. */
function publicDefinition(d: NotificationDefinition) {
  return d;
}

const ExportQuerySchema = z.strictObject({
  type: z.enum(['ticket', 'appointment']).optional(),
  /** Only these definitions (comma-separated ids), as the messaging center's "export one" asks. */
  ids: z.string().max(100_000).optional(),
});
const ImportQuerySchema = z.strictObject({ overwrite: z.enum(['true', 'false']).optional() });

/** Notification rules over HTTP (NOTIFICATIONS §1–§5): events, definitions, export and import, queues. */
export function registerNotificationRoutes(router: HttpRouter, deps: {
  appointments: Appointments; directoryApi: HostDirectory; notifier: Notifier; definitions: Definitions }): void {
  const { directoryApi, notifier, definitions } = deps;
  router.add({
    method: 'put',
    pattern: '/v1/queues/:name',
    auth: true,
    body: QueuePutSchema,
    handle: async ({ params, body }) => {
      const name = wellFormed(200).min(1).safeParse(params[0]);
      if (!name.success) throw new ProtocolError('invalid', 'invalid queue name');
      return { status: 200, body: await directoryApi.putQueue(name.data, body.groupId) };
    },
  });
  const { appointments } = deps;
  router.add({
    method: 'put',
    pattern: '/v1/calendars/:id',
    auth: true,
    body: CalendarPutSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await appointments.putCalendar(entityId(params[0], 'calendar'), body) }),
  });
  router.add({
    method: 'put',
    pattern: '/v1/appointments/:id',
    auth: true,
    body: AppointmentPutSchema,
    handle: async ({ params, body }) => ({ status: 200, body: await appointments.putAppointment(entityId(params[0], 'appointment'), body) }),
  });
  router.add({ method: 'get', pattern: '/v1/appointments/:id', auth: true, handle: ({ params }) => ({ status: 200, body: appointments.appointment(entityId(params[0], 'appointment')) }) });
  router.add({
    method: 'del',
    pattern: '/v1/appointments/:id',
    auth: true,
    handle: async ({ params }) => {
      await appointments.deleteAppointment(entityId(params[0], 'appointment'));
      return { status: 204, body: null };
    },
  });
  router.add({
    method: 'post',
    pattern: '/v1/events',
    auth: true,
    body: EventPostSchema,
    handle: async ({ body }) => {
      const answer = await notifier.post(body);
      return { status: answer.created ? 202 : 200, body: answer.body };
    },
  });
  router.add({ method: 'get', pattern: '/v1/events/:id', auth: true, handle: async ({ params }) => ({ status: 200, body: await notifier.audit(entityId(params[0], 'event')) }) });

  router.add({
    method: 'get',
    pattern: '/v1/notification-definitions/export',
    auth: true,
    admin: true,
    query: ExportQuerySchema,
    handle: ({ query }) => ({
      status: 200,
      body: stringifyNotificationYaml(
        definitions
          .all(query.type)
          .filter((d) => query.ids === undefined || query.ids.split(',').includes(d.id))
          .map(toOtoboEntry),
      ),
      contentType: 'application/yaml; charset=utf-8',
      headers: { 'content-disposition': 'attachment; filename="Export_Notification.yml"' },
    }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/notification-definitions/import',
    auth: true,
    admin: true,
    rawBody: true,
    query: ImportQuerySchema,
    handle: async ({ body, query, headers }) => {
      if (!YAML_MEDIA_TYPE.test(headers['content-type'] ?? '')) throw new ProtocolError('unsupported_media_type', 'an import is application/yaml');
      const parsed = fromOtoboEntries(parseNotificationYaml(body as string));
      const result = await definitions.importMany(parsed.definitions, query.overwrite === 'true');
      return { status: 200, body: { ...result, errors: [...parsed.errors, ...result.errors], warnings: parsed.warnings } };
    },
  });
  router.add({
    method: 'get',
    pattern: '/v1/notification-definitions',
    auth: true,
    admin: true,
    handle: () => ({ status: 200, body: { definitions: definitions.all().map(publicDefinition) } }),
  });
  router.add({
    method: 'post',
    pattern: '/v1/notification-definitions',
    auth: true,
    admin: true,
    body: DefinitionInputSchema,
    handle: async ({ body }) => ({ status: 201, body: publicDefinition(await definitions.create(body)) }),
  });
  router.add({
    method: 'get',
    pattern: '/v1/notification-definitions/:id',
    auth: true,
    admin: true,
    handle: ({ params }) => ({ status: 200, body: publicDefinition(definitions.get(entityId(params[0], 'definition'))) }),
  });
  router.add({
    method: 'put',
    pattern: '/v1/notification-definitions/:id',
    auth: true,
    admin: true,
    body: DefinitionInputSchema,
    handle: async ({ params, body }) => ({ status: 200, body: publicDefinition(await definitions.put(entityId(params[0], 'definition'), body)) }),
  });
  router.add({
    method: 'del',
    pattern: '/v1/notification-definitions/:id',
    auth: true,
    admin: true,
    handle: async ({ params }) => {
      await definitions.delete(entityId(params[0], 'definition'));
      return { status: 204, body: null };
    },
  });
}
