import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JoseTokens } from '../../server/adapters/jwt/jose-tokens.js';
import { expectHttpError } from '../support/expect-http.js';
import { API_KEY, JWT_SECRET, TestHub } from '../support/hub.js';
import { direct, expectError, expectNoViolations, expectType, helloWith, send, signToken } from '../support/ws.js';

/**
 * The security review's rules: SPEC §3 Text (well-formed, not blank) over WebSocket and HTTP, SPEC §4
 * bodies only as application/json (415), and SPEC §4/§6 page headers (CSP, nosniff, no referrer).
 */

let hub: TestHub;
beforeAll(async () => {
  hub = await TestHub.start();
  for (const id of ['alice', 'bob']) await hub.user(id);
  await hub.customer('unsub-carol');
});
afterAll(() => hub.stop());

/** Blank look-alikes and invisible text: every one is `invalid` as a body or a name. */
const BLANKS: Array<[string, string]> = [
  ['U+200B zero-width space', '\u200b'],
  ['U+3164 Hangul filler', '\u3164'],
  ['U+2800 braille blank', '\u2800'],
  ['U+115F U+1160 Hangul fillers', '\u115f\u1160'],
  ['U+FFA0 halfwidth Hangul filler', '\uffa0'],
  ['U+2060 U+FEFF joiners', '\u2060\ufeff'],
  ['U+00AD soft hyphen', '\u00ad'],
  ['U+180E Mongolian vowel separator', '\u180e'],
  ['variation selector and tags', '\ufe0f\u{e0020}\u{e007f}'],
  ['spaces and fillers', ' \u3164 \u200b '],
];

async function rawHttp(method: string, path: string, body: string | undefined, contentType: string | null, authorization: string | null = `Bearer ${API_KEY}`) {
  const headers: Record<string, string> = {};
  if (contentType !== null) headers['content-type'] = contentType;
  if (authorization !== null) headers.authorization = authorization;
  const res = await fetch(hub.url + path, { method, headers, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * A fresh user with one session and a direct conversation with bob: limits are per participant
 * (SPEC §3), so every test writes as someone of its own.
 */
let writers = 0;
async function writer() {
  const id = `writer-${++writers}`;
  await hub.user(id);
  const conv = await direct(hub, id, ['bob']);
  return { conv, alice: await hub.connect(id) };
}

describe('SPEC §3 Text over WebSocket', () => {
  it('a send with a lone surrogate in the body is answered invalid with re and stores nothing', async () => {
    const { conv, alice } = await writer();
    // JSON.stringify writes a lone surrogate as the escape \ud800, which JSON.parse turns back into one.
    expectError(await alice.request({ t: 'send', id: 'ls-1', conversationId: conv.id, clientMsgId: 'ls1', body: 'broken \ud800 text' }), 'invalid', 'ls-1');
    expectError(await alice.request({ t: 'send', id: 'ls-2', conversationId: conv.id, clientMsgId: 'ls2', body: '\udc00' }), 'invalid', 'ls-2');
    const h = expectType(await alice.request({ t: 'history', conversationId: conv.id }, 'history'), 'history');
    expect(h.messages).toEqual([]);
    expectNoViolations(alice);
  });

  it('a send with a lone surrogate in the clientMsgId is answered invalid, not stored, not echoed', async () => {
    const { conv, alice } = await writer();
    expectError(await alice.request({ t: 'send', id: 'lc-1', conversationId: conv.id, clientMsgId: 'm\ud83d', body: 'fine text' }), 'invalid', 'lc-1');
    const h = expectType(await alice.request({ t: 'history', conversationId: conv.id }, 'history'), 'history');
    expect(h.messages).toEqual([]);
  });

  it('an open with a lone surrogate in the subject is answered invalid', async () => {
    const { alice } = await writer();
    expectError(await alice.request({ t: 'open', id: 'lo-1', members: ['bob'], subject: 'Re: \ud800' }), 'invalid', 'lo-1');
  });

  it.each(BLANKS)('a body of only %s is answered invalid with re and stores nothing', async (_name, body) => {
    const { conv, alice } = await writer();
    expectError(await alice.request({ t: 'send', id: 'blank-1', conversationId: conv.id, clientMsgId: 'b1', body }), 'invalid', 'blank-1');
    const h = expectType(await alice.request({ t: 'history', conversationId: conv.id }, 'history'), 'history');
    expect(h.messages).toEqual([]);
    expectNoViolations(alice);
  });

  it('bodies with visible text among invisible code points, emoji sequences and astral text pass unchanged', async () => {
    const { conv, alice } = await writer();
    for (const [i, body] of ['\u200bhi\u200b', '❤\ufe0f', '👩\u200d💻', '𝒳 \u{1f600}'].entries()) {
      const ack = await send(alice, conv.id, body, `ok-${i}`);
      expect(ack.t).toBe('ack');
    }
    const h = expectType(await alice.request({ t: 'history', conversationId: conv.id }, 'history'), 'history');
    expect(h.messages.map((m) => m.body)).toEqual(['\u200bhi\u200b', '❤\ufe0f', '👩\u200d💻', '𝒳 \u{1f600}']);
    expect(h.messages.some((m) => m.body.includes('\ufffd'))).toBe(false);
  });

  it.each([
    ['spaces', '   '],
    ['U+3164', '\u3164'],
    ['a lone surrogate', 'Eve \ud800'],
  ])('a token that would create a participant named %s is refused', async (_name, name) => {
    const token = await signToken(`jit-${Buffer.from(name).toString('hex').slice(0, 16)}`, { kind: 'customer', name });
    const { first } = await helloWith(hub, token);
    expectError(first, 'unauthenticated');
  });
});

describe('SPEC §3 Text over HTTP', () => {
  it.each([
    ['spaces', '   '],
    ['U+3164', '\u3164'],
    ['U+200B', '\u200b'],
    ['U+2800', '\u2800'],
    ['tabs and newlines', '\t\n'],
    ['a lone surrogate', 'Ann \ud800'],
  ])('PUT /v1/participants/{id} with a name of %s is 400 invalid', async (_name, name) => {
    const r = await hub.api('PUT', '/v1/participants/blank-name', { kind: 'user', name });
    expectHttpError(r, 400, 'invalid');
    expect((await hub.api('GET', '/v1/participants/blank-name')).status).toBe(404);
  });

  it('PUT /v1/projects/{id} with a blank name is 400 invalid', async () => {
    expectHttpError(await hub.api('PUT', '/v1/projects/p-blank', { name: '\u3164\u200b' }), 400, 'invalid');
  });

  it('POST messages with a blank or ill-formed body or clientMsgId is 400 invalid and stores nothing', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    const path = `/v1/conversations/${conv.id}/messages`;
    for (const [body, clientMsgId] of [
      ['\u2800', 'h1'],
      ['\u3164', 'h2'],
      ['\u200b', 'h3'],
      ['hi \ud800', 'h4'],
      ['hi', 'h5\udc00'],
    ]) {
      expectHttpError(await hub.api('POST', path, { senderId: 'alice', body, clientMsgId }), 400, 'invalid');
    }
    expect((await hub.ok('GET', path)).messages).toEqual([]);
  });

  it('a lone surrogate anywhere in an item is 400 invalid, keys included', async () => {
    expectHttpError(await hub.api('PUT', '/v1/items/i-ls1', { kind: 'ticket', title: 'T', fields: { note: 'x\ud800' } }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/items/i-ls2', { kind: 'ticket', title: 'T', fields: { ['k\udc00']: 'x' } }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/items/i-ls3', { kind: 'ticket', title: 'T\ud800' }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/items/i-ls4', { kind: 'ticket', title: 'T', queue: '\ud800' }), 400, 'invalid');
    expect((await hub.api('PUT', '/v1/items/i-ok', { kind: 'ticket', title: 'T 😀', fields: { note: '🇨🇭' } })).status).toBe(200);
  });

  it('a lone surrogate in a body whose schema the core checks (preferences) is 400 invalid', async () => {
    expectHttpError(await hub.api('PATCH', '/v1/participants/alice/preferences', { email: { optOut: false }, ['\ud800']: 1 }), 400, 'invalid');
  });
});

describe('SPEC §4 bodies are application/json', () => {
  const person = JSON.stringify({ kind: 'user', name: 'Media Type' });

  it('a text/plain PUT /v1/participants/x is 415 unsupported_media_type and changes nothing', async () => {
    const r = await rawHttp('PUT', '/v1/participants/x', person, 'text/plain');
    expectHttpError(r, 415, 'unsupported_media_type');
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await hub.api('GET', '/v1/participants/x')).status).toBe(404);
  });

  it.each([
    ['no content type', null],
    ['form data', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['text/json', 'text/json'],
    ['a JSON suffix type', 'application/merge-patch+json'],
    ['a non-UTF-8 charset', 'application/json; charset=iso-8859-1'],
    ['another parameter', 'application/json; profile=x'],
  ])('a body with %s is 415', async (_name, type) => {
    expectHttpError(await rawHttp('PUT', '/v1/participants/x', person, type), 415, 'unsupported_media_type');
  });

  it.each([
    ['application/json', 'application/json'],
    ['a charset parameter', 'application/json; charset=utf-8'],
    ['upper case and a quoted charset', 'Application/JSON;charset="UTF-8"'],
  ])('a body with %s is taken', async (_name, type) => {
    const r = await rawHttp('PUT', '/v1/participants/mt-ok', person, type);
    expect(r.status).toBe(200);
    expect(r.body.name).toBe('Media Type');
  });

  it('holds on every route that takes a JSON body', async () => {
    const conv = await direct(hub, 'alice', ['bob']);
    for (const [method, path, body] of [
      ['PATCH', '/v1/participants/alice/preferences', { email: { optOut: false } }],
      ['PUT', '/v1/projects/mt-p', { name: 'P' }],
      ['PUT', '/v1/items/mt-i', { kind: 'ticket', title: 'T' }],
      ['POST', '/v1/conversations', { kind: 'direct', createdBy: 'alice', members: ['bob'] }],
      ['POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'alice', body: 'hi', clientMsgId: 'mt-1' }],
      ['POST', '/v1/tokens', { sub: 'alice' }],
    ] as const) {
      expectHttpError(await rawHttp(method, path, JSON.stringify(body), 'text/plain;charset=UTF-8'), 415, 'unsupported_media_type');
    }
  });

  it('checks the API key first: a wrong key with a wrong type is 401', async () => {
    expectHttpError(await rawHttp('PUT', '/v1/participants/x', person, 'text/plain', 'Bearer wrong-key-0000000000000000'), 401, 'unauthenticated');
  });

  it('API answers carry nosniff, successes and errors alike', async () => {
    const ok = await rawHttp('GET', '/v1/participants/alice', undefined, null);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    const missing = await rawHttp('GET', '/v1/participants/nobody-here', undefined, null);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
    const unmatched = await rawHttp('GET', '/no/such/route', undefined, null, null);
    expect(unmatched.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

/** Parse a CSP header into directive → sources. */
function csp(header: string | null): Record<string, string[]> {
  expect(header).toBeTruthy();
  const out: Record<string, string[]> = {};
  for (const part of header!.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name.toLowerCase()] = sources;
  }
  return out;
}

function expectPageHeaders(headers: Headers, frameAncestors = ["'none'"]): Record<string, string[]> {
  const p = csp(headers.get('content-security-policy'));
  expect(p['default-src']).toEqual(["'self'"]);
  expect(p['script-src']).toEqual(["'self'"]);
  expect(p['object-src']).toEqual(["'none'"]);
  expect(p['base-uri']).toEqual(["'none'"]);
  expect(p['frame-ancestors']).toEqual(frameAncestors);
  for (const sources of Object.values(p)) {
    expect(sources).not.toContain("'unsafe-inline'");
    expect(sources).not.toContain("'unsafe-eval'");
  }
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  return p;
}

describe('SPEC §4 pages carry CSP, nosniff and no-referrer', () => {
  it('the agent app at /app/', async () => {
    const res = await fetch(hub.url + '/app/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expectPageHeaders(res.headers);
    // The page needs nothing inline: its script and style come from the hub.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('static assets, a 304 revalidation and HEAD alike', async () => {
    for (const path of ['/app/app.js', '/app/app.css', '/app/index.html', '/widget.js', '/sdk/parley-client.js']) {
      const res = await fetch(hub.url + path);
      expect(res.status, path).toBe(200);
      expectPageHeaders(res.headers);
      const again = await fetch(hub.url + path, { headers: { 'if-none-match': res.headers.get('etag')! } });
      expect(again.status, path).toBe(304);
      expectPageHeaders(again.headers);
    }
    // HEAD states the length of what GET sends, and the hub lives on (it used to abort on HEAD).
    const head = await fetch(hub.url + '/app/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expectPageHeaders(head.headers);
    const get = await fetch(hub.url + '/app/');
    expect(head.headers.get('content-length')).toBe(String((await get.arrayBuffer()).byteLength));
  });

  it('the unsubscribe pages: confirm, done and not valid; their one inline style is allowed by its hash only', async () => {
    const token = new JoseTokens({ secret: JWT_SECRET }).signUnsubscribe('unsub-carol');
    const confirm = await fetch(`${hub.url}/u/${token}`);
    expect(confirm.status).toBe(200);
    const page = await confirm.text();
    const p = expectPageHeaders(confirm.headers);
    const style = /<style>([^<]*)<\/style>/.exec(page)![1]!;
    expect(p['style-src']).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(p['form-action']).toEqual(["'self'"]);

    // The one-click POST is form data (RFC 8058): it takes no JSON and is not refused with 415.
    const done = await fetch(`${hub.url}/u/${token}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(done.status).toBe(200);
    expectPageHeaders(done.headers);
    expect((await hub.ok('GET', '/v1/participants/unsub-carol/preferences')).email.optOut).toBe(true);

    const invalid = await fetch(`${hub.url}/u/not-a-token.AAAAAAAAAAAAAAAAAAAAAA`);
    expect(invalid.status).toBe(404);
    expectPageHeaders(invalid.headers);
  });
});

describe('PARLEY_FRAME_ANCESTORS', () => {
  it("sets frame-ancestors of every page; the default is 'none'", async () => {
    const framed = await TestHub.start({ env: { PARLEY_FRAME_ANCESTORS: "'self' https://helpdesk.example.com" } });
    try {
      await framed.customer('fa-carol');
      const ancestors = ["'self'", 'https://helpdesk.example.com'];
      expectPageHeaders((await fetch(framed.url + '/app/')).headers, ancestors);
      expectPageHeaders((await fetch(framed.url + '/app/app.js')).headers, ancestors);
      const token = new JoseTokens({ secret: JWT_SECRET }).signUnsubscribe('fa-carol');
      expectPageHeaders((await fetch(`${framed.url}/u/${token}`)).headers, ancestors);
    } finally {
      await framed.stop();
    }
  });

  it('refuses a value that could end the directive', async () => {
    await expect(TestHub.start({ env: { PARLEY_FRAME_ANCESTORS: "'self'; script-src *" } })).rejects.toThrow(/PARLEY_FRAME_ANCESTORS/);
  });
});
