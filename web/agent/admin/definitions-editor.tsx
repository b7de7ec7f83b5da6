import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ArticleFilter, DefinitionFilter, EmailSecurityMode, EmailTransport, NotificationDefinition, PersonalTransport } from '../../../protocol/notifications.js';
import { AdminError, type AdminApi, type Choices, type FieldIssue } from './api.js';
import { Preview } from './preview.js';

/** A definition as the editor holds it: what PUT and POST take (NOTIFICATIONS §3). */
export type Draft = Omit<NotificationDefinition, 'id' | 'builtIn' | 'createdAt' | 'updatedAt'>;

export function draftOf(d: NotificationDefinition): Draft {
  const { id: _id, builtIn: _builtIn, createdAt: _createdAt, updatedAt: _updatedAt, ...rest } = d;
  return rest;
}

export function emptyDraft(language: string): Draft {
  return {
    name: '',
    comment: '',
    valid: 'valid',
    type: 'ticket',
    events: [],
    filter: {},
    articleFilter: {},
    recipients: { relations: [], agents: [], groups: [], roles: [] },
    sendOnOutOfOffice: false,
    oncePerDay: false,
    transports: { email: { enabled: true, extraAddresses: [], template: 'default' } },
    agentPreferences: { visible: 'no', enabledByDefault: [] },
    messages: { [language]: { subject: '', body: '', contentType: 'text/plain' } },
  };
}

/** OTOBO's recipient relations (§3), with what each means; the hub's choices name the ones it knows. */
const RELATIONS: Array<[string, string, 'ticket' | 'appointment']> = [
  ['AgentCreateBy', 'Agent who created the ticket', 'ticket'],
  ['AgentOwner', 'Owner', 'ticket'],
  ['AgentResponsible', 'Responsible', 'ticket'],
  ['AgentWatcher', 'Watchers (followers)', 'ticket'],
  ['AgentWritePermissions', 'Agents with write access to the queue', 'ticket'],
  ['AgentMyQueues', 'Agents who chose the queue in “My queues”', 'ticket'],
  ['AgentMyServices', 'Agents who chose the service in “My services”', 'ticket'],
  ['AgentMyQueuesMyServices', 'Agents with both the queue and the service', 'ticket'],
  ['AllRecipientsFirstArticle', 'All recipients of the first article', 'ticket'],
  ['AllRecipientsLastArticle', 'All recipients of the last article', 'ticket'],
  ['Customer', 'The customer', 'ticket'],
  ['AppointmentAgentReadPermissions', 'Agents with read access to the calendar', 'appointment'],
  ['AppointmentAgentWritePermissions', 'Agents with write access to the calendar', 'appointment'],
  ['AppointmentResource', 'The appointment’s resources', 'appointment'],
];
const SECURITY_MODES: EmailSecurityMode[] = ['PGPSign', 'PGPCrypt', 'PGPSignCrypt', 'SMIMESign', 'SMIMECrypt', 'SMIMESignCrypt'];
const PERSONAL: Array<[PersonalTransport, string]> = [
  ['email', 'Email'],
  ['web', 'Web'],
  ['sms', 'SMS'],
];
type ListFilterKey = Exclude<keyof DefinitionFilter, 'lock' | 'fields'>;
const TICKET_FILTERS: Array<[ListFilterKey, string]> = [
  ['status', 'State'],
  ['priority', 'Priority'],
  ['queue', 'Queue'],
  ['service', 'Service'],
  ['type', 'Ticket type'],
  ['customerId', 'Customer user'],
  ['customerCompany', 'Customer company'],
];
const APPOINTMENT_FILTERS: Array<[ListFilterKey, string]> = [
  ['calendarId', 'Calendar'],
  ['title', 'Title'],
  ['location', 'Location'],
  ['resourceId', 'Resource'],
];

type Option = { value: string; label: string };

/** The issues of a 400 that concern `path` (the hub names them `body.<path>`). */
function issuesAt(issues: FieldIssue[], path: string): FieldIssue[] {
  return issues.filter((i) => {
    const p = i.path.replace(/^body\.?/, '');
    return p === path || p.startsWith(`${path}.`);
  });
}

function FieldError({ id, issues }: { id: string; issues: FieldIssue[] }) {
  if (!issues.length) return null;
  return (
    <p class="field-error" id={id}>
      {issues.map((i) => i.message).join('; ')}
    </p>
  );
}

/** A list of values: chips with remove buttons, and a field (suggesting `options`) to add one with Enter or Add. */
export function ListField({ id, label, values, onChange, options, hint, issues = [], placeholder }: { id: string; label: string; values: string[]; onChange: (v: string[]) => void; options?: Option[]; hint?: string; issues?: FieldIssue[]; placeholder?: string }) {
  const [input, setInput] = useState('');
  const input$ = useRef<HTMLInputElement>(null);
  const labelOf = (v: string) => options?.find((o) => o.value === v)?.label ?? v;
  const add = () => {
    const typed = input.trim();
    if (!typed) return;
    // A typed name picks the option it names.
    const v = options?.find((o) => o.value === typed || o.label.toLowerCase() === typed.toLowerCase())?.value ?? typed;
    if (!values.includes(v)) onChange([...values, v]);
    setInput('');
  };
  const describedBy = [hint ? `${id}-hint` : '', issues.length ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="chips">
        {values.map((v) => (
          <span key={v} class="chip" data-value={v}>
            {labelOf(v)}
            {labelOf(v) !== v && <small> {v}</small>}
            <button
              type="button"
              aria-label={`Remove ${labelOf(v)} from ${label}`}
              onClick={() => {
                onChange(values.filter((x) => x !== v));
                input$.current?.focus();
              }}
            >
              ×
            </button>
          </span>
        ))}
        <input
          ref={input$}
          id={id}
          list={options?.length ? `${id}-options` : undefined}
          value={input}
          placeholder={placeholder ?? 'Type and press Enter'}
          aria-invalid={issues.length ? true : undefined}
          aria-describedby={describedBy}
          onInput={(e) => setInput((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            } else if (e.key === 'Backspace' && input === '' && values.length) onChange(values.slice(0, -1));
          }}
        />
        <button type="button" class="add" aria-label={`Add to ${label}`} onClick={add}>
          Add
        </button>
      </div>
      {options && options.length > 0 && (
        <datalist id={`${id}-options`}>
          {options
            .filter((o) => !values.includes(o.value))
            .slice(0, 500)
            .map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
        </datalist>
      )}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <FieldError id={`${id}-error`} issues={issues} />
    </div>
  );
}

function Checks<T extends string>({ legend, name, options, values, onChange }: { legend: string; name: string; options: Array<[T, string]>; values: T[]; onChange: (v: T[]) => void }) {
  return (
    <fieldset class="checks">
      <legend>{legend}</legend>
      {options.map(([v, text]) => (
        <label key={v} class="check">
          <input type="checkbox" name={name} value={v} checked={values.includes(v)} onChange={(e) => onChange((e.target as HTMLInputElement).checked ? [...values, v] : values.filter((x) => x !== v))} />
          {text}
        </label>
      ))}
    </fieldset>
  );
}

function Check({ label, checked, onChange, hint }: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string }) {
  return (
    <label class="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />
      {label}
      {hint && <small class="hint"> {hint}</small>}
    </label>
  );
}

function Select<T extends string>({ id, label, value, options, onChange }: { id: string; label: string; value: T; options: Array<[T, string]>; onChange: (v: T) => void }) {
  return (
    <div class="field inline">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value as T)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** An optional yes/no: any (absent), yes, no. */
function TriState({ id, label, value, onChange }: { id: string; label: string; value: boolean | undefined; onChange: (v: boolean | undefined) => void }) {
  return (
    <Select
      id={id}
      label={label}
      value={value === undefined ? 'any' : value ? 'yes' : 'no'}
      options={[
        ['any', 'Any'],
        ['yes', 'Yes'],
        ['no', 'No'],
      ]}
      onChange={(v) => onChange(v === 'any' ? undefined : v === 'yes')}
    />
  );
}

function Section({ title, children, open = true }: { title: string; children: ComponentChildren; open?: boolean }) {
  return (
    <details class="def-section" open={open}>
      <summary>
        <h3>{title}</h3>
      </summary>
      <div class="def-section-body">{children}</div>
    </details>
  );
}

/** Drops empty lists and unset values from a filter, so that an empty list means "any" as absent does. */
function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

/**
 * The definition editor: every field of NOTIFICATIONS §3. `id` null creates. The hub validates; its
 * 400 field issues show next to the fields they name and in a summary above the buttons.
 */
export function DefinitionEditor({ api, choices, initial, id, builtIn, onSaved, onCancel }: { api: AdminApi; choices: Choices; initial: Draft; id: string | null; builtIn: boolean; onSaved: (d: NotificationDefinition, created: boolean) => void; onCancel: () => void }) {
  const [d, setD] = useState<Draft>(initial);
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [previewing, setPreviewing] = useState(false);
  const [newLang, setNewLang] = useState('');
  const [newField, setNewField] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const summary = useRef<HTMLDivElement>(null);
  useEffect(() => heading.current?.focus(), []);

  // A change clears the hub's complaints about the part it changed (they were about the old value).
  const set = (patch: Partial<Draft>) => {
    setD({ ...d, ...patch });
    const keys = Object.keys(patch);
    if (issues.length) {
      const left = issues.filter((i) => !keys.some((k) => i.path.replace(/^body\.?/, '').split('.')[0] === k));
      setIssues(left);
      if (left.length === 0) setProblem(null);
    }
  };
  const setFilter = (patch: Partial<DefinitionFilter>) => set({ filter: compact({ ...d.filter, ...patch }) });
  const setArticle = (patch: Partial<ArticleFilter>) => set({ articleFilter: compact({ ...d.articleFilter, ...patch }) });
  const setRecipients = (patch: Partial<Draft['recipients']>) => set({ recipients: { ...d.recipients, ...patch } });
  const email: EmailTransport = d.transports.email ?? { enabled: false, extraAddresses: [], template: 'default' };
  const setEmail = (patch: Partial<EmailTransport>) => set({ transports: { ...d.transports, email: { ...email, ...patch } } });
  const at = (path: string) => issuesAt(issues, path);
  const ticket = d.type === 'ticket';

  const agentOptions = choices.agents.map((a) => ({ value: a.id, label: a.name }));
  const groupOptions = choices.groups.map((g) => ({ value: g.id, label: g.name }));
  const roleOptions = choices.roles.map((r) => ({ value: r.id, label: r.name }));
  const eventOptions = choices.eventTypes.map((e) => ({ value: e, label: e }));
  const known = new Set<string>(choices.relations);
  const relations = RELATIONS.filter(([name, , kind]) => (known.size === 0 || known.has(name)) && (kind === d.type || d.recipients.relations.includes(name as Draft['recipients']['relations'][number])));
  const filterOptions = (key: ListFilterKey): Option[] | undefined => (key === 'queue' ? choices.queues.map((q) => ({ value: q.name, label: q.name })) : undefined);

  async function save(e: Event): Promise<void> {
    e.preventDefault();
    setSaving(true);
    setProblem(null);
    setIssues([]);
    try {
      const saved = id ? await api.put<NotificationDefinition>(`/v1/notification-definitions/${encodeURIComponent(id)}`, d) : await api.post<NotificationDefinition>('/v1/notification-definitions', d);
      onSaved(saved, id === null);
    } catch (err) {
      if (err instanceof AdminError) {
        setIssues(err.issues);
        setProblem(err.issues.length ? `${err.issues.length === 1 ? 'one field needs' : `${err.issues.length} fields need`} a change` : err.code === 'conflict' ? `${err.message} (a definition of that name exists)` : err.message);
      } else setProblem(String(err));
      setTimeout(() => summary.current?.focus(), 0);
    } finally {
      setSaving(false);
    }
  }

  const langs = Object.keys(d.messages);
  return (
    <form class="def-editor" aria-labelledby="def-editor-title" onSubmit={(e) => void save(e)} noValidate>
      <h2 id="def-editor-title" tabIndex={-1} ref={heading}>
        {id ? `Edit “${initial.name}”` : 'New notification'}
        {builtIn && <span class="badge">built-in</span>}
      </h2>

      <Section title="General">
        <div class="field">
          <label for="def-name">Name</label>
          <input id="def-name" value={d.name} required aria-invalid={at('name').length ? true : undefined} aria-describedby={at('name').length ? 'def-name-error' : undefined} onInput={(e) => set({ name: (e.target as HTMLInputElement).value })} />
          <FieldError id="def-name-error" issues={at('name')} />
        </div>
        <div class="field">
          <label for="def-comment">Comment</label>
          <input id="def-comment" value={d.comment} onInput={(e) => set({ comment: (e.target as HTMLInputElement).value })} />
        </div>
        <div class="row">
          <Select
            id="def-valid"
            label="Validity"
            value={d.valid}
            options={[
              ['valid', 'Valid'],
              ['invalid', 'Invalid'],
              ['invalid-temporarily', 'Invalid temporarily'],
            ]}
            onChange={(valid) => set({ valid })}
          />
          <Select
            id="def-type"
            label="Notification type"
            value={d.type}
            options={[
              ['ticket', 'Ticket'],
              ['appointment', 'Appointment'],
            ]}
            onChange={(type) => set({ type })}
          />
        </div>
      </Section>

      <Section title="Events">
        <ListField id="def-events" label="Events" values={d.events} options={eventOptions} issues={at('events')} hint="The host’s event names, e.g. TicketCreate, ArticleCreate, AppointmentCreate." onChange={(events) => set({ events })} />
      </Section>

      <Section title={ticket ? 'Ticket filter' : 'Appointment filter'} open={Object.keys(d.filter).length > 0}>
        <p class="hint">An empty list matches anything; otherwise the value must be one of the listed ones.</p>
        {(ticket ? TICKET_FILTERS : APPOINTMENT_FILTERS).map(([key, label]) => (
          <ListField key={key} id={`def-filter-${key}`} label={label} values={d.filter[key] ?? []} options={filterOptions(key)} issues={at(`filter.${key}`)} onChange={(v) => setFilter({ [key]: v })} />
        ))}
        {ticket && (
          <Checks
            legend="Lock"
            name="lock"
            options={[
              ['unlock', 'Unlocked'],
              ['lock', 'Locked'],
              ['tmp_lock', 'Locked temporarily'],
            ]}
            values={d.filter.lock ?? []}
            onChange={(lock) => setFilter({ lock })}
          />
        )}
        <fieldset class="fields">
          <legend>Dynamic fields</legend>
          {Object.entries(d.filter.fields ?? {}).map(([name, values]) => (
            <div key={name} class="field-row">
              <ListField id={`def-field-${name}`} label={`Field ${name}`} values={values} issues={at(`filter.fields.${name}`)} onChange={(v) => setFilter({ fields: { ...d.filter.fields, [name]: v } })} />
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  const { [name]: _gone, ...others } = d.filter.fields ?? {};
                  setFilter({ fields: others });
                }}
              >
                Remove field {name}
              </button>
            </div>
          ))}
          <div class="row">
            <label for="def-new-field">Field name</label>
            <input id="def-new-field" value={newField} onInput={(e) => setNewField((e.target as HTMLInputElement).value)} />
            <button
              type="button"
              class="secondary"
              onClick={() => {
                const n = newField.trim();
                if (n && !d.filter.fields?.[n]) setD({ ...d, filter: { ...d.filter, fields: { ...d.filter.fields, [n]: [] } } });
                setNewField('');
              }}
            >
              Add field filter
            </button>
          </div>
        </fieldset>
      </Section>

      {ticket && (
        <Section title="Article filter" open={Object.keys(d.articleFilter).length > 0}>
          <p class="hint">Set, it needs an article: an event without one does not match.</p>
          <Checks
            legend="Sender"
            name="senderKind"
            options={[
              ['user', 'Agent'],
              ['customer', 'Customer'],
              ['system', 'System'],
            ]}
            values={d.articleFilter.senderKind ?? []}
            onChange={(senderKind) => setArticle({ senderKind })}
          />
          <Checks
            legend="Channel"
            name="channel"
            options={[
              ['email', 'Email'],
              ['phone', 'Phone'],
              ['internal', 'Internal'],
              ['chat', 'Chat'],
            ]}
            values={d.articleFilter.channel ?? []}
            onChange={(channel) => setArticle({ channel })}
          />
          <div class="row">
            <TriState id="def-article-visible" label="Visible for the customer" value={d.articleFilter.visibleForCustomer} onChange={(visibleForCustomer) => setArticle({ visibleForCustomer })} />
            <TriState id="def-article-attachment" label="Has an attachment" value={d.articleFilter.hasAttachment} onChange={(hasAttachment) => setArticle({ hasAttachment })} />
          </div>
          <div class="field">
            <label for="def-article-subject">Subject contains</label>
            <input id="def-article-subject" value={d.articleFilter.subject ?? ''} onInput={(e) => setArticle({ subject: (e.target as HTMLInputElement).value || undefined })} />
          </div>
          <div class="field">
            <label for="def-article-body">Body contains</label>
            <input id="def-article-body" value={d.articleFilter.body ?? ''} onInput={(e) => setArticle({ body: (e.target as HTMLInputElement).value || undefined })} />
          </div>
        </Section>
      )}

      <Section title="Recipients">
        <fieldset class="checks">
          <legend>Send to</legend>
          {relations.map(([name, text]) => (
            <label key={name} class="check">
              <input
                type="checkbox"
                name="relations"
                value={name}
                checked={d.recipients.relations.includes(name as Draft['recipients']['relations'][number])}
                onChange={(e) => {
                  const r = name as Draft['recipients']['relations'][number];
                  setRecipients({ relations: (e.target as HTMLInputElement).checked ? [...d.recipients.relations, r] : d.recipients.relations.filter((x) => x !== r) });
                }}
              />
              {text} <small>{name}</small>
            </label>
          ))}
        </fieldset>
        <ListField id="def-agents" label="Agents" values={d.recipients.agents} options={agentOptions} issues={at('recipients.agents')} placeholder="Type a name" onChange={(agents) => setRecipients({ agents })} />
        <ListField id="def-groups" label="Groups" values={d.recipients.groups} options={groupOptions} issues={at('recipients.groups')} placeholder="Type a group" onChange={(groups) => setRecipients({ groups })} />
        <ListField id="def-roles" label="Roles" values={d.recipients.roles} options={roleOptions} issues={at('recipients.roles')} placeholder="Type a role" onChange={(roles) => setRecipients({ roles })} />
        <Check label="Send also when the recipient is out of office" checked={d.sendOnOutOfOffice} onChange={(sendOnOutOfOffice) => set({ sendOnOutOfOffice })} />
        <Check label="Once per day" hint="(per ticket, recipient and transport)" checked={d.oncePerDay} onChange={(oncePerDay) => set({ oncePerDay })} />
      </Section>

      <Section title="Transports">
        <fieldset class="transport">
          <legend>Email</legend>
          <Check label="Send by email" checked={email.enabled} onChange={(enabled) => setEmail({ enabled })} />
          <ListField id="def-extra" label="Additional recipient addresses" values={email.extraAddresses} issues={at('transports.email.extraAddresses')} placeholder="name@example.com" onChange={(extraAddresses) => setEmail({ extraAddresses })} />
          <div class="row">
            <TriState id="def-email-visible" label="Article visible for the customer" value={email.visibleForCustomer} onChange={(visibleForCustomer) => setEmail({ visibleForCustomer })} />
            <div class="field inline">
              <label for="def-unseen">Only if the web notification is unseen after (minutes)</label>
              <input
                id="def-unseen"
                type="number"
                min="1"
                step="any"
                inputMode="decimal"
                value={email.onlyIfUnseenMs === undefined ? '' : String(email.onlyIfUnseenMs / 60_000)}
                aria-describedby={at('transports.email.onlyIfUnseenMs').length ? 'def-unseen-error' : undefined}
                onInput={(e) => {
                  const v = (e.target as HTMLInputElement).value;
                  setEmail({ onlyIfUnseenMs: v === '' ? undefined : Math.round(Number(v) * 60_000) });
                }}
              />
              <FieldError id="def-unseen-error" issues={at('transports.email.onlyIfUnseenMs')} />
            </div>
          </div>
          <div class="row">
            <Select
              id="def-security"
              label="Signing and encryption"
              value={email.security?.mode ?? 'none'}
              options={[['none', 'None'], ...SECURITY_MODES.map((m): [string, string] => [m, m])]}
              onChange={(mode) => setEmail({ security: mode === 'none' ? undefined : { missingSigningKeys: 'skip', missingCryptingKeys: 'skip', ...email.security, mode: mode as EmailSecurityMode } })}
            />
            {email.security && (
              <>
                <Select
                  id="def-missing-signing"
                  label="No signing key"
                  value={email.security.missingSigningKeys}
                  options={[
                    ['skip', 'Skip the email'],
                    ['send_unsigned', 'Send unsigned'],
                  ]}
                  onChange={(missingSigningKeys) => setEmail({ security: { ...email.security!, missingSigningKeys } })}
                />
                <Select
                  id="def-missing-crypting"
                  label="No encryption key"
                  value={email.security.missingCryptingKeys}
                  options={[
                    ['skip', 'Skip the email'],
                    ['send_unencrypted', 'Send unencrypted'],
                  ]}
                  onChange={(missingCryptingKeys) => setEmail({ security: { ...email.security!, missingCryptingKeys } })}
                />
              </>
            )}
          </div>
        </fieldset>
        <fieldset class="transport">
          <legend>Web and SMS</legend>
          <Check label="Web notification" checked={d.transports.web?.enabled ?? false} onChange={(enabled) => set({ transports: { ...d.transports, web: { enabled } } })} />
          <Check label="SMS" checked={d.transports.sms?.enabled ?? false} onChange={(enabled) => set({ transports: { ...d.transports, sms: { enabled } } })} />
        </fieldset>
        <fieldset class="transport">
          <legend>Message into the ticket’s conversation</legend>
          <Check
            label="Post a message"
            checked={d.transports.message?.enabled ?? false}
            onChange={(enabled) => set({ transports: { ...d.transports, message: { botId: '', visibility: 'internal', ...d.transports.message, enabled } } })}
          />
          {d.transports.message?.enabled && (
            <div class="row">
              <div class="field inline">
                <label for="def-bot">Posted by (bot id)</label>
                <input id="def-bot" value={d.transports.message.botId} aria-describedby={at('transports.message').length ? 'def-bot-error' : undefined} onInput={(e) => set({ transports: { ...d.transports, message: { ...d.transports.message!, botId: (e.target as HTMLInputElement).value } } })} />
                <FieldError id="def-bot-error" issues={at('transports.message')} />
              </div>
              <Select
                id="def-message-visibility"
                label="Into the conversation"
                value={d.transports.message.visibility}
                options={[
                  ['internal', 'Internal'],
                  ['external', 'With the customer'],
                ]}
                onChange={(visibility) => set({ transports: { ...d.transports, message: { ...d.transports.message!, visibility } } })}
              />
            </div>
          )}
        </fieldset>
      </Section>

      <Section title="Agent preferences">
        <Select
          id="def-visible"
          label="Shown in agents’ preferences"
          value={d.agentPreferences.visible}
          options={[
            ['no', 'No'],
            ['yes', 'Yes'],
            ['mandatory', 'Yes, mandatory (at least one transport stays on)'],
          ]}
          onChange={(visible) => set({ agentPreferences: { ...d.agentPreferences, visible } })}
        />
        <div class="field">
          <label for="def-tooltip">Tooltip</label>
          <input id="def-tooltip" value={d.agentPreferences.tooltip ?? ''} onInput={(e) => set({ agentPreferences: { ...d.agentPreferences, tooltip: (e.target as HTMLInputElement).value || undefined } })} />
        </div>
        <Checks legend="Enabled by default" name="enabledByDefault" options={PERSONAL} values={d.agentPreferences.enabledByDefault} onChange={(enabledByDefault) => set({ agentPreferences: { ...d.agentPreferences, enabledByDefault } })} />
      </Section>

      <Section title="Messages">
        <FieldError id="def-messages-error" issues={at('messages').filter((i) => i.path.replace(/^body\./, '') === 'messages')} />
        {langs.map((lang) => {
          const m = d.messages[lang]!;
          const setM = (patch: Partial<typeof m>) => set({ messages: { ...d.messages, [lang]: { ...m, ...patch } } });
          return (
            <fieldset key={lang} class="message" data-lang={lang}>
              <legend>Language {lang}</legend>
              <div class="field">
                <label for={`def-subject-${lang}`}>Subject ({lang})</label>
                <input id={`def-subject-${lang}`} value={m.subject} aria-invalid={at(`messages.${lang}.subject`).length ? true : undefined} aria-describedby={at(`messages.${lang}.subject`).length ? `def-subject-${lang}-error` : undefined} onInput={(e) => setM({ subject: (e.target as HTMLInputElement).value })} />
                <FieldError id={`def-subject-${lang}-error`} issues={at(`messages.${lang}.subject`)} />
              </div>
              <div class="field">
                <label for={`def-body-${lang}`}>Body ({lang})</label>
                <textarea id={`def-body-${lang}`} rows={6} value={m.body} onInput={(e) => setM({ body: (e.target as HTMLTextAreaElement).value })} />
                <FieldError id={`def-body-${lang}-error`} issues={at(`messages.${lang}.body`)} />
              </div>
              <div class="row">
                <Select
                  id={`def-content-type-${lang}`}
                  label={`Content type (${lang})`}
                  value={m.contentType}
                  options={[
                    ['text/plain', 'Plain text'],
                    ['text/html', 'HTML'],
                  ]}
                  onChange={(contentType) => setM({ contentType })}
                />
                <button
                  type="button"
                  class="secondary"
                  disabled={langs.length === 1}
                  onClick={() => {
                    const { [lang]: _gone, ...others } = d.messages;
                    set({ messages: others });
                  }}
                >
                  Remove language {lang}
                </button>
              </div>
            </fieldset>
          );
        })}
        <p class="hint">Tags such as &lt;OTOBO_TICKET_Title&gt; or &lt;OTOBO_NOTIFICATION_RECIPIENT_UserFirstname&gt; are filled in for each recipient.</p>
        <div class="row">
          <label for="def-new-lang">Language code</label>
          <input id="def-new-lang" value={newLang} list="def-lang-options" placeholder="de, pt_BR…" onInput={(e) => setNewLang((e.target as HTMLInputElement).value)} />
          <datalist id="def-lang-options">
            {choices.languages
              .filter((l) => !langs.includes(l))
              .map((l) => (
                <option key={l} value={l} />
              ))}
          </datalist>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              const l = newLang.trim();
              if (l && !d.messages[l]) set({ messages: { ...d.messages, [l]: { subject: '', body: '', contentType: 'text/plain' } } });
              setNewLang('');
            }}
          >
            Add language
          </button>
        </div>
      </Section>

      <div class="form-problems" ref={summary} tabIndex={-1} role="alert" data-testid="form-problems">
        {problem && (
          <>
            <p class="error">Not saved: {problem}</p>
            {issues.length > 0 && (
              <ul>
                {issues.map((i, n) => (
                  <li key={n}>
                    <code>{i.path.replace(/^body\.?/, '') || '(definition)'}</code>: {i.message}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
      <div class="actions sticky">
        <button type="submit" class="primary" disabled={saving}>
          {saving ? 'Saving…' : id ? 'Save' : 'Create'}
        </button>
        <button type="button" class="secondary" aria-expanded={previewing} onClick={() => setPreviewing(!previewing)}>
          {previewing ? 'Hide preview' : 'Preview'}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {previewing && <Preview api={api} choices={choices} source={{ definition: d }} />}
    </form>
  );
}
