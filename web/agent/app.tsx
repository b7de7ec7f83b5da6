import { Fragment, type JSX } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { markSeenOnScreen, type ConnectionState, type Message, type ParleyClient, type Presence, type Receipt, type Summary } from '../../client-sdk/browser.js';
import { Composer } from '../shared/composer.js';
import { ConversationFeed, TypingTracker, formatTime, type Row } from '../shared/conversation.js';
import { Markdown } from '../shared/markdown.js';
import { audienceOf, conversationTitle, type TitleContext } from '../shared/titles.js';
import type { Directory, Helpdesk } from './helpdesk.js';
import { Alerts } from './alerts.js';
import { NotificationBell } from './notifications.js';
import { Preferences } from './preferences.js';
import { AdminPage } from './admin/admin.js';
import { adminApi, isAdmin, sessionToken } from './admin/api.js';

interface Props {
  client: ParleyClient;
  helpdesk: Helpdesk;
  /** Sends the person to the helpdesk to sign in again, coming back to `route`. */
  signIn: (route: string) => void;
}

type Section = 'customers' | 'internal' | 'direct';
const SECTIONS: Array<[Section, string]> = [
  ['customers', 'From customers'],
  ['internal', 'Internal'],
  ['direct', 'Direct'],
];

function sectionOf(c: Summary): Section {
  if (c.kind === 'direct') return 'direct';
  return c.visibility === 'external' ? 'customers' : 'internal';
}

/** The hash route: `/c/{conversationId}`, `/preferences`, or '' (the list). */
function currentRoute(): string {
  const h = location.hash.replace(/^#/, '');
  return h.startsWith('/') ? h : '';
}
function go(route: string): void {
  if (currentRoute() === route) return;
  location.hash = route;
}

interface Preview {
  senderId: string;
  body: string;
  at: number;
  seq: number;
}

export function App({ client, helpdesk, signIn }: Props) {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const rerender = () => bump();
  const [state, setState] = useState<ConnectionState>(client.state);
  const [authProblem, setAuthProblem] = useState<string | null>(null);
  const [me, setMe] = useState<{ id: string; name: string } | null>(client.participant);
  const [directory, setDirectory] = useState<Directory>({ participants: [], items: [] });
  const [conversations, setConversations] = useState<Map<string, Summary>>(new Map());
  const [previews, setPreviews] = useState<Map<string, Preview>>(new Map());
  const [route, setRoute] = useState(currentRoute());
  const [presence, setPresence] = useState<Map<string, Presence>>(new Map());
  const [picking, setPicking] = useState(false);
  const typing = useMemo(() => new TypingTracker(client, rerender), [client]);
  const alerts = useMemo(() => new Alerts(), []);
  const newButton = useRef<HTMLButtonElement>(null);
  const prefsButton = useRef<HTMLButtonElement>(null);
  // The messaging center: shown to a user whose token opens the admin routes (null while asking).
  const admin = useMemo(() => adminApi(sessionToken), []);
  const [isAdminUser, setIsAdminUser] = useState<boolean | null>(null);
  useEffect(() => void isAdmin(admin).then(setIsAdminUser), [admin]);

  const selected = route.startsWith('/c/') ? decodeURIComponent(route.slice(3)) : null;
  const showPreferences = route === '/preferences';
  // Preferences open over where the person was (a conversation stays on screen beside them on wide
  // screens), and closing them goes back there.
  const backRoute = useRef('');
  if (!showPreferences) backRoute.current = route;
  const shown = selected ?? (showPreferences && backRoute.current.startsWith('/c/') ? decodeURIComponent(backRoute.current.slice(3)) : null);
  const conversationsRef = useRef(conversations);
  conversationsRef.current = conversations;

  const participants = useMemo(() => new Map(directory.participants.map((p) => [p.id, p])), [directory]);
  const nameOf = (id: string) => participants.get(id)?.name ?? id;
  const ctx: TitleContext = {
    viewerId: me?.id,
    nameOf,
    kindOf: (id) => participants.get(id)?.kind,
    item: (id) => directory.items.find((i) => i.id === id),
  };
  const titleOf = (c: Summary): string => conversationTitle(c, ctx);
  const ctxRef = useRef(ctx);
  ctxRef.current = ctx;

  function upsert(c: Summary): void {
    setConversations((m) => new Map(m).set(c.id, c));
  }
  function preview(m: Message): void {
    setPreviews((map) => {
      const old = map.get(m.conversationId);
      if (old && old.seq >= m.seq) return map;
      return new Map(map).set(m.conversationId, { senderId: m.senderId, body: m.body, at: m.createdAt, seq: m.seq });
    });
  }

  // A layout effect: it runs inside render(), so the client's events are listened to before main.tsx
  // calls connect() (an effect would attach them after the paint, and a quick `welcome` was lost).
  useLayoutEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener('hashchange', onHash);
    const onAuth = (e: Event) => setAuthProblem((e as CustomEvent<string>).detail || 'Your sign-in has expired or is not valid.');
    addEventListener('parley-auth-failed', onAuth);
    const offs = [
      client.on('state', (s) => {
        setState(s);
        if (s === 'open') setAuthProblem(null);
      }),
      client.on('welcome', (w) => {
        setMe(w.participant);
        setAuthProblem(null);
        void loadAll();
      }),
      client.on('resumed', (list) => setConversations(new Map(list.map((c) => [c.id, c])))),
      client.on('conversation', upsert),
      // The hub refused the token itself (not a mere expiry, which the token provider mends).
      client.on('error', (e) => {
        if (e.code === 'unauthenticated' && client.state !== 'open') setAuthProblem('Your sign-in is not valid. Sign in again to keep chatting.');
      }),
      client.on('presence', (p) => setPresence((m) => new Map(m).set(p.participantId, p))),
      client.on('message', (m) => {
        preview(m);
        setConversations((map) => {
          const c = map.get(m.conversationId);
          if (!c || m.seq <= c.lastSeq) return map;
          const mine = m.senderId === client.participant?.id;
          const next = { ...c, lastSeq: m.seq, lastMessageAt: m.createdAt, unseen: mine || m.seq <= c.seenUpTo ? c.unseen : c.unseen + 1 };
          return new Map(map).set(c.id, next);
        });
      }),
      client.on('receipt', (r) => {
        if (r.kind !== 'seen' || r.participantId !== client.participant?.id) return;
        setConversations((map) => {
          const c = map.get(r.conversationId);
          if (!c || r.upTo <= c.seenUpTo) return map;
          const unseen = r.upTo >= c.lastSeq ? 0 : Math.min(c.unseen, c.lastSeq - r.upTo);
          return new Map(map).set(c.id, { ...c, seenUpTo: r.upTo, unseen });
        });
      }),
      client.on('notify', (n) => alerts.notify(n, (id) => go(`/c/${id}`))),
    ];
    return () => {
      removeEventListener('hashchange', onHash);
      removeEventListener('parley-auth-failed', onAuth);
      offs.forEach((off) => off());
    };
  }, [client]);

  // Escape closes what is open: the people picker, then preferences, then (narrow screens) the conversation.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      if (picking) {
        setPicking(false);
        newButton.current?.focus();
      } else if (showPreferences) {
        go(backRoute.current);
        prefsButton.current?.focus();
      } else return;
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [picking, showPreferences, shown]);

  async function loadAll(): Promise<void> {
    const [page, dir] = await Promise.all([client.conversations({ limit: 200 }), helpdesk.directory().catch(() => null)]);
    setConversations(new Map(page.conversations.map((c) => [c.id, c])));
    // The latest message of the most recent conversations, for the list's previews.
    const recentOnes = [...page.conversations].filter((c) => c.lastSeq > 0).slice(0, 30);
    void Promise.all(recentOnes.map((c) => client.history(c.id, { limit: 1 }).then((h) => h.messages.forEach(preview), () => {})));
    if (dir) {
      setDirectory(dir);
      alerts.describe = (conversationId, messageId) => describeNotify(dir, conversationId, messageId);
      const ids = dir.participants.map((p) => p.id).slice(0, 200);
      if (ids.length) setPresence(new Map((await client.who(ids, { watch: true })).map((p) => [p.participantId, p])));
    }
  }

  const recent = useRef(new Map<string, Message>());
  useEffect(
    () =>
      client.on('message', (m) => {
        // The bubble quotes the message its notify names; only the latest few are ever asked for.
        recent.current.set(m.id, m);
        if (recent.current.size > 200) recent.current.delete(recent.current.keys().next().value!);
      }),
    [client],
  );
  function describeNotify(dir: Directory, conversationId: string, messageId: string): string {
    const m = recent.current.get(messageId);
    const c = conversationsRef.current.get(conversationId);
    const who = m ? (dir.participants.find((p) => p.id === m.senderId)?.name ?? m.senderId) : 'Someone';
    return `${who}${c ? ` in ${conversationTitle(c, ctxRef.current)}` : ''}: ${m ? m.body.slice(0, 80) : 'new message'}`;
  }

  const online = state === 'open';
  const dot = (id: string) => {
    const s = online ? (presence.get(id)?.state ?? 'offline') : 'unknown';
    const label = s === 'unknown' ? 'presence unknown while offline' : s;
    return <span class={`dot ${s}`} title={label} role="img" aria-label={label} />;
  };
  const sorted = [...conversations.values()].sort((a, b) => (b.lastMessageAt ?? b.createdAt) - (a.lastMessageAt ?? a.createdAt) || (a.id < b.id ? 1 : -1));
  const current = shown ? conversations.get(shown) : undefined;
  const detail = showPreferences || picking || selected !== null;
  const loaded = state === 'open' || conversations.size > 0;

  if (route.startsWith('/admin')) return <AdminPage api={admin} route={route} admin={isAdminUser} />;
  return (
    <main class={`layout ${detail ? 'has-detail' : ''}`}>
      <h1 class="sr-only">Parley messenger</h1>
      <Banner state={state} authProblem={authProblem} signIn={() => signIn(currentRoute())} />
      <nav class="sidebar" aria-label="Conversations">
        <div class="me">
          {me && dot(me.id)}
          <strong>{me?.name ?? '…'}</strong>
          {isAdminUser && (
            <a class="admin-link" href="#/admin/definitions">
              Admin
            </a>
          )}
          <span class={`conn ${state}`}>{state === 'open' ? '' : state === 'closed' ? 'offline' : state === 'reconnecting' ? 'reconnecting…' : 'connecting…'}</span>
          <NotificationBell client={client} conversations={conversations} />
          <button ref={prefsButton} class="icon" aria-label="Preferences" aria-expanded={showPreferences} onClick={() => go(showPreferences ? backRoute.current : '/preferences')}>
            ⚙
          </button>
        </div>
        <button ref={newButton} class="new" aria-expanded={picking} onClick={() => setPicking(!picking)}>
          + New conversation
        </button>
        {SECTIONS.map(([key, label]) => {
          const list = sorted.filter((c) => sectionOf(c) === key);
          const unseen = list.reduce((n, c) => n + c.unseen, 0);
          return (
            <section key={key} class="section" data-section={key} aria-labelledby={`section-${key}`}>
              <h2 id={`section-${key}`}>
                {label}{' '}
                {unseen > 0 && (
                  <span class="count" data-testid={`unseen-${key}`} aria-label={`${unseen} unseen`}>
                    {unseen}
                  </span>
                )}
              </h2>
              {list.length === 0 && <p class="none">{loaded ? 'Nothing here' : 'Loading…'}</p>}
              <ul class="convs">
                {list.map((c) => {
                  const p = previews.get(c.id);
                  return (
                    <li key={c.id}>
                      <a href={`#/c/${encodeURIComponent(c.id)}`} class={`conv ${c.id === selected ? 'active' : ''} ${c.visibility === 'internal' ? 'internal' : 'external'}`} data-conversation={c.id} aria-current={c.id === selected ? 'page' : undefined}>
                        <span class="line">
                          <span class="title">{titleOf(c)}</span>
                          {c.lastMessageAt && <time class="when">{formatTime(c.lastMessageAt)}</time>}
                        </span>
                        <span class="line">
                          <span class="preview" data-testid="preview">
                            {p ? `${p.senderId === me?.id ? 'You' : nameOf(p.senderId).split(' ')[0]}: ${p.body.replace(/\s+/g, ' ').slice(0, 90)}` : c.lastSeq === 0 ? 'No messages yet' : ''}
                          </span>
                          {c.unseen > 0 && (
                            <span class="count" aria-label={`${c.unseen} unseen`}>
                              {c.unseen}
                            </span>
                          )}
                        </span>
                      </a>
                    </li>
                  );
                })}
              </ul>
            </section>
          );
        })}
      </nav>
      <section class="main" aria-label="Conversation">
        {showPreferences && (
          <Preferences
            helpdesk={helpdesk}
            alerts={alerts}
            onClose={() => {
              go(backRoute.current);
              prefsButton.current?.focus();
            }}
          />
        )}
        {picking && (
          <NewConversation
            directory={directory}
            me={me?.id ?? ''}
            onClose={() => {
              setPicking(false);
              newButton.current?.focus();
            }}
            onOpen={async (ids) => {
              const c = await client.open(ids);
              upsert(c);
              setPicking(false);
              go(`/c/${c.id}`);
            }}
          />
        )}
        {current ? (
          <ConversationView
            key={current.id}
            client={client}
            conversation={current}
            title={titleOf(current)}
            audience={audienceOf(current, ctx)}
            nameOf={nameOf}
            dot={dot}
            typists={typing.typists(current.id).filter((id) => id !== me?.id)}
            onBack={() => go('')}
          />
        ) : selected && !showPreferences && !picking ? (
          <div class="placeholder">
            <p>{loaded ? 'This conversation is not available to you, or it does not exist.' : 'Loading…'}</p>
            <button class="back" onClick={() => go('')}>
              ← All conversations
            </button>
          </div>
        ) : (
          !showPreferences && !picking && <p class="placeholder">Pick a conversation.</p>
        )}
      </section>
    </main>
  );
}

/** Why the app cannot work right now, and what the person can do about it. */
function Banner({ state, authProblem, signIn }: { state: ConnectionState; authProblem: string | null; signIn: () => void }) {
  if (authProblem) {
    return (
      <div class="banner error" role="alert" data-testid="banner">
        <span>{authProblem}</span>
        <button onClick={signIn}>Sign in again</button>
        <button onClick={() => location.reload()}>Retry</button>
      </div>
    );
  }
  if (state === 'reconnecting') {
    return (
      <div class="banner offline" role="status" data-testid="banner">
        <span>You are offline — reconnecting… Messages you write are sent when the connection is back.</span>
      </div>
    );
  }
  if (state === 'closed') {
    return (
      <div class="banner error" role="alert" data-testid="banner">
        <span>Disconnected from the messenger.</span>
        <button onClick={() => location.reload()}>Retry</button>
      </div>
    );
  }
  return null;
}

interface ViewProps {
  client: ParleyClient;
  conversation: Summary;
  title: string;
  audience: { internal: boolean; label: string };
  nameOf: (id: string) => string;
  dot: (id: string) => JSX.Element;
  typists: string[];
  onBack: () => void;
}

const GROUP_MS = 5 * 60_000;

/** One conversation: history and live messages, who saw our messages, typing, and the composer. */
function ConversationView({ client, conversation, title, audience, nameOf, dot, typists, onBack }: ViewProps) {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const feed = useMemo(() => new ConversationFeed(client, conversation.id), [client, conversation.id]);
  const [receipts, setReceipts] = useState<Map<string, Receipt[]>>(new Map());
  const [loaded, setLoaded] = useState(false);
  const list = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  // Where "New messages" goes: fixed when the view opens, so it does not jump as they get seen.
  const seenAtOpen = useRef(conversation.seenUpTo);
  const me = feed.myId();

  useEffect(() => {
    const off = feed.subscribe(() => bump());
    void feed
      .load()
      .then(() => setLoaded(true))
      .then(refreshReceipts, () => setLoaded(true));
    const stop = markSeenOnScreen(client, conversation.id, list.current!);
    let timer: ReturnType<typeof setTimeout> | null = null;
    const later = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(refreshReceipts, 250);
    };
    const offs = [
      client.on('receipt', (r) => r.conversationId === conversation.id && later()),
      client.on('outgoing', (o) => o.conversationId === conversation.id && o.state === 'sent' && later()),
    ];
    return () => {
      off();
      stop();
      offs.forEach((o) => o());
      feed.dispose();
      if (timer) clearTimeout(timer);
    };
  }, [feed]);

  async function refreshReceipts(): Promise<void> {
    const mine = feed.rows().filter((r) => r.senderId === feed.myId() && r.messageId).slice(-20);
    const answers = await Promise.all(mine.map(async (r) => [r.messageId!, await client.receipts(r.messageId!).catch(() => [])] as const));
    setReceipts(new Map(answers));
  }

  const rows = feed.rows();
  const firstUnseen = rows.find((r) => r.seq !== null && r.seq > seenAtOpen.current && r.senderId !== me);
  const scrolledOnce = useRef(false);
  useEffect(() => {
    const el = list.current;
    if (!el || !loaded) return;
    if (!scrolledOnce.current) {
      scrolledOnce.current = true;
      const divider = el.querySelector<HTMLElement>('.divider');
      if (divider) el.scrollTop = divider.offsetTop - el.offsetTop - 8;
      else el.scrollTop = el.scrollHeight;
    } else if (atBottom.current) el.scrollTop = el.scrollHeight;
  }, [rows.length, loaded]);

  return (
    <section class={`conversation ${audience.internal ? 'internal' : 'external'}`} data-testid="conversation" aria-labelledby="conversation-title">
      <header>
        <button class="back" aria-label="Back to conversations" onClick={onBack}>
          ←
        </button>
        <div class="heading">
          <h1 id="conversation-title">{title}</h1>
          <span class={`audience ${audience.internal ? 'internal' : 'external'}`} data-testid="audience">
            {audience.label}
          </span>
          <div class="members">
            {conversation.members.map((id) => (
              <span key={id} class="member">
                {dot(id)}
                {nameOf(id)}
              </span>
            ))}
          </div>
        </div>
      </header>
      <div
        class="messages"
        ref={list}
        tabIndex={0}
        role="log"
        aria-label={`Messages in ${title}`}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {loaded && rows.length === 0 && <p class="empty">No messages yet.</p>}
        {rows.map((r, i) => {
          const prev = rows[i - 1];
          const grouped = !!prev && prev.senderId === r.senderId && r.createdAt - prev.createdAt < GROUP_MS && r !== firstUnseen;
          return (
            <Fragment key={r.key}>
              {r === firstUnseen && (
                <div class="divider" role="separator" data-testid="new-divider" key={`divider-${r.key}`}>
                  <span>New messages</span>
                </div>
              )}
              <MessageRow row={r} mine={r.senderId === me} grouped={grouped} nameOf={nameOf} receipts={r.messageId ? receipts.get(r.messageId) : undefined} retry={() => r.clientMsgId && feed.retry(r.clientMsgId)} />
            </Fragment>
          );
        })}
      </div>
      <div class="typing" aria-live="polite">
        {typists.length > 0 && `${typists.map(nameOf).join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…`}
      </div>
      {/* A refused send shows as a failed row (the outgoing event), so its rejection needs no handler here. */}
      <Composer
        label="Message"
        tone={audience.internal ? 'internal' : 'external'}
        notice={audience.label}
        placeholder={audience.internal ? 'Write an internal note…' : 'Write a reply…'}
        onSend={(body) => {
          atBottom.current = true;
          client.send(conversation.id, body).catch(() => {});
        }}
        onTyping={() => client.typing(conversation.id)}
      />
    </section>
  );
}

function MessageRow({ row: r, mine, grouped, nameOf, receipts, retry }: { row: Row; mine: boolean; grouped: boolean; nameOf: (id: string) => string; receipts: Receipt[] | undefined; retry: () => void }) {
  return (
    <div class={`msg ${mine ? 'mine' : 'theirs'} ${r.state} ${grouped ? 'grouped' : ''}`} data-testid="message" data-seq={r.seq ?? undefined} data-state={r.state}>
      {!grouped && (
        <div class="head">
          <strong>{mine ? 'You' : nameOf(r.senderId)}</strong> <time dateTime={new Date(r.createdAt).toISOString()}>{formatTime(r.createdAt)}</time>
        </div>
      )}
      <div class="body" title={grouped ? formatTime(r.createdAt) : undefined}>
        <Markdown text={r.body} />
      </div>
      {mine && <Status state={r.state} receipts={receipts} nameOf={nameOf} error={r.error} retry={retry} />}
    </div>
  );
}

/** Delivered, seen by whom, emailed to whom: what the hub's receipts say of one of our messages. */
function Status({ state, receipts, nameOf, error, retry }: { state: string; receipts: Receipt[] | undefined; nameOf: (id: string) => string; error?: string | undefined; retry: () => void }) {
  if (state === 'pending') return <div class="status">sending…</div>;
  if (state === 'failed')
    return (
      <div class="status failed">
        Not sent{error ? `: ${error}` : ''}{' '}
        <button class="link" onClick={retry}>
          retry
        </button>
      </div>
    );
  if (!receipts) return <div class="status">Sent</div>;
  const seen = receipts.filter((r) => r.seenAt !== null).map((r) => nameOf(r.participantId));
  const emailed = receipts.filter((r) => r.emailedAt).map((r) => nameOf(r.participantId));
  const delivered = receipts.some((r) => r.deliveredAt !== null);
  return (
    <div class="status" data-testid="status">
      {delivered ? 'Delivered' : 'Sent'}
      {seen.length > 0 && <span data-testid="seen-by"> · Seen by {seen.join(', ')}</span>}
      {emailed.length > 0 && <span data-testid="emailed"> · Emailed {emailed.join(', ')}</span>}
    </div>
  );
}

/** Start a direct conversation: type `@` and a name, pick people with the mouse or the keyboard, open. */
function NewConversation({ directory, me, onOpen, onClose }: { directory: Directory; me: string; onOpen: (ids: string[]) => Promise<void>; onClose: () => void }) {
  const [picked, setPicked] = useState<string[]>([]);
  const [input, setInput] = useState('');
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const query = /@?([^@\s]*)$/.exec(input)?.[1];
  const matches =
    input.trim() === '' || query === undefined
      ? []
      : directory.participants.filter((p) => p.id !== me && p.kind !== 'bot' && !picked.includes(p.id) && (p.name.toLowerCase().includes(query.toLowerCase()) || p.id.includes(query))).slice(0, 8);
  const nameOf = (id: string) => directory.participants.find((p) => p.id === id)?.name ?? id;
  useLayoutEffect(() => field.current?.focus(), []);
  const pick = (id: string) => {
    setPicked([...picked, id]);
    setInput('');
    setActive(0);
    field.current?.focus();
  };
  const start = () => {
    if (picked.length) onOpen(picked).catch((e: unknown) => setError(String(e)));
  };
  return (
    <div class="new-conversation" role="dialog" aria-label="New conversation">
      <h2>New conversation</h2>
      <div class="chips">
        {picked.map((id) => (
          <span key={id} class="chip">
            {nameOf(id)}
            <button
              aria-label={`Remove ${nameOf(id)}`}
              onClick={() => {
                setPicked(picked.filter((x) => x !== id));
                field.current?.focus();
              }}
            >
              ×
            </button>
          </span>
        ))}
        <input
          ref={field}
          aria-label="People"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={matches.length > 0}
          aria-controls="people-suggestions"
          aria-activedescendant={matches.length > 0 ? `person-${matches[Math.min(active, matches.length - 1)]!.id}` : undefined}
          placeholder="Type @ and a name"
          value={input}
          onInput={(e) => {
            setInput((e.target as HTMLInputElement).value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown' && matches.length) {
              e.preventDefault();
              setActive((active + 1) % matches.length);
            } else if (e.key === 'ArrowUp' && matches.length) {
              e.preventDefault();
              setActive((active - 1 + matches.length) % matches.length);
            } else if (e.key === 'Enter') {
              e.preventDefault();
              const m = matches[Math.min(active, matches.length - 1)];
              if (m) pick(m.id);
              else if (input.trim() === '') start();
            } else if (e.key === 'Escape') {
              e.preventDefault();
              if (matches.length) setInput('');
              else onClose();
            } else if (e.key === 'Backspace' && input === '' && picked.length) {
              setPicked(picked.slice(0, -1));
            }
          }}
        />
      </div>
      <ul class="suggestions" role="listbox" id="people-suggestions" aria-label="Suggestions" hidden={matches.length === 0}>
        {matches.map((p, i) => (
          <li
            key={p.id}
            id={`person-${p.id}`}
            role="option"
            aria-selected={i === active}
            class={i === active ? 'active' : ''}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => pick(p.id)}
          >
            {p.name} <small>{p.kind === 'customer' ? 'customer' : 'agent'}</small>
          </li>
        ))}
      </ul>
      <div class="actions">
        <button class="primary" disabled={picked.length === 0} onClick={start}>
          Start conversation
        </button>
        <button onClick={onClose}>Cancel</button>
      </div>
      <p class="hint">↑ ↓ to choose, Enter to add, Enter on an empty field to start, Esc to close.</p>
      {error && <p class="error">{error}</p>}
    </div>
  );
}
