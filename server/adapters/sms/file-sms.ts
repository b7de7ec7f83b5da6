import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SmsError, type OutgoingSms, type SmsSender } from '../../core/ports/index.js';

/** Ids that are safe as a file name: a nanoid's alphabet, nothing that could climb out of the folder. */
const FILE_SAFE = /^[A-Za-z0-9_-]+$/;

/**
 * Without `PARLEY_SMS_URL`: each SMS is captured as `<dataDir>/outbox/<id>.sms.json`, pretty JSON
 * `{id, to, text, createdAt}` (`createdAt` in epoch milliseconds, as everywhere in Parley). The file
 * is written under a temporary name and renamed, so a reader never sees half of one; the same id
 * again replaces the file (a retry is not a second SMS).
 */
export class FileSmsSender implements SmsSender {
  private readonly dir: string;
  private readonly now: () => number;
  private ready: Promise<unknown> | null = null;

  constructor(opts: { dataDir: string; now?: () => number }) {
    this.dir = join(opts.dataDir, 'outbox');
    this.now = opts.now ?? Date.now;
  }

  async send(sms: OutgoingSms): Promise<void> {
    if (!FILE_SAFE.test(sms.id)) throw new SmsError('SMS id cannot be a file name', true);
    const record = { id: sms.id, to: sms.to, text: sms.text, createdAt: this.now() };
    const file = join(this.dir, `${sms.id}.sms.json`);
    // A temp name of its own per call: two concurrent sends of one id must not share it.
    const tmp = `${file}.${randomUUID()}.tmp`;
    try {
      this.ready ??= mkdir(this.dir, { recursive: true });
      await this.ready;
      await writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
      await rename(tmp, file);
    } catch (e) {
      // A failed mkdir is not remembered: the next send tries again.
      this.ready = null;
      throw new SmsError(`SMS not captured: ${e instanceof Error ? e.message : String(e)}`, false, { cause: e });
    }
  }
}
