import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../db/store.js';
import type { RefreshReport } from '../ingest/refresh.js';
import { droppedLogLines } from './log.js';

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

/** The upper bounds of http_request_duration_seconds' buckets, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Methods labelled by name; any other is labelled `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The requests of one method and route group: how many took how long, and how many got each status. */
class RouteSeries {
  /** Requests per bucket (not cumulative), the last for those slower than every bound. */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  readonly statuses = new Map<number, number>();

  constructor(readonly labels: { readonly method: string; readonly route: string }) {}
}

/** A sample as prom-client's registry reads it. */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/**
 * http_requests_total and http_request_duration_seconds, counted in plain numbers and read by the
 * registry when scraped. prom-client's Counter and Histogram check and hash the label set on every
 * call (about half a microsecond), a cost the cached-hit path, some 30 µs a request, would feel. Each
 * of the two is an object the registry reads as it reads its own: name, help, type, aggregator, get().
 */
class RequestMetrics {
  /** Route group, then method: label values are few and constant strings, so each lookup is cheap. */
  private readonly table = new Map<string, Map<string, RouteSeries>>();

  observe(method: string, path: string, status: number, seconds: number): void {
    const route = routeLabel(path);
    const label = METHODS.has(method) ? method : 'other';
    let byMethod = this.table.get(route);
    if (!byMethod) this.table.set(route, byMethod = new Map());
    let series = byMethod.get(label);
    if (!series) byMethod.set(label, series = new RouteSeries({ method: label, route }));
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]!) bucket++;
    series.buckets[bucket]!++;
    series.sum += seconds;
    series.count++;
    series.statuses.set(status, (series.statuses.get(status) ?? 0) + 1);
  }

  private metric(name: string, help: string, type: 'counter' | 'histogram', samples: (series: RouteSeries) => Sample[]) {
    return {
      name, help, type, aggregator: 'sum' as const,
      get: async () => ({ name, help, type, aggregator: 'sum' as const, values: [...this.table.values()].flatMap((byMethod) => [...byMethod.values()].flatMap(samples)) }),
    };
  }

  readonly counter = this.metric('http_requests_total', 'HTTP requests answered, by method, route group and status.', 'counter',
    (series) => [...series.statuses].map(([status, value]) => ({ metricName: 'http_requests_total', labels: { ...series.labels, status: String(status) }, value })));

  readonly histogram = this.metric('http_request_duration_seconds', 'Time to answer an HTTP request, by method and route group.', 'histogram',
    (series) => {
      let cumulative = 0;
      const bucketName = 'http_request_duration_seconds_bucket';
      return [
        ...DURATION_BUCKETS.map((le, index) => ({ metricName: bucketName, labels: { ...series.labels, le }, value: cumulative += series.buckets[index]! })),
        { metricName: bucketName, labels: { ...series.labels, le: '+Inf' }, value: series.count },
        { metricName: 'http_request_duration_seconds_sum', labels: series.labels, value: series.sum },
        { metricName: 'http_request_duration_seconds_count', labels: series.labels, value: series.count },
      ];
    });
}

/** One registry per app (not prom-client's global one), so tests can build many apps side by side. */
export function createMetrics() {
  const registry = new Registry();
  const requests = new RequestMetrics();
  registry.registerMetric(requests.counter as unknown as Counter);
  registry.registerMetric(requests.histogram as unknown as Histogram);
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
  let droppedSeen = 0;
  new Counter({
    name: 'herold_log_lines_dropped_total', help: 'Log lines this process dropped because stdout or stderr was not being read.', registers: [registry],
    collect() {
      const total = droppedLogLines();
      this.inc(total - droppedSeen);
      droppedSeen = total;
    },
  });
  const countDirect = countedWhenScraped('herold_cache_direct_hits_total',
    'Cache hits answered before the router (routes whose answer depends only on URL and data).');
  const observe = requests.observe.bind(requests);

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
