import type { EmailStatus, Message, Receipt } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import type { Clock, EmailComposer, EscalationEmail, EventBus, ReplyAddresses, Store, Tokens } from '../ports/index.js';
import { notify, relationSince } from '../rules/rules.js';
import { EMAIL_MAX_MESSAGES, heldCount } from './caps.js';
import { timeOrderedId } from '../time-id.js';

/** PARLEY_CUSTOMER_LINK_TTL_MS's default: 72 h (server/README.md "Customer links"). */
export const DEFAULT_CUSTOMER_LINK_TTL_MS = 72 * 3_600_000;

export interface EscalationEmailOptions {
  /** EmailCommitted is published here once an email and its emailed watermark are committed. */
  events: Pick<EventBus, 'publish'>;
  store: Pick<Store, 'getWatermarks' | 'listMessages' | 'threadMessageIds' | 'commitEscalation'>;
  clock: Pick<Clock, 'now'>;
  directory: Directory;
  composer: EmailComposer;
  tokens: Pick<Tokens, 'signUnsubscribe'> & Partial<Pick<Tokens, 'signCustomerLink'>>;
  metrics: { emailQueued(): void };
  delayMs: number;
  recoveryMs: number;
  /** The hub's public base URL (unsubscribe links). */
  appUrl: string;
  /** The link to a conversation, with `{conversationId}` in it. */
  conversationUrl: string;
  /**
   * Where a customer's email links (PARLEY_CUSTOMER_URL, default `{appUrl}/chat/`): the link gets
   * `#link=<signed link for (customer, conversation)>`. Unset: customers get `conversationUrl` too.
   */
  customerUrl?: string;
  /** How long a customer link works (PARLEY_CUSTOMER_LINK_TTL_MS, default 72 h). */
  customerLinkTtlMs?: number;
  /** The agent app's preferences page, linked from users' emails (default `{appUrl}/app/#/preferences`). */
  preferencesUrl?: string;
  /** Hard-bounced addresses (SPEC §8): skipped, receipt `bounced`. */
  bounces?: { has(address: string | null | undefined): boolean };
  /** With PARLEY_INBOUND_DOMAIN: every email carries the recipient's reply address (SPEC §8). */
  replyAddresses?: Pick<ReplyAddresses, 'replyAddress'> | null;
}

/** What one evaluation of (participant, conversation) came to; the scheduler acts on it. */
export type EmailOutcome =
  /** Nothing to send now or later from what is stored (nothing eligible, no address, opted out…). */
  | { kind: 'nothing' }
  /** The oldest eligible message falls due at `dueAt` (the one that armed the timer was seen). */
  | { kind: 'not_due'; dueAt: number }
  /** The watermarks moved while the email was composed: nothing was written; decide again. */
  | { kind: 'moved' }
  /** The email and the emailed watermark (`upTo`) were committed; EmailCommitted was published. */
  | { kind: 'committed'; emailId: string; upTo: number };

const PAGE = 200;

/**
 * The escalation email of one (participant, conversation) at one moment (SPEC §2, §5): eligibility
 * decided again from the store and the directory as they are *now* (watermarks, preferences,
 * relations, the recovery window), the held and summarized messages under the caps, the
 * EscalationEmail data, the composed MIME, and the commit of the outbox row with the emailed
 * watermark by compare-and-set on both watermarks as they were read. Knows nothing of timers.
 */
export class EscalationEmailBuilder {
  constructor(private readonly o: EscalationEmailOptions) {}

  /** Whether m is email-eligible for p at `now` (SPEC §2). */
  eligible(p: ParticipantRecord, c: ConversationRecord, m: Message, now: number): boolean {
    if (m.senderId === p.id || now - m.createdAt >= this.o.recoveryMs) return false;
    const ctx = this.o.directory.context(c);
    const sender = this.o.directory.participants.get(m.senderId) ?? { id: m.senderId, kind: m.senderKind };
    if (!notify(p, sender, c, ctx)) return false;
    const since = relationSince(p, c, ctx);
    return since !== null && since < m.createdAt;
  }

  /** Decide, build, compose and commit the email of (pId, cId) now, if one is due. */
  async emailFor(pId: string, cId: string): Promise<EmailOutcome> {
    const { directory, store, clock } = this.o;
    const p = directory.participants.get(pId);
    const c = directory.conversations.get(cId);
    if (!p || !c) return { kind: 'nothing' };
    const wm = (await store.getWatermarks(pId, [cId])).get(cId);
    const seenUpTo = wm?.seenUpTo ?? 0;
    const emailedUpTo = wm?.emailedUpTo ?? 0;
    const now = clock.now();
    // Every due seq, but only the latest EMAIL_MAX_MESSAGES messages: no more can go in the email.
    const seqs: number[] = [];
    let tail: Message[] = [];
    let firstAt = 0;
    for (let after = Math.max(seenUpTo, emailedUpTo); ; ) {
      const page = await store.listMessages(cId, { after, limit: PAGE });
      for (const m of page.messages) {
        if (!this.eligible(p, c, m, now)) continue;
        if (seqs.length === 0) firstAt = m.createdAt;
        seqs.push(m.seq);
        tail.push(m);
      }
      if (tail.length > EMAIL_MAX_MESSAGES) tail = tail.slice(-EMAIL_MAX_MESSAGES);
      const last = page.messages.at(-1);
      if (!page.hasMore || !last) break;
      after = last.seq;
    }
    if (seqs.length === 0) return { kind: 'nothing' };
    const due = firstAt + this.o.delayMs;
    if (due > now) return { kind: 'not_due', dueAt: due };
    if (p.disabled || !p.email || p.preferences.email.optOut || this.o.bounces?.has(p.email)) return { kind: 'nothing' };

    const held = tail.slice(tail.length - heldCount(tail.map((m) => m.body)));
    const leftOut = seqs.length - held.length;
    const data = await this.data(p, p.email, c, held, leftOut, now);
    const mail = await this.o.composer.compose('escalation', data);
    const upTo = seqs.at(-1)!;
    const committed = await store.commitEscalation(
      {
        id: data.emailId,
        kind: 'escalation',
        participantId: pId,
        conversationId: cId,
        toAddress: p.email,
        subject: mail.subject,
        messageIdHeader: mail.messageId,
        messageIds: held.map((m) => m.id),
        upTo,
        heldSeqs: held.map((m) => m.seq),
        summarizedSeqs: seqs.slice(0, leftOut),
        raw: mail.raw,
        createdAt: now,
      },
      { seenUpTo, emailedUpTo },
    );
    if (!committed) return { kind: 'moved' };
    this.o.metrics.emailQueued();
    this.o.events.publish('EmailCommitted', { conversation: c, participantId: pId, upTo, at: now });
    return { kind: 'committed', emailId: data.emailId, upTo };
  }

  /** The template data of one escalation email: `held` ascending, `leftOut` earlier ones only counted. */
  private async data(p: ParticipantRecord, email: string, c: ConversationRecord, held: readonly Message[], leftOut: number, now: number): Promise<EscalationEmail> {
    const { directory, appUrl } = this.o;
    const item = c.itemId !== null ? directory.items.get(c.itemId) : undefined;
    return {
      emailId: timeOrderedId(now),
      createdAt: now,
      to: { id: p.id, name: p.name, email, kind: p.kind, locale: p.locale, timezone: p.timezone },
      conversation: { id: c.id, subject: c.subject ?? item?.title ?? (c.kind === 'inbox' ? 'Support chat' : 'Conversation'), url: this.conversationLink(p, c.id, now) },
      messages: held.map((m) => ({
        id: m.id,
        seq: m.seq,
        senderName: directory.participants.get(m.senderId)?.name ?? m.senderId,
        senderKind: m.senderKind,
        body: m.body,
        format: m.format,
        createdAt: m.createdAt,
      })),
      leftOut,
      previousMessageIds: await this.o.store.threadMessageIds(c.id, p.id, 20),
      unsubscribeUrl: p.kind === 'customer' ? `${appUrl}/u/${this.o.tokens.signUnsubscribe(p.id)}` : null,
      delayMs: this.o.delayMs,
      preferencesUrl: p.kind === 'customer' ? null : (this.o.preferencesUrl ?? `${appUrl}/app/#/preferences`),
      replyTo: this.o.replyAddresses ? await this.o.replyAddresses.replyAddress(c.id, p.id) : null,
    };
  }

  /**
   * The link of an email to its conversation: users (and bots) get PARLEY_CONVERSATION_URL; customers
   * the customer page with a signed link bound to (customer, conversation) that expires after
   * PARLEY_CUSTOMER_LINK_TTL_MS.
   */
  private conversationLink(p: ParticipantRecord, conversationId: string, now: number): string {
    const { customerUrl, tokens } = this.o;
    if (p.kind === 'customer' && customerUrl && tokens.signCustomerLink) {
      const link = tokens.signCustomerLink(p.id, conversationId, now + (this.o.customerLinkTtlMs ?? DEFAULT_CUSTOMER_LINK_TTL_MS));
      return `${customerUrl}#link=${link}`;
    }
    return this.o.conversationUrl.replaceAll('{conversationId}', encodeURIComponent(conversationId));
  }

  /**
   * What escalation did or will do about m for p, as things stand now (SPEC §3 Receipt.email): the
   * first that applies of emailed, seen_in_time, disabled, not_notified, not_eligible, opted_out,
   * bounced, no_address, pending. `r.emailedAt` is set only when an email held m (the store records what each
   * email held). `summarized` — an email only counted m among the earlier messages it left out over
   * its caps — is known only from the store, so Hub.receipts answers it without asking here; it
   * excludes `emailed` (one email alone can reach m), so the order of the codes holds.
   */
  emailStatus(p: ParticipantRecord, c: ConversationRecord, m: Message, r: Pick<Receipt, 'seenAt' | 'emailedAt'>): EmailStatus {
    if (r.emailedAt) return 'emailed';
    if (r.seenAt) return 'seen_in_time';
    if (p.disabled) return 'disabled';
    const ctx = this.o.directory.context(c);
    const sender = this.o.directory.participants.get(m.senderId) ?? { id: m.senderId, kind: m.senderKind };
    if (!notify(p, sender, c, ctx)) return 'not_notified';
    if (!this.eligible(p, c, m, this.o.clock.now())) return 'not_eligible';
    if (p.preferences.email.optOut) return 'opted_out';
    if (this.o.bounces?.has(p.email)) return 'bounced';
    if (!p.email) return 'no_address';
    return 'pending';
  }
}
