/**
 * The demo's messaging center (NOTIFICATIONS §1, §5, §8): a support group with Alice (read-write) and
 * Bob (read-only), the notification definitions of web/demo/notifications.yml (OTOBO's export shape)
 * imported into the hub, an on-site calendar with an appointment whose reminder falls due a minute
 * after seeding, and an admin session token for Alice, who opens the messaging center with it.
 * Idempotent: the import overwrites by name, and the appointment is the same one, its reminder moved.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_PEOPLE, hubCall, type HubAccess } from './helpdesk.js';

export const DEMO_ADMIN = 'alice';
export const DEMO_GROUP = 'support';
export const DEMO_APPOINTMENT = { id: 'demo-visit', calendarId: 'demo-onsite', title: 'Printer check at Carol’s office' };

/** The YAML file beside this module (run from source) or in the repository (run from dist/). */
export function notificationsFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'notifications.yml'), resolve(here, '..', '..', '..', 'web', 'demo', 'notifications.yml')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('web/demo/notifications.yml is missing');
  return found;
}

export interface ImportResult {
  added: string[];
  updated: string[];
  errors: Array<{ name: string; error: string }>;
  warnings: Array<{ name: string; key: string }>;
}

export interface MessagingDemo {
  imported: ImportResult;
  /** When the appointment's reminder falls due (ms). */
  reminderAt: number;
  /** A session token of Alice's that opens the admin routes. */
  adminToken: string;
}

export async function seedMessagingCenter(hub: HubAccess, opts: { reminderInMs?: number; now?: number } = {}): Promise<MessagingDemo> {
  const now = opts.now ?? Date.now();
  for (const p of DEMO_PEOPLE.filter((x) => x.kind === 'user')) {
    const groups = p.id === DEMO_ADMIN ? [DEMO_GROUP] : [{ id: DEMO_GROUP, permission: 'ro' as const }];
    await hubCall(hub, 'PUT', `/v1/participants/${p.id}`, { kind: p.kind, name: p.name, email: p.email, groups, roles: p.id === DEMO_ADMIN ? ['admin'] : [] });
  }
  await hubCall(hub, 'PUT', '/v1/queues/Printers', { groupId: DEMO_GROUP });

  const res = await fetch(`${hub.hubUrl}/v1/notification-definitions/import?overwrite=true`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hub.apiKey}`, 'content-type': 'application/yaml' },
    body: readFileSync(notificationsFile(), 'utf8'),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`importing web/demo/notifications.yml → ${res.status} ${text}`);
  const imported = JSON.parse(text) as ImportResult;
  if (imported.errors.length > 0) throw new Error(`web/demo/notifications.yml: ${imported.errors.map((e) => `${e.name}: ${e.error}`).join('; ')}`);

  await hubCall(hub, 'PUT', `/v1/calendars/${DEMO_APPOINTMENT.calendarId}`, { name: 'On-site visits', color: '#3a87ad', groupId: DEMO_GROUP });
  const reminderAt = now + (opts.reminderInMs ?? 60_000);
  const startAt = reminderAt + 15 * 60_000;
  await hubCall(hub, 'PUT', `/v1/appointments/${DEMO_APPOINTMENT.id}`, {
    calendarId: DEMO_APPOINTMENT.calendarId,
    title: DEMO_APPOINTMENT.title,
    description: 'Bring a spare colour cartridge and the recall list.',
    location: 'Carol Diaz, 5 Main Street',
    startAt,
    endAt: startAt + 45 * 60_000,
    resourceIds: [DEMO_ADMIN],
    reminderAt,
  });
  const adminToken = (await hubCall<{ token: string }>(hub, 'POST', '/v1/tokens', { sub: DEMO_ADMIN, admin: true, ttlSeconds: 12 * 3600 })).token;
  return { imported, reminderAt, adminToken };
}

/** The agent app opened straight into the messaging center with an admin token. */
export function adminUrl(hubUrl: string, helpdeskUrl: string, adminToken: string, route = '/admin/definitions'): string {
  return `${hubUrl}/app/#helpdesk=${encodeURIComponent(helpdeskUrl)}&token=${adminToken}&route=${encodeURIComponent(route)}`;
}
