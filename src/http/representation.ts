import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';

/** A rendered response body with its validators; compressed forms are made once, on first demand. */
export interface Representation {
  readonly body: Buffer;
  readonly contentType: string;
  /** The strong validator of the identity body, without quotes. */
  readonly tag: string;
  readonly lastModified: Date | null;
  gzip?: Buffer;
  br?: Buffer;
  /** The header fields of each kind of answer per Cache-Control, made on first demand (see answerSlot). */
  heads?: Map<string, Array<string[] | undefined>>;
  /** The quoted ETags of the three codings (identity, gzip, br), made on first demand. */
  etags?: readonly string[];
}

/**
 * Builds a representation: the ETag is a hash of the bytes, so it is the same on every instance and
 * restart. The members made on demand are there from the start, so that every representation has one
 * shape and the code answering cached hits stays specialised to it, whatever mix of routes it serves.
 */
export function representation(body: string | Buffer, contentType: string, lastModified: Date | null): Representation {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const tag = createHash('sha256').update(bytes).digest('base64url').slice(0, 32);
  return { body: bytes, contentType, tag, lastModified, gzip: undefined, br: undefined, heads: undefined, etags: undefined };
}

type Coding = 'br' | 'gzip' | 'identity';

/** The q-value the Accept-Encoding header gives a coding (RFC 9110 12.5.3), 0 when not acceptable. */
function quality(header: string, coding: string): number {
  let wildcard: number | null = null;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    const value = Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0;
    if (name.trim() === coding) return value;
    if (name.trim() === '*') wildcard = value;
  }
  return wildcard ?? 0;
}

/** Brotli, then gzip, whichever the client rates higher; brotli wins a tie (it is smaller). */
function codingOf(header: string): Coding {
  const br = quality(header, 'br');
  const gzip = quality(header, 'gzip');
  if (br > 0 && br >= gzip) return 'br';
  if (gzip > 0) return 'gzip';
  return 'identity';
}

/** The choice for each Accept-Encoding value seen (clients send few different ones), at most 200 kept. */
const codings = new Map<string, Coding>();

function chooseCoding(req: IncomingMessage): Coding {
  const header = req.headers['accept-encoding'];
  if (!header) return 'identity';
  let coding = codings.get(header);
  if (coding === undefined) {
    coding = codingOf(header);
    if (codings.size >= 200) codings.clear();
    codings.set(header, coding);
  }
  return coding;
}

function encoded(rep: Representation, coding: Coding): Buffer {
  if (coding === 'br') {
    rep.br ??= brotliCompressSync(rep.body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: rep.body.length },
    });
    return rep.br;
  }
  if (coding === 'gzip') {
    rep.gzip ??= gzipSync(rep.body, { level: 9 });
    return rep.gzip;
  }
  return rep.body;
}

/** Each content coding is a different byte sequence, so each gets its own strong ETag. */
function etagFor(tag: string, coding: Coding): string {
  return coding === 'identity' ? `"${tag}"` : `"${tag}-${coding}"`;
}

function matchesTag(header: string, tag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((candidate) => {
    const opaque = candidate.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return opaque === tag || opaque === `${tag}-gzip` || opaque === `${tag}-br`;
  });
}

function notModified(req: IncomingMessage, rep: Representation): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    // Most revalidations send back the one ETag they were given.
    const etags = (rep.etags ??= CODINGS.map((coding) => etagFor(rep.tag, coding)));
    return ifNoneMatch === etags[0] || ifNoneMatch === etags[1] || ifNoneMatch === etags[2] || matchesTag(ifNoneMatch, rep.tag);
  }
  const ifModifiedSince = req.headers['if-modified-since'];
  if (ifModifiedSince && rep.lastModified) {
    const since = Date.parse(ifModifiedSince);
    return Number.isFinite(since) && Math.floor(rep.lastModified.getTime() / 1000) * 1000 <= since;
  }
  return false;
}

const CODINGS: readonly Coding[] = ['identity', 'gzip', 'br'];

/** The kinds of answer to a request (coding, 200 or 304), numbered 0–5 for the arrays that keep header fields. */
function answerSlot(coding: Coding, status: 200 | 304): number {
  return CODINGS.indexOf(coding) * 2 + (status === 304 ? 1 : 0);
}

/**
 * The header fields of a representation's answer in one coding, 200 or 304, as a flat list for
 * writeHead: made once per representation and kind of answer (they are the same every time). A 304
 * carries what a cache updates its copy with (Cache-Control, ETag, Vary) and no representation
 * metadata, Last-Modified included: the ETag validates (RFC 9110 15.4.5).
 */
function headFor(rep: Representation, coding: Coding, cacheControl: string, status: 200 | 304): string[] {
  let heads = rep.heads?.get(cacheControl);
  if (!heads) {
    heads = [];
    (rep.heads ??= new Map()).set(cacheControl, heads);
  }
  const slot = answerSlot(coding, status);
  let head = heads[slot];
  if (!head) {
    head = ['Vary', 'Accept-Encoding', 'Cache-Control', cacheControl, 'ETag', etagFor(rep.tag, coding)];
    if (status === 200) {
      if (rep.lastModified) head.push('Last-Modified', rep.lastModified.toUTCString());
      head.push('Content-Type', rep.contentType);
      if (coding !== 'identity') head.push('Content-Encoding', coding);
      head.push('Content-Length', String(encoded(rep, coding).length));
    }
    heads[slot] = head;
  }
  return head;
}

/** Writes the answer: the status, the header fields, and the body in its coding unless it is a 304 or HEAD. */
function writeAnswer(req: IncomingMessage, res: ServerResponse, rep: Representation, coding: Coding, status: 200 | 304, fields: readonly string[]): void {
  res.writeHead(status, fields as string[]);
  res.end(status === 304 || req.method === 'HEAD' ? undefined : encoded(rep, coding));
}

/**
 * Answers GET and HEAD with a representation: validators, Cache-Control, content negotiation
 * of br/gzip with Vary, and 304 for If-None-Match (which wins) or If-Modified-Since. Written on
 * node's own response, so that the router and the cached-hit path (sendHit) share it.
 */
export function sendRepresentation(req: IncomingMessage, res: ServerResponse, rep: Representation, cacheControl: string): void {
  const coding = chooseCoding(req);
  const status = notModified(req, rep) ? 304 : 200;
  writeAnswer(req, res, rep, coding, status, headFor(rep, coding, cacheControl, status));
}

/**
 * Keeps rendered representations until the data behind them change (the store's generation)
 * or an embargo lifts. When it is full, the oldest entry not read since it was last passed over goes
 * first (second chance, an approximation of least recently used): a read only marks its entry, where
 * moving it to the end of the order would cost two changes of the map on every cached hit.
 */
export class RepresentationCache {
  private readonly entries = new Map<string, { readonly rep: Representation; used: boolean }>();
  private generation = '';
  private validUntil = Infinity;

  constructor(private readonly capacity = 1000) {}

  /** Drops everything when the generation changed or `now` passed the expiry; returns whether it did. */
  revalidate(generation: string, now: Date, nextExpiry: (now: Date) => number): boolean {
    if (generation === this.generation && now.getTime() < this.validUntil) return false;
    this.entries.clear();
    this.generation = generation;
    this.validUntil = nextExpiry(now);
    return true;
  }

  get(key: string): Representation | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    entry.used = true;
    return entry.rep;
  }

  /** Adds an entry; the entry added is passed over like one read (else, when every other one was, it would go first). */
  set(key: string, rep: Representation): void {
    this.entries.delete(key);
    this.entries.set(key, { rep, used: false });
    while (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value!;
      this.entries.delete(oldestKey);
      if (oldest.used || oldestKey === key) {
        oldest.used = false;
        this.entries.set(oldestKey, oldest);
      }
    }
  }
}

/** The store's side of caching: what changes the data, and when the next embargo lifts. */
export interface CacheSource {
  generation(): string;
  nextEmbargoLift(now: Date): string | null;
}

/** Optional observers of the cache (metrics): told the key of each hit and miss, and of each hit answered before the router. */
export interface CacheHooks {
  readonly hit?: (key: string) => void;
  readonly miss?: (key: string) => void;
  readonly direct?: (key: string) => void;
}

/** Node's OutgoingMessage#getRawHeaderNames (since 15.13), which its type declarations leave out. */
type WithRawNames = ServerResponse & { getRawHeaderNames(): string[] };

/** Header fields that belong to one request: its id, and the rate limit's count (set again for each request). */
const PER_REQUEST = new Set(['x-request-id', 'ratelimit', 'ratelimit-policy']);

/** A route's header fields as it set them (names as written, flat for writeHead), less those that belong to one request. */
function routeHeaders(res: ServerResponse): string[] {
  return (res as WithRawNames).getRawHeaderNames()
    .filter((name) => !PER_REQUEST.has(name.toLowerCase()))
    .flatMap((name) => {
      const value = res.getHeader(name)!;
      return Array.isArray(value) ? value.flatMap((one) => [name, one]) : [name, String(value)];
    });
}

/** What the cached-hit path keeps per URL: the cache key, Cache-Control, the route's own headers, and whether it is rate-limited. */
interface RememberedRoute {
  readonly key: string;
  readonly cacheControl: string;
  /** The route's header fields, a name with several values once per value: flat, as writeHead takes them. */
  readonly headers: readonly string[];
  readonly rateLimited: boolean;
  /** For the representation last sent: every header field of each kind of answer (answerSlot), the request id's value left empty. */
  answers?: { readonly rep: Representation; readonly fields: Array<string[] | undefined> };
}

/** A request the cache can answer without the router: the remembered route of its URL and the cached representation. */
export interface CachedHit {
  readonly route: RememberedRoute;
  readonly rep: Representation;
}

/**
 * Which routes' cached hits may skip the router: `true` when the answer depends on nothing but the
 * URL and the data; `'rate-limited'` when the client's rate limit must be applied first (search, the
 * read API), which the caller of cachedHit does before sendHit.
 */
export type FastPath = boolean | 'rate-limited';

/**
 * Serves derived documents from one cache: a hit costs no query, no render and no compression;
 * any write to the data, or the lifting of an embargo, drops every entry.
 *
 * A route may let its cached hits skip the router (`fast`, see FastPath): it has no per-request rules
 * but, for `'rate-limited'` routes, the rate limit. The URL is remembered with the cache key and the
 * headers the route set; `cachedHit` finds the next request for that exact URL and `sendHit` answers
 * it from the cache with the same headers and the same sendRepresentation. Whatever drops the cache
 * forgets the URLs too, so the first request after a change goes the whole way.
 */
export function createCachedResponder(source: CacheSource, clock: () => Date, capacity = 1000, hooks: CacheHooks = {}) {
  const cache = new RepresentationCache(capacity);
  const routes = new Map<string, RememberedRoute>();
  // The generation is read once per turn of the event loop (reading it is a system call): the requests
  // answered in one turn arrived together, and are answered as of its start.
  let generation: string | null = null;
  const currentGeneration = () => {
    if (generation === null) {
      generation = source.generation();
      setImmediate(() => { generation = null; });
    }
    return generation;
  };
  const nextExpiry = (now: Date) => {
    const next = source.nextEmbargoLift(now);
    return next ? Date.parse(next) : Infinity;
  };
  const revalidate = (now: Date) => {
    if (cache.revalidate(currentGeneration(), now, nextExpiry)) routes.clear();
  };

  function respond(req: Request, res: Response, key: string, cacheControl: string, build: (now: Date) => Representation,
    options: { readonly fast?: FastPath } = {}): void {
    const now = clock();
    revalidate(now);
    let rep = cache.get(key);
    if (rep) hooks.hit?.(key);
    else {
      hooks.miss?.(key);
      rep = build(now);
      cache.set(key, rep);
    }
    if (options.fast && (req.method === 'GET' || req.method === 'HEAD')) {
      routes.delete(req.originalUrl);
      routes.set(req.originalUrl, { key, cacheControl, headers: routeHeaders(res), rateLimited: options.fast === 'rate-limited', answers: undefined });
      if (routes.size > capacity) routes.delete(routes.keys().next().value!);
    }
    sendRepresentation(req, res, rep, cacheControl);
  }

  /** The cached answer of a GET or HEAD of a remembered URL, or null (nothing is written either way). */
  function cachedHit(req: IncomingMessage): CachedHit | null {
    if (req.method !== 'GET' && req.method !== 'HEAD') return null;
    const route = routes.get(req.url!);
    if (!route) return null;
    revalidate(clock());
    const rep = cache.get(route.key);
    return rep ? { route, rep } : null;
  }

  /**
   * Answers a request with a cached hit as sendRepresentation would, with the route's header fields,
   * `extra` ones, and `requestId` as X-Request-Id.
   */
  function sendHit(req: IncomingMessage, res: ServerResponse, hit: CachedHit, requestId: string, extra: readonly string[] = []): void {
    const { route, rep } = hit;
    hooks.hit?.(route.key);
    hooks.direct?.(route.key);
    const coding = chooseCoding(req);
    const status = notModified(req, rep) ? 304 : 200;
    if (route.answers?.rep !== rep) route.answers = { rep, fields: [] };
    const slot = answerSlot(coding, status);
    const all = (route.answers.fields[slot] ??= [...route.headers, ...headFor(rep, coding, route.cacheControl, status), 'X-Request-Id', '']);
    if (extra.length) {
      writeAnswer(req, res, rep, coding, status, [...all.slice(0, -2), ...extra, 'X-Request-Id', requestId]);
      return;
    }
    // The kept list itself, with this request's id in its last place: writeHead reads it before anything else runs.
    all[all.length - 1] = requestId;
    writeAnswer(req, res, rep, coding, status, all);
  }

  return Object.assign(respond, { cachedHit, sendHit });
}

/** Answers a request from the cache, building the representation on a miss. */
export type CachedResponder = ReturnType<typeof createCachedResponder>;
