import type { AdminApi } from './api.js';
export const BroadcastsScreen = (_: { api: AdminApi }) => <p class="placeholder">Broadcasts: coming soon.</p>;
