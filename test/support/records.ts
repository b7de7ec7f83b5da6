import { DEFAULT_CUSTOMER_PREFERENCES, DEFAULT_USER_PREFERENCES, type UserPreferences } from '../../protocol/index.js';
import type { ConversationRecord, ItemRecord, ParticipantRecord, ProjectRecord } from '../../server/core/model.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function participant(id: string, kind: ParticipantRecord['kind'], over: Partial<ParticipantRecord> & { prefs?: DeepPartial<UserPreferences> } = {}): ParticipantRecord {
  const { prefs, ...rest } = over;
  const base = kind === 'user' ? structuredClone(DEFAULT_USER_PREFERENCES) : structuredClone(DEFAULT_CUSTOMER_PREFERENCES);
  if (prefs && kind === 'user') {
    const u = base as UserPreferences;
    Object.assign(u.notifications, prefs.notifications);
    Object.assign(u.email, prefs.email);
    Object.assign(u.access, prefs.access);
  }
  return {
    id,
    kind,
    name: id,
    email: `${id}@example.com`,
    locale: 'en',
    timezone: 'UTC',
    groups: [],
    roles: [],
    outOfOffice: false,
    disabled: false,
    phone: null,
    queues: [],
    services: [],
    pgpPublicKey: null,
    smimeCertificate: null,
    createdAt: 0,
    preferences: base,
    ...rest,
  };
}

export function conversation(over: Partial<ConversationRecord> & { memberIds?: string[] } = {}): ConversationRecord {
  const { memberIds, ...rest } = over;
  return {
    id: 'c',
    kind: 'item',
    visibility: 'external',
    itemId: 'i',
    subject: null,
    createdBy: null,
    createdAt: 0,
    members: new Map((memberIds ?? []).map((m) => [m, 10])),
    lastSeq: 0,
    lastMessageAt: null,
    ...rest,
  };
}

export function item(over: Partial<ItemRecord> & { followerIds?: string[] } = {}): ItemRecord {
  const { followerIds, ...rest } = over;
  return {
    id: 'i',
    kind: 'ticket',
    title: 'Ticket',
    projectId: 'p',
    number: null,
    status: null,
    priority: null,
    queue: null,
    customerId: null,
    ownerId: null,
    responsibleId: null,
    followers: new Map((followerIds ?? []).map((f) => [f, 20])),
    lock: null,
    service: null,
    type: null,
    createdBy: null,
    customerCompany: null,
    fields: {},
    createdAt: 0,
    roleSince: { customer: 30, owner: 40, responsible: 50 },
    ...rest,
  };
}

export function project(followerIds: string[] = []): ProjectRecord {
  return { id: 'p', name: 'Project', followers: new Map(followerIds.map((f) => [f, 60])), createdAt: 0 };
}
