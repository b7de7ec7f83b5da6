import { MAX_CHOICE_ENTITIES, RecipientRelationSchema, groupEntry, type NotificationChoices } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { EventBus } from '../ports/index.js';
import { ITEM_ASSIGNMENT_UPDATE, PROJECT_MEMBER_ADD } from './builtins.js';
import type { Definitions } from './definitions.js';
import type { AppointmentRecord } from './types.js';

/**
 * The ticket events OTOBO raises (its Ticket, Article and Escalation events and the names its own
 * notifications listen to), so a definition written here works on an OTOBO host unchanged.
 */
const OTOBO_TICKET_EVENTS = [
  'NotificationNewTicket',
  'NotificationFollowUp',
  'NotificationLockTimeout',
  'NotificationOwnerUpdate',
  'NotificationResponsibleUpdate',
  'NotificationAddNote',
  'NotificationMove',
  'NotificationPendingReminder',
  'NotificationEscalation',
  'NotificationEscalationNotifyBefore',
  'NotificationServiceUpdate',
  'TicketCreate',
  'TicketDelete',
  'TicketTitleUpdate',
  'TicketUnlockTimeoutUpdate',
  'TicketQueueUpdate',
  'TicketTypeUpdate',
  'TicketServiceUpdate',
  'TicketSLAUpdate',
  'TicketCustomerUpdate',
  'TicketPendingTimeUpdate',
  'TicketLockUpdate',
  'TicketArchiveFlagUpdate',
  'TicketStateUpdate',
  'TicketOwnerUpdate',
  'TicketResponsibleUpdate',
  'TicketPriorityUpdate',
  'TicketSubscribe',
  'TicketUnsubscribe',
  'TicketFlagSet',
  'TicketFlagDelete',
  'TicketMerge',
  'ArticleCreate',
  'ArticleSend',
  'ArticleBounce',
  'ArticleAgentNotification',
  'ArticleCustomerNotification',
  'ArticleAutoResponse',
  'ArticleFlagSet',
  'ArticleFlagDelete',
  'EscalationResponseTimeNotifyBefore',
  'EscalationUpdateTimeNotifyBefore',
  'EscalationSolutionTimeNotifyBefore',
  'EscalationResponseTimeStart',
  'EscalationUpdateTimeStart',
  'EscalationSolutionTimeStart',
  'EscalationResponseTimeStop',
  'EscalationUpdateTimeStop',
  'EscalationSolutionTimeStop',
];

/** The events the hub raises itself (NOTIFICATIONS §1, §2, §6). */
const HUB_EVENTS = [
  ITEM_ASSIGNMENT_UPDATE,
  PROJECT_MEMBER_ADD,
  'CalendarCreate',
  'CalendarUpdate',
  'AppointmentCreate',
  'AppointmentUpdate',
  'AppointmentDelete',
  'AppointmentNotification',
];

export interface DefinitionChoicesOptions {
  directory: Directory;
  definitions: Pick<Definitions, 'all'>;
  appointments: { all(): Iterable<AppointmentRecord> };
  events: EventBus;
  clock: { now(): number };
  /** PARLEY_DEFAULT_LOCALE. */
  defaultLocale: string;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * What a definition's form offers (GET /v1/notification-definitions/choices): ids with names and
 * titles, never an address or a phone number. The hub keeps no change time for items, so "most
 * recently changed" is the order this hub saw them written (ItemChanged) since it started, then the
 * newest created.
 */
export class DefinitionChoices {
  /** Item ids by their last write seen, oldest first; at most MAX_CHOICE_ENTITIES. */
  private readonly recentItems = new Map<string, true>();

  constructor(private readonly o: DefinitionChoicesOptions) {
    o.events.subscribe('ItemChanged', ({ item }) => {
      this.recentItems.delete(item.id);
      this.recentItems.set(item.id, true);
      if (this.recentItems.size > MAX_CHOICE_ENTITIES) this.recentItems.delete(this.recentItems.keys().next().value!);
    });
  }

  list(): NotificationChoices {
    const dir = this.o.directory;
    const agents: Array<{ id: string; name: string }> = [];
    const groups = new Set<string>();
    const roles = new Set<string>();
    const languages = new Set<string>([this.o.defaultLocale]);
    for (const p of dir.participants.values()) {
      if (p.kind === 'user') {
        agents.push({ id: p.id, name: p.name });
        for (const r of p.roles) roles.add(r);
      }
      if (p.kind !== 'bot') for (const g of p.groups) groups.add(groupEntry(g).id);
      if (p.locale) languages.add(p.locale);
    }
    const queues = [...dir.queues].map(([name, groupId]) => ({ name, groupId }));
    for (const q of queues) groups.add(q.groupId);
    const eventTypes = new Set<string>([...OTOBO_TICKET_EVENTS, ...HUB_EVENTS]);
    for (const d of this.o.definitions.all()) {
      for (const e of d.events) eventTypes.add(e);
      for (const lang of Object.keys(d.messages)) languages.add(lang);
    }
    const idName = (ids: Set<string>) => [...ids].sort(byName).map((id) => ({ id, name: id }));
    return {
      agents: agents.sort((a, b) => byName(a.name, b.name) || byName(a.id, b.id)),
      groups: idName(groups),
      roles: idName(roles),
      queues: queues.sort((a, b) => byName(a.name, b.name)),
      items: this.items(),
      appointments: this.nextAppointments(),
      eventTypes: [...eventTypes].sort(byName),
      relations: [...RecipientRelationSchema.options],
      languages: [...languages].sort(byName),
    };
  }

  /** The items written most recently (as this hub saw them), then the newest created. */
  private items(): Array<{ id: string; title: string }> {
    const items = this.o.directory.items;
    const out: Array<{ id: string; title: string }> = [];
    const taken = new Set<string>();
    for (const id of [...this.recentItems.keys()].reverse()) {
      const i = items.get(id);
      if (!i) continue;
      out.push({ id, title: i.title });
      taken.add(id);
    }
    if (out.length < MAX_CHOICE_ENTITIES) {
      const rest = [...items.values()].filter((i) => !taken.has(i.id));
      rest.sort((a, b) => b.createdAt - a.createdAt || byName(a.id, b.id));
      for (const i of rest.slice(0, MAX_CHOICE_ENTITIES - out.length)) out.push({ id: i.id, title: i.title });
    }
    return out;
  }

  /** Appointments not yet ended, soonest first. */
  private nextAppointments(): Array<{ id: string; title: string }> {
    const now = this.o.clock.now();
    const next = [...this.o.appointments.all()].filter((a) => a.endAt >= now);
    next.sort((a, b) => a.startAt - b.startAt || byName(a.id, b.id));
    return next.slice(0, MAX_CHOICE_ENTITIES).map((a) => ({ id: a.id, title: a.title }));
  }
}
