import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USER_PREFERENCES } from '../../protocol/index.js';
import { TestHub } from '../support/hub.js';

describe('the host HTTP API', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
  });
  afterAll(() => hub.stop());

  const expectError = (r: { status: number; body: any }, status: number, code: string) => {
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.message).toBe('string');
  };

  describe('participants', () => {
    it('creates with defaults, and PUT replaces the whole resource', async () => {
      const created = await hub.api('PUT', '/v1/participants/p.1@x', { kind: 'user', name: 'Pat', email: 'pat@example.com', locale: 'de', groups: ['g'], outOfOffice: true });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ id: 'p.1@x', kind: 'user', name: 'Pat', email: 'pat@example.com', locale: 'de', timezone: 'UTC', groups: ['g'], roles: [], outOfOffice: true, disabled: false });
      const replaced = await hub.ok('PUT', '/v1/participants/p.1@x', { kind: 'user', name: 'Pat' });
      expect(replaced).toMatchObject({ email: null, locale: 'en', groups: [], outOfOffice: false, createdAt: created.body.createdAt });
      expect(await hub.ok('GET', '/v1/participants/p.1@x')).toEqual(replaced);
    });

    it('refuses a change of kind with 409', async () => {
      await hub.customer('k1');
      expectError(await hub.api('PUT', '/v1/participants/k1', { kind: 'user', name: 'k1' }), 409, 'conflict');
    });

    it.each([
      ['an unknown field', { kind: 'user', name: 'x', nickname: 'y' }],
      ['a bad time zone', { kind: 'user', name: 'x', timezone: 'Mars/Olympus' }],
      ['a bad locale', { kind: 'user', name: 'x', locale: '!!' }],
      ['a bad email', { kind: 'user', name: 'x', email: 'not-an-email' }],
      ['a wrong kind', { kind: 'robot', name: 'x' }],
    ])('answers %s with 400 invalid and details', async (_n, body) => {
      const r = await hub.api('PUT', '/v1/participants/v1', body);
      expectError(r, 400, 'invalid');
      expect(Array.isArray(r.body.error.details)).toBe(true);
    });

    it('answers bad id characters with 400 and unknown ids with 404', async () => {
      expectError(await hub.api('PUT', '/v1/participants/a%20b', { kind: 'user', name: 'x' }), 400, 'invalid');
      expectError(await hub.api('GET', '/v1/participants/nobody'), 404, 'not_found');
    });
  });

  describe('preferences', () => {
    it('starts users at SPEC’s defaults and deep-merges a patch', async () => {
      await hub.user('pref1');
      expect(await hub.ok('GET', '/v1/participants/pref1/preferences')).toEqual(DEFAULT_USER_PREFERENCES);
      const patched = await hub.ok('PATCH', '/v1/participants/pref1/preferences', { notifications: { fromCustomers: 'mine' }, access: { showFromCustomers: false } });
      expect(patched.notifications).toEqual({ ...DEFAULT_USER_PREFERENCES.notifications, fromCustomers: 'mine' });
      expect(patched.access).toEqual({ viewConversations: 'all', showFromCustomers: false });
      expect(patched.email).toEqual(DEFAULT_USER_PREFERENCES.email);
    });

    it('gives customers only the email opt-out and refuses user keys and unknown keys', async () => {
      await hub.customer('pref2');
      expect(await hub.ok('GET', '/v1/participants/pref2/preferences')).toEqual({ email: { optOut: false } });
      expectError(await hub.api('PATCH', '/v1/participants/pref2/preferences', { notifications: { fromCustomers: 'all' } }), 400, 'invalid');
      expectError(await hub.api('PATCH', '/v1/participants/pref1/preferences', { email: { spam: true } }), 400, 'invalid');
      expectError(await hub.api('PATCH', '/v1/participants/pref1/preferences', { notifications: { fromCustomers: 'some' } }), 400, 'invalid');
      expect(await hub.ok('PATCH', '/v1/participants/pref2/preferences', { email: { optOut: true } })).toEqual({ email: { optOut: true } });
    });
  });

  describe('projects, items and conversations', () => {
    it('stores projects and items with their followers', async () => {
      await hub.user('own');
      await hub.customer('buyer');
      expect(await hub.ok('PUT', '/v1/projects/prj', { name: 'Support', followers: ['own'] })).toMatchObject({ id: 'prj', name: 'Support', followers: ['own'] });
      const it = await hub.ok('PUT', '/v1/items/tk-1', { kind: 'ticket', title: 'Help', projectId: 'prj', customerId: 'buyer', ownerId: 'own', followers: ['own'], fields: { a: 'b' } });
      expect(it).toMatchObject({ id: 'tk-1', projectId: 'prj', customerId: 'buyer', ownerId: 'own', followers: ['own'], fields: { a: 'b' }, status: null });
      expectError(await hub.api('PUT', '/v1/items/tk-2', { kind: 'ticket', title: 'x', customerId: 'own' }), 400, 'invalid');
    });

    it('creates item and direct conversations and answers unknown references with 404', async () => {
      const ext = await hub.api('POST', '/v1/conversations', { kind: 'item', itemId: 'tk-1', visibility: 'external', subject: 'About it' });
      expect(ext.status).toBe(201);
      expect(ext.body).toMatchObject({ kind: 'item', visibility: 'external', itemId: 'tk-1', subject: 'About it', members: ['buyer'], lastSeq: 0, lastMessageAt: null });
      expect(await hub.ok('GET', `/v1/conversations/${ext.body.id}`)).toEqual(ext.body);
      const internal = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'own', members: [] });
      expect(internal).toMatchObject({ kind: 'direct', visibility: 'internal', members: ['own'], itemId: null, subject: null });
      const external = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'own', members: ['buyer'] });
      expect(external.visibility).toBe('external');
      expectError(await hub.api('POST', '/v1/conversations', { kind: 'item', itemId: 'nope', visibility: 'internal' }), 404, 'not_found');
      expectError(await hub.api('POST', '/v1/conversations', { kind: 'direct', createdBy: 'own', members: ['ghost'] }), 404, 'not_found');
      expectError(await hub.api('POST', '/v1/conversations', { kind: 'direct', createdBy: 'buyer', members: [] }), 400, 'invalid');
      expectError(await hub.api('GET', '/v1/conversations/nope'), 404, 'not_found');
    });
  });

  describe('messages', () => {
    let conv: { id: string };
    beforeAll(async () => {
      await hub.user('m-agent');
      await hub.customer('m-cust');
      await hub.bot('m-bot');
      conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'm-agent', members: ['m-cust'] });
    });

    it('posts, answers a duplicate with 200 and the first message, and lists pages', async () => {
      const first = await hub.api('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'm-agent', body: 'one', clientMsgId: 'x1' });
      expect(first.status).toBe(201);
      expect(first.body.message).toMatchObject({ seq: 1, senderId: 'm-agent', senderKind: 'user', body: 'one', format: 'text', source: 'api', clientMsgId: 'x1' });
      const dup = await hub.api('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'm-agent', body: 'one again', clientMsgId: 'x1' });
      expect(dup.status).toBe(200);
      expect(dup.body).toEqual({ message: first.body.message, duplicate: true });
      for (let i = 2; i <= 5; i++) await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'm-cust', body: `n${i}`, clientMsgId: `x${i}`, format: 'markdown' });
      const latest = await hub.ok('GET', `/v1/conversations/${conv.id}/messages?limit=2`);
      expect(latest.messages.map((m: { seq: number }) => m.seq)).toEqual([4, 5]);
      expect(latest.hasMore).toBe(true);
      const after = await hub.ok('GET', `/v1/conversations/${conv.id}/messages?after=3`);
      expect(after).toMatchObject({ hasMore: false });
      expect(after.messages.map((m: { seq: number }) => m.seq)).toEqual([4, 5]);
      const before = await hub.ok('GET', `/v1/conversations/${conv.id}/messages?before=3&limit=1`);
      expect(before.messages.map((m: { seq: number }) => m.seq)).toEqual([2]);
      expect(before.hasMore).toBe(true);
      expectError(await hub.api('GET', `/v1/conversations/${conv.id}/messages?after=1&before=3`), 400, 'invalid');
      expectError(await hub.api('GET', `/v1/conversations/${conv.id}/messages?limit=500`), 400, 'invalid');
      expectError(await hub.api('GET', `/v1/conversations/${conv.id}/messages?page=2`), 400, 'invalid');
    });

    it('lets a bot post anywhere and makes it a member; refuses whoever may not post', async () => {
      const internal = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'm-agent', members: [] });
      const r = await hub.api('POST', `/v1/conversations/${internal.id}/messages`, { senderId: 'm-bot', body: 'beep', clientMsgId: 'b1' });
      expect(r.status).toBe(201);
      expect((await hub.ok('GET', `/v1/conversations/${internal.id}`)).members).toContain('m-bot');
      expectError(await hub.api('POST', `/v1/conversations/${internal.id}/messages`, { senderId: 'm-cust', body: 'let me in', clientMsgId: 'c1' }), 403, 'forbidden');
      expectError(await hub.api('POST', `/v1/conversations/${internal.id}/messages`, { senderId: 'ghost', body: 'boo', clientMsgId: 'g1' }), 404, 'not_found');
      expectError(await hub.api('POST', `/v1/conversations/${internal.id}/messages`, { senderId: 'm-agent', body: '   ', clientMsgId: 'w1' }), 400, 'invalid');
    });

    it('gives receipts with delivery and seen times', async () => {
      const cust = await hub.connect('m-cust');
      const { message } = await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'm-agent', body: 'did you get it?', clientMsgId: 'r1' });
      await cust.next((f) => f.t === 'message' && f.message.id === message.id);
      cust.send({ t: 'seen', conversationId: conv.id, upTo: message.seq });
      await cust.next('receipt');
      const r = await hub.ok('GET', `/v1/messages/${message.id}/receipts`);
      expect(r).toMatchObject({ messageId: message.id, conversationId: conv.id });
      const rec = r.recipients.find((x: { participantId: string }) => x.participantId === 'm-cust');
      expect(rec.deliveredAt).toBeGreaterThanOrEqual(message.createdAt);
      expect(rec.seenAt).toBeGreaterThanOrEqual(rec.deliveredAt);
      expect(rec).toMatchObject({ emailedAt: null, emailId: null, email: 'seen_in_time' });
      expect(r.recipients.some((x: { participantId: string }) => x.participantId === 'm-agent')).toBe(false);
      expectError(await hub.api('GET', '/v1/messages/nope/receipts'), 404, 'not_found');
    });
  });

  describe('tokens', () => {
    it('mints an hour by default, at most 30 days, only for known enabled participants', async () => {
      await hub.user('tok');
      const t = await hub.ok('POST', '/v1/tokens', { sub: 'tok' });
      expect(Math.abs(t.expiresAt - (Date.now() + 3600_000))).toBeLessThan(10_000);
      expect(t.token.split('.')).toHaveLength(3);
      expectError(await hub.api('POST', '/v1/tokens', { sub: 'tok', ttlSeconds: 31 * 24 * 3600 }), 400, 'invalid');
      expectError(await hub.api('POST', '/v1/tokens', { sub: 'nobody' }), 404, 'not_found');
      await hub.ok('PUT', '/v1/participants/tok-off', { kind: 'user', name: 'off', disabled: true });
      expectError(await hub.api('POST', '/v1/tokens', { sub: 'tok-off' }), 403, 'forbidden');
    });
  });

  describe('the edge', () => {
    it.each(['/v1/participants/x', '/v1/conversations/x', '/v1/emails', '/v1/messages/x/receipts'])('refuses %s without the API key', async (path) => {
      const res = await fetch(hub.url + path);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('unauthenticated');
      const wrong = await hub.api('GET', path, undefined, { authorization: 'Bearer wrong-key-wrong-key' });
      expectError(wrong, 401, 'unauthenticated');
    });

    it('answers invalid JSON with 400, a huge body with 413 and unknown routes with 404', async () => {
      expectError(await hub.api('PUT', '/v1/participants/j', '{"kind": '), 400, 'invalid');
      expectError(await hub.api('PUT', '/v1/participants/j', JSON.stringify({ kind: 'user', name: 'x'.repeat(1_100_000) })), 413, 'too_large');
      expectError(await hub.api('GET', '/v1/nothing-here'), 404, 'not_found');
    });

    it('serves health, readiness and metrics without the key', async () => {
      expect((await fetch(hub.url + '/healthz')).status).toBe(200);
      expect((await fetch(hub.url + '/readyz')).status).toBe(200);
      const text = await (await fetch(hub.url + '/metrics')).text();
      for (const name of ['parley_connections', 'parley_messages_total', 'parley_frames_in_total', 'parley_commit_batch_size', 'parley_commit_seconds', 'parley_deliveries_total']) expect(text).toContain(name);
    });
  });
});
