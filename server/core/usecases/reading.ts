import { ProtocolError, type HistoryFrame, type Message, type Receipt, type ReceiptsFrame } from '../../../protocol/index.js';
import type { ConversationRecord } from '../model.js';
import { isMember } from '../rules/rules.js';
import type { Session } from '../session.js';
import type { HubContext } from './context.js';
import type { ConversationUseCases } from './conversations.js';
import type { Guard } from './guard.js';

/** History is read this many messages at a time, until the page or the reply cap is full. */
const HISTORY_CHUNK = 25;

/** Reading what was written (SPEC §3 `history`, `receipts`): pages of messages, and who was told. */
export class ReadingUseCases {
  constructor(
    private readonly ctx: HubContext,
    private readonly guard: Guard,
    private readonly conversations: ConversationUseCases,
  ) {}

  async history(s: Session, f: HistoryFrame): Promise<void> {
    const p = s.participant!;
    const c = this.ctx.visible(p, f.conversationId);
    const fromSeq = await this.conversations.fromSeq(p, c);
    const limit = f.limit ?? 50;
    // At most `limit` messages and the reply cap (and at least one message), read in chunks so that a
    // page of large messages is not read whole only to be cut. An `after` page grows forward from its
    // cursor, the others backward from theirs, so `hasMore` and the next cursor continue where it stops.
    const forward = f.after !== undefined;
    const got: Message[] = [];
    let bytes = 0;
    let hasMore = false;
    let cursor = forward ? f.after : f.before;
    for (;;) {
      const chunk = Math.min(HISTORY_CHUNK, limit - got.length);
      const page = await this.ctx.store.listMessages(c.id, forward ? { after: cursor, limit: chunk, fromSeq } : { before: cursor, limit: chunk, fromSeq });
      const ordered = forward ? page.messages : [...page.messages].reverse();
      let full = false;
      for (const m of ordered) {
        bytes += Buffer.byteLength(JSON.stringify(m));
        if (got.length > 0 && bytes > this.guard.replyCap) {
          full = true;
          break;
        }
        got.push(m);
      }
      if (full) {
        hasMore = true;
        break;
      }
      hasMore = page.hasMore;
      if (!page.hasMore || got.length >= limit) break;
      cursor = got[got.length - 1]!.seq;
    }
    const messages = forward ? got : got.reverse();
    this.guard.sendReply(s, { t: 'history', re: f.id, conversationId: c.id, messages, hasMore });
  }

  async receiptsOf(s: Session, f: ReceiptsFrame): Promise<void> {
    const { store, directory } = this.ctx;
    const p = s.participant!;
    const m = await store.getMessage(f.messageId);
    const c = m && directory.conversations.get(m.conversationId);
    if (!m || !c || !directory.maySee(p, c)) throw new ProtocolError('not_found', 'no such message');
    if (p.kind === 'customer' && m.senderId !== p.id) throw new ProtocolError('forbidden', 'customers may ask receipts of their own messages only');
    const recipients = await this.receipts(m, c, p.kind === 'customer' ? 'customer' : 'full');
    this.guard.sendReply(s, { t: 'receipts', re: f.id, messageId: m.id, conversationId: c.id, recipients });
  }

  /**
   * Receipts of m for everyone who may see c but its sender. The customer view lists only members,
   * each with only participantId, deliveredAt and seenAt.
   */
  async receipts(m: Message, c: ConversationRecord, view: 'full' | 'customer'): Promise<Receipt[]> {
    const { store, directory, emailStatus } = this.ctx;
    const times = await store.receiptTimes(m);
    const rctx = directory.context(c);
    const who = view === 'customer' ? directory.explicitViewers(c).filter((v) => isMember(v, c, rctx)) : directory.allViewers(c);
    const out: Receipt[] = [];
    for (const v of who.sort((a, b) => (a.id < b.id ? -1 : 1))) {
      if (v.id === m.senderId) continue;
      const t = times.get(v.id);
      if (view === 'customer') out.push({ participantId: v.id, deliveredAt: t?.deliveredAt ?? null, seenAt: t?.seenAt ?? null });
      else {
        // The store gives emailedAt/emailId only for an email that held m or only counted it (left
        // out over the caps of SPEC §5: `summarized`, with that email's time and id). An email logged
        // before it recorded what it held only covers m: then a message seen before the email went
        // was not in it, as an email carries only what was unseen.
        const covered = t?.emailed === 'covered';
        const seenFirst = covered && t.seenAt != null && t.emailedAt != null && t.seenAt <= t.emailedAt;
        const r: Receipt = {
          participantId: v.id,
          deliveredAt: t?.deliveredAt ?? null,
          seenAt: t?.seenAt ?? null,
          emailedAt: seenFirst ? null : (t?.emailedAt ?? null),
          emailId: seenFirst ? null : (t?.emailId ?? null),
        };
        if (emailStatus) r.email = t?.emailed === 'summarized' ? 'summarized' : emailStatus.emailStatus(v, c, m, r);
        out.push(r);
      }
    }
    return out;
  }
}
