import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Custom behaviour for one path: answer however (or whenever, or never) the test needs. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A fixed answer; with `validators`, it carries an ETag and Last-Modified and answers matching conditional requests with 304. */
export interface StaticRoute {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** A string is sent as UTF-8; a Buffer as it is (for legacy encodings). */
  readonly body?: string | Buffer;
  readonly validators?: boolean;
}

/** What the upstream does for one path. */
export type Route = StaticRoute | Handler;

/** One request as the upstream saw it. */
export interface SeenRequest {
  /** The path without the query string. */
  readonly path: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** The server's performance.now() when the request arrived, for spacing between hits without client-side timing. */
  readonly at: number;
  /** Settles when the response is over: true if it was sent completely, false if the connection closed first. */
  readonly completed: Promise<boolean>;
}

/** A fixture upstream on 127.0.0.1. */
export interface Upstream {
  /** The origin, without a trailing slash. */
  readonly url: string;
  readonly requests: readonly SeenRequest[];
  hits(path: string): number;
  set(path: string, route: Route): void;
  /** Stops the server and destroys open connections, so hung requests do not keep the test alive. */
  close(): Promise<void>;
}

/** The Last-Modified of static routes with validators. */
export const LAST_MODIFIED = 'Tue, 24 Nov 2026 08:00:00 GMT';

function bytesOf(body: string | Buffer): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Whether an If-None-Match list names the tag (weak comparison, as RFC 9110 asks for If-None-Match). */
function matchesTag(header: string, tag: string): boolean {
  return header.split(',').some((item) => {
    const candidate = item.trim().replace(/^W\//, '');
    return candidate === '*' || candidate === tag;
  });
}

function staticHandler(route: StaticRoute): Handler {
  const body = bytesOf(route.body ?? '');
  const tag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  return (req, res) => {
    const headers: Record<string, string> = { ...route.headers };
    if (route.validators) {
      headers.etag = tag;
      headers['last-modified'] = LAST_MODIFIED;
      const ifNoneMatch = req.headers['if-none-match'];
      const ifModifiedSince = req.headers['if-modified-since'];
      // If-None-Match decides alone when present (RFC 9110 13.2.2).
      const fresh = ifNoneMatch !== undefined
        ? matchesTag(ifNoneMatch, tag)
        : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= Date.parse(LAST_MODIFIED);
      if (fresh) {
        res.writeHead(304, headers).end();
        return;
      }
    }
    headers['content-length'] = String(body.length);
    res.writeHead(route.status ?? 200, headers).end(req.method === 'HEAD' ? undefined : body);
  };
}

function handlerOf(route: Route): Handler {
  return typeof route === 'function' ? route : staticHandler(route);
}

/** Starts an upstream serving `routes` by path; unknown paths get 404. */
export async function startUpstream(routes: Record<string, Route>): Promise<Upstream> {
  const table = new Map(Object.entries(routes).map(([path, route]) => [path, handlerOf(route)]));
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://upstream').pathname;
    const completed = new Promise<boolean>((resolve) => res.on('close', () => resolve(res.writableFinished)));
    requests.push({ path, method: req.method ?? 'GET', headers: req.headers, at: performance.now(), completed });
    const handler = table.get(path);
    if (handler) handler(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end(`no route for ${path}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hits: (path) => requests.filter((request) => request.path === path).length,
    set(path, route) {
      table.set(path, handlerOf(route));
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }),
  };
}

/** Accepts the request and never answers. */
export function hang(): Handler {
  return () => undefined;
}

/** Sends the headers at once, then the body one byte every `intervalMs`. */
export function drip(body: string | Buffer, intervalMs: number): Handler {
  const bytes = bytesOf(body);
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(bytes.length) });
    res.flushHeaders();
    let sent = 0;
    const timer = setInterval(() => {
      if (sent === bytes.length) {
        clearInterval(timer);
        res.end();
      } else {
        res.write(bytes.subarray(sent, sent + 1));
        sent += 1;
      }
    }, intervalMs);
    res.on('close', () => clearInterval(timer));
  };
}

/** Declares a Content-Length twice the body's, sends the body and closes the connection. */
export function truncated(body: string | Buffer): Handler {
  const bytes = bytesOf(body);
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(bytes.length * 2) });
    res.write(bytes, () => res.destroy());
  };
}

/** Streams `totalBytes` of filler without a Content-Length, one reused chunk at a time, until done or the client leaves. */
export function huge(totalBytes: number): Handler {
  const chunk = Buffer.alloc(64 * 1024, '<p>Filler.</p>\n');
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    let sent = 0;
    const pump = () => {
      while (sent < totalBytes && !res.destroyed) {
        const size = Math.min(chunk.length, totalBytes - sent);
        sent += size;
        if (!res.write(chunk.subarray(0, size))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };
}

/** Answers with a redirect to `to` (absolute or relative, sent as given). */
export function redirect(to: string, status = 302): Handler {
  return (_req, res) => {
    res.writeHead(status, { location: to }).end();
  };
}

/** Answers with a bare status, e.g. 500, or 429 with a Retry-After header. */
export function status(code: number, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(code, { 'content-type': 'text/plain', ...headers }).end(`HTTP ${code}`);
  };
}

/** Answers the n-th hit with the n-th route, and every hit after the last with the last. */
export function sequence(routes: readonly Route[]): Handler {
  const handlers = routes.map(handlerOf);
  let hit = 0;
  return (req, res) => {
    const handler = handlers[Math.min(hit, handlers.length - 1)]!;
    hit += 1;
    handler(req, res);
  };
}
