import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { z } from 'zod';
import { HTTP_STATUS, ProtocolError, illFormedPath, type ErrorCode } from '../../protocol/index.js';
import { DEFAULT_FRAME_ANCESTORS, pageHeaders } from './page-headers.js';
import type { Logger } from '../core/ports/index.js';

export type Method = 'get' | 'put' | 'post' | 'patch' | 'del';

/** What a handler sees: validated body and query, decoded path parameters, and the raw body text. */
export interface RequestContext<B, Q> {
  params: string[];
  body: B;
  query: Q;
  headers: Record<string, string>;
}

export interface Reply {
  status: number;
  body: unknown;
  /** Defaults to application/json; a string body is sent as is. */
  contentType?: string;
  /** More response headers (a page's Content-Security-Policy). */
  headers?: Record<string, string>;
}

export interface Route<B = unknown, Q = unknown> {
  method: Method;
  pattern: string;
  /** Whether the API key is required (every /v1/* route but /v1/ws). */
  auth: boolean;
  /** An admin route (NOTIFICATIONS §8): an admin session token is accepted as Bearer too. */
  admin?: boolean;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  /**
   * Hand the handler the body text as is, whatever its media type (the one-click unsubscribe POST,
   * RFC 8058 form data). Every other route with a body takes only `application/json` (SPEC §4).
   */
  rawBody?: boolean | 'bytes';
  /** The largest body this route takes (default 1 MiB); larger is 413 `too_large`. */
  maxBytes?: number;
  /** Header names the handler reads (uWS headers must be copied before the first await). */
  headers?: string[];
  handle(ctx: RequestContext<B, Q>): Promise<Reply> | Reply;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** `application/json`, optionally with `charset=utf-8` (JSON is UTF-8, RFC 8259); no other parameter. */
const JSON_MEDIA_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset[ \t]*=[ \t]*(?:utf-8|"utf-8")[ \t]*)?$/i;
export function isJsonMediaType(contentType: string): boolean {
  return JSON_MEDIA_TYPE.test(contentType.trim());
}

/** Pages made by a handler without their own policy get the strictest one (no framing at all). */
const DEFAULT_PAGE_HEADERS = pageHeaders({ frameAncestors: DEFAULT_FRAME_ANCESTORS });

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The HTTP edge on uWS: reads the body (bounded), checks the API key in constant time, validates
 * body and query with the route's schemas, and turns every failure into SPEC's error body.
 */
export class HttpRouter {
  private readonly keyDigest: Buffer;

  constructor(
    private readonly app: TemplatedApp,
    private readonly opts: {
      apiKey: string;
      logger: Logger;
      adminToken?: (token: string) => Promise<'admin' | 'forbidden' | 'invalid'>;
      /** Several hubs: read what other hubs wrote before a host route answers an id as unknown, then try once more. */
      catchUp?: () => Promise<void>;
    },
  ) {
    this.keyDigest = digest(opts.apiKey);
  }

  add<B, Q>(route: Route<B, Q>): void {
    this.app[route.method](route.pattern, (res, req) => this.serve(route, res, req));
  }

  /** Answer every unmatched request with 404 in SPEC's error shape. */
  fallback(): void {
    this.app.any('/*', (res) => {
      let aborted = false;
      res.onAborted(() => (aborted = true));
      if (!aborted) this.send(res, errorReply('not_found', 'no such route'));
    });
  }

  private authorized(header: string): boolean {
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) return false;
    return timingSafeEqual(digest(m[1]!.trim()), this.keyDigest);
  }

  private serve<B, Q>(route: Route<B, Q>, res: HttpResponse, req: HttpRequest): void {
    const state = { aborted: false };
    res.onAborted(() => (state.aborted = true));
    // uWS request data lives only until the first await: copy what we need now.
    const paramCount = (route.pattern.match(/:/g) ?? []).length;
    const rawParams: string[] = [];
    for (let i = 0; i < paramCount; i++) rawParams.push(req.getParameter(i) ?? '');
    const rawQuery = req.getQuery() ?? '';
    const authHeader = req.getHeader('authorization');
    const headers: Record<string, string> = {};
    for (const h of route.headers ?? []) headers[h] = req.getHeader(h);
    const contentType = req.getHeader('content-type');

    // An admin route also takes an admin session token (NOTIFICATIONS §8), checked once the body is in.
    let adminToken: string | null = null;
    if (route.auth && !this.authorized(authHeader)) {
      const bearer = /^Bearer\s+(.+)$/i.exec(authHeader)?.[1]?.trim();
      if (!route.admin || !bearer || !this.opts.adminToken) {
        this.send(res, errorReply('unauthenticated', 'missing or wrong API key'), state);
        return;
      }
      adminToken = bearer;
    }
    const needsBody = route.body !== undefined || route.rawBody;
    if (!needsBody) {
      void this.run(route, res, state, rawParams, rawQuery, headers, undefined, contentType, adminToken);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    res.onData((chunk, isLast) => {
      if (tooLarge) return;
      size += chunk.byteLength;
      const max = route.maxBytes ?? MAX_BODY_BYTES;
      if (size > max) {
        tooLarge = true;
        this.send(res, errorReply('too_large', `a body is at most ${max} bytes`), state);
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) void this.run(route, res, state, rawParams, rawQuery, headers, Buffer.concat(chunks), contentType, adminToken);
    });
  }

  private async run<B, Q>(
    route: Route<B, Q>,
    res: HttpResponse,
    state: { aborted: boolean },
    rawParams: string[],
    rawQuery: string,
    headers: Record<string, string>,
    bodyBytes: Buffer | undefined,
    contentType: string,
    adminToken: string | null,
  ): Promise<void> {
    const rawBody = route.rawBody === 'bytes' ? undefined : bodyBytes?.toString('utf8');
    let reply: Reply;
    try {
      if (adminToken !== null) {
        const verdict = await this.opts.adminToken!(adminToken);
        if (verdict === 'invalid') throw new ProtocolError('unauthenticated', 'missing or wrong API key');
        if (verdict === 'forbidden') throw new ProtocolError('forbidden', 'this token does not open admin routes');
      }
      const params = rawParams.map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          throw new ProtocolError('invalid', 'bad percent-encoding in the path');
        }
      });
      let body: unknown;
      if (route.rawBody === 'bytes') {
        body = bodyBytes ?? Buffer.alloc(0);
      } else if (route.rawBody) {
        body = rawBody ?? '';
      } else if (route.body) {
        if (!rawBody) throw new ProtocolError('invalid', 'a JSON body is required');
        if (!isJsonMediaType(contentType)) throw new ProtocolError('unsupported_media_type', 'a body must be application/json');
        let json: unknown;
        try {
          json = JSON.parse(rawBody);
        } catch {
          throw new ProtocolError('invalid', 'the body is not valid JSON');
        }
        // SPEC §3 Text: every string the hub stores or echoes is well-formed, whatever the route's schema.
        const bad = illFormedPath(rawBody, json);
        if (bad !== null) throw new ProtocolError('invalid', `invalid body: ${bad}: not well-formed Unicode (a lone surrogate)`, [{ path: bad === '(root)' ? 'body' : `body.${bad}`, message: 'not well-formed Unicode (a lone surrogate)' }]);
        body = validate(route.body, json, 'body');
      }
      const query = route.query ? validate(route.query, Object.fromEntries(new URLSearchParams(rawQuery)), 'query') : undefined;
      const ctx = { params, body: body as B, query: query as Q, headers: { ...headers, 'content-type': contentType } };
      const { catchUp } = this.opts;
      try {
        reply = await route.handle(ctx);
      } catch (e) {
        // An id written on another hub a moment ago (the host's requests may reach different hubs).
        if (!catchUp || !route.auth || !(e instanceof ProtocolError) || e.code !== 'not_found') throw e;
        await catchUp();
        reply = await route.handle(ctx);
      }
    } catch (e) {
      if (e instanceof ProtocolError) reply = errorReply(e.code, e.message, e.details);
      else {
        this.opts.logger.error('http handler failed', { route: `${route.method.toUpperCase()} ${route.pattern}`, error: e instanceof Error ? e.stack : String(e) });
        reply = errorReply('internal', 'internal error');
      }
    }
    this.send(res, reply, state);
  }

  private send(res: HttpResponse, reply: Reply, state?: { aborted: boolean }): void {
    if (state?.aborted) return;
    const text = reply.status === 204 ? '' : typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body);
    const contentType = reply.contentType ?? 'application/json; charset=utf-8';
    // Every answer: nosniff. A page (HTML): SPEC §4's page headers, the strictest unless the route gave its own.
    const headers: Record<string, string> = { 'x-content-type-options': 'nosniff' };
    if (/^text\/html\b/i.test(contentType)) Object.assign(headers, DEFAULT_PAGE_HEADERS);
    Object.assign(headers, reply.headers);
    res.cork(() => {
      res.writeStatus(statusLine(reply.status)).writeHeader('content-type', contentType).writeHeader('cache-control', 'no-store');
      for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
      res.end(text);
    });
  }
}

function validate<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
  throw new ProtocolError('invalid', `invalid ${where}: ${details[0]?.path}: ${details[0]?.message}`, details);
}

export function errorReply(code: ErrorCode, message: string, details?: unknown): Reply {
  const error: Record<string, unknown> = { code, message };
  if (details !== undefined) error.details = details;
  return { status: HTTP_STATUS[code], body: { error } };
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
function statusLine(status: number): string {
  return `${status} ${REASONS[status] ?? ''}`.trim();
}
