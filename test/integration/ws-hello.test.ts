import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { expectError, expectNoViolations, expectType, helloWith, signToken } from '../support/ws.js';

/** SPEC §3 Lifecycle and Token: hello, welcome, and every way a connection is refused. */
describe('hello and welcome', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
    await hub.user('alice', { name: 'Alice Agent' });
    await hub.customer('carol', { name: 'Carol Customer' });
  });
  afterAll(() => hub.stop());

  it('a valid hello is answered by a welcome naming the protocol, session, participant, time, heartbeat and limits', async () => {
    const before = Date.now();
    const { client, first } = await helloWith(hub, await hub.token('alice'));
    const after = Date.now();
    const w = expectType(first, 'welcome');
    expect(w.v).toBe(1);
    expect(typeof w.sessionId).toBe('string');
    expect(w.sessionId.length).toBeGreaterThan(0);
    expect(w.participant).toEqual({ id: 'alice', kind: 'user', name: 'Alice Agent' });
    expect(w.serverTime).toBeGreaterThanOrEqual(before);
    expect(w.serverTime).toBeLessThanOrEqual(after);
    expect(Number.isInteger(w.heartbeatMs)).toBe(true);
    expect(w.heartbeatMs).toBeGreaterThan(0);
    expect(w.limits).toEqual({ maxBodyChars: 16000, maxFrameBytes: 65536 });
    await client.sync();
    expect(client.closed).toBeNull();
    expectNoViolations(client);
  });

  it('every session gets a sessionId of its own, and a customer is welcomed as a customer', async () => {
    const a = expectType((await helloWith(hub, await hub.token('carol'))).first, 'welcome');
    const b = expectType((await helloWith(hub, await hub.token('carol'))).first, 'welcome');
    expect(a.participant).toEqual({ id: 'carol', kind: 'customer', name: 'Carol Customer' });
    expect(b.participant).toEqual(a.participant);
    expect(a.sessionId).not.toBe(b.sessionId);
  });

  it('a first frame other than hello is answered unauthenticated and the connection is closed with 4001', async () => {
    const client = await hub.raw();
    client.send({ t: 'ping', id: 'p1' });
    expectError(await client.next('error'), 'unauthenticated');
    expect((await client.waitClose()).code).toBe(4001);
    expect(client.queued('pong')).toEqual([]);
    expectNoViolations(client);
  });

  it('a hello with a token that is not a JWT is answered unauthenticated and closed with 4001', async () => {
    const { client, first } = await helloWith(hub, 'not-a-token');
    expectError(first, 'unauthenticated');
    expect((await client.waitClose()).code).toBe(4001);
    expectNoViolations(client);
  });

  it('a hello with a token signed by another secret is answered unauthenticated and closed with 4001', async () => {
    const token = await signToken('alice', {}, { secret: 'some-other-secret-0123456789abcdef0123456789' });
    const { client, first } = await helloWith(hub, token);
    expectError(first, 'unauthenticated');
    expect((await client.waitClose()).code).toBe(4001);
    expectNoViolations(client);
  });

  it('a hello with an expired token is answered token_expired and closed with 4001', async () => {
    const token = await signToken('alice', {}, { exp: Math.floor(Date.now() / 1000) - 60 });
    const { client, first } = await helloWith(hub, token);
    expectError(first, 'token_expired');
    expect((await client.waitClose()).code).toBe(4001);
    expectNoViolations(client);
  });

  it('a hello with a token without exp is answered unauthenticated and closed with 4001', async () => {
    const token = await signToken('alice', {}, { exp: null });
    const { client, first } = await helloWith(hub, token);
    expectError(first, 'unauthenticated');
    expect((await client.waitClose()).code).toBe(4001);
    expectNoViolations(client);
  });

  it('a hello from a disabled participant is answered forbidden and closed with 4003', async () => {
    await hub.user('dora', { disabled: true });
    const { client, first } = await helloWith(hub, await signToken('dora'));
    expectError(first, 'forbidden');
    expect((await client.waitClose()).code).toBe(4003);
    expectNoViolations(client);
  });

  it('an open session is told forbidden and closed with 4003 when its participant is disabled', async () => {
    await hub.user('erin');
    const client = await hub.connect('erin');
    await hub.user('erin', { disabled: true });
    expectError(await client.next('error'), 'forbidden');
    expect((await client.waitClose()).code).toBe(4003);
    expectNoViolations(client);
  });

  it('a token for an unknown id that carries kind customer and a name creates that customer', async () => {
    expect((await hub.api('GET', '/v1/participants/visitor-1')).status).toBe(404);
    const token = await signToken('visitor-1', { kind: 'customer', name: 'Web Visitor', email: 'visitor@example.org' });
    const { client, first } = await helloWith(hub, token);
    const w = expectType(first, 'welcome');
    expect(w.participant).toEqual({ id: 'visitor-1', kind: 'customer', name: 'Web Visitor' });
    const stored = await hub.ok('GET', '/v1/participants/visitor-1');
    expect(stored).toMatchObject({ id: 'visitor-1', kind: 'customer', name: 'Web Visitor', email: 'visitor@example.org', disabled: false });
    expectNoViolations(client);
  });

  it('a token for an unknown id that carries kind user and a name creates that user', async () => {
    const token = await signToken('agent-jit', { kind: 'user', name: 'New Agent' });
    const { client, first } = await helloWith(hub, token);
    expect(expectType(first, 'welcome').participant).toEqual({ id: 'agent-jit', kind: 'user', name: 'New Agent' });
    expect(await hub.ok('GET', '/v1/participants/agent-jit')).toMatchObject({ id: 'agent-jit', kind: 'user', name: 'New Agent', disabled: false });
    expectNoViolations(client);
  });

  it('a hello may name the client', async () => {
    const client = await hub.raw();
    client.send({ t: 'hello', v: 1, token: await hub.token('alice'), client: { name: 'parley-web', version: '1.2.3' } });
    expect((await client.next('welcome')).participant.id).toBe('alice');
    expectNoViolations(client);
  });

  it('a token for an unknown id without kind and name is refused unauthenticated with 4001 and creates nobody', async () => {
    const { client, first } = await helloWith(hub, await signToken('nobody-1'));
    expectError(first, 'unauthenticated');
    expect((await client.waitClose()).code).toBe(4001);
    expect((await hub.api('GET', '/v1/participants/nobody-1')).status).toBe(404);
  });

  it('a token whose kind differs from the stored participant is refused unauthenticated with 4001', async () => {
    const token = await signToken('alice', { kind: 'customer', name: 'Alice Agent' });
    const { client, first } = await helloWith(hub, token);
    expectError(first, 'unauthenticated');
    expect((await client.waitClose()).code).toBe(4001);
    expect(await hub.ok('GET', '/v1/participants/alice')).toMatchObject({ kind: 'user' });
    expectNoViolations(client);
  });

  it('a hello with an unsupported protocol version is refused unauthenticated with 4001', async () => {
    const client = await hub.raw();
    client.send({ t: 'hello', v: 2, token: await hub.token('alice') });
    expectError(await client.next('error'), 'unauthenticated');
    expect((await client.waitClose()).code).toBe(4001);
  });
});

describe('the hello deadline', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_HELLO_TIMEOUT_MS: '300' } });
  });
  afterAll(() => hub.stop());

  it('a connection that says nothing within the deadline is told unauthenticated and closed with 4001', async () => {
    const started = Date.now();
    const client = await hub.raw();
    expectError(await client.next('error', 3000), 'unauthenticated', null);
    expect((await client.waitClose()).code).toBe(4001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expectNoViolations(client);
  });
});
