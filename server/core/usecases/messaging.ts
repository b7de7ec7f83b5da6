import { ProtocolError, type Message, type SendFrame } from '../../../protocol/index.js';
import type { ConversationRecord, NewMessage, ParticipantRecord } from '../model.js';
import { mayPostWs, notify } from '../rules/rules.js';
import type { Session } from '../session.js';
import { encode, type HubContext } from './context.js';

/**
 * Posting and fan-out (SPEC §2, §3 `send`): one way to post a message, for the WebSocket and the host
 * API alike. Nothing waits on anything but the commit; each frame is encoded once, never per recipient.
 */
export class MessagingUseCases {
  constructor(private readonly ctx: HubContext) {}

  /** `send`: post as the session's participant, then ack in the same write as its own copy. */
  async send(s: Session, f: SendFrame): Promise<void> {
    const p = s.participant!;
    const c = this.ctx.visible(p, f.conversationId);
    if (!mayPostWs(p, c, this.ctx.directory.context(c))) throw new ProtocolError('forbidden', 'you may not post here');
    const { message, duplicate } = await this.post(p, c, { body: f.body, format: f.format ?? 'text', clientMsgId: f.clientMsgId, source: 'ws' });
    // After the fan-out: the ack leaves in the same write as the sender's own copy of the message.
    if (s.phase === 'closed') return;
    this.ctx.metrics.frameOut('ack');
    s.conn.sendAfterPublished(encode({ t: 'ack', re: f.id, conversationId: c.id, messageId: message.id, seq: message.seq, createdAt: message.createdAt, duplicate }));
  }

  /**
   * Store a message from p (whose right to post the caller checked) and fan it out. A user's or bot's
   * first post makes it a member. Resolves once committed and published.
   */
  async post(p: ParticipantRecord, c: ConversationRecord, m: Pick<NewMessage, 'body' | 'format' | 'clientMsgId' | 'source'>): Promise<{ message: Message; duplicate: boolean }> {
    const { clock, store, metrics, directory } = this.ctx;
    const now = clock.now();
    const joins = p.kind !== 'customer' && !c.members.has(p.id);
    const result = await store.appendMessage({ ...m, conversationId: c.id, senderId: p.id, senderKind: p.kind, createdAt: now }, joins ? now : undefined);
    if (result.duplicate) return result;
    const message = result.message;
    if (message.seq > c.lastSeq) {
      c.lastSeq = message.seq;
      c.lastMessageAt = message.createdAt;
    }
    metrics.messageStored(m.source);
    const joined = joins && !c.members.has(p.id);
    if (joined) directory.addMember(c, p.id, now);
    const notified = this.fanOut(c, message, p);
    this.ctx.events.publish('MessageCommitted', { conversation: c, message, sender: p, notified });
    if (joined) this.ctx.events.publish('MembershipChanged', { conversation: c, participantIds: [p.id] });
    return result;
  }

  /**
   * Publish a committed message: one encoded frame per topic, then a notify frame to each online
   * viewer it notifies. The rules run once per viewer, online or not: the result, everybody the
   * message notifies, is what escalation arms its timers for.
   */
  private fanOut(c: ConversationRecord, m: Message, sender: ParticipantRecord): ParticipantRecord[] {
    const { directory, bus, metrics, store, clock, presence } = this.ctx;
    const now = clock.now();
    this.ctx.publishToConversation(c, encode({ t: 'message', message: m }));
    const rctx = directory.context(c);
    const online: string[] = [];
    const notified: ParticipantRecord[] = [];
    // The reason depends on the sender and the conversation only: one frame serves every viewer.
    let frame: string | undefined;
    for (const p of directory.allViewers(c)) {
      const reason = notify(p, sender, c, rctx);
      if (reason) notified.push(p);
      if (!presence.online(p.id, now)) continue;
      online.push(p.id);
      if (!reason) continue;
      frame ??= encode({ t: 'notify', conversationId: c.id, messageId: m.id, seq: m.seq, reason });
      bus.publish(`p:${p.id}`, frame);
      metrics.frameOut('notify');
    }
    metrics.deliveries(online.length);
    if (online.length) store.recordDelivered(c.id, online, m.seq, now);
    return notified;
  }
}
