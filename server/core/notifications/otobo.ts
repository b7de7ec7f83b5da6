import type { z } from 'zod';
import {
  DefinitionInputSchema,
  EmailSecurityModeSchema,
  ProtocolError,
  RecipientRelationSchema,
  type ArticleChannel,
  type EmailSecurityMode,
  type PersonalTransport,
  type RecipientRelation,
  type SenderKind,
} from '../../../protocol/index.js';

/**
 * OTOBO's `Export_Notification.yml` entries ↔ Parley's notification definitions (NOTIFICATIONS.md §5).
 * Pure: the YAML text is the adapter's business (server/adapters/yaml/otobo-yaml.ts); this module sees
 * the parsed list.
 *
 * An entry is `{Name, Comment, ValidID, Data: {<key>: [strings]}, Message: {<lang>: {Subject, Body,
 * ContentType}}}`. OTOBO's own Data keys keep OTOBO's meaning; what Parley has and OTOBO has not is
 * written under keys that start with `Parley` (OTOBO stores such keys and exports them again, unused):
 *
 * | Parley                                         | Data key                                  |
 * |------------------------------------------------|-------------------------------------------|
 * | filter.status / priority / queue / service / type (names) | `ParleyState` / `ParleyPriority` / `ParleyQueue` / `ParleyService` / `ParleyType` |
 * | filter.customerId (the customer participant)   | `CustomerUserID` (OTOBO's customer user)  |
 * | filter.customerCompany                         | `CustomerID` (OTOBO's customer company)   |
 * | filter.fields.StateID … TypeID                 | `StateID`, `PriorityID`, `QueueID`, `ServiceID`, `TypeID` |
 * | filter.fields.<Name> (any other)               | `DynamicField_<Name>` (`Search_DynamicField_<Name>` is read too) |
 * | articleFilter.hasAttachment                    | `ParleyArticleHasAttachment` (`['1']`/`['0']`) |
 * | transports.email.onlyIfUnseenMs                | `ParleyEmailOnlyIfUnseenMs` (`['<ms>']`)   |
 * | transports.message {enabled, botId, visibility}| `ParleyMessageEnabled`, `ParleyMessageBotID`, `ParleyMessageVisibility` |
 * | transports.web / sms present but switched off  | `ParleyDisabledTransports` (`Web`, `SMS`) |
 *
 * A present `email` transport always writes `TransportEmailTemplate: [Default]`; on import, email is
 * present when `Transports` names `Email` or any email setting key is there (OTOBO keeps those
 * settings while the transport is off). `LanguageID` (OTOBO's list of the message languages) is
 * written from `messages` and read as nothing more. `ArticleAttachmentInclude` (OTOBO attaches the
 * article's files) has no Parley counterpart: `['1']` is kept with a warning, `['0']` means nothing.
 *
 * **Kept keys.** Whatever Parley cannot act on is kept in `otobo` and written again: unknown Data keys
 * whole, the values of a known key Parley cannot represent (a relation or transport it does not
 * know, a template other than `Default`, security settings without a mode, …) and unknown top-level
 * keys (`ID`, `ChangeTime`, …). Each raises one warning `{name, key}`. On export, kept values of a key
 * Parley also writes are appended to a list-valued key and replace a single-valued one — exactly
 * what undoes the import's split.
 *
 * **Round trip.** For every valid definition, `fromOtoboEntries([toOtoboEntry(d)])` gives `d` back,
 * reading an empty `otobo` and an empty `filter.fields` as absent (the format has no way to say
 * "present, empty"), provided `otobo.data` keeps only keys Parley does not map itself (what import
 * produces). Present-but-empty filter lists are written as empty lists so they come back.
 */

/** A definition as `DefinitionInputSchema` parsed it: every default filled in. */
export type ImportedDefinition = z.output<typeof DefinitionInputSchema>;

export interface OtoboImport {
  /** The entries that are valid definitions, in file order. */
  definitions: Array<{ name: string; input: ImportedDefinition }>;
  /** One per entry that is not (named `entry <n>` when it has no usable Name); the others import. */
  errors: Array<{ name: string; error: string }>;
  /** One per kept key of an imported entry (`Data` keys by name, top-level ones by name, dropped message keys as `Message.<lang>.<key>`). */
  warnings: Array<{ name: string; key: string }>;
}

const VALID_ID = { valid: '1', invalid: '2', 'invalid-temporarily': '3' } as const;
const LOCK_ID = { unlock: '1', lock: '2', tmp_lock: '3' } as const;
const SENDER_TYPE_ID: Record<SenderKind, string> = { user: '1', system: '2', customer: '3' };
const CHANNEL_ID: Record<ArticleChannel, string> = { email: '1', phone: '2', internal: '3', chat: '4' };
const TRANSPORT_NAME: Record<PersonalTransport, string> = { email: 'Email', web: 'Web', sms: 'SMS' };
const VISIBLE_FOR_AGENT = { no: '0', yes: '1', mandatory: '2' } as const;
const MISSING_SIGNING = { skip: 'Skip', send_unsigned: 'Send' } as const;
const MISSING_CRYPTING = { skip: 'Skip', send_unencrypted: 'Send' } as const;

/** OTOBO's numeric ticket attribute filters: `filter.fields.<key>` under the same key. */
const ID_FIELDS = new Set(['StateID', 'PriorityID', 'QueueID', 'ServiceID', 'TypeID']);
/** Parley's filters by name, which OTOBO filters by id. */
const NAME_FILTERS = {
  status: 'ParleyState',
  priority: 'ParleyPriority',
  queue: 'ParleyQueue',
  service: 'ParleyService',
  type: 'ParleyType',
} as const;
/** Filters OTOBO has under its own key, with the same meaning. */
const OTOBO_FILTERS = {
  customerId: 'CustomerUserID',
  customerCompany: 'CustomerID',
  calendarId: 'CalendarID',
  title: 'Title',
  location: 'Location',
  resourceId: 'ResourceID',
} as const;
const EMAIL_KEYS = [
  'RecipientEmail',
  'IsVisibleForCustomer',
  'TransportEmailTemplate',
  'EmailSecuritySettings',
  'EmailSigningCrypting',
  'EmailMissingSigningKeys',
  'EmailMissingCryptingKeys',
  'ParleyEmailOnlyIfUnseenMs',
] as const;
const MESSAGE_KEYS = ['ParleyMessageEnabled', 'ParleyMessageBotID', 'ParleyMessageVisibility'] as const;
/** Keys with one meaningful value: kept values replace Parley's on export instead of joining them. */
const SINGLE_VALUED = new Set([
  'NotificationType',
  'SendOnOutOfOffice',
  'OncePerDay',
  'VisibleForAgent',
  'VisibleForAgentTooltip',
  'IsVisibleForCustomer',
  'TransportEmailTemplate',
  'EmailSecuritySettings',
  'EmailSigningCrypting',
  'EmailMissingSigningKeys',
  'EmailMissingCryptingKeys',
  'ArticleIsVisibleForCustomer',
  'ArticleAttachmentInclude',
  'ParleyArticleHasAttachment',
  'ParleyEmailOnlyIfUnseenMs',
  ...MESSAGE_KEYS,
]);
const ENTRY_KEYS = new Set(['Name', 'Comment', 'ValidID', 'Data', 'Message']);
const MESSAGE_FIELDS = new Set(['Subject', 'Body', 'ContentType']);

const flag = (b: boolean): string => (b ? '1' : '0');
/** OTOBO's (Perl's) truth: a first value that is neither empty nor `0`. */
const truthy = (v: readonly string[] | undefined): boolean => v !== undefined && v[0] !== undefined && v[0] !== '' && v[0] !== '0';
const invert = <K extends string>(m: Record<K, string>): Map<string, K> => new Map(Object.entries(m).map(([k, v]) => [v as string, k as K]));

// ------------------------------------------------------------------------------------------------
// Export
// ------------------------------------------------------------------------------------------------

/**
 * One definition as an entry of OTOBO's `Export_Notification.yml`. Parley's `id` and timestamps are
 * not written (OTOBO's own `ID`, `ChangeTime`, … come back from `otobo.entry` when an import kept them).
 */
export function toOtoboEntry(def: ImportedDefinition): Record<string, unknown> {
  const d = new Map<string, string[]>();
  d.set('Events', [...def.events]);
  d.set('NotificationType', [def.type === 'appointment' ? 'Appointment' : 'Ticket']);

  const r = def.recipients;
  if (r.relations.length) d.set('Recipients', [...r.relations]);
  if (r.agents.length) d.set('RecipientAgents', [...r.agents]);
  if (r.groups.length) d.set('RecipientGroups', [...r.groups]);
  if (r.roles.length) d.set('RecipientRoles', [...r.roles]);
  if (def.sendOnOutOfOffice) d.set('SendOnOutOfOffice', ['1']);
  if (def.oncePerDay) d.set('OncePerDay', ['1']);

  const t = def.transports;
  const on: string[] = [];
  const off: string[] = [];
  for (const k of ['email', 'web', 'sms'] as const) {
    const x = t[k];
    if (x) (x.enabled ? on : off).push(TRANSPORT_NAME[k]);
  }
  if (on.length) d.set('Transports', on);
  const offOthers = off.filter((n) => n !== 'Email');
  if (offOthers.length) d.set('ParleyDisabledTransports', offOthers);
  if (t.email) {
    const e = t.email;
    if (e.extraAddresses.length) d.set('RecipientEmail', [e.extraAddresses.join(', ')]);
    if (e.visibleForCustomer !== undefined) d.set('IsVisibleForCustomer', [flag(e.visibleForCustomer)]);
    d.set('TransportEmailTemplate', ['Default']);
    if (e.security) {
      d.set('EmailSecuritySettings', ['1']);
      d.set('EmailSigningCrypting', [e.security.mode]);
      d.set('EmailMissingSigningKeys', [MISSING_SIGNING[e.security.missingSigningKeys]]);
      d.set('EmailMissingCryptingKeys', [MISSING_CRYPTING[e.security.missingCryptingKeys]]);
    }
    if (e.onlyIfUnseenMs !== undefined) d.set('ParleyEmailOnlyIfUnseenMs', [String(e.onlyIfUnseenMs)]);
  }
  if (t.message) {
    d.set('ParleyMessageEnabled', [flag(t.message.enabled)]);
    d.set('ParleyMessageBotID', [t.message.botId]);
    d.set('ParleyMessageVisibility', [t.message.visibility]);
  }

  const a = def.agentPreferences;
  d.set('VisibleForAgent', [VISIBLE_FOR_AGENT[a.visible]]);
  if (a.tooltip !== undefined) d.set('VisibleForAgentTooltip', [a.tooltip]);
  if (a.enabledByDefault.length) d.set('AgentEnabledByDefault', a.enabledByDefault.map((x) => TRANSPORT_NAME[x]));
  d.set('LanguageID', Object.keys(def.messages));

  const f = def.filter;
  for (const [k, key] of Object.entries(NAME_FILTERS) as Array<[keyof typeof NAME_FILTERS, string]>) {
    const v = f[k];
    if (v !== undefined) d.set(key, [...v]);
  }
  if (f.lock !== undefined) d.set('LockID', f.lock.map((x) => LOCK_ID[x]));
  for (const [k, key] of Object.entries(OTOBO_FILTERS) as Array<[keyof typeof OTOBO_FILTERS, string]>) {
    const v = f[k];
    if (v !== undefined) d.set(key, [...v]);
  }
  for (const [name, values] of Object.entries(f.fields ?? {})) {
    d.set(ID_FIELDS.has(name) ? name : `DynamicField_${name}`, [...values]);
  }

  const af = def.articleFilter;
  if (af.senderKind !== undefined) d.set('ArticleSenderTypeID', af.senderKind.map((x) => SENDER_TYPE_ID[x]));
  if (af.channel !== undefined) d.set('ArticleCommunicationChannelID', af.channel.map((x) => CHANNEL_ID[x]));
  if (af.visibleForCustomer !== undefined) d.set('ArticleIsVisibleForCustomer', [flag(af.visibleForCustomer)]);
  if (af.hasAttachment !== undefined) d.set('ParleyArticleHasAttachment', [flag(af.hasAttachment)]);
  if (af.subject !== undefined) d.set('MIMEBase_Subject', [af.subject]);
  if (af.body !== undefined) d.set('MIMEBase_Body', [af.body]);

  for (const [key, values] of Object.entries(def.otobo?.data ?? {})) {
    const mine = d.get(key);
    d.set(key, mine && !SINGLE_VALUED.has(key) ? [...mine, ...values] : [...values]);
  }

  const entry: Record<string, unknown> = {
    Name: def.name,
    Comment: def.comment,
    ValidID: VALID_ID[def.valid],
    Data: Object.fromEntries(d),
    Message: Object.fromEntries(
      Object.entries(def.messages).map(([lang, m]) => [lang, { Subject: m.subject, Body: m.body, ContentType: m.contentType }]),
    ),
  };
  for (const [key, value] of Object.entries(def.otobo?.entry ?? {})) {
    if (!ENTRY_KEYS.has(key)) Object.defineProperty(entry, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return entry;
}

// ------------------------------------------------------------------------------------------------
// Import
// ------------------------------------------------------------------------------------------------

/** An entry that cannot become a definition; the message is shown to the admin as it is. */
class EntryError extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** A scalar as OTOBO (Perl) would read it: YAML's numbers and booleans become their text. */
function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return flag(v);
  return undefined;
}

function checkKey(where: string, key: string): void {
  if (key === '__proto__') throw new EntryError(`${where}: the key __proto__ is not allowed`);
}

function dataValues(key: string, v: unknown): string[] {
  // `Key:` with nothing after it is YAML's null: an empty list. A bare string is not a list (OTOBO fails on it too).
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new EntryError(`Data.${key}: must be a list of strings`);
  return v.map((x, i) => {
    const s = scalarText(x);
    if (s === undefined) throw new EntryError(`Data.${key}[${i}]: must be a string`);
    return s;
  });
}

/** The values of a Data key, each taken once; what is left at the end is unknown. */
class DataReader {
  private readonly rest: Map<string, string[]>;
  readonly kept = new Map<string, string[]>();
  readonly warned: string[] = [];

  constructor(data: Map<string, string[]>) {
    this.rest = new Map(data);
  }

  has(key: string): boolean {
    return this.rest.has(key);
  }

  take(key: string): string[] | undefined {
    const v = this.rest.get(key);
    this.rest.delete(key);
    return v;
  }

  /** Keep values Parley cannot act on, to write them again; one warning per key. */
  keep(key: string, values: string[], evenIfEmpty = false): void {
    if (!values.length && !evenIfEmpty) return;
    this.kept.set(key, [...(this.kept.get(key) ?? []), ...values]);
    if (!this.warned.includes(key)) this.warned.push(key);
  }

  /** Split a list-valued key into the values `map` knows and the rest (kept). */
  partition<T>(key: string, map: ReadonlyMap<string, T>): T[] | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    const known: T[] = [];
    const unknown: string[] = [];
    for (const x of v) {
      const m = map.get(x);
      if (m === undefined) unknown.push(x);
      else known.push(m);
    }
    this.keep(key, unknown);
    return known;
  }

  /** A single-valued key: the value `map` knows, else the whole list is kept. */
  single<T>(key: string, map: ReadonlyMap<string, T>): T | undefined {
    const v = this.take(key);
    if (v === undefined || v.length === 0) return undefined;
    const m = map.get(v[0] as string);
    if (m === undefined) this.keep(key, v);
    return m;
  }

  remaining(): IterableIterator<[string, string[]]> {
    return this.rest.entries();
  }
}

const RELATIONS = new Map<string, RecipientRelation>(RecipientRelationSchema.options.map((r) => [r, r]));
const TRANSPORTS = invert(TRANSPORT_NAME);
const SWITCHABLE = new Map([
  ['Web', 'web'],
  ['SMS', 'sms'],
] as const);
const LOCKS = invert(LOCK_ID);
const SENDER_KINDS = invert(SENDER_TYPE_ID);
const CHANNELS = invert(CHANNEL_ID);
const VISIBILITY = invert(VISIBLE_FOR_AGENT);
const VALIDITY = invert(VALID_ID);
const SECURITY_MODES = new Map<string, EmailSecurityMode>(EmailSecurityModeSchema.options.map((m) => [m, m]));
const SIGNING = invert(MISSING_SIGNING);
const CRYPTING = invert(MISSING_CRYPTING);
const TYPES = new Map([
  ['Ticket', 'ticket'],
  ['Appointment', 'appointment'],
] as const);

function mapEntry(raw: Record<string, unknown>, name: string): { candidate: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  const entryKept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    checkKey('entry', key);
    if (ENTRY_KEYS.has(key)) continue;
    entryKept[key] = value;
    warnings.push(key);
  }

  const comment = raw.Comment === undefined || raw.Comment === null ? '' : scalarText(raw.Comment);
  if (comment === undefined) throw new EntryError('Comment: must be a string');
  const validText = raw.ValidID === undefined || raw.ValidID === null ? '1' : scalarText(raw.ValidID);
  const valid = validText === undefined ? undefined : VALIDITY.get(validText);
  if (valid === undefined) throw new EntryError('ValidID: must be 1 (valid), 2 (invalid) or 3 (invalid-temporarily)');

  if (raw.Data !== undefined && raw.Data !== null && !isRecord(raw.Data)) throw new EntryError('Data: must be a mapping of keys to lists of strings');
  const data = new Map<string, string[]>();
  for (const [key, value] of Object.entries(raw.Data ?? {})) {
    checkKey('Data', key);
    data.set(key, dataValues(key, value));
  }
  const r = new DataReader(data);

  const events = r.take('Events') ?? [];
  let type = r.single('NotificationType', TYPES);
  if (type === undefined && !r.kept.has('NotificationType')) {
    type = events.length > 0 && events.every((e) => /^(Appointment|Calendar)/.test(e)) ? 'appointment' : 'ticket';
  }

  const recipients = {
    relations: r.partition('Recipients', RELATIONS) ?? [],
    agents: r.take('RecipientAgents') ?? [],
    groups: r.take('RecipientGroups') ?? [],
    roles: r.take('RecipientRoles') ?? [],
  };
  const sendOnOutOfOffice = truthy(r.take('SendOnOutOfOffice'));
  const oncePerDay = truthy(r.take('OncePerDay'));

  // Transports.
  const on = new Set(r.partition('Transports', TRANSPORTS) ?? []);
  const off = new Set(r.partition('ParleyDisabledTransports', SWITCHABLE) ?? []);
  const transports: Record<string, unknown> = {};
  if (on.has('email') || EMAIL_KEYS.some((k) => r.has(k))) {
    const email: Record<string, unknown> = { enabled: on.has('email') };
    email.extraAddresses = (r.take('RecipientEmail') ?? []).flatMap((s) => s.split(/[\s,;]+/)).filter((s) => s !== '');
    const vfc = r.take('IsVisibleForCustomer');
    if (vfc?.length) email.visibleForCustomer = truthy(vfc);
    const template = r.take('TransportEmailTemplate');
    if (template?.length && template[0] !== 'Default') r.keep('TransportEmailTemplate', template);
    const settings = r.take('EmailSecuritySettings');
    const mode = r.take('EmailSigningCrypting');
    const signing = r.take('EmailMissingSigningKeys');
    const crypting = r.take('EmailMissingCryptingKeys');
    const m = mode?.length ? SECURITY_MODES.get(mode[0] as string) : undefined;
    if (truthy(settings) && m !== undefined) {
      const ms = signing?.length ? SIGNING.get(signing[0] as string) : 'skip';
      const mc = crypting?.length ? CRYPTING.get(crypting[0] as string) : 'skip';
      if (ms === undefined) r.keep('EmailMissingSigningKeys', signing ?? []);
      if (mc === undefined) r.keep('EmailMissingCryptingKeys', crypting ?? []);
      email.security = { mode: m, missingSigningKeys: ms ?? 'skip', missingCryptingKeys: mc ?? 'skip' };
    } else {
      r.keep('EmailSecuritySettings', settings ?? []);
      r.keep('EmailSigningCrypting', mode ?? []);
      r.keep('EmailMissingSigningKeys', signing ?? []);
      r.keep('EmailMissingCryptingKeys', crypting ?? []);
    }
    const unseen = r.take('ParleyEmailOnlyIfUnseenMs');
    if (unseen?.length) email.onlyIfUnseenMs = /^\d{1,15}$/.test(unseen[0] as string) ? Number(unseen[0]) : unseen[0];
    transports.email = email;
  }
  for (const k of ['web', 'sms'] as const) {
    if (on.has(k) || off.has(k)) transports[k] = { enabled: on.has(k) };
  }
  if (MESSAGE_KEYS.some((k) => r.has(k))) {
    transports.message = {
      enabled: truthy(r.take('ParleyMessageEnabled')),
      botId: r.take('ParleyMessageBotID')?.[0],
      visibility: r.take('ParleyMessageVisibility')?.[0],
    };
  }

  // Agent preferences.
  const visibleRaw = r.take('VisibleForAgent');
  let visible = VISIBILITY.get(visibleRaw?.[0] ?? '0');
  if (visible === undefined) {
    r.keep('VisibleForAgent', visibleRaw ?? []);
    visible = 'no';
  }
  const agentPreferences: Record<string, unknown> = {
    visible,
    enabledByDefault: r.partition('AgentEnabledByDefault', TRANSPORTS) ?? [],
  };
  const tooltip = r.take('VisibleForAgentTooltip');
  if (tooltip?.length) agentPreferences.tooltip = tooltip[0];
  r.take('LanguageID');

  // Filters, in the order the file lists them.
  const filter: Record<string, unknown> = {};
  const fields: Record<string, string[]> = {};
  for (const [key, values] of [...r.remaining()]) {
    const dyn = /^(?:Search_)?DynamicField_(.+)$/.exec(key)?.[1];
    const field = ID_FIELDS.has(key) ? key : dyn !== undefined && !ID_FIELDS.has(dyn) ? dyn : undefined;
    if (field === undefined) continue;
    r.take(key);
    checkKey(`Data.${key}`, field);
    fields[field] = [...(fields[field] ?? []), ...values];
  }
  for (const [k, key] of [...Object.entries(NAME_FILTERS), ...Object.entries(OTOBO_FILTERS)]) {
    const v = r.take(key);
    if (v !== undefined) filter[k] = v;
  }
  const lock = r.partition('LockID', LOCKS);
  if (lock !== undefined) filter.lock = lock;
  if (Object.keys(fields).length) filter.fields = fields;

  // Article filter.
  const articleFilter: Record<string, unknown> = {};
  const senderKind = r.partition('ArticleSenderTypeID', SENDER_KINDS);
  if (senderKind !== undefined) articleFilter.senderKind = senderKind;
  const channel = r.partition('ArticleCommunicationChannelID', CHANNELS);
  if (channel !== undefined) articleFilter.channel = channel;
  const avfc = r.take('ArticleIsVisibleForCustomer');
  if (avfc?.length) articleFilter.visibleForCustomer = truthy(avfc);
  const attachment = r.take('ParleyArticleHasAttachment');
  if (attachment?.length) articleFilter.hasAttachment = truthy(attachment);
  for (const [k, key] of [
    ['subject', 'MIMEBase_Subject'],
    ['body', 'MIMEBase_Body'],
  ] as const) {
    const v = r.take(key);
    if (!v?.length) continue;
    articleFilter[k] = v[0];
    r.keep(key, v.slice(1));
  }
  const include = r.take('ArticleAttachmentInclude');
  if (truthy(include)) r.keep('ArticleAttachmentInclude', include ?? []);

  for (const [key, values] of [...r.remaining()]) {
    r.take(key);
    r.keep(key, values, true);
  }
  warnings.push(...r.warned);

  // Messages.
  if (raw.Message !== undefined && raw.Message !== null && !isRecord(raw.Message)) throw new EntryError('Message: must be a mapping of languages to {Subject, Body, ContentType}');
  const messages: Record<string, unknown> = {};
  for (const [lang, m] of Object.entries(raw.Message ?? {})) {
    checkKey('Message', lang);
    if (!isRecord(m)) throw new EntryError(`Message.${lang}: must be a mapping with Subject, Body and ContentType`);
    for (const key of Object.keys(m)) if (!MESSAGE_FIELDS.has(key)) warnings.push(`Message.${lang}.${key}`);
    const text = (key: string): unknown => (m[key] === undefined || m[key] === null ? '' : (scalarText(m[key]) ?? m[key]));
    const contentType = m.ContentType === undefined || m.ContentType === null ? 'text/plain' : scalarText(m.ContentType);
    messages[lang] = {
      subject: text('Subject'),
      body: text('Body'),
      contentType: contentType === undefined ? m.ContentType : (contentType.split(';')[0] as string).trim().toLowerCase(),
    };
  }

  const candidate: Record<string, unknown> = {
    name,
    comment,
    valid,
    events,
    filter,
    articleFilter,
    recipients,
    sendOnOutOfOffice,
    oncePerDay,
    transports,
    agentPreferences,
    messages,
  };
  if (type !== undefined) candidate.type = type;
  if (r.kept.size || Object.keys(entryKept).length) {
    candidate.otobo = { data: Object.fromEntries(r.kept), entry: entryKept };
  }
  return { candidate, warnings };
}

/** The zod issues of a rejected entry as one readable line. */
function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/**
 * The entries of an OTOBO export (a parsed YAML list) as Parley definitions. Each entry stands alone:
 * a bad one becomes an error and the others still import; a name the file already used is an error.
 * Throws `ProtocolError('invalid')` only when `entries` is not a list at all.
 */
export function fromOtoboEntries(entries: unknown): OtoboImport {
  if (!Array.isArray(entries)) throw new ProtocolError('invalid', 'an OTOBO notification export is a list of notifications');
  const out: OtoboImport = { definitions: [], errors: [], warnings: [] };
  const seen = new Set<string>();
  entries.forEach((raw, index) => {
    const rawName = isRecord(raw) ? scalarText(raw.Name) : undefined;
    const name = rawName && rawName !== '' ? rawName : `entry ${index + 1}`;
    try {
      if (!isRecord(raw)) throw new EntryError('an entry must be a mapping with Name, Data and Message');
      if (rawName === undefined || rawName === '') throw new EntryError('Name: missing');
      if (seen.has(rawName)) throw new EntryError('Name: the file has another notification of this name');
      seen.add(rawName);
      const { candidate, warnings } = mapEntry(raw, rawName);
      const parsed = DefinitionInputSchema.safeParse(candidate);
      if (!parsed.success) throw new EntryError(describe(parsed.error));
      out.definitions.push({ name: rawName, input: parsed.data });
      for (const key of warnings) out.warnings.push({ name: rawName, key });
    } catch (e) {
      if (!(e instanceof EntryError)) throw e;
      out.errors.push({ name, error: e.message });
    }
  });
  return out;
}
