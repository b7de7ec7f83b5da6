import { expect } from 'vitest';
import type { ServerFrame } from '../../protocol/index.js';
import type { TestClient } from './client.js';

/**
 * Assert SPEC §4's error answer: the status, and a body that is exactly
 * `{"error": {"code", "message", "details?"}}` with the given code.
 */
export function expectHttpError(r: { status: number; body: any }, status: number, code: string): void {
  expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(r.body)).toEqual(['error']);
  expect(typeof r.body.error.message).toBe('string');
  expect(r.body.error.message.length).toBeGreaterThan(0);
  for (const k of Object.keys(r.body.error)) expect(['code', 'message', 'details']).toContain(k);
}

/** Whether a frame mentions a string anywhere (an id, a body). */
export function mentions(f: ServerFrame, s: string): boolean {
  return JSON.stringify(f).includes(s);
}

/** Decode a JWT's payload without verifying it. */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** Every frame a client receives from now on, raw (whether or not a test later takes it with next()). */
export function record(client: TestClient): any[] {
  const log: any[] = [];
  client.ws.on('message', (data, isBinary) => {
    if (!isBinary) log.push(JSON.parse(data.toString()));
  });
  return log;
}
