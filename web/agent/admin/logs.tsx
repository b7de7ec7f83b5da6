import type { AdminApi } from './api.js';
export const LogsScreen = (_: { api: AdminApi }) => <p class="placeholder">Outbox and inbox: coming soon.</p>;
