import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { DEFAULT_ENV, hello, sleep } from '../support/abuse.js';
import { expectError, expectType, itemConversation, nextMillisecond, post } from '../support/ws.js';

/** Finding 10: the smaller findings of the review. */
describe('finding 10: smaller findings', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { ...DEFAULT_ENV } });
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('GET /app/ has a Content-Security-Policy with frame-ancestors, and nosniff', async () => {
    const res = await fetch(`${hub.url}/app/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/frame-ancestors\s+'none'/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/object-src 'none'/);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('PUT with Content-Type text/plain is 415 unsupported_media_type', async () => {
    const r = await hub.api('PUT', '/v1/participants/sm-plain', JSON.stringify({ kind: 'user', name: 'plain' }), { 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('unsupported_media_type');
    expect((await hub.api('GET', '/v1/participants/sm-plain')).status).toBe(404);
  });

  it("a session ends at its token's exp with token_expired (4001) unless it refreshed", async () => {
    await hub.user('sm-exp');
    const mint = async (ttlSeconds?: number) => (await hub.ok<{ token: string }>('POST', '/v1/tokens', { sub: 'sm-exp', ...(ttlSeconds ? { ttlSeconds } : {}) })).token;
    // The refreshing session's token first: it expires no later than the other's.
    const refreshing = await hello(hub, await mint(2));
    const lapsing = await hello(hub, await mint(2));
    expect(refreshing.first.t).toBe('welcome');
    expect(lapsing.first.t).toBe('welcome');
    const refreshed = expectType(await refreshing.client.request({ t: 'refresh', token: await mint() }, 'refreshed'), 'refreshed');
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);

    const close = await lapsing.client.waitClose(10_000);
    expect(close.code).toBe(4001);
    expectError(await lapsing.client.next('error'), 'token_expired');
    // The lapsing session's token expired no earlier than the refreshing one's: that one is past its old exp and stays.
    expect(refreshing.client.closed).toBeNull();
    await sleep(1200); // one more sweep of expired sessions
    await refreshing.client.sync();
    expect(refreshing.client.closed).toBeNull();
    expect(refreshing.client.queued('error')).toEqual([]);
  });

  it('a token minted before a participant was re-enabled is refused; a new one works', async () => {
    await hub.user('sm-reenabled');
    const old = await hub.token('sm-reenabled');
    const live = await hello(hub, old);
    expect(live.first.t).toBe('welcome');
    await sleep(1100); // iat has whole seconds
    await hub.ok('PUT', '/v1/participants/sm-reenabled', { kind: 'user', name: 'sm-reenabled', email: 'sm-reenabled@example.com', disabled: true });
    expectError(await live.client.next('error'), 'forbidden');
    expect((await live.client.waitClose()).code).toBe(4003);
    await hub.ok('PUT', '/v1/participants/sm-reenabled', { kind: 'user', name: 'sm-reenabled', email: 'sm-reenabled@example.com', disabled: false });

    const stale = await hello(hub, old);
    expectError(stale.first, 'unauthenticated');
    expect((await stale.client.waitClose()).code).toBe(4001);
    const fresh = await hello(hub, await hub.token('sm-reenabled'));
    expect(fresh.first.t).toBe('welcome');
  });

  it("an item's new customer reads only what was written after it became the customer", async () => {
    await hub.user('sm-agent');
    await hub.customer('sm-old');
    await hub.customer('sm-new');
    await hub.ok('PUT', '/v1/items/sm-item', { kind: 'ticket', title: 'Handover', customerId: 'sm-old' });
    const conv = await itemConversation(hub, 'sm-item', 'external');
    await nextMillisecond();
    await post(hub, conv.id, 'sm-agent', 'for the old customer only', 'h1');
    await post(hub, conv.id, 'sm-old', 'my private details', 'h2');
    await nextMillisecond();
    await hub.ok('PUT', '/v1/items/sm-item', { kind: 'ticket', title: 'Handover', customerId: 'sm-new' });
    await nextMillisecond();
    await post(hub, conv.id, 'sm-agent', 'welcome, new customer', 'h3');

    const fresh = await hub.connect('sm-new');
    const history = expectType(await fresh.request({ t: 'history', conversationId: conv.id, limit: 200 }, 'history'), 'history');
    expect(history.messages.map((m) => m.body)).toEqual(['welcome, new customer']);
    expect(history.hasMore).toBe(false);
    const before = expectType(await fresh.request({ t: 'history', conversationId: conv.id, before: 3 }, 'history'), 'history');
    expect(before.messages).toEqual([]);
    const after = expectType(await fresh.request({ t: 'history', conversationId: conv.id, after: 0 }, 'history'), 'history');
    expect(after.messages.map((m) => m.body)).toEqual(['welcome, new customer']);
    const list = expectType(await fresh.request({ t: 'conversations' }, 'conversations'), 'conversations');
    expect(list.conversations.find((c) => c.id === conv.id)).toMatchObject({ unseen: 1 });

    // The old customer no longer sees the conversation at all.
    const old = await hub.connect('sm-old');
    expectError(await old.request({ t: 'history', conversationId: conv.id }, 'history'), 'not_found');
  });
});
