import { BUILTIN_PREFERENCE } from './builtins.js';
import type { Article, ArticleFilter, DefinitionFilter, DeliveryReason, NotificationDefinition, PersonalTransport, UserPreferences } from '../../../protocol/index.js';
import { isUserPreferences } from '../model.js';
import { collectRecipients, isAddress, type AddressRecipient, type Recipient } from './recipients.js';
import type { DeliveryHistory, Matcher, MatchResult, NotFound, PlannedDelivery, RuleEvent } from './types.js';

export { itemFollowers, RECIPIENT_RELATIONS, SCANNING_RELATIONS } from './recipients.js';

/**
 * NOTIFICATIONS §2–§3 as a pure function: whether a definition matches an event, whom it names, and for
 * each (recipient, transport) the first reason of §2's order that leaves it out — up to `no_phone`;
 * `missing_key` and `seen_in_time` are the caller's (they need keys and timers).
 *
 * Decisions where the contract is silent:
 * - A `ticket` definition matches only events that carry an item, an `appointment` one only events
 *   that carry an appointment. Filter keys read the item (status … fields) or the appointment
 *   (calendarId, title, location, resourceId) whatever the definition's type; a non-empty filter on an
 *   attribute the event lacks (no item, a null value, an absent field) fails.
 * - An article filter is "set" when a list is non-empty, a boolean is given, or a text is non-empty.
 * - `AllRecipients…Article` read only `directory.articleAddresses`: the caller records the event's own
 *   article (its `to`/`cc` become the item's last, and its first when it had none) BEFORE matching.
 *   Entries may be `Name <a@b>`; anything without `@` is ignored.
 * - An article address no participant has is treated as a customer's: it gets email only, and
 *   `not_visible_for_customer` for an internal article (an internal note never leaves the team).
 * - `extraAddresses` are addresses, each once, skipped when their owner is already a recipient; a
 *   known owner's `actor`, `disabled`, customer visibility and `optOut` still apply to them.
 * - Groups and roles are known only through their users: one no user is in is reported in `notFound`
 *   (as is an agent id the directory lacks). A definition that does not match reports nothing.
 * - The `once_per_day` subject is the appointment for `appointment` definitions, else the item.
 */

/** Built-in definitions (§6) whose email honours a user's `email.<key>` preference (builtins.ts). */
export { BUILTIN_PREFERENCE };

export const ONCE_PER_DAY_MS = 24 * 3600 * 1000;

const EMAIL_ONLY: readonly PersonalTransport[] = ['email'];

export const matchDefinition: Matcher = (event, definition, directory, history, now): MatchResult => {
  const notFound: NotFound[] = [];
  if (!matches(event, definition)) return { matched: false, deliveries: [], notFound };
  const recipients = collectRecipients(event, definition, directory, notFound);
  const t = definition.transports;
  const personal: PersonalTransport[] = [];
  if (t.email?.enabled) personal.push('email');
  if (t.web?.enabled) personal.push('web');
  if (t.sms?.enabled) personal.push('sms');
  const deliveries: PlannedDelivery[] = [];
  if (personal.length === 0) return { matched: true, deliveries, notFound };
  const emailOnly = personal[0] === 'email' ? EMAIL_ONLY : [];
  const ctx: Ctx = {
    definition,
    history,
    now,
    actorId: event.actorId,
    hiddenArticle: event.article !== null && !event.article.visibleForCustomer,
    subjectId: (definition.type === 'appointment' ? event.appointment?.id : event.item?.id) ?? null,
    builtin: definition.builtIn && Object.hasOwn(BUILTIN_PREFERENCE, definition.id) ? BUILTIN_PREFERENCE[definition.id]! : null,
  };
  for (const r of recipients.values()) {
    const self = isAddress(r) ? null : r;
    const list = self !== null && self.kind === 'user' ? personal : emailOnly;
    for (const transport of list) {
      deliveries.push({
        definitionId: definition.id,
        participantId: self !== null ? self.id : null,
        address: self !== null ? null : (r as AddressRecipient).address,
        transport,
        reason: reasonFor(r, transport, ctx),
      });
    }
  }
  return { matched: true, deliveries, notFound };
};

/** Validity, event type, the definition's type, the filter and the article filter (§3). */
export function matches(event: RuleEvent, definition: NotificationDefinition): boolean {
  if (definition.valid !== 'valid' || !definition.events.includes(event.type)) return false;
  if (definition.type === 'ticket' ? event.item === null : event.appointment === null) return false;
  return filterMatches(definition.filter, event) && articleMatches(definition.articleFilter, event.article);
}

/** An empty or absent list matches anything; else the value (or any element of a list value) is listed. */
function listed(list: readonly string[] | undefined, value: string | readonly string[] | null | undefined): boolean {
  if (list === undefined || list.length === 0) return true;
  if (value == null) return false;
  if (typeof value === 'string') return list.includes(value);
  for (const v of value) if (list.includes(v)) return true;
  return false;
}

export function filterMatches(f: DefinitionFilter, event: RuleEvent): boolean {
  const i = event.item;
  const a = event.appointment;
  if (
    !listed(f.status, i?.status) ||
    !listed(f.priority, i?.priority) ||
    !listed(f.queue, i?.queue) ||
    !listed(f.service, i?.service) ||
    !listed(f.type, i?.type) ||
    !listed(f.lock, i?.lock) ||
    !listed(f.customerId, i?.customerId) ||
    !listed(f.customerCompany, i?.customerCompany) ||
    !listed(f.calendarId, a?.calendarId) ||
    !listed(f.title, a?.title) ||
    !listed(f.location, a?.location) ||
    !listed(f.resourceId, a?.resourceIds)
  )
    return false;
  if (f.fields) {
    for (const name in f.fields) {
      if (!Object.hasOwn(f.fields, name)) continue;
      const value = i && Object.hasOwn(i.fields, name) ? i.fields[name] : undefined;
      if (!listed(f.fields[name], value)) return false;
    }
  }
  return true;
}

export function articleMatches(f: ArticleFilter, a: Article | null): boolean {
  const senderKind = f.senderKind !== undefined && f.senderKind.length > 0;
  const channel = f.channel !== undefined && f.channel.length > 0;
  const subject = f.subject !== undefined && f.subject !== '';
  const body = f.body !== undefined && f.body !== '';
  if (a === null) return !(senderKind || channel || subject || body || f.visibleForCustomer !== undefined || f.hasAttachment !== undefined);
  if (senderKind && !f.senderKind!.includes(a.senderKind)) return false;
  if (channel && !f.channel!.includes(a.channel)) return false;
  if (f.visibleForCustomer !== undefined && f.visibleForCustomer !== a.visibleForCustomer) return false;
  if (f.hasAttachment !== undefined && f.hasAttachment !== (a.attachments !== undefined && a.attachments.length > 0)) return false;
  if (subject && !(a.subject ?? '').toLowerCase().includes(f.subject!.toLowerCase())) return false;
  if (body && !(a.body ?? '').toLowerCase().includes(f.body!.toLowerCase())) return false;
  return true;
}

interface Ctx {
  definition: NotificationDefinition;
  history: DeliveryHistory;
  now: number;
  actorId: string | null;
  /** The event carries an article customers may not see. */
  hiddenArticle: boolean;
  /** The item or appointment `once_per_day` counts per. */
  subjectId: string | null;
  builtin: 'assignmentChanges' | 'newMembersInMyProjects' | null;
}

/** The first reason of §2's order (up to `no_phone`) that leaves this (recipient, transport) out. */
function reasonFor(r: Recipient, transport: PersonalTransport, ctx: Ctx): DeliveryReason | null {
  const self = isAddress(r) ? null : r;
  const addr = self === null ? (r as AddressRecipient) : null;
  const p = self ?? addr!.owner;
  if (p !== null) {
    if (p.id === ctx.actorId) return 'actor';
    if (p.disabled) return 'disabled';
    if (ctx.hiddenArticle && p.kind === 'customer') return 'not_visible_for_customer';
  } else if (ctx.hiddenArticle && addr!.external) return 'not_visible_for_customer';
  const def = ctx.definition;
  if (self !== null && self.outOfOffice && !def.sendOnOutOfOffice) return 'out_of_office';
  if (def.oncePerDay) {
    const last = ctx.history.lastDeliveredAt(def.id, ctx.subjectId, self !== null ? self.id : addr!.key, transport);
    if (last !== undefined && ctx.now - last < ONCE_PER_DAY_MS) return 'once_per_day';
  }
  if (self !== null && self.kind === 'user' && isUserPreferences(self.preferences) && preferenceOff(self.preferences, transport, ctx)) return 'preference_off';
  if (transport === 'email') {
    if (p !== null && p.preferences.email.optOut) return 'opted_out';
    const address = self !== null ? self.email : addr!.address;
    if (!address) return 'no_address';
    if (ctx.history.isBounced(address)) return 'bounced';
    return null;
  }
  if (transport === 'sms' && !self?.phone) return 'no_phone';
  return null;
}

function preferenceOff(prefs: UserPreferences, transport: PersonalTransport, ctx: Ctx): boolean {
  const def = ctx.definition;
  if (def.agentPreferences.visible !== 'no') {
    const all = prefs.notificationDefinitions;
    const mine = all && Object.hasOwn(all, def.id) ? all[def.id]![transport] : undefined;
    if (!(mine ?? def.agentPreferences.enabledByDefault.includes(transport))) return true;
  }
  return transport === 'email' && ctx.builtin !== null && !prefs.email[ctx.builtin];
}
