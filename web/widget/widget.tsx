import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { ConnectionState, ParleyClient, Presence, Summary } from '../../client-sdk/browser.js';
import { Composer } from '../shared/composer.js';
import { ConversationFeed, TypingTracker, formatTime, type Row } from '../shared/conversation.js';

interface Props {
  client: ParleyClient;
  /** Marks the conversation seen while the page is visible and focused; returns the stop function. */
  markSeen: (conversationId: string) => () => void;
}

/**
 * The customer's side: a launcher bubble and a panel with its conversation with the team (its `inbox`
 * conversation, opened on the first message), agent presence, typing, seen ticks and a note that
 * replies also come by email.
 */
export function Widget({ client, markSeen }: Props) {
  const [open, setOpen] = useState(false);
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const rerender = () => bump();
  const [state, setState] = useState<ConnectionState>(client.state);
  const [conversation, setConversation] = useState<Summary | null>(null);
  const [feed, setFeed] = useState<ConversationFeed | null>(null);
  const [seenUpTo, setSeenUpTo] = useState(0);
  const [presence, setPresence] = useState<Map<string, Presence>>(new Map());
  const [unread, setUnread] = useState(0);
  const typing = useMemo(() => new TypingTracker(client, rerender), [client]);
  const me = client.participant?.id ?? null;

  useEffect(() => {
    const offs = [
      client.on('state', setState),
      client.on('welcome', () => void findConversation()),
      client.on('conversation', (c) => {
        if (c.kind === 'inbox') adopt(c);
      }),
      client.on('presence', (p) => setPresence((m) => new Map(m).set(p.participantId, p))),
      client.on('receipt', (r) => {
        if (r.kind === 'seen' && r.participantId !== client.participant?.id) setSeenUpTo((s) => Math.max(s, r.upTo));
      }),
    ];
    if (client.state === 'open') void findConversation();
    return () => offs.forEach((off) => off());
  }, [client]);

  async function findConversation(): Promise<void> {
    const { conversations } = await client.conversations({ limit: 200 });
    const inbox = conversations.find((c) => c.kind === 'inbox');
    if (inbox) adopt(inbox);
  }

  const adopted = useRef<string | null>(null);
  function adopt(c: Summary): void {
    setConversation(c);
    const agents = c.members.filter((id) => id !== client.participant?.id);
    if (agents.length) client.who(agents, { watch: true }).then((ps) => setPresence(new Map(ps.map((p) => [p.participantId, p]))), () => {});
    if (adopted.current === c.id) return;
    adopted.current = c.id;
    const f = new ConversationFeed(client, c.id);
    f.subscribe(rerender);
    setFeed(f);
    void f.load().then(() => refreshTicks(f));
  }

  /** The last of our messages that anyone else has seen (receipts answer for the customer's own messages). */
  async function refreshTicks(f: ConversationFeed): Promise<void> {
    const mine = f.rows().filter((r) => r.senderId === client.participant?.id && r.messageId);
    const last = mine.at(-1);
    if (!last?.messageId) return;
    const recipients = await client.receipts(last.messageId);
    if (recipients.some((r) => r.seenAt !== null)) setSeenUpTo((s) => Math.max(s, last.seq ?? 0));
  }

  // Unread count on the launcher while the panel is closed; seen marks while it is open.
  useEffect(() => {
    if (!conversation) return;
    if (open) {
      setUnread(0);
      return markSeen(conversation.id);
    }
    return client.on('message', (m, { live }) => {
      if (live && m.conversationId === conversation.id && m.senderId !== client.participant?.id) setUnread((n) => n + 1);
    });
  }, [open, conversation?.id]);

  async function send(body: string): Promise<void> {
    let c = conversation;
    if (!c) {
      c = await client.open([]);
      adopt(c);
    }
    await client.send(c.id, body).catch(() => {}); // the row shows the failure
  }

  const agentsOnline = [...presence.values()].some((p) => p.state !== 'offline');
  const typists = conversation ? typing.typists(conversation.id).filter((id) => id !== me) : [];

  return (
    <div class="parley">
      {open && (
        <section class="panel" role="dialog" aria-label="Chat with our team">
          <header>
            <div>
              <strong>Chat with us</strong>
              <span class={`status ${agentsOnline ? 'online' : ''}`} data-testid="agent-status">
                {agentsOnline ? 'An agent is online' : 'We reply as soon as we can'}
              </span>
            </div>
            <button class="close" aria-label="Minimize chat" onClick={() => setOpen(false)}>
              ×
            </button>
          </header>
          <Messages rows={feed?.rows() ?? []} me={me} seenUpTo={seenUpTo} />
          {typists.length > 0 && <div class="typing">An agent is typing…</div>}
          {state !== 'open' && <div class="offline">{state === 'closed' ? 'Chat is unavailable.' : 'Reconnecting…'}</div>}
          <Composer label="Your message" onSend={(body) => void send(body)} onTyping={() => conversation && client.typing(conversation.id)} />
          <footer>Replies also come by email, so you can close this page.</footer>
        </section>
      )}
      <button class="launcher" aria-label={open ? 'Close chat' : 'Open chat'} onClick={() => setOpen(!open)}>
        <svg viewBox="0 0 24 24" aria-hidden="true">
          <path d="M4 4h16v11H7l-3 3z" />
        </svg>
        {unread > 0 && !open && <span class="badge">{unread}</span>}
      </button>
    </div>
  );
}

function Messages({ rows, me, seenUpTo }: { rows: Row[]; me: string | null; seenUpTo: number }) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: 'end' }), [rows.length]);
  return (
    <div class="messages" aria-live="polite">
      {rows.length === 0 && <p class="empty">Hi! How can we help?</p>}
      {rows.map((r) => {
        const mine = r.senderId === me;
        const seen = mine && r.seq !== null && r.seq <= seenUpTo;
        return (
          <div key={r.key} class={`msg ${mine ? 'mine' : 'theirs'} ${r.state}`} data-testid="message">
            <div class="body">{r.body}</div>
            <div class="meta">
              {formatTime(r.createdAt)}
              {mine && (
                <span class="tick" data-testid="tick" data-state={r.state === 'sent' ? (seen ? 'seen' : 'sent') : r.state} title={seen ? 'Seen' : r.state === 'sent' ? 'Sent' : r.state === 'pending' ? 'Sending…' : `Not sent: ${r.error ?? ''}`}>
                  {r.state === 'pending' ? '◷' : r.state === 'failed' ? '!' : seen ? '✓✓' : '✓'}
                </span>
              )}
            </div>
          </div>
        );
      })}
      <div ref={end} />
    </div>
  );
}
