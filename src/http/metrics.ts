import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../db/store.js';
import type { RefreshReport } from '../ingest/refresh.js';

/** The Prometheus text exposition format, as served at /metrics. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The small fixed set of route labels: never the raw URL, so the number of series stays bounded
 * whatever clients request.
 */
export function routeLabel(path: string): string {
  if (path === '/feeds' || path === '/feeds.opml' || path.startsWith('/feeds/') || path === '/websub') return 'feed';
  if (path.startsWith('/api/')) return 'api';
  if (path === '/embed.js' || path.startsWith('/embed/') || path === '/oembed') return 'embed';
  if (path.startsWith('/media/')) return 'media';
  if (path === '/healthz') return 'healthz';
  if (path === '/metrics') return 'metrics';
  if (path === '/' || path === '/search' || path.startsWith('/share/') || path === '/status' || path === '/status.json' || path === '/robots.txt'
    || path === '/sitemap.xml' || path === '/news-sitemap.xml' || /^\/(releases|topics|departments)\//.test(path)) return 'page';
  return 'other';
}

/** One registry per app (not prom-client's global one), so tests can build many apps side by side. */
export function createMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total', help: 'HTTP requests answered, by method, route group and status.',
    labelNames: ['method', 'route', 'status'] as const, registers: [registry],
    collect() {
      for (const instruments of series.values()) {
        if (instruments.count === 0) continue;
        instruments.requests.inc(instruments.count);
        instruments.count = 0;
      }
    },
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds', help: 'Time to answer an HTTP request, by method and route group.',
    labelNames: ['method', 'route'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
  });
  // Counts of every request are kept in plain numbers and handed to prom-client when scraped (its inc()
  // checks and hashes labels on every call, a cost the cached-hit path would feel).
  const countedWhenScraped = (name: string, help: string): (() => void) => {
    let pending = 0;
    new Counter({
      name, help, registers: [registry],
      collect() {
        this.inc(pending);
        pending = 0;
      },
    });
    return () => { pending++; };
  };
  const countHit = countedWhenScraped('herold_feed_cache_hits_total', 'Feeds and derived documents served from the representation cache.');
  const countMiss = countedWhenScraped('herold_feed_cache_misses_total', 'Feeds and derived documents rendered because the representation cache missed.');
  const refreshRuns = new Counter({
    name: 'herold_refresh_runs_total', help: 'Finished refresh runs, by source and outcome (ok, error, skipped).',
    labelNames: ['source', 'outcome'] as const, registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'herold_rate_limited_total', help: 'Requests answered 429 by a rate limit, by limiter (api, author, search).',
    labelNames: ['limiter'] as const, registers: [registry],
  });
  let storeRef: Store | null = null;
  let clock: () => Date = () => new Date();
  new Gauge({
    name: 'herold_releases_visible', help: 'Releases visible now (published, not embargoed).', registers: [registry],
    collect() {
      if (storeRef) this.set(storeRef.countReleases({ kind: 'all' }, clock()));
    },
  });
  const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  const countDirect = countedWhenScraped('herold_cache_direct_hits_total',
    'Cache hits answered before the router (routes whose answer depends only on URL and data).');
  // The instruments of each (method, route, status), looked up by prom-client once: the label sets are few.
  // Requests are counted in `count` and handed to prom-client when scraped (see `requests`).
  const series = new Map<string, { duration: { observe(value: number): void }; requests: { inc(value: number): void }; count: number }>();
  function observe(method: string, path: string, status: number, seconds: number): void {
    const label = methods.has(method) ? method : 'other';
    const route = routeLabel(path);
    const key = `${label} ${route} ${status}`;
    let instruments = series.get(key);
    if (!instruments) {
      instruments = { duration: duration.labels({ method: label, route }), requests: requests.labels({ method: label, route, status: String(status) }), count: 0 };
      series.set(key, instruments);
    }
    instruments.duration.observe(seconds);
    instruments.count++;
  }

  return {
    registry,
    /** Makes the visible-releases gauge read this store on every scrape. */
    observeStore(store: Store, now: () => Date): void {
      storeRef = store;
      clock = now;
    },
    /** Counts and times one answer (the cached-hit path, which no middleware sees). */
    observe,
    /** Express middleware: counts and times every response by method, route group and status. */
    middleware(req: Request, res: Response, next: NextFunction): void {
      const start = performance.now();
      res.once('finish', () => observe(req.method, req.path, res.statusCode, (performance.now() - start) / 1000));
      next();
    },
    cacheHooks: { hit: countHit, miss: countMiss, direct: countDirect },
    recordRefresh(report: RefreshReport): void {
      refreshRuns.inc({ source: report.sourceId, outcome: report.skipped ? 'skipped' : report.ok ? 'ok' : 'error' });
    },
    recordRateLimited(limiter: string): void {
      rateLimited.inc({ limiter });
    },
    /** The /metrics handler. */
    async handler(_req: Request, res: Response): Promise<void> {
      const body = await registry.metrics();
      res.set('Content-Type', METRICS_CONTENT_TYPE);
      res.set('Cache-Control', 'no-store');
      res.send(body);
    },
  };
}


/** The metrics of one app, as returned by createMetrics. */
export type Metrics = ReturnType<typeof createMetrics>;
