import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../support/client.js';
import { TestHub } from '../support/hub.js';
import { SmtpSink, type Received } from '../support/smtp-sink.js';
import { DEFAULT_ENV, connectWith, flood, hello, jitToken, sleep, until } from '../support/abuse.js';
import { direct, expectType, itemConversation, nextMillisecond, open, post } from '../support/ws.js';

const DELAY_MS = 1000;

/**
 * Findings 3, 5 and 9: email. Every message a customer writes can mean an email to every agent, so a
 * customer's writing is bounded (send rate, at most 3 active inboxes); an email holds at most 50
 * messages and 200 KB of text and cannot be forged; a receipt says `emailed` only for what an email held.
 */
describe('email abuse', () => {
  let sink: SmtpSink;
  let hub: TestHub;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    hub = await TestHub.start({
      env: {
        ...DEFAULT_ENV,
        PARLEY_SMTP_URL: sink.url,
        PARLEY_ESCALATION_DELAY_MS: String(DELAY_MS),
        PARLEY_OUTBOX_RETRY_BASE_MS: '200',
        // The inbox cap, not the rate of `open`, is what the inbox bomb below must meet.
        PARLEY_RATE_CUSTOMER_OPEN_BURST: '1000',
        PARLEY_RATE_CUSTOMER_OPEN_PER_MIN: '60000',
        PARLEY_RATE_OPEN_BURST: '1000',
      },
    });
    // An agent who sees every inbox and is emailed about every customer message (the defaults).
    await hub.user('em-agent');
    await nextMillisecond();
  });
  afterAll(async () => {
    await hub?.stop();
    await sink?.stop();
  });

  const mailsTo = (address: string, containing?: string): Received[] =>
    sink.to(address).filter((m) => containing === undefined || (m.mail.text ?? '').includes(containing));
  const waitMails = (address: string, n: number, containing?: string) =>
    until(() => mailsTo(address, containing).length >= n, `${n} email(s) to ${address}${containing ? ` holding "${containing}"` : ''}`, 20_000);

  /** One request on a connection: its answer, or null when the hub closed the connection first. */
  async function ask(client: TestClient, frame: Record<string, unknown>) {
    const r = await flood(client, [frame]);
    return r.answers[0] ?? null;
  }

  describe('finding 3: email bomb', () => {
    it('a customer with 50 connections sending for 3 s gets at most burst + rate × 3 s messages stored', async () => {
      const token = await jitToken('bomb-sender', 'customer');
      const opener = await connectWith(hub, token);
      const inbox = await open(opener, []);
      opener.close();
      await opener.waitClose();

      const started = Date.now();
      const deadline = started + 3000;
      let acked = 0;
      let refusedHellos = 0;
      let n = 0;
      const worker = async () => {
        while (Date.now() < deadline) {
          const { client, first } = await hello(hub, token);
          if (first.t !== 'welcome') {
            expect(first).toMatchObject({ t: 'error', code: 'rate_limited' });
            refusedHellos++;
            client.terminate();
            await sleep(50);
            continue;
          }
          while (Date.now() < deadline && !client.closed) {
            const frames = Array.from({ length: 10 }, () => {
              const k = n++;
              return { t: 'send', id: `s${k}`, conversationId: inbox.id, clientMsgId: `k${k}`, body: `bomb-sender ${k}` };
            });
            const r = await flood(client, frames);
            acked += r.answers.filter((f) => f.t === 'ack').length;
            for (const f of r.answers) if (f.t === 'error') expect(f.code).toBe('rate_limited');
          }
          client.terminate();
        }
      };
      await Promise.all(Array.from({ length: 50 }, worker));
      const seconds = (Date.now() - started) / 1000;
      const stored = (await hub.ok<{ messages: unknown[] }>('GET', `/v1/conversations/${inbox.id}/messages?limit=200`)).messages.length;
      // 30 at once, 10 a second, shared by every session; 40 of the 50 connections were refused.
      expect(refusedHellos).toBeGreaterThanOrEqual(40);
      expect(acked).toBeLessThanOrEqual(stored);
      expect(stored).toBeGreaterThanOrEqual(30);
      expect(stored).toBeLessThanOrEqual(30 + Math.ceil(10 * seconds) + 5);
    });

    it('300 inbox conversations with one message each: an agent gets at most 3 emails (the inbox cap)', async () => {
      const token = await jitToken('bomb-inboxes', 'customer');
      let client = await connectWith(hub, token);
      const created: string[] = [];
      const refusals: string[] = [];
      for (let i = 0; i < 300; i++) {
        if (client.closed) client = await connectWith(hub, token);
        const answer = await ask(client, { t: 'open', id: `o${i}`, members: [] });
        if (answer === null) continue; // closed for sustained abuse: reconnect and go on
        if (answer.t === 'conversation') {
          created.push(answer.conversation.id);
          const ack = await ask(client, { t: 'send', id: `s${i}`, conversationId: answer.conversation.id, clientMsgId: `b${i}`, body: `inbox bomb ${i}` });
          expect(ack?.t).toBe('ack');
        } else {
          expect(answer).toMatchObject({ t: 'error', code: 'rate_limited', re: `o${i}` });
          refusals.push(answer.t);
        }
      }
      client.terminate();
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(created.length).toBeLessThanOrEqual(3);
      expect(refusals.length).toBeGreaterThan(250);

      // Positive signal: the emails that must come, then a later marker email; no other bomb email.
      await waitMails('em-agent@example.com', created.length, 'inbox bomb');
      const marker = await connectWith(hub, await jitToken('bomb-marker', 'customer'));
      const markerInbox = await open(marker, []);
      expectType(await marker.request({ t: 'send', conversationId: markerInbox.id, clientMsgId: 'm', body: 'marker after the bomb' }, 'ack'), 'ack');
      await waitMails('em-agent@example.com', 1, 'marker after the bomb');
      expect(mailsTo('em-agent@example.com', 'inbox bomb').length).toBe(created.length);
      marker.close();
    });
  });

  describe('finding 5: receipts', () => {
    it('a message from before bob existed, below one emailed to him, is not_eligible, not emailed', async () => {
      await hub.customer('rc-cust');
      await hub.ok('PUT', '/v1/items/rc-item', { kind: 'ticket', title: 'Receipts A', customerId: 'rc-cust' });
      const conv = await itemConversation(hub, 'rc-item', 'external');
      await nextMillisecond();
      const early = await post(hub, conv.id, 'rc-cust', 'written before bob existed', 'rc1');
      await nextMillisecond();
      await hub.user('rc-bob');
      await nextMillisecond();
      const late = await post(hub, conv.id, 'rc-cust', 'written after bob arrived', 'rc2');
      await waitMails('rc-bob@example.com', 1);
      const mail = mailsTo('rc-bob@example.com')[0]!;
      expect(mail.mail.text).toContain('written after bob arrived');
      expect(mail.mail.text).not.toContain('written before bob existed');

      const of = async (messageId: string) =>
        (await hub.ok('GET', `/v1/messages/${messageId}/receipts`)).recipients.find((r: { participantId: string }) => r.participantId === 'rc-bob');
      expect(await of(late.id)).toMatchObject({ email: 'emailed' });
      const r = await of(early.id);
      expect(r.email).toBe('not_eligible');
      expect(r.emailedAt).toBeNull();
      expect(r.emailId).toBeNull();
    });

    it('a message that did not notify carl, below one emailed to him, is not_notified, not emailed', async () => {
      await hub.user('rc-carl');
      await hub.user('rc-owner');
      await hub.customer('rc-cust2');
      await hub.ok('PUT', '/v1/items/rc-item2', { kind: 'ticket', title: 'Receipts B', customerId: 'rc-cust2', ownerId: 'rc-owner' });
      const conv = await itemConversation(hub, 'rc-item2', 'external');
      await nextMillisecond();
      // An agent's reply to the customer: carl does not follow the item (repliesToCustomers: followed).
      const reply = await post(hub, conv.id, 'rc-owner', 'a reply carl is not told of', 'rc3');
      const question = await post(hub, conv.id, 'rc-cust2', 'a customer question carl is told of', 'rc4');
      await waitMails('rc-carl@example.com', 1);
      const mail = mailsTo('rc-carl@example.com')[0]!;
      expect(mail.mail.text).toContain('a customer question carl is told of');
      expect(mail.mail.text).not.toContain('a reply carl is not told of');

      const of = async (messageId: string) =>
        (await hub.ok('GET', `/v1/messages/${messageId}/receipts`)).recipients.find((r: { participantId: string }) => r.participantId === 'rc-carl');
      expect(await of(question.id)).toMatchObject({ email: 'emailed' });
      const r = await of(reply.id);
      expect(r.email).toBe('not_notified');
      expect(r.emailedAt).toBeNull();
    });
  });

  describe('finding 9: email content', () => {
    it('a name or body with CR/LF cannot forge a "Sender — time" line in the plain-text part', async () => {
      await hub.user('fx-agent');
      await hub.customer('fx-cust', { name: 'Eve\r\nMallory — 09:00' });
      const conv = await direct(hub, 'fx-agent', ['fx-cust']);
      await nextMillisecond();
      await post(hub, conv.id, 'fx-cust', 'hello\nMallory — 09:00\r\nforged line\rVictor — 09:01\u2028Walter — 09:02', 'fx1');
      await waitMails('fx-agent@example.com', 1);
      const text = mailsTo('fx-agent@example.com')[0]!.mail.text ?? '';
      const lines = text.split(/\r\n|\n/);
      // Exactly one line at column 0 names a sender and a time: the real one, on one line.
      const senderLines = lines.filter((l) => /^\S.* — \d{1,2}:\d{2}/.test(l));
      expect(senderLines, text).toHaveLength(1);
      expect(senderLines[0]).toMatch(/^Eve Mallory — 09:00 — /);
      for (const forged of ['Mallory — 09:00', 'forged line', 'Victor — 09:01', 'Walter — 09:02']) {
        expect(lines.some((l) => l.startsWith(forged)), `${forged} at column 0:\n${text}`).toBe(false);
        expect(lines.some((l) => l.startsWith(`  ${forged}`)), `${forged} indented:\n${text}`).toBe(true);
      }
    });

    it('60 unseen messages make one email holding the latest 50 and "10 earlier messages …"', async () => {
      await hub.user('cap-agent');
      await hub.customer('cap-cust');
      const conv = await direct(hub, 'cap-agent', ['cap-cust']);
      await nextMillisecond();
      const posted = await Promise.all(Array.from({ length: 60 }, (_, i) => post(hub, conv.id, 'cap-agent', `cap message ${String(i).padStart(3, '0')}`, `cap${i}`)));
      await waitMails('cap-cust@example.org', 1);
      const text = mailsTo('cap-cust@example.org')[0]!.mail.text ?? '';
      for (let i = 0; i < 60; i++) expect(text.includes(`cap message ${String(i).padStart(3, '0')}`), `message ${i}`).toBe(i >= 10);
      expect(text).toMatch(/10 earlier messages are not shown/);

      // Positive signal that there was one email: a later message makes a second, holding only itself.
      await post(hub, conv.id, 'cap-agent', 'cap marker', 'cap-marker');
      await waitMails('cap-cust@example.org', 1, 'cap marker');
      const mails = mailsTo('cap-cust@example.org');
      expect(mails).toHaveLength(2);
      expect(mails[1]!.mail.text).not.toContain('cap message');
      expect(mails[1]!.mail.text).not.toMatch(/earlier message/);

      const receipt = async (i: number) =>
        (await hub.ok('GET', `/v1/messages/${posted[i]!.id}/receipts`)).recipients.find((r: { participantId: string }) => r.participantId === 'cap-cust');
      expect(await receipt(0)).toMatchObject({ email: 'summarized' });
      expect(await receipt(59)).toMatchObject({ email: 'emailed' });
    });

    it('60 unseen messages of 16,000 chars make one email under 200 KB of text', async () => {
      await hub.user('big-agent');
      await hub.customer('big-cust');
      const conv = await direct(hub, 'big-agent', ['big-cust']);
      await nextMillisecond();
      const filler = 'y'.repeat(16_000 - 20);
      await Promise.all(Array.from({ length: 60 }, (_, i) => post(hub, conv.id, 'big-agent', `big ${String(i).padStart(3, '0')} ${filler}`, `big${i}`)));
      await waitMails('big-cust@example.org', 1);
      const mail = mailsTo('big-cust@example.org')[0]!;
      const text = mail.mail.text ?? '';
      const html = mail.mail.html ?? '';
      expect(Buffer.byteLength(text)).toBeLessThan(200 * 1024);
      expect(Buffer.byteLength(html)).toBeLessThan(200 * 1024 + 64 * 1024);
      expect(text).toContain('big 059');
      expect(text).not.toContain('big 000');
      expect(text).toMatch(/\d+ earlier messages are not shown/);
      // The whole email as sent, both parts and headers: under 200 KB, not 60 × 16,000 characters twice.
      expect(Buffer.byteLength(mail.raw)).toBeLessThan(200 * 1024);
      expect(mailsTo('big-cust@example.org')).toHaveLength(1);
    });
  });
});
