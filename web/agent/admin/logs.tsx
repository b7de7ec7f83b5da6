import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AdminApi } from './api.js';
import { reasonOf } from './templates.js';

/**
 * The outbox and the inbox (SPEC §4, §8): the last 72 hours of email the hub sent or is sending, with
 * status, attempts and the last error, and of email it received, with the outcome of each; either one's
 * raw source on demand.
 */

const WINDOW_MS = 72 * 3600 * 1000;
const LIMIT = 1000;
/** A raw email is shown up to this many characters (all of it is in the download). */
const SHOW_CHARS = 200_000;

interface OutboxEmail {
  id: string;
  to: string;
  subject: string;
  kind: string;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  createdAt: number;
  sentAt: number | null;
  error: string | null;
  participantId: string | null;
  conversationId: string | null;
}
interface InboundEmail {
  id: string;
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  receivedAt: number;
  status: string;
  reason: string | null;
  conversationId: string | null;
  postedMessageId: string | null;
}

const STATUSES: Array<[string, string]> = [
  ['', 'Any status'],
  ['queued', 'Queued'],
  ['sent', 'Sent'],
  ['failed', 'Failed'],
];
const KINDS: Array<[string, string]> = [
  ['', 'Any kind'],
  ['escalation', 'Escalation'],
  ['notification', 'Notification'],
  ['broadcast', 'Broadcast'],
  ['system', 'System'],
  ['sms', 'SMS'],
];
const OUTCOMES: Array<[string, string]> = [
  ['', 'Any outcome'],
  ['posted', 'Posted'],
  ['ignored', 'Ignored'],
  ['rejected', 'Rejected'],
];

/** Within 72 hours the weekday and time say when: "Mon 16:47:33" (in the browser's locale). */
const when = (ms: number | null) => (ms === null ? '—' : new Date(ms).toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' }));
const full = (ms: number) => new Date(ms).toLocaleString();

export function LogsScreen({ api }: { api: AdminApi }) {
  const [tab, setTab] = useState<'outbox' | 'inbox'>('outbox');
  const [raw, setRaw] = useState<{ title: string; path: string } | null>(null);
  return (
    <section class="admin-logs" aria-labelledby="logs-title">
      <h2 id="logs-title">Outbox and inbox</h2>
      <div class="logs-tabs" role="group" aria-label="Log">
        <button type="button" aria-pressed={tab === 'outbox'} class={tab === 'outbox' ? 'active' : ''} onClick={() => setTab('outbox')}>
          Outbox (sent email)
        </button>
        <button type="button" aria-pressed={tab === 'inbox'} class={tab === 'inbox' ? 'active' : ''} onClick={() => setTab('inbox')}>
          Inbox (received email)
        </button>
      </div>
      {tab === 'outbox' ? <Outbox api={api} onRaw={setRaw} /> : <Inbox api={api} onRaw={setRaw} />}
      {raw && <RawDialog api={api} title={raw.title} path={raw.path} onClose={() => setRaw(null)} />}
    </section>
  );
}

function Filter({ label, name, value, options, onChange }: { label: string; name: string; value: string; options: Array<[string, string]>; onChange: (v: string) => void }) {
  const id = `logs-filter-${name}`;
  return (
    <span class="logs-filter">
      <label for={id}>{label}</label>
      <select id={id} name={name} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </span>
  );
}

/** Loads `load()` on mount, when `key` changes and on refresh; remembers when it last did. */
function useLog<T>(key: string, load: () => Promise<T[]>) {
  const [rows, setRows] = useState<T[] | null>(null);
  const [problem, setProblem] = useState('');
  const [at, setAt] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  const refresh = () => {
    const mine = ++seq.current;
    setBusy(true);
    load().then(
      (r) => {
        if (mine !== seq.current) return;
        setRows(r);
        setProblem('');
        setAt(Date.now());
        setBusy(false);
      },
      (e: unknown) => {
        if (mine !== seq.current) return;
        setProblem(`Could not load: ${reasonOf(e)}`);
        setBusy(false);
      },
    );
  };
  useEffect(refresh, [key]);
  return { rows, problem, at, busy, refresh };
}

function Toolbar({ children, busy, at, count, onRefresh }: { children: ComponentChildren; busy: boolean; at: number | null; count: number | null; onRefresh: () => void }) {
  return (
    <div class="logs-toolbar">
      {children}
      <button type="button" class="primary" onClick={onRefresh} disabled={busy} data-testid="logs-refresh">
        {busy ? 'Loading…' : 'Refresh'}
      </button>
      <span class="hint" role="status">
        {count === null ? '' : count >= LIMIT ? `the newest ${LIMIT} of the last 72 hours` : `${count} shown, from the last 72 hours`}
        {at !== null && ` · as of ${new Date(at).toLocaleTimeString()}`}
      </span>
    </div>
  );
}

function Outbox({ api, onRaw }: { api: AdminApi; onRaw: (r: { title: string; path: string }) => void }) {
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const log = useLog<OutboxEmail>(`${status}|${kind}`, async () => {
    const q = new URLSearchParams({ since: String(Date.now() - WINDOW_MS), limit: String(LIMIT), order: 'desc' });
    if (status) q.set('status', status);
    if (kind) q.set('kind', kind);
    return (await api.get<{ emails: OutboxEmail[] }>(`/v1/emails?${q}`)).emails;
  });
  return (
    <div class="logs-panel" data-testid="outbox">
      <Toolbar busy={log.busy} at={log.at} count={log.rows?.length ?? null} onRefresh={log.refresh}>
        <Filter label="Status" name="status" value={status} options={STATUSES} onChange={setStatus} />
        <Filter label="Kind" name="kind" value={kind} options={KINDS} onChange={setKind} />
      </Toolbar>
      <LogTable
        problem={log.problem}
        rows={log.rows}
        empty={`No email${status || kind ? ' matches these filters' : ' in the last 72 hours'}.`}
        caption="Outgoing email, newest first"
        columns={['Created', 'Status', 'Kind', 'To', 'Subject', 'Attempts', 'Last error']}
      >
          {log.rows?.map((e) => {
            const retrying = e.status === 'queued' && e.attempts > 0 && e.error !== null;
            return (
              <tr key={e.id} data-email={e.id} data-status={e.status}>
                <td class="logs-when" title={full(e.createdAt)}>
                  {when(e.createdAt)}
                </td>
                <td>
                  <span class={`logs-badge ${retrying ? 'retrying' : e.status}`} data-testid="email-status">
                    {retrying ? 'retrying' : e.status}
                  </span>
                  {e.sentAt !== null && (
                    <div class="hint" title={full(e.sentAt)}>
                      {when(e.sentAt)}
                    </div>
                  )}
                </td>
                <td>{e.kind}</td>
                <td class="logs-addr">{e.to}</td>
                <td class="logs-subject">{e.subject}</td>
                <td class="logs-num" data-testid="email-attempts">
                  {e.attempts}
                </td>
                <td class="logs-error" data-testid="email-error">
                  {e.error ?? ''}
                </td>
                <td>
                  <button type="button" class="link" onClick={() => onRaw({ title: `Email to ${e.to}: ${e.subject}`, path: `/v1/emails/${encodeURIComponent(e.id)}/raw` })}>
                    Raw<span class="sr-only"> email to {e.to}</span>
                  </button>
                </td>
              </tr>
            );
          })}
      </LogTable>
    </div>
  );
}

function Inbox({ api, onRaw }: { api: AdminApi; onRaw: (r: { title: string; path: string }) => void }) {
  const [status, setStatus] = useState('');
  const log = useLog<InboundEmail>(status, async () => {
    const q = new URLSearchParams({ since: String(Date.now() - WINDOW_MS), limit: String(LIMIT), order: 'desc' });
    if (status) q.set('status', status);
    return (await api.get<{ inboundEmails: InboundEmail[] }>(`/v1/inbound-emails?${q}`)).inboundEmails;
  });
  return (
    <div class="logs-panel" data-testid="inbox">
      <Toolbar busy={log.busy} at={log.at} count={log.rows?.length ?? null} onRefresh={log.refresh}>
        <Filter label="Outcome" name="outcome" value={status} options={OUTCOMES} onChange={setStatus} />
      </Toolbar>
      <LogTable
        problem={log.problem}
        rows={log.rows}
        empty={`No email received${status ? ' with this outcome' : ' in the last 72 hours'}.`}
        caption="Received email, newest first"
        columns={['Received', 'Outcome', 'From', 'To', 'Subject', 'Conversation']}
      >
          {log.rows?.map((e) => (
            <tr key={e.id} data-inbound={e.id} data-status={e.status}>
              <td class="logs-when" title={full(e.receivedAt)}>
                {when(e.receivedAt)}
              </td>
              <td>
                <span class={`logs-badge ${e.status}`} data-testid="inbound-status">
                  {e.status}
                </span>
                {e.reason && <div class="hint">{e.reason.replace(/_/g, ' ')}</div>}
              </td>
              <td class="logs-addr">{e.from}</td>
              <td class="logs-addr">{e.to.join(', ')}</td>
              <td class="logs-subject">{e.subject}</td>
              <td>{e.conversationId ? <a href={`#/c/${encodeURIComponent(e.conversationId)}`}>Open</a> : '—'}</td>
              <td>
                <button type="button" class="link" onClick={() => onRaw({ title: `Email from ${e.from}: ${e.subject}`, path: `/v1/inbound-emails/${encodeURIComponent(e.id)}/raw` })}>
                  Raw<span class="sr-only"> email from {e.from}</span>
                </button>
              </td>
            </tr>
          ))}
      </LogTable>
    </div>
  );
}

/** A log's problem, its empty line, or its table (the rows are `children`, a last column for the Raw button). */
function LogTable(p: { problem: string; rows: readonly unknown[] | null; empty: string; caption: string; columns: string[]; children: ComponentChildren }) {
  return (
    <>
      {p.problem && (
        <p class="error" role="alert">
          {p.problem}
        </p>
      )}
      {p.rows && p.rows.length === 0 && <p class="logs-empty">{p.empty}</p>}
      {p.rows && p.rows.length > 0 && (
        <div class="logs-scroll">
          <table class="logs-table">
            <caption class="sr-only">{p.caption}</caption>
            <thead>
              <tr>
                {p.columns.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
                <th scope="col">
                  <span class="sr-only">Source</span>
                </th>
              </tr>
            </thead>
            <tbody>{p.children}</tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** An email's raw source in a modal dialog, as text (never rendered), with a download of all of it. */
function RawDialog({ api, title, path, onClose }: { api: AdminApi; title: string; path: string; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [text, setText] = useState<string | null>(null);
  const [problem, setProblem] = useState('');
  const [href, setHref] = useState<string | null>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    let url: string | null = null;
    api.raw('GET', path).then(
      async (res) => {
        const body = await res.text();
        url = URL.createObjectURL(new Blob([body], { type: 'message/rfc822' }));
        setHref(url);
        setText(body);
      },
      (e: unknown) => setProblem(`Could not load: ${reasonOf(e)}`),
    );
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, path]);
  return (
    <dialog ref={ref} class="raw-dialog" aria-labelledby="raw-title" onClose={onClose} data-testid="raw-dialog">
      <div class="raw-head">
        <h3 id="raw-title">{title}</h3>
        {href && (
          <a href={href} download="email.eml">
            Download .eml
          </a>
        )}
        <button type="button" onClick={() => ref.current?.close()}>
          Close
        </button>
      </div>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      {text === null && !problem && <p role="status">Loading…</p>}
      {text !== null && (
        <>
          {text.length > SHOW_CHARS && <p class="hint">The first {SHOW_CHARS.toLocaleString()} of {text.length.toLocaleString()} characters; the download holds all of it.</p>}
          <pre class="raw-text" tabIndex={0} data-testid="raw-text">
            {text.length > SHOW_CHARS ? text.slice(0, SHOW_CHARS) : text}
          </pre>
        </>
      )}
    </dialog>
  );
}
