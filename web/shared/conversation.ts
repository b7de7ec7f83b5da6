import type { Message, OutgoingMessage, ParleyClient } from '../../client-sdk/browser.js';

/** A row of a conversation view: a stored message, or one of ours still on its way. */
export interface Row {
  key: string;
  seq: number | null;
  senderId: string;
  body: string;
  createdAt: number;
  state: 'pending' | 'sent' | 'failed';
  messageId: string | null;
  /** Set on our own messages still on their way (to retry a failed one with the same id). */
  clientMsgId?: string;
  error?: string;
}

/**
 * The messages of one conversation as a view shows them: history, then every message the client hands
 * on (each once, in seq order), with our own pending sends at the end until their message arrives.
 */
export class ConversationFeed {
  private readonly messages = new Map<number, Message>();
  private readonly outgoing = new Map<string, OutgoingMessage>();
  private readonly offs: Array<() => void> = [];
  private readonly listeners = new Set<() => void>();
  private readonly queuedAt = new Map<string, number>();
  /** Who we are, remembered across drops (the client forgets its participant while offline). */
  private me: string;

  constructor(
    private readonly client: ParleyClient,
    readonly conversationId: string,
  ) {
    this.me = client.participant?.id ?? '';
    for (const o of client.outgoing()) if (o.conversationId === conversationId) this.outgoing.set(o.clientMsgId, o);
    this.offs.push(
      client.on('welcome', (w) => {
        this.me = w.participant.id;
      }),
      client.on('message', (m) => {
        if (m.conversationId !== conversationId) return;
        this.messages.set(m.seq, m);
        this.changed();
      }),
      client.on('outgoing', (o) => {
        if (o.conversationId !== conversationId) return;
        if (o.state === 'sent') {
          this.outgoing.delete(o.clientMsgId);
          this.queuedAt.delete(o.clientMsgId);
        } else this.outgoing.set(o.clientMsgId, o);
        this.changed();
      }),
    );
  }

  /** Loads the latest page and asks the client to hand on everything after it. */
  async load(limit = 50): Promise<void> {
    const { messages } = await this.client.history(this.conversationId, { limit });
    for (const m of messages) this.messages.set(m.seq, m);
    this.client.watch(this.conversationId, { after: messages.at(-1)?.seq ?? 0 });
    this.changed();
  }

  rows(): Row[] {
    const stored = [...this.messages.values()].sort((a, b) => a.seq - b.seq);
    const storedIds = new Set(stored.map((m) => m.clientMsgId));
    const rows: Row[] = stored.map((m) => ({ key: m.id, seq: m.seq, senderId: m.senderId, body: m.body, createdAt: m.createdAt, state: 'sent', messageId: m.id }));
    for (const o of this.outgoing.values()) {
      if (storedIds.has(o.clientMsgId)) continue;
      if (!this.queuedAt.has(o.clientMsgId)) this.queuedAt.set(o.clientMsgId, Date.now());
      rows.push({ key: o.clientMsgId, seq: null, senderId: this.client.participant?.id ?? this.me, body: o.body, createdAt: this.queuedAt.get(o.clientMsgId)!, state: o.state, messageId: null, clientMsgId: o.clientMsgId, ...(o.error ? { error: o.error.message } : {}) });
    }
    return rows;
  }

  /** Who the rows' `senderId` of our own messages is, even while offline. */
  myId(): string {
    return this.client.participant?.id ?? this.me;
  }

  /** Sends a failed message again, with its clientMsgId, so the hub stores it once. */
  retry(clientMsgId: string): void {
    const o = this.outgoing.get(clientMsgId);
    if (!o || o.state !== 'failed') return;
    this.client.send(this.conversationId, o.body, { clientMsgId, format: o.format }).catch(() => {});
  }

  lastSeq(): number {
    let max = 0;
    for (const seq of this.messages.keys()) max = Math.max(max, seq);
    return max;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  dispose(): void {
    for (const off of this.offs) off();
    this.listeners.clear();
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }
}

/** "14:05" today, "Mon 14:05" this week, else a short date. */
export function formatTime(at: number, now = Date.now()): string {
  const d = new Date(at);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (now - at < 20 * 3600_000 && new Date(now).getDate() === d.getDate()) return time;
  if (now - at < 6 * 86400_000) return `${d.toLocaleDateString(undefined, { weekday: 'short' })} ${time}`;
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

/** The typists of each conversation, each forgotten after a few seconds without a new `typing`. */
export class TypingTracker {
  private readonly until = new Map<string, Map<string, number>>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    client: ParleyClient,
    private readonly onChange: () => void,
    private readonly showMs = 5_000,
  ) {
    client.on('typing', ({ conversationId, participantId }) => this.mark(conversationId, participantId));
    // A message from someone ends their typing.
    client.on('message', (m) => {
      if (this.until.get(m.conversationId)?.delete(m.senderId)) onChange();
    });
  }

  typists(conversationId: string): string[] {
    const now = Date.now();
    return [...(this.until.get(conversationId) ?? [])].filter(([, t]) => t > now).map(([id]) => id);
  }

  private mark(conversationId: string, participantId: string): void {
    let m = this.until.get(conversationId);
    if (!m) this.until.set(conversationId, (m = new Map()));
    m.set(participantId, Date.now() + this.showMs);
    this.onChange();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onChange(), this.showMs + 50);
  }
}
