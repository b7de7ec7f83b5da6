import {
  DEFAULT_CUSTOMER_PREFERENCES,
  DEFAULT_USER_PREFERENCES,
  DefinitionInputSchema,
  type Article,
  type DefinitionInput,
  type NotificationDefinition,
  type PersonalTransport,
  type UserPreferences,
} from '../../protocol/index.js';
import type { ItemRecord, ParticipantRecord } from '../../server/core/model.js';
import type { AppointmentRecord, CalendarRecord, DeliveryHistory, RuleEvent, RulesDirectory } from '../../server/core/notifications/types.js';

/**
 * In-memory RulesDirectory and DeliveryHistory for the notification rules' pure tests, and builders
 * of complete records (every field of the directory additions filled, unlike ./records.ts).
 */

export class MemoryRulesDirectory implements RulesDirectory {
  readonly byId = new Map<string, ParticipantRecord>();
  readonly byEmail = new Map<string, ParticipantRecord>();
  readonly queueGroups = new Map<string, string>();
  readonly articles = new Map<string, { first: string[]; last: string[] }>();
  /** How many times users() was iterated: the matcher scans only for relations that need it. */
  scans = 0;

  constructor(people: Iterable<ParticipantRecord> = [], queueGroups: Record<string, string> = {}) {
    for (const p of people) this.put(p);
    for (const [q, g] of Object.entries(queueGroups)) this.queueGroups.set(q, g);
  }

  private userList: ParticipantRecord[] | null = null;

  put(p: ParticipantRecord): this {
    this.userList = null;
    this.byId.set(p.id, p);
    if (p.email) this.byEmail.set(p.email.toLowerCase(), p);
    return this;
  }

  /** Records an article's `to` + `cc` for an item the way the caller must before matching. */
  recordArticle(itemId: string, addresses: string[]): this {
    const known = this.articles.get(itemId);
    if (known) known.last = addresses;
    else this.articles.set(itemId, { first: addresses, last: addresses });
    return this;
  }

  participant(id: string): ParticipantRecord | undefined {
    return this.byId.get(id);
  }
  participantByEmail(address: string): ParticipantRecord | undefined {
    return this.byEmail.get(address.toLowerCase());
  }
  users(): Iterable<ParticipantRecord> {
    this.scans++;
    return (this.userList ??= [...this.byId.values()].filter((p) => p.kind === 'user'));
  }
  /** How many times usersInQueue() was asked: AgentMyQueues alone reads its queue's users, not every user. */
  queueReads = 0;
  usersInQueue(queue: string): Iterable<ParticipantRecord> {
    this.queueReads++;
    return [...this.byId.values()].filter((p) => p.kind === 'user' && p.queues.includes(queue));
  }
  queueGroup(queue: string): string | undefined {
    return this.queueGroups.get(queue);
  }
  articleAddresses(itemId: string): { first: readonly string[]; last: readonly string[] } {
    return this.articles.get(itemId) ?? { first: [], last: [] };
  }
}

export class MemoryDeliveryHistory implements DeliveryHistory {
  readonly last = new Map<string, number>();
  readonly bounced = new Set<string>();

  static key(definitionId: string, itemId: string | null, recipient: string, transport: PersonalTransport): string {
    return `${definitionId}\u0001${itemId ?? ''}\u0001${recipient}\u0001${transport}`;
  }
  delivered(definitionId: string, itemId: string | null, recipient: string, transport: PersonalTransport, at: number): this {
    this.last.set(MemoryDeliveryHistory.key(definitionId, itemId, recipient, transport), at);
    return this;
  }
  bounce(address: string): this {
    this.bounced.add(address.toLowerCase());
    return this;
  }
  lastDeliveredAt(definitionId: string, itemId: string | null, recipient: string, transport: PersonalTransport): number | undefined {
    return this.last.get(MemoryDeliveryHistory.key(definitionId, itemId, recipient, transport));
  }
  isBounced(address: string): boolean {
    return this.bounced.has(address.toLowerCase());
  }
}

type PersonOver = Partial<ParticipantRecord> & { prefs?: Partial<Pick<UserPreferences, 'notificationDefinitions'>> & { email?: Partial<UserPreferences['email']> } };

/** A complete participant: enabled, in office, `<id>@example.com`, a phone for users. */
export function person(id: string, kind: ParticipantRecord['kind'] = 'user', over: PersonOver = {}): ParticipantRecord {
  const { prefs, ...rest } = over;
  const preferences = kind === 'user' ? structuredClone(DEFAULT_USER_PREFERENCES) : structuredClone(DEFAULT_CUSTOMER_PREFERENCES);
  if (prefs?.email) Object.assign(preferences.email, prefs.email);
  if (prefs?.notificationDefinitions && kind === 'user') (preferences as UserPreferences).notificationDefinitions = prefs.notificationDefinitions;
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
    phone: kind === 'user' ? '+4930123456' : null,
    queues: [],
    services: [],
    pgpPublicKey: null,
    smimeCertificate: null,
    createdAt: 0,
    enabledAt: null,
    preferences,
    ...rest,
  };
}

export function ticket(over: Partial<ItemRecord> & { followerIds?: string[] } = {}): ItemRecord {
  const { followerIds, ...rest } = over;
  return {
    id: 'T1',
    kind: 'ticket',
    title: 'Printer on fire',
    projectId: null,
    number: '2026120710000001',
    status: 'open',
    priority: '3 normal',
    queue: 'Support',
    customerId: null,
    ownerId: null,
    responsibleId: null,
    followers: new Map((followerIds ?? []).map((f) => [f, 1])),
    lock: 'unlock',
    service: 'Printing',
    type: 'Incident',
    createdBy: null,
    customerCompany: 'ACME',
    fields: {},
    createdAt: 0,
    roleSince: { customer: null, owner: null, responsible: null },
    ...rest,
  };
}

export function appointment(over: Partial<AppointmentRecord> = {}): AppointmentRecord {
  return {
    id: 'A1',
    calendarId: 'cal1',
    title: 'Maintenance',
    description: null,
    location: 'Berlin',
    startAt: 1000,
    endAt: 2000,
    allDay: false,
    recurring: false,
    resourceIds: [],
    reminderAt: null,
    ...over,
  };
}

export function calendar(over: Partial<CalendarRecord> = {}): CalendarRecord {
  return { id: 'cal1', name: 'Ops', color: null, groupId: null, ...over };
}

export function article(over: Partial<Article> = {}): Article {
  return { senderKind: 'customer', channel: 'email', visibleForCustomer: true, subject: 'Help', body: 'It is broken', ...over };
}

/** A ticket event (`TicketCreate`) about `ticket()` with no actor and no article. */
export function event(over: Partial<RuleEvent> = {}): RuleEvent {
  return { id: 'e1', type: 'TicketCreate', occurredAt: 0, actorId: null, item: ticket(), article: null, appointment: null, calendar: null, ...over };
}

/** A valid definition for `TicketCreate` with email on, through the protocol's schema (so defaults hold). */
export function definition(over: Partial<DefinitionInput> & { id?: string; builtIn?: boolean } = {}): NotificationDefinition {
  const { id, builtIn, ...input } = over;
  const parsed = DefinitionInputSchema.parse({
    name: 'Test',
    events: ['TicketCreate'],
    transports: { email: { enabled: true } },
    messages: { en: { subject: 's', body: 'b' } },
    ...input,
  });
  return { ...parsed, id: id ?? 'd1', builtIn: builtIn ?? false, createdAt: 0, updatedAt: 0 };
}
