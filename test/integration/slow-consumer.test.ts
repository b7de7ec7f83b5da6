import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';

describe('a session that stops reading', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_MAX_BACKPRESSURE_BYTES: '65536', PARLEY_RATE_HISTORY_BURST: '1000', PARLEY_RATE_REPLY_BYTES_BURST: '16777216' } });
    await hub.user('agent');
    await hub.customer('reader');
    await hub.bot('flood');
  });
  afterAll(() => hub.stop());

  it('is cut off with 1008 once its buffer passes the bound, and loses no message from history', async () => {
    const conv = await hub.ok('POST', '/v1/conversations', { kind: 'direct', createdBy: 'agent', members: ['reader'] });
    const reader = await hub.connect('reader');
    // Stop reading: the kernel buffers fill, then the hub's own buffer for this session.
    (reader.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const body = 'x'.repeat(15_000);
    // 600 × 15 kB = 9 MB: more than loopback's socket buffers plus the 64 kB bound.
    for (let i = 0; i < 600; i++) {
      await hub.ok('POST', `/v1/conversations/${conv.id}/messages`, { senderId: 'flood', clientMsgId: `f${i}`, body });
    }
    (reader.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await reader.waitClose(10_000);
    expect(closed.code).toBe(1008);
    expect(reader.queued('message').length).toBeLessThan(600);
    // It reconnects and resumes from history: every message is there.
    const again = await hub.connect('reader');
    // Replies stop early at a quarter of the bound (hasMore), so paging reads them all.
    const seqs: number[] = [];
    for (let after = 400, more = true; more; ) {
      const history = await again.request({ t: 'history', conversationId: conv.id, after, limit: 200 }, 'history');
      if (history.t !== 'history') throw new Error(JSON.stringify(history));
      seqs.push(...history.messages.map((m) => m.seq));
      more = history.hasMore;
      after = seqs[seqs.length - 1]!;
    }
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => 401 + i));
  });
});
