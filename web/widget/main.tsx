/**
 * The customer chat widget: one script tag on the host's page.
 *
 *   <script src="https://chat.example.com/widget.js" data-token-url="/parley/token" async></script>
 *
 * `data-token-url` is an endpoint of the host app that answers the visitor's token (JSON `{token}` or
 * plain text); `data-token` gives one directly; `data-hub` overrides the hub (default: this script's
 * origin). Everything renders inside a shadow root, so the page's CSS cannot reach it.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ParleyClient } from '../../client-sdk/browser.js';
import { Widget } from './widget.js';
import { WIDGET_CSS } from './styles.js';

const script = document.currentScript as HTMLScriptElement | null;
const data = script?.dataset ?? {};
const hub = data['hub'] ?? (script?.src ? new URL(script.src).origin : location.origin);
const tokenUrl = data['tokenUrl'];
const staticToken = data['token'];

async function fetchToken(): Promise<string> {
  const res = await fetch(tokenUrl!, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
  const text = await res.text();
  try {
    return (JSON.parse(text) as { token: string }).token;
  } catch {
    return text.trim();
  }
}

function newClient(): ParleyClient {
  return new ParleyClient({
    url: `${hub.replace(/^http/, 'ws')}/v1/ws`,
    token: tokenUrl ? fetchToken : staticToken!,
    clientInfo: { name: 'parley-widget' },
  });
}

/** The widget with its client; "Try again" after a refusal starts over with a fresh client. */
function Root() {
  const [session, setSession] = useState(() => ({ client: newClient(), open: false, n: 0 }));
  useEffect(() => {
    session.client.connect().catch((err: unknown) => console.error('parley widget: could not connect', err));
    return () => session.client.close();
  }, [session.client]);
  return <Widget key={session.n} client={session.client} initiallyOpen={session.open} onRetry={(open) => setSession((s) => ({ client: newClient(), open, n: s.n + 1 }))} />;
}

if (!tokenUrl && !staticToken) {
  console.error('parley widget: give the script tag data-token-url or data-token');
} else {
  const host = document.createElement('div');
  host.id = 'parley-widget';
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: 'open' });
  const style = document.createElement('style');
  style.textContent = WIDGET_CSS;
  root.appendChild(style);
  const mount = document.createElement('div');
  root.appendChild(mount);
  render(<Root />, mount);
}
