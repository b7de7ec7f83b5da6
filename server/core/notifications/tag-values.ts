import type { TagContext } from './types.js';

/**
 * What each OTOBO tag name reads (the table in tags.ts): resolved once per tag, when a template is
 * compiled, into a getter the render loop calls.
 */

export type Getter = (ctx: TagContext) => string | null | undefined;

const UNKNOWN: Getter = () => undefined;

interface Person {
  name: string;
  email: string | null;
}
type PersonOf = (ctx: TagContext) => Person | null | undefined;

const PERSONS: ReadonlyArray<[string, PersonOf]> = [
  ['NOTIFICATION_RECIPIENT_', (c) => c.recipient],
  ['CURRENT_', (c) => c.actor],
  ['OWNER_', (c) => c.owner],
  ['RESPONSIBLE_', (c) => c.responsible],
  ['CUSTOMER_DATA_', (c) => c.customer],
];

const PERSON_ATTRIBUTES: ReadonlyMap<string, (p: Person) => string | null> = new Map([
  ['USERFIRSTNAME', (p: Person) => firstName(p.name)],
  ['USERLASTNAME', (p: Person) => lastName(p.name)],
  ['USERFULLNAME', (p: Person) => p.name.trim()],
  ['USEREMAIL', (p: Person) => p.email],
]);

const TICKET: ReadonlyMap<string, Getter> = new Map<string, Getter>([
  ['TICKETNUMBER', (c) => c.item?.number],
  ['TICKETID', (c) => c.item?.id],
  ['TITLE', (c) => c.item?.title],
  ['QUEUE', (c) => c.item?.queue],
  ['STATE', (c) => c.item?.status],
  ['PRIORITY', (c) => c.item?.priority],
  ['SERVICE', (c) => c.item?.service],
  ['TYPE', (c) => c.item?.type],
  ['LOCK', (c) => c.item?.lock],
  ['OWNER', (c) => c.owner?.name ?? c.item?.ownerId],
  ['OWNERID', (c) => c.item?.ownerId],
  ['RESPONSIBLE', (c) => c.responsible?.name ?? c.item?.responsibleId],
  ['RESPONSIBLEID', (c) => c.item?.responsibleId],
  ['CUSTOMERID', (c) => c.item?.customerId],
  ['CUSTOMERUSERID', (c) => c.item?.customerId],
]);

const CUSTOMER: ReadonlyMap<string, Getter> = new Map<string, Getter>([
  ['REALNAME', (c) => c.customer?.name],
  ['SUBJECT', (c) => c.article?.subject],
]);
const CUSTOMER_BODY: Getter = (c) => c.article?.body;
const BODY_TAGS = new Set(['BODY', 'EMAIL']);

const APPOINTMENT: ReadonlyMap<string, Getter> = new Map<string, Getter>([
  ['TITLE', (c) => c.appointment?.title],
  ['DESCRIPTION', (c) => c.appointment?.description],
  ['LOCATION', (c) => c.appointment?.location],
  ['STARTTIME', (c) => (c.appointment ? timestamp(c.appointment.startAt, c.appointment.allDay, c.recipient?.timezone) : null)],
  ['ENDTIME', (c) => (c.appointment ? timestamp(c.appointment.endAt, c.appointment.allDay, c.recipient?.timezone) : null)],
  ['ALLDAY', (c) => (c.appointment ? yesNo(c.appointment.allDay) : null)],
  ['RECURRING', (c) => (c.appointment ? yesNo(c.appointment.recurring) : null)],
  ['APPOINTMENTID', (c) => c.appointment?.id],
  ['CALENDARID', (c) => c.appointment?.calendarId],
]);

const CALENDAR: ReadonlyMap<string, Getter> = new Map<string, Getter>([
  ['CALENDARNAME', (c) => c.calendar?.name],
  ['COLOR', (c) => c.calendar?.color],
  ['CALENDARID', (c) => c.calendar?.id],
]);

/** What a tag name (after `OTOBO_`) reads; unknown names read nothing. */
export function resolve(name: string): { get: Getter; lines: boolean } {
  const upper = name.toUpperCase();
  const after = (prefix: string): string | undefined => (upper.startsWith(prefix) ? name.slice(prefix.length) : undefined);

  let rest = after('TICKET_');
  if (rest !== undefined) {
    if (rest.toUpperCase().startsWith('DYNAMICFIELD_')) {
      const field = rest.slice('DYNAMICFIELD_'.length);
      return { get: field === '' ? UNKNOWN : (c) => dynamicField(c, field), lines: false };
    }
    return { get: TICKET.get(rest.toUpperCase()) ?? UNKNOWN, lines: false };
  }
  for (const [prefix, personOf] of PERSONS) {
    rest = after(prefix);
    if (rest !== undefined) return { get: personGetter(personOf, rest), lines: false };
  }
  rest = after('CUSTOMER_');
  if (rest !== undefined) {
    const attr = rest.toUpperCase();
    if (BODY_TAGS.has(attr)) return { get: CUSTOMER_BODY, lines: true };
    return { get: CUSTOMER.get(attr) ?? UNKNOWN, lines: false };
  }
  rest = after('APPOINTMENT_');
  if (rest !== undefined) return { get: APPOINTMENT.get(rest.toUpperCase()) ?? UNKNOWN, lines: false };
  rest = after('CALENDAR_');
  if (rest !== undefined) return { get: CALENDAR.get(rest.toUpperCase()) ?? UNKNOWN, lines: false };
  rest = after('CONFIG_');
  if (rest !== undefined) {
    const key = rest;
    return { get: (c) => ownValue(c.config, key), lines: false };
  }
  // OTOBO also reads the recipient's attributes without a family: <OTOBO_UserFirstname>.
  return { get: personGetter((c) => c.recipient, name), lines: false };
}

function personGetter(personOf: PersonOf, attribute: string): Getter {
  const read = PERSON_ATTRIBUTES.get(attribute.toUpperCase());
  if (!read) return UNKNOWN;
  return (c) => {
    const p = personOf(c);
    return p ? read(p) : undefined;
  };
}

function dynamicField(c: TagContext, field: string): string | undefined {
  const fields = c.item?.fields;
  if (!fields) return undefined;
  let v = ownValue(fields, field);
  if (v === undefined && /_value$/i.test(field)) v = ownValue(fields, field.slice(0, -'_Value'.length));
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(', ');
}

/** `record[key]` when it is an own property; else the first own key equal to it regardless of case. */
function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  if (Object.hasOwn(record, key)) return record[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(record)) if (k.toLowerCase() === lower) return record[k];
  return undefined;
}

function firstName(name: string): string {
  const full = name.trim();
  const space = full.search(/\s/);
  return space < 0 ? full : full.slice(0, space);
}

function lastName(name: string): string {
  const full = name.trim();
  const space = full.search(/\s/);
  return space < 0 ? '' : full.slice(space).trim();
}

function yesNo(b: boolean): string {
  return b ? 'Yes' : 'No';
}

const zoned = new Map<string, Intl.DateTimeFormat>();

/**
 * `YYYY-MM-DD HH:MM:SS` in the recipient's time zone (UTC without one, or for an unknown zone), or
 * `YYYY-MM-DD` for all-day appointments (a date, the same everywhere).
 */
function timestamp(ms: number, allDay: boolean, timeZone: string | undefined): string | null {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  if (allDay) return iso.slice(0, 10);
  if (!timeZone || timeZone === 'UTC') return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  let f = zoned.get(timeZone);
  if (!f) {
    try {
      // Swedish writes dates and times exactly as ISO 8601 does.
      f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    } catch {
      return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
    }
    zoned.set(timeZone, f);
  }
  return f.format(d);
}
