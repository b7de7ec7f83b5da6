import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../core/ports/index.js';
import { DEFAULT_FRAME_ANCESTORS, pageHeaders } from './page-headers.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * The built front ends (dist/assets: the widget script, the SDK bundle, the agent app), read into memory at
 * start and served at fixed paths. Only files that exist at start are routes, so no request path ever
 * reaches the file system. Assets are not content-hashed: browsers revalidate with the ETag.
 */
export function registerStaticRoutes(app: TemplatedApp, opts: { root: string; logger: Logger; frameAncestors?: string }): void {
  if (!existsSync(opts.root)) {
    opts.logger.warn('front ends not built; the widget and agent app are not served', { root: opts.root });
    return;
  }
  const assets = new Map<string, Asset>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const body = readFileSync(file);
        const path = `/${relative(opts.root, file).split(sep).join('/')}`;
        assets.set(path, { body, contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha1').update(body).digest('base64url')}"` });
      }
    }
  };
  walk(opts.root);
  // The agent app lives under /app/, the customer page (PARLEY_CUSTOMER_URL) under /chat/; each index answers its directory.
  for (const dir of ['/app/', '/chat/']) {
    const index = assets.get(`${dir}index.html`);
    if (index) assets.set(dir, index);
  }

  // SPEC §4 pages: every file carries the page headers (a CSP only acts on documents, but an SVG or a
  // mistyped file opened directly is one). The agent app calls its helpdesk, an origin it learns at
  // run time from its URL, so connect-src must allow other http(s) origins; scripts stay 'self' only.
  const headers = Object.entries(pageHeaders({ frameAncestors: opts.frameAncestors ?? DEFAULT_FRAME_ANCESTORS, connectSources: ['http:', 'https:'] }));
  for (const [path, asset] of assets) {
    const serve = (head: boolean) => (res: HttpResponse, req: { getHeader(name: string): string }) => {
      const fresh = req.getHeader('if-none-match') === asset.etag;
      res.cork(() => {
        res.writeStatus(fresh ? '304 Not Modified' : '200 OK');
        res.writeHeader('content-type', asset.contentType);
        res.writeHeader('etag', asset.etag);
        res.writeHeader('cache-control', 'no-cache');
        for (const [name, value] of headers) res.writeHeader(name, value);
        // The widget script and SDK are loaded by other sites' pages.
        if (!path.startsWith('/app/') && !path.startsWith('/chat/')) res.writeHeader('access-control-allow-origin', '*');
        if (fresh) res.endWithoutBody();
        // endWithoutBody(length) aborts the process in this uWS build: HEAD states its length itself.
        else if (head) res.writeHeader('content-length', String(asset.body.length)).endWithoutBody();
        else res.end(asset.body);
      });
    };
    app.get(path, serve(false));
    app.head(path, serve(true));
  }
  for (const dir of ['/app', '/chat']) {
    app.get(dir, (res) => {
      res.cork(() => {
        res.writeStatus('308 Permanent Redirect').writeHeader('location', `${dir}/`).writeHeader('x-content-type-options', 'nosniff').end();
      });
    });
  }
  opts.logger.info('front ends', { widget: '/widget.js', agentApp: '/app/', customerPage: '/chat/', sdk: '/sdk/parley-client.js' });
}
