import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';

describe('a session that stops reading', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_MAX_BACKPRESSURE_BYTES: '65536' } });
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
    const history = await again.request({ t: 'history', conversationId: conv.id, after: 400, limit: 200 }, 'history');
    expect(history).toMatchObject({ t: 'history', hasMore: false });
    if (history.t === 'history') expect(history.messages.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => 401 + i));
  });
});
