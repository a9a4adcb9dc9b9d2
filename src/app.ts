import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import express, { type Express, type Request, type Response } from 'express';
import { startTime } from 'pino-http';
import type { Config } from './config.js';
import type { Store } from './db/store.js';
import { listFeeds, renderOpml } from './feeds/directory.js';
import { createFeedHandler, parseFeedFile } from './feeds/handler.js';
import { requireBearer } from './api/auth.js';
import { createSourcesApi } from './api/sources.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { securityHeaders } from './http/security.js';
import { createCachedResponder, representation } from './http/representation.js';
import { embedRoutes, headlinesOpenToAllOrigins } from './embed/routes.js';
import { listRoutes } from './pages/list-routes.js';
import { renderFeedsPage } from './pages/feeds-page.js';
import { releaseRoutes } from './pages/release-routes.js';
import { releasesApi } from './api/releases.js';
import { statusRoutes } from './pages/status-routes.js';
import { embargoedFeedRoutes } from './feeds/embargoed.js';
import { websubRoutes } from './websub/routes.js';
import type { WebSub } from './websub/hub.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { incomingRequestId, lineLogger, logRequest, requestLogging, type Logger } from './http/log.js';
import { rateLimits } from './http/rate-limit.js';

/** What the app needs from outside; tests pass their own clock and log. */
export interface AppDeps {
  readonly config: Config;
  readonly store: Store;
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
  /** When the scheduler runs, the next run of each source for the sources API. */
  readonly nextRun?: (sourceId: string) => Date | null;
  /** Herold's own WebSub hub (see startWebSub); without it, POST /websub answers 503. */
  readonly websub?: WebSub;
  /** The Prometheus registry and instruments; serve passes its own so scheduler runs are counted too. */
  readonly metrics?: Metrics;
  /** Cancels source refreshes asked for through the API (serve passes the scheduler's, aborted at shutdown). */
  readonly refreshSignal?: AbortSignal;
  /** The service's logger (request lines, errors with stacks); without it, errors go to `log` as JSON lines. */
  readonly logger?: Logger;
}

/** Builds the Express app: the route table of DESIGN.md, one 404 and one error handler. Does not listen. */
export function createApp(deps: AppDeps) {
  return createHerold(deps).app;
}

/**
 * Builds the Express app and the service's request listener. The listener answers a cached hit of a
 * route that allows it (feeds, lists, release pages, embeds: see createCachedResponder) before
 * Express, with the headers that route set, its own request id, metrics and a log line at debug level;
 * search and the headlines API after the client's rate limit, counted in the router's limiters' own counts.
 * Everything else goes to the app. Express costs some 150–250 µs per request; a cached feed hit
 * costs a few µs this way.
 */
export function createHerold({ config, store, clock = () => new Date(), log = (line) => console.error(line), nextRun = () => null, websub, metrics = createMetrics(), logger = lineLogger(log), refreshSignal }: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(securityHeaders);
  app.use(metrics.middleware);
  // Every answer carries X-Request-Id and is logged once; errors are logged with the request's id.
  app.use(requestLogging(logger));
  // Behind a proxy or caching front, the client address is the forwarded one (rate limits, logs).
  if (config.trustProxy !== null) app.set('trust proxy', config.trustProxy);
  const limits = rateLimits(config, { logger, onLimited: metrics.recordRateLimited });
  app.use('/api/v1/headlines', headlinesOpenToAllOrigins);
  app.use(limits);
  metrics.observeStore(store, clock);
  app.get('/metrics', metrics.handler);

  const respond = createCachedResponder(store, clock, 1000, metrics.cacheHooks);
  const serveFeed = createFeedHandler(config, store, respond);
  const pageCache = `public, max-age=${config.feedMaxAge}`;

  app.get('/feeds/all.:format', (req: Request, res: Response) => {
    serveFeed(req, res, { kind: 'all' }, parseFeedFile(`all.${req.params.format}`).format);
  });
  app.get('/feeds/topics/:file', (req: Request, res: Response) => {
    const { slug, format } = parseFeedFile(String(req.params.file));
    serveFeed(req, res, { kind: 'topic', slug }, format);
  });
  app.get('/feeds/departments/:file', (req: Request, res: Response) => {
    const { slug, format } = parseFeedFile(String(req.params.file));
    serveFeed(req, res, { kind: 'department', slug }, format);
  });
  app.get('/feeds', (req: Request, res: Response) => {
    respond(req, res, 'page:/feeds', pageCache, (now) =>
      representation(renderFeedsPage(config, listFeeds(config, store, now)), 'text/html; charset=utf-8', null), { fast: true });
  });
  app.get('/feeds.opml', (req: Request, res: Response) => {
    respond(req, res, 'opml', pageCache, (now) => {
      const newest = store.stats(now).newest;
      const updated = new Date(newest ?? '2000-01-01T00:00:00Z');
      return representation(renderOpml(config, listFeeds(config, store, now), updated), 'text/x-opml; charset=utf-8', newest ? updated : null);
    }, { fast: true });
  });

  app.get('/healthz', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    try {
      const now = clock();
      store.ping();
      const { count, newest } = store.stats(now);
      // Upstream freshness: a failing source does not make Herold unready (it serves what it has), but shows here.
      const upstreams = config.sources.map((source) => {
        const state = store.sourceState(source.id);
        return {
          id: source.id,
          last_success_at: state?.lastSuccessAt ?? null,
          consecutive_errors: state?.consecutiveErrors ?? 0,
          last_error: state?.consecutiveErrors ? state.lastError : null,
        };
      });
      res.json({ status: 'ok', database: 'ok', releases: count, newest_release: newest, upstreams, checked_at: now.toISOString() });
    } catch (error) {
      log(`healthz: database not reachable: ${(error as Error).message}`);
      res.status(503).json({ status: 'unavailable', database: 'unreachable', detail: (error as Error).message });
    }
  });

  const pages = { config, store, respond, clock };
  // /, /topics/{topic}, /departments/{department}, /search
  app.use(listRoutes(pages));
  // /releases/{slug}, /releases/{slug}/contact.vcf
  app.use(releaseRoutes(pages));
  // /embed.js, /embed/headlines, /api/v1/headlines, /oembed, /sitemap.xml, /news-sitemap.xml, /robots.txt
  app.use(embedRoutes(pages));
  // /api/v1/releases[/{id}], /api/v1/openapi.json
  app.use(releasesApi(pages));
  // /websub (the hub)
  app.use(websubRoutes(pages, websub));
  // /status, /status.json
  app.use(statusRoutes(pages));
  // /feeds/embargoed.{rss,atom,json}?token=… (journalists with a press token)
  app.use(embargoedFeedRoutes(pages));

  const sources = createSourcesApi(config, store, { config, store, clock, log, onReport: metrics.recordRefresh, signal: refreshSignal }, nextRun);
  app.get('/api/v1/sources', sources.list);
  app.post('/api/v1/sources/:id/refresh', requireBearer(config.adminToken), sources.refresh);

  app.use('/media', express.static(config.mediaDir, { maxAge: '7d', index: false, dotfiles: 'ignore', fallthrough: true }));

  app.use(notFoundHandler);
  app.use(errorHandler());

  /**
   * An Express request standing for node's, for the rate limit of a cached hit: a new object on the app's
   * request, as changing the prototype of node's own (what app.handle does) is slow in V8.
   */
  const limitRequest = (req: IncomingMessage): Request => Object.assign(Object.create(app.request) as Request, {
    headers: req.headers, method: req.method, url: req.url, originalUrl: req.url, socket: req.socket,
  });

  /** Counts, times and logs a request answered from the cache. */
  const answered = (req: IncomingMessage, res: ServerResponse, started: number, id: string): void => {
    const ms = performance.now() - started;
    const query = req.url!.indexOf('?');
    metrics.observe(req.method!, query === -1 ? req.url! : req.url!.slice(0, query), res.statusCode, ms / 1000);
    // The bulk of the traffic (readers polling): counted in /metrics, logged at debug, as a caching front would log it.
    if (logger.isLevelEnabled('debug')) logRequest(logger, { id, method: req.method!, url: req.url!, status: res.statusCode, ms, remote: req.socket.remoteAddress }, 'debug');
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const hit = respond.cachedHit(req);
    if (!hit) {
      app(req, res);
      return;
    }
    const id = incomingRequestId(req);
    if (!hit.route.rateLimited) {
      respond.sendHit(req, res, hit, id);
      answered(req, res, started, id);
      return;
    }
    // Search and the headlines API: the client's rate limit first, counted where the router's limiters count; a
    // request over its limit goes to the router, which answers the 429 (and logs it), as it does when counting fails.
    limits.probe(limitRequest(req)).then((fields) => {
      if (fields === null) app(req, res);
      else {
        respond.sendHit(req, res, hit, id, fields);
        answered(req, res, started, id);
      }
    }, () => app(req, res));
  };
  return { app, listener, messages: expressMessages(app) };
}

/**
 * node's request and response classes for the server, whose instances are born in the shape the router
 * leaves them in. Express gives every request it routes the app's prototypes, and the router, the
 * request log (pino-http) and the rate limits (express-rate-limit) add properties to the request and
 * the response. In V8 an object whose prototype changes, or that gains a property, changes its map
 * (hidden class), so node's HTTP code, which also writes every cached hit, would meet several kinds of
 * request and response once the router has answered anything, and run some 10 % slower on all of
 * them. Born with the prototypes and those properties (undefined, as when absent), every request and
 * response has one map: Express's change of prototype changes nothing, and its properties are set in
 * place. tests/http/one-shape.test.ts checks that the list is whole.
 */
function expressMessages(app: Express): { IncomingMessage: typeof IncomingMessage; ServerResponse: typeof ServerResponse } {
  class HeroldRequest extends IncomingMessage {
    constructor(socket: Socket) {
      super(socket);
      const fields = this as unknown as Record<string, undefined>;
      fields.res = undefined;
      fields.next = undefined;
      fields.baseUrl = undefined;
      fields.originalUrl = undefined;
      fields._parsedUrl = undefined;
      fields.params = undefined;
      fields.id = undefined;
      fields.log = undefined;
      fields.allLogs = undefined;
      fields.rateLimit = undefined;
      fields.route = undefined;
    }
  }
  class HeroldResponse extends ServerResponse {
    constructor(req: IncomingMessage) {
      super(req);
      const fields = this as unknown as Record<string | symbol, unknown>;
      // Inherited from node's prototype until writeHead or the router sets them, in either order.
      fields.statusCode = 200;
      fields.statusMessage = undefined;
      fields.locals = undefined;
      fields.log = undefined;
      fields.allLogs = undefined;
      fields[startTime] = undefined;
    }
  }
  Object.setPrototypeOf(HeroldRequest.prototype, app.request);
  Object.setPrototypeOf(HeroldResponse.prototype, app.response);
  // What Express sets as the prototypes of what it routes (app.handle): the classes' own, which inherit the app's.
  app.request = HeroldRequest.prototype as unknown as Request;
  app.response = HeroldResponse.prototype as unknown as Response;
  return { IncomingMessage: HeroldRequest, ServerResponse: HeroldResponse as typeof ServerResponse };
}
