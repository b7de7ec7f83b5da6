import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { ServerFrame } from '../../protocol/index.js';
import type { TestClient } from './client.js';
import type { TestHub } from './hub.js';
import { signToken } from './ws.js';

/**
 * Helpers for the abuse suite (test/abuse/): the limits of SPEC §3 "Limits" replayed against a real
 * hub. Nothing here measures time; memory is read from /proc.
 */

/** The default limits (server/core/limits.ts): the abuse suite runs these, not TestHub's relaxed session limit. */
export const DEFAULT_ENV = { PARLEY_MAX_SESSIONS_PER_PARTICIPANT: '10' } as const;

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; `peak` is the largest sample. */
export class RssSampler {
  peak = 0;
  samples = 0;
  private timer: NodeJS.Timeout;
  constructor(
    private readonly pid: number,
    everyMs = 25,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): void {
    try {
      this.peak = Math.max(this.peak, rssBytes(this.pid));
      this.samples++;
    } catch {
      // the process is gone: keep what was sampled
    }
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/**
 * Whether process `pid` still holds the TCP socket whose local port is `localPort` and whose peer
 * port is `remotePort` (from /proc/<pid>/net/tcp and the process's file descriptors).
 */
export function holdsSocket(pid: number, localPort: number, remotePort: number): boolean {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    if (cols[1]!.endsWith(`:${hex(localPort)}`) && cols[2]!.endsWith(`:${hex(remotePort)}`) && cols[9] !== '0') inodes.add(cols[9]!);
  }
  if (inodes.size === 0) return false;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1]!)) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

export function hubPid(hub: TestHub): number {
  const pid = hub.proc?.pid;
  if (!pid) throw new Error('hub has no process');
  return pid;
}

/** A token with just-in-time claims (SPEC §3 Token): what a widget visitor gets. */
export function jitToken(sub: string, kind: 'user' | 'customer', extra: Record<string, unknown> = {}): Promise<string> {
  return signToken(sub, { kind, name: `${kind} ${sub}`, ...extra });
}

/** Say hello with `token` on a fresh socket; the first frame answering it (welcome or error). */
export async function hello(hub: TestHub, token: string): Promise<{ client: TestClient; first: ServerFrame }> {
  const client = await hub.raw();
  client.send({ t: 'hello', v: 1, token });
  const first = await client.next(() => true, 10_000);
  return { client, first };
}

/**
 * A welcomed session for `token`, retrying while the participant is at its session limit (a session
 * closed a moment ago may not have left the hub yet).
 */
export async function connectWith(hub: TestHub, token: string, attempts = 100): Promise<TestClient> {
  for (let i = 0; ; i++) {
    const { client, first } = await hello(hub, token);
    if (first.t === 'welcome') return client;
    client.terminate();
    if (first.t !== 'error' || first.code !== 'rate_limited' || i >= attempts) throw new Error(`hello refused: ${JSON.stringify(first)}`);
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll `check` until it returns true (a positive signal), failing after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Every frame a client receives, in order, whatever else takes them from its queue. */
export function tap(client: TestClient): ServerFrame[] {
  const seen: ServerFrame[] = [];
  client.ws.on('message', (data, isBinary) => {
    if (!isBinary) seen.push(JSON.parse(data.toString()) as ServerFrame);
  });
  return seen;
}

/** What one connection of a flood got back. */
export interface FloodResult {
  answers: ServerFrame[];
  close: { code: number; reason: string } | null;
}

/**
 * Send `frames` down a welcomed connection at once, then wait until each one with an `id` is
 * answered or the hub closes the connection. Answers are taken by `re`; frames without `id` are
 * answered only by errors, so those are collected too.
 */
export async function flood(client: TestClient, frames: Array<Record<string, unknown>>, timeoutMs = 20_000): Promise<FloodResult> {
  const ids = new Set(frames.map((f) => f.id).filter((x): x is string => typeof x === 'string'));
  const answers: ServerFrame[] = [];
  const seen: ServerFrame[] = [];
  const onMessage = (data: unknown, isBinary: boolean) => {
    if (!isBinary) seen.push(JSON.parse(String(data)) as ServerFrame);
  };
  client.ws.on('message', onMessage);
  for (const f of frames) client.send(f);
  const answered = () => answers.length;
  const deadline = Date.now() + timeoutMs;
  let errorsWithoutRe = 0;
  const collect = () => {
    answers.length = 0;
    errorsWithoutRe = 0;
    for (const f of seen) {
      if ('re' in f && typeof f.re === 'string' && ids.has(f.re)) answers.push(f);
      else if (f.t === 'error' && !('re' in f)) {
        answers.push(f);
        errorsWithoutRe++;
      }
    }
  };
  const expected = ids.size > 0 ? ids.size : frames.length;
  for (;;) {
    collect();
    if (client.closed || answered() >= expected) break;
    if (Date.now() > deadline) {
      client.ws.off('message', onMessage);
      throw new Error(`flood: ${answered()} of ${expected} answered, connection open`);
    }
    await sleep(client.closed ? 0 : 5);
  }
  // A close is reported after the frames sent before it: collect them all.
  if (client.closed) collect();
  client.ws.off('message', onMessage);
  return { answers, close: client.closed };
}

/** Count frames by type (`error` split by code). */
export function tally(frames: readonly ServerFrame[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of frames) {
    const k = f.t === 'error' ? `error:${f.code}` : f.t;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
