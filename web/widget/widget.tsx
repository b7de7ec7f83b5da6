import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { ParleyClient, Presence, Summary } from '../../client-sdk/browser.js';
import { Composer } from '../shared/composer.js';
import { TypingTracker, formatTime } from '../shared/conversation.js';
import { ConnectionBanner, ConversationView, activityAt, customerTitle, useConnection } from './views.js';

interface Props {
  client: ParleyClient;
  /** Opens the panel at once (after a retry the new widget keeps the panel as it was). */
  initiallyOpen?: boolean;
  /** Starts again with a fresh client (after the hub refused the token). */
  onRetry: (open: boolean) => void;
}

/** Why the hub or the host refused to let us in, as the customer reads it; null for passing trouble. */
export function refusalText(code: string): string | null {
  if (code === 'unauthenticated' || code === 'token_expired') return 'We could not sign you in to the chat.';
  if (code === 'forbidden') return 'This chat is not available for your account.';
  if (code === 'not_connected') return 'We could not sign you in to the chat.';
  return null;
}

/**
 * The customer's side: a launcher with the count of unseen messages across all of the customer's
 * conversations, and a panel that lists them — its inbox conversation with the team and every ticket
 * conversation it is in, newest first — opens one with one tap, and goes back with one. A new message
 * from the home view goes to the customer's conversation with the team (opened on the first message).
 * Offline: a banner, and no claim that an agent is online. Keyboard: the panel takes focus when it
 * opens, Escape closes it and focus returns to the launcher.
 */
export function Widget({ client, initiallyOpen = false, onRetry }: Props) {
  const [open, setOpen] = useState(initiallyOpen);
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const { state, everOpen, refused, clearRefused } = useConnection(client, refusalText);
  const [conversations, setConversations] = useState<Map<string, Summary>>(new Map());
  const [current, setCurrent] = useState<string | null>(null);
  const [presence, setPresence] = useState<Map<string, Presence>>(new Map());
  const typing = useMemo(() => new TypingTracker(client, () => bump()), [client]);
  const launcher = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLElement>(null);
  const meRef = useRef<string | null>(null);
  meRef.current = client.participant?.id ?? meRef.current;
  const me = meRef.current;

  const merge = (c: Summary) => setConversations((m) => new Map(m).set(c.id, { ...m.get(c.id), ...c }));

  async function refresh(): Promise<void> {
    try {
      const { conversations: list } = await client.conversations({ limit: 200 });
      setConversations(new Map(list.map((c) => [c.id, c])));
    } catch {
      // offline: the banner says so, and the next welcome asks again
    }
  }

  useEffect(() => {
    const offs = [
      client.on('state', (s) => {
        if (s !== 'open') setPresence(new Map()); // unknown while offline
      }),
      client.on('welcome', () => void refresh()),
      client.on('conversation', merge),
      client.on('presence', (p) => setPresence((m) => new Map(m).set(p.participantId, p))),
      client.on('message', (msg, { live }) => {
        setConversations((m) => {
          const c = m.get(msg.conversationId);
          if (!c) {
            void refresh(); // a conversation we did not know yet
            return m;
          }
          if (msg.seq <= c.lastSeq) return m;
          const fromOthers = msg.senderId !== client.participant?.id && live && msg.seq > c.seenUpTo;
          return new Map(m).set(c.id, { ...c, lastSeq: msg.seq, lastMessageAt: msg.createdAt, unseen: c.unseen + (fromOthers ? 1 : 0) });
        });
      }),
      client.on('receipt', (r) => {
        if (r.kind !== 'seen' || r.participantId !== client.participant?.id) return;
        setConversations((m) => {
          const c = m.get(r.conversationId);
          if (!c || r.upTo <= c.seenUpTo) return m;
          if (r.upTo < c.lastSeq) void refresh(); // only part of it: the hub counts what is left
          return new Map(m).set(c.id, { ...c, seenUpTo: r.upTo, unseen: r.upTo >= c.lastSeq ? 0 : c.unseen });
        });
      }),
    ];
    if (client.state === 'open') void refresh();
    return () => offs.forEach((off) => off());
  }, [client]);

  // Presence of the agents in the conversation on screen (or of every conversation at home).
  const shown = current ? conversations.get(current) : undefined;
  const agentIds = useMemo(() => {
    const ids = new Set<string>();
    for (const c of shown ? [shown] : conversations.values()) for (const id of c.members) if (id !== me) ids.add(id);
    return [...ids].sort();
  }, [shown?.members.join(), conversations.size, me]);
  useEffect(() => {
    if (state !== 'open' || agentIds.length === 0) return;
    client.who(agentIds, { watch: true }).then(
      (ps) => setPresence(new Map(ps.map((p) => [p.participantId, p]))),
      () => {},
    );
  }, [state, agentIds.join()]);

  // Focus: into the panel when it opens, back to the launcher when it closes.
  const wasOpen = useRef(open);
  useEffect(() => {
    if (open && !wasOpen.current) focusFirst(panel.current);
    if (!open && wasOpen.current) launcher.current?.focus();
    wasOpen.current = open;
  }, [open]);
  useEffect(() => {
    if (open) focusFirst(panel.current);
  }, [current]);

  const list = [...conversations.values()].sort((a, b) => activityAt(b) - activityAt(a) || (a.id < b.id ? 1 : -1));
  const unseenTotal = list.reduce((n, c) => n + c.unseen, 0);
  const online = state === 'open' && agentIds.some((id) => (presence.get(id)?.state ?? 'offline') !== 'offline');
  const inbox = list.find((c) => c.kind === 'inbox');

  /** From the home view: to the conversation with the team, opened on the first message. */
  async function writeToTeam(body: string): Promise<void> {
    let c = inbox;
    if (!c) {
      try {
        c = await client.open([]);
      } catch {
        return;
      }
      merge(c);
    }
    setCurrent(c.id);
    await client.send(c.id, body).catch(() => {}); // the row shows the failure
  }

  const title = shown ? customerTitle(shown, me) : 'Chat with us';
  return (
    <div class={`parley${open ? ' is-open' : ''}`}>
      {open && (
        <section
          class="panel"
          role="dialog"
          aria-label="Chat with our team"
          ref={panel}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              setOpen(false);
            }
          }}
        >
          <header>
            {shown && (
              <button type="button" class="back" aria-label="Back to all conversations" onClick={() => setCurrent(null)}>
                ‹
              </button>
            )}
            <div class="heading">
              <h2 class="title">{title}</h2>
              <span class={`status ${online ? 'online' : ''}`} data-testid="agent-status">
                {state !== 'open' ? 'Offline' : online ? 'An agent is online' : 'We reply as soon as we can'}
              </span>
            </div>
            <button type="button" class="close" aria-label="Minimize chat" onClick={() => setOpen(false)}>
              ×
            </button>
          </header>
          <ConnectionBanner
            state={state}
            everOpen={everOpen}
            refused={refused}
            onRetry={() => {
              clearRefused();
              onRetry(open);
            }}
          />
          {shown ? (
            <ConversationView key={shown.id} client={client} conversationId={shown.id} typing={typing} />
          ) : (
            <>
              <div class="home">
                {list.length > 0 ? (
                  <>
                    <h3 class="list-title">Your conversations</h3>
                    <ul class="conversations" aria-label="Your conversations">
                      {list.map((c) => (
                        <li key={c.id}>
                          <button type="button" class="conv" data-testid="conversation" data-id={c.id} onClick={() => setCurrent(c.id)}>
                            <span class="conv-title">{customerTitle(c, me)}</span>
                            <span class="conv-meta">
                              {c.lastMessageAt !== null && <span class="conv-time">{formatTime(c.lastMessageAt)}</span>}
                              {c.unseen > 0 && (
                                <span class="count" data-testid="conversation-unseen" aria-label={`${c.unseen} new`}>
                                  {c.unseen}
                                </span>
                              )}
                            </span>
                          </button>
                        </li>
                      ))}
                    </ul>
                  </>
                ) : (
                  <p class="empty">{state === 'open' ? 'Hi! How can we help?' : refused ? 'You can also write to us by email.' : 'Connecting…'}</p>
                )}
              </div>
              {!refused && (
                <Composer label="Your message" placeholder={inbox ? 'Write to the team…' : 'Start a conversation…'} onSend={(body) => void writeToTeam(body)} onTyping={() => inbox && client.typing(inbox.id)} />
              )}
            </>
          )}
          <footer>Replies also come by email, so you can close this page.</footer>
        </section>
      )}
      <button
        type="button"
        class="launcher"
        ref={launcher}
        aria-expanded={open}
        aria-label={`${open ? 'Close chat' : 'Open chat'}${unseenTotal > 0 ? `, ${unseenTotal} unread` : ''}`}
        onClick={() => setOpen(!open)}
      >
        <svg viewBox="0 0 24 24" aria-hidden="true">
          <path d="M4 4h16v11H7l-3 3z" />
        </svg>
        {unseenTotal > 0 && !open && (
          <span class="badge" data-testid="badge" aria-hidden="true">
            {unseenTotal}
          </span>
        )}
      </button>
    </div>
  );
}

/** The message box if there is one, else the first control of the panel. */
function focusFirst(root: HTMLElement | null): void {
  if (!root) return;
  const target = root.querySelector<HTMLElement>('textarea') ?? root.querySelector<HTMLElement>('button, [href], input, select, [tabindex]');
  target?.focus();
}
