import PostalMime from 'postal-mime';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotificationEmail } from '../../../../server/core/ports/index.js';
// The built modules: the thread runs dist/…/composer-worker.js, as the hub does (npm test builds first).
import { ThreadedComposer } from '../../../../dist/server/adapters/email/composer-thread.js';
import { LiquidComposer } from '../../../../dist/server/adapters/email/liquid-composer.js';

const FROM = 'Acme Support <notify@chat.example.com>';
const quiet = { info() {}, warn() {}, error() {} };

function note(i: number): NotificationEmail {
  return {
    emailId: `N${i}`,
    createdAt: Date.UTC(2026, 11, 7, 12, 0, i),
    to: { name: 'Dana Ölberg', email: 'dana@example.org', locale: 'de' },
    subject: `[Ticket#${i}] Printer prints blank pages`,
    body: `Hallo Dana,\n\nticket ${i} changed.`,
    contentType: 'text/plain',
    threadKey: `i.T${i}`,
    recipientKey: 'dana',
    unsubscribeUrl: null,
  };
}

describe('ThreadedComposer (notification emails composed on a thread of their own)', () => {
  let composer: ThreadedComposer | null = null;
  afterEach(async () => {
    await composer?.close();
  });

  it('builds on its thread exactly the email the main thread would', async () => {
    const inner = new LiquidComposer({ from: FROM, logger: quiet });
    composer = new ThreadedComposer(inner, { from: FROM, logger: quiet });
    expect(composer.threaded).toBe(false);
    const threaded = await composer.compose('notification', note(1));
    expect(composer.threaded).toBe(true);
    const here = await inner.compose('notification', note(1));
    // The MIME boundary is random: everything else is the same.
    const boundary = (raw: string) => raw.replace(/--_NmP-[0-9a-f-]+/g, 'B').replace(/boundary="[^"]+"/g, 'boundary="B"');
    expect(boundary(threaded.raw)).toBe(boundary(here.raw));
    expect(threaded).toMatchObject({ messageId: here.messageId, subject: here.subject, to: 'dana@example.org', template: 'notification.default' });
    const mail = await PostalMime.parse(threaded.raw);
    expect(mail.subject).toBe('[Ticket#1] Printer prints blank pages');
    expect(mail.text).toContain('ticket 1 changed.');
  });

  it('loses no email when the thread stops: what it held is composed on the main thread', async () => {
    composer = new ThreadedComposer(new LiquidComposer({ from: FROM, logger: quiet }), { from: FROM, logger: quiet });
    const pending = Array.from({ length: 200 }, (_, i) => composer!.compose('notification', note(i)));
    expect(composer.threaded).toBe(true);
    await composer.close();
    expect(composer.threaded).toBe(false);
    const done = await Promise.all(pending);
    expect(done.map((e) => e.messageId)).toEqual(Array.from({ length: 200 }, (_, i) => `<e.N${i}@chat.example.com>`));
  });
});
