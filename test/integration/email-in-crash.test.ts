import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { inboundLog, messagesOf, postInbound, rawEmail, replyAddressFromOutbox, type Outcome } from '../support/inbound.js';

/**
 * SPEC §8 "exactly one outcome" and "the same email twice posts once" across a kill -9: a burst of 60
 * distinct replies is cut by a crash, the hub comes back on the same data dir, and every email is sent
 * again (an MTA retries what was not answered; a webhook provider may redeliver what was).
 */

const DOMAIN = 'reply.example.org';
/** Six customers with ten replies each: below the 20-per-sender-per-hour loop limit. */
const CUSTOMERS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
const PER_CUSTOMER = 10;
const TOTAL = CUSTOMERS.length * PER_CUSTOMER;
const CRASH_AFTER = 20;

interface Reply {
  messageId: string;
  text: string;
  raw: string;
}

describe('email in survives kill -9 during a burst', () => {
  let hub: TestHub;
  let conversationId = '';
  const replies: Reply[] = [];

  beforeAll(async () => {
    hub = await TestHub.start({
      // No SMTP: escalation emails stay in the outbox (read back over the API), so no open SMTP
      // connection is cut by the kill.
      env: { PARLEY_ESCALATION_DELAY_MS: '200', PARLEY_INBOUND_DOMAIN: DOMAIN, PARLEY_MAIL_FROM: 'Parley <parley@example.org>' },
    });
    await hub.user('ben', { name: 'Ben Agent' });
    for (const c of CUSTOMERS) await hub.customer(c, { name: `Customer ${c}`, email: `${c}@example.net` });
    conversationId = (await hub.ok<{ id: string }>('POST', '/v1/conversations', { kind: 'direct', createdBy: 'ben', members: CUSTOMERS, subject: 'Burst' })).id;
    await new Promise((r) => setTimeout(r, 5));
    await hub.ok('POST', `/v1/conversations/${conversationId}/messages`, { senderId: 'ben', body: 'Please confirm your order.', clientMsgId: 'ask' });
    const run = Date.now();
    for (const c of CUSTOMERS) {
      const { replyTo, messageId } = await replyAddressFromOutbox(hub, c, conversationId);
      for (let k = 0; k < PER_CUSTOMER; k++) {
        const id = `burst.${run}.${c}.${k}@mail.example.net`;
        const text = `Confirmed by ${c}, reply ${k} of run ${run}.`;
        replies.push({ messageId: id, text, raw: rawEmail({ from: `${c}@example.net`, to: [replyTo], messageId: id, inReplyTo: messageId, body: text }) });
      }
    }
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('posts each of 60 replies exactly once and logs each email once, whatever the crash cut', async () => {
    const port = hub.port;
    let answered = 0;
    let crashed: Promise<void> | null = null;
    const cut: Array<PromiseSettledResult<Outcome>> = [];
    // Six concurrent senders (one per customer, as six mail servers would), each sending its ten in turn.
    await Promise.all(
      CUSTOMERS.map(async (_c, w) => {
        for (let k = 0; k < PER_CUSTOMER; k++) {
          const i = w * PER_CUSTOMER + k;
          try {
            cut[i] = { status: 'fulfilled', value: await postInbound(port, replies[i]!.raw) };
            // kill -9 the moment the 20th answer arrives, with the rest of the burst in flight or unsent.
            if (++answered === CRASH_AFTER) crashed = hub.crash();
          } catch (reason) {
            cut[i] = { status: 'rejected', reason };
          }
        }
      }),
    );
    expect(crashed).not.toBeNull();
    await crashed;
    const before = cut.filter((s): s is PromiseFulfilledResult<Outcome> => s.status === 'fulfilled');
    // Every answer the hub gave before dying was a post: the replies are valid and distinct.
    for (const s of before) expect(s.value).toMatchObject({ status: 'posted', conversationId });
    // The crash cut the burst: some emails got no answer and must be handled after the restart.
    expect(before.length).toBeGreaterThanOrEqual(CRASH_AFTER);
    expect(before.length).toBeLessThan(TOTAL);

    await hub.launch();
    expect(hub.port).not.toBe(0);
    const again = await Promise.all(replies.map((r) => postInbound(hub.port, r.raw)));
    for (const [i, o] of again.entries()) {
      // A redelivery of an answered email is a duplicate; an unanswered one (or one whose answer the crash
      // swallowed) is handled now. Nothing else: no loop, no rejection.
      if (cut[i]!.status === 'fulfilled') expect(o, replies[i]!.messageId).toMatchObject({ status: 'ignored', reason: 'duplicate' });
      else expect(['posted', 'ignored'], `${replies[i]!.messageId}: ${JSON.stringify(o)}`).toContain(o.status);
      if (o.status === 'ignored') expect(o.reason).toBe('duplicate');
    }

    const messages = await messagesOf(hub, conversationId);
    for (const r of replies) expect(messages.filter((m) => m.body === r.text).map((m) => m.source), r.text).toEqual(['email']);
    expect(messages.filter((m) => m.source === 'email')).toHaveLength(TOTAL);

    const log = await inboundLog(hub);
    for (const r of replies) {
      const rows = log.filter((l) => l.messageId === r.messageId);
      expect(rows, r.messageId).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'posted', conversationId });
      expect(messages.some((m) => m.id === rows[0]!.postedMessageId && m.body === r.text), `${r.messageId} names its message`).toBe(true);
    }
  });
});
