/**
 * The Parley client for browsers: `ParleyClient` on the browser's WebSocket, and helpers that turn
 * what the page knows (visibility, focus, input) into `seen` and `presence`. Imports nothing from
 * `node:`; bundled to dist/assets/sdk/parley-client.js.
 */
import { ParleyClient as BaseClient, type ParleyClientOptions, type WebSocketLike } from './parley-client.js';

export * from './shared-exports.js';

export class ParleyClient extends BaseClient {
  constructor(options: Omit<ParleyClientOptions, 'webSocket'> & Partial<Pick<ParleyClientOptions, 'webSocket'>>) {
    super({ webSocket: (url) => new (globalThis as unknown as { WebSocket: new (url: string) => WebSocketLike }).WebSocket(url), ...options });
  }
}

/** The parts of `document` and `window` the helpers use (the SDK compiles without the DOM library). */
interface PageLike {
  document: { visibilityState: string; hasFocus(): boolean; addEventListener(type: string, fn: () => void): void; removeEventListener(type: string, fn: () => void): void };
  window: { addEventListener(type: string, fn: () => void, options?: { passive?: boolean }): void; removeEventListener(type: string, fn: () => void): void };
}

function page(): PageLike {
  return globalThis as unknown as PageLike;
}

function isAttended(p: PageLike): boolean {
  return p.document.visibilityState === 'visible' && p.document.hasFocus();
}

/**
 * Marks a conversation seen up to its latest message whenever the page is visible and focused: now,
 * on every new message, and when the person comes back to the tab. Returns the function that stops it.
 * For a view that scrolls, prefer `markSeenOnScreen`, which marks only what is on screen.
 *
 * @example
 * const stop = markSeenWhileVisible(client, conversationId);
 * // later, when the conversation view closes:
 * stop();
 */
export function markSeenWhileVisible(client: BaseClient, conversationId: string, p: PageLike = page()): () => void {
  const mark = () => {
    const upTo = client.lastSeq(conversationId);
    if (upTo !== undefined && upTo > 0 && isAttended(p)) client.seen(conversationId, upTo);
  };
  const offMessage = client.on('message', (m) => {
    if (m.conversationId === conversationId) mark();
  });
  p.document.addEventListener('visibilitychange', mark);
  p.window.addEventListener('focus', mark);
  mark();
  return () => {
    offMessage();
    p.document.removeEventListener('visibilitychange', mark);
    p.window.removeEventListener('focus', mark);
  };
}

/** The parts of the DOM `markSeenOnScreen` uses: elements, IntersectionObserver and MutationObserver. */
export interface ElementLike {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<ElementLike>;
  matches?(selector: string): boolean;
  readonly nodeType?: number;
}
interface IntersectionEntryLike {
  target: ElementLike;
  isIntersecting: boolean;
  intersectionRatio: number;
  intersectionRect: { height: number };
}
interface ObserverLike {
  observe(target: ElementLike, options?: unknown): void;
  disconnect(): void;
}
export interface ScreenLike extends PageLike {
  IntersectionObserver: new (callback: (entries: IntersectionEntryLike[]) => void, options: { root: ElementLike; threshold: number[] }) => ObserverLike & { unobserve(target: ElementLike): void };
  MutationObserver: new (callback: (records: Array<{ addedNodes: ArrayLike<ElementLike>; removedNodes: ArrayLike<ElementLike> }>) => void) => ObserverLike;
}

/**
 * Marks a conversation seen up to the highest message actually on screen, while the page is visible
 * and focused: when the view opens, as the person scrolls, as messages arrive, and when they come
 * back to the tab. Message elements are the descendants of `container` (the scrolling message list)
 * with a `data-seq` attribute; one counts as on screen when at least half of it (or 40 px of a tall
 * one) is visible inside `container`. A message that scrolled past, or arrived in a hidden tab, is
 * not marked. Returns the function that stops it.
 *
 * @example
 * const stop = markSeenOnScreen(client, conversationId, document.querySelector('.messages')!);
 * // later, when the conversation view closes:
 * stop();
 */
export function markSeenOnScreen(client: BaseClient, conversationId: string, container: ElementLike, p: ScreenLike = page() as ScreenLike): () => void {
  const visible = new Set<ElementLike>();
  const seqOf = (el: ElementLike) => Number(el.getAttribute('data-seq'));
  const mark = () => {
    if (!isAttended(p)) return;
    let upTo = 0;
    for (const el of visible) {
      const seq = seqOf(el);
      if (Number.isSafeInteger(seq) && seq > upTo) upTo = seq;
    }
    if (upTo > 0) client.seen(conversationId, upTo);
  };
  const io = new p.IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (e.isIntersecting && (e.intersectionRatio >= 0.5 || e.intersectionRect.height >= 40)) visible.add(e.target);
        else visible.delete(e.target);
      }
      mark();
    },
    { root: container, threshold: [0, 0.25, 0.5, 0.75, 1] },
  );
  const watch = (node: ElementLike) => {
    if (node.nodeType !== undefined && node.nodeType !== 1) return;
    if (node.matches?.('[data-seq]')) io.observe(node);
    const inner = node.querySelectorAll('[data-seq]');
    for (let i = 0; i < inner.length; i++) io.observe(inner[i]!);
  };
  const forget = (node: ElementLike) => {
    if (node.nodeType !== undefined && node.nodeType !== 1) return;
    visible.delete(node);
    io.unobserve(node);
    const inner = node.querySelectorAll('[data-seq]');
    for (let i = 0; i < inner.length; i++) {
      visible.delete(inner[i]!);
      io.unobserve(inner[i]!);
    }
  };
  watch(container);
  const mo = new p.MutationObserver((records) => {
    for (const r of records) {
      for (let i = 0; i < r.removedNodes.length; i++) forget(r.removedNodes[i]!);
      for (let i = 0; i < r.addedNodes.length; i++) watch(r.addedNodes[i]!);
    }
  });
  mo.observe(container, { childList: true, subtree: true });
  p.document.addEventListener('visibilitychange', mark);
  p.window.addEventListener('focus', mark);
  return () => {
    io.disconnect();
    mo.disconnect();
    visible.clear();
    p.document.removeEventListener('visibilitychange', mark);
    p.window.removeEventListener('focus', mark);
  };
}

/**
 * Reports this session `active` while the page is visible, focused and used within `idleMs`, else
 * `away`. Returns the function that stops it.
 *
 * @example
 * const stop = trackPresence(client, { idleMs: 120_000 });
 */
export function trackPresence(client: BaseClient, { idleMs = 60_000 }: { idleMs?: number } = {}, p: PageLike = page()): () => void {
  let lastInputAt = Date.now();
  const update = () => client.setPresence(isAttended(p) && Date.now() - lastInputAt < idleMs ? 'active' : 'away');
  const onInput = () => {
    const wasIdle = Date.now() - lastInputAt >= idleMs;
    lastInputAt = Date.now();
    if (wasIdle) update();
  };
  const inputs = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'];
  for (const type of inputs) p.window.addEventListener(type, onInput, { passive: true });
  p.window.addEventListener('focus', update);
  p.window.addEventListener('blur', update);
  p.document.addEventListener('visibilitychange', update);
  const timer = setInterval(update, Math.min(idleMs, 15_000));
  update();
  return () => {
    clearInterval(timer);
    for (const type of inputs) p.window.removeEventListener(type, onInput);
    p.window.removeEventListener('focus', update);
    p.window.removeEventListener('blur', update);
    p.document.removeEventListener('visibilitychange', update);
  };
}
