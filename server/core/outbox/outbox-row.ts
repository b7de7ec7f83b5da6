import type { NewEmailRow } from '../ports/index.js';

/** What an outbox row of its own needs; the escalation bookkeeping (held messages, watermark) stays empty. */
export type StandaloneRow = Omit<NewEmailRow, 'messageIds' | 'upTo' | 'heldSeqs' | 'summarizedSeqs'>;

/**
 * An outbox row that is not an escalation email (a notification, an SMS, a broadcast, a system
 * email): it holds no chat messages and raises no watermark.
 */
export function outboxRow(r: StandaloneRow): NewEmailRow {
  return { ...r, messageIds: [], upTo: 0, heldSeqs: [], summarizedSeqs: [] };
}
