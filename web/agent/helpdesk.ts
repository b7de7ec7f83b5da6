import type { UserPreferences } from '../../protocol/index.js';

/** What the agent app needs from the host app, which holds the hub's API key (a browser never does). */
export interface Directory {
  participants: Array<{ id: string; name: string; kind: 'user' | 'customer' | 'bot' }>;
  items: Array<{ id: string; title: string; number?: string | null; customerId?: string | null }>;
}

/**
 * The host app's small contract with the agent app, every call authenticated with the agent's Parley
 * token: `GET /parley/directory`, `GET` and `PATCH /parley/preferences`, and `POST /parley/token`,
 * which answers a fresh token for the bearer of an expired one.
 */
export class Helpdesk {
  constructor(
    private readonly base: string,
    private readonly token: () => string,
  ) {}

  directory(): Promise<Directory> {
    return this.call('GET', '/parley/directory');
  }
  preferences(): Promise<UserPreferences> {
    return this.call('GET', '/parley/preferences');
  }
  savePreferences(patch: unknown): Promise<UserPreferences> {
    return this.call('PATCH', '/parley/preferences', patch);
  }
  async renewToken(): Promise<string> {
    return (await this.call<{ token: string }>('POST', '/parley/token')).token;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${this.token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new HelpdeskError(`${method} ${path}: ${res.status}`, res.status, await reason(res));
    return (await res.json()) as T;
  }
}

/** A call the host app refused: `status`, and `detail`, the reason its body gave (the hub's, passed through), if any. */
export class HelpdeskError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly detail: string | null,
  ) {
    super(message);
  }
}

/** The reason in an error body: `{error: {message}}` (the hub's shape) or `{error: "…"}`. */
async function reason(res: Response): Promise<string | null> {
  try {
    const body = (await res.json()) as { error?: string | { message?: string } };
    const e = body.error;
    return typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : null;
  } catch {
    return null;
  }
}
