import { nanoid } from 'nanoid';
import { MAX_BODY_CHARS, isBlank } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { Hub } from '../hub.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import { newParticipant } from '../participants.js';
import { MalformedEmailError, type Clock, type EmailReader, type InboundRow, type InboundStore, type Logger, type ParsedEmail, type ReplyAddresses, type SenderAuth } from '../ports/index.js';
import { mayPostEmail } from '../rules/rules.js';
import { shortHash } from '../short-hash.js';
import type { Bounces } from './bounces.js';
import { answeredIds, humanSize, isAutoReply, recipientsOf } from './signs.js';

/** The line above the quoted text of every email that carries a reply address (EMAIL.md). */
export const REPLY_MARKER = '##- Please type your reply above this line -##';
/** More than this many emails from one sender in an hour is a loop (SPEC §8). */
const MAX_PER_SENDER_PER_HOUR = 20;
const HOUR = 3_600_000;

export interface InboundMetrics {
  inboundEmail(status: InboundRow['status'], reason: string | null): void;
}

export interface InboundOptions {
  reader: EmailReader;
  store: InboundStore;
  addresses: ReplyAddresses | null;
  /** With PARLEY_INBOUND_REQUIRE_DMARC: DMARC must pass for the From domain. */
  senderAuth: SenderAuth | null;
  bounces: Bounces;
  hub: Hub;
  directory: Directory;
  /** Creates a customer the support address does not know yet (HostDirectory's insert). */
  createCustomer: (p: ParticipantRecord) => Promise<ParticipantRecord>;
  clock: Clock;
  logger: Logger;
  metrics: InboundMetrics;
  maxBytes: number;
  supportAddress: string | null;
  /** The address of PARLEY_MAIL_FROM (lowercased) and the domain of our Message-IDs. */
  ourAddress: string;
  ourDomain: string;
}

export interface Envelope {
  mailFrom: string;
  rcptTo: string[];
  clientIp: string | null;
  helo: string | null;
}

export type InboundOutcome = Pick<InboundRow, 'id' | 'status' | 'reason' | 'conversationId' | 'postedMessageId'>;

type Decision = Omit<InboundOutcome, 'id'>;
const ignored = (reason: string): Decision => ({ status: 'ignored', reason, conversationId: null, postedMessageId: null });
const rejected = (reason: string, conversationId: string | null = null): Decision => ({ status: 'rejected', reason, conversationId, postedMessageId: null });

/**
 * Email in (SPEC §8): one pipeline for the SMTP listener and `POST /v1/inbound-emails`, giving every
 * email exactly one outcome, kept with its raw source. A reply can reach only the conversation its
 * reply address names, and only if its sender may post there when it arrives.
 */
export class InboundMail {
  constructor(private readonly o: InboundOptions) {}

  /** Addresses the SMTP listener accepts at RCPT TO: ours (reply, bounce) and the support address. */
  async accepts(address: string): Promise<boolean> {
    const a = address.toLowerCase();
    if (a === this.o.supportAddress) return true;
    const ours = await this.o.addresses?.classify(a);
    return ours !== null && ours !== undefined && ours.kind !== 'bad_signature';
  }

  async receive(raw: Uint8Array, envelope: Envelope): Promise<InboundOutcome> {
    const now = this.o.clock.now();
    let parsed: ParsedEmail | null = null;
    let decision: Decision;
    if (raw.byteLength > this.o.maxBytes) decision = rejected('too_large');
    else {
      try {
        parsed = await this.o.reader.parse(raw);
      } catch (e) {
        if (!(e instanceof MalformedEmailError)) throw e;
      }
      decision = parsed ? await this.decide(parsed, raw, envelope, now) : ignored('empty');
    }
    const messageId = parsed?.messageId ?? `parley.${shortHash(raw)}.${raw.byteLength}@${this.o.ourDomain}`;
    const row: InboundRow = {
      id: nanoid(),
      messageId,
      from: parsed?.from?.address ?? envelope.mailFrom.toLowerCase(),
      to: parsed ? recipientsOf(parsed, envelope.rcptTo).slice(0, 100) : envelope.rcptTo.slice(0, 100),
      subject: (parsed?.subject ?? '').replace(/[\r\n]+/g, ' ').slice(0, 500),
      receivedAt: now,
      ...decision,
    };
    if (!(await this.o.store.recordInbound(row, raw))) {
      // The same Message-ID was handled (and logged) before: its first outcome stands.
      const first = await this.o.store.inboundByMessageId(messageId);
      const dup = ignored('duplicate');
      this.o.metrics.inboundEmail(dup.status, dup.reason);
      return { id: first?.id ?? row.id, ...dup };
    }
    this.o.metrics.inboundEmail(row.status, row.reason);
    this.o.logger.info('inbound email', { id: row.id, status: row.status, reason: row.reason, conversationId: row.conversationId });
    return { id: row.id, status: row.status, reason: row.reason, conversationId: row.conversationId, postedMessageId: row.postedMessageId };
  }

  private async decide(e: ParsedEmail, raw: Uint8Array, envelope: Envelope, now: number): Promise<Decision> {
    if (e.messageId && (await this.o.store.inboundByMessageId(e.messageId))) return ignored('duplicate');
    const recipients = recipientsOf(e, envelope.rcptTo);
    // Bounces first: a delivery report is also machine-written, and it names what failed.
    const bounceTo = await this.bounceAddressee(recipients);
    if (e.bounce || bounceTo) {
      for (const r of e.bounce?.reports ?? []) if (r.permanent) await this.o.bounces.mark(r.recipient, r.status, now);
      if (!e.bounce && bounceTo) {
        // A VERP bounce without a parseable report: the email it names failed for its recipient.
        const sent = await this.o.store.sentEmailById(bounceTo);
        const to = sent && this.o.directory.participants.get(sent.participantId)?.email;
        if (to) await this.o.bounces.mark(to, 'unknown', now);
      }
      return ignored('bounce');
    }
    if (isAutoReply(e)) return ignored('auto_reply');
    const from = e.from?.address ?? '';
    if ((e.messageId?.endsWith(`@${this.o.ourDomain}`) && /^e\./.test(e.messageId)) || from === this.o.ourAddress) return ignored('loop');
    if (from && (await this.o.store.countInboundFrom(from, now - HOUR)) >= MAX_PER_SENDER_PER_HOUR) return ignored('loop');

    const target = await this.target(e, recipients);
    if (target === 'bad_signature') return rejected('bad_signature');
    if (target === null) {
      if (this.o.supportAddress && recipients.includes(this.o.supportAddress)) return this.fromSupport(e, raw, envelope, now);
      return rejected('unknown_address');
    }
    const c = this.o.directory.conversations.get(target.conversationId);
    const p = this.o.directory.participants.get(target.participantId);
    if (!c || !p) return rejected('forbidden');
    if (!p.email || p.email.toLowerCase() !== from) return rejected('sender_mismatch', c.id);
    if (!(await this.verified(raw, envelope))) return rejected('sender_unverified', c.id);
    if (!mayPostEmail(p, c, this.o.directory.context(c))) return rejected('forbidden', c.id);
    return this.post(e, p, c, target.upTo);
  }

  /** The (conversation, participant) a reply is for: its reply address, else the email it answers. */
  private async target(e: ParsedEmail, recipients: string[]): Promise<{ conversationId: string; participantId: string; upTo: number } | 'bad_signature' | null> {
    let sawBad = false;
    const answered = await this.answeredEmail(e);
    for (const a of recipients) {
      const ours = await this.o.addresses?.classify(a);
      if (ours?.kind === 'reply') {
        const upTo = answered && answered.conversationId === ours.conversationId && answered.participantId === ours.participantId ? answered.upTo : 0;
        return { conversationId: ours.conversationId, participantId: ours.participantId, upTo };
      }
      if (ours?.kind === 'bad_signature') sawBad = true;
    }
    if (sawBad) return 'bad_signature';
    return answered;
  }

  /** Our email (or an earlier inbound one that was posted) this one answers, by In-Reply-To / References. */
  private async answeredEmail(e: ParsedEmail): Promise<{ conversationId: string; participantId: string; upTo: number } | null> {
    for (const id of answeredIds(e)) {
      const sent = await this.o.store.sentEmailByMessageId(`<${id}>`);
      if (sent && sent.conversationId && this.o.directory.conversations.has(sent.conversationId)) return sent;
      const earlier = await this.o.store.inboundByMessageId(id);
      if (earlier?.status === 'posted' && earlier.conversationId) {
        const poster = this.o.directory.participantByEmail(earlier.from);
        if (poster) return { conversationId: earlier.conversationId, participantId: poster.id, upTo: 0 };
      }
    }
    return null;
  }

  private async bounceAddressee(recipients: string[]): Promise<string | null> {
    for (const a of recipients) {
      const ours = await this.o.addresses?.classify(a);
      if (ours?.kind === 'bounce') return ours.emailId;
    }
    return null;
  }

  private async verified(raw: Uint8Array, envelope: Envelope): Promise<boolean> {
    if (!this.o.senderAuth) return true;
    return (await this.o.senderAuth.dmarc(raw, envelope)) === 'pass';
  }

  /** A customer's email to the support address opens an inbox conversation (SPEC §8). */
  private async fromSupport(e: ParsedEmail, raw: Uint8Array, envelope: Envelope, now: number): Promise<Decision> {
    const from = e.from;
    if (!from?.address) return rejected('unknown_address');
    if (!(await this.verified(raw, envelope))) return rejected('sender_unverified');
    let customer = this.o.directory.participantByEmail(from.address);
    if (customer && customer.kind !== 'customer') return rejected('forbidden');
    if (customer?.disabled) return rejected('forbidden');
    if (!customer) {
      const name = from.name.trim() || from.address.split('@')[0] || from.address;
      customer = await this.o.createCustomer(newParticipant({ id: `email.${shortHash(from.address)}`, kind: 'customer', name: name.slice(0, 200), email: from.address }, now));
    }
    const c = await this.o.hub.createConversation({
      kind: 'inbox',
      visibility: 'external',
      itemId: null,
      subject: e.subject.replace(/[\r\n]+/g, ' ').trim().slice(0, 200) || null,
      createdBy: customer.id,
      members: new Map([[customer.id, now]]),
    });
    return this.post(e, customer, c, 0);
  }

  private async post(e: ParsedEmail, p: ParticipantRecord, c: ConversationRecord, upTo: number): Promise<Decision> {
    let text = this.o.reader.replyText(e, REPLY_MARKER);
    const files = e.attachments.map((a) => `📎 ${a.filename || 'attachment'} (${humanSize(a.size)})`);
    if (files.length) text = `${text}${text ? '\n\n' : ''}${files.join('\n')}`;
    if (isBlank(text)) return ignored('empty');
    const body = Array.from(text).slice(0, MAX_BODY_CHARS).join('');
    const key = e.messageId ?? `${p.id}.${shortHash(body)}`;
    const { message } = await this.o.hub.post(p, c, { body, format: 'text', clientMsgId: `email.${shortHash(key)}`, source: 'email' });
    // They read what the email they answered held.
    if (upTo > 0) await this.o.hub.markSeen(p, c, upTo);
    return { status: 'posted', reason: null, conversationId: c.id, postedMessageId: message.id };
  }
}
