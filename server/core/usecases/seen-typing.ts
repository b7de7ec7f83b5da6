import type { SeenFrame, TypingFrame } from '../../../protocol/index.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import { isMember } from '../rules/rules.js';
import type { Session } from '../session.js';
import { encode, type HubContext } from './context.js';

/** `seen` and `typing` (SPEC §3): receipts and typing of members reach everyone, of others staff only. */
export class SeenTypingUseCases {
  constructor(private readonly ctx: HubContext) {}

  async seen(s: Session, f: SeenFrame): Promise<void> {
    const p = s.participant!;
    await this.markSeen(p, this.ctx.visible(p, f.conversationId), f.upTo);
  }

  /** Raise p's seen watermark in c (clamped to the last seq) and tell everyone who may see c. */
  async markSeen(p: ParticipantRecord, c: ConversationRecord, upTo: number): Promise<void> {
    const clamped = Math.min(upTo, c.lastSeq);
    if (clamped <= 0) return;
    const at = this.ctx.clock.now();
    if (!(await this.ctx.store.raiseSeen(p.id, c.id, clamped, at))) return;
    this.ctx.events.publish('Seen', { conversation: c, participantId: p.id, upTo: clamped, at });
    const frame = encode({ t: 'receipt', conversationId: c.id, participantId: p.id, kind: 'seen', upTo: clamped, at });
    if (isMember(p, c, this.ctx.directory.context(c))) this.ctx.publishToConversation(c, frame);
    else this.ctx.publishToStaff(c, frame, 'receipt', null);
  }

  typing(s: Session, f: TypingFrame): void {
    const p = s.participant!;
    const c = this.ctx.visible(p, f.conversationId);
    const frame = encode({ t: 'typing', conversationId: c.id, participantId: p.id });
    if (!isMember(p, c, this.ctx.directory.context(c))) return this.ctx.publishToStaff(c, frame, 'typing', p.id);
    for (const v of this.ctx.onlineViewers(c)) {
      if (v.id === p.id) continue;
      this.ctx.bus.publish(`p:${v.id}`, frame);
      this.ctx.metrics.frameOut('typing');
    }
  }

  /** p's emailed watermark rose: an `emailed` receipt to every online user who may see c. */
  emailed(c: ConversationRecord, participantId: string, upTo: number, at: number): void {
    const frame = encode({ t: 'receipt', conversationId: c.id, participantId, kind: 'emailed', upTo, at });
    for (const v of this.ctx.onlineViewers(c)) {
      if (v.kind !== 'user') continue;
      this.ctx.bus.publish(`p:${v.id}`, frame);
      this.ctx.metrics.frameOut('receipt');
    }
  }
}
