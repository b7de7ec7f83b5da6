import type { ImportedDefinition } from './otobo.js';
import {
  CHANNEL_ID,
  ENTRY_KEYS,
  flag,
  ID_FIELDS,
  LOCK_ID,
  MISSING_CRYPTING,
  MISSING_SIGNING,
  NAME_FILTERS,
  OTOBO_FILTERS,
  SENDER_TYPE_ID,
  SINGLE_VALUED,
  TRANSPORT_NAME,
  VALID_ID,
  VISIBLE_FOR_AGENT,
} from './otobo-tables.js';

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
