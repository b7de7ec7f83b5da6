/**
 * The agent messenger, served by the hub at /app/. The host app opens it as
 * `/app/#helpdesk=<host app origin>&token=<the agent's Parley token>`; the page keeps both in
 * sessionStorage and clears them from the address bar.
 */
import { render } from 'preact';
import { ParleyClient, trackPresence } from '../../client-sdk/browser.js';
import { App } from './app.js';
import { Helpdesk } from './helpdesk.js';

const STORAGE_KEY = 'parley-agent';

function session(): { token: string; helpdesk: string } | null {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('token');
  const helpdesk = hash.get('helpdesk');
  if (token && helpdesk) {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token, helpdesk }));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const saved = sessionStorage.getItem(STORAGE_KEY);
  return saved ? (JSON.parse(saved) as { token: string; helpdesk: string }) : null;
}

const mount = document.getElementById('app')!;
const s = session();
if (!s) {
  mount.innerHTML = '<p class="signed-out">Open the messenger from your helpdesk to sign in.</p>';
} else {
  let token = s.token;
  const helpdesk = new Helpdesk(s.helpdesk, () => token);
  let first = true;
  const client = new ParleyClient({
    url: `${location.origin.replace(/^http/, 'ws')}/v1/ws`,
    // The first connect uses the token from the helpdesk; later ones (after it expired) ask for a new one.
    token: async () => {
      if (!first) token = await helpdesk.renewToken();
      first = false;
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token, helpdesk: s.helpdesk }));
      return token;
    },
    clientInfo: { name: 'parley-agent' },
  });
  trackPresence(client);
  render(<App client={client} helpdesk={helpdesk} />, mount);
  client.connect().catch((err: unknown) => console.error('parley: could not connect', err));
}
