import type { ContentType } from '../../../protocol/index.js';
import type { TagContext } from './types.js';
import { resolve, type Getter } from './tag-values.js';
import { escapeHtml, firstCharacters, firstLines, stripBreaks } from './text-cut.js';

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
 * from its combining accents, or an emoji sequence (`👋🏽`, `👩‍👩‍👧`, `🇩🇪`); see `firstCharacters` (text-cut.ts).
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

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Rendering one value

const NON_BLANK = /\S/;

function value(tag: Tag, ctx: TagContext, mode: Mode): string {
  let v = tag.get(ctx);
  if (v === null || v === undefined) return '-';
  if (tag.cut !== null && tag.lines) v = firstLines(v, tag.cut);
  if (mode === 'subject') v = stripBreaks(v);
  if (!NON_BLANK.test(v)) return '-';
  if (tag.cut !== null && !tag.lines) v = firstCharacters(v, tag.cut);
  return mode === 'html' ? escapeHtml(v) : v;
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
