import type { NewEmailRow } from './outbox-store.js';

/** One stored template document: `kind` is a system email kind (`welcome`, …) or `escalation.<lang>`. */
export interface TemplateDoc {
  kind: string;
  /** The template as its route shows it (validated before it is stored). */
  doc: Record<string, unknown>;
  updatedAt: number;
}

/**
 * Editable email templates (NOTIFICATIONS §8), and the outbox rows of system emails.
 *
 * Contract (every adapter, any number of writers sharing the storage):
 * - Every write is **durable on resolve** and rejects with ProtocolError `unavailable` when storage is
 *   closed or the commit failed; then nothing of it is stored.
 * - `putTemplate` replaces the document of `kind` whole (last writer wins); `getTemplate` reads what
 *   the last resolved put wrote, or null when none did.
 * - `queueSystemEmail` inserts one queued outbox row (kind `system`, claimed ahead of every other
 *   kind by OutboxStore.claimDue) on its own; the caller publishes `OutboxQueued` once it resolves.
 */
export interface TemplateStore {
  getTemplate(kind: string): Promise<TemplateDoc | null>;
  putTemplate(kind: string, doc: Record<string, unknown>, at: number): Promise<void>;
  /** Every stored document whose kind starts with `prefix` (all with ''), by kind. */
  listTemplates(prefix: string): Promise<TemplateDoc[]>;
  queueSystemEmail(row: NewEmailRow): Promise<void>;
}
