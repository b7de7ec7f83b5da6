import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../support/hub.js';
import { messagesOf, postInbound, rawEmail, replyAddressFromOutbox, sentEmails } from '../support/inbound.js';

/**
 * SPEC §8's safety promise as a property against one real hub: "A reply can never reach a conversation
 * its sender may not see". Random emails (our reply addresses, other people's, tampered, foreign, made
 * up; owners, other participants and forgers as From; In-Reply-To/References to our emails, to posted
 * replies, or to nothing; machine-written signs) are posted, and each must be `posted` exactly when its
 * From is the owner of the address it reached (or of the email it answers) and that owner may post there
 * now. Escalation emails are read back from the outbox (`GET /v1/emails/{id}/raw`), as the SMTP sink would get them.
 */

const DOMAIN = 'reply.example.org';
const RUNS = 220;
/** More than this many emails from one sender in an hour is a loop (SPEC §8). */
const PER_SENDER_PER_HOUR = 20;
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const WORDS = ['thanks', 'printer', 'invoice', 'tomorrow', 'works', 'again', 'please', 'check', 'order', 'Tuesday', 'ok', 'ä', '🙂'];
const FORGED = ['mallory@evil.example', 'parley@example.org', 'anna@example.org.evil.example', 'ben@example.net', 'postmaster@example.org'];
const USERS = ['ben', 'uma'];
const CUSTOMERS = ['anna', 'carl', 'dora', 'ed'];

interface Target {
  pid: string;
  cid: string;
}

const recipient = fc.record({ kind: fc.constantFrom('valid', 'valid', 'upper', 'tampered', 'wrongDomain', 'random', 'stranger'), pick: fc.nat(), pos: fc.integer({ min: 2, max: 33 }), junk: fc.array(fc.constantFrom(...B32), { minLength: 33, maxLength: 33 }) });
const answer = fc.record({ kind: fc.constantFrom('sent', 'inbound', 'random'), pick: fc.nat() });
const email = fc.record({
  to: fc.array(recipient, { maxLength: 2 }),
  cc: fc.array(recipient, { maxLength: 1 }),
  from: fc.record({ kind: fc.constantFrom('owner', 'owner', 'participant', 'forged'), pick: fc.nat() }),
  inReplyTo: fc.option(answer, { nil: null }),
  references: fc.array(answer, { maxLength: 2 }),
  machine: fc.oneof(
    { arbitrary: fc.constant(null), weight: 5 },
    { arbitrary: fc.constantFrom('Auto-Submitted: auto-replied', 'Auto-Submitted: no', 'Precedence: bulk', 'X-Autoreply: yes', 'List-Id: <news.example.net>', 'Return-Path: <>'), weight: 2 },
  ),
  body: fc.array(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
});
type Email = typeof email extends fc.Arbitrary<infer T> ? T : never;

describe('email in: only an address owner who may post gets a reply in (property)', () => {
  let hub: TestHub;
  const conv: Record<'internal' | 'extAnna' | 'extDora' | 'directEd' | 'directCarl', string> = { internal: '', extAnna: '', extDora: '', directEd: '', directCarl: '' };
  /** Reply address (lowercase) → its owner and conversation. */
  const addresses = new Map<string, Target>();
  /** Who may post where after the setup's changes (dora left i2, ed is disabled). */
  const mayPost = new Map<string, Set<string>>();
  const emailOf = (pid: string) => (USERS.includes(pid) ? `${pid}@example.com` : `${pid}@example.org`);
  const pidByEmail = new Map([...USERS, ...CUSTOMERS].map((p) => [emailOf(p), p]));

  beforeAll(async () => {
    hub = await TestHub.start({ env: { PARLEY_ESCALATION_DELAY_MS: '150', PARLEY_INBOUND_DOMAIN: DOMAIN, PARLEY_MAIL_FROM: 'Parley <parley@example.org>' } });
    for (const u of USERS) await hub.user(u);
    for (const c of CUSTOMERS) await hub.customer(c);
    await hub.ok('PUT', '/v1/items/i1', { kind: 'ticket', title: 'Printer on fire', customerId: 'anna', ownerId: 'ben' });
    await hub.ok('PUT', '/v1/items/i2', { kind: 'ticket', title: 'Refund', customerId: 'dora', ownerId: 'ben' });
    const item = async (itemId: string, visibility: string) => (await hub.ok<{ id: string }>('POST', '/v1/conversations', { kind: 'item', itemId, visibility })).id;
    const direct = async (member: string) => (await hub.ok<{ id: string }>('POST', '/v1/conversations', { kind: 'direct', createdBy: 'ben', members: [member] })).id;
    conv.internal = await item('i1', 'internal');
    conv.extAnna = await item('i1', 'external');
    conv.extDora = await item('i2', 'external');
    conv.directEd = await direct('ed');
    conv.directCarl = await direct('carl');
    await new Promise((r) => setTimeout(r, 5));
    let n = 0;
    const say = (cid: string, senderId: string) => hub.ok('POST', `/v1/conversations/${cid}/messages`, { senderId, body: `setup ${++n}`, clientMsgId: `setup.${n}` });
    const learn = async (pid: string, cid: string) => addresses.set((await replyAddressFromOutbox(hub, pid, cid)).replyTo, { pid, cid });
    await say(conv.internal, 'uma');
    await learn('ben', conv.internal);
    await say(conv.extAnna, 'ben');
    await learn('anna', conv.extAnna);
    await say(conv.extAnna, 'anna');
    await learn('ben', conv.extAnna);
    await learn('uma', conv.extAnna);
    await say(conv.extDora, 'ben');
    await learn('dora', conv.extDora);
    await say(conv.directEd, 'ben');
    await learn('ed', conv.directEd);
    await say(conv.directCarl, 'ben');
    await learn('carl', conv.directCarl);
    await say(conv.directCarl, 'carl');
    await learn('ben', conv.directCarl);
    // dora is no longer i2's customer; ed is disabled. Both keep their (still well-signed) addresses.
    await hub.ok('PUT', '/v1/items/i2', { kind: 'ticket', title: 'Refund', customerId: 'carl', ownerId: 'ben' });
    await hub.customer('ed', { disabled: true });
    mayPost.set(conv.internal, new Set(['ben', 'uma']));
    mayPost.set(conv.extAnna, new Set(['anna', 'ben', 'uma']));
    mayPost.set(conv.extDora, new Set(['carl', 'ben', 'uma']));
    mayPost.set(conv.directEd, new Set(['ben']));
    mayPost.set(conv.directCarl, new Set(['ben', 'carl']));
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it(`gives ${RUNS} random emails the outcome the rules allow, and never a customer's to an internal conversation`, async () => {
    const known = [...addresses.keys()];
    expect(new Set([...addresses.values()].map((t) => `${t.pid}@${t.cid}`)).size).toBe(8);
    /** Our emails' Message-IDs (no brackets) and posted inbound ones → whom they were for, where. */
    const sent = new Map<string, Target>();
    const posted = new Map<string, Target>();
    const perSender = new Map<string, number>();
    const tally = { posted: 0, total: 0, customerInInternal: 0 };
    let seq = 0;

    const address = (r: Email['to'][number]): string => {
      const valid = known[r.pick % known.length]!;
      const [local, domain] = valid.split('@') as [string, string];
      if (r.kind === 'valid') return valid;
      if (r.kind === 'upper') return `${local.slice(0, r.pos).toUpperCase()}${local.slice(r.pos)}@${domain.toUpperCase()}`;
      if (r.kind === 'tampered') {
        const c = local[r.pos]!;
        const other = B32[(B32.indexOf(c) + 1 + (r.pick % 31)) % 32]!;
        return `${local.slice(0, r.pos)}${other}${local.slice(r.pos + 1)}@${domain}`;
      }
      if (r.kind === 'wrongDomain') return `${local}@reply.example.com`;
      if (r.kind === 'random') return `r${r.junk.join('')}@${DOMAIN}`;
      return `someone${r.pick % 5}@example.net`;
    };
    const answeredId = (a: Email['references'][number]): string => {
      const pool = [...(a.kind === 'sent' ? sent : posted).keys()];
      return pool.length && a.kind !== 'random' ? pool[a.pick % pool.length]! : `x${a.pick}@elsewhere.example`;
    };
    /** SPEC §8: a reply address among the recipients wins; our address shape without a valid signature is refused; else the answered email. */
    const targetOf = (recipients: string[], answered: string[]): Target | 'bad' | null => {
      for (const a of recipients) if (addresses.has(a)) return addresses.get(a)!;
      if (recipients.some((a) => new RegExp(`^r[a-z0-9][a-z2-7]{32}@${DOMAIN.replace(/\./g, '\\.')}$`).test(a))) return 'bad';
      for (const id of answered) {
        const t = sent.get(id) ?? posted.get(id);
        if (t) return t;
      }
      return null;
    };

    await fc.assert(
      fc.asyncProperty(email, async (e) => {
        // Notifications name an item, not a conversation: the hub does not follow them (nor does the model).
        for (const s of await sentEmails(hub)) if (s.participantId && s.conversationId && mayPost.has(s.conversationId)) sent.set(`e.${s.id}@example.org`, { pid: s.participantId, cid: s.conversationId });
        const to = e.to.map(address);
        const cc = e.cc.map(address);
        const inReplyTo = e.inReplyTo ? answeredId(e.inReplyTo) : undefined;
        const references = e.references.map(answeredId);
        const answered = [...new Set([...(inReplyTo ? [inReplyTo] : []), ...[...references].reverse()])];
        const target = targetOf([...to, ...cc].map((a) => a.toLowerCase()), answered);
        const participants = [...pidByEmail.keys()];
        const from =
          e.from.kind === 'owner' && target && target !== 'bad'
            ? emailOf(target.pid)
            : e.from.kind === 'forged'
              ? FORGED[e.from.pick % FORGED.length]!
              : participants[e.from.pick % participants.length]!;
        const messageId = `prop.${Date.now()}.${++seq}@mail.example.net`;
        const body = `${e.body.map((l) => l.join(' ')).join('\n')}\nref ${seq}`;
        const raw = rawEmail({ from, to, cc, messageId, inReplyTo, references, headers: e.machine ? [e.machine] : [], body });

        const machine = e.machine !== null && e.machine !== 'Auto-Submitted: no';
        const loop = from === 'parley@example.org' || (perSender.get(from) ?? 0) >= PER_SENDER_PER_HOUR;
        const allowed = !machine && !loop && target !== null && target !== 'bad' && emailOf(target.pid) === from && mayPost.get(target.cid)!.has(target.pid);
        const outcome = await postInbound(hub.port, raw);
        perSender.set(from, (perSender.get(from) ?? 0) + 1);
        const what = `${JSON.stringify(outcome)} for From ${from}, To ${to.join(', ')}, Cc ${cc.join(', ')}, answering ${answered.join(' ')}, ${e.machine ?? 'no machine sign'}; model target ${JSON.stringify(target)}`;
        expect(outcome.status === 'posted', what).toBe(allowed);
        tally.total++;
        if (outcome.status !== 'posted' || !target || target === 'bad') return;
        tally.posted++;
        expect(outcome.conversationId, what).toBe(target.cid);
        expect(CUSTOMERS.includes(target.pid) && target.cid === conv.internal, what).toBe(false);
        posted.set(messageId, target);
        const message = (await messagesOf(hub, target.cid)).find((m) => m.id === outcome.postedMessageId);
        expect(message, what).toMatchObject({ senderId: target.pid, source: 'email' });
        expect(message!.body, what).toContain(`ref ${seq}`);
      }),
      { numRuns: RUNS },
    );

    // The property was not vacuous: both allowed and refused emails were drawn.
    expect(tally.total).toBeGreaterThanOrEqual(RUNS);
    expect(tally.posted).toBeGreaterThan(10);
    expect(tally.total - tally.posted).toBeGreaterThan(100);
    const internal = await messagesOf(hub, conv.internal);
    expect(internal.filter((m) => !USERS.includes(m.senderId))).toEqual([]);
  });
});
