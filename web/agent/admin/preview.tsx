import { useState } from 'preact/hooks';
import type { PreviewAnswer } from '../../../protocol/admin.js';
import type { Article, DefinitionInput } from '../../../protocol/notifications.js';
import { AdminError, type AdminApi, type Choices } from './api.js';

/** Why a recipient would be left out (NOTIFICATIONS §2's reasons), in words. */
const REASONS: Record<string, string> = {
  actor: 'did it themselves (the event’s actor)',
  disabled: 'is disabled',
  not_visible_for_customer: 'is a customer and the article is not visible for customers',
  out_of_office: 'is out of office',
  once_per_day: 'already got this today (once per day)',
  preference_off: 'turned this off in their preferences',
  opted_out: 'opted out of notification emails',
  bounced: 'their address bounces',
  no_address: 'has no email address',
  no_phone: 'has no phone number',
  missing_key: 'has no key for signing or encryption',
  seen_in_time: 'saw the web notification in time',
};

export type PreviewSource = { definitionId: string; type: 'ticket' | 'appointment'; events: string[] } | { definition: DefinitionInput };

/**
 * A dry run of one definition (POST /v1/notification-definitions/preview): pick an event, an item or
 * appointment and a recipient; see each language rendered, and who would get it by which transport and
 * who not, with the reason. Nothing is stored or sent.
 */
export function Preview({ api, choices, source }: { api: AdminApi; choices: Choices; source: PreviewSource }) {
  const type = 'definition' in source ? (source.definition.type ?? 'ticket') : source.type;
  const events = 'definition' in source ? source.definition.events : source.events;
  const eventTypes = [...new Set([...events, ...choices.eventTypes])];
  const [event, setEvent] = useState(events[0] ?? '');
  const [target, setTarget] = useState('');
  const [recipient, setRecipient] = useState('');
  const [withArticle, setWithArticle] = useState(false);
  const [article, setArticle] = useState<Article>({ senderKind: 'customer', channel: 'email', visibleForCustomer: true, subject: '', body: '' });
  const [answer, setAnswer] = useState<PreviewAnswer | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const nameOf = (id: string | null) => (id === null ? '(extra address)' : (choices.agents.find((a) => a.id === id)?.name ?? id));
  const targets = type === 'appointment' ? choices.appointments : choices.items;

  async function run(): Promise<void> {
    setRunning(true);
    setProblem(null);
    try {
      const ev: Record<string, unknown> = { type: event.trim() };
      if (target) ev[type === 'appointment' ? 'appointmentId' : 'itemId'] = target;
      if (withArticle) ev.article = { ...article, subject: article.subject || undefined, body: article.body || undefined };
      const body: Record<string, unknown> = 'definition' in source ? { definition: source.definition, event: ev } : { definitionId: source.definitionId, event: ev };
      if (recipient) body.recipientId = recipient;
      setAnswer(await api.post<PreviewAnswer>('/v1/notification-definitions/preview', body));
    } catch (err) {
      setAnswer(null);
      setProblem(err instanceof AdminError ? `${err.message}${err.issues.length ? ` — ${err.issues.map((i) => `${i.path.replace(/^body\.?/, '')}: ${i.message}`).join('; ')}` : ''}` : String(err));
    } finally {
      setRunning(false);
    }
  }

  const sending = answer?.deliveries.filter((d) => d.status !== 'skipped') ?? [];
  const skipped = answer?.deliveries.filter((d) => d.status === 'skipped') ?? [];
  const missing = answer?.notFound ? [...answer.notFound.agents.map((a) => `agent ${a}`), ...answer.notFound.groups.map((g) => `group ${g}`), ...answer.notFound.roles.map((r) => `role ${r}`)] : [];
  return (
    <section
      class="preview"
      aria-labelledby="preview-title"
      data-testid="preview-panel"
      onKeyDown={(e) => {
        // Enter in a field here previews; it must not submit the editor's form around it.
        if (e.key === 'Enter' && (e.target as HTMLElement).tagName === 'INPUT') {
          e.preventDefault();
          if (!running && event.trim()) void run();
        }
      }}
    >
      <h3 id="preview-title">Preview (a dry run: nothing is sent)</h3>
      <div class="row">
        <div class="field inline">
          <label for="preview-event">Event</label>
          <input id="preview-event" list="preview-event-options" value={event} onInput={(e) => setEvent((e.target as HTMLInputElement).value)} />
          <datalist id="preview-event-options">
            {eventTypes.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </div>
        <div class="field inline">
          <label for="preview-target">{type === 'appointment' ? 'Appointment' : 'Ticket'}</label>
          <select id="preview-target" value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}>
            <option value="">(none)</option>
            {targets.map((t) => (
              <option key={t.id} value={t.id}>
                {t.title} ({t.id})
              </option>
            ))}
          </select>
        </div>
        <div class="field inline">
          <label for="preview-recipient">Render for</label>
          <select id="preview-recipient" value={recipient} onChange={(e) => setRecipient((e.target as HTMLSelectElement).value)}>
            <option value="">(the first recipient)</option>
            {choices.agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      {type === 'ticket' && (
        <fieldset class="checks">
          <legend>Article</legend>
          <label class="check">
            <input type="checkbox" checked={withArticle} onChange={(e) => setWithArticle((e.target as HTMLInputElement).checked)} />
            The event carries an article
          </label>
          {withArticle && (
            <div class="row">
              <div class="field inline">
                <label for="preview-sender">Sender</label>
                <select id="preview-sender" value={article.senderKind} onChange={(e) => setArticle({ ...article, senderKind: (e.target as HTMLSelectElement).value as Article['senderKind'] })}>
                  <option value="customer">Customer</option>
                  <option value="user">Agent</option>
                  <option value="system">System</option>
                </select>
              </div>
              <div class="field inline">
                <label for="preview-channel">Channel</label>
                <select id="preview-channel" value={article.channel} onChange={(e) => setArticle({ ...article, channel: (e.target as HTMLSelectElement).value as Article['channel'] })}>
                  <option value="email">Email</option>
                  <option value="phone">Phone</option>
                  <option value="internal">Internal</option>
                  <option value="chat">Chat</option>
                </select>
              </div>
              <label class="check">
                <input type="checkbox" checked={article.visibleForCustomer} onChange={(e) => setArticle({ ...article, visibleForCustomer: (e.target as HTMLInputElement).checked })} />
                Visible for the customer
              </label>
              <div class="field inline">
                <label for="preview-article-subject">Article subject</label>
                <input id="preview-article-subject" value={article.subject ?? ''} onInput={(e) => setArticle({ ...article, subject: (e.target as HTMLInputElement).value })} />
              </div>
              <div class="field inline">
                <label for="preview-article-body">Article body</label>
                <input id="preview-article-body" value={article.body ?? ''} onInput={(e) => setArticle({ ...article, body: (e.target as HTMLInputElement).value })} />
              </div>
            </div>
          )}
        </fieldset>
      )}
      <div class="actions">
        <button type="button" class="primary" disabled={running || !event.trim()} onClick={() => void run()}>
          {running ? 'Previewing…' : 'Show preview'}
        </button>
      </div>
      <div role="status" aria-live="polite">
        {problem && <p class="error">Preview failed: {problem}</p>}
      </div>
      {answer && (
        <div class="preview-result" data-testid="preview-result">
          <p class={answer.matched ? 'matched' : 'warning'} data-testid="preview-matched">
            {answer.matched ? 'This event matches the notification.' : 'This event does not match the notification (its validity, events, filter or article filter): nobody would get it.'}
            {answer.recipient && ` Rendered for ${answer.recipient.participantId ? nameOf(answer.recipient.participantId) : answer.recipient.address}.`}
          </p>
          {answer.rendered.map((r) => (
            <article key={r.language} class="rendered" data-lang={r.language} aria-label={`Rendered in ${r.language}`}>
              <h4>
                {r.language} <small>{r.contentType === 'text/html' ? 'HTML' : 'plain text'}</small>
              </h4>
              <p class="subject" data-testid="rendered-subject">
                {r.subject}
              </p>
              <pre class="body">{r.body}</pre>
            </article>
          ))}
          <h4>Would receive it</h4>
          {sending.length === 0 ? (
            <p class="none-found">Nobody.</p>
          ) : (
            <ul data-testid="would-send">
              {sending.map((d, i) => (
                <li key={i}>
                  {nameOf(d.participantId)}
                  {d.address && d.participantId === null ? ` ${d.address}` : ''} — {d.transport}
                </li>
              ))}
            </ul>
          )}
          <h4>Would not receive it</h4>
          {skipped.length === 0 ? (
            <p class="none-found">Nobody is left out.</p>
          ) : (
            <ul data-testid="skipped">
              {skipped.map((d, i) => (
                <li key={i} data-reason={d.reason ?? ''}>
                  {nameOf(d.participantId)} — {d.transport}: {d.reason ? (REASONS[d.reason] ?? d.reason) : 'left out'}
                </li>
              ))}
            </ul>
          )}
          {missing.length > 0 && <p class="warning">Not known to the hub: {missing.join(', ')}</p>}
        </div>
      )}
    </section>
  );
}
