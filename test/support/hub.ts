import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestClient } from './client.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The `npm start` entry, built by `npm test` before vitest runs. */
export const ENTRY = join(ROOT, 'dist', 'server', 'main.js');
export const API_KEY = 'test-api-key-0123456789abcdef';
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

export interface HubOptions {
  env?: Record<string, string>;
  /** Reuse a data dir (restart tests); a fresh temp dir otherwise. */
  dataDir?: string;
}

/**
 * A real hub process (the `npm start` entry) on port 0 with its own data dir, and helpers to talk
 * to it over HTTP and WebSocket.
 */
export class TestHub {
  readonly dataDir: string;
  port = 0;
  proc: ChildProcess | null = null;
  output = '';
  private clients: TestClient[] = [];
  private ownsDataDir: boolean;

  constructor(private readonly opts: HubOptions = {}) {
    this.ownsDataDir = !opts.dataDir;
    this.dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-test-'));
  }

  static async start(opts: HubOptions = {}): Promise<TestHub> {
    const hub = new TestHub(opts);
    await hub.launch();
    return hub;
  }

  async launch(): Promise<void> {
    const proc = spawn(process.execPath, [ENTRY], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        PARLEY_PORT: '0',
        PARLEY_HOST: '127.0.0.1',
        PARLEY_DATA_DIR: this.dataDir,
        PARLEY_API_KEY: API_KEY,
        PARLEY_JWT_SECRET: JWT_SECRET,
        PARLEY_LOG_LEVEL: 'info',
        // Test files keep their clients open until the hub stops, many per participant; the abuse
        // suite (test/abuse/) runs the default session limit.
        PARLEY_MAX_SESSIONS_PER_PARTICIPANT: '1000',
        ...this.opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.output = '';
    this.port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`hub did not start:\n${this.output}`)), 15_000);
      const onData = (d: Buffer) => {
        this.output += d.toString();
        const m = /"msg":"listening"[^\n]*"port":(\d+)/.exec(this.output);
        if (m) {
          clearTimeout(timer);
          resolvePort(Number(m[1]));
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`hub exited with ${code}:\n${this.output}`));
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Call the host API with the API key. Returns status and parsed JSON (or text). */
  async api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T };
  }

  /** Like api() but fails the test unless the status is 2xx. */
  async ok<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.api<T>(method, path, body);
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  user(id: string, extra: Record<string, unknown> = {}) {
    return this.ok('PUT', `/v1/participants/${id}`, { kind: 'user', name: id, email: `${id}@example.com`, ...extra });
  }
  customer(id: string, extra: Record<string, unknown> = {}) {
    return this.ok('PUT', `/v1/participants/${id}`, { kind: 'customer', name: id, email: `${id}@example.org`, ...extra });
  }
  bot(id: string, extra: Record<string, unknown> = {}) {
    return this.ok('PUT', `/v1/participants/${id}`, { kind: 'bot', name: id, ...extra });
  }
  async token(sub: string): Promise<string> {
    return (await this.ok<{ token: string }>('POST', '/v1/tokens', { sub })).token;
  }

  /** A raw WebSocket client, not yet authenticated. */
  async raw(): Promise<TestClient> {
    const c = await TestClient.open(`ws://127.0.0.1:${this.port}/v1/ws`);
    this.clients.push(c);
    return c;
  }

  /** A client that has said hello as `sub` and received its welcome. */
  async connect(sub: string): Promise<TestClient> {
    const c = await this.raw();
    c.send({ t: 'hello', v: 1, token: await this.token(sub) });
    await c.next('welcome');
    return c;
  }

  /** kill -9: no flush, no goodbye. */
  async crash(): Promise<void> {
    await this.killWith('SIGKILL');
  }

  killWith(signal: NodeJS.Signals): Promise<number | null> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc?.exitCode ?? null);
    return new Promise((r) => {
      proc.once('exit', (code) => r(code));
      proc.kill(signal);
    });
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.terminate();
    await this.killWith('SIGTERM');
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
