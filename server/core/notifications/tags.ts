import type { ContentType } from '../../../protocol/index.js';
import type { TagContext } from './types.js';

/**
 * OTOBO's tags in notification subjects and bodies (NOTIFICATIONS.md §4), so that texts imported from
 * OTOBO render as they did there. Pure: no I/O, no clock; the caller looks up the participants.
 *
 * **Tags.** `<OTOBO_FAMILY_Attribute>`, optionally cut with `[n]` (`<OTOBO_TICKET_Title[20]>`).
 * `<PARLEY_…>` is a synonym of `<OTOBO_…>` everywhere. OTOBO spells attributes case-sensitively
 * (`UserFirstname`, `TITLE`); Parley matches the prefix, the family and the attribute regardless of case,
 * so `<otobo_ticket_TITLE>` works too. Names of dynamic fields and config keys are looked up exactly
 * first, then regardless of case.
 *
 * | tag | value |
 * |---|---|
 * | `TICKET_TicketNumber` / `TicketID` / `Title` / `Queue` / `State` / `Priority` / `Service` / `Type` / `Lock` | the item's `number` / `id` / `title` / `queue` / `status` / `priority` / `service` / `type` / `lock` |
 * | `TICKET_Owner`, `TICKET_Responsible` | that participant's `name` (OTOBO shows a login; Parley's people have a display name, which reads better in a sentence); the bare id when the caller found no participant for it |
 * | `TICKET_OwnerID`, `TICKET_ResponsibleID` | the participant id |
 * | `TICKET_CustomerID`, `TICKET_CustomerUserID` | the item's `customerId` (Parley's item has one customer reference; both of OTOBO's names read it) |
 * | `TICKET_DynamicField_<Name>` | `fields.<Name>`; a list joins with `", "`. `…_<Name>_Value` (OTOBO's display value) reads the same field unless a field by that longer name exists |
 * | `NOTIFICATION_RECIPIENT_X`, `CURRENT_X` (the actor), `OWNER_X`, `RESPONSIBLE_X`, `CUSTOMER_DATA_X` | `X` = `UserFirstname` (first word of the name), `UserLastname` (the rest), `UserFullname`, `UserEmail`. A bare `<OTOBO_UserFirstname>` is the recipient, as in OTOBO |
 * | `CUSTOMER_REALNAME` | the customer's name |
 * | `CUSTOMER_SUBJECT`, `CUSTOMER_BODY` | the event's article; `CUSTOMER_EMAIL` (OTRS's older name) is `CUSTOMER_BODY` |
 * | `APPOINTMENT_TITLE` / `DESCRIPTION` / `LOCATION` / `APPOINTMENTID` / `CALENDARID` | as stored |
 * | `APPOINTMENT_STARTTIME`, `ENDTIME` | `YYYY-MM-DD HH:MM:SS` in UTC (OTOBO's format in its default system time zone); `YYYY-MM-DD` for an all-day appointment, as OTOBO does |
 * | `APPOINTMENT_ALLDAY`, `RECURRING` | `Yes` / `No`, as OTOBO renders them (untranslated: the language is chosen by the caller, not here) |
 * | `CALENDAR_CALENDARNAME` / `COLOR` / `CALENDARID` | the calendar's `name` / `color` / `id` |
 * | `CONFIG_X` | `ctx.config[X]`, see {@link tagConfig}; only own keys (`<OTOBO_CONFIG_constructor>` is `-`) |
 *
 * An unknown tag, a missing object, and an empty or whitespace-only value render as `-`.
 *
 * **Cuts.** `[n]` on a body tag (`CUSTOMER_BODY`, `CUSTOMER_EMAIL`) keeps the first n lines (no marker).
 * On any other tag it keeps the first n characters and appends `[...]` (no space) — only when something
 * was cut. A character is what a reader sees as one: a cut never splits a surrogate pair, a letter
 * from its combining accents, or an emoji sequence (`👋🏽`, `👩‍👩‍👧`, `🇩🇪`); see `firstCharacters`.
 * For text without those, this is the count of code points, as in OTOBO.
 *
 * **Content types and parts.** In `text/html` templates a tag may arrive HTML-escaped
 * (`&lt;OTOBO_TICKET_Title&gt;`, as rich-text editors save it) and is found all the same; in
 * `text/plain` such text is literal. In an HTML body every value is HTML-escaped (`& < > " '`) and its
 * line breaks become `<br/>` (OTOBO turns a plain-text article body into HTML the same way). Subjects are
 * plain text whatever the body's content type — an email header or an SMS, never HTML — so their values
 * are not escaped; every line break (CR, LF, CRLF, U+0085, U+2028, U+2029) in the template and in the
 * values becomes one space, and the rendered subject holds no CR or LF.
 *
 * **Safety.** The template is scanned once, when it is compiled; values are inserted afterwards and are
 * never scanned again, so a title that contains `<OTOBO_CONFIG_FQDN>` renders literally.
 *
 * **Speed.** {@link compileTemplate} splits a template into literals and resolved tags with one pass of a
 * module-level regex; rendering is then a loop of string concatenations. {@link renderTemplate} keeps a
 * bounded cache of compiled templates, so callers may pass the same template text for every recipient.
 */

/** Which text of a message is rendered: subjects lose line breaks and are never HTML. */
export type TemplatePart = 'subject' | 'body';

export interface RenderOptions {
  part: TemplatePart;
  contentType: ContentType;
}

/** A template scanned once, ready to render for many contexts. */
export interface CompiledTemplate {
  render(ctx: TagContext): string;
}

/** Renders `template` for one recipient. Compiles (or reuses the cached compilation of) the template. */
export function renderTemplate(template: string, ctx: TagContext, opts: RenderOptions): string {
  return cachedCompile(template, opts).render(ctx);
}

/** Scans `template` once for tags (see the module comment); the result renders any number of contexts. */
export function compileTemplate(template: string, opts: RenderOptions): CompiledTemplate {
  const subject = opts.part === 'subject';
  const html = opts.contentType === 'text/html';
  const pattern = html ? TAG_OR_ESCAPED_TAG : TAG;
  const literals: string[] = [];
  const tags: Tag[] = [];
  let last = 0;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(template); m !== null; m = pattern.exec(template)) {
    literals.push(template.slice(last, m.index));
    const name = m[1] ?? m[3] ?? '';
    const count = m[2] ?? m[4];
    const resolved = resolve(name);
    tags.push({ get: resolved.get, lines: resolved.lines, cut: count === undefined ? null : Number(count) });
    last = pattern.lastIndex;
  }
  literals.push(template.slice(last));
  if (subject) for (let i = 0; i < literals.length; i++) literals[i] = stripBreaks(literals[i] as string);
  const mode: Mode = subject ? 'subject' : html ? 'html' : 'plain';
  if (tags.length === 0) {
    const constant = literals[0] as string;
    return { render: () => constant };
  }
  return {
    render(ctx) {
      let out = literals[0] as string;
      for (let i = 0; i < tags.length; i++) out += value(tags[i] as Tag, ctx, mode) + (literals[i + 1] as string);
      return out;
    },
  };
}

/**
 * The `<OTOBO_CONFIG_X>` values: defaults derived from `PARLEY_APP_URL`, overridden (and extended) by
 * the JSON object in `PARLEY_TAG_CONFIG`.
 *
 * Defaults: `HttpType` (`http` / `https`), `FQDN` (host, with the port when not the default),
 * `ScriptAlias` (the URL's path without its leading slash, `""` at the root), `NotificationSenderName`
 * (`Parley`), `Ticket::Hook` (`Ticket#`), `Ticket::HookDivider` (`""`). An unset or blank `json` means
 * no overrides.
 *
 * @throws Error with a message naming the variable when `appUrl` is not a URL, or `json` is not valid
 * JSON, not an object, or has a value that is not a string. Call it at startup, where config is checked.
 */
export function tagConfig(appUrl: string, json: string | undefined): Record<string, string> {
  let url: URL;
  try {
    url = new URL(appUrl);
  } catch (err) {
    throw new Error(`PARLEY_APP_URL is not a URL (${JSON.stringify(appUrl)}): ${message(err)}`);
  }
  const entries: Array<[string, string]> = [
    ['HttpType', url.protocol.replace(/:$/, '')],
    ['FQDN', url.host],
    ['ScriptAlias', url.pathname.replace(/^\/+/, '')],
    ['NotificationSenderName', 'Parley'],
    ['Ticket::Hook', 'Ticket#'],
    ['Ticket::HookDivider', ''],
  ];
  if (json !== undefined && json.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (err) {
      throw new Error(`PARLEY_TAG_CONFIG is not valid JSON: ${message(err)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('PARLEY_TAG_CONFIG must be a JSON object of strings, e.g. {"FQDN":"support.example.com"}');
    }
    for (const [key, v] of Object.entries(parsed)) {
      if (typeof v !== 'string') {
        throw new Error(`PARLEY_TAG_CONFIG: the value of ${JSON.stringify(key)} must be a string, not ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
      }
      entries.push([key, v]);
    }
  }
  // fromEntries defines own properties, so a key such as "__proto__" is data, never a prototype.
  return Object.fromEntries(entries);
}

// ---------------------------------------------------------------------------------------------------
// Compilation

type Getter = (ctx: TagContext) => string | null | undefined;
type Mode = 'subject' | 'html' | 'plain';

interface Tag {
  get: Getter;
  /** A body tag: `[n]` keeps n lines instead of n characters. */
  lines: boolean;
  /** The `[n]` of the tag, if any. */
  cut: number | null;
}

const NAME = String.raw`(?:OTOBO|PARLEY)_([A-Za-z0-9_:.\-]{1,200})(?:\[(\d{1,9})\])?`;
// Built once: compile resets lastIndex, and nothing else uses them (compilation is synchronous).
const TAG = new RegExp(`<${NAME}>`, 'gi');
const TAG_OR_ESCAPED_TAG = new RegExp(`<${NAME}>|&lt;${NAME}&gt;`, 'gi');

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
  ['STARTTIME', (c) => (c.appointment ? timestamp(c.appointment.startAt, c.appointment.allDay) : null)],
  ['ENDTIME', (c) => (c.appointment ? timestamp(c.appointment.endAt, c.appointment.allDay) : null)],
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
function resolve(name: string): { get: Getter; lines: boolean } {
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

/** `YYYY-MM-DD HH:MM:SS` (UTC), or `YYYY-MM-DD` for all-day appointments. */
function timestamp(ms: number, allDay: boolean): string | null {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  return allDay ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Rendering one value

const LINE_BREAK = /\r\n|[\n\r\u0085\u2028\u2029]/g;
const HAS_LINE_BREAK = /[\n\r\u0085\u2028\u2029]/;
const NON_BLANK = /\S/;
const HTML_SPECIAL = /[&<>"'\n\r\u0085\u2028\u2029]/;
/** Code points that belong to the character before them (see {@link firstCharacters}). */
const EXTENDS_AT = /[\p{M}\u200D\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]/uy;

function value(tag: Tag, ctx: TagContext, mode: Mode): string {
  let v = tag.get(ctx);
  if (v === null || v === undefined) return '-';
  if (tag.cut !== null && tag.lines) v = firstLines(v, tag.cut);
  if (mode === 'subject') v = stripBreaks(v);
  if (!NON_BLANK.test(v)) return '-';
  if (tag.cut !== null && !tag.lines) v = firstCharacters(v, tag.cut);
  return mode === 'html' ? escapeHtml(v) : v;
}

function stripBreaks(s: string): string {
  return HAS_LINE_BREAK.test(s) ? s.replace(LINE_BREAK, ' ') : s;
}

function isLineBreak(c: number): boolean {
  return c === 10 || c === 13 || c === 0x85 || c === 0x2028 || c === 0x2029;
}

/** The first `n` lines, without the break that ends the last one kept (CRLF is one break). */
function firstLines(s: string, n: number): string {
  if (n === 0) return '';
  let seen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isLineBreak(c)) continue;
    if (++seen === n) return s.slice(0, i);
    if (c === 13 && s.charCodeAt(i + 1) === 10) i++;
  }
  return s;
}

function isRegionalIndicator(cp: number): boolean {
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

/**
 * The first `n` characters, then `[...]` when anything was cut. A character is a code point together
 * with what extends it: combining marks and variation selectors, emoji skin-tone modifiers and tag
 * characters, whatever a zero-width joiner glues on, the second regional indicator of a flag, and the LF
 * of a CRLF. This is the grapheme cluster of Unicode for everything but rare scripts (Hangul jamo, Indic
 * conjuncts), and costs a fraction of `Intl.Segmenter`, which was too slow for this hot path.
 */
function firstCharacters(s: string, n: number): string {
  // Every character is at least one UTF-16 unit: a string this short cannot have more than n of them.
  if (s.length <= n) return s;
  let count = 0;
  let prev = -1;
  let indicators = 0;
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i) as number;
    let extending = false;
    if (cp >= 0x300) {
      EXTENDS_AT.lastIndex = i;
      extending = prev === 0x200d || EXTENDS_AT.test(s) || (isRegionalIndicator(cp) && indicators % 2 === 1);
    } else if (cp === 10 && prev === 13) {
      extending = true;
    }
    if (!extending) {
      if (count === n) return `${s.slice(0, i)}[...]`;
      count++;
    }
    indicators = isRegionalIndicator(cp) ? indicators + 1 : 0;
    prev = cp;
    i += cp > 0xffff ? 2 : 1;
  }
  return s;
}

/** `& < > " '` as entities, each line break as `<br/>` (CRLF as one). */
function escapeHtml(s: string): string {
  // Most values (names, titles, numbers) have nothing to escape: the native scan answers that fastest.
  if (!HTML_SPECIAL.test(s)) return s;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let entity: string;
    switch (s.charCodeAt(i)) {
      case 38:
        entity = '&amp;';
        break;
      case 60:
        entity = '&lt;';
        break;
      case 62:
        entity = '&gt;';
        break;
      case 34:
        entity = '&quot;';
        break;
      case 39:
        entity = '&#39;';
        break;
      case 13:
        entity = '<br/>';
        if (s.charCodeAt(i + 1) === 10) {
          out += s.slice(last, i) + entity;
          last = i + 2;
          i++;
          continue;
        }
        break;
      case 10:
      case 0x85:
      case 0x2028:
      case 0x2029:
        entity = '<br/>';
        break;
      default:
        continue;
    }
    out += s.slice(last, i) + entity;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

// ---------------------------------------------------------------------------------------------------
// Cache

/** Bounds the cache by the characters of the templates it holds (each template string is kept once). */
const CACHE_MAX_CHARS = 4_000_000;
const cache = new Map<string, Map<string, CompiledTemplate>>();
let cachedChars = 0;

function cachedCompile(template: string, opts: RenderOptions): CompiledTemplate {
  const variant = `${opts.part} ${opts.contentType}`;
  let byVariant = cache.get(template);
  const hit = byVariant?.get(variant);
  if (hit) return hit;
  const compiled = compileTemplate(template, opts);
  if (template.length > CACHE_MAX_CHARS) return compiled;
  if (!byVariant) {
    while (cachedChars + template.length > CACHE_MAX_CHARS) {
      // Map iterates in insertion order: drop the oldest template.
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
      cachedChars -= oldest.length;
    }
    byVariant = new Map();
    cache.set(template, byVariant);
    cachedChars += template.length;
  }
  byVariant.set(variant, compiled);
  return compiled;
}
