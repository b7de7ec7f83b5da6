import { SignJWT } from 'jose';
import { expect } from 'vitest';
import type { ServerFrame, Summary } from '../../protocol/index.js';
import type { TestClient } from './client.js';
import { JWT_SECRET, type TestHub } from './hub.js';

/**
 * Helpers for the WebSocket protocol tests (test/integration/ws-*.test.ts): hand-made tokens,
 * conversations made through the host API, and assertions on answers.
 */

export interface TokenOptions {
  /** Seconds since the epoch; `null` leaves `exp` out. Default: an hour from now. */
  exp?: number | null;
  secret?: string;
}

/** A session token signed HS256 like the hub's own, with any claims. */
export async function signToken(sub: string, claims: Record<string, unknown> = {}, opts: TokenOptions = {}): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub).setIssuedAt();
  const exp = opts.exp === undefined ? Math.floor(Date.now() / 1000) + 3600 : opts.exp;
  if (exp !== null) jwt = jwt.setExpirationTime(exp);
  return jwt.sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}

/** Open a raw socket, say hello with `token`, and return the first frame the server answers. */
export async function helloWith(hub: TestHub, token: string): Promise<{ client: TestClient; first: ServerFrame }> {
  const client = await hub.raw();
  client.send({ t: 'hello', v: 1, token });
  const first = await client.next(() => true);
  return { client, first };
}

/** A direct conversation made through the host API. */
export function direct(hub: TestHub, createdBy: string, members: string[], subject?: string): Promise<{ id: string; members: string[]; visibility: string }> {
  return hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy, members, ...(subject ? { subject } : {}) });
}

/** An item conversation made through the host API. */
export function itemConversation(hub: TestHub, itemId: string, visibility: 'internal' | 'external'): Promise<{ id: string; members: string[] }> {
  return hub.ok('POST', '/v1/conversations', { kind: 'item', itemId, visibility });
}

/** Post a message through the host API; resolves to the stored message. */
export async function post(hub: TestHub, conversationId: string, senderId: string, body: string, clientMsgId: string): Promise<{ id: string; seq: number; createdAt: number }> {
  const r = await hub.ok<{ message: { id: string; seq: number; createdAt: number } }>('POST', `/v1/conversations/${conversationId}/messages`, { senderId, body, clientMsgId });
  return r.message;
}

/** Assert a frame is an `error` with this code and, when given, exactly this `re` (`null`: no `re` at all). */
export function expectError(frame: ServerFrame, code: string, re?: string | null): asserts frame is Extract<ServerFrame, { t: 'error' }> {
  expect(frame.t, JSON.stringify(frame)).toBe('error');
  if (frame.t !== 'error') return;
  expect(frame.code).toBe(code);
  expect(typeof frame.message).toBe('string');
  if (re === null) expect(frame).not.toHaveProperty('re');
  else if (re !== undefined) expect(frame.re).toBe(re);
}

/** Narrow a reply to the expected type, failing the test with the frame when it is anything else. */
export function expectType<T extends ServerFrame['t']>(frame: ServerFrame, t: T): Extract<ServerFrame, { t: T }> {
  expect(frame.t, JSON.stringify(frame)).toBe(t);
  return frame as Extract<ServerFrame, { t: T }>;
}

/** The `conversation` Summary answering an `open` (fails on an error). */
export async function open(client: TestClient, members: string[], subject?: string): Promise<Summary> {
  const r = await client.request({ t: 'open', members, ...(subject ? { subject } : {}) }, 'conversation');
  return expectType(r, 'conversation').conversation;
}

/** Send a message over WebSocket and return its ack (fails on an error). */
export async function send(client: TestClient, conversationId: string, body: string, clientMsgId: string) {
  const r = await client.request({ t: 'send', conversationId, clientMsgId, body }, 'ack');
  return expectType(r, 'ack');
}

/** Wait until the wall clock has moved on, so that the next thing the hub stamps gets a later millisecond. */
export async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  while (Date.now() <= start + 1) await new Promise((r) => setTimeout(r, 1));
}

export const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** Assert that no client received a frame that breaks the protocol schema. */
export function expectNoViolations(...clients: TestClient[]): void {
  for (const c of clients) expect(c.violations).toEqual([]);
}
