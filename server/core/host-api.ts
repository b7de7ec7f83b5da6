import {
  ProtocolError,
  type ConversationCreate,
  type Message,
  type MessagePost,
  type MessagesQuery,
  type EmailsQuery,
  type TokenCreate,
} from '../../protocol/index.js';
import type { HostDirectory } from './host-directory.js';
import type { Hub } from './hub.js';
import type { ConversationRecord, ParticipantRecord, Relations } from './model.js';
import type { Clock, EmailComposer, Store, Tokens } from './ports/index.js';
import { mayPostApi } from './rules/rules.js';

export interface HostApiOptions {
  hub: Hub;
  store: Store;
  clock: Clock;
  tokens: Tokens;
  /** Participants and preferences (HostDirectory): unsubscribing patches preferences. */
  directoryApi: HostDirectory;
  /** Shows deferred outbox emails (composed when sent) as MIME. */
  composer: EmailComposer;
}

const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/**
 * The use cases behind the host application's HTTP API (SPEC §4). Bodies arrive validated by the
 * protocol schemas; this layer enforces the rules that need state (existence, kinds, may-post).
 */
export class HostApi {
  private readonly hub: Hub;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly tokens: Tokens;
  private readonly directoryApi: HostDirectory;
  private readonly composer: EmailComposer;
  private readonly itemConversationCreation = new Map<string, Promise<ConversationRecord>>();

  constructor(opts: HostApiOptions) {
    this.hub = opts.hub;
    this.store = opts.store;
    this.clock = opts.clock;
    this.tokens = opts.tokens;
    this.directoryApi = opts.directoryApi;
    this.composer = opts.composer;
  }

  private get dir() {
    return this.hub.directory;
  }

  private participant(id: string): ParticipantRecord {
    const p = this.dir.participants.get(id);
    if (!p) throw new ProtocolError('not_found', `no such participant: ${id}`);
    return p;
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
    const filter = { ...(q.status ? { status: q.status } : {}), ...(q.kind ? { kind: q.kind } : {}), newestFirst: q.order === 'desc' };
    return this.store.listEmails(q.since ?? 0, q.limit ?? 100, filter).then((emails) => ({ emails }));
  }

  /** An email's MIME; a deferred one (composed when sent) is composed for the showing. */
  async getEmailRaw(id: string): Promise<string> {
    const source = await this.store.getEmailSource(id);
    if (source === null) throw new ProtocolError('not_found', `no such email: ${id}`);
    if (!source.deferred) return source.raw;
    return (await this.composer.compose(source.deferred.template, source.deferred.data as never)).raw;
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
    if (!p.preferences.email.optOut) await this.directoryApi.patchPreferences(p.id, { email: { optOut: true } });
    return p;
  }

  async createToken(body: TokenCreate): Promise<{ token: string; expiresAt: number }> {
    const p = this.participant(body.sub);
    if (p.disabled) throw new ProtocolError('forbidden', `participant ${p.id} is disabled`);
    if (body.admin && p.kind !== 'user') throw new ProtocolError('invalid', 'only users may hold admin tokens');
    return this.tokens.sign(p.id, body.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS, { admin: body.admin === true });
  }

  /**
   * What a Bearer token that is not the API key is to the admin routes (NOTIFICATIONS §8): `admin` — a
   * session token of ours, unexpired, with `admin`, for an enabled user, issued after the user was last
   * re-enabled; `forbidden` — a valid session token without that; `invalid` — not a token of ours.
   */
  async adminToken(token: string): Promise<'admin' | 'forbidden' | 'invalid'> {
    let c;
    try {
      c = await this.tokens.verify(token);
    } catch {
      return 'invalid';
    }
    const p = this.dir.participants.get(c.sub);
    if (!c.admin || !p || p.kind !== 'user' || p.disabled) return 'forbidden';
    return p.enabledAt === null || (c.issuedAt ?? 0) >= p.enabledAt - 999 ? 'admin' : 'forbidden';
  }
}
