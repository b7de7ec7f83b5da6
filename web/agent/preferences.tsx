import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { UserPreferences } from '../../protocol/index.js';
import type { Alerts } from './alerts.js';
import type { Helpdesk } from './helpdesk.js';

type Notifications = UserPreferences['notifications'];
type Access = UserPreferences['access'];

/** SPEC §2's notification and access options, read from and saved through the host app. */
export function Preferences({ helpdesk, alerts, onClose }: { helpdesk: Helpdesk; alerts?: Alerts; onClose: () => void }) {
  const first = useRef<HTMLElement>(null);
  const [prefs, setPrefs] = useState<UserPreferences | null>(null);
  const [status, setStatus] = useState<string>('');

  useEffect(() => {
    helpdesk.preferences().then(setPrefs, (e: unknown) => setStatus(`Could not load: ${String(e)}`));
  }, [helpdesk]);

  useEffect(() => first.current?.focus(), [prefs === null]);
  if (!prefs)
    return (
      <div class="preferences" role="status">
        {status || 'Loading…'}
      </div>
    );
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
      <h2 tabIndex={-1} ref={first as preact.Ref<HTMLHeadingElement>}>
        Notifications
      </h2>
      <Choice label="Messages from customers" name="fromCustomers" value={n.fromCustomers} options={[['all', 'All'], ['mine', 'Only my tickets'], ['none', 'None']]} onChange={(v) => setN({ fromCustomers: v })} />
      <Choice label="Replies to customers" name="repliesToCustomers" value={n.repliesToCustomers} options={[['all', 'All'], ['followed', 'What I follow'], ['none', 'None']]} onChange={(v) => setN({ repliesToCustomers: v })} />
      <label class="check">
        <input type="checkbox" name="followedInternal" checked={n.followedInternal} onChange={(e) => setN({ followedInternal: (e.target as HTMLInputElement).checked })} />
        Internal messages in what I follow
      </label>
      {alerts && <Desktop alerts={alerts} />}
      <h2>Access</h2>
      <Choice label="Conversations I can view" name="viewConversations" value={a.viewConversations} options={[['all', 'All'], ['mine', 'Only mine']]} onChange={(v) => setA({ viewConversations: v })} />
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

function Choice<T extends string>({ label, name, value, options, onChange }: { label: string; name: string; value: T; options: Array<[T, string]>; onChange: (value: T) => void }) {
  return (
    <label>
      {label}
      <select name={name} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value as T)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Desktop notifications: asked for on this click (browsers allow the prompt only after a gesture). */
function Desktop({ alerts }: { alerts: Alerts }) {
  const [, bump] = useReducer((n: number, _: void) => n + 1, 0);
  const state = alerts.desktopState();
  const text = { unsupported: 'Not supported by this browser', denied: 'Blocked in the browser’s site settings', default: 'Off', on: 'On', off: 'Off' }[state];
  return (
    <div class="desktop">
      <span>
        Desktop notifications: <strong data-testid="desktop-state">{text}</strong>
      </span>
      {(state === 'default' || state === 'off') && (
        <button type="button" onClick={() => void alerts.setDesktop(true).then(bump)}>
          Enable desktop notifications
        </button>
      )}
      {state === 'on' && (
        <button type="button" onClick={() => void alerts.setDesktop(false).then(bump)}>
          Turn off
        </button>
      )}
    </div>
  );
}
