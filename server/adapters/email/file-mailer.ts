import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mailer, OutgoingEmail } from '../../core/ports/index.js';

/** Without SMTP: each email becomes `<dir>/<id>.eml` (written to a temp name, then renamed). */
export class FileMailer implements Mailer {
  private ready: Promise<unknown> | null = null;
  constructor(private readonly dir: string) {}

  async send(email: OutgoingEmail): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const file = join(this.dir, `${email.id}.eml`);
    await writeFile(`${file}.tmp`, email.raw);
    await rename(`${file}.tmp`, file);
  }

  async close(): Promise<void> {}
}
