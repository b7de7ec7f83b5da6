import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { inboundLog, messagesOf, postInbound, rawEmail, type Outcome } from '../support/inbound.js';
import { SmtpSink, type Received } from '../support/smtp-sink.js';

/**
 * SPEC §8 loops: two hubs that are each other's customer. Hub A's customer `peer` has hub B's support
 * address and vice versa, so each hub's escalation email lands in the other hub's inbound pipeline, and
 * the mail system in front of each support mailbox answers with an out-of-office reply to the email's
 * Reply-To. The test is the network: it relays every email a hub sends to the other hub's domain (as
 * is, to `POST /v1/inbound-emails`) and sends the vacation reply back. Each hub must recognise the other's
 * machine-written email (`auto_reply` or `loop`), so the exchange stops after one round.
 */

const DELAY_MS = 300;
/** Quiet means: no new email anywhere for 2 × the escalation delay, over at least this many polls. */
const QUIET_POLLS = 8;
const RUNAWAY = 20;

interface Side {
  name: 'a' | 'b';
  sink: SmtpSink;
  hub: TestHub;
  conversationId: string;
  /** How far the relay has read this side's sink. */
  cursor: number;
  /** Outcomes of what the relay delivered to this hub. */
  outcomes: Outcome[];
}

const domainOf = (address: string) => address.split('@')[1]!.toLowerCase();
const ours = (side: Side['name'], address: string) => [`${side}.example`, `reply.${side}.example`].includes(domainOf(address));
const bare = (header: string | undefined) => header?.replace(/^.*</, '').replace(/>.*$/, '').trim();

async function startSide(name: Side['name'], peer: Side['name']): Promise<Side> {
  const sink = await SmtpSink.start();
  const hub = await TestHub.start({
    env: {
      PARLEY_SMTP_URL: sink.url,
      PARLEY_ESCALATION_DELAY_MS: String(DELAY_MS),
      PARLEY_INBOUND_DOMAIN: `reply.${name}.example`,
      PARLEY_SUPPORT_ADDRESS: `support@${name}.example`,
      PARLEY_MAIL_FROM: `Hub ${name.toUpperCase()} <parley@${name}.example>`,
    },
  });
  await hub.user('agent', { name: `Agent ${name}`, email: `agent@${name}.example` });
  await hub.customer('peer', { name: `Support ${peer}`, email: `support@${peer}.example` });
  const conversationId = (await hub.ok<{ id: string }>('POST', '/v1/conversations', { kind: 'direct', createdBy: 'agent', members: ['peer'], subject: `From ${name}` })).id;
  return { name, sink, hub, conversationId, cursor: 0, outcomes: [] };
}

describe('two hubs answering each other stop after one round', () => {
  let a: Side;
  let b: Side;
  let vacationReplies = 0;

  beforeAll(async () => {
    [a, b] = await Promise.all([startSide('a', 'b'), startSide('b', 'a')]);
  });
  afterAll(async () => {
    for (const s of [a, b]) {
      await s?.hub.stop();
      await s?.sink.stop();
    }
  });

  /** The out-of-office answer of the mailbox `mail` reached, to its Reply-To, marked as RFC 3834 says. */
  const vacationReply = (mail: Received, mailbox: string): string =>
    rawEmail({
      from: mailbox,
      to: [bare(mail.header('reply-to')) ?? mail.from],
      messageId: `ooo.${Date.now()}.${++vacationReplies}@${domainOf(mailbox)}`,
      inReplyTo: bare(mail.header('message-id')),
      subject: `Automatic reply: ${mail.mail.subject ?? ''}`,
      headers: ['Auto-Submitted: auto-replied'],
      body: 'I am out of the office until Monday and will answer your message then.',
    });

  /** Delivers what `from` sent to `to`'s domain since the last step; true if anything moved. */
  const relay = async (from: Side, to: Side): Promise<boolean> => {
    const fresh = from.sink.received.slice(from.cursor);
    from.cursor += fresh.length;
    for (const mail of fresh) {
      const mailbox = mail.to.find((r) => ours(to.name, r));
      if (!mailbox) continue; // an email to the hub's own agent stays home
      to.outcomes.push(await postInbound(to.hub.port, mail.raw));
      from.outcomes.push(await postInbound(from.hub.port, vacationReply(mail, mailbox)));
    }
    return fresh.length > 0;
  };
  const emailsSent = () => a.sink.received.length + b.sink.received.length;

  it('ignores the other hub’s escalation and the vacation replies, and goes quiet', async () => {
    await new Promise((r) => setTimeout(r, 5));
    for (const s of [a, b]) await s.hub.ok('POST', `/v1/conversations/${s.conversationId}/messages`, { senderId: 'agent', body: `Hello from hub ${s.name}`, clientMsgId: 'hello' });
    // The round starts: each hub emails its peer (the other hub's support address).
    await Promise.all([a.sink.waitFor(1), b.sink.waitFor(1)]);

    // Relay until quiet: the count of emails sent stays the same over ≥ QUIET_POLLS polls spanning 2 × delay.
    let seen = -1;
    let since = Date.now();
    let polls = 0;
    for (;;) {
      const moved = (await relay(a, b)) || (await relay(b, a));
      const n = emailsSent();
      if (moved || n !== seen) {
        seen = n;
        since = Date.now();
        polls = 0;
      } else polls++;
      if (polls >= QUIET_POLLS && Date.now() - since >= 2 * DELAY_MS) break;
      if (n > RUNAWAY) throw new Error(`the hubs keep mailing each other: ${n} emails`);
      await new Promise((r) => setTimeout(r, (2 * DELAY_MS) / QUIET_POLLS));
    }

    // One round: each hub wrote to its peer once, and nothing answered it.
    expect(emailsSent()).toBeLessThanOrEqual(4);
    for (const s of [a, b]) {
      const peer = s === a ? b : a;
      expect(s.sink.received.filter((m) => m.to.some((r) => ours(peer.name, r)))).toHaveLength(1);
      // Delivered to it: the peer's escalation email (auto-generated) and the vacation reply to its own.
      expect(s.outcomes).toHaveLength(2);
      for (const o of s.outcomes) {
        expect(o.status, JSON.stringify(o)).toBe('ignored');
        expect(['auto_reply', 'loop']).toContain(o.reason);
      }
      const log = await inboundLog(s.hub);
      expect(log.map((l) => l.status)).toEqual(['ignored', 'ignored']);
      // Nothing was posted: the only message is the agent's, and no inbox conversation was opened.
      expect((await messagesOf(s.hub, s.conversationId)).map((m) => m.source)).not.toContain('email');
      expect(log.every((l) => l.conversationId === null)).toBe(true);
    }
  });
});
