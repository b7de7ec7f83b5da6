import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Notification as WebNotification, ParleyClient, Summary } from '../../client-sdk/browser.js';
import { formatTime } from '../shared/conversation.js';

/** Notifications fetched per page (the first on every (re)connect, then one per "Load more"). */
const PAGE = 20;

/** Whether the person can see the page: what is shown then counts as seen, as for messages. */
function attended(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

/**
 * The app route a notification leads to: the conversation of its item this agent may see (the one
 * with the latest activity when there are several), or null when it has none.
 */
export function routeOf(n: WebNotification, conversations: Map<string, Summary>): string | null {
  if (!n.itemId) return null;
  let best: Summary | null = null;
  for (const c of conversations.values()) {
    if (c.itemId !== n.itemId) continue;
    if (!best || (c.lastMessageAt ?? c.createdAt) > (best.lastMessageAt ?? best.createdAt)) best = c;
  }
  return best ? `/c/${encodeURIComponent(best.id)}` : null;
}

/**
 * The bell in the agent app's header: the count of unseen web notifications (SPEC §3 Notification)
 * and a panel listing them newest first. What the panel shows while the page is looked at is marked
 * seen (`notification_seen`); a pushed `notification` appears at once and bumps the count.
 */
export function NotificationBell({ client, conversations }: { client: ParleyClient; conversations: Map<string, Summary> }) {
  const [list, setList] = useState<WebNotification[]>([]);
  const [unseen, setUnseen] = useState(0);
  const [hasMore, setHasMore] = useState(false);
  const [open, setOpen] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [attention, setAttention] = useState(0);
  const openRef = useRef(false);
  openRef.current = open;
  const bell = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  /** Notifications that were unseen when the panel showed them: marked as new until it closes. */
  const fresh = useRef(new Set<string>());
  /** Ids pushed live since the first page was asked for (kept if the page predates them). */
  const pushedSince = useRef<Map<string, WebNotification> | null>(null);

  useEffect(() => {
    async function loadFirstPage(): Promise<void> {
      const live = new Map<string, WebNotification>();
      pushedSince.current = live;
      try {
        const page = await client.notifications({ limit: PAGE });
        const ids = new Set(page.notifications.map((n) => n.id));
        const later = [...live.values()].filter((n) => !ids.has(n.id));
        setList([...later, ...page.notifications]);
        setUnseen(page.unseen + later.filter((n) => n.seenAt === null).length);
        setHasMore(page.hasMore);
        setProblem(null);
      } catch {
        setProblem('Could not load notifications.');
      } finally {
        if (pushedSince.current === live) pushedSince.current = null;
      }
    }
    // Another tab or device may have seen some (the hub tells no other session): count again on return to this tab.
    let loadedAt = 0;
    const onReturn = () => {
      if (document.visibilityState !== 'visible' || client.state !== 'open' || Date.now() - loadedAt < 10_000 || openRef.current) return;
      loadedAt = Date.now();
      void loadFirstPage();
    };
    addEventListener('focus', onReturn);
    document.addEventListener('visibilitychange', onReturn);
    const offs = [
      () => removeEventListener('focus', onReturn),
      () => document.removeEventListener('visibilitychange', onReturn),
      client.on('welcome', () => void loadFirstPage()),
      client.on('notification', (n) => {
        pushedSince.current?.set(n.id, n);
        setList((l) => (l.some((x) => x.id === n.id) ? l : [n, ...l]));
        if (n.seenAt === null) setUnseen((u) => u + 1);
      }),
    ];
    if (client.state === 'open') void loadFirstPage();
    return () => offs.forEach((off) => off());
  }, [client]);

  // Shown while the page is looked at: seen. Runs as the list grows (live, "Load more") and on return to the tab.
  useEffect(() => {
    if (!open || !attended()) return;
    const ids = list.filter((n) => n.seenAt === null).map((n) => n.id);
    if (ids.length === 0) return;
    client.markNotificationsSeen(ids);
    const now = Date.now();
    for (const id of ids) fresh.current.add(id);
    setList((l) => l.map((n) => (n.seenAt === null && ids.includes(n.id) ? { ...n, seenAt: now } : n)));
    setUnseen((u) => Math.max(0, u - ids.length));
  }, [open, list, attention]);

  // A layout effect: the keys and clicks that close the panel are listened to from the moment it is
  // on screen (an effect would attach them after the paint, and an Escape pressed at once was lost).
  useLayoutEffect(() => {
    if (!open) return;
    const look = () => setAttention((n) => n + 1);
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      // Before the app's own Escape (which closes preferences or the picker): this panel is on top.
      e.preventDefault();
      e.stopPropagation();
      close(true);
    };
    const onPointer = (e: PointerEvent) => {
      const target = e.target as Node;
      if (!panel.current?.contains(target) && !bell.current?.contains(target)) close(false);
    };
    document.addEventListener('visibilitychange', look);
    addEventListener('focus', look);
    addEventListener('keydown', onKey, true);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('visibilitychange', look);
      removeEventListener('focus', look);
      removeEventListener('keydown', onKey, true);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);

  useLayoutEffect(() => {
    if (open) heading.current?.focus();
  }, [open]);

  function close(returnFocus: boolean): void {
    setOpen(false);
    fresh.current.clear();
    if (returnFocus) bell.current?.focus();
  }

  async function loadMore(): Promise<void> {
    const last = list[list.length - 1];
    if (!last) return;
    setLoadingMore(true);
    try {
      const page = await client.notifications({ before: last.id, limit: PAGE });
      setList((l) => {
        const ids = new Set(l.map((n) => n.id));
        return [...l, ...page.notifications.filter((n) => !ids.has(n.id))];
      });
      setHasMore(page.hasMore);
      setProblem(null);
    } catch {
      setProblem('Could not load more notifications.');
    } finally {
      setLoadingMore(false);
    }
  }

  const label = `Notifications, ${unseen} unseen`;
  return (
    <>
      <button
        ref={bell}
        class="icon bell"
        aria-label={label}
        title={label}
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-controls={open ? 'notifications-panel' : undefined}
        data-testid="bell"
        onClick={() => (open ? close(false) : setOpen(true))}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
          <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
        </svg>
        {unseen > 0 && (
          <span class="count bell-count" aria-hidden="true" data-testid="bell-count">
            {unseen > 99 ? '99+' : unseen}
          </span>
        )}
      </button>
      {open && (
        <div
          ref={panel}
          id="notifications-panel"
          class="notif-panel"
          role="dialog"
          aria-labelledby="notifications-heading"
          data-testid="notifications"
          onFocusOut={(e) => {
            // Tabbing out of the panel closes it (a click on its own text moves focus nowhere and keeps it open).
            const to = e.relatedTarget as Node | null;
            if (to && !panel.current?.contains(to) && !bell.current?.contains(to)) close(false);
          }}
        >
          <div class="notif-head">
            <h2 id="notifications-heading" ref={heading} tabIndex={-1}>
              Notifications
            </h2>
            <button class="notif-close" aria-label="Close notifications" onClick={() => close(true)}>
              ×
            </button>
          </div>
          {list.length === 0 && !problem && <p class="notif-none">No notifications yet.</p>}
          <ul class="notif-list">
            {list.map((n) => {
              const route = routeOf(n, conversations);
              const isNew = fresh.current.has(n.id) || n.seenAt === null;
              const content = (
                <>
                  <span class="notif-line">
                    <span class="notif-subject">
                      {isNew && <span class="sr-only">New: </span>}
                      {n.subject}
                    </span>
                    <time class="notif-time" dateTime={new Date(n.createdAt).toISOString()}>
                      {formatTime(n.createdAt)}
                    </time>
                  </span>
                  {n.body.trim() !== '' && <span class="notif-body">{n.body}</span>}
                </>
              );
              return (
                <li key={n.id} class={`notif ${isNew ? 'fresh' : ''}`} data-testid="notification" data-notification={n.id}>
                  {route ? (
                    <a class="notif-item" href={`#${route}`} onClick={() => close(false)}>
                      {content}
                    </a>
                  ) : (
                    <div class="notif-item">{content}</div>
                  )}
                </li>
              );
            })}
          </ul>
          {problem && (
            <p class="notif-problem" role="alert">
              {problem}
            </p>
          )}
          {hasMore && (
            <button class="notif-more" disabled={loadingMore} onClick={() => void loadMore()}>
              {loadingMore ? 'Loading…' : 'Load more'}
            </button>
          )}
        </div>
      )}
    </>
  );
}
