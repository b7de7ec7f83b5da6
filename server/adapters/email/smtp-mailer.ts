import nodemailer from 'nodemailer';
import { MailerError, type Mailer, type OutgoingEmail } from '../../core/ports/index.js';

/**
 * SMTP through nodemailer's pooled transport: a few long-lived connections, reused across emails.
 * A 5xx reply is a permanent failure (with the server's reply as the message); everything else —
 * refused connections, timeouts, 4xx — is temporary and retried by the outbox worker.
 */
export class SmtpMailer implements Mailer {
  private readonly transport: ReturnType<typeof nodemailer.createTransport>;

  constructor(opts: { url: string; maxConnections?: number }) {
    this.transport = nodemailer.createTransport({
      url: opts.url,
      pool: true,
      maxConnections: opts.maxConnections ?? 8,
      maxMessages: 1000,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    } as Parameters<typeof nodemailer.createTransport>[0]);
  }

  async send(email: OutgoingEmail): Promise<void> {
    try {
      await this.transport.sendMail({ envelope: { from: email.from, to: [email.to] }, raw: email.raw });
    } catch (e) {
      const err = e as { responseCode?: number; response?: string; message?: string };
      const permanent = typeof err.responseCode === 'number' && err.responseCode >= 500 && err.responseCode < 600;
      throw new MailerError(err.response ?? err.message ?? String(e), permanent);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
