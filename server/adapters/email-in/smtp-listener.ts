import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../../core/ports/logger.js';

/** The SMTP envelope of one received message, as `deliver` gets it. */
export interface SmtpEnvelope {
  /** The MAIL FROM address as sent; '' for the null sender `<>` (bounces, DSNs). */
  mailFrom: string;
  /** Accepted RCPT TO addresses only, lowercased, without duplicates. */
  rcptTo: string[];
  clientIp: string | null;
  /** The name the client gave with HELO/EHLO. */
  helo: string | null;
}

export interface SmtpListenerOptions {
  host: string;
  /** 0 picks a free port; `listen()` returns the actual one. */
  port: number;
  /** Advertised with SIZE and enforced at DATA (552 5.3.4). */
  maxBytes: number;
  logger: Logger;
  /** With a key and certificate STARTTLS is offered; without, it is not (and never with a built-in certificate). */
  tls?: { key: string; cert: string } | null;
  /** Whether mail to this lowercased address is ours; false → 550 5.1.1 at RCPT TO. A throw/rejection → 451. */
  acceptRecipient(address: string): boolean | Promise<boolean>;
  /** Takes the message; resolved → 250, rejected → 451 4.3.0 (the sender keeps it and retries). */
  deliver(raw: Buffer, envelope: SmtpEnvelope): Promise<void>;
  /** RCPT TO beyond this many accepted recipients → 452 4.5.3 (default 50). */
  maxRecipients?: number;
  /** Text after the host name in the 220 greeting. */
  banner?: string;
}

const SOCKET_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_RECIPIENTS = 50;

/** An error smtp-server turns into a reply; with enhanced status codes on it adds the x.y.z for the code. */
function smtpError(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}

interface SessionStats {
  delivered: number;
  failed: number;
  oversized: number;
  /** Messages cut off by the client hanging up inside DATA. */
  aborted: number;
  rejectedRecipients: number;
}

/**
 * The inbound SMTP listener (SPEC §8): an MX for our reply domain and support address, nothing else.
 * No AUTH and no relaying: every RCPT TO is checked with `acceptRecipient`, so mail to anyone else is
 * refused during the session (550) and the hub never has to bounce to a possibly forged sender. A
 * message is answered 250 only after `deliver` resolved; any failure there is a 451, so the sending
 * server keeps the message and retries instead of it being lost.
 */
export class SmtpListener {
  private readonly server: SMTPServer;
  private readonly opts: SmtpListenerOptions;
  private readonly sessions = new Map<string, SessionStats>();

  constructor(opts: SmtpListenerOptions) {
    this.opts = opts;
    const tls = opts.tls ?? null;
    this.server = new SMTPServer({
      secure: false,
      ...(tls ? { key: tls.key, cert: tls.cert } : {}),
      disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      authOptional: true,
      size: opts.maxBytes,
      // The server answers an oversized message 552 5.3.4 whatever onData reports; onData also checks.
      rejectOversized: true,
      maxRecipients: opts.maxRecipients ?? DEFAULT_MAX_RECIPIENTS,
      hideENHANCEDSTATUSCODES: false,
      // Reverse DNS of every client would only add latency and a DNS dependency; we log the IP.
      disableReverseLookup: true,
      socketTimeout: SOCKET_TIMEOUT_MS,
      closeTimeout: CLOSE_TIMEOUT_MS,
      logger: false,
      ...(opts.banner !== undefined ? { banner: opts.banner } : {}),
      onConnect: (session, cb) => {
        this.sessions.set(session.id, { delivered: 0, failed: 0, oversized: 0, aborted: 0, rejectedRecipients: 0 });
        cb();
      },
      onRcptTo: (address, session, cb) => this.handleRcptTo(address, session, cb),
      onData: (stream, session, cb) => this.handleData(stream, session, cb),
      onClose: (session) => this.handleClose(session),
    });
    // smtp-server re-emits socket and TLS errors here; an EventEmitter without an 'error' listener throws.
    this.server.on('error', (err: Error) => {
      this.opts.logger.warn('smtp-in: connection error', { error: err.message, code: (err as { code?: unknown }).code });
    });
  }

  /** Starts listening; resolves with the bound port (the real one when `port` was 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const netServer = this.server.server;
      const onError = (err: Error) => reject(err);
      netServer.once('error', onError);
      this.server.listen(this.opts.port, this.opts.host, () => {
        netServer.off('error', onError);
        const port = (netServer.address() as AddressInfo).port;
        this.opts.logger.info('smtp-in: listening', { host: this.opts.host, port, tls: Boolean(this.opts.tls) });
        resolve(port);
      });
    });
  }

  /**
   * Stops accepting connections at once; sessions in progress get CLOSE_TIMEOUT_MS to finish (a
   * message whose `deliver` is pending still gets its reply), then the rest are sent 421 and closed.
   */
  close(): Promise<void> {
    if (!this.server.server.listening) return Promise.resolve();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handleRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const rcpt = address.address.toLowerCase();
    Promise.resolve()
      .then(() => this.opts.acceptRecipient(rcpt))
      .then(
        (ok) => {
          if (ok) return cb();
          const stats = this.sessions.get(session.id);
          if (stats) stats.rejectedRecipients++;
          cb(smtpError(550, 'No such recipient here'));
        },
        (err: unknown) => {
          this.opts.logger.error('smtp-in: recipient check failed', { session: session.id, error: errorMessage(err) });
          cb(smtpError(451, 'Temporary failure checking the recipient, try again later'));
        },
      );
  }

  private handleData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const chunks: Buffer[] = [];
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      // Past the limit the rest is only drained, never held: a huge message costs no memory.
      if (bytes <= this.opts.maxBytes) chunks.push(chunk);
    });
    // Emitted only when the client hangs up mid-message; 'end' never follows, nothing is delivered.
    stream.on('error', () => {
      const stats = this.sessions.get(session.id);
      if (stats) stats.aborted++;
    });
    stream.on('end', () => {
      const stats = this.sessions.get(session.id);
      const envelope = envelopeOf(session);
      const fields = { session: session.id, clientIp: envelope.clientIp, recipients: envelope.rcptTo.length };
      if (stream.sizeExceeded || bytes > this.opts.maxBytes) {
        if (stats) stats.oversized++;
        this.opts.logger.info('smtp-in: message refused, too large', { ...fields, bytes: stream.byteLength, maxBytes: this.opts.maxBytes });
        cb(smtpError(552, `Message exceeds the maximum size of ${this.opts.maxBytes} bytes`));
        return;
      }
      const raw = Buffer.concat(chunks, bytes);
      this.opts.deliver(raw, envelope).then(
        () => {
          if (stats) stats.delivered++;
          this.opts.logger.info('smtp-in: message accepted', { ...fields, bytes });
          cb();
        },
        (err: unknown) => {
          if (stats) stats.failed++;
          this.opts.logger.error('smtp-in: delivery failed, answered 451', { ...fields, bytes, error: errorMessage(err) });
          cb(smtpError(451, 'Temporary failure, try again later'));
        },
      );
    });
  }

  private handleClose(session: SMTPServerSession): void {
    const stats = this.sessions.get(session.id);
    this.sessions.delete(session.id);
    if (!stats) return;
    this.opts.logger.info('smtp-in: session closed', {
      session: session.id,
      clientIp: session.remoteAddress || null,
      helo: heloOf(session),
      tls: session.secure,
      ...stats,
    });
  }
}

function heloOf(session: SMTPServerSession): string | null {
  // Typed as a string, but false until the client has sent HELO/EHLO.
  const helo: unknown = session.hostNameAppearsAs;
  return typeof helo === 'string' && helo !== '' ? helo : null;
}

function envelopeOf(session: SMTPServerSession): SmtpEnvelope {
  const from = session.envelope.mailFrom;
  const rcptTo = [...new Set(session.envelope.rcptTo.map((r) => r.address.toLowerCase()))];
  return {
    mailFrom: from ? from.address : '',
    rcptTo,
    clientIp: session.remoteAddress || null,
    helo: heloOf(session),
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
