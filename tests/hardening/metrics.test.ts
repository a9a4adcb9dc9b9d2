import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { nastyReleases } from '../helpers/fixtures.js';
import { createMetrics, routeLabel } from '../../src/http/metrics.js';

const apps: TestApp[] = [];
async function seeded(env: Record<string, string> = {}, dir?: string): Promise<TestApp> {
  const t = createTestApp({ env, ...(dir ? { dir } : {}) });
  apps.push(t);
  t.store.upsertReleases(await nastyReleases(), { now: new Date('2026-11-21T00:00:00Z') });
  return t;
}
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

async function scrape(t: TestApp): Promise<string> {
  const res = await request(t.app).get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  expect(res.headers['cache-control']).toBe('no-store');
  return res.text;
}

/** The value of one sample, 0 when the series does not exist (yet). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return 0;
}

describe('/metrics', () => {
  test('is Prometheus text: every line is a HELP/TYPE comment or a well-formed sample', async () => {
    const t = await seeded();
    await request(t.app).get('/feeds/all.rss');
    await request(t.app).get('/no/such/page');
    const text = await scrape(t);
    const lines = text.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(10);
    const sampleLine = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (NaN|[+-]?Inf|[+-]?\d+(\.\d+)?([eE][+-]?\d+)?)( \d+)?$/;
    for (const line of lines) {
      if (line.startsWith('#')) expect(line, line).toMatch(/^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$/);
      else expect(line, line).toMatch(sampleLine);
    }
    for (const name of ['http_requests_total', 'http_request_duration_seconds', 'herold_feed_cache_hits_total', 'herold_feed_cache_misses_total', 'herold_refresh_runs_total', 'herold_releases_visible']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
  });

  test('request counters and the duration histogram move with requests, labelled by route group, never the raw URL', async () => {
    const t = await seeded();
    const before = await scrape(t);
    expect(sample(before, 'http_requests_total', { method: 'GET', route: 'feed', status: '200' })).toBe(0);
    await request(t.app).get('/feeds/all.atom').expect(200);
    await request(t.app).get('/feeds/all.json').expect(200);
    await request(t.app).get('/healthz').expect(200);
    for (let i = 0; i < 5; i += 1) await request(t.app).get(`/random-${i}-${'x'.repeat(i)}`).expect(404);
    const after = await scrape(t);
    expect(sample(after, 'http_requests_total', { method: 'GET', route: 'feed', status: '200' })).toBe(2);
    expect(sample(after, 'http_requests_total', { method: 'GET', route: 'healthz', status: '200' })).toBe(1);
    expect(sample(after, 'http_requests_total', { method: 'GET', route: 'other', status: '404' })).toBe(5);
    expect(sample(after, 'http_request_duration_seconds_count', { method: 'GET', route: 'feed' })).toBe(2);
    expect(sample(after, 'http_request_duration_seconds_bucket', { method: 'GET', route: 'feed', le: '+Inf' })).toBe(2);
    expect(after).not.toContain('random-');
    // The scrape before this one counted too.
    expect(sample(after, 'http_requests_total', { method: 'GET', route: 'metrics', status: '200' })).toBe(1);
  });

  test('the duration histogram puts each request in the first bucket whose bound it does not pass, cumulatively', async () => {
    const metrics = createMetrics();
    metrics.observe('GET', '/feeds/all.rss', 200, 0.005);
    metrics.observe('GET', '/feeds/all.rss', 304, 0.0051);
    metrics.observe('GET', '/feeds/topics/x.rss', 200, 0.3);
    metrics.observe('GET', '/feeds/all.rss', 200, 20);
    metrics.observe('PROPFIND', '/feeds/all.rss', 405, 0.001);
    const text = await metrics.registry.metrics();
    const feed = { method: 'GET', route: 'feed' };
    const buckets = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']
      .map((le) => sample(text, 'http_request_duration_seconds_bucket', { ...feed, le }));
    expect(buckets).toEqual([1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4]);
    expect(sample(text, 'http_request_duration_seconds_count', feed)).toBe(4);
    expect(sample(text, 'http_request_duration_seconds_sum', feed)).toBeCloseTo(20.3101, 6);
    expect(sample(text, 'http_requests_total', { ...feed, status: '200' })).toBe(3);
    expect(sample(text, 'http_requests_total', { ...feed, status: '304' })).toBe(1);
    expect(sample(text, 'http_requests_total', { method: 'other', route: 'feed', status: '405' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_bucket', { method: 'other', route: 'feed', le: '0.005' })).toBe(1);
    // One HELP and TYPE per metric, however many series.
    expect(text.match(/^# TYPE http_request_duration_seconds histogram$/gm)).toHaveLength(1);
    expect(text.match(/^# TYPE http_requests_total counter$/gm)).toHaveLength(1);
  });

  test('route labels are a small fixed set', () => {
    expect(routeLabel('/feeds/topics/x.rss')).toBe('feed');
    expect(routeLabel('/releases/some-slug')).toBe('page');
    expect(routeLabel('/')).toBe('page');
    expect(routeLabel('/api/v1/releases/123')).toBe('api');
    expect(routeLabel('/embed/headlines')).toBe('embed');
    expect(routeLabel('/media/logo.png')).toBe('media');
    expect(routeLabel('/wp-admin/../etc/passwd')).toBe('other');
  });

  test('repeated feed requests count one cache miss and then hits', async () => {
    const t = await seeded();
    await request(t.app).get('/feeds/all.rss').expect(200);
    await request(t.app).get('/feeds/all.rss').expect(200);
    await request(t.app).get('/feeds/all.rss').set('If-None-Match', '"x"').expect(200);
    const text = await scrape(t);
    expect(sample(text, 'herold_feed_cache_misses_total')).toBe(1);
    expect(sample(text, 'herold_feed_cache_hits_total')).toBe(2);
    // A write to the data drops the cache: the next request misses again.
    t.store.upsertReleases((await nastyReleases()).slice(0, 1).map((release) => ({ ...release, title: `${release.title} (geändert)` })), { now: new Date('2026-11-22T00:00:00Z') });
    await request(t.app).get('/feeds/all.rss').expect(200);
    expect(sample(await scrape(t), 'herold_feed_cache_misses_total')).toBe(2);
  });

  test('herold_releases_visible is read from the store on each scrape', async () => {
    const t = await seeded();
    const visible = t.store.countReleases({ kind: 'all' }, t.now);
    expect(visible).toBeGreaterThan(0);
    expect(sample(await scrape(t), 'herold_releases_visible')).toBe(visible);
  });

  test('herold_refresh_runs_total counts runs by source and outcome', async () => {
    const t0 = createTestApp();
    const dir = t0.dir;
    t0.db.close();
    const folder = path.join(dir, 'inbox');
    mkdirSync(folder);
    writeFileSync(path.join(dir, 'sources.json'), JSON.stringify({
      sources: [{ id: 'inbox', type: 'files', schedule: '0 * * * *', path: folder }],
    }));
    const t = await seeded({ HEROLD_CONFIG: path.join(dir, 'sources.json'), HEROLD_ADMIN_TOKEN: 'admin-token-0123456789' }, dir);
    const refresh = await request(t.app).post('/api/v1/sources/inbox/refresh').set('Authorization', 'Bearer admin-token-0123456789');
    expect(refresh.status, refresh.text).toBeLessThan(300);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const text = await scrape(t);
    const ok = sample(text, 'herold_refresh_runs_total', { source: 'inbox', outcome: 'ok' });
    const error = sample(text, 'herold_refresh_runs_total', { source: 'inbox', outcome: 'error' });
    expect(ok + error).toBe(1);
    expect(ok).toBe((refresh.body as { ok: boolean }).ok ? 1 : 0);
  });

  test('each app has its own registry', async () => {
    const a = await seeded();
    const b = await seeded();
    await request(a.app).get('/healthz').expect(200);
    expect(sample(await scrape(a), 'http_requests_total', { method: 'GET', route: 'healthz', status: '200' })).toBe(1);
    expect(sample(await scrape(b), 'http_requests_total', { method: 'GET', route: 'healthz', status: '200' })).toBe(0);
  });
});
