import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';

/** NOTIFICATIONS §8: an admin session token opens exactly the messaging center's admin routes. */
describe('admin tokens', () => {
  let hub: TestHub;
  const as = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`http://127.0.0.1:${hub.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.user('root', { name: 'Admin' });
    await hub.user('ann', { name: 'Agent' });
    await hub.customer('cus', { name: 'Customer' });
  });
  afterAll(async () => {
    await hub.stop();
  });

  it('opens the admin routes with an admin token, and refuses a plain session token with 403', async () => {
    const admin = (await hub.ok('POST', '/v1/tokens', { sub: 'root', admin: true })).token as string;
    const plain = (await hub.ok('POST', '/v1/tokens', { sub: 'ann' })).token as string;
    for (const path of ['/v1/notification-definitions', '/v1/notification-definitions/export', '/v1/emails', '/v1/inbound-emails', '/v1/system-emails/templates/welcome']) {
      expect((await as(admin, 'GET', path)).status, path).toBe(200);
      expect((await as(plain, 'GET', path)).status, path).toBe(403);
    }
    const created = await as(admin, 'POST', '/v1/notification-definitions', { name: 'By admin', events: ['E'], messages: { en: { subject: 's', body: 'b' } } });
    expect(created.status).toBe(201);
  });

  it('never opens participant, item, token or event routes', async () => {
    const admin = (await hub.ok('POST', '/v1/tokens', { sub: 'root', admin: true })).token as string;
    expect((await as(admin, 'GET', '/v1/participants/ann')).status).toBe(401);
    expect((await as(admin, 'PUT', '/v1/items/T1', { kind: 'ticket', title: 'x' })).status).toBe(401);
    expect((await as(admin, 'POST', '/v1/tokens', { sub: 'root', admin: true })).status).toBe(401);
    expect((await as(admin, 'POST', '/v1/events', { id: 'e1', type: 'E' })).status).toBe(401);
  });

  it('gives admin tokens to users only, and stops honouring one when its user is disabled', async () => {
    expect((await hub.api('POST', '/v1/tokens', { sub: 'cus', admin: true })).status).toBe(400);
    const admin = (await hub.ok('POST', '/v1/tokens', { sub: 'root', admin: true })).token as string;
    await hub.user('root', { name: 'Admin', disabled: true });
    expect((await as(admin, 'GET', '/v1/notification-definitions')).status).toBe(403);
  });
});
