import type { NotificationSeenFrame, NotificationsFrame } from '../../../protocol/index.js';
import type { Session } from '../session.js';
import type { HubContext } from './context.js';
import type { Guard } from './guard.js';

/**
 * A user's web notifications over WebSocket (SPEC §3 `notifications`, `notification_seen`). Customers
 * never get web notifications: their list is empty. Pushing new ones is the notifier's (through the
 * participant's topic).
 */
export class NotificationUseCases {
  constructor(
    private readonly ctx: HubContext,
    private readonly guard: Guard,
  ) {}

  async list(s: Session, f: NotificationsFrame): Promise<void> {
    const p = s.participant!;
    const page =
      p.kind === 'user'
        ? await this.ctx.store.listNotifications(p.id, f.before, f.limit ?? 50)
        : { notifications: [], hasMore: false, unseen: 0 };
    // Like history, a page stops early at the reply byte cap and says there is more.
    let bytes = 1024;
    let kept = 0;
    for (const n of page.notifications) {
      bytes += Buffer.byteLength(JSON.stringify(n)) + 1;
      if (bytes > this.ctx.limits.maxReplyBytes && kept > 0) break;
      kept++;
    }
    const cut = kept < page.notifications.length;
    this.guard.sendReply(s, { t: 'notifications', re: f.id, notifications: page.notifications.slice(0, kept), unseen: page.unseen, hasMore: page.hasMore || cut });
  }

  async seen(s: Session, f: NotificationSeenFrame): Promise<void> {
    const p = s.participant!;
    if (p.kind !== 'user') return;
    await this.ctx.store.markNotificationsSeen(p.id, [...new Set(f.ids)], this.ctx.clock.now());
  }
}
