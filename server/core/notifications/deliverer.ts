import type { Notification, NotificationDefinition, PersonalTransport } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { ParticipantRecord } from '../model.js';
import type { Bus, DeliveryMark, DeliveryRecord, EventBus, NotificationEmail, NewEmailRow, NotificationRow, Tokens, UnseenEmailTimer } from '../ports/index.js';
import { outboxRow } from '../outbox/outbox-row.js';
import { timeOrderedId } from '../time-id.js';
import { chooseLanguage } from './language.js';
import { htmlToPlain } from './plain-text.js';
import { smsText } from './sms-text.js';
import { renderTemplate } from './tags.js';
import type { PlannedDelivery, RuleEvent, TagContext } from './types.js';

/** Counted per transport and outcome (Prometheus: parley_notification_deliveries_total). */
export interface NotificationMetrics {
  notificationDelivery(transport: PersonalTransport, outcome: 'sent' | 'queued' | 'skipped'): void;
}

export interface DelivererOptions {
  directory: Directory;
  /** The domain of our Message-IDs (`<e.{emailId}@{domain}>`, as the composer writes them). */
  mailDomain: string;
  bus: Bus;
  events: EventBus;
  metrics: NotificationMetrics;
  /** PARLEY_DEFAULT_LOCALE. */
  defaultLocale: string;
  /** `<OTOBO_CONFIG_X>` values. */
  tagConfig: Readonly<Record<string, string>>;
  /** Signs customers' unsubscribe links. */
  tokens: Pick<Tokens, 'signUnsubscribe'>;
  /** The hub's public base URL (unsubscribe links). */
  appUrl: string;
  /** An event armed only-if-unseen timers (the driver looks for the next one). */
  timersArmed?: () => void;
}

/** What one event writes (one commit), and what to push once it is committed. */
export interface BuiltDeliveries {
  deliveries: DeliveryRecord[];
  commit: { outbox: NewEmailRow[]; notifications: NotificationRow[]; timers: UnseenEmailTimer[]; marks: DeliveryMark[] };
}

/**
 * A definition's email security for one recipient (NOTIFICATIONS §3): null without any; `missing_key`
 * when it encrypts, the recipient has no key or certificate of that kind and the definition says skip.
 * The hub's own keys (and a recipient key that expired since it was stored) are checked when the email
 * is sent (EmailSecurity.secure).
 */
function securityFor(d: NotificationDefinition, p: ParticipantRecord | null): NotificationEmail['security'] | 'missing_key' {
  const s = d.transports.email?.security;
  if (!s) return null;
  const recipient = { pgpPublicKey: p?.pgpPublicKey ?? null, smimeCertificate: p?.smimeCertificate ?? null };
  const key = s.mode.startsWith('PGP') ? recipient.pgpPublicKey : recipient.smimeCertificate;
  if (s.mode.includes('Crypt') && !key && s.missingCryptingKeys === 'skip') return 'missing_key';
  return { mode: s.mode, missingSigningKeys: s.missingSigningKeys, missingCryptingKeys: s.missingCryptingKeys, recipient };
}


/** The `notification` frame of a stored web notification (SPEC §3), for its participant's topic. */
export function notificationFrame(n: NotificationRow): string {
  // The fields by name, not a rest spread (which takes V8's slow path, once per notification).
  const notification: Notification = {
    id: n.id,
    definitionId: n.definitionId,
    eventId: n.eventId,
    broadcastId: n.broadcastId,
    subject: n.subject,
    body: n.body,
    itemId: n.itemId,
    appointmentId: n.appointmentId,
    createdAt: n.createdAt,
    seenAt: n.seenAt,
  };
  return JSON.stringify({ t: 'notification', notification });
}

/**
 * Turns the matcher's planned deliveries into what is written: web notifications, outbox rows
 * (emails through the composer, SMS), only-if-unseen timers and once-per-day marks, each rendered in
 * the recipient's language with OTOBO's tags (NOTIFICATIONS §3–§4).
 */
export class Deliverer {
  constructor(private readonly o: DelivererOptions) {}

  /** The tag values of an event, but the recipient (the preview, preview.ts, renders with them too). */
  context(event: RuleEvent): Omit<TagContext, 'recipient'> {
    const person = (id: string | null | undefined) => (id ? (this.o.directory.participants.get(id) ?? null) : null);
    return {
      item: event.item,
      owner: person(event.item?.ownerId),
      responsible: person(event.item?.responsibleId),
      customer: person(event.item?.customerId),
      actor: person(event.actorId),
      article: event.article,
      appointment: event.appointment,
      calendar: event.calendar,
      config: this.o.tagConfig,
    };
  }

  /** The `message` transport's text: the body in PARLEY_DEFAULT_LOCALE (else the first language), as plain text. */
  messageText(event: RuleEvent, d: NotificationDefinition): string {
    const message = d.messages[chooseLanguage(null, this.o.defaultLocale, Object.keys(d.messages))]!;
    const body = renderTemplate(message.body, { ...this.context(event), recipient: null }, { part: 'body', contentType: message.contentType });
    return message.contentType === 'text/html' ? htmlToPlain(body) : body;
  }

  async build(event: RuleEvent, planned: readonly PlannedDelivery[], definitions: ReadonlyMap<string, NotificationDefinition>, now: number): Promise<BuiltDeliveries> {
    const dir = this.o.directory;
    const out: BuiltDeliveries = { deliveries: [], commit: { outbox: [], notifications: [], timers: [], marks: [] } };
    const person = (id: string | null | undefined) => (id ? (dir.participants.get(id) ?? null) : null);
    const base = this.context(event);
    // Web notifications first: an only-if-unseen email waits on the one of its recipient.
    const webOf = new Map<string, string>();
    const order = [...planned.keys()].sort((a, b) => Number(planned[b]!.transport === 'web') - Number(planned[a]!.transport === 'web'));
    const records: DeliveryRecord[] = new Array(planned.length);
    for (const i of order) {
      const p = planned[i]!;
      const d = definitions.get(p.definitionId)!;
      // Fixed-shape literals, not spreads: this loop runs per delivery (a spread of a planned delivery
      // took a slow path, a fifth of build()'s time in bench:notify).
      const record: DeliveryRecord = {
        definitionId: p.definitionId,
        participantId: p.participantId,
        address: p.address,
        transport: p.transport,
        reason: p.reason,
        status: 'skipped',
        outboxId: null,
        notificationId: null,
      };
      records[i] = record;
      if (p.reason !== null) continue;
      const participant = person(p.participantId);
      const security = p.transport === 'email' ? securityFor(d, participant) : null;
      if (security === 'missing_key') {
        record.reason = 'missing_key';
        continue;
      }
      const lang = chooseLanguage(participant?.locale, this.o.defaultLocale, Object.keys(d.messages));
      const message = d.messages[lang]!;
      const ctx: TagContext = {
        item: base.item,
        owner: base.owner,
        responsible: base.responsible,
        customer: base.customer,
        actor: base.actor,
        recipient: participant ? { name: participant.name, email: participant.email, timezone: participant.timezone } : { name: p.address ?? '', email: p.address },
        article: base.article,
        appointment: base.appointment,
        calendar: base.calendar,
        config: base.config,
      };
      const subject = renderTemplate(message.subject, ctx, { part: 'subject', contentType: message.contentType });
      const body = renderTemplate(message.body, ctx, { part: 'body', contentType: message.contentType });
      const itemKey = (d.type === 'appointment' ? event.appointment?.id : event.item?.id) ?? null;
      if (p.transport === 'web') {
        const id = timeOrderedId(now);
        out.commit.notifications.push({
          id,
          participantId: p.participantId!,
          definitionId: d.id,
          eventId: event.id,
          broadcastId: null,
          subject,
          body: message.contentType === 'text/html' ? htmlToPlain(body) : body,
          itemId: event.item?.id ?? null,
          appointmentId: event.appointment?.id ?? null,
          createdAt: now,
          seenAt: null,
        });
        webOf.set(`${d.id}|${p.participantId}`, id);
        record.status = 'sent';
        record.notificationId = id;
      } else if (p.transport === 'sms') {
        const id = timeOrderedId(now);
        const text = smsText(subject);
        const to = participant!.phone!;
        out.commit.outbox.push(
          outboxRow({ id, kind: 'sms', channel: 'sms', participantId: participant!.id, conversationId: itemKey ?? '', toAddress: to, subject: text, messageIdHeader: '', raw: text, createdAt: now }),
        );
        record.status = 'queued';
        record.outboxId = id;
      } else {
        const id = timeOrderedId(now);
        const to = participant?.email ?? p.address!;
        // Composed when it is sent (the outbox worker): an event with hundreds of recipients commits at once.
        const email = outboxRow({
          id,
          kind: 'notification',
          channel: 'email',
          participantId: participant?.id ?? '',
          conversationId: itemKey ?? '',
          toAddress: to,
          subject,
          messageIdHeader: `<e.${id}@${this.o.mailDomain}>`,
          raw: '',
          createdAt: now,
          deferred: {
            template: 'notification',
            data: {
              emailId: id,
              createdAt: now,
              to: { name: participant?.name ?? null, email: to, locale: lang },
              subject,
              body,
              contentType: message.contentType,
              threadKey: itemKey ? `${d.type === 'appointment' ? 'a' : 'i'}.${itemKey}` : null,
              recipientKey: participant?.id ?? to.toLowerCase(),
              unsubscribeUrl: participant?.kind === 'customer' ? `${this.o.appUrl}/u/${this.o.tokens.signUnsubscribe(participant.id)}` : null,
              security,
            },
          },
        });
        const waitOn = webOf.get(`${d.id}|${p.participantId}`);
        const unseenMs = d.transports.email?.onlyIfUnseenMs;
        if (unseenMs !== undefined && waitOn !== undefined) {
          out.commit.timers.push({ notificationId: waitOn, eventId: event.id, deliveryIndex: i, dueAt: now + unseenMs, email });
          record.status = 'queued';
          record.notificationId = waitOn;
        } else {
          out.commit.outbox.push(email);
          record.status = 'queued';
          record.outboxId = id;
        }
      }
      if (d.oncePerDay) out.commit.marks.push({ definitionId: d.id, itemKey, recipient: p.participantId ?? p.address!.toLowerCase(), transport: p.transport, at: now });
    }
    out.deliveries = records;
    return out;
  }

  /** The event is committed: push its web notifications, wake the outbox, count. */
  committed(built: BuiltDeliveries): void {
    for (const n of built.commit.notifications) this.o.bus.publish(`p:${n.participantId}`, notificationFrame(n));
    if (built.commit.outbox.length > 0) this.o.events.publish('OutboxQueued', { count: built.commit.outbox.length });
    if (built.commit.timers.length > 0) this.o.timersArmed?.();
    for (const d of built.deliveries) this.o.metrics.notificationDelivery(d.transport as PersonalTransport, d.status);
  }
}

