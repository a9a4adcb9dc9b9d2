import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
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

/**
 * Stands in for the response when the limits are applied to a request answered before the router
 * (app.ts, a cached hit of search or the headlines API): records the header fields the limiter sets
 * (what express-rate-limit uses of a response, less what only its own handler uses), and whether it
 * refused the request. A refused request then goes to the router, whose limiter counts
 * it again (it is over the limit either way: the client sees the same) and answers the 429.
 */
class LimitProbe {
  readonly headersSent = false;
  refused = false;
  readonly fields: string[] = [];

  setHeader(name: string, value: string | number): this {
    this.fields.push(name, String(value));
    return this;
  }

  append(name: string, value: string): this {
    return this.setHeader(name, value);
  }
}

function limiter(name: LimiterName, limit: number, what: string, key: (req: Request) => string, deps: RateLimitDeps): RateLimitRequestHandler {
  return rateLimit({
    windowMs: WINDOW_MS,
    limit,
    // IETF draft 8: `RateLimit: "api"; r=…; t=…` and `RateLimit-Policy: "api"; q=…; w=60; pk=…`.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: name,
    keyGenerator: (req) => key(req),
    logger: deps.logger,
    handler: (req, res) => {
      if ((res as unknown) instanceof LimitProbe) {
        (res as unknown as LimitProbe).refused = true;
        return;
      }
      deps.onLimited?.(name);
      const retry = String(res.getHeader('Retry-After') ?? Math.ceil(WINDOW_MS / 1000));
      sendProblem(req, res, new HttpError(429, 'Too Many Requests',
        `More than ${limit} requests per minute ${what}; try again in ${retry} s.`, { limit, window_seconds: WINDOW_MS / 1000 }));
    },
  });
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
  // The valid token of a request bound for the token bucket, found once by the dispatcher below.
  const tokenOf = new WeakMap<Request, string>();
  const author = apiPerMinute > 0
    ? limiter('author', apiPerMinute * TOKEN_FACTOR, 'on the API with this token',
      (req) => `token:${createHash('sha256').update(tokenOf.get(req) ?? '').digest('hex').slice(0, 32)}`, deps)
    : null;
  const search = searchPerMinute > 0 ? limiter('search', searchPerMinute, 'of search from this address', addressKey, deps) : null;

  const middleware = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const path = req.path.toLowerCase();
    if (api && author && path.startsWith('/api/v1/')) {
      const token = validToken(req, tokens);
      if (token) tokenOf.set(req, token);
      await (token ? author : api)(req, res, next);
    } else if (search && (path === '/search' || path === '/search/' || (path.startsWith('/feeds/') && req.query.q !== undefined))) {
      await search(req, res, next);
    } else {
      next();
    }
  };

  /**
   * Applies the limits to a request that does not go through the router (see LimitProbe): the
   * RateLimit header fields to answer with, flat as writeHead takes them, or null when the request
   * is over its limit (or the limiter failed) and the router must answer it. `req` is an Express
   * request of its own.
   */
  async function probe(req: Request): Promise<string[] | null> {
    const recorder = new LimitProbe();
    let failed = false;
    // The limiter passes an error on (a failing store) to next: the router then answers as it would.
    await middleware(req, recorder as unknown as Response, (error?: unknown) => { failed = error !== undefined; });
    return recorder.refused || failed ? null : recorder.fields;
  }

  return Object.assign(middleware, { probe });
}
