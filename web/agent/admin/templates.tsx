import type { AdminApi } from './api.js';
export const TemplatesScreen = (_: { api: AdminApi }) => <p class="placeholder">Templates: coming soon.</p>;
