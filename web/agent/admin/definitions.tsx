import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { NotificationDefinition } from '../../../protocol/notifications.js';
import { AdminError, download, loadChoices, NO_CHOICES, type AdminApi, type Choices } from './api.js';
import { DefinitionEditor, draftOf, emptyDraft, type Draft } from './definitions-editor.js';
import { Preview } from './preview.js';

const BASE = '/v1/notification-definitions';
const VALIDITY: Record<NotificationDefinition['valid'], string> = { valid: 'Valid', invalid: 'Invalid', 'invalid-temporarily': 'Invalid temporarily' };

interface ImportReport {
  added: string[];
  updated: string[];
  errors: Array<{ name: string; error: string }>;
  warnings?: Array<{ name: string; key: string }>;
}

function go(route: string): void {
  location.hash = `/admin/definitions${route ? `/${route}` : ''}`;
}

function messageOf(err: unknown): string {
  return err instanceof AdminError ? err.message : String(err);
}

/**
 * Notification definitions (NOTIFICATIONS §3, §5): the list (`#/admin/definitions`), the editor
 * (`…/new`, `…/<id>`), a definition's preview (`…/<id>/preview`), import and export.
 */
export function DefinitionsScreen({ api, route }: { api: AdminApi; route: string }) {
  const [list, setList] = useState<NotificationDefinition[] | null>(null);
  const [choices, setChoices] = useState<Choices>(NO_CHOICES);
  const [flash, setFlash] = useState<{ text: string; error?: boolean } | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  async function reload(): Promise<void> {
    try {
      setList((await api.get<{ definitions: NotificationDefinition[] }>(BASE)).definitions);
      setLoadError(null);
    } catch (err) {
      setLoadError(messageOf(err));
    }
  }
  useEffect(() => void loadChoices(api).then(setChoices), [api]);
  // The list is read again each time it is shown: another admin, or an import, may have changed it.
  useEffect(() => void reload(), [api, route === '']);

  const [first, second] = route.split('/');
  if (loadError && !list) return <p class="error" role="alert">Could not load the notifications: {loadError}</p>;
  if (!list) return <p role="status">Loading…</p>;

  if (first === 'new' || (first && !second)) {
    const existing = first === 'new' ? null : list.find((d) => d.id === decodeURIComponent(first));
    if (first !== 'new' && !existing) return <NotFound />;
    const initial: Draft = existing ? draftOf(existing) : emptyDraft(choices.languages.includes('en') ? 'en' : (choices.languages[0] ?? 'en'));
    return (
      <DefinitionEditor
        key={existing?.id ?? 'new'}
        api={api}
        choices={choices}
        initial={initial}
        id={existing?.id ?? null}
        builtIn={existing?.builtIn ?? false}
        onCancel={() => go('')}
        onSaved={(saved, created) => {
          setFlash({ text: `${created ? 'Created' : 'Saved'} “${saved.name}”.` });
          void reload().then(() => go(''));
        }}
      />
    );
  }
  if (first && second === 'preview') {
    const d = list.find((x) => x.id === decodeURIComponent(first));
    if (!d) return <NotFound />;
    return (
      <div class="def-preview">
        <h2>Preview “{d.name}”</h2>
        <p>
          <a href="#/admin/definitions">← All notifications</a> · <a href={`#/admin/definitions/${encodeURIComponent(d.id)}`}>Edit</a>
        </p>
        <Preview api={api} choices={choices} source={{ definitionId: d.id, type: d.type, events: d.events }} />
      </div>
    );
  }
  return <DefinitionList api={api} list={list} reload={reload} flash={flash} setFlash={setFlash} />;
}

function NotFound() {
  return (
    <div role="alert">
      <p>This notification does not exist (any more).</p>
      <a href="#/admin/definitions">← All notifications</a>
    </div>
  );
}

function DefinitionList({ api, list, reload, flash, setFlash }: { api: AdminApi; list: NotificationDefinition[]; reload: () => Promise<void>; flash: { text: string; error?: boolean } | null; setFlash: (f: { text: string; error?: boolean } | null) => void }) {
  const [deleting, setDeleting] = useState<NotificationDefinition | null>(null);
  const [filter, setFilter] = useState('');
  const deleteButton = useRef<HTMLButtonElement | null>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);
  const shown = list.filter((d) => !filter || `${d.name} ${d.events.join(' ')}`.toLowerCase().includes(filter.toLowerCase())).sort((a, b) => a.name.localeCompare(b.name));

  const act = async (what: () => Promise<string>) => {
    try {
      setFlash({ text: await what() });
      await reload();
    } catch (err) {
      setFlash({ text: messageOf(err), error: true });
    }
  };
  const toggle = (d: NotificationDefinition) =>
    act(async () => {
      const valid = d.valid === 'valid' ? 'invalid' : 'valid';
      await api.put(`${BASE}/${encodeURIComponent(d.id)}`, { ...draftOf(d), valid });
      return `“${d.name}” is now ${VALIDITY[valid].toLowerCase()}.`;
    });
  const copy = (d: NotificationDefinition) =>
    act(async () => {
      const names = new Set(list.map((x) => x.name));
      let name = `${d.name} (copy)`;
      for (let n = 2; names.has(name); n++) name = `${d.name} (copy ${n})`;
      const created = await api.post<NotificationDefinition>(BASE, { ...draftOf(d), name });
      return `Copied to “${created.name}”.`;
    });
  const exportYaml = async (ids?: string[]) => {
    try {
      const res = await api.raw('GET', `${BASE}/export${ids ? `?ids=${ids.map(encodeURIComponent).join(',')}` : ''}`);
      download('Export_Notification.yml', await res.text(), 'application/yaml');
      setFlash({ text: ids ? 'Exported one notification.' : `Exported ${list.length} notifications.` });
    } catch (err) {
      setFlash({ text: `Export failed: ${messageOf(err)}`, error: true });
    }
  };

  return (
    <div class="def-list">
      <div class="toolbar">
        <h2 ref={listHeading} tabIndex={-1}>
          Notifications
        </h2>
        <a class="button primary" href="#/admin/definitions/new">
          Add notification
        </a>
        <button type="button" class="secondary" onClick={() => void exportYaml()}>
          Export all
        </button>
      </div>
      <div role="status" aria-live="polite" data-testid="flash" class={flash?.error ? 'flash error' : 'flash'}>
        {flash?.text}
      </div>
      <Import api={api} onDone={() => void reload()} />
      <div class="field inline">
        <label for="def-search">Find</label>
        <input id="def-search" type="search" value={filter} placeholder="Name or event" onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      <table class="defs">
        <caption class="sr-only">Notification definitions</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Validity</th>
            <th scope="col">Events</th>
            <th scope="col">Transports</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((d) => {
            const transports = (['email', 'web', 'sms', 'message'] as const).filter((t) => d.transports[t]?.enabled);
            return (
              <tr key={d.id} data-definition={d.name}>
                <td>
                  <a href={`#/admin/definitions/${encodeURIComponent(d.id)}`}>{d.name}</a>
                  {d.builtIn && <span class="badge">built-in</span>}
                  {d.comment && <div class="comment">{d.comment}</div>}
                </td>
                <td>{d.type === 'ticket' ? 'Ticket' : 'Appointment'}</td>
                <td>
                  <button type="button" role="switch" class={`validity ${d.valid}`} aria-checked={d.valid === 'valid'} aria-label={`${d.name} is valid`} title={VALIDITY[d.valid]} onClick={() => void toggle(d)}>
                    {VALIDITY[d.valid]}
                  </button>
                </td>
                <td class="events">{d.events.join(', ')}</td>
                <td>{transports.length ? transports.join(', ') : <span class="muted">none</span>}</td>
                <td class="row-actions">
                  <a href={`#/admin/definitions/${encodeURIComponent(d.id)}/preview`} aria-label={`Preview ${d.name}`}>
                    Preview
                  </a>
                  <button type="button" class="link" aria-label={`Copy ${d.name}`} onClick={() => void copy(d)}>
                    Copy
                  </button>
                  <button type="button" class="link" aria-label={`Export ${d.name}`} onClick={() => void exportYaml([d.id])}>
                    Export
                  </button>
                  <button
                    type="button"
                    class="link danger"
                    aria-label={`Delete ${d.name}`}
                    onClick={(e) => {
                      deleteButton.current = e.currentTarget;
                      setDeleting(d);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {shown.length === 0 && <p class="muted">{list.length ? 'No notification matches.' : 'No notifications yet.'}</p>}
      {deleting && (
        <ConfirmDialog
          title={`Delete “${deleting.name}”?`}
          confirm="Delete"
          onClose={() => {
            setDeleting(null);
            // Back to the button that opened the dialog, or (its row deleted) to the list's heading.
            if (deleteButton.current?.isConnected) deleteButton.current.focus();
            else listHeading.current?.focus();
          }}
          onConfirm={async () => {
            const d = deleting;
            try {
              await api.del(`${BASE}/${encodeURIComponent(d.id)}`);
              setFlash({ text: `Deleted “${d.name}”.` });
              await reload();
              return null;
            } catch (err) {
              if (err instanceof AdminError && err.code === 'conflict') return `“${d.name}” is built in: it cannot be deleted. Set it invalid to stop it instead. (${err.message})`;
              return messageOf(err);
            }
          }}
        >
          <p>It stops sending at once. This cannot be undone (export it first to keep a copy).</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** Import an Export_Notification.yml (§5): added, updated and refused entries, and keys kept as they were. */
function Import({ api, onDone }: { api: AdminApi; onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [overwrite, setOverwrite] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function run(e: Event): Promise<void> {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setProblem(null);
    setReport(null);
    try {
      const res = await api.raw('POST', `${BASE}/import?overwrite=${overwrite}`, await file.text(), 'application/yaml');
      setReport((await res.json()) as ImportReport);
      onDone();
    } catch (err) {
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="import" aria-labelledby="import-title" onSubmit={(e) => void run(e)}>
      <h3 id="import-title">Import from OTOBO</h3>
      <div class="row">
        <label for="import-file">Export_Notification.yml</label>
        <input id="import-file" type="file" accept=".yml,.yaml,application/yaml,text/yaml" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        <label class="check">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite((e.target as HTMLInputElement).checked)} />
          Overwrite notifications of the same name
        </label>
        <button type="submit" class="secondary" disabled={!file || busy}>
          {busy ? 'Importing…' : 'Import'}
        </button>
      </div>
      <div role="status" aria-live="polite" data-testid="import-report">
        {problem && <p class="error">Import refused: {problem}</p>}
        {report && (
          <div class="report">
            <p>
              <strong>{report.added.length}</strong> added, <strong>{report.updated.length}</strong> updated, <strong>{report.errors.length}</strong> not imported.
            </p>
            {report.added.length > 0 && <p>Added: {report.added.join(', ')}</p>}
            {report.updated.length > 0 && <p>Updated: {report.updated.join(', ')}</p>}
            {report.errors.length > 0 && (
              <ul class="errors">
                {report.errors.map((x, i) => (
                  <li key={i}>
                    <strong>{x.name}</strong>: {x.error}
                  </li>
                ))}
              </ul>
            )}
            {report.warnings && report.warnings.length > 0 && (
              <details>
                <summary>{report.warnings.length} OTOBO settings kept as they were (Parley does not act on them)</summary>
                <ul>
                  {report.warnings.map((w, i) => (
                    <li key={i}>
                      {w.name}: {w.key}
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </div>
        )}
      </div>
    </form>
  );
}

/**
 * A modal confirmation: focus starts on Cancel and stays inside (Tab wraps), Escape or Cancel closes.
 * `onConfirm` answers null when done, or the problem to show.
 */
export function ConfirmDialog({ title, confirm, children, onConfirm, onClose }: { title: string; confirm: string; children: ComponentChildren; onConfirm: () => Promise<string | null>; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The dialog leaves the top layer first, so that onClose can give the focus back to the page.
  const close = () => {
    if (ref.current?.open) ref.current.close();
    onClose();
  };
  useEffect(() => {
    const dialog = ref.current!;
    if (!dialog.open) dialog.showModal();
    cancel.current?.focus();
    return () => dialog.open && dialog.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-body"
      data-testid="confirm-dialog"
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          close();
          return;
        }
        if (e.key !== 'Tab') return;
        const focusable = [...ref.current!.querySelectorAll<HTMLElement>('button:not([disabled])')];
        const firstEl = focusable[0];
        const lastEl = focusable[focusable.length - 1];
        if (!firstEl || !lastEl) return;
        if (e.shiftKey && document.activeElement === firstEl) {
          e.preventDefault();
          lastEl.focus();
        } else if (!e.shiftKey && document.activeElement === lastEl) {
          e.preventDefault();
          firstEl.focus();
        }
      }}
    >
      <h2 id="confirm-title">{title}</h2>
      <div id="confirm-body">{children}</div>
      {problem && (
        <p class="error" role="alert" data-testid="confirm-problem">
          {problem}
        </p>
      )}
      <div class="actions">
        <button ref={cancel} type="button" class="secondary" onClick={close}>
          {problem ? 'Close' : 'Cancel'}
        </button>
        {!problem && (
          <button
            type="button"
            class="primary danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              const p = await onConfirm();
              setBusy(false);
              if (p === null) close();
              else {
                setProblem(p);
                cancel.current?.focus();
              }
            }}
          >
            {confirm}
          </button>
        )}
      </div>
    </dialog>
  );
}
