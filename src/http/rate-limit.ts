import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import { matchesAnyToken } from '../api/auth.js';
import type { Config } from '../config.js';
import { HttpError, sendProblem } from './errors.js';
import type { Logger } from './log.js';

/** The window of every limit. */
const WINDOW_MS = 60_000;

/** How many times the per-address API limit a caller with a valid API or admin token gets, in a bucket of its own. */
const TOKEN_FACTOR = 10;

/** The limiters: `api` per address, `author` per valid bearer token (authoring and operations API), `search` per address. */
export type LimiterName = 'api' | 'author' | 'search';

export interface RateLimitDeps {
  readonly logger: Logger;
  /** Called for every request answered 429. */
  readonly onLimited?: (limiter: LimiterName) => void;
}

/** The client's address (the forwarded one when `trust proxy` says so); IPv6 clients are grouped by /56. */
function addressKey(req: Request): string {
  return ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? 'unknown');
}

/** The bearer token when it is one of the API tokens or the admin token, else null. */
function validToken(req: Request, tokens: readonly string[]): string | null {
  const header = req.headers.authorization;
  if (header === undefined || tokens.length === 0) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match && matchesAnyToken(match[1]!, tokens) ? match[1]! : null;
}

/** One limit: its name, its count per window, whose bucket a request counts in, the counts, and the middleware. */
interface Limiter {
  readonly name: LimiterName;
  readonly limit: number;
  readonly key: (req: Request) => string;
  /** Shared by the middleware and the cached-hit path (probe), so that a client's requests count once, whichever way they go. */
  readonly store: MemoryStore;
  readonly middleware: RateLimitRequestHandler;
  /** RateLimit-Policy's partition key of each bucket key, as express-rate-limit makes it (a hash), made once per key. */
  readonly partitionKeys: Map<string, string>;
}

function limiter(name: LimiterName, limit: number, what: string, key: (req: Request) => string, deps: RateLimitDeps): Limiter {
  const store = new MemoryStore();
  const middleware = rateLimit({
    windowMs: WINDOW_MS,
    limit,
    // IETF draft 8: `RateLimit: "api"; r=…; t=…` and `RateLimit-Policy: "api"; q=…; w=60; pk=…`.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: name,
    keyGenerator: (req) => key(req),
    store,
    logger: deps.logger,
    handler: (req, res) => {
      deps.onLimited?.(name);
      const retry = String(res.getHeader('Retry-After') ?? Math.ceil(WINDOW_MS / 1000));
      sendProblem(req, res, new HttpError(429, 'Too Many Requests',
        `More than ${limit} requests per minute ${what}; try again in ${retry} s.`, { limit, window_seconds: WINDOW_MS / 1000 }));
    },
  });
  return { name, limit, key, store, middleware, partitionKeys: new Map() };
}

/** express-rate-limit's partition key (draft 8's `pk`): the first 12 hex digits of the key's SHA-256, in base64. */
function partitionKey(limiter: Limiter, key: string): string {
  let found = limiter.partitionKeys.get(key);
  if (found === undefined) {
    found = Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
    if (limiter.partitionKeys.size >= 10_000) limiter.partitionKeys.clear();
    limiter.partitionKeys.set(key, found);
  }
  return found;
}

/**
 * The rate limits, per minute (config.rateLimits; 0 disables one): `/api/v1/*` per client address, or per
 * token for callers with a valid API or admin token (TOKEN_FACTOR times the limit); `/search` and every
 * feed asked with `?q=` per client address. Answers 429 problem JSON with Retry-After and the RateLimit
 * headers. Paths compare as Express routes them: case-insensitive, with or without a trailing slash.
 */
export function rateLimits(config: Config, deps: RateLimitDeps) {
  const { apiPerMinute, searchPerMinute } = config.rateLimits;
  const tokens = [...config.apiTokens, ...(config.adminToken ? [config.adminToken] : [])];
  const api = apiPerMinute > 0 ? limiter('api', apiPerMinute, 'on the API from this address', addressKey, deps) : null;
  // The valid token of a request bound for the token bucket, found once by limiterOf below.
  const tokenOf = new WeakMap<Request, string>();
  const author = apiPerMinute > 0
    ? limiter('author', apiPerMinute * TOKEN_FACTOR, 'on the API with this token',
      (req) => `token:${createHash('sha256').update(tokenOf.get(req) ?? '').digest('hex').slice(0, 32)}`, deps)
    : null;
  const search = searchPerMinute > 0 ? limiter('search', searchPerMinute, 'of search from this address', addressKey, deps) : null;

  /** The limit a request counts against, or null; for the token bucket, its token is remembered for the key. */
  const limiterOf = (req: Request): Limiter | null => {
    const path = req.path.toLowerCase();
    if (api && author && path.startsWith('/api/v1/')) {
      const token = validToken(req, tokens);
      if (!token) return api;
      tokenOf.set(req, token);
      return author;
    }
    if (search && (path === '/search' || path === '/search/' || (path.startsWith('/feeds/') && req.query.q !== undefined))) return search;
    return null;
  };

  const middleware = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const chosen = limiterOf(req);
    if (chosen) await chosen.middleware(req, res, next);
    else next();
  };

  /**
   * Applies the limits to a request that does not go through the router (app.ts, a cached hit of
   * search or the headlines API), as the middleware does, without its work per request that only
   * the router's answer needs: counts the request in the limit's store, and returns the RateLimit
   * header fields the middleware sets (draft 8, flat as writeHead takes them), or null when the
   * request is over its limit. A refused request then goes to the router, whose limiter counts it
   * again (it is over the limit either way: the client sees the same) and answers the 429. A failing
   * store rejects, and the caller hands the request to the router. `req` is an Express request of its own.
   */
  async function probe(req: Request): Promise<string[] | null> {
    const chosen = limiterOf(req);
    if (!chosen) return [];
    const key = chosen.key(req);
    const { totalHits, resetTime } = await chosen.store.increment(key);
    if (totalHits > chosen.limit) return null;
    const resetSeconds = resetTime ? Math.max(0, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : WINDOW_MS / 1000;
    return [
      'RateLimit', `"${chosen.name}"; r=${Math.max(chosen.limit - totalHits, 0)}; t=${resetSeconds}`,
      'RateLimit-Policy', `"${chosen.name}"; q=${chosen.limit}; w=${WINDOW_MS / 1000}; pk=:${partitionKey(chosen, key)}:`,
    ];
  }

  return Object.assign(middleware, { probe });
}
