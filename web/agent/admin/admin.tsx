import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { AdminApi } from './api.js';
import { BroadcastsScreen } from './broadcasts.js';
import { DefinitionsScreen } from './definitions.js';
import { LogsScreen } from './logs.js';
import { TemplatesScreen } from './templates.js';

const TABS: Array<[string, string]> = [
  ['definitions', 'Notifications'],
  ['templates', 'Templates'],
  ['broadcasts', 'Broadcasts'],
  ['logs', 'Outbox and inbox'],
];

/**
 * The messaging center (NOTIFICATIONS §8) at `#/admin/<tab>[/…]`, for a user whose token opens the
 * admin routes: `admin` is null while that is being asked, false when it does not.
 */
export function AdminPage({ api, route, admin }: { api: AdminApi; route: string; admin: boolean | null }) {
  const parts = route.replace(/^\/admin\/?/, '').split('/');
  const tab = TABS.some(([key]) => key === parts[0]) ? parts[0]! : 'definitions';
  const rest = parts.slice(1).join('/');
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = 'Messaging center · Parley';
    return () => {
      document.title = 'Parley';
    };
  }, []);
  const screen = useMemo(() => {
    if (tab === 'templates') return <TemplatesScreen api={api} />;
    if (tab === 'broadcasts') return <BroadcastsScreen api={api} />;
    if (tab === 'logs') return <LogsScreen api={api} />;
    return <DefinitionsScreen api={api} route={rest} />;
  }, [api, tab, rest]);

  if (admin !== true)
    return (
      <main class="admin">
        <header class="admin-head">
          <h1 ref={heading}>Messaging center</h1>
          <a class="admin-back" href="#">
            ← Messenger
          </a>
        </header>
        <p class="placeholder" role={admin === null ? 'status' : 'alert'} data-testid="admin-denied">
          {admin === null ? 'Checking your access…' : 'You are not allowed to open the messaging center: it is for administrators.'}
        </p>
      </main>
    );
  return (
    <main class="admin">
      <header class="admin-head">
        <h1 ref={heading}>Messaging center</h1>
        <a class="admin-back" href="#">
          ← Messenger
        </a>
      </header>
      <nav class="admin-tabs" aria-label="Messaging center">
        <ul>
          {TABS.map(([key, label]) => (
            <li key={key}>
              <a href={`#/admin/${key}`} aria-current={tab === key ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="admin-body">{screen}</div>
    </main>
  );
}
