import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { markSeenWhileVisible, type ConnectionState, type Message, type ParleyClient, type Presence, type Receipt, type Summary } from '../../client-sdk/browser.js';
import { Composer } from '../shared/composer.js';
import { ConversationFeed, TypingTracker, formatTime } from '../shared/conversation.js';
import type { Directory, Helpdesk } from './helpdesk.js';
import { Alerts } from './alerts.js';
import { Preferences } from './preferences.js';

interface Props {
  client: ParleyClient;
  helpdesk: Helpdesk;
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

export function App({ client, helpdesk }: Props) {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const rerender = () => bump();
  const [state, setState] = useState<ConnectionState>(client.state);
  const [directory, setDirectory] = useState<Directory>({ participants: [], items: [] });
  const [conversations, setConversations] = useState<Map<string, Summary>>(new Map());
  const [selected, setSelected] = useState<string | null>(null);
  const [presence, setPresence] = useState<Map<string, Presence>>(new Map());
  const [panel, setPanel] = useState<'none' | 'preferences' | 'new'>('none');
  const typing = useMemo(() => new TypingTracker(client, rerender), [client]);
  const alerts = useMemo(() => new Alerts(), []);
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selected;
  const me = client.participant;

  const names = useMemo(() => new Map(directory.participants.map((p) => [p.id, p.name])), [directory]);
  const nameOf = (id: string) => names.get(id) ?? id;
  const titleOf = (c: Summary): string => {
    if (c.subject) return c.subject;
    const item = c.itemId ? directory.items.find((i) => i.id === c.itemId) : undefined;
    if (item) return `${item.number ? `#${item.number} ` : ''}${item.title}`;
    const others = c.members.filter((id) => id !== client.participant?.id);
    return others.length ? others.map(nameOf).join(', ') : 'Conversation';
  };

  function upsert(c: Summary): void {
    setConversations((m) => new Map(m).set(c.id, c));
  }

  useEffect(() => {
    const offs = [
      client.on('state', setState),
      client.on('welcome', () => void loadAll()),
      client.on('resumed', (list) => setConversations(new Map(list.map((c) => [c.id, c])))),
      client.on('conversation', upsert),
      client.on('presence', (p) => setPresence((m) => new Map(m).set(p.participantId, p))),
      client.on('message', (m) => {
        setConversations((map) => {
          const c = map.get(m.conversationId);
          if (!c) return map;
          const mine = m.senderId === client.participant?.id;
          const watching = selectedRef.current === m.conversationId && alerts.attended();
          const next = { ...c, lastSeq: Math.max(c.lastSeq, m.seq), lastMessageAt: m.createdAt, unseen: mine || watching ? c.unseen : c.unseen + 1 };
          return new Map(map).set(c.id, next);
        });
      }),
      client.on('receipt', (r) => {
        if (r.kind !== 'seen' || r.participantId !== client.participant?.id) return;
        setConversations((map) => {
          const c = map.get(r.conversationId);
          if (!c) return map;
          return new Map(map).set(c.id, { ...c, seenUpTo: Math.max(c.seenUpTo, r.upTo), unseen: r.upTo >= c.lastSeq ? 0 : c.unseen });
        });
      }),
      client.on('notify', (n) => alerts.notify(n, (id) => setSelected(id))),
    ];
    return () => offs.forEach((off) => off());
  }, [client]);

  async function loadAll(): Promise<void> {
    const [page, dir] = await Promise.all([client.conversations({ limit: 200 }), helpdesk.directory().catch(() => null)]);
    setConversations(new Map(page.conversations.map((c) => [c.id, c])));
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
    const c = conversations.get(conversationId);
    const who = m ? (dir.participants.find((p) => p.id === m.senderId)?.name ?? m.senderId) : 'Someone';
    return `${who}${c ? ` in ${titleOf(c)}` : ''}: ${m ? m.body.slice(0, 80) : 'new message'}`;
  }

  const dot = (id: string) => <span class={`dot ${presence.get(id)?.state ?? 'offline'}`} title={presence.get(id)?.state ?? 'offline'} />;
  const sorted = [...conversations.values()].sort((a, b) => (b.lastMessageAt ?? b.createdAt) - (a.lastMessageAt ?? a.createdAt));
  const current = selected ? conversations.get(selected) : undefined;

  return (
    <div class="layout">
      <aside class="sidebar">
        <div class="me">
          {me && dot(me.id)}
          <strong>{me?.name ?? '…'}</strong>
          <span class={`conn ${state}`}>{state === 'open' ? '' : state === 'closed' ? 'offline' : 'connecting…'}</span>
          <button class="icon" aria-label="Preferences" onClick={() => setPanel(panel === 'preferences' ? 'none' : 'preferences')}>
            ⚙
          </button>
        </div>
        <button class="new" onClick={() => setPanel(panel === 'new' ? 'none' : 'new')}>
          + New conversation
        </button>
        {SECTIONS.map(([key, label]) => {
          const list = sorted.filter((c) => sectionOf(c) === key);
          const unseen = list.reduce((n, c) => n + c.unseen, 0);
          return (
            <section key={key} class="section" data-section={key}>
              <h2>
                {label} {unseen > 0 && <span class="count" data-testid={`unseen-${key}`}>{unseen}</span>}
              </h2>
              {list.length === 0 && <p class="none">Nothing here</p>}
              {list.map((c) => (
                <button key={c.id} class={`conv ${c.id === selected ? 'active' : ''}`} data-conversation={c.id} onClick={() => setSelected(c.id)}>
                  <span class="title">{titleOf(c)}</span>
                  {c.unseen > 0 && <span class="count">{c.unseen}</span>}
                </button>
              ))}
            </section>
          );
        })}
      </aside>
      <main class="main">
        {panel === 'preferences' && <Preferences helpdesk={helpdesk} onClose={() => setPanel('none')} />}
        {panel === 'new' && (
          <NewConversation
            directory={directory}
            me={me?.id ?? ''}
            onOpen={async (ids) => {
              const c = await client.open(ids);
              upsert(c);
              setSelected(c.id);
              setPanel('none');
            }}
          />
        )}
        {current ? (
          <ConversationView key={current.id} client={client} conversation={current} title={titleOf(current)} nameOf={nameOf} dot={dot} typists={typing.typists(current.id).filter((id) => id !== me?.id)} attended={() => alerts.attended()} />
        ) : (
          <p class="placeholder">Pick a conversation.</p>
        )}
      </main>
    </div>
  );
}

interface ViewProps {
  client: ParleyClient;
  conversation: Summary;
  title: string;
  nameOf: (id: string) => string;
  dot: (id: string) => preact.JSX.Element;
  typists: string[];
  attended: () => boolean;
}

/** One conversation: history and live messages, who saw our messages, typing, and the composer. */
function ConversationView({ client, conversation, title, nameOf, dot, typists }: ViewProps) {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const feed = useMemo(() => new ConversationFeed(client, conversation.id), [client, conversation.id]);
  const [receipts, setReceipts] = useState<Map<string, Receipt[]>>(new Map());
  const end = useRef<HTMLDivElement>(null);
  const me = client.participant?.id;

  useEffect(() => {
    const off = feed.subscribe(() => bump());
    void feed.load().then(refreshReceipts);
    const stop = markSeenWhileVisible(client, conversation.id);
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
    const mine = feed.rows().filter((r) => r.senderId === client.participant?.id && r.messageId).slice(-20);
    const answers = await Promise.all(mine.map(async (r) => [r.messageId!, await client.receipts(r.messageId!).catch(() => [])] as const));
    setReceipts(new Map(answers));
  }

  const rows = feed.rows();
  useEffect(() => end.current?.scrollIntoView({ block: 'end' }), [rows.length]);

  return (
    <section class="conversation" data-testid="conversation">
      <header>
        <h1>{title}</h1>
        <div class="members">
          {conversation.members.map((id) => (
            <span key={id} class="member">
              {dot(id)}
              {nameOf(id)}
            </span>
          ))}
        </div>
      </header>
      <div class="messages">
        {rows.map((r) => {
          const mine = r.senderId === me;
          const rs = r.messageId ? receipts.get(r.messageId) : undefined;
          return (
            <div key={r.key} class={`msg ${mine ? 'mine' : 'theirs'} ${r.state}`} data-testid="message">
              <div class="head">
                <strong>{mine ? 'You' : nameOf(r.senderId)}</strong> <time>{formatTime(r.createdAt)}</time>
              </div>
              <div class="body">{r.body}</div>
              {mine && <Status state={r.state} receipts={rs} nameOf={nameOf} error={r.error} />}
            </div>
          );
        })}
        <div ref={end} />
      </div>
      <div class="typing">{typists.length > 0 && `${typists.map(nameOf).join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…`}</div>
      {/* A refused send shows as a failed row (the outgoing event), so its rejection needs no handler here. */}
      <Composer label="Message" onSend={(body) => client.send(conversation.id, body).catch(() => {})} onTyping={() => client.typing(conversation.id)} />
    </section>
  );
}

/** Delivered, seen by whom, emailed to whom: what the hub's receipts say of one of our messages. */
function Status({ state, receipts, nameOf, error }: { state: string; receipts: Receipt[] | undefined; nameOf: (id: string) => string; error?: string | undefined }) {
  if (state === 'pending') return <div class="status">Sending…</div>;
  if (state === 'failed') return <div class="status failed">Not sent{error ? `: ${error}` : ''}</div>;
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

/** Start a direct conversation: type `@` and a name, pick people, open. */
function NewConversation({ directory, me, onOpen }: { directory: Directory; me: string; onOpen: (ids: string[]) => Promise<void> }) {
  const [picked, setPicked] = useState<string[]>([]);
  const [input, setInput] = useState('');
  const [error, setError] = useState<string | null>(null);
  const query = /@([^@\s]*)$/.exec(input)?.[1];
  const matches =
    query === undefined
      ? []
      : directory.participants.filter((p) => p.id !== me && p.kind !== 'bot' && !picked.includes(p.id) && (p.name.toLowerCase().includes(query.toLowerCase()) || p.id.includes(query))).slice(0, 8);
  const nameOf = (id: string) => directory.participants.find((p) => p.id === id)?.name ?? id;
  return (
    <div class="new-conversation">
      <div class="chips">
        {picked.map((id) => (
          <span key={id} class="chip">
            {nameOf(id)}
            <button aria-label={`Remove ${nameOf(id)}`} onClick={() => setPicked(picked.filter((x) => x !== id))}>
              ×
            </button>
          </span>
        ))}
        <input aria-label="People" placeholder="Type @ and a name" value={input} autoFocus onInput={(e) => setInput((e.target as HTMLInputElement).value)} />
      </div>
      {matches.length > 0 && (
        <ul class="suggestions" role="listbox">
          {matches.map((p) => (
            <li key={p.id} role="option">
              <button
                onClick={() => {
                  setPicked([...picked, p.id]);
                  setInput('');
                }}
              >
                {p.name} <small>{p.kind === 'customer' ? 'customer' : 'agent'}</small>
              </button>
            </li>
          ))}
        </ul>
      )}
      <button class="primary" disabled={picked.length === 0} onClick={() => onOpen(picked).catch((e: unknown) => setError(String(e)))}>
        Start conversation
      </button>
      {error && <p class="error">{error}</p>}
    </div>
  );
}
