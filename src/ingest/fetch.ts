import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { addressRefusal } from '../net/address-filter.js';

const require = createRequire(import.meta.url);

/** The HTML Standard's encoding sniffer; required because the package is CommonJS without type declarations. */
const sniffEncoding = require('html-encoding-sniffer') as (
  bytes: Uint8Array,
  options: { xml?: boolean; transportLayerEncodingLabel?: string | undefined; defaultEncoding?: string },
) => string;

/** How one upstream request is made; every limit has a default suited to a scheduled refresh. */
export interface FetchOptions {
  /** Bounds one attempt as a whole: redirects, headers and the complete body. Default 15 s. */
  timeoutMs?: number;
  /** A larger body is an error, unless `truncate` asks for its first maxBytes. Default 5 MiB. */
  maxBytes?: number;
  /** Keep the first maxBytes of a larger body (the rest is not read): for probes that only need a file's head. */
  truncate?: boolean;
  /** Further attempts after a network error, a timeout, a 5xx or a 429. Default 2. */
  retries?: number;
  /** Wait before the first retry, doubled for each further one. Default 500 ms. */
  backoffMs?: number;
  /** The longest Retry-After that is waited for; a longer one fails at once. Default 60 s. */
  maxRetryAfterMs?: number;
  userAgent: string;
  /** The ETag stored from the last success, sent as If-None-Match. */
  etag?: string | null;
  /** The Last-Modified stored from the last success, sent as If-Modified-Since. */
  lastModified?: string | null;
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** Ends the request (and any retry wait) when aborted: a cancelled refresh. The failure is not retryable. */
  signal?: AbortSignal;
  /** The fetch to use: the address filter's for URLs from outside the operator's config (src/net/address-filter.ts). */
  fetch?: typeof globalThis.fetch;
}

/** A successful upstream answer: a 2xx with its complete body, or a 304 with none. */
export interface FetchResult {
  /** The URL after redirects. */
  url: string;
  /** 200 (or another 2xx, such as 206 for a ranged request), or 304. */
  status: number;
  notModified: boolean;
  bytes: Buffer;
  contentType: string | null;
  /** On a 304 without validators, the ones sent, so the caller can store them again. */
  etag: string | null;
  lastModified: string | null;
  /** Whether the body was cut at maxBytes (only with `truncate`). */
  truncated: boolean;
  headers: Headers;
}

/** Why an upstream request failed; `retryable` says whether a later run may succeed where this one did not. */
export class FetchError extends Error {
  override readonly name = 'FetchError';

  constructor(message: string, readonly url: string, readonly status: number | null, readonly retryable: boolean) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
const DEFAULT_RETRIES = 2;
const DEFAULT_BACKOFF_MS = 500;
const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin (fetch drops these itself, but redirects here are manual). */
const CREDENTIALS = ['authorization', 'proxy-authorization', 'cookie'];
/** Feeds first, then HTML for website sources, then anything: an upstream that only knows one type still answers. */
const ACCEPT = 'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, '
  + 'application/json;q=0.8, text/html;q=0.8, */*;q=0.5';

/** One attempt's failure, before the retry loop decides whether to try again. */
class AttemptFailure extends Error {
  constructor(message: string, readonly status: number | null, readonly retryable: boolean, readonly retryAfterMs: number | null = null) {
    super(message);
  }
}

interface Attempt {
  readonly url: string;
  readonly method: 'GET' | 'HEAD';
  readonly headers: Headers;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly truncate: boolean;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly signal: AbortSignal | undefined;
  readonly fetch: typeof globalThis.fetch;
}

/**
 * Fetches one upstream URL: conditional, bounded in time and size, following redirects only to http(s),
 * retrying transient failures with exponential backoff (or the server's Retry-After).
 */
export async function fetchUpstream(url: string, options: FetchOptions): Promise<FetchResult> {
  const method = options.method ?? 'GET';
  const retries = options.retries ?? DEFAULT_RETRIES;
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  let start: URL;
  try {
    start = new URL(url);
  } catch {
    throw new FetchError(`${method} ${url}: not a valid URL`, url, null, false);
  }
  if (start.protocol !== 'http:' && start.protocol !== 'https:') {
    throw new FetchError(`${method} ${url}: only http and https URLs are fetched, not ${start.protocol}`, url, null, false);
  }

  const headers = new Headers(options.headers);
  if (!headers.has('accept')) headers.set('accept', ACCEPT);
  headers.set('user-agent', options.userAgent);
  if (options.etag) headers.set('if-none-match', options.etag);
  if (options.lastModified) headers.set('if-modified-since', options.lastModified);
  const attempt: Attempt = {
    url: start.href, method, headers,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
    truncate: options.truncate ?? false,
    etag: options.etag ?? null,
    lastModified: options.lastModified ?? null,
    signal: options.signal,
    fetch: options.fetch ?? globalThis.fetch,
  };

  for (let count = 1; ; count++) {
    try {
      return await fetchOnce(attempt);
    } catch (error) {
      if (!(error instanceof AttemptFailure)) throw error;
      const after = count > 1 ? ` after ${count} attempts` : '';
      if (!error.retryable || count > retries) {
        throw new FetchError(`${method} ${url}: ${error.message}${after}`, url, error.status, error.retryable);
      }
      if (error.retryAfterMs !== null && error.retryAfterMs > maxRetryAfterMs) {
        throw new FetchError(
          `${method} ${url}: ${error.message} with Retry-After ${Math.ceil(error.retryAfterMs / 1000)} s, `
            + `longer than the ${Math.ceil(maxRetryAfterMs / 1000)} s waited for${after}`,
          url, error.status, true,
        );
      }
      try {
        await sleep(error.retryAfterMs ?? backoffMs * 2 ** (count - 1), undefined, { signal: options.signal });
      } catch {
        throw new FetchError(`${method} ${url}: cancelled${after}`, url, error.status, false);
      }
    }
  }
}

/** One attempt: the redirect chain and the body, all under one deadline. */
async function fetchOnce(attempt: Attempt): Promise<FetchResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, attempt.timeoutMs);
  const cancel = () => controller.abort();
  attempt.signal?.addEventListener('abort', cancel, { once: true });
  // The abort surfaces as an AbortError from fetch or from the body stream; the flags say whether it was the deadline or a cancel.
  const failed = (what: string, error: unknown, status: number | null) => {
    if (attempt.signal?.aborted) return new AttemptFailure('cancelled', status, false);
    if (timedOut) return new AttemptFailure(`timed out after ${attempt.timeoutMs} ms`, status, true);
    // An address the filter refuses stays refused: no retry.
    const refused = addressRefusal(error);
    return new AttemptFailure(`${what} (${refused ? refused.message : describeError(error)})`, status, !refused);
  };

  try {
    if (attempt.signal?.aborted) throw failed('request not sent', attempt.signal.reason, null);
    const visited = [attempt.url];
    let headers = attempt.headers;
    for (;;) {
      const current = visited[visited.length - 1]!;
      const at = current === attempt.url ? '' : ` at ${current}`;
      let response: Response;
      try {
        response = await attempt.fetch(current, { method: attempt.method, headers, redirect: 'manual', signal: controller.signal });
      } catch (error) {
        throw failed(`request failed${at}`, error, null);
      }
      const { status } = response;

      if (REDIRECTS.has(status)) {
        await discard(response);
        const next = redirectTarget(response, current, visited);
        if (new URL(next).origin !== new URL(current).origin) {
          headers = new Headers(headers);
          for (const name of CREDENTIALS) headers.delete(name);
        }
        visited.push(next);
        continue;
      }

      if (status === 304) {
        await discard(response);
        return {
          url: current, status, notModified: true, bytes: Buffer.alloc(0),
          contentType: response.headers.get('content-type'),
          etag: response.headers.get('etag') ?? attempt.etag,
          lastModified: response.headers.get('last-modified') ?? attempt.lastModified,
          truncated: false,
          headers: response.headers,
        };
      }

      if (status < 200 || status > 299) {
        await discard(response);
        const retryAfter = status === 429 || status === 503 ? retryAfterMs(response.headers.get('retry-after')) : null;
        throw new AttemptFailure(`HTTP ${status}${at}`, status, status === 429 || status >= 500, retryAfter);
      }

      let body: Body;
      try {
        body = await readBody(response, attempt);
      } catch (error) {
        if (error instanceof AttemptFailure) throw error;
        throw failed(`body incomplete${at}`, error, status);
      }
      return {
        url: current, status, notModified: false, bytes: body.bytes,
        contentType: response.headers.get('content-type'),
        etag: response.headers.get('etag'),
        lastModified: response.headers.get('last-modified'),
        truncated: body.truncated,
        headers: response.headers,
      };
    }
  } finally {
    clearTimeout(timer);
    attempt.signal?.removeEventListener('abort', cancel);
  }
}

/** The next URL of a redirect chain, or why the chain stops here. */
function redirectTarget(response: Response, current: string, visited: readonly string[]): string {
  const { status } = response;
  const location = response.headers.get('location');
  if (location === null) throw new AttemptFailure(`HTTP ${status} redirect without a Location header from ${current}`, status, false);
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new AttemptFailure(`HTTP ${status} redirect to an invalid URL "${location}" from ${current}`, status, false);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new AttemptFailure(`redirect to ${next.href} refused: only http and https are followed`, status, false);
  }
  // The fragment never reaches the server, so it must not make a loop look like progress.
  next.hash = '';
  if (visited.includes(next.href)) {
    throw new AttemptFailure(`redirect loop: ${[...visited, next.href].join(' -> ')}`, status, false);
  }
  if (visited.length > MAX_REDIRECTS) {
    throw new AttemptFailure(`more than ${MAX_REDIRECTS} redirects (the next to ${next.href})`, status, false);
  }
  return next.href;
}

interface Body {
  readonly bytes: Buffer;
  readonly truncated: boolean;
}

/** Reads the body up to maxBytes; beyond that, cancels the stream and fails, or with `truncate` keeps what fits. */
async function readBody(response: Response, { maxBytes, truncate }: Attempt): Promise<Body> {
  const tooLarge = (detail: string) => new AttemptFailure(`response larger than ${maxBytes} bytes${detail}`, response.status, false);
  const declared = response.headers.get('content-length');
  if (!truncate && declared !== null && Number(declared) > maxBytes) {
    await discard(response);
    throw tooLarge(` (Content-Length ${declared})`);
  }
  if (response.body === null) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks, total), truncated: false };
    if (total + value.byteLength > maxBytes) {
      // Cancelling closes the connection: the rest is never read.
      await reader.cancel();
      if (!truncate) throw tooLarge('');
      chunks.push(value.subarray(0, maxBytes - total));
      return { bytes: Buffer.concat(chunks, maxBytes), truncated: true };
    }
    total += value.byteLength;
    chunks.push(value);
  }
}

/** Drops a body that will not be read, so undici releases the connection instead of waiting for garbage collection. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** Retry-After in milliseconds from delta-seconds or an HTTP-date; null when absent or unreadable. */
function retryAfterMs(value: string | null): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** An error and its causes in one line: undici reports every network failure as "fetch failed" with the reason in `cause`. */
export function describeError(error: unknown): string {
  const messages: string[] = [];
  for (let current: unknown = error; current !== undefined && messages.length < 4; current = (current as { cause?: unknown }).cause) {
    messages.push(current instanceof Error ? current.message : String(current));
    if (!(current instanceof Error)) break;
  }
  return messages.join(': ');
}

/** Runs tasks with at most `concurrency` of them at once: the bound on parallel requests to one source. */
export function createLimiter(concurrency = 4): <T>(task: () => Promise<T>) => Promise<T> {
  const limit = pLimit(concurrency);
  return (task) => limit(task);
}

/** The charset parameter of a Content-Type header. */
function charsetParameter(contentType: string | null): string | undefined {
  return contentType?.match(/;\s*charset\s*=\s*"?([^";\s]+)/i)?.[1];
}

/** The encoding an XML declaration names (XHTML pages carry one too), canonical, or null. */
function prologEncoding(bytes: Buffer): string | null {
  const label = bytes.subarray(0, 256).toString('latin1').match(/^<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/)?.[1];
  if (label === undefined) return null;
  let encoding: string;
  try {
    encoding = new TextDecoder(label).encoding;
  } catch {
    return null;
  }
  // The declaration was just read as ASCII, so the bytes are not UTF-16 whatever it claims; HTML's prescan rules the same.
  return encoding.startsWith('utf-16') ? 'utf-8' : encoding;
}

/** Marks "nothing declared" for the sniffer, which returns its default unchanged. */
const UNDECLARED = '';

/** What windows-1252 (WHATWG index) makes of bytes 0x80-0x9F; the five bytes it leaves undefined stay C1 controls. */
const WINDOWS_1252_HIGH = '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F'
  + '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

/**
 * windows-1252 by hand: Node's TextDecoder (since 20.18.3 and 22.13.0, nodejs/node#60888) decodes it as ISO-8859-1,
 * turning the euro sign and typographic quotes into C1 controls.
 */
function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\u0080-\u009F]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

/** Decodes with an encoding the sniffer named; null for the two WHATWG names TextDecoder refuses ("replacement", "x-user-defined"). */
function decodeAs(bytes: Buffer, encoding: string): string | null {
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(encoding);
  } catch {
    return null;
  }
  return decoder.encoding === 'windows-1252' ? decodeWindows1252(bytes) : decoder.decode(bytes);
}

/**
 * Decodes an upstream document: the encoding comes from a BOM, the Content-Type charset, the `<meta>` prescan (HTML),
 * then the XML declaration; without a usable one, UTF-8, or windows-1252 when the bytes are not valid UTF-8.
 */
export function decodeText(bytes: Buffer, contentType: string | null, kind: 'html' | 'xml'): string {
  const options = { transportLayerEncodingLabel: charsetParameter(contentType), defaultEncoding: prologEncoding(bytes) ?? UNDECLARED };
  let encoding: string;
  try {
    encoding = sniffEncoding(bytes, { ...options, xml: kind === 'xml' });
  } catch {
    // The sniffer throws on a meta content attribute ending in "charset"; without its prescan, BOM and header still count.
    encoding = sniffEncoding(bytes, { ...options, xml: true });
  }
  const declared = encoding === UNDECLARED ? null : decodeAs(bytes, encoding);
  if (declared !== null) return declared;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Undeclared legacy pages (common on older German sites) are Latin-1 in practice; windows-1252 is its WHATWG superset.
    return decodeWindows1252(bytes);
  }
}

/** Herold's version, from the nearest package.json above this module (src/ingest/ in development, dist/src/ingest/ when built). */
const VERSION = ((): string => {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (require(file) as { version: string }).version;
    if (path.dirname(dir) === dir) throw new Error('package.json not found above src/ingest/fetch');
  }
})();

/** The User-Agent Herold sends upstream: its version and a URL where the operator can be found. */
export function userAgent(siteUrl: string): string {
  return `Herold/${VERSION} (+${siteUrl})`;
}
