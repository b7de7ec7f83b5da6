import type { z } from 'zod';
import {
  DefinitionInputSchema,
  EmailSecurityModeSchema,
  ProtocolError,
  RecipientRelationSchema,
  type EmailSecurityMode,
  type RecipientRelation,
} from '../../../protocol/index.js';
import type { OtoboImport } from './otobo.js';
import { checkKey, DataReader, dataValues, EntryError, isRecord, scalarText } from './otobo-import-data.js';
import {
  CHANNEL_ID,
  EMAIL_KEYS,
  ENTRY_KEYS,
  ID_FIELDS,
  invert,
  LOCK_ID,
  MESSAGE_FIELDS,
  MESSAGE_KEYS,
  MISSING_CRYPTING,
  MISSING_SIGNING,
  NAME_FILTERS,
  OTOBO_FILTERS,
  SENDER_TYPE_ID,
  TRANSPORT_NAME,
  truthy,
  VALID_ID,
  VISIBLE_FOR_AGENT,
} from './otobo-tables.js';

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
