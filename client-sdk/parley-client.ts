import type {
  AckFrame,
  ClientFrame,
  ConversationsReplyFrame,
  Format,
  HistoryReplyFrame,
  Message,
  Notification,
  NotifyFrame,
  Presence,
  Receipt,
  ReceiptFrame,
  ServerFrame,
  Summary,
  TypingEventFrame,
  WelcomeFrame,
} from '../protocol/index.js';
import { Emitter } from './emitter.js';
import { ParleyClientError, ParleyError, ParleyServerError } from './errors.js';

// Only types come from protocol/: the browser bundle carries no zod. The few numbers the client acts
// on are restated here; test/unit/client-sdk checks them against protocol/codes.ts.
const PROTOCOL_VERSION = 1;
/** Close codes after which reconnecting cannot help (SPEC §3): forbidden, protocol violation. */
const CLOSE_FORBIDDEN = 4003;
const CLOSE_PROTOCOL_VIOLATION = 4400;
/** Bad or expired token: reconnect only with a new token from the provider. */
const CLOSE_UNAUTHENTICATED = 4001;
/** What the client uses to close a connection it gave up on (no heartbeat). */
const CLOSE_CLIENT_GAVE_UP = 4000;

/** The part of the WebSocket API the client needs; browsers' WebSocket and `ws` both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

/** Returns a fresh token (a JWT the host app minted); called again when the hub says it expired. */
export type TokenProvider = () => string | Promise<string>;

export interface ReconnectOptions {
  /** First delay after a drop; doubles (×`factor`) per failed attempt up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
}

export interface ParleyClientOptions {
  /** The hub's WebSocket endpoint, e.g. `wss://chat.example.com/v1/ws`. */
  url: string;
  /** A token, or a function that returns one (called again when the token expires). */
  token: string | TokenProvider;
  /** Sent in `hello` so the hub's logs can tell clients apart. */
  clientInfo?: { name?: string; version?: string };
  /** Reconnect with exponential backoff and jitter (default), or never (`false`). */
  reconnect?: ReconnectOptions | false;
  /** How long a request waits for its answer; default 10 s. */
  requestTimeoutMs?: number;
  /** `seen()` calls within this window are sent as one frame per conversation; default 250 ms. */
  seenDelayMs?: number;
  /** At most one `typing` frame per conversation in this interval; default 3 s. */
  typingIntervalMs?: number;
  /** Opens the socket. The browser and Node entries provide it. */
  webSocket: WebSocketFactory;
}

/**
 * `idle` before `connect()`; `connecting` until the first `welcome`; `open`; `reconnecting` after a
 * drop (sends queue meanwhile); `closed` for good (after `close()` or a refusal no retry can mend).
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** `pending` until the hub acknowledges it (it is stored then), or `failed` if the hub refused it. */
export type OutgoingState = 'pending' | 'sent' | 'failed';

/** A message this client is sending; `clientMsgId` is also the `clientMsgId` of the stored message. */
export interface OutgoingMessage {
  readonly clientMsgId: string;
  readonly conversationId: string;
  readonly body: string;
  readonly format: Format;
  state: OutgoingState;
  /** Set once `state` is `sent`. */
  ack?: Ack;
  /** Set once `state` is `failed`. */
  error?: ParleyError;
}

export type Ack = Omit<AckFrame, 't' | 're'>;
export type Welcome = Omit<WelcomeFrame, 't'>;

export interface MessageMeta {
  /**
   * `true` for a message pushed as it was written; `false` for one fetched with `history` because the
   * client missed it (after a reconnect, or for a conversation given to `watch`).
   */
  live: boolean;
}

export interface ClientEvents {
  /** A session began (the first connect and every reconnect). */
  welcome: [Welcome];
  state: [ConnectionState];
  /** Each message of a watched conversation exactly once, in seq order per conversation. */
  message: [Message, MessageMeta];
  notify: [Omit<NotifyFrame, 't'>];
  receipt: [Omit<ReceiptFrame, 't'>];
  typing: [Omit<TypingEventFrame, 't'>];
  presence: [Presence];
  /** A conversation this participant may see was created or its members changed. */
  conversation: [Summary];
  /** A pending message was acknowledged or failed; also fired when it is queued. */
  outgoing: [OutgoingMessage];
  /** After a reconnect: every conversation with its current counts, once catching up has begun. */
  resumed: [Summary[]];
  /** The hub extended the session with a newer token from the provider; `expiresAt` is the hub's (ms). */
  refreshed: [{ expiresAt: number }];
  /** A web notification of a notification rule or broadcast, pushed as it was created (users only). */
  notification: [Notification];
  /** A server error that answers no request, a token refresh that failed for good, or why the connection was given up. */
  error: [ParleyError];
}

/** One page of this participant's web notifications (`notifications()`). */
export interface NotificationPage {
  /** Newest first. */
  notifications: Notification[];
  /** How many of this participant's notifications are unseen, on every page. */
  unseen: number;
  /** Older ones exist: ask again with `before` the last one's id. */
  hasMore: boolean;
}

interface PendingRequest {
  resolve: (frame: ServerFrame) => void;
  reject: (err: ParleyError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** A `send`: a drop leaves its message pending for the next session instead of failing it. */
  send?: true;
}

interface Outgoing extends OutgoingMessage {
  settle: { resolve: (ack: Ack) => void; reject: (err: ParleyError) => void };
  /** The request id of the frame on the wire, while one is. */
  requestId: string | null;
  /** Refused for a moment (rate_limited): waiting to go again, and holding back later messages of its conversation. */
  held: boolean;
}

type Request = ClientFrame extends infer F ? (F extends { id: string } ? Omit<F, 'id'> : never) : never;
type Reply<T extends ServerFrame['t']> = Extract<ServerFrame, { t: T }>;

const RESUME_MAX_PAGES = 50;
const HISTORY_PAGE = 200;
/** Token refresh: ask at 80% of the remaining lifetime, at least 5 s before exp (half the lifetime for tokens shorter than 10 s). */
const REFRESH_AT = 0.8;
const REFRESH_LEAD_MS = 5_000;
/** Refresh attempts per token (the first and two retries) before the session is left to end at exp. */
const REFRESH_ATTEMPTS = 3;
/** setTimeout's ceiling (about 24.8 days); a later refresh waits in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A Parley session that survives drops: it reconnects with backoff, resends what was not
 * acknowledged, and delivers every message of the conversations it watches exactly once, in order.
 *
 * @example
 * const client = new ParleyClient({ url, token: () => fetchToken() });
 * client.on('message', (m, { live }) => render(m, live));
 * await client.connect();
 * await client.send(conversationId, 'Hello!');
 */
export class ParleyClient extends Emitter<ClientEvents> {
  private readonly opts: Required<Omit<ParleyClientOptions, 'clientInfo' | 'reconnect'>> & Pick<ParleyClientOptions, 'clientInfo' | 'reconnect'>;
  private socket: WebSocketLike | null = null;
  private generation = 0;
  private currentState: ConnectionState = 'idle';
  private welcome: Welcome | null = null;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private lastHeardAt = 0;
  private token: string | null = null;
  private nextRequestId = 0;
  private readonly requests = new Map<string, PendingRequest>();
  private readonly outbox = new Map<string, Outgoing>();
  /** Per watched conversation, the highest seq handed to the app. */
  private readonly marks = new Map<string, number>();
  /** Conversations being caught up: live messages wait here until history has filled the gap. */
  private readonly catching = new Map<string, Message[]>();
  private readonly catchingUp = new Set<string>();
  private readonly seenWanted = new Map<string, number>();
  private readonly seenSent = new Map<string, number>();
  private seenTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly typingSentAt = new Map<string, number>();
  private presenceWanted: 'active' | 'away' = 'active';
  /** The ids of the last `who` with `watch: true`, watched again after a reconnect. */
  private whoWatch: string[] | null = null;
  /** Notification ids to mark seen, waiting for a session. */
  private readonly notificationsSeenWanted = new Set<string>();
  private firstWelcome: { resolve: (w: Welcome) => void; reject: (e: ParleyError) => void; promise: Promise<Welcome> } | null = null;

  constructor(options: ParleyClientOptions) {
    super();
    this.opts = { requestTimeoutMs: 10_000, seenDelayMs: 250, typingIntervalMs: 3_000, ...options };
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Who this client is, from the latest `welcome`; null before the first. */
  get participant(): Welcome['participant'] | null {
    return this.welcome?.participant ?? null;
  }

  /**
   * Opens the session; resolves with the first `welcome`. Rejects if the hub refuses the token for
   * good (`ParleyServerError`) or `close()` is called first. Later drops reconnect by themselves.
   *
   * @example
   * const welcome = await client.connect();
   * welcome.participant.id; // 'alice'
   */
  connect(): Promise<Welcome> {
    if (this.currentState === 'closed') return Promise.reject(new ParleyClientError('closed', 'the client is closed'));
    if (this.firstWelcome) return this.firstWelcome.promise;
    let resolve!: (w: Welcome) => void;
    let reject!: (e: ParleyError) => void;
    const promise = new Promise<Welcome>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // the caller's copy still rejects; this one must not count as unhandled
    this.firstWelcome = { resolve, reject, promise };
    if (this.welcome) resolve(this.welcome);
    else {
      this.setState('connecting');
      void this.openSocket();
    }
    return promise;
  }

  /**
   * Ends the session for good: closes the socket, fails what is still pending with `closed`.
   *
   * @example
   * client.close();
   * client.state; // 'closed'
   */
  close(): void {
    if (this.currentState === 'closed') return;
    this.terminate(new ParleyClientError('closed', 'the client was closed'));
  }

  /**
   * Sends a message. Resolves with the ack once the hub has stored it. While offline it waits in the
   * queue and is sent after reconnecting, with the same `clientMsgId`, so it is stored once however
   * often it is retried. Rejects with a `ParleyServerError` if the hub refuses it (`invalid`,
   * `not_found`, `too_large`…), or `closed`.
   *
   * @example
   * const ack = await client.send(conversationId, 'Hello!');
   * ack.seq; // 1
   */
  send(conversationId: string, body: string, options: { format?: Format; clientMsgId?: string } = {}): Promise<Ack> {
    if (this.currentState === 'closed') return Promise.reject(new ParleyClientError('closed', 'the client is closed'));
    const clientMsgId = options.clientMsgId ?? newClientMsgId();
    const existing = this.outbox.get(clientMsgId);
    if (existing) return new Promise((resolve, reject) => chainSettle(existing, resolve, reject));
    return new Promise<Ack>((resolve, reject) => {
      const out: Outgoing = {
        clientMsgId,
        conversationId,
        body,
        format: options.format ?? 'text',
        state: 'pending',
        requestId: null,
        held: false,
        settle: { resolve, reject },
      };
      this.outbox.set(clientMsgId, out);
      this.emit('outgoing', publicOutgoing(out));
      this.pump(conversationId);
    });
  }

  /**
   * Messages not yet acknowledged (`pending`) or refused (`failed`), oldest first.
   *
   * @example
   * client.outgoing().filter((m) => m.state === 'pending').length; // 2 while offline
   */
  outgoing(): OutgoingMessage[] {
    return [...this.outbox.values()].map(publicOutgoing);
  }

  /**
   * Marks a conversation seen up to `upTo`. Calls within `seenDelayMs` become one frame; lower values
   * than already sent are dropped; while offline the latest value waits for the next session.
   *
   * @example
   * client.seen(conversationId, message.seq);
   */
  seen(conversationId: string, upTo: number): void {
    if (upTo <= Math.max(this.seenWanted.get(conversationId) ?? 0, this.seenSent.get(conversationId) ?? 0)) return;
    this.seenWanted.set(conversationId, upTo);
    this.seenTimer ??= setTimeout(() => this.flushSeen(), this.opts.seenDelayMs);
  }

  /**
   * Tells the others this participant is typing; at most one frame per `typingIntervalMs`, so call it
   * on every keystroke. Dropped while offline.
   *
   * @example
   * input.addEventListener('input', () => client.typing(conversationId));
   */
  typing(conversationId: string): void {
    const now = Date.now();
    if (this.currentState !== 'open' || now - (this.typingSentAt.get(conversationId) ?? -Infinity) < this.opts.typingIntervalMs) return;
    this.typingSentAt.set(conversationId, now);
    this.transmitFrame({ t: 'typing', conversationId });
  }

  /**
   * This session's focus. A new session starts `active`; the latest value is restored after a reconnect.
   *
   * @example
   * client.setPresence('away');
   */
  setPresence(state: 'active' | 'away'): void {
    if (state === this.presenceWanted) return;
    this.presenceWanted = state;
    if (this.currentState === 'open') this.transmitFrame({ t: 'presence', state });
  }

  /**
   * Delivers every message of a conversation after seq `after` through the `message` event, once and in
   * order, now and after every reconnect. Conversations whose messages arrive live are watched from
   * their first message without this call; use it for one the app loaded with `history()`.
   *
   * @example
   * const { messages } = await client.history(conversationId);
   * client.watch(conversationId, { after: messages.at(-1)?.seq ?? 0 });
   */
  watch(conversationId: string, { after }: { after: number }): void {
    const mark = this.marks.get(conversationId);
    if (mark !== undefined && mark >= after) return;
    this.marks.set(conversationId, after);
    if (this.currentState === 'open') void this.catchUp(conversationId, this.generation);
  }

  /**
   * Stops catching up a conversation after reconnects (live messages still arrive while it may be seen).
   *
   * @example
   * client.unwatch(conversationId);
   * client.lastSeq(conversationId); // undefined
   */
  unwatch(conversationId: string): void {
    this.marks.delete(conversationId);
    this.catching.delete(conversationId);
    this.catchingUp.delete(conversationId);
  }

  /**
   * The highest seq of a watched conversation handed to the app, or undefined.
   *
   * @example
   * client.seen(conversationId, client.lastSeq(conversationId) ?? 0);
   */
  lastSeq(conversationId: string): number | undefined {
    return this.marks.get(conversationId);
  }

  /**
   * Opens a conversation: a direct one for a user, an inbox conversation with the team for a customer.
   *
   * @example
   * const conversation = await client.open(['bob']);
   * conversation.kind; // 'direct'
   */
  async open(members: string[] = [], options: { subject?: string } = {}): Promise<Summary> {
    const reply = await this.request({ t: 'open', members, ...options }, 'conversation');
    return reply.conversation;
  }

  /**
   * One page of the conversations this participant may see, most recent activity first.
   *
   * @example
   * const page = await client.conversations({ limit: 20 });
   * const next = page.cursor ? await client.conversations({ cursor: page.cursor }) : null;
   */
  async conversations(options: { limit?: number; cursor?: string } = {}): Promise<{ conversations: Summary[]; cursor: string | null }> {
    const { conversations, cursor } = await this.request({ t: 'conversations', ...options }, 'conversations');
    return { conversations, cursor };
  }

  /**
   * Messages in ascending seq: the latest `limit`, or those `before` / `after` a seq.
   *
   * @example
   * const { messages, hasMore } = await client.history(conversationId, { limit: 50 });
   */
  async history(conversationId: string, options: { before?: number; after?: number; limit?: number } = {}): Promise<{ messages: Message[]; hasMore: boolean }> {
    const { messages, hasMore } = await this.request({ t: 'history', conversationId, ...options }, 'history');
    return { messages, hasMore };
  }

  /**
   * Who was delivered, saw, or was emailed a message, and why not (SPEC §3 Receipt).
   *
   * @example
   * const recipients = await client.receipts(ack.messageId);
   * recipients.find((r) => r.participantId === 'carol')?.seenAt;
   */
  async receipts(messageId: string): Promise<Receipt[]> {
    return (await this.request({ t: 'receipts', messageId }, 'receipts')).recipients;
  }

  /**
   * Presence of participants; with `watch`, later changes arrive as `presence` events (the watch list
   * is replaced each call, and restored after a reconnect).
   *
   * @example
   * const [bob] = await client.who(['bob'], { watch: true });
   * bob.state; // 'active'
   */
  async who(participantIds: string[], options: { watch?: boolean } = {}): Promise<Presence[]> {
    if (options.watch !== undefined) this.whoWatch = options.watch ? [...participantIds] : null;
    return (await this.request({ t: 'who', participantIds, ...options }, 'who')).presence;
  }

  /**
   * Round trip to the hub; resolves with the hub's clock.
   *
   * @example
   * const { serverTime } = await client.ping();
   */
  async ping(): Promise<{ serverTime: number }> {
    return { serverTime: (await this.request({ t: 'ping' }, 'pong')).serverTime };
  }

  /**
   * One page of this participant's web notifications, newest first, with the unseen count; `before`
   * (a notification id) continues after that one. Customers get none.
   *
   * @example
   * const { notifications, unseen, hasMore } = await client.notifications({ limit: 20 });
   * const older = hasMore ? await client.notifications({ before: notifications.at(-1)!.id }) : null;
   */
  async notifications(options: { before?: string; limit?: number } = {}): Promise<NotificationPage> {
    const { notifications, unseen, hasMore } = await this.request({ t: 'notifications', ...options }, 'notifications');
    return { notifications, unseen, hasMore };
  }

  /**
   * Marks web notifications seen (the hub answers nothing; ids of others are ignored). Sent at once in
   * frames of up to 200 ids; while offline they wait for the next session.
   *
   * @example
   * client.markNotificationsSeen(shown.filter((n) => n.seenAt === null).map((n) => n.id));
   */
  markNotificationsSeen(ids: string[]): void {
    for (const id of ids) this.notificationsSeenWanted.add(id);
    this.flushNotificationsSeen();
  }

  // ─── Connection ──────────────────────────────────────────────────────────────────────────────

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private async openSocket(): Promise<void> {
    const generation = ++this.generation;
    let token: string;
    try {
      token = await this.currentToken();
    } catch (err) {
      if (generation !== this.generation || this.currentState === 'closed') return;
      this.emit('error', new ParleyClientError('not_connected', `the token provider failed: ${String(err)}`));
      this.scheduleReconnect();
      return;
    }
    if (generation !== this.generation || this.currentState === 'closed') return;
    let ws: WebSocketLike;
    try {
      ws = this.opts.webSocket(this.opts.url);
    } catch (err) {
      // A malformed URL: no retry can mend it.
      this.terminate(new ParleyClientError('closed', `cannot open ${this.opts.url}: ${String(err)}`));
      return;
    }
    this.socket = ws;
    let refusal: ParleyServerError | null = null;
    ws.onopen = () => {
      this.lastHeardAt = Date.now();
      ws.send(JSON.stringify({ t: 'hello', v: PROTOCOL_VERSION, token, ...(this.opts.clientInfo ? { client: this.opts.clientInfo } : {}) }));
    };
    ws.onmessage = (ev) => {
      if (generation !== this.generation) return;
      this.lastHeardAt = Date.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data)) as ServerFrame;
      } catch {
        return; // the hub sends JSON only; a proxy's noise is not ours to act on
      }
      if (frame.t === 'error' && !frame.re && !this.welcome) {
        // The hub refused the hello; its close follows, and dropped() decides with this reason.
        refusal = new ParleyServerError(frame.code, frame.message);
        return;
      }
      this.handle(frame, generation);
    };
    ws.onerror = () => {}; // always followed by onclose, which decides
    ws.onclose = (ev) => {
      if (generation !== this.generation) return;
      this.dropped(ev.code, refusal);
    };
  }

  /** The socket is gone: decide whether and when to try again. */
  private dropped(code: number, refusal: ParleyServerError | null): void {
    this.socket = null;
    this.welcome = null;
    this.generation++;
    this.stopHeartbeat();
    this.stopRefresh();
    this.catching.clear();
    this.catchingUp.clear();
    for (const out of this.outbox.values()) out.requestId = null;
    for (const req of this.requests.values()) {
      clearTimeout(req.timer);
      if (!req.send) req.reject(new ParleyClientError('not_connected', 'the connection dropped before the answer'));
    }
    this.requests.clear();
    if (this.currentState === 'closed') return;

    const byToken = code === CLOSE_UNAUTHENTICATED || refusal?.code === 'token_expired' || refusal?.code === 'unauthenticated';
    const final = code === CLOSE_FORBIDDEN || code === CLOSE_PROTOCOL_VIOLATION || this.opts.reconnect === false || (byToken && typeof this.opts.token === 'string');
    if (final) {
      this.terminate(refusal ?? new ParleyClientError('closed', `the hub closed the connection (${code})`));
      return;
    }
    if (byToken) {
      this.token = null; // ask the provider again
      // Tell the app the hub refused the token, though the provider gets another go: a provider that
      // keeps answering a refused token would otherwise leave the app saying "connecting…" for ever.
      if (refusal) this.emit('error', refusal);
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.setState(this.currentState === 'connecting' ? 'connecting' : 'reconnecting');
    const r = this.opts.reconnect || {};
    const ceiling = Math.min(r.maxDelayMs ?? 30_000, (r.initialDelayMs ?? 500) * (r.factor ?? 2) ** this.attempt);
    this.attempt++;
    // Equal jitter: half the delay fixed, half random, so a restarted hub is not hit by every client at once.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.openSocket();
    }, delay);
  }

  private terminate(err: ParleyError): void {
    const wasOpen = this.socket;
    this.setState('closed');
    this.generation++;
    this.socket = null;
    this.welcome = null;
    this.stopHeartbeat();
    this.stopRefresh();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.seenTimer) clearTimeout(this.seenTimer);
    wasOpen?.close(1000, 'client closed');
    for (const req of this.requests.values()) {
      clearTimeout(req.timer);
      if (!req.send) req.reject(new ParleyClientError('closed', err.message, err));
    }
    this.requests.clear();
    for (const out of this.outbox.values()) this.fail(out, new ParleyClientError('closed', err.message, err));
    this.firstWelcome?.reject(err);
    if (!(err instanceof ParleyClientError && err.code === 'closed' && !err.cause)) this.emit('error', err);
  }

  private async currentToken(): Promise<string> {
    if (typeof this.opts.token === 'string') return this.opts.token;
    if (this.token === null || expiresSoon(this.token)) this.token = await this.opts.token();
    return this.token;
  }

  private startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    const generation = this.generation;
    this.heartbeat = setInterval(() => {
      const silentFor = Date.now() - this.lastHeardAt;
      if (silentFor >= 2 * intervalMs) {
        // No pong to the last ping: the connection is dead though the socket may not know yet.
        this.socket?.close(CLOSE_CLIENT_GAVE_UP, 'no heartbeat');
        if (generation === this.generation) this.dropped(CLOSE_CLIENT_GAVE_UP, null);
      } else if (silentFor >= intervalMs) {
        this.ping().catch(() => {});
      }
    }, intervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  // ─── Token refresh ───────────────────────────────────────────────────────────────────────────

  /**
   * The hub ends a session at its token's `exp` unless it gets `refresh` with a newer token first
   * (SPEC §3 Token). With a provider and a token that has `exp`, ask the provider some time before and
   * send the new token on the live connection. A static token, or one without `exp`, is left alone.
   */
  private armRefresh(generation: number): void {
    this.stopRefresh();
    if (typeof this.opts.token === 'string' || this.token === null) return;
    const exp = tokenExpiry(this.token);
    if (exp === null) return;
    const remaining = exp - Date.now();
    if (remaining <= 0) return; // already past: the hub ends the session, the reconnect asks the provider
    const lead = Math.max(remaining * (1 - REFRESH_AT), Math.min(REFRESH_LEAD_MS, remaining / 2));
    this.scheduleRefresh(generation, Date.now() + remaining - lead, exp, 1);
  }

  /** Runs refresh attempt `attempt` at `at` (epoch ms) for the session's token expiring at `exp`. */
  private scheduleRefresh(generation: number, at: number, exp: number, attempt: number): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const wait = Math.max(0, at - Date.now());
    const timer = setTimeout(() => {
      if (this.refreshTimer !== timer) return;
      this.refreshTimer = null;
      if (generation !== this.generation) return;
      if (Date.now() < at) return this.scheduleRefresh(generation, at, exp, attempt); // waited in steps
      void this.refresh(generation, exp, attempt);
    }, Math.min(wait, MAX_TIMER_MS));
    // A pending refresh must not keep a Node process alive.
    this.refreshTimer = unrefTimer(timer);
  }

  private async refresh(generation: number, exp: number, attempt: number): Promise<void> {
    let failure: ParleyError;
    try {
      const token = await (this.opts.token as TokenProvider)();
      if (generation !== this.generation) return;
      const newExp = tokenExpiry(token);
      if (newExp !== null && newExp <= exp) throw new Error('the token provider returned no newer token');
      const reply = await this.request({ t: 'refresh', token }, 'refreshed');
      if (generation !== this.generation) return;
      this.token = token; // also what the next reconnect says hello with
      this.emit('refreshed', { expiresAt: reply.expiresAt });
      this.armRefresh(generation);
      return;
    } catch (err) {
      if (generation !== this.generation) return; // dropped or closed meanwhile: nothing to extend
      failure = err instanceof ParleyError ? err : new ParleyClientError('not_connected', `the token provider failed: ${String(err)}`);
    }
    const remaining = exp - Date.now();
    // A hub that predates `refresh` answers bad_frame: retrying cannot help, and bad frames count towards close 4400.
    const hopeless = failure instanceof ParleyServerError && failure.code === 'bad_frame';
    if (attempt < REFRESH_ATTEMPTS && remaining > 0 && !hopeless) {
      // Try again soon enough that the remaining attempts fit before exp.
      this.scheduleRefresh(generation, Date.now() + Math.min(1_000, remaining / (REFRESH_ATTEMPTS - attempt + 1)), exp, attempt + 1);
      return;
    }
    // Given up: the session ends at exp and the reconnect asks the provider for a fresh token.
    this.emit('error', failure);
  }

  private stopRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  // ─── Frames ──────────────────────────────────────────────────────────────────────────────────

  private handle(frame: ServerFrame, generation: number): void {
    if ('re' in frame && frame.re !== undefined) {
      const req = this.requests.get(frame.re);
      if (req) {
        this.requests.delete(frame.re);
        clearTimeout(req.timer);
        if (frame.t === 'error') req.reject(new ParleyServerError(frame.code, frame.message));
        else req.resolve(frame);
        if (frame.t !== 'conversation') return;
      }
    }
    switch (frame.t) {
      case 'welcome':
        return this.welcomed(frame, generation);
      case 'message':
        return this.live(frame.message, generation);
      case 'notify':
      case 'receipt':
      case 'typing': {
        const { t: _t, ...event } = frame;
        return this.emit(frame.t, event as never);
      }
      case 'presence': {
        const { t: _t, ...presence } = frame;
        return this.emit('presence', presence);
      }
      case 'conversation':
        return this.emit('conversation', frame.conversation);
      case 'notification':
        return this.emit('notification', frame.notification);
      case 'error':
        if (!frame.re) this.emit('error', new ParleyServerError(frame.code, frame.message));
        return;
      case 'refreshed':
        return; // answers refresh(), which re-arms; here only when that request timed out
      default:
        return; // a reply whose request timed out
    }
  }

  private welcomed(frame: WelcomeFrame, generation: number): void {
    const { t: _t, ...welcome } = frame;
    this.welcome = welcome;
    this.attempt = 0;
    const resumed = this.firstWelcome !== null && this.currentState === 'reconnecting';
    this.setState('open');
    this.startHeartbeat(welcome.heartbeatMs);
    this.armRefresh(generation);
    if (this.presenceWanted === 'away') this.transmitFrame({ t: 'presence', state: 'away' });
    if (this.whoWatch) this.request({ t: 'who', participantIds: this.whoWatch, watch: true }, 'who').catch(() => {});
    for (const conversationId of new Set([...this.outbox.values()].map((o) => o.conversationId))) this.pump(conversationId);
    this.flushSeen();
    this.flushNotificationsSeen();
    this.emit('welcome', welcome);
    this.firstWelcome?.resolve(welcome);
    void this.resume(generation, resumed);
  }

  /** After a (re)connect: catch up every watched conversation that moved on while we were away. */
  private async resume(generation: number, announce: boolean): Promise<void> {
    if (this.marks.size === 0 && !announce) return;
    const summaries: Summary[] = [];
    try {
      let cursor: string | null = null;
      for (let page = 0; page < RESUME_MAX_PAGES; page++) {
        const reply: ConversationsReplyFrame = await this.patiently(generation, () =>
          this.request({ t: 'conversations', limit: 200, ...(cursor ? { cursor } : {}) }, 'conversations'),
        );
        summaries.push(...reply.conversations);
        cursor = reply.cursor;
        if (!cursor) break;
      }
    } catch {
      return; // dropped again; the next welcome resumes
    }
    if (generation !== this.generation) return;
    const lastSeqs = new Map(summaries.map((s) => [s.id, s.lastSeq]));
    if (announce) this.emit('resumed', summaries);
    for (const [conversationId, mark] of this.marks) {
      const last = lastSeqs.get(conversationId);
      if (last === undefined || last > mark) void this.catchUp(conversationId, generation);
    }
  }

  /** A `message` frame: hand it on if it is the next one; on a gap, fill it from history first. */
  private live(message: Message, generation: number): void {
    const c = message.conversationId;
    const buffered = this.catching.get(c);
    if (buffered) {
      buffered.push(message);
      return;
    }
    const mark = this.marks.get(c);
    if (mark === undefined || message.seq === mark + 1) {
      this.marks.set(c, message.seq);
      this.emit('message', message, { live: true });
    } else if (message.seq > mark + 1) {
      this.catching.set(c, [message]);
      void this.catchUp(c, generation);
    } // else: already handed on (a caught-up message that was also pushed live)
  }

  private async catchUp(conversationId: string, generation: number): Promise<void> {
    if (!this.catching.has(conversationId)) this.catching.set(conversationId, []);
    if (this.catchingUp.has(conversationId)) return;
    this.catchingUp.add(conversationId);
    try {
      for (;;) {
        const mark = this.marks.get(conversationId);
        if (mark === undefined) break; // unwatched meanwhile
        const { messages, hasMore } = await this.patiently(generation, () => this.history(conversationId, { after: mark, limit: HISTORY_PAGE }));
        if (generation !== this.generation || !this.catching.has(conversationId)) return;
        if (!this.marks.has(conversationId)) break;
        for (const m of messages) this.handOn(m, false);
        if (hasMore) continue;
        // Live messages that arrived meanwhile: hand on those that follow; a gap means another round.
        const buffered = this.catching.get(conversationId)!.sort((a, b) => a.seq - b.seq);
        let gap = false;
        for (const m of buffered) {
          const at = this.marks.get(conversationId) ?? 0;
          if (m.seq === at + 1) this.handOn(m, true);
          else if (m.seq > at + 1) gap = true;
        }
        this.catching.set(conversationId, []);
        if (!gap) break;
      }
      this.catching.delete(conversationId);
      this.catchingUp.delete(conversationId);
    } catch (err) {
      if (generation !== this.generation) return; // the reconnect will catch up again
      this.catching.delete(conversationId);
      this.catchingUp.delete(conversationId);
      if (err instanceof ParleyServerError && err.code === 'not_found') this.marks.delete(conversationId);
      else this.emit('error', err as ParleyError);
    }
  }

  /**
   * The SDK's own requests (catching up after a reconnect) wait out the hub's limits: a temporary
   * refusal (rate_limited) is retried after 1, 2, 4… s, up to 30 s, while this connection lasts.
   */
  private async patiently<T>(generation: number, ask: () => Promise<T>): Promise<T> {
    for (let wait = 1_000; ; wait = Math.min(wait * 2, 30_000)) {
      try {
        return await ask();
      } catch (err) {
        if (!(err instanceof ParleyServerError && err.temporary) || generation !== this.generation) throw err;
      }
      await new Promise<void>((r) => unrefTimer(setTimeout(r, wait)));
      if (generation !== this.generation) throw new ParleyClientError('not_connected', 'the connection dropped');
    }
  }

  private handOn(message: Message, live: boolean): void {
    const mark = this.marks.get(message.conversationId) ?? 0;
    if (message.seq <= mark) return;
    this.marks.set(message.conversationId, message.seq);
    this.emit('message', message, { live });
  }

  // ─── Sending ─────────────────────────────────────────────────────────────────────────────────

  private transmitFrame(frame: ClientFrame): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private request<T extends ServerFrame['t']>(frame: Request, _reply: T): Promise<Reply<T>> {
    if (this.currentState !== 'open' || !this.socket) {
      return Promise.reject(new ParleyClientError(this.currentState === 'closed' ? 'closed' : 'not_connected', 'not connected to the hub'));
    }
    const id = this.newRequestId();
    return new Promise<Reply<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        reject(new ParleyClientError('timeout', `no answer to ${frame.t} within ${this.opts.requestTimeoutMs} ms`));
      }, this.opts.requestTimeoutMs);
      this.requests.set(id, { resolve: resolve as (f: ServerFrame) => void, reject, timer });
      this.transmitFrame({ ...frame, id } as ClientFrame);
    });
  }

  private newRequestId(): string {
    return `r${(++this.nextRequestId).toString(36)}`;
  }

  /**
   * Puts the oldest pending message of a conversation on the wire, one at a time per conversation:
   * a message refused for a moment (rate_limited) goes again before any later one, so the hub stores
   * a conversation's messages in the order they were written.
   */
  private pump(conversationId: string): void {
    if (this.currentState !== 'open') return;
    for (const out of this.outbox.values()) {
      if (out.conversationId !== conversationId || out.state !== 'pending') continue;
      if (!out.requestId && !out.held) this.transmit(out);
      return;
    }
  }

  /** Puts a pending message on the wire; its ack or error settles it, a drop leaves it pending. */
  private transmit(out: Outgoing): void {
    if (out.requestId) return;
    const id = this.newRequestId();
    out.requestId = id;
    const timer = setTimeout(() => {
      // No ack in time: send it again with the same clientMsgId (the hub stores it once). If the
      // connection is dead, the heartbeat replaces it and the resend happens after the reconnect.
      this.requests.delete(id);
      if (out.requestId !== id) return;
      out.requestId = null;
      this.pump(out.conversationId);
    }, this.opts.requestTimeoutMs);
    this.requests.set(id, {
      send: true,
      timer,
      resolve: (frame) => {
        const { t: _t, re: _re, ...ack } = frame as AckFrame;
        out.state = 'sent';
        out.ack = ack;
        this.outbox.delete(out.clientMsgId);
        this.emit('outgoing', publicOutgoing(out));
        out.settle.resolve(ack);
        this.pump(out.conversationId);
      },
      reject: (err) => {
        out.requestId = null;
        if (err instanceof ParleyServerError && err.temporary) {
          // Rate limited or the hub is busy: try again shortly, same clientMsgId, before later messages.
          out.held = true;
          setTimeout(() => {
            out.held = false;
            this.pump(out.conversationId);
          }, 1_000);
          return;
        }
        this.fail(out, err);
        this.pump(out.conversationId);
      },
    });
    this.transmitFrame({ t: 'send', id, conversationId: out.conversationId, clientMsgId: out.clientMsgId, body: out.body, format: out.format });
  }

  private fail(out: Outgoing, err: ParleyError): void {
    out.state = 'failed';
    out.error = err;
    this.outbox.delete(out.clientMsgId);
    this.emit('outgoing', publicOutgoing(out));
    out.settle.reject(err);
  }

  private flushSeen(): void {
    if (this.seenTimer) clearTimeout(this.seenTimer);
    this.seenTimer = null;
    if (this.currentState !== 'open') return;
    for (const [conversationId, upTo] of this.seenWanted) {
      this.transmitFrame({ t: 'seen', conversationId, upTo });
      this.seenSent.set(conversationId, upTo);
    }
    this.seenWanted.clear();
  }

  private flushNotificationsSeen(): void {
    if (this.currentState !== 'open' || this.notificationsSeenWanted.size === 0) return;
    const ids = [...this.notificationsSeenWanted];
    this.notificationsSeenWanted.clear();
    for (let i = 0; i < ids.length; i += 200) this.transmitFrame({ t: 'notification_seen', ids: ids.slice(i, i + 200) });
  }
}

function publicOutgoing(out: Outgoing): OutgoingMessage {
  const { settle: _settle, requestId: _requestId, ...rest } = out;
  return { ...rest };
}

function chainSettle(out: Outgoing, resolve: (ack: Ack) => void, reject: (err: ParleyError) => void): void {
  const { resolve: r0, reject: j0 } = out.settle;
  out.settle = {
    resolve: (ack) => {
      r0(ack);
      resolve(ack);
    },
    reject: (err) => {
      j0(err);
      reject(err);
    },
  };
}

/** 128 random bits as 22 url-safe characters. getRandomValues, unlike randomUUID, works on http:// pages too. */
function newClientMsgId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Whether a JWT's `exp` has passed or passes within 5 s. */
function expiresSoon(token: string): boolean {
  const exp = tokenExpiry(token);
  return exp !== null && exp <= Date.now() + 5_000;
}

/** A JWT's `exp` in epoch ms, or null when it has none or is no JWT (the payload is read, not verified). */
function tokenExpiry(token: string): number | null {
  try {
    const payload = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const { exp } = JSON.parse(atob(payload)) as { exp?: unknown };
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** A timer that does not keep a Node process alive (browsers' timers are numbers). */
function unrefTimer<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
