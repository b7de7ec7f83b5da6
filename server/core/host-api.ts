import {
  CustomerPreferencesPatchSchema,
  ProtocolError,
  UserPreferencesPatchSchema,
  type ConversationCreate,
  type CustomerPreferences,
  type ItemPut,
  type Message,
  type MessagePost,
  type MessagesQuery,
  type Participant,
  type ParticipantPut,
  type ProjectPut,
  type EmailsQuery,
  type TokenCreate,
  type UserPreferences,
} from '../../protocol/index.js';
import type { Hub } from './hub.js';
import { isUserPreferences, type ConversationRecord, type ItemRecord, type ParticipantRecord, type ProjectRecord, type Relations } from './model.js';
import type { Clock, EventBus, Store, Tokens } from './ports/index.js';
import { newParticipant } from './participants.js';
import { mayPostApi } from './rules/rules.js';

export interface HostApiOptions {
  hub: Hub;
  events: EventBus;
  store: Store;
  clock: Clock;
  tokens: Tokens;
}

const DEFAULT_TOKEN_TTL_SECONDS = 3600;

function publicParticipant(p: ParticipantRecord): Participant {
  const { preferences: _preferences, enabledAt: _enabledAt, ...rest } = p;
  return rest;
}

/** Keep the start time of relations that continue; new ones begin now. */
function relations(ids: readonly string[] | undefined, old: Relations | undefined, now: number): Relations {
  const out: Relations = new Map();
  for (const id of ids ?? []) out.set(id, old?.get(id) ?? now);
  return out;
}

/**
 * The use cases behind the host application's HTTP API (SPEC §4). Bodies arrive validated by the
 * protocol schemas; this layer enforces the rules that need state (existence, kinds, may-post).
 */
export class HostApi {
  private readonly hub: Hub;
  private readonly events: EventBus;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly tokens: Tokens;
  /** What only the notification rules know: a mandatory definition keeps a transport on; which definitions preferences show. */
  notificationPreferences: {
    validate(p: UserPreferences): void;
    view(stored: UserPreferences['notificationDefinitions']): NonNullable<UserPreferences['notificationDefinitions']>;
  } | null = null;
  private readonly itemConversationCreation = new Map<string, Promise<ConversationRecord>>();

  constructor(opts: HostApiOptions) {
    this.hub = opts.hub;
    this.events = opts.events;
    this.store = opts.store;
    this.clock = opts.clock;
    this.tokens = opts.tokens;
  }

  private get dir() {
    return this.hub.directory;
  }

  /**
   * Apply a change to the in-memory directory before the write is awaited, so that a concurrent request
   * checks against it (kind conflicts, preference merges) rather than a stale copy; undo it if the write
   * fails. The caller refreshes subscriptions once the write is durable.
   */
  private async applyThenPersist(apply: () => void, undo: () => void, write: () => Promise<void>): Promise<void> {
    apply();
    try {
      await write();
    } catch (err) {
      undo();
      throw err;
    }
  }

  private participant(id: string): ParticipantRecord {
    const p = this.dir.participants.get(id);
    if (!p) throw new ProtocolError('not_found', `no such participant: ${id}`);
    return p;
  }

  async putParticipant(id: string, body: ParticipantPut): Promise<Participant> {
    const old = this.dir.participants.get(id);
    if (old && old.kind !== body.kind) throw new ProtocolError('conflict', `participant ${id} is a ${old.kind}; kind never changes`);
    const fresh = newParticipant({ id, ...body }, this.clock.now());
    const p: ParticipantRecord = {
      ...fresh,
      // Re-enabling retires every token issued before it (SPEC §3 Token); creation does not count.
      enabledAt: old?.disabled && !fresh.disabled ? this.clock.now() : (old?.enabledAt ?? null),
      createdAt: old?.createdAt ?? fresh.createdAt,
      preferences: old?.preferences ?? fresh.preferences,
    };
    await this.applyThenPersist(
      () => this.dir.setParticipant(p),
      () => (old ? this.dir.setParticipant(old) : this.dir.deleteParticipant(id)),
      () => this.store.putParticipant(p),
    );
    this.events.publish('DirectoryChanged', { entity: 'participant', id });
    this.events.publish('AudienceChanged', { participantIds: [id] });
    return publicParticipant(p);
  }

  getParticipant(id: string): Participant {
    return publicParticipant(this.participant(id));
  }

  getPreferences(id: string): UserPreferences | CustomerPreferences {
    return this.preferencesView(this.participant(id).preferences);
  }

  /** A user's preferences with every definition shown in preferences, at its default unless chosen. */
  private preferencesView(p: UserPreferences | CustomerPreferences): UserPreferences | CustomerPreferences {
    if (!isUserPreferences(p) || !this.notificationPreferences) return p;
    const shown = this.notificationPreferences.view(p.notificationDefinitions);
    return Object.keys(shown).length ? { ...p, notificationDefinitions: shown } : p;
  }

  /** Deep-merge a partial preferences object; the schema depends on the participant's kind. */
  async patchPreferences(id: string, body: unknown): Promise<UserPreferences | CustomerPreferences> {
    const p = this.participant(id);
    const old = p.preferences;
    let next: UserPreferences | CustomerPreferences;
    if (isUserPreferences(old)) {
      const parsed = UserPreferencesPatchSchema.safeParse(body);
      if (!parsed.success) throw new ProtocolError('invalid', 'invalid preferences', parsed.error.issues);
      const d = parsed.data;
      next = {
        notifications: { ...old.notifications, ...d.notifications },
        email: { ...old.email, ...d.email },
        access: { ...old.access, ...d.access },
      };
      const choices = { ...old.notificationDefinitions };
      for (const [defId, c] of Object.entries(d.notificationDefinitions ?? {})) choices[defId] = { ...choices[defId], ...c };
      if (Object.keys(choices).length > 0) next.notificationDefinitions = choices;
      this.notificationPreferences?.validate(next);
    } else {
      const parsed = CustomerPreferencesPatchSchema.safeParse(body);
      if (!parsed.success) throw new ProtocolError('invalid', `invalid preferences for a ${p.kind}`, parsed.error.issues);
      next = { email: { ...old.email, ...parsed.data.email } };
    }
    await this.applyThenPersist(
      () => this.dir.setParticipant({ ...p, preferences: next }),
      () => this.dir.setParticipant(p),
      () => this.store.putPreferences(id, next),
    );
    this.events.publish('DirectoryChanged', { entity: 'participant', id });
    this.events.publish('AudienceChanged', { participantIds: [id] });
    return this.preferencesView(next);
  }

  async putProject(id: string, body: ProjectPut): Promise<{ id: string; name: string; followers: string[]; createdAt: number }> {
    const old = this.dir.projects.get(id);
    const now = this.clock.now();
    const p: ProjectRecord = { id, name: body.name, followers: relations(body.followers, old?.followers, now), createdAt: old?.createdAt ?? now };
    await this.applyThenPersist(
      () => this.dir.setProject(p),
      () => (old ? this.dir.setProject(old) : this.dir.deleteProject(id)),
      () => this.store.putProject(p),
    );
    this.events.publish('DirectoryChanged', { entity: 'project', id });
    this.events.publish('ProjectChanged', { project: p, previous: old ?? null });
    this.events.publish('AudienceChanged', { participantIds: [...new Set([...(old?.followers.keys() ?? []), ...p.followers.keys()])] });
    return { id, name: p.name, followers: [...p.followers.keys()], createdAt: p.createdAt };
  }

  async putItem(id: string, body: ItemPut) {
    for (const [role, pid] of [
      ['customerId', body.customerId],
      ['ownerId', body.ownerId],
      ['responsibleId', body.responsibleId],
    ] as const) {
      const p = pid ? this.dir.participants.get(pid) : undefined;
      if (!p) continue;
      if (role === 'customerId' ? p.kind !== 'customer' : p.kind !== 'user') {
        throw new ProtocolError('invalid', `${role} ${pid} is a ${p.kind}`);
      }
    }
    const old = this.dir.items.get(id);
    const now = this.clock.now();
    const since = (next: string | null, prev: string | null | undefined, t: number | null | undefined) => (next === null ? null : next === prev && t != null ? t : now);
    const customerId = body.customerId ?? null;
    const ownerId = body.ownerId ?? null;
    const responsibleId = body.responsibleId ?? null;
    const item: ItemRecord = {
      id,
      kind: body.kind,
      title: body.title,
      projectId: body.projectId ?? null,
      number: body.number ?? null,
      status: body.status ?? null,
      priority: body.priority ?? null,
      queue: body.queue ?? null,
      customerId,
      ownerId,
      responsibleId,
      followers: relations(body.followers, old?.followers, now),
      lock: body.lock ?? null,
      service: body.service ?? null,
      type: body.type ?? null,
      createdBy: body.createdBy ?? null,
      customerCompany: body.customerCompany ?? null,
      fields: body.fields ?? {},
      createdAt: old?.createdAt ?? now,
      roleSince: {
        customer: since(customerId, old?.customerId, old?.roleSince.customer),
        owner: since(ownerId, old?.ownerId, old?.roleSince.owner),
        responsible: since(responsibleId, old?.responsibleId, old?.roleSince.responsible),
      },
    };
    const audience = old ? this.dir.itemAudience(old) : new Set<string>();
    await this.applyThenPersist(
      () => this.dir.setItem(item),
      () => (old ? this.dir.setItem(old) : this.dir.deleteItem(id)),
      () => this.store.putItem(item),
    );
    for (const id of this.dir.itemAudience(item)) audience.add(id);
    this.events.publish('DirectoryChanged', { entity: 'item', id });
    this.events.publish('AudienceChanged', { participantIds: [...audience] });
    this.events.publish('ItemChanged', { item, previous: old ?? null });
    const { roleSince: _roleSince, followers, ...rest } = item;
    return { ...rest, followers: [...followers.keys()] };
  }

  /** PUT /v1/queues/{name}: the group whose members may work on the queue's items. */
  async putQueue(name: string, groupId: string): Promise<{ name: string; groupId: string }> {
    await this.store.putQueue(name, groupId);
    this.dir.queues.set(name, groupId);
    this.events.publish('DirectoryChanged', { entity: 'queue', id: name });
    return { name, groupId };
  }

  async createConversation(body: ConversationCreate) {
    const now = this.clock.now();
    if (body.kind === 'item') {
      if (!this.dir.items.has(body.itemId)) throw new ProtocolError('not_found', `no such item: ${body.itemId}`);
      const c = await this.hub.createConversation({
        kind: 'item',
        visibility: body.visibility,
        itemId: body.itemId,
        subject: body.subject ?? null,
        createdBy: null,
        members: new Map(),
      });
      return this.hub.describe(c);
    }
    const creator = this.participant(body.createdBy);
    if (creator.disabled) throw new ProtocolError('not_found', `no such participant: ${body.createdBy}`);
    if (creator.kind !== 'user') throw new ProtocolError('invalid', 'direct conversations are opened by users');
    const members: Relations = new Map([[creator.id, now]]);
    let external = false;
    for (const id of body.members) {
      const m = this.dir.participants.get(id);
      if (!m || m.disabled) throw new ProtocolError('not_found', `no such participant: ${id}`);
      if (m.kind === 'customer') external = true;
      members.set(id, now);
    }
    const c = await this.hub.createConversation({
      kind: 'direct',
      visibility: external ? 'external' : 'internal',
      itemId: null,
      subject: body.subject ?? null,
      createdBy: creator.id,
      members,
    });
    return this.hub.describe(c);
  }

  private conversation(id: string) {
    const c = this.dir.conversations.get(id);
    if (!c) throw new ProtocolError('not_found', `no such conversation: ${id}`);
    return c;
  }

  getConversation(id: string) {
    return this.hub.describe(this.conversation(id));
  }

  async postMessage(conversationId: string, body: MessagePost): Promise<{ message: Message; duplicate: boolean }> {
    const c = this.conversation(conversationId);
    const p = this.participant(body.senderId);
    if (!mayPostApi(p, c, this.dir.context(c))) throw new ProtocolError('forbidden', `${p.id} may not post in this conversation`);
    return this.hub.post(p, c, { body: body.body, format: body.format ?? 'text', clientMsgId: body.clientMsgId, source: 'api' });
  }

  /**
   * Post as a bot into the item's first conversation of this visibility, created if there is none
   * (the notification rules' `message` transport). Idempotent on `clientMsgId` like any post.
   */
  async postToItem(itemId: string, visibility: 'internal' | 'external', botId: string, body: string, clientMsgId: string) {
    const bot = this.dir.participants.get(botId);
    if (!bot || bot.kind !== 'bot' || bot.disabled) throw new ProtocolError('not_found', `no such bot: ${botId}`);
    const key = `${itemId}|${visibility}`;
    let pending = this.itemConversationCreation.get(key);
    if (!pending) {
      const existing = this.dir.itemConversations(itemId).find((c) => c.visibility === visibility);
      pending = existing
        ? Promise.resolve(existing)
        : this.hub.createConversation({ kind: 'item', visibility, itemId, subject: null, createdBy: null, members: new Map() });
      // Two events at once find (or create) one conversation, never two.
      this.itemConversationCreation.set(key, pending);
      void pending.finally(() => this.itemConversationCreation.delete(key)).catch(() => undefined);
    }
    return this.hub.post(bot, await pending, { body, format: 'text', clientMsgId, source: 'api' });
  }

  listMessages(conversationId: string, q: MessagesQuery) {
    const c = this.conversation(conversationId);
    return this.store.listMessages(c.id, { before: q.before, after: q.after, limit: q.limit ?? 50 });
  }

  async getReceipts(messageId: string) {
    const m = await this.store.getMessage(messageId);
    const c = m && this.dir.conversations.get(m.conversationId);
    if (!m || !c) throw new ProtocolError('not_found', `no such message: ${messageId}`);
    return { messageId: m.id, conversationId: c.id, recipients: await this.hub.receipts(m, c, 'full') };
  }

  listEmails(q: EmailsQuery) {
    return this.store.listEmails(q.since ?? 0, q.limit ?? 100).then((emails) => ({ emails }));
  }

  async getEmailRaw(id: string): Promise<string> {
    const raw = await this.store.getEmailRaw(id);
    if (raw === null) throw new ProtocolError('not_found', `no such email: ${id}`);
    return raw;
  }

  /** Who an unsubscribe link names (null when the token is not ours or the participant is gone). */
  unsubscribeTarget(token: string): ParticipantRecord | null {
    const id = this.tokens.verifyUnsubscribe(token);
    return id === null ? null : (this.dir.participants.get(id) ?? null);
  }

  /** One-click unsubscribe (RFC 8058): stop every escalation email to the link's participant. */
  async unsubscribe(token: string): Promise<ParticipantRecord> {
    const p = this.unsubscribeTarget(token);
    if (!p) throw new ProtocolError('not_found', 'unknown unsubscribe link');
    if (!p.preferences.email.optOut) await this.patchPreferences(p.id, { email: { optOut: true } });
    return p;
  }

  async createToken(body: TokenCreate): Promise<{ token: string; expiresAt: number }> {
    const p = this.participant(body.sub);
    if (p.disabled) throw new ProtocolError('forbidden', `participant ${p.id} is disabled`);
    return this.tokens.sign(p.id, body.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS);
  }
}
