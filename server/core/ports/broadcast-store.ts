import type { BroadcastStatus } from '../../../protocol/index.js';
import type { NotificationRow } from './notification-store.js';
import type { NewEmailRow } from './outbox-store.js';

/** Everything one broadcast writes (NOTIFICATIONS §7), in one transaction. */
export interface BroadcastCommit {
  id: string;
  subject: string;
  /** The people it reached: an email queued or a web notification written, each person once. */
  recipients: number;
  /** The people chosen who get no email (disabled, opted out, no address, bounced). */
  skipped: number;
  createdAt: number;
  /** Outbox rows of kind `broadcast`, `conversationId` = the broadcast id; claimed after every other kind. */
  outbox: NewEmailRow[];
  /** Web notifications with `broadcastId` = the broadcast id (null definitionId and eventId). */
  notifications: NotificationRow[];
}

/**
 * Admin broadcasts.
 *
 * Contract (every adapter, any number of writers sharing the storage):
 * - `commitBroadcast` is atomic and durable on resolve: the broadcast, every outbox row and every web
 *   notification are written together, or nothing is (it rejects: ProtocolError `unavailable` when
 *   storage is closed or the commit failed, `conflict` when the id exists). A broadcast to 10,000
 *   people is one commit; its emails then drain at the outbox's pace, after every other kind.
 * - `getBroadcast` counts the broadcast's outbox rows by their status as it is now (`queued` includes
 *   rows leased to a send in flight), with `recipients` and `skipped` as committed; null for an
 *   unknown id. Rows the outbox pruned (SPEC §5: 72 h) no longer count.
 */
export interface BroadcastStore {
  commitBroadcast(commit: BroadcastCommit): Promise<void>;
  getBroadcast(id: string): Promise<BroadcastStatus | null>;
}
