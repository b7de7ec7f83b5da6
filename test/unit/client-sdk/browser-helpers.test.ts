import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { markSeenOnScreen, markSeenWhileVisible, trackPresence, type ElementLike, type ParleyClient, type ScreenLike } from '../../../client-sdk/browser.js';
import type { Message } from '../../../protocol/index.js';

/** A page whose visibility, focus and input the test controls. */
class FakePage {
  visibilityState = 'visible';
  focused = true;
  private readonly listeners = new Map<string, Set<() => void>>();
  readonly document = ((self: FakePage) => ({
    get visibilityState() {
      return self.visibilityState;
    },
    hasFocus: () => self.focused,
    addEventListener: (t: string, fn: () => void) => self.add(t, fn),
    removeEventListener: (t: string, fn: () => void) => self.listeners.get(t)?.delete(fn),
  }))(this);
  readonly window = { addEventListener: (t: string, fn: () => void) => this.add(t, fn), removeEventListener: (t: string, fn: () => void) => this.listeners.get(t)?.delete(fn) };
  private add(t: string, fn: () => void) {
    if (!this.listeners.has(t)) this.listeners.set(t, new Set());
    this.listeners.get(t)!.add(fn);
  }
  fire(t: string) {
    for (const fn of this.listeners.get(t) ?? []) fn();
  }
  listenerCount() {
    return [...this.listeners.values()].reduce((n, s) => n + s.size, 0);
  }
}
let page: FakePage;

/** The part of ParleyClient the helpers use, recording what they ask of it. */
function fakeClient() {
  const onMessage = new Set<(m: Message) => void>();
  const calls = { presence: [] as string[], seen: [] as number[] };
  let last = 0;
  const client = {
    setPresence: (s: string) => calls.presence.push(s),
    seen: (_c: string, upTo: number) => calls.seen.push(upTo),
    lastSeq: () => (last ? last : undefined),
    on: (_e: 'message', fn: (m: Message) => void) => {
      onMessage.add(fn);
      return () => onMessage.delete(fn);
    },
  };
  const arrive = (seq: number) => {
    last = seq;
    for (const fn of onMessage) fn({ conversationId: 'c1', seq } as Message);
  };
  return { client: client as unknown as ParleyClient, calls, arrive };
}

describe('browser helpers', () => {
  beforeEach(() => {
    page = new FakePage();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('markSeenWhileVisible marks new messages seen only while the page is visible and focused, and catches up on return', () => {
    const { client, calls, arrive } = fakeClient();
    const stop = markSeenWhileVisible(client, 'c1', page);
    arrive(1);
    expect(calls.seen).toEqual([1]);
    page.visibilityState = 'hidden';
    arrive(2);
    page.visibilityState = 'visible';
    page.focused = false;
    arrive(3);
    expect(calls.seen).toEqual([1]);
    page.focused = true;
    page.fire('focus');
    expect(calls.seen).toEqual([1, 3]);
    stop();
    arrive(4);
    expect(calls.seen).toEqual([1, 3]);
    expect(page.listenerCount()).toBe(0);
  });

  it('trackPresence reports away when the tab is hidden or idle, and active again on input', () => {
    const { client, calls } = fakeClient();
    const stop = trackPresence(client, { idleMs: 60_000 }, page);
    expect(calls.presence.at(-1)).toBe('active');
    page.visibilityState = 'hidden';
    page.fire('visibilitychange');
    expect(calls.presence.at(-1)).toBe('away');
    page.visibilityState = 'visible';
    page.fire('visibilitychange');
    expect(calls.presence.at(-1)).toBe('active');
    vi.advanceTimersByTime(61_000);
    expect(calls.presence.at(-1)).toBe('away');
    page.fire('keydown');
    expect(calls.presence.at(-1)).toBe('active');
    stop();
    expect(page.listenerCount()).toBe(0);
  });

  it('markSeenOnScreen marks the highest message on screen, on open, scroll and arrival, only while attended', () => {
    const { client, calls } = fakeClient();
    /** A message element: data-seq, no children. */
    const el = (seq: number): ElementLike => ({ nodeType: 1, getAttribute: () => String(seq), querySelectorAll: () => [], matches: () => true });
    const initial = [el(1), el(2), el(3)];
    const container: ElementLike = { nodeType: 1, getAttribute: () => null, querySelectorAll: () => initial, matches: () => false };
    let io!: (entries: Array<{ target: ElementLike; isIntersecting: boolean; intersectionRatio: number; intersectionRect: { height: number } }>) => void;
    let mo!: (records: Array<{ addedNodes: ElementLike[]; removedNodes: ElementLike[] }>) => void;
    const observed = new Set<ElementLike>();
    const screen = Object.assign(page, {
      IntersectionObserver: class {
        constructor(cb: typeof io) {
          io = cb;
        }
        observe = (t: ElementLike) => observed.add(t);
        unobserve = (t: ElementLike) => observed.delete(t);
        disconnect = () => observed.clear();
      },
      MutationObserver: class {
        constructor(cb: typeof mo) {
          mo = cb;
        }
        observe() {}
        disconnect() {}
      },
    }) as unknown as ScreenLike;
    const shown = (e: ElementLike, on = true) => ({ target: e, isIntersecting: on, intersectionRatio: on ? 1 : 0, intersectionRect: { height: on ? 30 : 0 } });
    const stop = markSeenOnScreen(client, 'c1', container, screen);
    expect(observed.size).toBe(3);
    // On open only 1 and 2 are on screen.
    io([shown(initial[0]!), shown(initial[1]!), shown(initial[2]!, false)]);
    expect(calls.seen.at(-1)).toBe(2);
    // Scrolling brings 3 in.
    io([shown(initial[0]!, false), shown(initial[2]!)]);
    expect(calls.seen.at(-1)).toBe(3);
    // A message arrives while the tab is hidden: not marked, until the person comes back.
    const four = el(4);
    mo([{ addedNodes: [four], removedNodes: [] }]);
    expect(observed.has(four)).toBe(true);
    page.visibilityState = 'hidden';
    io([shown(four)]);
    expect(calls.seen.at(-1)).toBe(3);
    page.visibilityState = 'visible';
    page.fire('visibilitychange');
    expect(calls.seen.at(-1)).toBe(4);
    stop();
    expect(observed.size).toBe(0);
    expect(page.listenerCount()).toBe(0);
  });
});
