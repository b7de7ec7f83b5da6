import type { NewEmailRow } from '../ports/index.js';

/** What an outbox row of its own needs; the escalation bookkeeping (held messages, watermark) stays empty. */
export type StandaloneRow = Omit<NewEmailRow, 'messageIds' | 'upTo' | 'heldSeqs' | 'summarizedSeqs'>;

/**
 * An outbox row that is not an escalation email (a notification, an SMS, a broadcast, a system
 * email): it holds no chat messages and raises no watermark.
 */
export function outboxRow(r: StandaloneRow): NewEmailRow {
  // Every field named (a fixed shape, no spread): an event storm writes tens of thousands.
  return {
    id: r.id,
    kind: r.kind,
    channel: r.channel,
    participantId: r.participantId,
    conversationId: r.conversationId,
    toAddress: r.toAddress,
    subject: r.subject,
    messageIdHeader: r.messageIdHeader,
    messageIds: [],
    upTo: 0,
    heldSeqs: [],
    summarizedSeqs: [],
    raw: r.raw,
    deferred: r.deferred,
    createdAt: r.createdAt,
  };
}
