import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { UserPreferences } from '../../protocol/index.js';
import type { Alerts } from './alerts.js';
import { HelpdeskError, type Helpdesk } from './helpdesk.js';

type Notifications = UserPreferences['notifications'];
type Access = UserPreferences['access'];
type Choices = NonNullable<UserPreferences['notificationDefinitions']>;
type Transport = 'email' | 'web' | 'sms';

/**
 * What the host app adds to the hub's preferences about each notification rule in them (the hub names
 * only ids and transports): its name, its tooltip and whether it is mandatory. Optional: without it a
 * rule shows under its id.
 */
export interface NotificationRuleInfo {
  id: string;
  name: string;
  tooltip: string | null;
  mandatory: boolean;
}
type PreferencesView = UserPreferences & { notificationRules?: NotificationRuleInfo[] };

/** SPEC §2's notification and access options, read from and saved through the host app. */
export function Preferences({ helpdesk, alerts, onClose }: { helpdesk: Helpdesk; alerts?: Alerts; onClose: () => void }) {
  const first = useRef<HTMLElement>(null);
  const [prefs, setPrefs] = useState<PreferencesView | null>(null);
  const [status, setStatus] = useState<string>('');
  /** Rules whose switches the person changed since loading or saving: only those are sent. */
  const [changed, setChanged] = useState<ReadonlySet<string>>(new Set());

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
  const setRule = (id: string, transport: Transport, on: boolean) => {
    const choices = prefs.notificationDefinitions ?? {};
    setPrefs({ ...prefs, notificationDefinitions: { ...choices, [id]: { ...choices[id], [transport]: on } } });
    setChanged(new Set(changed).add(id));
  };

  async function save(): Promise<void> {
    setStatus('Saving…');
    const p = prefs!;
    const choices: Choices = {};
    for (const id of changed) if (p.notificationDefinitions?.[id]) choices[id] = p.notificationDefinitions[id]!;
    try {
      const saved = (await helpdesk.savePreferences({
        notifications: p.notifications,
        access: p.access,
        ...(Object.keys(choices).length > 0 ? { notificationDefinitions: choices } : {}),
      })) as PreferencesView;
      setPrefs({ ...saved, notificationRules: saved.notificationRules ?? p.notificationRules });
      setChanged(new Set());
      setStatus('Saved');
    } catch (e) {
      // The hub's reason, passed through by the host app (a mandatory rule left with no transport, …).
      const why = e instanceof HelpdeskError && e.detail ? e.detail.replace(/^notificationDefinitions\.[^:]*: /, '') : String(e);
      setStatus(`Not saved: ${why}`);
      // A refusal may come from a rule that changed since loading (made mandatory): show the rules as they are now, keeping the person's choices.
      if (e instanceof HelpdeskError && e.status === 400) {
        helpdesk.preferences().then(
          (now) => setPrefs((mine) => mine && { ...mine, notificationRules: (now as PreferencesView).notificationRules ?? mine.notificationRules }),
          () => {},
        );
      }
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
      <NotificationRules prefs={prefs} onChange={setRule} />
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
        <span class={`saved ${status.startsWith('Not saved') ? 'error' : ''}`} role="status">
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

const TRANSPORTS: Array<[Transport, string]> = [
  ['email', 'Email'],
  ['web', 'In the app'],
  ['sms', 'SMS'],
];

/**
 * Notification rules shown to agents (NOTIFICATIONS §3): a switch per transport a rule offers. A
 * mandatory rule keeps at least one transport on, so its last one cannot be switched off here.
 */
function NotificationRules({ prefs, onChange }: { prefs: PreferencesView; onChange: (id: string, transport: Transport, on: boolean) => void }) {
  const choices = prefs.notificationDefinitions ?? {};
  const info = new Map((prefs.notificationRules ?? []).map((r) => [r.id, r]));
  const ids = Object.keys(choices);
  if (ids.length === 0) return null;
  // The host app's order (by name), then any it did not describe.
  const order = new Map((prefs.notificationRules ?? []).map((r, i) => [r.id, i]));
  ids.sort((x, y) => (order.get(x) ?? Infinity) - (order.get(y) ?? Infinity) || (x < y ? -1 : 1));
  const anyMandatory = ids.some((id) => info.get(id)?.mandatory);
  return (
    <section class="rules" aria-labelledby="rules-heading" data-testid="notification-rules">
      <h2 id="rules-heading">Notification rules</h2>
      <p class="rules-note">How your helpdesk tells you about tickets and appointments, rule by rule.</p>
      {anyMandatory && (
        <p class="rules-note" id="rules-mandatory">
          <span aria-hidden="true">* </span>Mandatory: your team needs you to get these, so at least one way stays on.
        </p>
      )}
      {ids.map((id) => {
        const rule = info.get(id);
        const choice = choices[id]!;
        const offered = TRANSPORTS.filter(([t]) => choice[t] !== undefined);
        const on = offered.filter(([t]) => choice[t]);
        const mandatory = rule?.mandatory ?? false;
        const locked = mandatory && on.length === 1 ? on[0]![0] : null;
        const key = id.replace(/[^A-Za-z0-9_-]/g, '_');
        return (
          <fieldset key={id} class="rule" data-rule={id} aria-describedby={rule?.tooltip ? `rule-help-${key}` : undefined}>
            <legend>
              {rule?.name ?? id}
              {mandatory && (
                <>
                  <span class="mark" aria-hidden="true">
                    *
                  </span>
                  <span class="sr-only"> (mandatory)</span>
                </>
              )}
            </legend>
            {rule?.tooltip && (
              <p class="help" id={`rule-help-${key}`}>
                {rule.tooltip}
              </p>
            )}
            <div class="switches">
              {offered.map(([t, label]) => (
                <label key={t} class="switch">
                  <input
                    type="checkbox"
                    role="switch"
                    name={`rule-${key}-${t}`}
                    checked={choice[t]}
                    disabled={locked === t}
                    aria-describedby={locked === t ? `rule-locked-${key}` : undefined}
                    onChange={(e) => onChange(id, t, (e.target as HTMLInputElement).checked)}
                  />
                  {label}
                </label>
              ))}
            </div>
            {locked && (
              <p class="locked" id={`rule-locked-${key}`}>
                {TRANSPORTS.find(([t]) => t === locked)![1]} stays on: this rule is mandatory and needs at least one way. Turn on another to switch it off.
              </p>
            )}
            {mandatory && on.length === 0 && <p class="locked">This rule is mandatory: turn at least one way on.</p>}
          </fieldset>
        );
      })}
    </section>
  );
}
