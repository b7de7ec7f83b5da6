import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { EscalationTemplate, RenderedPreview, SystemEmailKind, SystemMessage, SystemTemplate } from '../../../protocol/index.js';
import { AdminError, type AdminApi } from './api.js';

/**
 * The messaging center's templates (NOTIFICATIONS §8): the system emails (welcome, invitation,
 * password reset, email change) with their switch, texts per language and a live preview rendered by
 * the hub, and the escalation email's texts per language, with a live preview the hub renders too.
 */

const SYSTEM_KINDS: Array<[SystemEmailKind, string, string, string[]]> = [
  ['welcome', 'Welcome', 'Sent when a person is added, with their sign-in link.', ['loginUrl']],
  ['invitation', 'Invitation', 'Sent when someone invites a person to join.', ['inviterName', 'projectName', 'invitationUrl']],
  ['password_reset', 'Password reset', 'Sent when a person asks to reset their password.', ['resetUrl']],
  ['email_change', 'Email change', 'Sent to confirm a new email address.', ['newEmail', 'confirmUrl']],
];
type Choice = SystemEmailKind | 'escalation';

/** Languages the hub ships escalation texts for; others fall back to English until saved. */
const BUILTIN_ESCALATION_LANGUAGES = ['en', 'de', 'pl'];
const LANGUAGE = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}$/;
const PREVIEW_DELAY_MS = 300;

export function reasonOf(e: unknown): string {
  if (e instanceof AdminError) {
    const issues = e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    return issues.length > 0 ? `${e.message} (${issues.join('; ')})` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

export function TemplatesScreen({ api }: { api: AdminApi }) {
  const [choice, setChoice] = useState<Choice>('welcome');
  return (
    <section class="admin-templates" aria-labelledby="templates-title">
      <h2 id="templates-title">Email templates</h2>
      <div class="tpl-layout">
        <nav class="tpl-kinds" aria-label="Templates">
          <ul>
            {SYSTEM_KINDS.map(([kind, label]) => (
              <li key={kind}>
                <button type="button" class={choice === kind ? 'active' : ''} aria-current={choice === kind ? 'true' : undefined} data-kind={kind} onClick={() => setChoice(kind)}>
                  {label}
                </button>
              </li>
            ))}
            <li>
              <button type="button" class={choice === 'escalation' ? 'active' : ''} aria-current={choice === 'escalation' ? 'true' : undefined} data-kind="escalation" onClick={() => setChoice('escalation')}>
                Unread messages (escalation)
              </button>
            </li>
          </ul>
        </nav>
        {choice === 'escalation' ? <EscalationEditor key="escalation" api={api} /> : <SystemEditor key={choice} api={api} kind={choice} />}
      </div>
    </section>
  );
}

/** A language picker with an "add a language" field. */
function Languages({ langs, lang, onPick, onAdd, onRemove }: { langs: string[]; lang: string; onPick: (l: string) => void; onAdd: (l: string) => void; onRemove?: (l: string) => void }) {
  const [adding, setAdding] = useState('');
  const [problem, setProblem] = useState('');
  const add = () => {
    const l = adding.trim();
    if (!LANGUAGE.test(l)) return setProblem('A language is a code such as en, de or pt-BR.');
    if (langs.includes(l)) return setProblem(`${l} is there already.`);
    setProblem('');
    setAdding('');
    onAdd(l);
  };
  return (
    <div class="tpl-langs">
      <div class="tpl-tabs" role="group" aria-label="Languages">
        {langs.map((l) => (
          <button key={l} type="button" class={l === lang ? 'active' : ''} aria-pressed={l === lang} data-lang={l} onClick={() => onPick(l)}>
            {l}
          </button>
        ))}
      </div>
      <label class="tpl-add">
        <span>Add a language</span>
        <input
          value={adding}
          placeholder="e.g. fr"
          size={8}
          onInput={(e) => setAdding((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }}
        />
      </label>
      <button type="button" onClick={add}>
        Add
      </button>
      {onRemove && langs.length > 1 && (
        <button type="button" onClick={() => onRemove(lang)}>
          Remove {lang}
        </button>
      )}
      {problem && (
        <span class="error" role="alert">
          {problem}
        </span>
      )}
    </div>
  );
}

/** The result of the latest preview call, debounced; earlier answers arriving late are dropped. */
function useDebounced<T>(key: string, run: () => Promise<T>): { value: T | null; error: string; busy: boolean } {
  const [state, setState] = useState<{ value: T | null; error: string; busy: boolean }>({ value: null, error: '', busy: false });
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, busy: true }));
    const timer = setTimeout(() => {
      run().then(
        (value) => mine === seq.current && setState({ value, error: '', busy: false }),
        (e: unknown) => mine === seq.current && setState((s) => ({ value: s.value, error: reasonOf(e), busy: false })),
      );
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [key]);
  return state;
}

function SystemEditor({ api, kind }: { api: AdminApi; kind: SystemEmailKind }) {
  const [tpl, setTpl] = useState<SystemTemplate | null>(null);
  const [lang, setLang] = useState('en');
  const [status, setStatus] = useState('');
  const [dirty, setDirty] = useState(false);
  const info = SYSTEM_KINDS.find(([k]) => k === kind)!;
  const locked = kind === 'password_reset';

  useEffect(() => {
    api.get<SystemTemplate>(`/v1/system-emails/templates/${kind}`).then(
      (t) => {
        setTpl(t);
        const langs = Object.keys(t.messages);
        setLang(langs.includes('en') ? 'en' : (langs[0] ?? 'en'));
      },
      (e: unknown) => setStatus(`Could not load: ${reasonOf(e)}`),
    );
  }, [api, kind]);

  const message: SystemMessage | undefined = tpl?.messages[lang];
  // Nothing to render until the texts are loaded.
  const preview = useDebounced<RenderedPreview | null>(JSON.stringify([kind, lang, message]), () =>
    message ? api.post<RenderedPreview>(`/v1/system-emails/templates/${kind}/preview`, { lang, template: message }) : Promise.resolve(null),
  );

  if (!tpl) return <div class="tpl-editor" role="status">{status || 'Loading…'}</div>;
  const langs = Object.keys(tpl.messages);
  const edit = (patch: Partial<SystemMessage>) => {
    setTpl({ ...tpl, messages: { ...tpl.messages, [lang]: { ...(message ?? { subject: '', body: '' }), ...patch } } });
    setDirty(true);
    setStatus('');
  };
  async function save(next: SystemTemplate): Promise<void> {
    setStatus('Saving…');
    try {
      setTpl(await api.put<SystemTemplate>(`/v1/system-emails/templates/${kind}`, next));
      setDirty(false);
      setStatus('Saved');
    } catch (e) {
      setStatus(`Not saved: ${reasonOf(e)}`);
    }
  }

  return (
    <div class="tpl-editor" data-testid="system-template" data-kind={kind}>
      <div class="tpl-head">
        <h3>{info[1]}</h3>
        <p class="hint">
          {info[2]} The texts are LiquidJS with <code>{'{{ participant.name }}'}</code> and the variables the host sends, such as{' '}
          {info[3].map((v, i) => (
            <Fragment key={v}>
              {i > 0 && ', '}
              <code>{`{{ variables.${v} }}`}</code>
            </Fragment>
          ))}
          .
        </p>
        <label class="check tpl-enabled">
          <input
            type="checkbox"
            name="enabled"
            checked={tpl.enabled}
            disabled={locked}
            aria-describedby={locked ? 'locked-reason' : undefined}
            onChange={(e) => {
              // The switch takes effect at once, saved together with the texts on screen.
              const enabled = (e.target as HTMLInputElement).checked;
              setTpl({ ...tpl, enabled });
              void save({ ...tpl, enabled });
            }}
          />
          Send this email
        </label>
        {locked && (
          <p id="locked-reason" class="tpl-locked" data-testid="locked-reason">
            Always on: people must always be able to get back into their account, so the password reset email cannot be turned off.
          </p>
        )}
      </div>
      <Languages
        langs={langs}
        lang={lang}
        onPick={setLang}
        onAdd={(l) => {
          const from = tpl.messages[lang] ?? tpl.messages[langs[0]!];
          setTpl({ ...tpl, messages: { ...tpl.messages, [l]: { subject: from?.subject ?? '', body: from?.body ?? '' } } });
          setLang(l);
          setDirty(true);
        }}
        onRemove={(l) => {
          const { [l]: _gone, ...rest } = tpl.messages;
          setTpl({ ...tpl, messages: rest });
          setLang(Object.keys(rest)[0] ?? 'en');
          setDirty(true);
        }}
      />
      <div class="tpl-split">
        <form
          class="tpl-form"
          aria-label={`${info[1]} texts in ${lang}`}
          onSubmit={(e) => {
            e.preventDefault();
            void save(tpl);
          }}
        >
          <label>
            Subject
            <input name="subject" value={message?.subject ?? ''} onInput={(e) => edit({ subject: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Body
            <textarea name="body" rows={14} value={message?.body ?? ''} onInput={(e) => edit({ body: (e.target as HTMLTextAreaElement).value })} />
          </label>
          <div class="actions">
            <button type="submit" class="primary" disabled={!dirty}>
              Save
            </button>
            <span class="saved" role="status" data-testid="template-status">
              {status || (dirty ? 'Unsaved changes' : '')}
            </span>
          </div>
        </form>
        <Preview subject={preview.value?.subject} text={preview.value?.text} error={preview.error} busy={preview.busy} note="Rendered by the hub with a sample person (Ada Lovelace) and sample links." />
      </div>
    </div>
  );
}

function Preview({
  subject,
  text,
  html,
  error,
  busy,
  note,
  children,
  bodyNode,
}: {
  subject?: string | undefined;
  text?: string | undefined;
  html?: string | undefined;
  error: string;
  busy: boolean;
  note: ComponentChildren;
  /** Controls above the email. */
  children?: ComponentChildren;
  /** Shown as the email's body instead of `text`. */
  bodyNode?: ComponentChildren;
}) {
  return (
    <section class="tpl-preview" aria-label="Preview" aria-busy={busy} data-testid="preview">
      <h4>Preview</h4>
      <p class="hint" data-testid="preview-note">
        {note}
      </p>
      {children}
      {error && (
        <p class="error" role="alert" data-testid="preview-error">
          {error}
        </p>
      )}
      <div class="tpl-mail">
        <div class="tpl-subject">
          <span class="tpl-label">Subject</span> <strong data-testid="preview-subject">{subject ?? ''}</strong>
        </div>
        {bodyNode ?? (
          <pre data-testid="preview-text" tabIndex={0}>
            {text ?? ''}
          </pre>
        )}
        {html !== undefined && (
          <details>
            <summary>HTML part (source)</summary>
            <pre tabIndex={0}>
              {html}
            </pre>
          </details>
        )}
      </div>
    </section>
  );
}

interface ChoicesLanguages {
  languages?: string[];
}

function EscalationEditor({ api }: { api: AdminApi }) {
  const [langs, setLangs] = useState<string[]>(BUILTIN_ESCALATION_LANGUAGES);
  const [lang, setLang] = useState('en');
  const [tpl, setTpl] = useState<EscalationTemplate | null>(null);
  const [status, setStatus] = useState('');
  const [dirty, setDirty] = useState(false);

  // The languages in use (definitions, participants, the default locale) join the built-in ones.
  useEffect(() => {
    api.get<ChoicesLanguages>('/v1/notification-definitions/choices').then(
      (c) => {
        const used = (c.languages ?? []).map((l) => (l.split(/[-_]/)[0] ?? l).toLowerCase()).filter((l) => /^[a-z]{2,3}$/.test(l));
        setLangs((old) => [...new Set([...old, ...used])]);
      },
      // Without the hub's list the built-in languages and "Add a language" remain: nothing to report.
      () => undefined,
    );
  }, [api]);
  useEffect(() => {
    setTpl(null);
    setDirty(false);
    setStatus('');
    api.get<EscalationTemplate>(`/v1/templates/escalation/${lang}`).then(setTpl, (e: unknown) => setStatus(`Could not load: ${reasonOf(e)}`));
  }, [api, lang]);

  const edit = (patch: Partial<EscalationTemplate>) => {
    if (!tpl) return;
    setTpl({ ...tpl, ...patch });
    setDirty(true);
    setStatus('');
  };
  async function save(): Promise<void> {
    if (!tpl) return;
    setStatus('Saving…');
    try {
      setTpl(await api.put<EscalationTemplate>(`/v1/templates/escalation/${lang}`, tpl));
      setDirty(false);
      setStatus('Saved');
    } catch (e) {
      setStatus(`Not saved: ${reasonOf(e)}`);
    }
  }

  return (
    <div class="tpl-editor" data-testid="escalation-template">
      <div class="tpl-head">
        <h3>Unread messages (escalation)</h3>
        <p class="hint">
          The email people get about chat messages they did not read in time. It cannot be turned off here (people turn it off for themselves in their preferences). Languages without texts of their own use
          the English ones; one saved here replaces the built-in texts for that language.
        </p>
      </div>
      <Languages
        langs={langs}
        lang={lang}
        onPick={setLang}
        onAdd={(l) => {
          const code = (l.split(/[-_]/)[0] ?? l).toLowerCase();
          setLangs((old) => (old.includes(code) ? old : [...old, code]));
          setLang(code);
        }}
      />
      {!tpl ? (
        <div role="status">{status || 'Loading…'}</div>
      ) : (
        <div class="tpl-split">
          <form
            class="tpl-form"
            aria-label={`Escalation texts in ${lang}`}
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <label>
              Subject
              <input name="subject" value={tpl.subject} onInput={(e) => edit({ subject: (e.target as HTMLInputElement).value })} />
            </label>
            <label>
              Text part
              <textarea name="text" rows={10} value={tpl.text} onInput={(e) => edit({ text: (e.target as HTMLTextAreaElement).value })} />
            </label>
            <label>
              HTML part
              <textarea name="html" rows={8} value={tpl.html} onInput={(e) => edit({ html: (e.target as HTMLTextAreaElement).value })} />
            </label>
            <div class="actions">
              <button type="submit" class="primary" disabled={!dirty}>
                Save
              </button>
              <span class="saved" role="status" data-testid="template-status">
                {status || (dirty ? 'Unsaved changes' : '')}
              </span>
            </div>
          </form>
          <EscalationPreview api={api} tpl={tpl} lang={lang} />
        </div>
      )}
    </div>
  );
}

/**
 * The escalation email as the hub renders it (its composer, the texts on screen, unsaved or not) over a
 * sample conversation to a sample agent or customer, debounced as the system emails' preview is. A
 * template that fails says why, and the last good render stays.
 */
function EscalationPreview({ api, tpl, lang }: { api: AdminApi; tpl: EscalationTemplate; lang: string }) {
  const [recipient, setRecipient] = useState<'user' | 'customer'>('user');
  const [part, setPart] = useState<'text' | 'html'>('text');
  const preview = useDebounced<RenderedPreview>(JSON.stringify([lang, recipient, tpl]), () =>
    api.post<RenderedPreview>(`/v1/templates/escalation/${encodeURIComponent(lang)}/preview`, { template: tpl, as: recipient }),
  );
  const html = preview.value?.html;
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    box.current?.replaceChildren(html === undefined ? document.createTextNode('') : htmlFragment(html));
  }, [html, part]);
  const note =
    recipient === 'customer'
      ? 'Rendered by the hub with a sample conversation: Ada Lovelace and Grace Hopper wrote to a sample customer, Charles Babbage; the links are samples.'
      : 'Rendered by the hub with a sample conversation: Charles Babbage (a customer) and Grace Hopper wrote to a sample agent, Ada Lovelace; the links are samples.';
  return (
    <Preview
      subject={preview.value?.subject}
      text={preview.value?.text}
      error={preview.error}
      busy={preview.busy}
      note={note}
      bodyNode={part === 'html' ? <div class="tpl-html" ref={box} data-testid="preview-html" /> : undefined}
    >
      <div class="tpl-sample">
        <label>
          Sample recipient{' '}
          <select value={recipient} onChange={(e) => setRecipient((e.target as HTMLSelectElement).value as 'user' | 'customer')}>
            <option value="user">an agent</option>
            <option value="customer">a customer</option>
          </select>
        </label>
        <div class="tpl-tabs" role="group" aria-label="Part">
          <button type="button" aria-pressed={part === 'text'} class={part === 'text' ? 'active' : ''} onClick={() => setPart('text')}>
            Text
          </button>
          <button type="button" aria-pressed={part === 'html'} class={part === 'html' ? 'active' : ''} onClick={() => setPart('html')}>
            HTML
          </button>
        </div>
      </div>
    </Preview>
  );
}

const KEEP = new Set(['P', 'DIV', 'SPAN', 'STRONG', 'B', 'EM', 'I', 'U', 'A', 'BR', 'HR', 'UL', 'OL', 'LI', 'H1', 'H2', 'H3', 'H4', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TD', 'TH', 'BLOCKQUOTE', 'PRE', 'CODE', 'SMALL']);
const DROP = new Set(['SCRIPT', 'STYLE', 'TITLE', 'HEAD', 'IFRAME', 'OBJECT', 'EMBED', 'FORM', 'TEMPLATE']);

/**
 * A rendered HTML part as this page can show it: parsed inertly, only plain formatting elements kept
 * (no scripts, forms, images or frames), links opening elsewhere, and inline styles applied through
 * the CSS object model (the page's security policy refuses style attributes in markup, and a frame's
 * srcdoc document would inherit that policy).
 */
function htmlFragment(html: string): DocumentFragment {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const out = document.createDocumentFragment();
  const copy = (from: Node, to: Node) => {
    for (const child of Array.from(from.childNodes)) {
      if (child.nodeType === Node.TEXT_NODE) to.appendChild(document.createTextNode(child.textContent ?? ''));
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      const el = child as Element;
      if (DROP.has(el.tagName)) continue;
      if (!KEEP.has(el.tagName)) {
        copy(el, to);
        continue;
      }
      const made = document.createElement(el.tagName.toLowerCase());
      const style = el.getAttribute('style');
      if (style) made.style.cssText = style;
      if (el.tagName === 'A') {
        const href = el.getAttribute('href') ?? '';
        if (/^(https?:|mailto:)/i.test(href)) (made as HTMLAnchorElement).href = href;
        (made as HTMLAnchorElement).target = '_blank';
        (made as HTMLAnchorElement).rel = 'noopener noreferrer';
      }
      copy(el, made);
      to.appendChild(made);
    }
  };
  copy(doc.body, out);
  return out;
}
