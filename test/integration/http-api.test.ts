import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, TestHub } from '../support/hub.js';
import { expectHttpError, jwtPayload } from '../support/expect-http.js';

/**
 * SPEC §4, one describe per route (the email and unsubscribe routes are tested elsewhere). One hub
 * for the file; every test uses its own ids.
 */

let hub: TestHub;
beforeAll(async () => {
  hub = await TestHub.start();
});
afterAll(() => hub.stop());

/** A request with full control over the Authorization header (null: none at all). */
async function call(method: string, path: string, body: unknown, authorization: string | null): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== null) headers.authorization = authorization;
  const res = await fetch(hub.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

const seqs = (page: { messages: Array<{ seq: number }> }) => page.messages.map((m) => m.seq);
const sorted = (ids: string[]) => [...ids].sort();

describe('PUT /v1/participants/{id}', () => {
  it('creates a user with the defaults of every omitted field', async () => {
    const before = Date.now();
    const r = await hub.api('PUT', '/v1/participants/put-default', { kind: 'user', name: 'Dee Fault', email: 'dee@example.com' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      id: 'put-default',
      kind: 'user',
      name: 'Dee Fault',
      email: 'dee@example.com',
      locale: 'en',
      timezone: 'UTC',
      groups: [],
      roles: [],
      outOfOffice: false,
      disabled: false,
      phone: null,
      queues: [],
      services: [],
      pgpPublicKey: null,
      smimeCertificate: null,
      createdAt: expect.any(Number),
    });
    expect(r.body.createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect(r.body.createdAt).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('stores every given field', async () => {
    const r = await hub.api('PUT', '/v1/participants/put-full', {
      kind: 'customer',
      name: 'Zoë Ünicode',
      email: 'zoe@example.org',
      locale: 'de-CH',
      timezone: 'Europe/Warsaw',
      groups: ['vip', { id: 'eu', permission: 'ro' }],
      roles: ['buyer'],
      outOfOffice: true,
      disabled: true,
      phone: '+4930123456',
      queues: ['Raw'],
      services: ['Printing'],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: 'put-full',
      kind: 'customer',
      name: 'Zoë Ünicode',
      email: 'zoe@example.org',
      locale: 'de-CH',
      timezone: 'Europe/Warsaw',
      groups: ['vip', { id: 'eu', permission: 'ro' }],
      roles: ['buyer'],
      outOfOffice: true,
      disabled: true,
      phone: '+4930123456',
      queues: ['Raw'],
      services: ['Printing'],
    });
    const bad = await hub.api('PUT', '/v1/participants/put-bad-phone', { kind: 'user', name: 'P', phone: '0301234' });
    expect(bad.status).toBe(400);
    // Keys are checked when stored: a broken one is refused with the reason, not found broken at send time.
    const pgp = await hub.api('PUT', '/v1/participants/put-bad-key', { kind: 'user', name: 'P', pgpPublicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----' });
    expect(pgp.status).toBe(400);
    expect(JSON.stringify(pgp.body)).toContain('pgpPublicKey');
    const cert = await hub.api('PUT', '/v1/participants/put-bad-cert', { kind: 'user', name: 'P', smimeCertificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' });
    expect(cert.status).toBe(400);
    expect(JSON.stringify(cert.body)).toContain('smimeCertificate');
  });

  it('replaces the whole resource: omitted fields return to their defaults and createdAt is kept', async () => {
    const first = await hub.ok('PUT', '/v1/participants/put-replace', {
      kind: 'user',
      name: 'First',
      email: 'first@example.com',
      locale: 'pl',
      timezone: 'America/New_York',
      groups: ['g1'],
      roles: ['admin'],
      outOfOffice: true,
      disabled: true,
    });
    const second = await hub.ok('PUT', '/v1/participants/put-replace', { kind: 'user', name: 'Second' });
    expect(second).toMatchObject({ id: 'put-replace', kind: 'user', name: 'Second', locale: 'en', timezone: 'UTC', groups: [], roles: [], outOfOffice: false, disabled: false });
    expect(second.email ?? null).toBeNull();
    expect(second.createdAt).toBe(first.createdAt);
    expect(await hub.ok('GET', '/v1/participants/put-replace')).toEqual(second);
  });

  it('answers a change of kind with 409 conflict and keeps the participant as it was', async () => {
    const original = await hub.ok('PUT', '/v1/participants/put-kind', { kind: 'customer', name: 'Kim' });
    expectHttpError(await hub.api('PUT', '/v1/participants/put-kind', { kind: 'user', name: 'Kim' }), 409, 'conflict');
    expectHttpError(await hub.api('PUT', '/v1/participants/put-kind', { kind: 'bot', name: 'Kim' }), 409, 'conflict');
    expect(await hub.ok('GET', '/v1/participants/put-kind')).toEqual(original);
  });

  it('never changes a kind when PUTs of different kinds for a new id race: the 200s share one kind, the others are 409', async () => {
    for (let k = 0; k < 20; k++) {
      const id = `put-race-${k}`;
      const kinds = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'customer' : 'user'));
      const rs = await Promise.all(kinds.map((kind) => hub.api('PUT', `/v1/participants/${id}`, { kind, name: 'racer' })));
      const winners = new Set(rs.filter((r) => r.status === 200).map((r) => r.body.kind));
      expect({ iteration: k, kindsAnswered200: [...winners] }).toEqual({ iteration: k, kindsAnswered200: [expect.any(String)] });
      const kind = [...winners][0];
      rs.forEach((r, i) => expect(r.status).toBe(kinds[i] === kind ? 200 : 409));
      expect((await hub.ok('GET', `/v1/participants/${id}`)).kind).toBe(kind);
    }
  });

  it('keeps what a PUT set when preference patches race with it: the participant ends renamed and disabled', async () => {
    for (let k = 0; k < 20; k++) {
      const id = `put-vs-patch-${k}`;
      await hub.user(id);
      const reqs = [hub.api('PUT', `/v1/participants/${id}`, { kind: 'user', name: 'renamed', disabled: true })];
      for (let j = 0; j < 4; j++) reqs.push(hub.api('PATCH', `/v1/participants/${id}/preferences`, { email: { optOut: j % 2 === 0 } }));
      const rs = await Promise.all(reqs);
      expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect({ iteration: k, ...(await hub.ok('GET', `/v1/participants/${id}`)) }).toMatchObject({ iteration: k, name: 'renamed', disabled: true });
    }
  });

  it('accepts every allowed id character and an id of 128 characters', async () => {
    const odd = 'Az09._:@-';
    expect((await hub.api('PUT', `/v1/participants/${encodeURIComponent(odd)}`, { kind: 'bot', name: 'odd' })).body).toMatchObject({ id: odd });
    const long = 'l'.repeat(128);
    expect((await hub.api('PUT', `/v1/participants/${long}`, { kind: 'bot', name: 'long' })).status).toBe(200);
  });

  it.each([
    ['a space', 'a%20b'],
    ['a non-ASCII letter', 'caf%C3%A9'],
    ['an exclamation mark', 'hey!'],
    ['a plus sign', 'a+b'],
    ['129 characters', 'x'.repeat(129)],
  ])('answers an id with %s with 400 invalid and creates nothing', async (_what, id) => {
    expectHttpError(await hub.api('PUT', `/v1/participants/${id}`, { kind: 'user', name: 'x' }), 400, 'invalid');
    expect((await hub.api('GET', `/v1/participants/${id}`)).status).toBe(400);
  });

  it('answers an unknown field with 400 invalid in SPEC’s error body, with details', async () => {
    const r = await hub.api('PUT', '/v1/participants/put-unknown', { kind: 'user', name: 'x', nickname: 'y' });
    expectHttpError(r, 400, 'invalid');
    expect(r.body.error.details).toBeDefined();
    expectHttpError(await hub.api('GET', '/v1/participants/put-unknown'), 404, 'not_found');
  });

  it.each([
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }],
    ['a time zone that is not a string', { timezone: 2 }],
    ['a locale that is not BCP 47', { locale: 'not a locale' }],
    ['an empty locale', { locale: '' }],
    ['an email that is not an address', { email: 'nobody' }],
    ['groups that are not strings', { groups: [1] }],
    ['outOfOffice that is not a boolean', { outOfOffice: 'yes' }],
  ])('answers %s with 400 invalid', async (_what, extra) => {
    expectHttpError(await hub.api('PUT', '/v1/participants/put-bad', { kind: 'user', name: 'x', ...extra }), 400, 'invalid');
  });

  it('closes the sessions of a participant it disables with 4003, and keeps the participant', async () => {
    await hub.user('put-disable');
    const c = await hub.connect('put-disable');
    const closed = c.waitClose();
    const r = await hub.ok('PUT', '/v1/participants/put-disable', { kind: 'user', name: 'put-disable', disabled: true });
    expect(r.disabled).toBe(true);
    expect((await closed).code).toBe(4003);
    expect((await hub.ok('GET', '/v1/participants/put-disable')).disabled).toBe(true);
  });

  it('answers a missing name or an unknown kind with 400 invalid', async () => {
    expectHttpError(await hub.api('PUT', '/v1/participants/put-bad', { kind: 'user' }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/participants/put-bad', { kind: 'robot', name: 'x' }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/participants/put-bad', { name: 'x' }), 400, 'invalid');
    expectHttpError(await hub.api('GET', '/v1/participants/put-bad'), 404, 'not_found');
  });
});

describe('GET /v1/participants/{id}', () => {
  it('returns the participant exactly as the PUT answered it', async () => {
    const put = await hub.ok('PUT', '/v1/participants/get-1', { kind: 'bot', name: 'Robo', groups: ['ops'] });
    const r = await hub.api('GET', '/v1/participants/get-1');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(put);
    expect(r.body).toMatchObject({ kind: 'bot', name: 'Robo', groups: ['ops'] });
  });

  it('answers an unknown id with 404 not_found and a malformed one with 400', async () => {
    expectHttpError(await hub.api('GET', '/v1/participants/get-nobody'), 404, 'not_found');
    expectHttpError(await hub.api('GET', '/v1/participants/a%2Fb'), 400, 'invalid');
    expectHttpError(await hub.api('GET', '/v1/participants/bad%20id'), 400, 'invalid');
  });
});

describe('GET /v1/participants/{id}/preferences', () => {
  it('gives a new user exactly SPEC’s defaults', async () => {
    await hub.user('prefs-user');
    const r = await hub.api('GET', '/v1/participants/prefs-user/preferences');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      notifications: { fromCustomers: 'all', repliesToCustomers: 'followed', followedInternal: true },
      email: { optOut: false, assignmentChanges: true, newMembersInMyProjects: false, autoAcceptInvitations: true },
      access: { viewConversations: 'all', showFromCustomers: true },
    });
  });

  it('gives a customer only the email opt-out', async () => {
    await hub.customer('prefs-cust');
    expect(await hub.ok('GET', '/v1/participants/prefs-cust/preferences')).toEqual({ email: { optOut: false } });
  });

  it('answers an unknown participant with 404 not_found', async () => {
    expectHttpError(await hub.api('GET', '/v1/participants/prefs-nobody/preferences'), 404, 'not_found');
  });
});

describe('PATCH /v1/participants/{id}/preferences', () => {
  it('deep-merges a partial object into a user’s preferences, patch after patch', async () => {
    await hub.user('patch-user');
    const a = await hub.api('PATCH', '/v1/participants/patch-user/preferences', { notifications: { fromCustomers: 'mine' } });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      notifications: { fromCustomers: 'mine', repliesToCustomers: 'followed', followedInternal: true },
      email: { optOut: false, assignmentChanges: true, newMembersInMyProjects: false, autoAcceptInvitations: true },
      access: { viewConversations: 'all', showFromCustomers: true },
    });
    const b = await hub.ok('PATCH', '/v1/participants/patch-user/preferences', {
      notifications: { followedInternal: false },
      email: { optOut: true, newMembersInMyProjects: true },
      access: { viewConversations: 'mine' },
    });
    const expected = {
      notifications: { fromCustomers: 'mine', repliesToCustomers: 'followed', followedInternal: false },
      email: { optOut: true, assignmentChanges: true, newMembersInMyProjects: true, autoAcceptInvitations: true },
      access: { viewConversations: 'mine', showFromCustomers: true },
    };
    expect(b).toEqual(expected);
    expect(await hub.ok('GET', '/v1/participants/patch-user/preferences')).toEqual(expected);
    // An empty patch changes nothing.
    expect(await hub.ok('PATCH', '/v1/participants/patch-user/preferences', {})).toEqual(expected);
  });

  it('deep-merges concurrent patches of different keys without losing any', async () => {
    for (let k = 0; k < 5; k++) {
      const id = `patch-race-${k}`;
      await hub.user(id);
      const patches = [
        { notifications: { fromCustomers: 'none' } },
        { notifications: { repliesToCustomers: 'all' } },
        { notifications: { followedInternal: false } },
        { email: { optOut: true } },
        { email: { assignmentChanges: false } },
        { access: { viewConversations: 'mine' } },
      ];
      const rs = await Promise.all(patches.map((p) => hub.api('PATCH', `/v1/participants/${id}/preferences`, p)));
      expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect({ iteration: k, ...(await hub.ok('GET', `/v1/participants/${id}/preferences`)) }).toEqual({
        iteration: k,
        notifications: { fromCustomers: 'none', repliesToCustomers: 'all', followedInternal: false },
        email: { optOut: true, assignmentChanges: false, newMembersInMyProjects: false, autoAcceptInvitations: true },
        access: { viewConversations: 'mine', showFromCustomers: true },
      });
    }
  });

  it('sets a customer’s email opt-out', async () => {
    await hub.customer('patch-cust');
    const r = await hub.api('PATCH', '/v1/participants/patch-cust/preferences', { email: { optOut: true } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ email: { optOut: true } });
    expect(await hub.ok('GET', '/v1/participants/patch-cust/preferences')).toEqual({ email: { optOut: true } });
  });

  it.each([
    ['notifications', { notifications: { fromCustomers: 'all' } }],
    ['access', { access: { viewConversations: 'all' } }],
    ['email.assignmentChanges', { email: { assignmentChanges: false } }],
  ])('answers a user-only key (%s) on a customer with 400 invalid and changes nothing', async (_key, patch) => {
    await hub.customer('patch-cust2');
    expectHttpError(await hub.api('PATCH', '/v1/participants/patch-cust2/preferences', patch), 400, 'invalid');
    expect(await hub.ok('GET', '/v1/participants/patch-cust2/preferences')).toEqual({ email: { optOut: false } });
  });

  it.each([
    ['an unknown top-level key', { sounds: { on: true } }],
    ['an unknown nested key', { email: { spam: true } }],
    ['a value outside the enum', { notifications: { fromCustomers: 'some' } }],
    ['a wrongly typed value', { email: { optOut: 'yes' } }],
    ['a group that is not an object', { access: 'all' }],
  ])('answers %s on a user with 400 invalid and changes nothing', async (_what, patch) => {
    await hub.user('patch-user2');
    const before = await hub.ok('GET', '/v1/participants/patch-user2/preferences');
    expectHttpError(await hub.api('PATCH', '/v1/participants/patch-user2/preferences', patch), 400, 'invalid');
    expect(await hub.ok('GET', '/v1/participants/patch-user2/preferences')).toEqual(before);
  });

  it.each([
    ['null', 'null'],
    ['an array', '[]'],
    ['a string', '"optOut"'],
  ])('answers a body that is %s with 400 invalid', async (_what, body) => {
    await hub.user('patch-user3');
    expectHttpError(await hub.api('PATCH', '/v1/participants/patch-user3/preferences', body), 400, 'invalid');
  });

  it('answers an unknown participant with 404 not_found', async () => {
    expectHttpError(await hub.api('PATCH', '/v1/participants/patch-nobody/preferences', { email: { optOut: true } }), 404, 'not_found');
  });
});

describe('PUT /v1/projects/{id}', () => {
  it('creates a project with its followers and replaces it as a whole', async () => {
    await hub.user('prj-u1');
    await hub.user('prj-u2');
    const before = Date.now();
    const r = await hub.api('PUT', '/v1/projects/prj-1', { name: 'Support', followers: ['prj-u1', 'prj-u2'] });
    expect(r.status).toBe(200);
    expect({ ...r.body, followers: sorted(r.body.followers) }).toEqual({ id: 'prj-1', name: 'Support', followers: ['prj-u1', 'prj-u2'], createdAt: expect.any(Number) });
    expect(r.body.createdAt).toBeGreaterThanOrEqual(before - 1000);
    const replaced = await hub.ok('PUT', '/v1/projects/prj-1', { name: 'Support EU' });
    expect(replaced).toEqual({ id: 'prj-1', name: 'Support EU', followers: [], createdAt: r.body.createdAt });
  });

  it('answers an unknown field, a missing name or a bad id with 400 invalid', async () => {
    expectHttpError(await hub.api('PUT', '/v1/projects/prj-2', { name: 'x', color: 'red' }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/projects/prj-2', { followers: [] }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/projects/prj%202', { name: 'x' }), 400, 'invalid');
  });
});

describe('PUT /v1/items/{id}', () => {
  beforeAll(async () => {
    await hub.user('item-owner');
    await hub.user('item-resp');
    await hub.user('item-fol');
    await hub.customer('item-cust');
    await hub.ok('PUT', '/v1/projects/item-prj', { name: 'Helpdesk' });
  });

  it('stores every field: project, numbers, customer, owner, responsible, followers and custom fields', async () => {
    const body = {
      kind: 'ticket',
      title: 'Printer on fire',
      projectId: 'item-prj',
      number: 'T-1001',
      status: 'open',
      priority: 'high',
      queue: 'hardware',
      customerId: 'item-cust',
      ownerId: 'item-owner',
      responsibleId: 'item-resp',
      followers: ['item-fol'],
      fields: { site: 'Warsaw', floor: '3' },
    };
    const r = await hub.api('PUT', '/v1/items/item-1', body);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'item-1', ...body });
    expect(typeof r.body.createdAt).toBe('number');
  });

  it('replaces the whole item: omitted fields return to null, [] and {}', async () => {
    const first = await hub.ok('PUT', '/v1/items/item-2', {
      kind: 'task',
      title: 'First',
      projectId: 'item-prj',
      number: '7',
      status: 'open',
      priority: 'low',
      queue: 'q',
      customerId: 'item-cust',
      ownerId: 'item-owner',
      responsibleId: 'item-resp',
      followers: ['item-fol'],
      fields: { a: 'b' },
    });
    const second = await hub.ok('PUT', '/v1/items/item-2', { kind: 'task', title: 'Second' });
    expect(second).toMatchObject({
      id: 'item-2',
      kind: 'task',
      title: 'Second',
      projectId: null,
      number: null,
      status: null,
      priority: null,
      queue: null,
      customerId: null,
      ownerId: null,
      responsibleId: null,
      followers: [],
      fields: {},
      createdAt: first.createdAt,
    });
  });

  it('answers a customerId that names a user with 400 invalid', async () => {
    expectHttpError(await hub.api('PUT', '/v1/items/item-3', { kind: 'ticket', title: 'x', customerId: 'item-owner' }), 400, 'invalid');
    expectHttpError(await hub.api('POST', '/v1/conversations', { kind: 'item', itemId: 'item-3', visibility: 'internal' }), 404, 'not_found');
  });

  it('answers a customerId that names a bot with 400 invalid', async () => {
    await hub.bot('item-bot');
    expectHttpError(await hub.api('PUT', '/v1/items/item-3b', { kind: 'ticket', title: 'x', customerId: 'item-bot' }), 400, 'invalid');
  });

  it('answers an ownerId or responsibleId that names a customer with 400 invalid', async () => {
    expectHttpError(await hub.api('PUT', '/v1/items/item-4', { kind: 'ticket', title: 'x', ownerId: 'item-cust' }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/items/item-4', { kind: 'ticket', title: 'x', responsibleId: 'item-cust' }), 400, 'invalid');
  });

  it('answers an unknown field, non-string custom fields or a missing title with 400 invalid', async () => {
    expectHttpError(await hub.api('PUT', '/v1/items/item-5', { kind: 'ticket', title: 'x', colour: 'red' }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/items/item-5', { kind: 'ticket', title: 'x', fields: { n: 1 } }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/items/item-5', { kind: 'ticket' }), 400, 'invalid');
    expectHttpError(await hub.api('PUT', '/v1/items/item-5', { kind: 'ticket', title: 'x', status: 3 }), 400, 'invalid');
  });
});

describe('POST /v1/conversations', () => {
  const SUMMARY_KEYS = ['createdAt', 'id', 'itemId', 'kind', 'lastMessageAt', 'lastSeq', 'members', 'subject', 'visibility'];
  beforeAll(async () => {
    await hub.user('conv-u1');
    await hub.user('conv-u2');
    await hub.customer('conv-cust');
    await hub.bot('conv-bot');
    await hub.ok('PUT', '/v1/items/conv-item', { kind: 'ticket', title: 'Broken', customerId: 'conv-cust' });
  });

  it('creates an external item conversation whose members include the item’s customer', async () => {
    const before = Date.now();
    const r = await hub.api('POST', '/v1/conversations', { kind: 'item', itemId: 'conv-item', visibility: 'external', subject: 'About the breakage' });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(SUMMARY_KEYS);
    expect(r.body).toEqual({
      id: expect.any(String),
      kind: 'item',
      visibility: 'external',
      itemId: 'conv-item',
      subject: 'About the breakage',
      members: ['conv-cust'],
      createdAt: expect.any(Number),
      lastSeq: 0,
      lastMessageAt: null,
    });
    expect(r.body.createdAt).toBeGreaterThanOrEqual(before - 1000);
  });

  it('creates an internal item conversation without the customer, with a null subject when none is given', async () => {
    const r = await hub.api('POST', '/v1/conversations', { kind: 'item', itemId: 'conv-item', visibility: 'internal' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: 'item', visibility: 'internal', itemId: 'conv-item', subject: null, members: [], lastSeq: 0 });
  });

  it('creates any number of conversations on one item, each with a new id', async () => {
    const a = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'conv-item', visibility: 'internal' });
    const b = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'conv-item', visibility: 'internal' });
    expect(a.id).not.toBe(b.id);
  });

  it('answers an unknown item with 404 not_found', async () => {
    expectHttpError(await hub.api('POST', '/v1/conversations', { kind: 'item', itemId: 'conv-no-item', visibility: 'external' }), 404, 'not_found');
  });

  it('creates an internal direct conversation when all members are users or bots', async () => {
    const r = await hub.api('POST', '/v1/conversations', { kind: 'direct', createdBy: 'conv-u1', members: ['conv-u2', 'conv-bot'], subject: 'Team' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: 'direct', visibility: 'internal', itemId: null, subject: 'Team', lastSeq: 0, lastMessageAt: null });
    expect(sorted(r.body.members)).toEqual(['conv-bot', 'conv-u1', 'conv-u2']);
    expect(Object.keys(r.body).sort()).toEqual(SUMMARY_KEYS);
  });

  it('creates an external direct conversation when any member is a customer', async () => {
    const r = await hub.api('POST', '/v1/conversations', { kind: 'direct', createdBy: 'conv-u1', members: ['conv-cust'] });
    expect(r.status).toBe(201);
    expect(r.body.visibility).toBe('external');
    expect(sorted(r.body.members)).toEqual(['conv-cust', 'conv-u1']);
  });

  it('creates a new conversation on every call, with no de-duplication', async () => {
    const a = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'conv-u1', members: ['conv-u2'] });
    const b = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'conv-u1', members: ['conv-u2'] });
    expect(a.id).not.toBe(b.id);
  });

  it('answers an unknown member or creator with 404 not_found', async () => {
    expectHttpError(await hub.api('POST', '/v1/conversations', { kind: 'direct', createdBy: 'conv-u1', members: ['conv-ghost'] }), 404, 'not_found');
    expectHttpError(await hub.api('POST', '/v1/conversations', { kind: 'direct', createdBy: 'conv-ghost', members: [] }), 404, 'not_found');
  });

  it('answers an unknown kind, visibility, field or more than 50 members with 400 invalid', async () => {
    expectHttpError(await hub.api('POST', '/v1/conversations', { kind: 'inbox', createdBy: 'conv-cust', members: [] }), 400, 'invalid');
    expectHttpError(await hub.api('POST', '/v1/conversations', { kind: 'item', itemId: 'conv-item', visibility: 'public' }), 400, 'invalid');
    expectHttpError(await hub.api('POST', '/v1/conversations', { kind: 'item', itemId: 'conv-item', visibility: 'internal', colour: 'red' }), 400, 'invalid');
    const many = Array.from({ length: 51 }, (_, i) => `conv-m${i}`);
    expectHttpError(await hub.api('POST', '/v1/conversations', { kind: 'direct', createdBy: 'conv-u1', members: many }), 400, 'invalid');
  });
});

describe('GET /v1/conversations/{id}', () => {
  it('returns the conversation, with lastSeq and lastMessageAt following its messages and posters joining its members', async () => {
    await hub.user('getc-u1');
    await hub.user('getc-u2');
    await hub.ok('PUT', '/v1/items/getc-item', { kind: 'ticket', title: 'x' });
    const created = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'getc-item', visibility: 'internal' });
    const r = await hub.api('GET', `/v1/conversations/${created.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(created);
    const { message } = await hub.ok('POST', `/v1/conversations/${created.id}/messages`, { senderId: 'getc-u2', body: 'first', clientMsgId: 'g1' });
    const after = await hub.ok('GET', `/v1/conversations/${created.id}`);
    expect(after).toEqual({ ...created, members: ['getc-u2'], lastSeq: 1, lastMessageAt: message.createdAt });
  });

  it('lists the item’s customer once among the members of an external item conversation, also after it posted', async () => {
    await hub.customer('getc-cust');
    await hub.ok('PUT', '/v1/items/getc-item2', { kind: 'ticket', title: 'x', customerId: 'getc-cust' });
    const ext = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'getc-item2', visibility: 'external' });
    await hub.ok('POST', `/v1/conversations/${ext.id}/messages`, { senderId: 'getc-cust', body: 'hello', clientMsgId: 'gc1' });
    await hub.ok('POST', `/v1/conversations/${ext.id}/messages`, { senderId: 'getc-u1', body: 'hi', clientMsgId: 'gc2' });
    const r = await hub.ok('GET', `/v1/conversations/${ext.id}`);
    expect(sorted(r.members)).toEqual(['getc-cust', 'getc-u1']);
    expect(r.lastSeq).toBe(2);
  });

  it('answers an unknown id with 404 not_found', async () => {
    expectHttpError(await hub.api('GET', '/v1/conversations/no-such-conversation'), 404, 'not_found');
  });
});

describe('POST /v1/conversations/{id}/messages', () => {
  let direct: string;
  let internalItem: string;
  let externalItem: string;
  beforeAll(async () => {
    await hub.user('msg-u1');
    await hub.user('msg-u2');
    await hub.user('msg-mine');
    await hub.ok('PATCH', '/v1/participants/msg-mine/preferences', { access: { viewConversations: 'mine' } });
    await hub.user('msg-off');
    await hub.customer('msg-cust');
    await hub.customer('msg-other-cust');
    await hub.bot('msg-bot');
    await hub.bot('msg-bot-off', { disabled: true });
    await hub.ok('PUT', '/v1/items/msg-item', { kind: 'ticket', title: 'x', customerId: 'msg-cust' });
    direct = (await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'msg-u1', members: ['msg-cust', 'msg-off'] })).id;
    internalItem = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'msg-item', visibility: 'internal' })).id;
    externalItem = (await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'msg-item', visibility: 'external' })).id;
    await hub.ok('PUT', '/v1/participants/msg-off', { kind: 'user', name: 'off', disabled: true });
  });

  it('stores a message and answers 201 {message} with every Message field', async () => {
    const before = Date.now();
    const r = await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body: 'Hello **there**', clientMsgId: 'p-1', format: 'markdown' });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body)).toEqual(['message']);
    expect(r.body.message).toEqual({
      id: expect.any(String),
      conversationId: direct,
      seq: 1,
      senderId: 'msg-u1',
      senderKind: 'user',
      body: 'Hello **there**',
      format: 'markdown',
      createdAt: expect.any(Number),
      clientMsgId: 'p-1',
      source: 'api',
    });
    expect(r.body.message.createdAt).toBeGreaterThanOrEqual(before - 1000);
    const second = await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-cust', body: 'hi', clientMsgId: 'p-2' });
    expect(second.status).toBe(201);
    expect(second.body.message).toMatchObject({ seq: 2, senderKind: 'customer', format: 'text' });
    expect(second.body.message.id).not.toBe(r.body.message.id);
  });

  it('answers a repeated clientMsgId from the same sender with 200 {message, duplicate: true} and the first message', async () => {
    const first = await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body: 'once', clientMsgId: 'dup-1' });
    expect(first.status).toBe(201);
    const again = await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body: 'twice?', clientMsgId: 'dup-1' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ message: first.body.message, duplicate: true });
    expect(again.body.message.body).toBe('once');
    const page = await hub.ok('GET', `/v1/conversations/${direct}/messages`);
    expect(page.messages.filter((m: { clientMsgId: string }) => m.clientMsgId === 'dup-1')).toHaveLength(1);
    expect((await hub.ok('GET', `/v1/conversations/${direct}`)).lastSeq).toBe(first.body.message.seq);
  });

  it('stores one message when the same clientMsgId is posted ten times at once: one 201, nine 200 duplicates, one id', async () => {
    const before = (await hub.ok('GET', `/v1/conversations/${direct}`)).lastSeq;
    const rs = await Promise.all(Array.from({ length: 10 }, () => hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body: 'burst', clientMsgId: 'burst-1' })));
    expect(rs.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(rs.map((r) => r.body.message.id)).size).toBe(1);
    expect(rs.filter((r) => r.status === 200).every((r) => r.body.duplicate === true)).toBe(true);
    expect((await hub.ok('GET', `/v1/conversations/${direct}`)).lastSeq).toBe(before + 1);
  });

  it('gives concurrent posts consecutive seqs without gap or repeat', async () => {
    const conv = (await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'msg-u1', members: ['msg-cust'] })).id;
    const rs = await Promise.all(
      Array.from({ length: 40 }, (_, i) => hub.api('POST', `/v1/conversations/${conv}/messages`, { senderId: i % 2 ? 'msg-u1' : 'msg-cust', body: `c${i}`, clientMsgId: `conc-${i}` })),
    );
    expect(rs.every((r) => r.status === 201)).toBe(true);
    expect(rs.map((r) => r.body.message.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('treats the same clientMsgId from another sender as a new message', async () => {
    const a = await hub.ok('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body: 'a', clientMsgId: 'shared-id' });
    const b = await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-cust', body: 'b', clientMsgId: 'shared-id' });
    expect(b.status).toBe(201);
    expect(b.body.message.seq).toBe(a.message.seq + 1);
  });

  it('treats the same clientMsgId from the same sender in another conversation as a new message', async () => {
    const other = (await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'msg-u1', members: [] })).id;
    await hub.ok('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body: 'here', clientMsgId: 'per-conv' });
    const r = await hub.api('POST', `/v1/conversations/${other}/messages`, { senderId: 'msg-u1', body: 'there', clientMsgId: 'per-conv' });
    expect(r.status).toBe(201);
    expect(r.body.message).toMatchObject({ conversationId: other, seq: 1, body: 'there' });
  });

  it('answers a message first sent over WebSocket and repeated through the API as a duplicate of it', async () => {
    const ws = await hub.connect('msg-u1');
    const ack = await ws.request({ t: 'send', conversationId: direct, clientMsgId: 'ws-then-api', body: 'typed in the app' }, 'ack');
    expect(ack.t).toBe('ack');
    const r = await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body: 'typed in the app', clientMsgId: 'ws-then-api' });
    expect(r.status).toBe(200);
    expect(r.body.duplicate).toBe(true);
    expect(r.body.message).toMatchObject({ id: ack.t === 'ack' ? ack.messageId : '?', seq: ack.t === 'ack' ? ack.seq : -1, source: 'ws' });
    ws.close();
    await ws.waitClose();
  });

  it('answers a customer posting into an internal conversation with 403 forbidden and stores nothing', async () => {
    expectHttpError(await hub.api('POST', `/v1/conversations/${internalItem}/messages`, { senderId: 'msg-cust', body: 'let me in', clientMsgId: 'c-int' }), 403, 'forbidden');
    expect((await hub.ok('GET', `/v1/conversations/${internalItem}`)).lastSeq).toBe(0);
  });

  it('answers a customer posting into an external conversation it is not a member of with 403 forbidden', async () => {
    expectHttpError(await hub.api('POST', `/v1/conversations/${externalItem}/messages`, { senderId: 'msg-other-cust', body: 'hi', clientMsgId: 'oc-1' }), 403, 'forbidden');
  });

  it('lets the item’s customer post into the external item conversation', async () => {
    const r = await hub.api('POST', `/v1/conversations/${externalItem}/messages`, { senderId: 'msg-cust', body: 'My printer', clientMsgId: 'ext-1' });
    expect(r.status).toBe(201);
    expect(r.body.message).toMatchObject({ senderId: 'msg-cust', senderKind: 'customer', conversationId: externalItem });
  });

  it('lets a bot post into any conversation, and makes it a member', async () => {
    for (const conv of [internalItem, externalItem, direct]) {
      expect((await hub.ok('GET', `/v1/conversations/${conv}`)).members).not.toContain('msg-bot');
      const r = await hub.api('POST', `/v1/conversations/${conv}/messages`, { senderId: 'msg-bot', body: 'beep', clientMsgId: `bot-${conv}` });
      expect(r.status).toBe(201);
      expect(r.body.message).toMatchObject({ senderId: 'msg-bot', senderKind: 'bot', source: 'api' });
      expect((await hub.ok('GET', `/v1/conversations/${conv}`)).members).toContain('msg-bot');
    }
  });

  it('makes a user who may see an item conversation a member by its first post', async () => {
    const r = await hub.api('POST', `/v1/conversations/${internalItem}/messages`, { senderId: 'msg-u2', body: 'noted', clientMsgId: 'u2-1' });
    expect(r.status).toBe(201);
    expect((await hub.ok('GET', `/v1/conversations/${internalItem}`)).members).toContain('msg-u2');
  });

  it('answers a user who may not see the conversation with 403 forbidden', async () => {
    // Access `mine`, following neither the item nor its project: may not see, so may not post.
    expectHttpError(await hub.api('POST', `/v1/conversations/${internalItem}/messages`, { senderId: 'msg-mine', body: 'hi', clientMsgId: 'mine-1' }), 403, 'forbidden');
    // A direct conversation it is not a member of.
    expectHttpError(await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u2', body: 'hi', clientMsgId: 'u2-d' }), 403, 'forbidden');
  });

  it('answers a disabled sender with 403 forbidden, a bot included', async () => {
    expectHttpError(await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-off', body: 'hi', clientMsgId: 'off-1' }), 403, 'forbidden');
    expectHttpError(await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-bot-off', body: 'hi', clientMsgId: 'boff-1' }), 403, 'forbidden');
  });

  it('answers an unknown sender or conversation with 404 not_found', async () => {
    expectHttpError(await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-ghost', body: 'boo', clientMsgId: 'g-1' }), 404, 'not_found');
    expectHttpError(await hub.api('POST', '/v1/conversations/no-such-conv/messages', { senderId: 'msg-u1', body: 'boo', clientMsgId: 'g-2' }), 404, 'not_found');
  });

  it.each([
    ['a body of only whitespace', { body: ' \n\t\u00a0 ' }],
    ['an empty body', { body: '' }],
    ['a body of 16001 code points', { body: 'x'.repeat(16001) }],
    ['an empty clientMsgId', { clientMsgId: '' }],
    ['a clientMsgId of 65 characters', { clientMsgId: 'c'.repeat(65) }],
    ['an unknown format', { format: 'html' }],
    ['an unknown field', { pinned: true }],
  ])('answers %s with 400 invalid', async (_what, patch) => {
    const before = (await hub.ok('GET', `/v1/conversations/${direct}`)).lastSeq;
    expectHttpError(await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body: 'ok', clientMsgId: 'inv-1', ...patch }), 400, 'invalid');
    expect((await hub.ok('GET', `/v1/conversations/${direct}`)).lastSeq).toBe(before);
  });

  it('counts the body in code points: 16000 emoji (32000 UTF-16 units) are accepted', async () => {
    const body = '😀'.repeat(16000);
    const r = await hub.api('POST', `/v1/conversations/${direct}/messages`, { senderId: 'msg-u1', body, clientMsgId: 'emoji-max' });
    expect(r.status).toBe(201);
    expect(r.body.message.body).toBe(body);
  });
});

describe('GET /v1/conversations/{id}/messages', () => {
  let conv: string;
  beforeAll(async () => {
    await hub.user('list-u1');
    conv = (await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'list-u1', members: [] })).id;
    for (let i = 1; i <= 7; i++) await hub.ok('POST', `/v1/conversations/${conv}/messages`, { senderId: 'list-u1', body: `m${i}`, clientMsgId: `l${i}` });
  });

  it('gives the latest messages in ascending seq with hasMore false when all fit', async () => {
    const r = await hub.api('GET', `/v1/conversations/${conv}/messages`);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['hasMore', 'messages']);
    expect(seqs(r.body)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.body.messages.map((m: { body: string }) => m.body)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(r.body.hasMore).toBe(false);
  });

  it('gives the latest `limit` messages with hasMore true when older ones exist', async () => {
    const r = await hub.ok('GET', `/v1/conversations/${conv}/messages?limit=3`);
    expect(seqs(r)).toEqual([5, 6, 7]);
    expect(r.hasMore).toBe(true);
  });

  it('pages forward with after', async () => {
    const a = await hub.ok('GET', `/v1/conversations/${conv}/messages?after=2&limit=3`);
    expect(seqs(a)).toEqual([3, 4, 5]);
    expect(a.hasMore).toBe(true);
    const b = await hub.ok('GET', `/v1/conversations/${conv}/messages?after=5&limit=3`);
    expect(seqs(b)).toEqual([6, 7]);
    expect(b.hasMore).toBe(false);
    const edge = await hub.ok('GET', `/v1/conversations/${conv}/messages?after=4&limit=3`);
    expect(seqs(edge)).toEqual([5, 6, 7]);
    expect(edge.hasMore).toBe(false);
    const c = await hub.ok('GET', `/v1/conversations/${conv}/messages?after=7`);
    expect(c).toEqual({ messages: [], hasMore: false });
    const all = await hub.ok('GET', `/v1/conversations/${conv}/messages?after=0&limit=200`);
    expect(seqs(all)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('pages backward with before', async () => {
    const a = await hub.ok('GET', `/v1/conversations/${conv}/messages?before=6&limit=2`);
    expect(seqs(a)).toEqual([4, 5]);
    expect(a.hasMore).toBe(true);
    const b = await hub.ok('GET', `/v1/conversations/${conv}/messages?before=4`);
    expect(seqs(b)).toEqual([1, 2, 3]);
    expect(b.hasMore).toBe(false);
    const edge = await hub.ok('GET', `/v1/conversations/${conv}/messages?before=4&limit=3`);
    expect(seqs(edge)).toEqual([1, 2, 3]);
    expect(edge.hasMore).toBe(false);
    const c = await hub.ok('GET', `/v1/conversations/${conv}/messages?before=1`);
    expect(c).toEqual({ messages: [], hasMore: false });
  });

  it.each([
    ['both after and before', 'after=1&before=5'],
    ['limit 500', 'limit=500'],
    ['limit 0', 'limit=0'],
    ['a negative after', 'after=-1'],
    ['a non-numeric before', 'before=abc'],
    ['an unknown query key', 'page=2'],
  ])('answers %s with 400 invalid', async (_what, q) => {
    expectHttpError(await hub.api('GET', `/v1/conversations/${conv}/messages?${q}`), 400, 'invalid');
  });

  it('accepts limit 200 and answers an unknown conversation with 404 not_found', async () => {
    expect((await hub.api('GET', `/v1/conversations/${conv}/messages?limit=200`)).status).toBe(200);
    expectHttpError(await hub.api('GET', '/v1/conversations/no-such-conv/messages'), 404, 'not_found');
  });
});

describe('GET /v1/messages/{id}/receipts', () => {
  let conv: string;
  beforeAll(async () => {
    await hub.user('rc-sender');
    await hub.user('rc-offline');
    await hub.customer('rc-cust');
    conv = (await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'rc-sender', members: ['rc-cust', 'rc-offline'] })).id;
  });

  it('lists every recipient but the sender, with deliveredAt once a connected recipient got it and seenAt once it said seen', async () => {
    const cust = await hub.connect('rc-cust');
    const { message } = await hub.ok('POST', `/v1/conversations/${conv}/messages`, { senderId: 'rc-sender', body: 'Did you get it?', clientMsgId: 'rc-1' });
    await cust.next((f) => f.t === 'message' && f.message.id === message.id);

    const delivered = await hub.api('GET', `/v1/messages/${message.id}/receipts`);
    expect(delivered.status).toBe(200);
    expect(delivered.body).toMatchObject({ messageId: message.id, conversationId: conv });
    expect(Object.keys(delivered.body).sort()).toEqual(['conversationId', 'messageId', 'recipients']);
    const recipients = delivered.body.recipients as Array<Record<string, unknown>>;
    expect(sorted(recipients.map((r) => r.participantId as string))).toEqual(['rc-cust', 'rc-offline']);
    const c1 = recipients.find((r) => r.participantId === 'rc-cust')!;
    expect(c1).toEqual({ participantId: 'rc-cust', deliveredAt: expect.any(Number), seenAt: null, emailedAt: null, emailId: null, email: expect.any(String) });
    expect(c1.deliveredAt as number).toBeGreaterThanOrEqual(message.createdAt);
    const off = recipients.find((r) => r.participantId === 'rc-offline')!;
    expect(off).toMatchObject({ deliveredAt: null, seenAt: null, emailedAt: null, emailId: null });

    cust.send({ t: 'seen', conversationId: conv, upTo: message.seq });
    await cust.next((f) => f.t === 'receipt' && f.participantId === 'rc-cust' && f.kind === 'seen');
    const seen = await hub.ok('GET', `/v1/messages/${message.id}/receipts`);
    const c2 = seen.recipients.find((r: { participantId: string }) => r.participantId === 'rc-cust');
    expect(c2.seenAt).toBeGreaterThanOrEqual(c2.deliveredAt);
    expect(c2.deliveredAt).toBe(c1.deliveredAt);
    expect(c2.email).toBe('seen_in_time');
    expect(seen.recipients.find((r: { participantId: string }) => r.participantId === 'rc-offline')).toMatchObject({ deliveredAt: null, seenAt: null });
    cust.close();
    await cust.waitClose();
  });

  it('lists, for an internal item conversation, users who may see it through access and never the item’s customer', async () => {
    await hub.user('rc-all');
    await hub.user('rc-mine');
    await hub.ok('PATCH', '/v1/participants/rc-mine/preferences', { access: { viewConversations: 'mine' } });
    await hub.ok('PUT', '/v1/items/rc-item', { kind: 'ticket', title: 'x', customerId: 'rc-cust' });
    const internal = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'rc-item', visibility: 'internal' });
    const { message } = await hub.ok('POST', `/v1/conversations/${internal.id}/messages`, { senderId: 'rc-sender', body: 'between us', clientMsgId: 'rc-int' });
    const ids = (await hub.ok('GET', `/v1/messages/${message.id}/receipts`)).recipients.map((r: { participantId: string }) => r.participantId);
    expect(ids).toContain('rc-all');
    expect(ids).not.toContain('rc-cust');
    expect(ids).not.toContain('rc-mine');
    expect(ids).not.toContain('rc-sender');
  });

  it('sets deliveredAt for a connected user who sees an item conversation through access alone', async () => {
    await hub.user('rc-viewer');
    await hub.ok('PUT', '/v1/items/rc-item2', { kind: 'ticket', title: 'y' });
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'item', itemId: 'rc-item2', visibility: 'internal' });
    const viewer = await hub.connect('rc-viewer');
    const { message } = await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'rc-sender', body: 'for all', clientMsgId: 'rc-v1' });
    await viewer.next((f) => f.t === 'message' && f.message.id === message.id);
    const r = await hub.ok('GET', `/v1/messages/${message.id}/receipts`);
    const v = r.recipients.find((x: { participantId: string }) => x.participantId === 'rc-viewer');
    expect(v).toMatchObject({ deliveredAt: expect.any(Number), seenAt: null });
    viewer.close();
    await viewer.waitClose();
  });

  it('sets deliveredAt with seenAt for a recipient who was offline when the message came and later said seen', async () => {
    const conv2 = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'rc-sender', members: ['rc-offline'] });
    const { message } = await hub.ok('POST', `/v1/conversations/${conv2.id}/messages`, { senderId: 'rc-sender', body: 'while you were away', clientMsgId: 'rc-off1' });
    const before = (await hub.ok('GET', `/v1/messages/${message.id}/receipts`)).recipients.find((x: { participantId: string }) => x.participantId === 'rc-offline');
    expect(before).toMatchObject({ deliveredAt: null, seenAt: null });
    const late = await hub.connect('rc-offline');
    late.send({ t: 'seen', conversationId: conv2.id, upTo: message.seq });
    await late.next((f) => f.t === 'receipt' && f.conversationId === conv2.id && f.participantId === 'rc-offline');
    const after = (await hub.ok('GET', `/v1/messages/${message.id}/receipts`)).recipients.find((x: { participantId: string }) => x.participantId === 'rc-offline');
    expect(after.seenAt).toEqual(expect.any(Number));
    expect(after.deliveredAt).toEqual(expect.any(Number));
    expect(after.deliveredAt).toBeLessThanOrEqual(after.seenAt);
    late.close();
    await late.waitClose();
  });

  it('answers an unknown message with 404 not_found', async () => {
    expectHttpError(await hub.api('GET', '/v1/messages/no-such-message/receipts'), 404, 'not_found');
  });
});

describe('POST /v1/tokens', () => {
  beforeAll(async () => {
    await hub.user('tok-user');
  });

  it('mints a token for an hour by default: expiresAt is now + 3600 s and the JWT carries sub and exp', async () => {
    const before = Date.now();
    const r = await hub.api('POST', '/v1/tokens', { sub: 'tok-user' });
    const after = Date.now();
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['expiresAt', 'token']);
    expect(r.body.expiresAt).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(r.body.expiresAt).toBeLessThanOrEqual(after + 3600_000 + 1000);
    const claims = jwtPayload(r.body.token);
    expect(claims.sub).toBe('tok-user');
    expect(Math.abs((claims.exp as number) * 1000 - r.body.expiresAt)).toBeLessThan(1000);
  });

  it('honours ttlSeconds, up to exactly 30 days', async () => {
    const before = Date.now();
    const short = await hub.ok('POST', '/v1/tokens', { sub: 'tok-user', ttlSeconds: 60 });
    expect(short.expiresAt).toBeGreaterThanOrEqual(before + 60_000 - 1000);
    expect(short.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000 + 1000);
    const max = await hub.api('POST', '/v1/tokens', { sub: 'tok-user', ttlSeconds: 30 * 24 * 3600 });
    expect(max.status).toBe(200);
    expect(Math.abs(max.body.expiresAt - (Date.now() + 30 * 24 * 3600_000))).toBeLessThan(5000);
  });

  it.each([
    ['over 30 days', 30 * 24 * 3600 + 1],
    ['zero', 0],
    ['negative', -60],
    ['fractional', 1.5],
    ['a string', '3600'],
  ])('answers a ttlSeconds that is %s with 400 invalid', async (_what, ttlSeconds) => {
    expectHttpError(await hub.api('POST', '/v1/tokens', { sub: 'tok-user', ttlSeconds }), 400, 'invalid');
  });

  it('answers an unknown sub with 404 not_found', async () => {
    expectHttpError(await hub.api('POST', '/v1/tokens', { sub: 'tok-nobody' }), 404, 'not_found');
  });

  it('mints a token the WebSocket accepts for that participant', async () => {
    const { token } = await hub.ok('POST', '/v1/tokens', { sub: 'tok-user' });
    const c = await hub.raw();
    c.send({ t: 'hello', v: 1, token });
    const w = await c.next('welcome');
    expect(w.participant).toEqual({ id: 'tok-user', kind: 'user', name: 'tok-user' });
    c.close();
    await c.waitClose();
  });
});

describe('the API key', () => {
  const routes: Array<[string, string, unknown]> = [
    ['PUT', '/v1/participants/key-p', { kind: 'user', name: 'x' }],
    ['GET', '/v1/participants/key-p', undefined],
    ['GET', '/v1/participants/key-p/preferences', undefined],
    ['PATCH', '/v1/participants/key-p/preferences', { email: { optOut: true } }],
    ['PUT', '/v1/projects/key-prj', { name: 'x' }],
    ['PUT', '/v1/items/key-item', { kind: 'ticket', title: 'x' }],
    ['POST', '/v1/conversations', { kind: 'direct', createdBy: 'key-p', members: [] }],
    ['GET', '/v1/conversations/key-c', undefined],
    ['POST', '/v1/conversations/key-c/messages', { senderId: 'key-p', body: 'x', clientMsgId: 'x' }],
    ['GET', '/v1/conversations/key-c/messages', undefined],
    ['GET', '/v1/messages/key-m/receipts', undefined],
    ['POST', '/v1/tokens', { sub: 'key-p' }],
    ['GET', '/v1/emails', undefined],
    ['GET', '/v1/emails/key-e/raw', undefined],
  ];

  it.each(routes)('is required by %s %s: none, a wrong one or another scheme is 401 unauthenticated', async (method, path, body) => {
    expectHttpError(await call(method, path, body, null), 401, 'unauthenticated');
    expectHttpError(await call(method, path, body, 'Bearer not-the-api-key-at-all'), 401, 'unauthenticated');
    expectHttpError(await call(method, path, body, `Basic ${Buffer.from(`x:${API_KEY}`).toString('base64')}`), 401, 'unauthenticated');
    expectHttpError(await call(method, path, body, API_KEY), 401, 'unauthenticated');
  });

  it('is checked before the body: an unauthenticated invalid body is 401, and an unauthenticated PUT creates nothing', async () => {
    expectHttpError(await call('PUT', '/v1/participants/key-q', { nonsense: true }, null), 401, 'unauthenticated');
    expectHttpError(await call('PUT', '/v1/participants/key-q', { kind: 'user', name: 'x' }, 'Bearer wrong-key-wrong-key'), 401, 'unauthenticated');
    expectHttpError(await hub.api('GET', '/v1/participants/key-q'), 404, 'not_found');
  });

  it('is accepted as a Bearer token', async () => {
    expect((await call('PUT', '/v1/participants/key-r', { kind: 'user', name: 'x' }, `Bearer ${API_KEY}`)).status).toBe(200);
  });
});

describe('the HTTP edge', () => {
  it('answers invalid JSON with 400 invalid', async () => {
    expectHttpError(await hub.api('PUT', '/v1/participants/edge-1', '{"kind": "user", '), 400, 'invalid');
    expectHttpError(await hub.api('POST', '/v1/tokens', 'not json'), 400, 'invalid');
    expectHttpError(await hub.api('GET', '/v1/participants/edge-1'), 404, 'not_found');
  });

  it('answers a missing body where one is required with 400 invalid', async () => {
    expectHttpError(await hub.api('PUT', '/v1/participants/edge-2'), 400, 'invalid');
  });

  it('accepts a valid body of nearly 1 MiB', async () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 100; i++) fields[`f${i}`] = 'v'.repeat(10_000);
    const body = JSON.stringify({ kind: 'ticket', title: 'big', fields });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1_000_000);
    expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
    const r = await hub.api('PUT', '/v1/items/edge-big', body);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.fields)).toHaveLength(100);
  });

  it('answers a body over 1 MiB with 413 too_large', async () => {
    const body = JSON.stringify({ kind: 'user', name: 'x'.repeat(1024 * 1024 + 10) });
    expectHttpError(await hub.api('PUT', '/v1/participants/edge-3', body), 413, 'too_large');
    expectHttpError(await hub.api('GET', '/v1/participants/edge-3'), 404, 'not_found');
  });

  it('answers an unknown route with 404 not_found in SPEC’s error body', async () => {
    expectHttpError(await hub.api('GET', '/v1/nothing-here'), 404, 'not_found');
    expectHttpError(await hub.api('POST', '/v1/participants'), 404, 'not_found');
    expectHttpError(await call('GET', '/nothing', undefined, null), 404, 'not_found');
  });
});

describe('GET /healthz', () => {
  it('answers 200 without the API key', async () => {
    const res = await fetch(hub.url + '/healthz');
    expect(res.status).toBe(200);
  });
});

describe('GET /readyz', () => {
  it('answers 200 without the API key while storage is open', async () => {
    const res = await fetch(hub.url + '/readyz');
    expect(res.status).toBe(200);
  });
});

describe('GET /metrics', () => {
  const value = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  };

  it('returns Prometheus text without the API key, with parley_connections and parley_messages_total', async () => {
    const res = await fetch(hub.url + '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^# HELP parley_connections /m);
    expect(text).toMatch(/^# TYPE parley_connections gauge$/m);
    expect(text).toMatch(/^# TYPE parley_messages_total counter$/m);
  });

  it('counts open connections and stored messages', async () => {
    await hub.user('met-u');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'met-u', members: [] });
    const t0 = await (await fetch(hub.url + '/metrics')).text();
    const c = await hub.connect('met-u');
    await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'met-u', body: 'counted', clientMsgId: 'met-1' });
    const t1 = await (await fetch(hub.url + '/metrics')).text();
    expect(value(t1, 'parley_connections')).toBe(value(t0, 'parley_connections') + 1);
    expect(value(t1, 'parley_messages_total{source="api"}')).toBe(value(t0, 'parley_messages_total{source="api"}') + 1);
    c.close();
    await c.waitClose();
  });

  it('counts frames by type and deliveries, as of each scrape', async () => {
    await hub.user('met-a');
    await hub.user('met-b');
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'met-a', members: ['met-b'] });
    const a = await hub.connect('met-a');
    const b = await hub.connect('met-b');
    const t0 = await (await fetch(hub.url + '/metrics')).text();
    for (const n of [1, 2]) {
      await a.request({ t: 'send', conversationId: conv.id, clientMsgId: `met-frames-${n}`, body: `counted ${n}` }, 'ack');
      await b.next((f) => f.t === 'notify' && f.seq === n);
    }
    const t1 = await (await fetch(hub.url + '/metrics')).text();
    const delta = (series: string) => value(t1, series) - value(t0, series);
    expect(delta('parley_frames_in_total{type="send"}')).toBe(2);
    expect(delta('parley_frames_out_total{type="ack"}')).toBe(2);
    // The sender is not notified of its own message: one notify frame per message, to met-b.
    expect(delta('parley_frames_out_total{type="notify"}')).toBe(2);
    // Every online viewer, the sender's own session included, has each message delivered.
    expect(delta('parley_deliveries_total')).toBe(4);
    expect(delta('parley_messages_total{source="ws"}')).toBe(2);
    a.close();
    b.close();
    await Promise.all([a.waitClose(), b.waitClose()]);
  });
});
