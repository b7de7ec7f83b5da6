/**
 * A demo host app ("helpdesk"): what a real helpdesk does for Parley, in one small HTTP server. It
 * holds the hub's API key, so browsers never do. It
 *   - tells the hub about people, a project and a ticket (seedDemo),
 *   - serves a product page with the chat widget's script tag and mints the visitor's token,
 *   - signs agents into the agent app (GET /agent/:id redirects there with a token, and remembers the
 *     agent in a cookie; GET /parley/sign-in?return=/c/… signs that agent in again and sends them to
 *     the route — the agent app goes there when a tab has no session, e.g. a link from an email),
 *   - answers the agent app's directory and preferences calls (the contract in web/agent/helpdesk.ts),
 *     adding to the preferences the names, tooltips and mandatory marks of the notification rules in them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';

export interface DemoPerson {
  id: string;
  name: string;
  kind: 'user' | 'customer';
  email: string;
}

export const DEMO_PEOPLE: DemoPerson[] = [
  { id: 'alice', name: 'Alice Martin', kind: 'user', email: 'alice@helpdesk.test' },
  { id: 'bob', name: 'Bob Chen', kind: 'user', email: 'bob@helpdesk.test' },
  { id: 'carol', name: 'Carol Diaz', kind: 'customer', email: 'carol@customer.test' },
];
export const DEMO_CUSTOMER = 'carol';
export const DEMO_TICKET = { id: 'T-1001', number: '1001', title: 'Printer smokes when printing in colour' };

export interface HubAccess {
  /** The hub's base URL, e.g. http://127.0.0.1:8080. */
  hubUrl: string;
  apiKey: string;
  jwtSecret: string;
}

export async function hubCall<T>(hub: HubAccess, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(hub.hubUrl + path, {
    method,
    headers: { authorization: `Bearer ${hub.apiKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface DemoData {
  internalConversationId: string;
  externalConversationId: string;
}

/**
 * People, a project and a ticket with an internal and an external conversation, each with a first
 * message. Idempotent: pass the ids of an earlier run and nothing is created twice (messages carry
 * fixed clientMsgIds, which the hub deduplicates).
 */
export async function seedDemo(hub: HubAccess, earlier?: Partial<DemoData>): Promise<DemoData> {
  for (const p of DEMO_PEOPLE) await hubCall(hub, 'PUT', `/v1/participants/${p.id}`, { kind: p.kind, name: p.name, email: p.email });
  await hubCall(hub, 'PUT', '/v1/projects/printers', { name: 'Printers', followers: ['alice', 'bob'] });
  await hubCall(hub, 'PUT', `/v1/items/${DEMO_TICKET.id}`, {
    kind: 'ticket',
    title: DEMO_TICKET.title,
    number: DEMO_TICKET.number,
    projectId: 'printers',
    customerId: DEMO_CUSTOMER,
    ownerId: 'alice',
    responsibleId: 'alice',
    followers: ['bob'],
  });
  const conversation = async (visibility: 'internal' | 'external', id: string | undefined): Promise<string> => {
    if (id) {
      const res = await fetch(`${hub.hubUrl}/v1/conversations/${id}`, { headers: { authorization: `Bearer ${hub.apiKey}` } });
      if (res.ok) return id;
    }
    return (await hubCall<{ id: string }>(hub, 'POST', '/v1/conversations', { kind: 'item', itemId: DEMO_TICKET.id, visibility })).id;
  };
  const data: DemoData = {
    externalConversationId: await conversation('external', earlier?.externalConversationId),
    internalConversationId: await conversation('internal', earlier?.internalConversationId),
  };
  const post = (conversationId: string, senderId: string, body: string, clientMsgId: string) => hubCall(hub, 'POST', `/v1/conversations/${conversationId}/messages`, { senderId, body, clientMsgId });
  await post(data.externalConversationId, DEMO_CUSTOMER, 'Hi, my printer starts smoking whenever I print in colour. What should I do?', 'demo-1');
  await post(data.internalConversationId, 'bob', 'Heads up: the same model had a recall last month. Check the serial number before replying.', 'demo-2');
  return data;
}

/**
 * What the agent app shows of the notification rules in an agent's preferences (the hub's preferences
 * name only their ids and transports): each definition shown to agents, with its name, its tooltip and
 * whether it is mandatory. A host app reads them with its API key from GET /v1/notification-definitions.
 */
export interface NotificationRuleInfo {
  id: string;
  name: string;
  tooltip: string | null;
  mandatory: boolean;
}

async function notificationRules(hub: HubAccess): Promise<NotificationRuleInfo[]> {
  const { definitions } = await hubCall<{ definitions: Array<{ id: string; name: string; agentPreferences: { visible: string; tooltip?: string } }> }>(hub, 'GET', '/v1/notification-definitions');
  return definitions
    .filter((d) => d.agentPreferences.visible !== 'no')
    .map((d) => ({ id: d.id, name: d.name, tooltip: d.agentPreferences.tooltip ?? null, mandatory: d.agentPreferences.visible === 'mandatory' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface Helpdesk {
  url: string;
  /** Signs `agentId` into the agent app. */
  agentUrl(agentId: string): string;
  close(): Promise<void>;
}

/** Starts the helpdesk on `port` (0: any free port). */
export async function startHelpdesk(opts: HubAccess & { port?: number; host?: string; title?: string }): Promise<Helpdesk> {
  const secret = new TextEncoder().encode(opts.jwtSecret);
  const mint = async (sub: string) => (await hubCall<{ token: string }>(opts, 'POST', '/v1/tokens', { sub, ttlSeconds: 12 * 3600 })).token;
  /** The agent behind a request: its Parley token, signed by the hub; expired ones only where allowed. */
  const agent = async (req: IncomingMessage, allowExpired = false): Promise<string | null> => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return null;
    try {
      const { payload } = await jwtVerify(m[1]!, secret, { algorithms: ['HS256'], ...(allowExpired ? { clockTolerance: 7 * 86400 } : {}) });
      const person = DEMO_PEOPLE.find((p) => p.id === payload.sub && p.kind === 'user');
      return person?.id ?? null;
    } catch {
      return null;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
  const send = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, content-type', 'access-control-allow-methods': 'GET, POST, PATCH' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return JSON.parse(text || '{}');
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://helpdesk');
    const route = `${req.method} ${url.pathname}`;
    if (req.method === 'OPTIONS') return send(res, 204, '');
    if (route === 'GET /favicon.ico') return send(res, 404, '');
    if (route === 'GET /') return send(res, 200, hostPage(opts.hubUrl, opts.title ?? 'Acme Printers'), 'text/html; charset=utf-8');
    if (route === 'GET /parley/customer-token') return send(res, 200, { token: await mint(DEMO_CUSTOMER) });
    const signIn = /^GET \/agent\/([\w.-]+)$/.exec(route);
    if (signIn || route === 'GET /parley/sign-in') {
      // The agent app asks here for a session (a link from an email, a new tab): the demo's signed-in
      // agent is the one named by ?agent=, else the one remembered in a cookie by GET /agent/:id.
      const cookie = /(?:^|;\s*)parley_demo_agent=([\w.-]+)/.exec(req.headers.cookie ?? '')?.[1];
      const id = signIn?.[1] ?? url.searchParams.get('agent') ?? cookie;
      const person = DEMO_PEOPLE.find((p) => p.id === id && p.kind === 'user');
      const back = url.searchParams.get('return') ?? '';
      const appRoute = back.startsWith('/') && back !== '/' ? `&route=${encodeURIComponent(back)}` : '';
      if (!person && signIn) return send(res, 404, { error: 'no such agent' });
      if (!person) {
        const links = DEMO_PEOPLE.filter((p) => p.kind === 'user')
          .map((p) => `<li><a href="/agent/${p.id}?return=${encodeURIComponent(back)}">${p.name}</a></li>`)
          .join('');
        return send(res, 200, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in</title></head><body><h1>Sign in to the messenger as</h1><ul>${links}</ul></body></html>`, 'text/html; charset=utf-8');
      }
      res.writeHead(302, {
        location: `${opts.hubUrl}/app/#helpdesk=${encodeURIComponent(helpdesk.url)}&token=${await mint(person.id)}${appRoute}`,
        'set-cookie': `parley_demo_agent=${person.id}; Path=/; HttpOnly; SameSite=Lax`,
      });
      return void res.end();
    }
    if (route === 'POST /parley/token') {
      const id = await agent(req, true);
      return id ? send(res, 200, { token: await mint(id) }) : send(res, 401, { error: 'sign in again' });
    }
    const id = await agent(req);
    if (!id) return send(res, 401, { error: 'missing or bad token' });
    if (route === 'GET /parley/directory') {
      return send(res, 200, { participants: DEMO_PEOPLE.map(({ id, name, kind }) => ({ id, name, kind })), items: [{ id: DEMO_TICKET.id, title: DEMO_TICKET.title, number: DEMO_TICKET.number, customerId: DEMO_CUSTOMER }] });
    }
    // The hub's preferences, with what the agent app shows of each notification rule in them.
    if (route === 'GET /parley/preferences') return send(res, 200, { ...(await hubCall<object>(opts, 'GET', `/v1/participants/${id}/preferences`)), notificationRules: await notificationRules(opts) });
    if (route === 'PATCH /parley/preferences') {
      // The hub's refusal (400 with its reason, e.g. a mandatory rule left without a transport) goes back as it is.
      const hub = await fetch(`${opts.hubUrl}/v1/participants/${id}/preferences`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(await readJson(req)),
      });
      const body = (await hub.json()) as object;
      return send(res, hub.status, hub.ok ? { ...body, notificationRules: await notificationRules(opts) } : body);
    }
    send(res, 404, { error: 'not found' });
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const helpdesk: Helpdesk = {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    agentUrl: (agentId) => `${helpdesk.url}/agent/${agentId}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return helpdesk;
}

function hostPage(hubUrl: string, title: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{font:16px/1.5 Georgia,serif;max-width:720px;margin:48px auto;padding:0 16px;color:#333}h1{color:#b03a2e}pre{white-space:pre-wrap;overflow-wrap:anywhere}</style></head>
<body>
<h1>${title}</h1>
<p>This is the host app's own page. The chat bubble in the corner is Parley's widget, added with one script tag:</p>
<pre>&lt;script src="${hubUrl}/widget.js" data-token-url="/parley/customer-token" async&gt;&lt;/script&gt;</pre>
<p>You are signed in as Carol, a customer. Write to the team; agents answer in the agent app.</p>
<script src="${hubUrl}/widget.js" data-token-url="/parley/customer-token" async></script>
</body>
</html>`;
}
