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
