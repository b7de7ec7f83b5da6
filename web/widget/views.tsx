import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { markSeenOnScreen, type ConnectionState, type ParleyClient, type Summary } from '../../client-sdk/browser.js';
import { Composer } from '../shared/composer.js';
import { ConversationFeed, TypingTracker, formatTime, type Row } from '../shared/conversation.js';
import { Markdown } from '../shared/markdown.js';
import { conversationTitle } from '../shared/titles.js';

/**
 * The customer's views, shared by the widget (web/widget) and the customer page (web/chat): one
 * conversation (messages, typing, composer, seen marks), the connection banner, and titles.
 */

/** What a customer calls a conversation: its subject, else "Chat with the team" or the ticket. */
export function customerTitle(c: Pick<Summary, 'kind' | 'visibility' | 'itemId' | 'subject' | 'members'>, me: string | null): string {
  if (c.kind === 'inbox') return c.subject ?? 'Chat with the team';
  return conversationTitle(c, { viewerId: me, nameOf: () => 'Support team', item: (id) => ({ title: `Request ${id}` }) });
}

/** The time a conversation last moved: its last message, else its creation (the order of the list). */
export function activityAt(c: Pick<Summary, 'lastMessageAt' | 'createdAt'>): number {
  return c.lastMessageAt ?? c.createdAt;
}

/**
 * The connection as the customer's pages show it: its state, whether it was ever open, and why the hub
 * refused us (from `refusal`, null for passing trouble), cleared once it opens again.
 */
export function useConnection(client: ParleyClient, refusal: (code: string) => string | null) {
  const [state, setState] = useState<ConnectionState>(client.state);
  const [everOpen, setEverOpen] = useState(client.state === 'open');
  const [refused, setRefused] = useState<string | null>(null);
  useEffect(() => {
    const offs = [
      client.on('state', (s) => {
        setState(s);
        if (s === 'open') {
          setEverOpen(true);
          setRefused(null);
        }
      }),
      client.on('error', (e) => {
        const text = refusal(e.code);
        if (text && client.state !== 'open') setRefused(text);
      }),
    ];
    return () => offs.forEach((o) => o());
  }, [client]);
  return { state, everOpen, refused, clearRefused: () => setRefused(null) };
}

/**
 * A banner while the connection is not open (after it first was): "You are offline" with the hub
 * unreachable, or the refusal with a retry. Nothing while all is well.
 */
export function ConnectionBanner({ state, everOpen, refused, onRetry }: { state: ConnectionState; everOpen: boolean; refused: string | null; onRetry: () => void }) {
  if (refused)
    return (
      <div class="banner error" role="alert" data-testid="refused">
        <span>{refused}</span>
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  if (state === 'open' || (!everOpen && state !== 'closed')) return null;
  return (
    <div class="banner offline" role="status" data-testid="offline">
      {state === 'closed' ? 'Chat is unavailable right now.' : 'You are offline. Reconnecting… Messages you write are sent when the connection is back.'}
    </div>
  );
}

/** The messages of one conversation, marked seen as they are on screen while the page is attended. */
export function ConversationView({ client, conversationId, typing, agentLabel = 'An agent' }: { client: ParleyClient; conversationId: string; typing: TypingTracker; agentLabel?: string }) {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const [feed, setFeed] = useState<ConversationFeed | null>(null);
  const [seenUpTo, setSeenUpTo] = useState(0);
  const list = useRef<HTMLDivElement>(null);
  // Who we are survives a drop (the client forgets it until the next welcome): our pending rows stay ours.
  const meRef = useRef<string | null>(null);
  meRef.current = client.participant?.id ?? meRef.current;
  const me = meRef.current;

  useEffect(() => {
    const f = new ConversationFeed(client, conversationId);
    const off = f.subscribe(() => bump());
    setFeed(f);
    setSeenUpTo(0);
    const load = () =>
      void f
        .load()
        .then(() => refreshTicks(f))
        .catch(() => {});
    if (client.state === 'open') load();
    const offs = [
      client.on('welcome', load),
      client.on('receipt', (r) => {
        if (r.conversationId === conversationId && r.kind === 'seen' && r.participantId !== client.participant?.id) setSeenUpTo((s) => Math.max(s, r.upTo));
      }),
      client.on('typing', () => bump()),
    ];
    return () => {
      off();
      offs.forEach((o) => o());
      f.dispose();
      client.unwatch(conversationId);
    };
  }, [client, conversationId]);

  /** The last of our messages that anyone else has seen (a customer may ask receipts of its own messages). */
  async function refreshTicks(f: ConversationFeed): Promise<void> {
    const last = f.rows().filter((r) => r.senderId === client.participant?.id && r.messageId).at(-1);
    if (!last?.messageId) return;
    const recipients = await client.receipts(last.messageId);
    if (recipients.some((r) => r.seenAt !== null)) setSeenUpTo((s) => Math.max(s, last.seq ?? 0));
  }

  // Seen marks: what is on screen, while the page is visible and focused.
  useEffect(() => {
    if (!list.current) return;
    return markSeenOnScreen(client, conversationId, list.current);
  }, [client, conversationId, list.current]);

  const rows = feed?.rows() ?? [];
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: 'end' }), [rows.length, rows.at(-1)?.state]);
  const typists = typing.typists(conversationId).filter((id) => id !== me);

  const retry = (r: Row) => void client.send(conversationId, r.body, { clientMsgId: r.key }).catch(() => {});

  return (
    <>
      <div class="messages" ref={list} aria-label="Messages" role="log" tabIndex={0}>
        {rows.length === 0 && <p class="empty">{feed ? 'Hi! How can we help?' : 'Loading…'}</p>}
        {rows.map((r) => (
          <MessageRow key={r.key} r={r} mine={r.senderId === me || r.messageId === null} seenUpTo={seenUpTo} onRetry={() => retry(r)} />
        ))}
        <div ref={end} />
      </div>
      {typists.length > 0 && <div class="typing">{agentLabel} is typing…</div>}
      <Composer label="Your message" onSend={(body) => void client.send(conversationId, body).catch(() => {})} onTyping={() => client.typing(conversationId)} />
    </>
  );
}

function MessageRow({ r, mine, seenUpTo, onRetry }: { r: Row; mine: boolean; seenUpTo: number; onRetry: () => void }) {
  const seen = mine && r.seq !== null && r.seq <= seenUpTo;
  const format = (r as Row & { format?: string }).format;
  const state = r.state === 'sent' ? (seen ? 'seen' : 'sent') : r.state;
  return (
    <div class={`msg ${mine ? 'mine' : 'theirs'} ${r.state}`} data-testid="message" {...(r.seq !== null ? { 'data-seq': String(r.seq) } : {})}>
      <span class="sr">{mine ? 'You: ' : 'Support: '}</span>
      <div class="body">{format === 'markdown' ? <Markdown text={r.body} /> : r.body}</div>
      <div class="meta">
        {r.state === 'sent' && formatTime(r.createdAt)}
        {mine && r.state === 'pending' && <span data-testid="pending">Sending…</span>}
        {mine && r.state === 'failed' && (
          <>
            <span data-testid="failed">Not sent{r.error ? ` (${r.error})` : ''}</span>
            <button type="button" class="retry" onClick={onRetry}>
              Retry
            </button>
          </>
        )}
        {mine && r.state === 'sent' && (
          <span class="tick" data-testid="tick" data-state={state} title={seen ? 'Seen' : 'Sent'} aria-label={seen ? 'Seen' : 'Sent'}>
            {seen ? '✓✓' : '✓'}
          </span>
        )}
        {mine && r.state !== 'sent' && <span class="tick" data-testid="tick" data-state={state} hidden />}
      </div>
    </div>
  );
}
