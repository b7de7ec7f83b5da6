import { useEffect, useRef, useState } from 'preact/hooks';
import type { BroadcastStatus, ContentType } from '../../../protocol/index.js';
import type { AdminApi } from './api.js';
import { reasonOf } from './templates.js';

/**
 * Admin broadcasts (NOTIFICATIONS §7): write an announcement, choose who gets it (users, groups by
 * permission, roles, and the customers in those groups), see how many people that is, confirm, and
 * watch it go out (queued → sent, failed, skipped).
 */

interface Named {
  id: string;
  name: string;
}
interface Choices {
  agents: Named[];
  groups: Named[];
  roles: Named[];
}
type Permission = 'ro' | 'rw';
interface Draft {
  from: string;
  subject: string;
  body: string;
  contentType: ContentType;
  web: boolean;
  users: string[];
  groups: Record<string, Permission>;
  roles: string[];
  customersInGroups: boolean;
}
const EMPTY: Draft = { from: '', subject: '', body: '', contentType: 'text/plain', web: false, users: [], groups: {}, roles: [], customersInGroups: false };
const COUNT_DELAY_MS = 400;
const POLL_MS = 1_000;
/** A picker shows at most this many unchosen names; the filter finds the others. */
const SHOWN = 200;

/** The body of POST /v1/broadcasts (and /count) for a draft. */
function bodyOf(d: Draft, forCount: boolean) {
  return {
    ...(d.from.trim() && !forCount ? { from: d.from.trim() } : {}),
    // The count depends on the audience alone: it is asked for before the texts are written.
    subject: forCount && !d.subject.trim() ? 'count' : d.subject,
    body: forCount && !d.body.trim() ? 'count' : d.body,
    contentType: d.contentType,
    users: d.users,
    groups: Object.entries(d.groups).map(([id, permission]) => ({ id, permission })),
    roles: d.roles,
    customersInGroups: d.customersInGroups,
    web: d.web,
  };
}
const hasAudience = (d: Draft) => d.users.length > 0 || Object.keys(d.groups).length > 0 || d.roles.length > 0;
const people = (n: number) => (n === 1 ? '1 person' : `${n.toLocaleString()} people`);

export function BroadcastsScreen({ api }: { api: AdminApi }) {
  const [choices, setChoices] = useState<Choices | null>(null);
  const [problem, setProblem] = useState('');
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [count, setCount] = useState<{ recipients: number | null; error: string; busy: boolean }>({ recipients: null, error: '', busy: false });
  const [confirming, setConfirming] = useState<number | null>(null);
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const seq = useRef(0);
  const confirmButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming !== null) confirmButton.current?.focus();
  }, [confirming !== null]);

  useEffect(() => {
    api.get<Choices>('/v1/notification-definitions/choices').then(setChoices, (e: unknown) => setProblem(`Could not load users, groups and roles: ${reasonOf(e)}`));
  }, [api]);

  // The live count of the audience as it is chosen.
  const audienceKey = JSON.stringify([draft.users, draft.groups, draft.roles, draft.customersInGroups, draft.web, draft.contentType]);
  useEffect(() => {
    const mine = ++seq.current;
    if (!hasAudience(draft)) {
      setCount({ recipients: null, error: '', busy: false });
      return;
    }
    setCount((c) => ({ ...c, busy: true }));
    const timer = setTimeout(() => {
      api.post<{ recipients: number }>('/v1/broadcasts/count', bodyOf(draft, true)).then(
        (r) => mine === seq.current && setCount({ recipients: r.recipients, error: '', busy: false }),
        (e: unknown) => mine === seq.current && setCount({ recipients: null, error: reasonOf(e), busy: false }),
      );
    }, COUNT_DELAY_MS);
    return () => clearTimeout(timer);
  }, [api, audienceKey]);

  const set = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    setConfirming(null);
    setProblem('');
  };

  async function review(): Promise<void> {
    setProblem('');
    try {
      // Counted again with the texts as they will go: this also checks them before the confirmation.
      const r = await api.post<{ recipients: number }>('/v1/broadcasts/count', bodyOf(draft, false));
      setCount({ recipients: r.recipients, error: '', busy: false });
      setConfirming(r.recipients);
    } catch (e) {
      setProblem(reasonOf(e));
    }
  }
  async function send(): Promise<void> {
    setSending(true);
    try {
      const r = await api.post<{ id: string; recipients: number }>('/v1/broadcasts', bodyOf(draft, false));
      setSent(r.id);
      setConfirming(null);
    } catch (e) {
      setProblem(`Not sent: ${reasonOf(e)}`);
    } finally {
      setSending(false);
    }
  }

  if (sent)
    return (
      <section class="admin-broadcasts" aria-labelledby="broadcasts-title">
        <h2 id="broadcasts-title">Broadcasts</h2>
        <BroadcastProgress api={api} id={sent} subject={draft.subject} />
        <div class="actions">
          <button
            type="button"
            onClick={() => {
              setSent(null);
              setDraft(EMPTY);
            }}
          >
            Write another broadcast
          </button>
        </div>
      </section>
    );

  const ready = hasAudience(draft) && draft.subject.trim() !== '' && draft.body.trim() !== '';
  return (
    <section class="admin-broadcasts" aria-labelledby="broadcasts-title">
      <h2 id="broadcasts-title">Broadcasts</h2>
      <p class="hint">One email to each person chosen (each once; disabled people, people who opted out and addresses that bounced are skipped), and with “web notification” one in the agent app too.</p>
      <form
        class="bc-form"
        aria-label="New broadcast"
        onSubmit={(e) => {
          e.preventDefault();
          void review();
        }}
      >
        <fieldset class="bc-message">
          <legend>Message</legend>
          <label>
            <span>
              From <span class="hint">(optional; the hub’s sender when empty)</span>
            </span>
            <input name="from" value={draft.from} placeholder="IT Team <it@example.com>" onInput={(e) => set({ from: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Subject
            <input name="subject" required value={draft.subject} onInput={(e) => set({ subject: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Body
            <textarea name="body" required rows={8} value={draft.body} onInput={(e) => set({ body: (e.target as HTMLTextAreaElement).value })} />
          </label>
          <div class="bc-row">
            <label>
              Format
              <select name="contentType" value={draft.contentType} onChange={(e) => set({ contentType: (e.target as HTMLSelectElement).value as ContentType })}>
                <option value="text/plain">Plain text</option>
                <option value="text/html">HTML</option>
              </select>
            </label>
            <label class="check">
              <input type="checkbox" name="web" checked={draft.web} onChange={(e) => set({ web: (e.target as HTMLInputElement).checked })} />
              Also as a web notification (users)
            </label>
          </div>
        </fieldset>
        <fieldset class="bc-audience">
          <legend>Who gets it</legend>
          {!choices ? (
            <p role="status">{problem || 'Loading users, groups and roles…'}</p>
          ) : (
            <div class="bc-pickers">
              <Picker label="Users" items={choices.agents} chosen={draft.users} onChange={(users) => set({ users })} />
              <GroupPicker items={choices.groups} chosen={draft.groups} onChange={(groups) => set({ groups })} customers={draft.customersInGroups} onCustomers={(customersInGroups) => set({ customersInGroups })} />
              <Picker label="Roles" items={choices.roles} chosen={draft.roles} onChange={(roles) => set({ roles })} />
            </div>
          )}
        </fieldset>
        <div class="bc-count" role="status" aria-live="polite" data-testid="broadcast-count">
          {!hasAudience(draft)
            ? 'Choose users, groups or roles.'
            : count.busy
              ? 'Counting…'
              : count.error
                ? `Could not count: ${count.error}`
                : count.recipients !== null
                  ? `Reaches ${people(count.recipients)}.`
                  : ''}
        </div>
        {problem && choices && (
          <p class="error" role="alert" data-testid="broadcast-problem">
            {problem}
          </p>
        )}
        {confirming === null ? (
          <div class="actions">
            <button type="submit" class="primary" disabled={!ready}>
              Review and send…
            </button>
          </div>
        ) : (
          <div class="bc-confirm" role="alertdialog" aria-labelledby="bc-confirm-text" data-testid="broadcast-confirm">
            <p id="bc-confirm-text">
              Send “{draft.subject}” to <strong data-testid="confirm-count">{people(confirming)}</strong>
              {draft.web ? ' (email, and a web notification to users)' : ' by email'}? This cannot be undone.
            </p>
            <div class="actions">
              <button ref={confirmButton} type="button" class="primary" disabled={sending || confirming === 0} onClick={() => void send()}>
                {sending ? 'Sending…' : `Send to ${people(confirming)}`}
              </button>
              <button type="button" onClick={() => setConfirming(null)}>
                Back to editing
              </button>
            </div>
          </div>
        )}
      </form>
    </section>
  );
}

function Picker({ label, items, chosen, onChange }: { label: string; items: Named[]; chosen: string[]; onChange: (ids: string[]) => void }) {
  const [filter, setFilter] = useState('');
  const f = filter.trim().toLowerCase();
  const set = new Set(chosen);
  const matching = items.filter((i) => !f || i.name.toLowerCase().includes(f) || i.id.toLowerCase().includes(f));
  const shown = [...matching.filter((i) => set.has(i.id)), ...matching.filter((i) => !set.has(i.id)).slice(0, SHOWN)];
  const id = `pick-${label.toLowerCase()}`;
  return (
    <div class="bc-picker" role="group" aria-labelledby={id} data-picker={label.toLowerCase()}>
      <div class="bc-picker-head">
        <h3 id={id}>{label}</h3>
        <span class="hint">{chosen.length} chosen</span>
      </div>
      <input type="search" aria-label={`Filter ${label.toLowerCase()}`} placeholder="Filter…" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      <ul class="bc-list">
        {items.length === 0 && <li class="hint">None known to the hub.</li>}
        {shown.map((i) => (
          <li key={i.id}>
            <label class="check">
              <input type="checkbox" value={i.id} checked={set.has(i.id)} onChange={(e) => onChange((e.target as HTMLInputElement).checked ? [...chosen, i.id] : chosen.filter((x) => x !== i.id))} />
              {i.name}
              {i.name !== i.id && <small>{i.id}</small>}
            </label>
          </li>
        ))}
        {matching.length > shown.length && <li class="hint">{matching.length - shown.length} more: filter to find them.</li>}
      </ul>
    </div>
  );
}

function GroupPicker({
  items,
  chosen,
  onChange,
  customers,
  onCustomers,
}: {
  items: Named[];
  chosen: Record<string, Permission>;
  onChange: (groups: Record<string, Permission>) => void;
  customers: boolean;
  onCustomers: (on: boolean) => void;
}) {
  const [filter, setFilter] = useState('');
  const f = filter.trim().toLowerCase();
  const matching = items.filter((i) => !f || i.name.toLowerCase().includes(f) || i.id.toLowerCase().includes(f));
  const shown = [...matching.filter((i) => chosen[i.id]), ...matching.filter((i) => !chosen[i.id]).slice(0, SHOWN)];
  return (
    <div class="bc-picker" role="group" aria-labelledby="pick-groups" data-picker="groups">
      <div class="bc-picker-head">
        <h3 id="pick-groups">Groups</h3>
        <span class="hint">{Object.keys(chosen).length} chosen</span>
      </div>
      <input type="search" aria-label="Filter groups" placeholder="Filter…" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      <ul class="bc-list">
        {items.length === 0 && <li class="hint">None known to the hub.</li>}
        {shown.map((i) => {
          const permission = chosen[i.id];
          return (
            <li key={i.id} class="bc-group">
              <label class="check">
                <input
                  type="checkbox"
                  value={i.id}
                  checked={permission !== undefined}
                  onChange={(e) => {
                    const { [i.id]: _gone, ...rest } = chosen;
                    onChange((e.target as HTMLInputElement).checked ? { ...chosen, [i.id]: 'ro' } : rest);
                  }}
                />
                {i.name}
              </label>
              {permission !== undefined && (
                <select aria-label={`Members of ${i.name} with`} value={permission} onChange={(e) => onChange({ ...chosen, [i.id]: (e.target as HTMLSelectElement).value as Permission })}>
                  <option value="ro">read or write access</option>
                  <option value="rw">write access only</option>
                </select>
              )}
            </li>
          );
        })}
        {matching.length > shown.length && <li class="hint">{matching.length - shown.length} more: filter to find them.</li>}
      </ul>
      <label class="check bc-customers">
        <input type="checkbox" name="customersInGroups" checked={customers} onChange={(e) => onCustomers((e.target as HTMLInputElement).checked)} />
        Also the customers in these groups
      </label>
    </div>
  );
}

/** A sent broadcast's emails by outbox status, asked again every second until none is queued. */
function BroadcastProgress({ api, id, subject }: { api: AdminApi; id: string; subject: string }) {
  const [status, setStatus] = useState<BroadcastStatus | null>(null);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const s = await api.get<BroadcastStatus>(`/v1/broadcasts/${encodeURIComponent(id)}`);
        if (stopped) return;
        setStatus(s);
        setProblem('');
        if (s.queued === 0) return;
      } catch (e) {
        if (stopped) return;
        setProblem(reasonOf(e));
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, id]);

  const emails = status ? status.queued + status.sent + status.failed : 0;
  const done = status !== null && status.queued === 0;
  return (
    <div class="bc-progress" data-testid="broadcast-status" data-done={done ? 'true' : 'false'}>
      <h3>“{subject}”</h3>
      <p role="status">{!status ? problem || 'Sent to the outbox…' : done ? `Done: ${people(status.recipients)} reached.` : `Sending… ${status.sent} of ${emails} emails sent.`}</p>
      {status && (
        <>
          <progress max={Math.max(emails, 1)} value={status.sent + status.failed} aria-label="Emails handled" />
          <dl class="bc-figures">
            <div>
              <dt>Queued</dt>
              <dd data-testid="bc-queued">{status.queued}</dd>
            </div>
            <div>
              <dt>Sent</dt>
              <dd data-testid="bc-sent">{status.sent}</dd>
            </div>
            <div>
              <dt>Failed</dt>
              <dd data-testid="bc-failed">{status.failed}</dd>
            </div>
            <div>
              <dt>Skipped</dt>
              <dd data-testid="bc-skipped">{status.skipped}</dd>
            </div>
          </dl>
          <p class="hint">
            Skipped: people chosen who get no email (disabled, opted out, no address, or their address bounced). Failed emails are in the <a href="#/admin/logs">outbox</a> with the reason.
          </p>
          {problem && <p class="error">{problem}</p>}
        </>
      )}
    </div>
  );
}
