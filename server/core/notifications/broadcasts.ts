import { nanoid } from 'nanoid';
import { ProtocolError, groupEntry, parseMailbox, type BroadcastPost, type BroadcastStatus } from '../../../protocol/index.js';
import type { ParticipantRecord } from '../model.js';
import { outboxRow } from '../outbox/outbox-row.js';
import type { BroadcastStore, Bus, Clock, EmailComposer, EventBus, Logger, NewEmailRow, NotificationRow, Tokens } from '../ports/index.js';
import { notificationFrame } from './deliverer.js';
import { htmlToPlain } from './plain-text.js';
import { timeOrderedId } from '../time-id.js';

/** Compose for at most this long before letting the event loop run (a 10,000-person broadcast composes for seconds). */
const COMPOSE_SLICE_MS = 10;

/** Why a chosen person gets no email, the first that applies (the order of NOTIFICATIONS §2). */
export type BroadcastSkip = 'disabled' | 'opted_out' | 'bounced' | 'no_address';

/** One person a broadcast chose, and what they get. */
export interface BroadcastRecipient {
  participant: ParticipantRecord;
  email: boolean;
  web: boolean;
  /** Why no email; null when one goes. */
  skip: BroadcastSkip | null;
}

/** What recipient selection reads. */
export interface BroadcastDirectory {
  participant(id: string): ParticipantRecord | undefined;
  /** Every participant (scanned only when the broadcast names groups or roles). */
  all(): Iterable<ParticipantRecord>;
  isBounced(address: string): boolean;
}

/**
 * Who a broadcast reaches (NOTIFICATIONS §7), each person once, listed users first (in their order),
 * then the scanned directory's order. `users` names users (other kinds and unknown ids are left out);
 * `groups` adds the users (and with `customersInGroups` the customers) whose membership of a listed
 * group holds at least its permission (rw satisfies ro; a group listed twice asks the weaker); `roles`
 * adds the users holding any of them. Bots are never chosen. Disabled people are chosen but get
 * nothing; the email also skips `optOut`, a hard-bounced address and a missing one; web goes to
 * enabled users only. Pure.
 */
export function selectBroadcastRecipients(post: Pick<BroadcastPost, 'users' | 'groups' | 'roles' | 'customersInGroups' | 'web'>, dir: BroadcastDirectory): BroadcastRecipient[] {
  const chosen = new Map<string, ParticipantRecord>();
  for (const id of post.users) {
    const p = dir.participant(id);
    if (p?.kind === 'user') chosen.set(p.id, p);
  }
  const groups = new Map<string, 'ro' | 'rw'>();
  for (const g of post.groups) if (groups.get(g.id) !== 'ro') groups.set(g.id, g.permission);
  const roles = new Set(post.roles);
  if (groups.size > 0 || roles.size > 0) {
    const inGroups = (p: ParticipantRecord) =>
      p.groups.some((m) => {
        const e = groupEntry(m);
        const wanted = groups.get(e.id);
        return wanted !== undefined && (wanted === 'ro' || e.permission === 'rw');
      });
    for (const p of dir.all()) {
      if (chosen.has(p.id)) continue;
      const yes = p.kind === 'user' ? (roles.size > 0 && p.roles.some((r) => roles.has(r))) || inGroups(p) : p.kind === 'customer' && post.customersInGroups && inGroups(p);
      if (yes) chosen.set(p.id, p);
    }
  }
  const out: BroadcastRecipient[] = [];
  for (const p of chosen.values()) {
    const skip: BroadcastSkip | null = p.disabled
      ? 'disabled'
      : p.preferences.email.optOut
        ? 'opted_out'
        : p.email && dir.isBounced(p.email)
          ? 'bounced'
          : !p.email
            ? 'no_address'
            : null;
    out.push({ participant: p, email: skip === null, web: post.web && p.kind === 'user' && !p.disabled, skip });
  }
  return out;
}

export interface BroadcastsOptions {
  store: BroadcastStore;
  /** The hub's participants (Directory.participants). */
  participants: ReadonlyMap<string, ParticipantRecord>;
  composer: EmailComposer;
  bus: Bus;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  /** Signs customers' unsubscribe links. */
  tokens: Pick<Tokens, 'signUnsubscribe'>;
  /** The hub's public base URL (unsubscribe links). */
  appUrl: string;
  /** Hard-bounced addresses (SPEC §8): skipped. */
  bounces?: { has(address: string): boolean };
}

/**
 * Admin broadcasts (NOTIFICATIONS §7): chooses the people, composes one email each (yielding to the
 * event loop every COMPOSE_SLICE_MS, so chat goes on while 10,000 emails are built), commits the
 * broadcast with every outbox row and web notification at once, then pushes the web notifications
 * and wakes the outbox, which sends broadcasts after every other kind.
 */
export class Broadcasts {
  constructor(private readonly o: BroadcastsOptions) {}

  async post(body: BroadcastPost): Promise<{ id: string; recipients: number }> {
    const o = this.o;
    const id = nanoid();
    const now = o.clock.now();
    const from = body.from === undefined ? null : parseMailbox(body.from);
    if (body.from !== undefined && from === null) throw new ProtocolError('invalid', 'from is not a mailbox');
    const chosen = this.choose(body);
    const outbox: NewEmailRow[] = [];
    const notifications: NotificationRow[] = [];
    const webBody = body.contentType === 'text/html' ? htmlToPlain(body.body) : body.body;
    let sliceStart = performance.now();
    for (const r of chosen) {
      const p = r.participant;
      if (r.email) {
        const emailId = timeOrderedId(now);
        const composed = await o.composer.compose('broadcast', {
          emailId,
          broadcastId: id,
          createdAt: now,
          from,
          to: { name: p.name, email: p.email! },
          subject: body.subject,
          body: body.body,
          contentType: body.contentType,
          unsubscribeUrl: p.kind === 'customer' ? `${o.appUrl}/u/${o.tokens.signUnsubscribe(p.id)}` : null,
        });
        outbox.push(
          outboxRow({
            id: emailId,
            kind: 'broadcast',
            participantId: p.id,
            conversationId: id,
            toAddress: p.email!,
            subject: composed.subject,
            messageIdHeader: composed.messageId,
            raw: composed.raw,
            createdAt: now,
          }),
        );
      }
      if (r.web) {
        notifications.push({
          id: timeOrderedId(now),
          participantId: p.id,
          definitionId: null,
          eventId: null,
          broadcastId: id,
          subject: body.subject,
          body: webBody,
          itemId: null,
          appointmentId: null,
          createdAt: now,
          seenAt: null,
        });
      }
      if (performance.now() - sliceStart >= COMPOSE_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    const recipients = chosen.filter((r) => r.email || r.web).length;
    const skipped = chosen.length - outbox.length;
    await o.store.commitBroadcast({ id, subject: body.subject, recipients, skipped, createdAt: now, outbox, notifications });
    for (const n of notifications) o.bus.publish(`p:${n.participantId}`, notificationFrame(n));
    if (outbox.length > 0) o.events.publish('OutboxQueued', { count: outbox.length });
    o.logger.info('broadcast queued', { broadcastId: id, chosen: chosen.length, emails: outbox.length, web: notifications.length, skipped });
    return { id, recipients };
  }

  /**
   * POST /v1/broadcasts/count: the `recipients` that posting this body now would answer (the same
   * choice, the same count); nothing is composed, stored or sent.
   */
  count(body: BroadcastPost): { recipients: number } {
    if (body.from !== undefined && parseMailbox(body.from) === null) throw new ProtocolError('invalid', 'from is not a mailbox');
    return { recipients: this.choose(body).filter((r) => r.email || r.web).length };
  }

  private choose(body: BroadcastPost): BroadcastRecipient[] {
    const o = this.o;
    return selectBroadcastRecipients(body, {
      participant: (pid) => o.participants.get(pid),
      all: () => o.participants.values(),
      isBounced: (a) => o.bounces?.has(a) ?? false,
    });
  }

  /** GET /v1/broadcasts/{id}: counts as they are now; `not_found` for an unknown id. */
  async get(id: string): Promise<BroadcastStatus> {
    const b = await this.o.store.getBroadcast(id);
    if (!b) throw new ProtocolError('not_found', 'no such broadcast');
    return b;
  }
}

