/**
 * bench:store — messages per second committed through the real store path: SqliteStore's group
 * commit and prepared statements, each message with 4 watermark updates (3 deliveries, 1 seen), as
 * the hub issues them. Messages are spread round-robin over many conversations so that no two
 * watermark updates of one commit coalesce. Seen marks are written in the commit after they arrive;
 * delivered marks are written behind over DELIVERED_WINDOW_MS, coalesced per (participant,
 * conversation) exactly as in the hub, so a busy conversation costs one delivered write per
 * recipient per window.
 *
 *   npm run bench:store [-- --messages 200000 --conversations 2000 --runs 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../server/adapters/sqlite/sqlite-store.js';
import type { ConversationRecord } from '../server/core/model.js';
import type { Logger } from '../server/core/ports/index.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    conversations: { type: 'string', default: '2000' },
    'per-turn': { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
  },
});
const MESSAGES = Number(values.messages);
const CONVERSATIONS = Number(values.conversations);
const PER_TURN = Number(values['per-turn']);
const RUNS = Number(values.runs);

const quiet: Logger = { info() {}, warn() {}, error: (m, f) => console.error(m, f) };

/** What each message brings besides its insert: 4 watermark updates either way. */
type Mix = 'fanout' | 'seen';
const MIX_LABEL: Record<Mix, string> = {
  fanout: '4 delivered (fan-out to 1 customer + 3 agents)',
  seen: '3 delivered + 1 seen (an agent reads each message)',
};

async function once(mix: Mix): Promise<{ perSecond: number; seconds: number; batches: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-store-'));
  let batches = 0;
  const store = new SqliteStore({ file: join(dir, 'bench.db'), logger: quiet, metrics: { commitBatch: () => batches++ } });
  const now = Date.now();
  const convs: ConversationRecord[] = [];
  for (let i = 0; i < CONVERSATIONS; i++) {
    const members = new Map([`c${i}`, `a${i % 97}`, `b${i % 89}`, `d${i % 83}`].map((id) => [id, now] as [string, number]));
    const c: ConversationRecord = { id: `conv${i}`, kind: 'item', visibility: 'external', itemId: null, subject: null, createdBy: null, createdAt: now, members, lastSeq: 0, lastMessageAt: null };
    convs.push(c);
    void store.createConversation(c);
  }
  await store.listMessages('conv0', { limit: 1 }); // let the setup commit
  await new Promise((r) => setImmediate(r));

  const started = process.hrtime.bigint();
  let sent = 0;
  while (sent < MESSAGES) {
    const turn: Promise<unknown>[] = [];
    for (let k = 0; k < PER_TURN && sent < MESSAGES; k++, sent++) {
      const c = convs[sent % CONVERSATIONS]!;
      const [customer, ...agents] = [...c.members.keys()] as [string, ...string[]];
      const at = Date.now();
      turn.push(
        store
          .appendMessage({ conversationId: c.id, senderId: customer, senderKind: 'customer', body: `message ${sent} with a realistic length of text in it`, format: 'text', clientMsgId: `m${sent}`, source: 'ws', createdAt: at })
          .then(({ message }) => {
            if (mix === 'fanout') {
              store.recordDelivered(c.id, [customer, ...agents], message.seq, at);
              return;
            }
            store.recordDelivered(c.id, agents, message.seq, at);
            return store.raiseSeen(agents[0]!, c.id, message.seq, at);
          }),
      );
    }
    await Promise.all(turn);
  }
  // The last deliveries ride the next commit.
  await store.raiseSeen('flush', 'conv0', 1, Date.now());
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSecond: MESSAGES / seconds, seconds, batches };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const rows: string[] = [];
for (const mix of ['fanout', 'seen'] as const) {
  const results: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await once(mix);
    results.push(r.perSecond);
    console.error(`${mix} run ${i + 1}: ${Math.round(r.perSecond).toLocaleString('en')} messages/s (${r.seconds.toFixed(2)} s, ${r.batches} commits)`);
  }
  // The target (issue 2) is set for the fan-out mix; the seen mix is shown beside it.
  rows.push(`| ${MIX_LABEL[mix]} | ${MESSAGES.toLocaleString('en')} | ${RUNS} | **${Math.round(median(results)).toLocaleString('en')}** | ${mix === 'fanout' ? '50,000' : '—'} |`);
}
console.log('');
console.log('bench:store — messages committed per second through SqliteStore (group commit, prepared statements)');
console.log('');
console.log('| watermark updates per message | messages | runs | median messages/s | target |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
