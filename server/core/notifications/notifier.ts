import { nanoid } from 'nanoid';
import { MAX_BODY_CHARS, ProtocolError, isBlank, type EventPost, type ItemPut, type NotificationDefinition } from '../../../protocol/index.js';
import type { Directory } from '../directory.js';
import { shortHash } from '../short-hash.js';
import { MISSING_KEY } from '../outbox/outbox-worker.js';
import { WorkQueue } from '../work-queue.js';
import type { ItemRecord, ProjectRecord } from '../model.js';
import type { Bus, Clock, DeliveryMark, DeliveryRecord, EventBus, EventRecord, Logger, NotificationStore } from '../ports/index.js';
import { ASSIGNMENT_CHANGES_ID, ITEM_ASSIGNMENT_UPDATE, NEW_MEMBERS_ID, PROJECT_MEMBER_ADD } from './builtins.js';
import { Deliverer, type NotificationMetrics } from './deliverer.js';
import type { Definitions } from './definitions.js';
import { matchDefinition, ONCE_PER_DAY_MS } from './matcher.js';
import type { DeliveryHistory, NotFound, PlannedDelivery, RuleEvent, RulesDirectory } from './types.js';

/**
 * Events matched, rendered and committed at once; the rest wait in line. Each event waits on two
 * commits (its item snapshot, then its deliveries), so too few at once leave the event loop idle
 * between commits, and more at once share each commit. bench:notify, 2026-12-07, floor load (5
 * recipients an event): 8 → 1,206–1,332 events/s, 16 → 1,936–2,286, 32 → 2,408–2,671, with chat
 * p99 during the burst 15–45 ms at 16 and 23–25 ms at 32; rich load 880 / 879–1,295 / 939–1,244.
 */
const EVENT_CONCURRENCY = 32;
/** Events waiting at most; beyond, POST /v1/events answers 503 `unavailable` and the host retries. */
const MAX_QUEUED_EVENTS = 100_000;

export interface NotifierOptions {
  store: NotificationStore;
  directory: Directory;
  definitions: Definitions;
  deliverer: Deliverer;
  events: EventBus;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: NotificationMetrics;
  /** PUT /v1/items' use case: an event's item snapshot is applied through it, before the rules run. */
  applyItem: (id: string, body: ItemPut) => Promise<unknown>;
  /** Hard-bounced addresses (SPEC §8): their emails are skipped with `bounced`. */
  bounces?: { has(address: string | null | undefined): boolean };
  /** The `message` transport: post as a bot into the item's first conversation of a visibility (HostApi.postToItem). */
  postToItem: (itemId: string, visibility: 'internal' | 'external', botId: string, body: string, clientMsgId: string) => Promise<unknown>;
}

/** Once-per-day marks and an item's article addresses an event committed (see Notifier.onShared). */
export interface SharedNotifierState {
  marks: readonly DeliveryMark[];
  articles: { itemId: string; first: readonly string[]; last: readonly string[] } | null;
}

/** The answer of POST /v1/events: `created` false when the id was seen before (200, the first answer). */
export interface EventAnswer {
  created: boolean;
  body: { id: string; deliveries: number };
}

/**
 * Events in, deliveries out (NOTIFICATIONS §2): the item snapshot applied, every valid definition
 * listening to the event matched (matcher.ts), the deliveries written with the event in one commit
 * (deliverer.ts), web notifications pushed. The hub raises `ItemAssignmentUpdate` and
 * `ProjectMemberAdd` itself from what the host writes (§6).
 */
export class Notifier {
  /** itemId → the to/cc addresses of its first and last article. */
  private readonly articles = new Map<string, { first: string[]; last: string[] }>();
  /** `${definitionId}|${itemKey}|${recipient}|${transport}` → last delivered at. */
  private readonly marks = new Map<string, number>();
  /** Events wait here in a burst (an event storm): a few run at once, in arrival order. */
  private readonly work = new WorkQueue(EVENT_CONCURRENCY, MAX_QUEUED_EVENTS);
  /**
   * The hub's own events (assignment changes, new members, appointments and their reminders) wait in a
   * line of their own, without a cap: none of them may be refused, since nobody would send it again.
   */
  private readonly hubWork = new WorkQueue(EVENT_CONCURRENCY, Infinity);
  /**
   * What an event committed here changed of the state kept in memory: once-per-day marks and an
   * item's article addresses (several hubs: the cluster tells the others, who `applyShared`; a hub
   * alone leaves it null).
   */
  onShared: ((u: SharedNotifierState) => void) | null = null;
  /** What the matcher reads of the directory and of delivery history; the preview (preview.ts) reads them too. */
  readonly rulesDirectory: RulesDirectory;
  readonly history: DeliveryHistory;

  constructor(private readonly o: NotifierOptions) {
    const dir = o.directory;
    this.rulesDirectory = {
      participant: (id) => dir.participants.get(id),
      participantByEmail: (a) => dir.participantByEmail(a),
      users: () => dir.users(),
      usersInQueue: (q) => dir.usersInQueue(q),
      queueGroup: (q) => dir.queues.get(q),
      articleAddresses: (itemId) => this.articles.get(itemId) ?? { first: [], last: [] },
    };
    this.history = {
      lastDeliveredAt: (d, item, r, t) => this.marks.get(`${d}|${item ?? ''}|${r}|${t}`),
      isBounced: (a) => o.bounces?.has(a) ?? false,
    };
    o.events.subscribe('ItemChanged', (e) => this.raiseAssignment(e.item, e.previous));
    o.events.subscribe('ProjectChanged', (e) => this.raiseNewMembers(e.project, e.previous));
  }

  async start(): Promise<void> {
    const state = await this.o.store.loadNotificationState(this.o.clock.now() - ONCE_PER_DAY_MS);
    await this.o.definitions.load(state.definitions);
    for (const a of state.articleAddresses) this.articles.set(a.itemId, { first: a.first, last: a.last });
    for (const m of state.marks) this.marks.set(`${m.definitionId}|${m.itemKey ?? ''}|${m.recipient}|${m.transport}`, m.at);
  }

  /** What an event committed on another hub changed (see onShared). */
  applyShared(u: SharedNotifierState): void {
    this.applyMarks(u.marks);
    if (u.articles) this.articles.set(u.articles.itemId, { first: [...u.articles.first], last: [...u.articles.last] });
  }

  /** Once-per-day marks committed (here, or on another hub): the later time of each wins. */
  private applyMarks(marks: readonly DeliveryMark[]): void {
    for (const m of marks) {
      const key = `${m.definitionId}|${m.itemKey ?? ''}|${m.recipient}|${m.transport}`;
      if ((this.marks.get(key) ?? -Infinity) < m.at) this.marks.set(key, m.at);
    }
  }

  /** POST /v1/events: waits its turn in the event queue. */
  post(body: EventPost): Promise<EventAnswer> {
    return this.work.run(() => this.process(body));
  }

  private async process(body: EventPost): Promise<EventAnswer> {
    const first = await this.o.store.getEvent(body.id);
    if (first) return { created: false, body: { id: first.id, deliveries: first.deliveries.length } };
    if (body.item && body.itemId) await this.o.applyItem(body.itemId, body.item);
    let item: ItemRecord | null = null;
    if (body.itemId !== undefined) {
      item = this.o.directory.items.get(body.itemId) ?? null;
      if (!item) throw new ProtocolError('not_found', `no such item: ${body.itemId} (send it as item, or PUT /v1/items first)`);
    }
    const event: RuleEvent = {
      id: body.id,
      type: body.type,
      occurredAt: body.occurredAt ?? this.o.clock.now(),
      actorId: body.actorId ?? null,
      item,
      article: body.article ?? null,
      appointment: null,
      calendar: null,
    };
    return this.run(event, this.o.definitions.forEvent(event.type));
  }

  /** GET /v1/events/{id}: the event with every delivery and its reason; `sent` once the outbox sent it. */
  async audit(id: string) {
    const e = await this.o.store.getEvent(id);
    if (!e) throw new ProtocolError('not_found', `no such event: ${id}`);
    const status = await this.o.store.outboxStatus(e.deliveries.flatMap((d) => (d.outboxId ? [d.outboxId] : [])));
    return {
      id: e.id,
      type: e.type,
      occurredAt: e.occurredAt,
      receivedAt: e.receivedAt,
      actorId: e.actorId,
      itemId: e.itemId,
      deliveries: e.deliveries.map(({ outboxId, notificationId: _n, ...d }) => {
        const row = outboxId ? status.get(outboxId) : undefined;
        if (row?.status === 'sent') return { ...d, status: 'sent' as const };
        // A key missing when it was sent (the hub's, or one that expired): skipped after all.
        if (row?.status === 'failed' && row.error === MISSING_KEY) return { ...d, status: 'skipped' as const, reason: 'missing_key' as const };
        return d;
      }),
      notFound: e.notFound,
    };
  }

  /** A hub-raised event (appointments, reminders): run in turn with the others, never refused. */
  runQueued(event: RuleEvent, definitions: readonly NotificationDefinition[]): Promise<EventAnswer> {
    return this.hubWork.run(() => this.run(event, definitions));
  }

  /** Match, render and commit one event; idempotent by its id. */
  async run(event: RuleEvent, definitions: readonly NotificationDefinition[], recipientsOf?: (d: NotificationDefinition) => NotificationDefinition): Promise<EventAnswer> {
    const now = this.o.clock.now();
    const before = event.item ? this.articles.get(event.item.id) : undefined;
    const articleAddresses = this.noteArticle(event);
    const planned: PlannedDelivery[] = [];
    const notFound: NotFound[] = [];
    const matched: NotificationDefinition[] = [];
    // The definitions the deliveries name (not all of them: an event type has up to hundreds).
    const byId = new Map<string, NotificationDefinition>();
    for (const d of definitions) {
      const r = matchDefinition(event, recipientsOf ? recipientsOf(d) : d, this.rulesDirectory, this.history, now);
      if (r.matched) matched.push(d);
      if (r.deliveries.length > 0) byId.set(d.id, d);
      for (const p of r.deliveries) planned.push(p);
      for (const n of r.notFound) notFound.push(n);
    }
    const built = await this.o.deliverer.build(event, planned, byId, now).catch((e: unknown) => {
      if (articleAddresses) this.restoreArticles(articleAddresses.itemId, before);
      throw e;
    });
    // Messages go before the commit, keyed by (event, definition): a retried event posts each once.
    for (const d of matched) {
      const delivery = await this.postMessage(event, d);
      if (delivery) built.deliveries.push(delivery);
    }
    const record: EventRecord = {
      id: event.id,
      type: event.type,
      occurredAt: event.occurredAt,
      receivedAt: now,
      actorId: event.actorId,
      itemId: event.item?.id ?? null,
      deliveries: built.deliveries,
      notFound,
    };
    let created: boolean;
    try {
      created = await this.o.store.commitEvent({ ...built.commit, event: record, articleAddresses });
    } catch (e) {
      if (articleAddresses) this.restoreArticles(articleAddresses.itemId, before);
      throw e;
    }
    if (!created) {
      const first = await this.o.store.getEvent(event.id);
      return { created: false, body: { id: event.id, deliveries: first?.deliveries.length ?? 0 } };
    }
    if (articleAddresses) this.articles.set(articleAddresses.itemId, { first: articleAddresses.first, last: articleAddresses.last });
    this.applyMarks(built.commit.marks);
    if (built.commit.marks.length > 0 || articleAddresses) this.onShared?.({ marks: built.commit.marks, articles: articleAddresses });
    this.o.deliverer.committed(built);
    return { created: true, body: { id: event.id, deliveries: record.deliveries.length } };
  }

  /** The `message` transport of one matched definition (NOTIFICATIONS §3), as an audit line. */
  private async postMessage(event: RuleEvent, d: NotificationDefinition): Promise<DeliveryRecord | null> {
    const m = d.transports.message;
    if (!m?.enabled || !event.item) return null;
    const line: DeliveryRecord = { definitionId: d.id, participantId: m.botId, address: null, transport: 'message', status: 'sent', reason: null, outboxId: null, notificationId: null };
    // An internal note's text never goes where the customer reads.
    if (m.visibility === 'external' && event.article && !event.article.visibleForCustomer) return { ...line, status: 'skipped', reason: 'not_visible_for_customer' };
    const body = clipText(this.o.deliverer.messageText(event, d), MAX_BODY_CHARS);
    if (isBlank(body)) return null;
    try {
      await this.o.postToItem(event.item.id, m.visibility, m.botId, body, `n.${shortHash(`${event.id}\u0000${d.id}`)}`);
      return line;
    } catch (e) {
      if (e instanceof ProtocolError && e.code === 'not_found') return { ...line, status: 'skipped', reason: 'disabled' };
      throw e;
    }
  }

  private restoreArticles(itemId: string, before: { first: string[]; last: string[] } | undefined): void {
    if (before) this.articles.set(itemId, before);
    else this.articles.delete(itemId);
  }

  /** The item's article addresses after this event, when it carries an article (its own counts, §2). */
  private noteArticle(event: RuleEvent): { itemId: string; first: string[]; last: string[] } | null {
    if (!event.item || !event.article) return null;
    const addresses = [...(event.article.to ?? []), ...(event.article.cc ?? [])];
    const before = this.articles.get(event.item.id);
    const next = { itemId: event.item.id, first: before?.first ?? addresses, last: addresses };
    // The matcher reads the map: show it this event's article; committed (or not) after.
    this.articles.set(event.item.id, { first: next.first, last: next.last });
    return next;
  }

  private raiseAssignment(item: ItemRecord, previous: ItemRecord | null): void {
    const changed = new Set<string>();
    for (const [now, was] of [
      [item.ownerId, previous?.ownerId ?? null],
      [item.responsibleId, previous?.responsibleId ?? null],
    ] as const) {
      if (now === was) continue;
      if (now) changed.add(now);
      if (was) changed.add(was);
    }
    if (changed.size === 0) return;
    const agents = [...changed];
    this.raise({ type: ITEM_ASSIGNMENT_UPDATE, item, actorId: null }, ASSIGNMENT_CHANGES_ID, agents);
  }

  private raiseNewMembers(project: ProjectRecord, previous: ProjectRecord | null): void {
    const added = [...project.followers.keys()].filter((id) => !previous?.followers.has(id));
    if (added.length === 0) return;
    // The project stands in for the item: its tags describe the project (builtins.ts).
    const asItem = projectAsItem(project);
    for (const member of added) {
      const others = [...project.followers.keys()].filter((id) => id !== member);
      if (others.length > 0) this.raise({ type: PROJECT_MEMBER_ADD, item: asItem, actorId: member }, NEW_MEMBERS_ID, others);
    }
  }

  /**
   * Run a hub-raised event: every definition listening to it, the built-in one addressed to exactly
   * `agents` (the people the change is about).
   */
  private raise(e: { type: string; item: ItemRecord; actorId: string | null }, builtinId: string, agents: string[]): void {
    const event: RuleEvent = { id: `hub:${nanoid()}`, type: e.type, occurredAt: this.o.clock.now(), actorId: e.actorId, item: e.item, article: null, appointment: null, calendar: null };
    const defs = this.o.definitions.forEvent(e.type);
    const address = (d: NotificationDefinition): NotificationDefinition =>
      d.id === builtinId ? { ...d, recipients: { relations: [], agents, groups: [], roles: [] } } : d;
    this.hubWork.run(() => this.run(event, defs, address)).catch((err: unknown) => this.o.logger.error('hub event failed', { type: e.type, error: String(err) }));
  }
}

function projectAsItem(p: ProjectRecord): ItemRecord {
  return {
    id: p.id,
    kind: 'project',
    title: p.name,
    projectId: p.id,
    number: null,
    status: null,
    priority: null,
    queue: null,
    customerId: null,
    ownerId: null,
    responsibleId: null,
    followers: p.followers,
    lock: null,
    service: null,
    type: null,
    createdBy: null,
    customerCompany: null,
    fields: {},
    createdAt: p.createdAt,
    roleSince: { customer: null, owner: null, responsible: null },
  };
}

/** At most `max` code points. */
function clipText(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, max).join('');
}
