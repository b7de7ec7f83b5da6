import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, inRuns, toRuns } from '../../../../server/adapters/sqlite/sqlite-store.js';
import type { Logger, NewEmailRow } from '../../../../server/core/ports/index.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(): { store: SqliteStore; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-receipts-'));
  dirs.push(dir);
  const file = join(dir, 'parley.db');
  return { store: new SqliteStore({ file, logger: quiet }), file };
}

const row = (over: Partial<NewEmailRow>): NewEmailRow => ({
  id: 'E1',
  kind: 'escalation',
  participantId: 'bob',
  conversationId: 'C1',
  toAddress: 'bob@example.com',
  subject: 's',
  messageIdHeader: '<e.E1@x>',
  messageIds: [],
  upTo: 1,
  heldSeqs: [],
  summarizedSeqs: [],
  raw: 'raw',
  createdAt: 1000,
  ...over,
});

const at = (seq: number) => ({ conversationId: 'C1', seq, createdAt: 1 });

describe('seq runs', () => {
  it('packs ascending seqs into runs and finds a seq in them', () => {
    expect(toRuns([])).toEqual([]);
    expect(toRuns([1, 2, 3, 5, 7, 8])).toEqual([[1, 3], [5, 5], [7, 8]]);
    const json = JSON.stringify(toRuns([1, 2, 3, 5, 7, 8]));
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].filter((q) => inRuns(json, q))).toEqual([1, 2, 3, 5, 7, 8]);
  });
});

describe('SqliteStore receipt times of emails (SPEC §5)', () => {
  it('says held, summarized or nothing for each seq an email’s watermark passed', async () => {
    const { store } = open();
    // Seqs 1–4 were counted, 6, 8 and 9 held; 5 and 7 were not eligible for bob.
    expect(await store.commitEscalation(row({ upTo: 9, heldSeqs: [6, 8, 9], summarizedSeqs: [1, 2, 3, 4] }), { seenUpTo: 0, emailedUpTo: 0 })).toBe(true);
    // A later email, held seq 12.
    expect(await store.commitEscalation(row({ id: 'E2', upTo: 12, heldSeqs: [12], createdAt: 2000 }), { seenUpTo: 0, emailedUpTo: 9 })).toBe(true);
    const of = async (seq: number) => {
      const t = (await store.receiptTimes(at(seq))).get('bob');
      return t && { emailed: t.emailed, emailId: t.emailId, emailedAt: t.emailedAt };
    };
    expect(await of(2)).toEqual({ emailed: 'summarized', emailId: 'E1', emailedAt: 1000 });
    expect(await of(6)).toEqual({ emailed: 'held', emailId: 'E1', emailedAt: 1000 });
    expect(await of(5)).toEqual({ emailed: null, emailId: null, emailedAt: null });
    expect(await of(7)).toEqual({ emailed: null, emailId: null, emailedAt: null });
    // Seqs 10 and 11 lie under E2's watermark, but only E2 could hold them, and it did not.
    expect(await of(10)).toEqual({ emailed: null, emailId: null, emailedAt: null });
    expect(await of(12)).toEqual({ emailed: 'held', emailId: 'E2', emailedAt: 2000 });
    await store.close();
  });

  it('calls an emailed rise logged before migration 0004 covered', async () => {
    const { store, file } = open();
    await store.commitEscalation(row({ upTo: 3, heldSeqs: [3] }), { seenUpTo: 0, emailedUpTo: 0 });
    await store.close();
    const db = new Database(file);
    db.prepare('UPDATE watermark_rises SET held_seqs = NULL, summarized_seqs = NULL').run();
    db.close();
    const again = new SqliteStore({ file, logger: quiet });
    expect((await again.receiptTimes(at(1))).get('bob')).toMatchObject({ emailed: 'covered', emailId: 'E1', emailedAt: 1000 });
    await again.close();
  });
});
