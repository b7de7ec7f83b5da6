import { nanoid } from 'nanoid';
import { ProtocolError, type NotificationDefinition, type PreviewAnswer, type PreviewDelivery, type PreviewPost } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import type { ItemRecord } from '../model.js';
import type { Clock } from '../ports/index.js';
import type { Definitions } from './definitions.js';
import { ASSIGNMENT_CHANGES_ID } from './builtins.js';
import type { Deliverer } from './deliverer.js';
import { matchDefinition } from './matcher.js';
import { collectRecipients } from './recipients.js';
import { renderTemplate } from './tags.js';
import type { AppointmentRecord, CalendarRecord, DeliveryHistory, NotFound, RuleEvent, RulesDirectory, TagContext } from './types.js';

/** The id a draft definition runs under: no stored definition has it, so it has no once-per-day history. */
const DRAFT_ID = 'draft';

export interface NotificationPreviewOptions {
  directory: Directory;
  definitions: Pick<Definitions, 'get'>;
  appointments: { appointment(id: string): AppointmentRecord; calendar(id: string): CalendarRecord };
  /** The notifier's view of the directory and of delivery history (Notifier.rulesDirectory, .history). */
  rules: { readonly rulesDirectory: RulesDirectory; readonly history: DeliveryHistory };
  /** The real event's builder and renderer: its result is looked at and dropped, never committed. */
  deliverer: Pick<Deliverer, 'build' | 'context'>;
  clock: Clock;
}

/**
 * POST /v1/notification-definitions/preview: one definition against an imagined event, through the
 * code a real event takes — the matcher with the notifier's directory view and delivery history, the
 * deliverer's build (languages, tags, email security) — stopping before the commit. So nothing is
 * stored, sent, marked (once per day) or audited, and a real event afterwards behaves as if no
 * preview had run.
 *
 * Where a real event would differ: the `message` transport is judged (bot missing or disabled, an
 * internal article into an external conversation), not posted; only-if-unseen emails show as
 * `would-send` (whether they go depends on the person later).
 */
export class NotificationPreview {
  constructor(private readonly o: NotificationPreviewOptions) {}

  async preview(body: PreviewPost): Promise<PreviewAnswer> {
    const o = this.o;
    const now = o.clock.now();
    const stored: NotificationDefinition = body.definitionId !== undefined
      ? o.definitions.get(body.definitionId)
      : { ...body.definition!, id: DRAFT_ID, builtIn: false, createdAt: now, updatedAt: now };
    const event = this.event(body, now);
    const definition = addressedAsRaised(stored, event);
    const recipientAsked = body.recipientId === undefined ? undefined : o.directory.participants.get(body.recipientId);
    if (body.recipientId !== undefined && !recipientAsked) throw new ProtocolError('not_found', `no such participant: ${body.recipientId}`);

    const directory = withOwnArticle(o.rules.rulesDirectory, event);
    const match = matchDefinition(event, definition, directory, o.rules.history, now);
    const notFound: NotFound[] = match.notFound;
    // Unmatched, the matcher names nothing: the admin still learns which ids are unknown.
    if (!match.matched) collectRecipients(event, definition, directory, notFound);

    // Built as a real event's deliveries are, then dropped: no commit, no push, no mark.
    const built = await o.deliverer.build(event, match.deliveries, new Map([[definition.id, definition]]), now);
    const deliveries: PreviewDelivery[] = built.deliveries.map((d) => ({
      definitionId: d.definitionId,
      participantId: d.participantId,
      address: d.address,
      transport: d.transport,
      status: d.status === 'skipped' ? 'skipped' : 'would-send',
      reason: d.reason,
    }));
    const message = match.matched ? this.messageLine(event, definition) : null;
    if (message) deliveries.push(message);
    // Whose tags render: the one asked for, else the first who would be told, else the first named.
    const personal = deliveries.filter((d) => d.transport !== 'message');
    const first = personal.find((d) => d.status === 'would-send') ?? personal[0];
    const recipient = recipientAsked
      ? { participantId: recipientAsked.id, address: null }
      : first
        ? { participantId: first.participantId, address: first.address }
        : null;
    return {
      matched: match.matched,
      deliveries,
      notFound: { agents: unique(notFound, 'agent'), groups: unique(notFound, 'group'), roles: unique(notFound, 'role') },
      recipient,
      rendered: this.render(event, definition, recipient),
    };
  }

  /** The imagined event: its item or appointment as the hub holds them now (404 when unknown). */
  private event(body: PreviewPost, now: number): RuleEvent {
    const { itemId, appointmentId, article, type } = body.event;
    let item: ItemRecord | null = null;
    if (itemId !== undefined) {
      item = this.o.directory.items.get(itemId) ?? null;
      if (!item) throw new ProtocolError('not_found', `no such item: ${itemId}`);
    }
    let appointment: AppointmentRecord | null = null;
    let calendar: CalendarRecord | null = null;
    if (appointmentId !== undefined) {
      appointment = this.o.appointments.appointment(appointmentId);
      calendar = this.o.appointments.calendar(appointment.calendarId);
    }
    return { id: `preview:${nanoid()}`, type, occurredAt: now, actorId: null, item, article: article ?? null, appointment, calendar };
  }

  /** The `message` transport's audit line as the notifier would write it, without posting. */
  private messageLine(event: RuleEvent, d: NotificationDefinition): PreviewDelivery | null {
    const m = d.transports.message;
    if (!m?.enabled || !event.item) return null;
    const line: PreviewDelivery = { definitionId: d.id, participantId: m.botId, address: null, transport: 'message', status: 'would-send', reason: null };
    if (m.visibility === 'external' && event.article && !event.article.visibleForCustomer) return { ...line, status: 'skipped', reason: 'not_visible_for_customer' };
    const bot = this.o.directory.participants.get(m.botId);
    if (!bot || bot.kind !== 'bot' || bot.disabled) return { ...line, status: 'skipped', reason: 'disabled' };
    return line;
  }

  /** Every language of the definition, with the tags of this event and recipient (as the deliverer renders them). */
  private render(event: RuleEvent, d: NotificationDefinition, who: { participantId: string | null; address: string | null } | null): PreviewAnswer['rendered'] {
    const p = who?.participantId ? this.o.directory.participants.get(who.participantId) : undefined;
    const recipient: TagContext['recipient'] = p
      ? { name: p.name, email: p.email, timezone: p.timezone }
      : who?.address
        ? { name: who.address, email: who.address }
        : null;
    const ctx: TagContext = { ...this.o.deliverer.context(event), recipient };
    return Object.entries(d.messages).map(([language, m]) => ({
      language,
      subject: renderTemplate(m.subject, ctx, { part: 'subject', contentType: m.contentType }),
      body: renderTemplate(m.body, ctx, { part: 'body', contentType: m.contentType }),
      contentType: m.contentType,
    }));
  }
}

/**
 * The built-in "Assignment changes" names nobody itself: the hub addresses it, when it raises the
 * event, to the users whose assignment changed (notifier.ts). A preview addresses it to the item's
 * owner and responsible, as if both had just been assigned.
 */
function addressedAsRaised(d: NotificationDefinition, event: RuleEvent): NotificationDefinition {
  if (d.id !== ASSIGNMENT_CHANGES_ID || !event.item) return d;
  const agents = [...new Set([event.item.ownerId, event.item.responsibleId].filter((id): id is string => id !== null))];
  return { ...d, recipients: { relations: [], agents, groups: [], roles: [] } };
}

function unique(list: readonly NotFound[], kind: NotFound['kind']): string[] {
  return [...new Set(list.filter((n) => n.kind === kind).map((n) => n.id))];
}

/**
 * The directory as the matcher sees it during the event: the event's own article counts as the item's
 * last (and as its first when it had none), as the notifier records it before matching — here without
 * recording anything.
 */
function withOwnArticle(base: RulesDirectory, event: RuleEvent): RulesDirectory {
  const item = event.item;
  if (!item || !event.article) return base;
  const own = [...(event.article.to ?? []), ...(event.article.cc ?? [])];
  return {
    participant: (id) => base.participant(id),
    participantByEmail: (a) => base.participantByEmail(a),
    users: () => base.users(),
    usersInQueue: (q) => base.usersInQueue(q),
    queueGroup: (q) => base.queueGroup(q),
    articleAddresses: (id) => {
      const known = base.articleAddresses(id);
      if (id !== item.id) return known;
      return { first: known.first.length > 0 || known.last.length > 0 ? known.first : own, last: own };
    },
  };
}
