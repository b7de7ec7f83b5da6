import { nanoid } from 'nanoid';
import type { EmailStatus, Message, Receipt } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { ConversationRecord, ParticipantRecord } from '../model.js';
import type { Clock, EmailComposer, EscalationEmail, EventBus, Logger, Store, Tokens } from '../ports/index.js';
import { notify, relationSince } from '../rules/rules.js';
import { TimerWheel, WheelDriver } from '../scheduler/timer-wheel.js';

export interface EscalationMetrics {
  timerArmed(): void;
  timerFired(): void;
  emailQueued(): void;
  pendingTimers(n: number): void;
}

export interface EscalationOptions {
  /** Escalation listens for MessageCommitted and Seen, and publishes EmailCommitted. */
  events: EventBus;
  store: Store;
  clock: Clock;
  directory: Directory;
  composer: EmailComposer;
  tokens: Pick<Tokens, 'signUnsubscribe'> & Partial<Pick<Tokens, 'signCustomerLink'>>;
  logger: Logger;
  metrics: EscalationMetrics;
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
}

/**
 * The caps of one escalation email (SPEC §5): it holds at most EMAIL_MAX_MESSAGES messages and
 * EMAIL_MAX_TEXT_BYTES of message text (the full bodies in UTF-8, before the composer clips long
 * ones). When more are due it holds the latest that fit both, and counts the earlier ones it leaves
 * out ("12 earlier messages are not shown"); the emailed watermark still rises to the last seq.
 * Without them 1,000 unseen messages made a 4.6 MB email.
 */
export const EMAIL_MAX_MESSAGES = 50;
export const EMAIL_MAX_TEXT_BYTES = 200 * 1024;

/** UTF-8 length of a string, without encoding it. */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * How many of `bodies` (ascending seq, all due) one email holds: the longest tail within both caps,
 * and never fewer than one (the newest message always goes, whatever its size).
 */
export function heldCount(bodies: readonly string[], caps = { messages: EMAIL_MAX_MESSAGES, bytes: EMAIL_MAX_TEXT_BYTES }): number {
  let held = 0;
  let bytes = 0;
  for (let i = bodies.length - 1; i >= 0 && held < caps.messages; i--) {
    bytes += utf8Bytes(bodies[i]!);
    if (held > 0 && bytes > caps.bytes) break;
    held++;
  }
  return held;
}

/** PARLEY_CUSTOMER_LINK_TTL_MS's default: 72 h (server/README.md "Customer links"). */
export const DEFAULT_CUSTOMER_LINK_TTL_MS = 72 * 3_600_000;

const PAGE = 200;
const MAX_EVALUATING = 32;
const key = (p: string, c: string) => `${p}\u0000${c}`;

/**
 * Escalation to email (SPEC §2, DESIGN §5): one timer per (participant, conversation) that has
 * email-eligible unseen messages, due at the oldest such message's time + delay. When it fires,
 * everything is decided again from the store and the directory as they are *then*: watermarks,
 * preferences, relations, the recovery window. The email and the emailed watermark are committed
 * together by compare-and-set, so no message is emailed twice, across restarts included.
 */
export class Escalation {
  private readonly wheel: TimerWheel<string>;
  private readonly driver: WheelDriver<string>;
  private readonly busy = new Set<string>();
  private readonly again = new Set<string>();
  private ready: string[] = [];
  private readyHead = 0;
  private evaluating = 0;

  constructor(private readonly o: EscalationOptions) {
    this.wheel = new TimerWheel<string>({ now: o.clock.now(), onFire: (k) => this.fire(k) });
    this.driver = new WheelDriver({ wheel: this.wheel, clock: o.clock });
    o.events.subscribe('MessageCommitted', (e) => this.onMessage(e.conversation, e.message, e.notified));
    o.events.subscribe('Seen', (e) => this.onSeen(e.participantId, e.conversation, e.upTo));
  }

  /** Rebuild timers from the store: every pair with messages above both watermarks in the window. */
  async start(): Promise<void> {
    const { directory, store, clock } = this.o;
    const since = clock.now() - this.o.recoveryMs;
    let armed = 0;
    for (const c of directory.conversations.values()) {
      if (c.lastMessageAt === null || c.lastMessageAt < since) continue;
      const viewers = directory.allViewers(c);
      for (const p of viewers) {
        const wm = (await store.getWatermarks(p.id, [c.id])).get(c.id);
        const from = Math.max(wm?.seenUpTo ?? 0, wm?.emailedUpTo ?? 0);
        if (from >= c.lastSeq) continue;
        const first = (await store.listMessages(c.id, { after: from, limit: 1 })).messages[0];
        if (!first) continue;
        // Due (or overdue: fires on the next tick). The firing decides exactly; arming early is harmless.
        this.arm(p.id, c.id, Math.max(first.createdAt, since) + this.o.delayMs);
        armed++;
      }
    }
    this.driver.start();
    this.o.logger.info('escalation timers rebuilt', { armed });
  }

  stop(): void {
    this.driver.stop();
  }

  get pending(): number {
    return this.wheel.size;
  }

  private arm(p: string, c: string, dueAt: number): void {
    const k = key(p, c);
    const current = this.wheel.dueAt(k);
    if (current !== undefined && current <= dueAt) return;
    this.wheel.arm(k, dueAt);
    this.driver.poke();
    this.o.metrics.timerArmed();
    this.o.metrics.pendingTimers(this.wheel.size);
  }

  /**
   * A message was committed: arm a timer for each participant it notifies (the hub's fan-out
   * applied notify(), the sender excluded) whose relation to c began before it.
   */
  private onMessage(c: ConversationRecord, m: Message, notified: readonly ParticipantRecord[]): void {
    const ctx = this.o.directory.context(c);
    for (const p of notified) {
      const since = relationSince(p, c, ctx);
      if (since === null || since >= m.createdAt) continue;
      this.arm(p.id, c.id, m.createdAt + this.o.delayMs);
    }
  }

  /** p saw c up to `upTo`: nothing left to email once that is the last message. */
  private onSeen(participantId: string, c: ConversationRecord, upTo: number): void {
    if (upTo >= c.lastSeq && this.wheel.cancel(key(participantId, c.id))) this.o.metrics.pendingTimers(this.wheel.size);
  }

  private fire(k: string): void {
    this.o.metrics.timerFired();
    this.o.metrics.pendingTimers(this.wheel.size);
    if (this.busy.has(k)) {
      this.again.add(k);
      return;
    }
    this.busy.add(k);
    this.ready.push(k);
    this.pump();
  }

  /**
   * Evaluate fired pairs, at most MAX_EVALUATING at a time: a restart after an outage may fire tens
   * of thousands at once, and composing them all together would only buy memory.
   */
  private pump(): void {
    while (this.evaluating < MAX_EVALUATING && this.readyHead < this.ready.length) {
      const k = this.ready[this.readyHead++]!;
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
        this.ready = this.ready.slice(this.readyHead);
        this.readyHead = 0;
      }
      this.evaluating++;
      const [p, c] = k.split('\u0000') as [string, string];
      this.evaluate(p, c)
        .catch((e: unknown) => this.o.logger.error('escalation failed', { participantId: p, conversationId: c, error: e instanceof Error ? e.stack : String(e) }))
        .finally(() => {
          this.evaluating--;
          this.busy.delete(k);
          if (this.again.delete(k)) this.fire(k);
          this.pump();
        });
    }
  }

  /** Whether m is email-eligible for p now (SPEC §2). */
  private eligible(p: ParticipantRecord, c: ConversationRecord, m: Message, now: number): boolean {
    if (m.senderId === p.id || now - m.createdAt >= this.o.recoveryMs) return false;
    const ctx = this.o.directory.context(c);
    const sender = this.o.directory.participants.get(m.senderId) ?? { id: m.senderId, kind: m.senderKind };
    if (!notify(p, sender, c, ctx)) return false;
    const since = relationSince(p, c, ctx);
    return since !== null && since < m.createdAt;
  }

  private async evaluate(pId: string, cId: string): Promise<void> {
    const { directory, store, clock } = this.o;
    const p = directory.participants.get(pId);
    const c = directory.conversations.get(cId);
    if (!p || !c) return;
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
    if (seqs.length === 0) return;
    const due = firstAt + this.o.delayMs;
    if (due > now) {
      this.arm(pId, cId, due);
      return;
    }
    if (p.disabled || !p.email || p.preferences.email.optOut) return;

    const held = tail.slice(tail.length - heldCount(tail.map((m) => m.body)));
    const leftOut = seqs.length - held.length;
    const emailId = nanoid();
    const item = c.itemId !== null ? directory.items.get(c.itemId) : undefined;
    const data: EscalationEmail = {
      emailId,
      createdAt: now,
      to: { id: p.id, name: p.name, email: p.email, kind: p.kind, locale: p.locale, timezone: p.timezone },
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
      previousMessageIds: await store.threadMessageIds(cId, pId, 20),
      unsubscribeUrl: p.kind === 'customer' ? `${this.o.appUrl}/u/${this.o.tokens.signUnsubscribe(p.id)}` : null,
      delayMs: this.o.delayMs,
      preferencesUrl: p.kind === 'customer' ? null : (this.o.preferencesUrl ?? `${this.o.appUrl}/app/#/preferences`),
    };
    const mail = await this.o.composer.compose(data);
    const upTo = seqs.at(-1)!;
    const committed = await store.commitEscalation(
      {
        id: emailId,
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
    if (!committed) {
      // The watermarks moved while we composed (a seen, most likely): decide again at once.
      this.arm(pId, cId, now);
      return;
    }
    this.o.metrics.emailQueued();
    this.o.events.publish('EmailCommitted', { conversation: c, participantId: pId, upTo, at: now });
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
   * no_address, pending. `r.emailedAt` is set only when an email held m (the store records what each
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
    if (!p.email) return 'no_address';
    return 'pending';
  }
}
