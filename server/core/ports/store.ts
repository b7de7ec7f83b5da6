import type { BroadcastStore } from './broadcast-store.js';
import type { DirectoryStore } from './directory-store.js';
import type { MessageStore } from './message-store.js';
import type { AppointmentStore } from './appointment-store.js';
import type { InboundStore } from './inbound-store.js';
import type { NotificationStore } from './notification-store.js';
import type { OutboxStore } from './outbox-store.js';
import type { TemplateStore } from './template-store.js';
import type { WatermarkStore } from './watermark-store.js';

export type * from './directory-store.js';
export type * from './message-store.js';
export type * from './watermark-store.js';
export type * from './outbox-store.js';
export type * from './notification-store.js';
export type * from './inbound-store.js';
export type * from './template-store.js';
export type * from './broadcast-store.js';
export type * from './appointment-store.js';

/**
 * Durable storage: every port of what the hub stores, plus lifecycle. Each port states its own
 * contract (directory-store.ts, message-store.ts, watermark-store.ts, outbox-store.ts,
 * notification-store.ts, template-store.ts), written for
 * any number of writers sharing the storage (several hubs); `test/contract/` checks them on every
 * adapter. Common to all: a promise of a write resolves only once the write is committed (durable:
 * it survives a crash of the writer), rejects with ProtocolError `unavailable` when it is not, and
 * one caller's writes resolve in the order they were issued.
 */
export interface Store extends DirectoryStore, MessageStore, WatermarkStore, OutboxStore, NotificationStore, InboundStore, BroadcastStore, AppointmentStore, TemplateStore {
  /** True once the storage is open and migrated, and until close(). */
  isReady(): boolean;
  /** Commit everything queued (delivery marks written behind included), then close. Later writes reject with `unavailable`. */
  close(): Promise<void>;
}
