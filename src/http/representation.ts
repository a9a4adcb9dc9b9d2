import { createHash } from 'node:crypto';
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
}

/** Builds a representation: the ETag is a hash of the bytes, so it is the same on every instance and restart. */
export function representation(body: string | Buffer, contentType: string, lastModified: Date | null): Representation {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const tag = createHash('sha256').update(bytes).digest('base64url').slice(0, 32);
  return { body: bytes, contentType, tag, lastModified };
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
function chooseCoding(req: Request): Coding {
  const header = req.headers['accept-encoding'];
  if (!header) return 'identity';
  const br = quality(header, 'br');
  const gzip = quality(header, 'gzip');
  if (br > 0 && br >= gzip) return 'br';
  if (gzip > 0) return 'gzip';
  return 'identity';
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

function notModified(req: Request, rep: Representation): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) return matchesTag(ifNoneMatch, rep.tag);
  const ifModifiedSince = req.headers['if-modified-since'];
  if (ifModifiedSince && rep.lastModified) {
    const since = Date.parse(ifModifiedSince);
    return Number.isFinite(since) && Math.floor(rep.lastModified.getTime() / 1000) * 1000 <= since;
  }
  return false;
}

/**
 * Answers GET and HEAD with a representation: validators, Cache-Control, content negotiation
 * of br/gzip with Vary, and 304 for If-None-Match (which wins) or If-Modified-Since.
 */
export function sendRepresentation(req: Request, res: Response, rep: Representation, cacheControl: string): void {
  const coding = chooseCoding(req);
  res.set('Vary', 'Accept-Encoding');
  res.set('Cache-Control', cacheControl);
  res.set('ETag', etagFor(rep.tag, coding));
  if (rep.lastModified) res.set('Last-Modified', rep.lastModified.toUTCString());
  if (notModified(req, rep)) {
    res.status(304).end();
    return;
  }
  const body = encoded(rep, coding);
  res.set('Content-Type', rep.contentType);
  if (coding !== 'identity') res.set('Content-Encoding', coding);
  res.set('Content-Length', String(body.length));
  if (req.method === 'HEAD') {
    res.status(200).end();
    return;
  }
  res.status(200).end(body);
}

/**
 * Keeps rendered representations until the data behind them change (the store's generation)
 * or an embargo lifts; least recently used entries go first when it is full.
 */
export class RepresentationCache {
  private readonly entries = new Map<string, Representation>();
  private generation = '';
  private validUntil = Infinity;

  constructor(private readonly capacity = 1000) {}

  /** Drops everything when the generation changed or `now` passed the expiry; returns whether it did. */
  revalidate(generation: string, now: number, nextExpiry: () => number): void {
    if (generation === this.generation && now < this.validUntil) return;
    this.entries.clear();
    this.generation = generation;
    this.validUntil = nextExpiry();
  }

  get(key: string): Representation | undefined {
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }

  set(key: string, rep: Representation): void {
    this.entries.set(key, rep);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The store's side of caching: what changes the data, and when the next embargo lifts. */
export interface CacheSource {
  generation(): string;
  nextEmbargoLift(now: Date): string | null;
}

/** Optional observers of the cache (metrics): told the key of each hit and miss. */
export interface CacheHooks {
  readonly hit?: (key: string) => void;
  readonly miss?: (key: string) => void;
}

/**
 * Serves derived documents from one cache: a hit costs no query, no render and no compression;
 * any write to the data, or the lifting of an embargo, drops every entry.
 */
export function createCachedResponder(source: CacheSource, clock: () => Date, capacity = 1000, hooks: CacheHooks = {}) {
  const cache = new RepresentationCache(capacity);
  return function respond(req: Request, res: Response, key: string, cacheControl: string, build: (now: Date) => Representation): void {
    const now = clock();
    cache.revalidate(source.generation(), now.getTime(), () => {
      const next = source.nextEmbargoLift(now);
      return next ? Date.parse(next) : Infinity;
    });
    let rep = cache.get(key);
    if (rep) hooks.hit?.(key);
    else {
      hooks.miss?.(key);
      rep = build(now);
      cache.set(key, rep);
    }
    sendRepresentation(req, res, rep, cacheControl);
  };
}

/** Answers a request from the cache, building the representation on a miss. */
export type CachedResponder = ReturnType<typeof createCachedResponder>;
