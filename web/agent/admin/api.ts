import type { NotificationChoices } from '../../../protocol/admin.js';

/**
 * The messaging center's calls to the hub's admin routes (NOTIFICATIONS §8), same origin, with the
 * agent's session token as Bearer. A refusal throws an AdminError carrying SPEC §4's error code,
 * message and (for 400 `invalid`) the field issues.
 */

export interface FieldIssue {
  path: string;
  message: string;
}

export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

export interface AdminApi {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  del(path: string): Promise<void>;
  /** A call whose body or answer is not JSON (YAML import and export). */
  raw(method: string, path: string, body?: string, contentType?: string): Promise<Response>;
}

/** The session token the page keeps (main.tsx stores it, renewed, under this key). */
export function sessionToken(): string {
  try {
    const saved = sessionStorage.getItem('parley-agent');
    return saved ? ((JSON.parse(saved) as { token?: string }).token ?? '') : '';
  } catch {
    return '';
  }
}

function isIssue(x: unknown): x is FieldIssue {
  return typeof x === 'object' && x !== null && typeof (x as FieldIssue).path === 'string' && typeof (x as FieldIssue).message === 'string';
}

/** The AdminError a failed answer stands for. */
export async function errorOf(res: Response): Promise<AdminError> {
  let code = `http_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let issues: FieldIssue[] = [];
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
    if (Array.isArray(body.error?.details)) issues = body.error.details.filter(isIssue);
  } catch {
    // not JSON: keep the status line
  }
  return new AdminError(res.status, code, message, issues);
}

export function adminApi(token: string | (() => string)): AdminApi {
  const bearer = () => (typeof token === 'function' ? token() : token);
  async function raw(method: string, path: string, body?: string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${bearer()}` };
    if (contentType) headers['content-type'] = contentType;
    const res = await fetch(path, { method, headers, ...(body === undefined ? {} : { body }) });
    if (!res.ok) throw await errorOf(res);
    return res;
  }
  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await raw(method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? undefined : 'application/json');
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
  return {
    get: (path) => json('GET', path),
    post: (path, body) => json('POST', path, body ?? {}),
    put: (path, body) => json('PUT', path, body),
    del: async (path) => {
      await json('DELETE', path);
    },
    raw,
  };
}

/** Whether this token opens the admin routes: 200 → yes, 401/403 → no (anything else: not known, no). */
export async function isAdmin(api: AdminApi): Promise<boolean> {
  try {
    await api.get('/v1/notification-definitions');
    return true;
  } catch {
    return false;
  }
}

/** GET /v1/notification-definitions/choices: what the editor's pickers offer (ids and names only). */
export type Choices = NotificationChoices;

export const NO_CHOICES: Choices = { agents: [], groups: [], roles: [], queues: [], items: [], appointments: [], eventTypes: [], relations: [], languages: [] };

/** The choices, or none when the hub cannot say (the pickers then take typed values). */
export async function loadChoices(api: AdminApi): Promise<Choices> {
  try {
    return { ...NO_CHOICES, ...(await api.get<Partial<Choices>>('/v1/notification-definitions/choices')) };
  } catch {
    return NO_CHOICES;
  }
}

/** Saves a text as a file the browser downloads. */
export function download(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
