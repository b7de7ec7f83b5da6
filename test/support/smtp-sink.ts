import { SMTPServer } from 'smtp-server';
import PostalMime, { type Email } from 'postal-mime';
import type { AddressInfo } from 'node:net';

export interface Received {
  from: string;
  to: string[];
  raw: string;
  mail: Email;
  /** Header lookup, case-insensitive; the first value. */
  header(name: string): string | undefined;
}

/**
 * A real SMTP server in the test process (smtp-server), capturing every message and parsing it
 * with postal-mime. It can refuse recipients permanently, and be stopped and started again on the
 * same port to play an outage.
 */
export class SmtpSink {
  readonly received: Received[] = [];
  /** Recipients answered 550 at RCPT TO. */
  readonly reject = new Set<string>();
  port = 0;
  private server: SMTPServer | null = null;
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  static async start(port = 0): Promise<SmtpSink> {
    const sink = new SmtpSink();
    await sink.listen(port);
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async listen(port = this.port): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, cb) => {
        if (this.reject.has(address.address)) {
          const err = new Error('550 5.1.1 mailbox unavailable') as Error & { responseCode: number };
          err.responseCode = 550;
          return cb(err);
        }
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          void PostalMime.parse(raw).then((mail) => {
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            this.received.push({
              from,
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              mail,
              header: (name) => mail.headers.find((h) => h.key === name.toLowerCase())?.value,
            });
            this.notify();
            cb();
          }, cb);
        });
      },
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
  }

  /** Stop listening (and drop open connections): the hub sees an outage. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.received.length < w.n) return true;
      w.resolve();
      return false;
    });
  }

  /** Wait until `n` messages have arrived in all. */
  waitFor(n: number, timeoutMs = 15_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${n} emails, got ${this.received.length}`)), timeoutMs);
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  to(address: string): Received[] {
    return this.received.filter((r) => r.to.includes(address));
  }
}
