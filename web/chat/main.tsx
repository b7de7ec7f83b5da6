/**
 * The customer page (PARLEY_CUSTOMER_URL, served by the hub at /chat/): a customer's escalation email
 * links here with `#link=<signed link>` for one (customer, conversation). The page trades the link for
 * a session token at `POST /chat/session` (again whenever the token needs refreshing, until the link
 * expires), then shows that conversation: history, new messages, typing, seen marks, and a composer.
 * The link stays in the fragment, which browsers never send to a server or in a Referer.
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ParleyClient, type Summary } from '../../client-sdk/browser.js';
import { TypingTracker } from '../shared/conversation.js';
import { ConnectionBanner, ConversationView, customerTitle, useConnection } from '../widget/views.js';

interface Session {
  token: string;
  conversationId: string;
  expiresAt: number;
}

/** A refusal of the link, as the customer reads it. */
class LinkError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const link = new URLSearchParams(location.hash.replace(/^#/, '')).get('link');

async function exchange(l: string): Promise<Session> {
  let res: Response;
  try {
    res = await fetch('/chat/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ link: l }) });
  } catch {
    throw new LinkError('offline', 'We cannot reach the chat right now.');
  }
  const body = (await res.json().catch(() => ({}))) as Partial<Session> & { error?: { code: string } };
  if (res.ok && body.token && body.conversationId) return body as Session;
  const code = body.error?.code ?? 'internal';
  throw new LinkError(code, code === 'token_expired' ? 'This link has expired.' : code === 'forbidden' ? 'This conversation is not available.' : code === 'unavailable' || code === 'internal' ? 'We cannot reach the chat right now.' : 'This link is not valid.');
}

function Notice({ title, children }: { title: string; children?: preact.ComponentChildren }) {
  return (
    <div class="page">
      <div class="notice" role="alert">
        <h1>{title}</h1>
        {children}
      </div>
    </div>
  );
}

function App() {
  const [first, setFirst] = useState<Session | null>(null);
  const [error, setError] = useState<LinkError | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!link) return;
    setError(null);
    exchange(link).then(setFirst, (e: LinkError) => setError(e));
  }, [attempt]);
  if (!link) return <Notice title="This link is not complete">Open the link from your email again; it may have been cut short.</Notice>;
  if (error)
    return (
      <Notice title={error.message}>
        {error.code === 'token_expired' || error.code === 'unauthenticated' ? (
          <p>Links in our emails work for a few days. Open our latest email, or reply to it and we will get back to you.</p>
        ) : (
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        )}
      </Notice>
    );
  if (!first) return <Notice title="Opening your conversation…" />;
  return <Chat session={first} />;
}

function Chat({ session }: { session: Session }) {
  const client = useMemo(
    () =>
      new ParleyClient({
        url: `${location.origin.replace(/^http/, 'ws')}/v1/ws`,
        // The first token, then a fresh one from the link whenever the hub needs it.
        token: (() => {
          let given: string | null = session.token;
          return async () => {
            const t = given ?? (await exchange(link!)).token;
            given = null;
            return t;
          };
        })(),
        clientInfo: { name: 'parley-chat-page' },
      }),
    [],
  );
  const typing = useMemo(() => new TypingTracker(client, () => {}), [client]);
  const { state, everOpen, refused } = useConnection(client, (code) =>
    ['unauthenticated', 'token_expired', 'forbidden', 'not_connected'].includes(code) ? 'We could not open your conversation. The link may have expired.' : null,
  );
  const [summary, setSummary] = useState<Summary | null>(null);
  useEffect(() => {
    const offs = [
      client.on('welcome', () => {
        void client.conversations({ limit: 200 }).then(({ conversations }) => setSummary(conversations.find((c) => c.id === session.conversationId) ?? null), () => {});
      }),
    ];
    client.connect().catch(() => {});
    return () => {
      offs.forEach((o) => o());
      client.close();
    };
  }, [client]);
  const title = summary ? customerTitle(summary, client.participant?.id ?? null) : 'Your conversation';
  useEffect(() => {
    document.title = title;
  }, [title]);
  return (
    <div class="page">
      <header>
        <div class="heading">
          <h1 class="title">{title}</h1>
          <span class="status">{state === 'open' ? 'Connected' : 'Offline'}</span>
        </div>
      </header>
      <ConnectionBanner state={state} everOpen={everOpen} refused={refused} onRetry={() => location.reload()} />
      <ConversationView client={client} conversationId={session.conversationId} typing={typing} agentLabel="Someone from the team" />
      <footer>You can close this page: replies also come by email.</footer>
    </div>
  );
}

render(<App />, document.getElementById('chat')!);
