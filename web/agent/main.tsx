/**
 * The agent messenger, served by the hub at /app/. The host app opens it as
 * `/app/#helpdesk=<host app origin>&token=<the agent's Parley token>[&route=/c/<conversationId>]`; the
 * page keeps both in sessionStorage, remembers the helpdesk's origin in localStorage, and replaces the
 * address with the route (`#/c/<id>`, `#/preferences`).
 *
 * A tab without a session (a link opened from an email, a new tab) asks the helpdesk for one:
 * `<helpdesk>/parley/sign-in?return=<route>`, which sends the agent back here signed in.
 */
import { render } from 'preact';
import { ParleyClient, trackPresence } from '../../client-sdk/browser.js';
import { App } from './app.js';
import { Helpdesk } from './helpdesk.js';

const STORAGE_KEY = 'parley-agent';
const HELPDESK_KEY = 'parley-agent-helpdesk';
const REDIRECTED_KEY = 'parley-agent-sign-in-at';

function session(): { token: string; helpdesk: string } | null {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('token');
  const helpdesk = hash.get('helpdesk');
  if (token && helpdesk) {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token, helpdesk }));
    sessionStorage.removeItem(REDIRECTED_KEY);
    try {
      localStorage.setItem(HELPDESK_KEY, new URL(helpdesk).origin);
    } catch {
      // not a URL: nothing to remember
    }
    const route = hash.get('route');
    history.replaceState(null, '', location.pathname + location.search + (route && route.startsWith('/') ? `#${route}` : ''));
  }
  const saved = sessionStorage.getItem(STORAGE_KEY);
  return saved ? (JSON.parse(saved) as { token: string; helpdesk: string }) : null;
}

/** The route the person asked for: `/c/…` or `/preferences` ('' for the list). */
function route(): string {
  const h = location.hash.slice(1);
  return h.startsWith('/') ? h : '';
}

function signInUrl(helpdesk: string, returnTo: string): string {
  return `${helpdesk.replace(/\/$/, '')}/parley/sign-in?return=${encodeURIComponent(returnTo || '/')}`;
}

const mount = document.getElementById('app')!;
const s = session();
if (!s) {
  const helpdesk = localStorage.getItem(HELPDESK_KEY);
  const lastTry = Number(sessionStorage.getItem(REDIRECTED_KEY) ?? 0);
  if (helpdesk && Date.now() - lastTry > 15_000) {
    // Once per 15 s, so a helpdesk that cannot sign us in does not bounce the tab forever.
    sessionStorage.setItem(REDIRECTED_KEY, String(Date.now()));
    mount.innerHTML = '<p class="signed-out" role="status">Signing you in through your helpdesk…</p>';
    location.replace(signInUrl(helpdesk, route()));
  } else {
    render(
      <main class="signed-out" data-testid="signed-out">
        <h1>You are not signed in to the messenger</h1>
        {helpdesk ? (
          <p>
            Your helpdesk did not sign you in. <a href={signInUrl(helpdesk, route())}>Try signing in again</a>, or open the messenger from your helpdesk.
          </p>
        ) : (
          <p>Open the messenger from your helpdesk (its “Messenger” link or button): it signs you in and brings you back here.</p>
        )}
      </main>,
      mount,
    );
  }
} else {
  let token = s.token;
  const helpdesk = new Helpdesk(s.helpdesk, () => token);
  let first = true;
  const client = new ParleyClient({
    url: `${location.origin.replace(/^http/, 'ws')}/v1/ws`,
    // The first connect uses the token from the helpdesk; later ones (after it expired) ask for a new one.
    token: async () => {
      if (!first) {
        try {
          token = await helpdesk.renewToken();
        } catch (err) {
          const refused = /: 40[13]$/.test(String((err as Error).message));
          dispatchEvent(
            new CustomEvent('parley-auth-failed', {
              detail: refused ? 'Your sign-in has expired or is not valid. Sign in again to keep chatting.' : 'Your helpdesk could not renew your sign-in. Retrying…',
            }),
          );
          throw err;
        }
      }
      first = false;
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token, helpdesk: s.helpdesk }));
      return token;
    },
    clientInfo: { name: 'parley-agent' },
  });
  trackPresence(client);
  const signIn = (returnTo: string) => {
    sessionStorage.removeItem(STORAGE_KEY);
    sessionStorage.setItem(REDIRECTED_KEY, String(Date.now()));
    location.assign(signInUrl(s.helpdesk, returnTo));
  };
  render(<App client={client} helpdesk={helpdesk} signIn={signIn} />, mount);
  client.connect().catch((err: unknown) => console.error('parley: could not connect', err));
}
