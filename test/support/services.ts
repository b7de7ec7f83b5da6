import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';

/**
 * The outside services some suites run against (PostgreSQL, Redis). A suite asks for its service's URL:
 * null when it is not reachable, and the suite then skips loudly — unless PARLEY_REQUIRE_SERVICES=1
 * (CI), where an unreachable service fails the run instead of passing it quietly.
 *
 * URLs: PARLEY_TEST_DATABASE_URL / PARLEY_TEST_REDIS_URL, else the local defaults below.
 */

/** Whether a missing service fails the run (PARLEY_REQUIRE_SERVICES=1) rather than skipping its suites. */
export function requireServices(): boolean {
  return process.env.PARLEY_REQUIRE_SERVICES === '1';
}

/** The PostgreSQL server the store suites use, or null when nothing answers there. */
export async function postgresUrl(): Promise<string | null> {
  return reachable('PostgreSQL', process.env.PARLEY_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres', 5432);
}

/** The Redis server the bus, presence and membership suites use, or null when nothing answers there. */
export async function redisUrl(): Promise<string | null> {
  return reachable('Redis', process.env.PARLEY_TEST_REDIS_URL || 'redis://127.0.0.1:6379', 6379);
}

/**
 * `url` when a TCP connection to its host and port opens within a second. Otherwise: with
 * PARLEY_REQUIRE_SERVICES=1 throw (the suite fails to load); else print a banner and return null.
 */
async function reachable(name: string, url: string, defaultPort: number): Promise<string | null> {
  const u = new URL(url);
  const host = (u.hostname || '127.0.0.1').replace(/^\[|\]$/g, '');
  const port = Number(u.port || defaultPort);
  const ok = await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (ok) return url;
  const where = `${host}:${port}`;
  if (requireServices()) throw new Error(`${name} not reachable at ${where}, and PARLEY_REQUIRE_SERVICES=1`);
  const line = '*'.repeat(72);
  console.warn(`\n${line}\n  SKIPPED: ${name} not reachable at ${where}\n  (set PARLEY_REQUIRE_SERVICES=1 to fail instead)\n${line}\n`);
  return null;
}

/**
 * A new, empty database on the PostgreSQL server at `serverUrl` (for one test or one suite): its URL,
 * and `drop()`, which ends every connection to it and removes it.
 */
export async function freshPostgresDatabase(serverUrl: string, prefix = 'parley_test'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    drop: async () => {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * A TCP relay in front of a service: a store or hub connects through it, and a test cuts it (every
 * connection dropped, new ones refused) and starts it again on the same port — the service unreachable
 * and back, without touching the server other suites use.
 */
export class TcpRelay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** The relay's port (0 until the first start; kept across cuts). */
  port = 0;

  /** `delayMs`: what goes to the target arrives that much later, in order (a client far from it). */
  constructor(
    private readonly target: { host: string; port: number },
    private readonly opts: { delayMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      const delayMs = this.opts.delayMs ?? 0;
      if (delayMs > 0) client.on('data', (chunk: Buffer) => void setTimeout(() => upstream.write(chunk), delayMs));
      else client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
