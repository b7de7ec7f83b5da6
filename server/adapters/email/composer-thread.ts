import { Worker } from 'node:worker_threads';
import type { ComposedEmail, EmailComposer, EmailTemplateId, EmailTemplates, Logger } from '../../core/ports/index.js';

/** What the thread is told: compose one notification email. */
export interface ComposeRequest {
  id: number;
  data: EmailTemplates['notification'];
}
/** What it answers: the email, or why not. */
export type ComposeReply = { id: number; email: ComposedEmail } | { id: number; error: string };

interface Pending {
  data: EmailTemplates['notification'];
  resolve: (e: ComposedEmail) => void;
  reject: (e: unknown) => void;
}

/**
 * Composes notification emails on a thread of their own, so that an event storm's thousands of MIME
 * messages (LiquidJS, nodemailer's streams, quoted-printable, boundaries) are built beside the event
 * loop that chat and the rules share, not on it. Only `notification` goes there: its data is the whole
 * email (subject and body rendered when the event was committed), while escalation and system emails
 * read templates an admin may have changed in this process, and a broadcast reuses one composed
 * message per broadcast.
 *
 * The thread starts with the first notification email (an idle hub pays nothing for it). If it dies,
 * what it held is composed here instead and the next email starts a new one: an email is never lost
 * to the thread.
 */
export class ThreadedComposer implements EmailComposer {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly inner: EmailComposer,
    private readonly opts: { from: string; logger: Logger },
  ) {}

  /** Whether the thread is up (it starts with the first notification email). */
  get threaded(): boolean {
    return this.worker !== null;
  }

  compose<T extends EmailTemplateId>(templateId: T, data: EmailTemplates[T]): Promise<ComposedEmail> {
    if (templateId !== 'notification' || this.closed) return this.inner.compose(templateId, data);
    return this.offload(data as EmailTemplates['notification']);
  }

  private offload(data: EmailTemplates['notification']): Promise<ComposedEmail> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<ComposedEmail>((resolve, reject) => {
      this.pending.set(id, { data, resolve, reject });
      worker.postMessage({ id, data } satisfies ComposeRequest);
    });
  }

  /** Stop the thread; what it still held is composed here. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.takeBack();
  }

  private start(): Worker {
    const w = new Worker(new URL('./composer-worker.js', import.meta.url), { workerData: { from: this.opts.from } });
    // The outbox waits on it, not the process: an idle thread keeps nothing alive.
    w.unref();
    w.on('message', (reply: ComposeReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('email' in reply) p.resolve(reply.email);
      else p.reject(new Error(reply.error));
    });
    const lost = (why: string) => {
      if (this.worker !== w) return;
      this.worker = null;
      if (!this.closed) this.opts.logger.warn('email composer thread stopped; composing on the main thread until it restarts', { reason: why });
      this.takeBack();
    };
    w.on('error', (e) => lost(String(e)));
    w.on('exit', (code) => lost(`exit ${code}`));
    this.worker = w;
    return w;
  }

  /** Compose here whatever a stopped thread still held. */
  private takeBack(): void {
    const held = [...this.pending.values()];
    this.pending.clear();
    for (const p of held) this.inner.compose('notification', p.data).then(p.resolve, p.reject);
  }
}
