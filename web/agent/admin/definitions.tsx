import type { AdminApi } from './api.js';

/** Notification definitions (NOTIFICATIONS §3): list, editor, import/export, preview. */
export function DefinitionsScreen({ api: _api, route: _route }: { api: AdminApi; route: string }) {
  return <p class="placeholder">Loading…</p>;
}
