import { useEffect, useState } from 'preact/hooks';
import type { UserPreferences } from '../../protocol/index.js';
import type { Helpdesk } from './helpdesk.js';

type Notifications = UserPreferences['notifications'];
type Access = UserPreferences['access'];

/** SPEC §2's notification and access options, read from and saved through the host app. */
export function Preferences({ helpdesk, onClose }: { helpdesk: Helpdesk; onClose: () => void }) {
  const [prefs, setPrefs] = useState<UserPreferences | null>(null);
  const [status, setStatus] = useState<string>('');

  useEffect(() => {
    helpdesk.preferences().then(setPrefs, (e: unknown) => setStatus(`Could not load: ${String(e)}`));
  }, [helpdesk]);

  if (!prefs) return <div class="preferences">{status || 'Loading…'}</div>;
  const n = prefs.notifications;
  const a = prefs.access;
  const setN = (patch: Partial<Notifications>) => setPrefs({ ...prefs, notifications: { ...n, ...patch } });
  const setA = (patch: Partial<Access>) => setPrefs({ ...prefs, access: { ...a, ...patch } });

  async function save(): Promise<void> {
    setStatus('Saving…');
    try {
      setPrefs(await helpdesk.savePreferences({ notifications: prefs!.notifications, access: prefs!.access }));
      setStatus('Saved');
    } catch (e) {
      setStatus(`Not saved: ${String(e)}`);
    }
  }

  return (
    <form
      class="preferences"
      aria-label="Preferences"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h2>Notifications</h2>
      <label>
        Messages from customers
        <select name="fromCustomers" value={n.fromCustomers} onChange={(e) => setN({ fromCustomers: (e.target as HTMLSelectElement).value as Notifications['fromCustomers'] })}>
          <option value="all">All</option>
          <option value="mine">Only my tickets</option>
          <option value="none">None</option>
        </select>
      </label>
      <label>
        Replies to customers
        <select name="repliesToCustomers" value={n.repliesToCustomers} onChange={(e) => setN({ repliesToCustomers: (e.target as HTMLSelectElement).value as Notifications['repliesToCustomers'] })}>
          <option value="all">All</option>
          <option value="followed">What I follow</option>
          <option value="none">None</option>
        </select>
      </label>
      <label class="check">
        <input type="checkbox" name="followedInternal" checked={n.followedInternal} onChange={(e) => setN({ followedInternal: (e.target as HTMLInputElement).checked })} />
        Internal messages in what I follow
      </label>
      <h2>Access</h2>
      <label>
        Conversations I can view
        <select name="viewConversations" value={a.viewConversations} onChange={(e) => setA({ viewConversations: (e.target as HTMLSelectElement).value as Access['viewConversations'] })}>
          <option value="all">All</option>
          <option value="mine">Only mine</option>
        </select>
      </label>
      <label class="check">
        <input type="checkbox" name="showFromCustomers" checked={a.showFromCustomers} onChange={(e) => setA({ showFromCustomers: (e.target as HTMLInputElement).checked })} />
        Show “From customers”
      </label>
      <div class="actions">
        <button type="submit" class="primary">
          Save
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
        <span class="saved" role="status">
          {status}
        </span>
      </div>
    </form>
  );
}
