import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createHerold } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { createStore, type Store } from '../../src/db/store.js';
import { createMetrics, type Metrics } from '../../src/http/metrics.js';
import type { ReleaseInput } from '../../src/model.js';
import { BASE_URL } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';

/**
 * The listener answers cached hits of some routes before Express (createHerold). Express and the
 * listener share one cache here, so every request to `app` goes the whole way and every repeated
 * request to `listener` takes the short one: the two must answer alike, byte for byte.
 */
interface Service {
  readonly dir: string;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly app: ReturnType<typeof createHerold>['app'];
  readonly listener: ReturnType<typeof createHerold>['listener'];
  now: Date;
  close(): void;
}

function release(n: number, extra: Partial<ReleaseInput> = {}): ReleaseInput {
  return input({
    guid: `tag:lindenau.example,2026:fast-${n}`, title: `Mitteilung ${n}: Baustelle & Umleitung`, slug: `mitteilung-${n}`,
    publishedAt: new Date(Date.UTC(2026, 10, 1 + n, 9)).toISOString(), topics: ['Verkehr'], department: 'Fachbereich Mobilität',
    body: `<p>Text der Mitteilung ${n} mit einem <a href="/media/plan.pdf">Plan</a>.</p>`, ...extra,
  });
}

function start(env: Record<string, string> = {}): Service {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-fast-'));
  const config = loadConfig({ HEROLD_DATA_DIR: dir, HEROLD_BASE_URL: BASE_URL, HEROLD_RATE_LIMIT_API: '0', HEROLD_RATE_LIMIT_SEARCH: '0', ...env }, dir);
  const db = openDatabase(config.databaseFile);
  const store = createStore(db);
  store.upsertReleases([1, 2, 3].map((n) => release(n)), { now: new Date('2026-11-20T10:00:00Z') });
  const metrics = createMetrics();
  const service = { dir, store, metrics, now: new Date('2026-11-25T12:00:00Z') } as Service;
  const { app, listener } = createHerold({ config, store, metrics, clock: () => service.now, log: () => {} });
  Object.assign(service, { app, listener, close: () => { db.close(); rmSync(dir, { recursive: true, force: true }); } });
  return service;
}

async function directHits(metrics: Metrics): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('herold_cache_direct_hits_total')!.get();
  return metric.values[0]?.value ?? 0;
}

/** Status, headers and body as a reader sees them; Date and X-Request-Id belong to one request. */
function seen(res: request.Response) {
  const { date: _date, 'x-request-id': requestId, ...headers } = res.headers as Record<string, string>;
  expect(requestId).toMatch(/^[\w.:-]{1,64}$/);
  return { status: res.status, headers, body: Buffer.isBuffer(res.body) ? res.body.toString('base64') : res.text };
}

const raw = (req: request.Test) => req.buffer(true).parse((res, done) => {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
});

let s: Service;
beforeEach(() => { s = start(); });
afterEach(() => s.close());

describe('cached hits before the router', () => {
  const urls = ['/feeds/all.rss', '/feeds/all.atom?limit=2', '/feeds/all.json?page=1&limit=1', '/feeds/topics/verkehr.rss',
    '/feeds/departments/fachbereich-mobilitaet.atom', '/feeds', '/feeds.opml', '/', '/topics/verkehr', '/releases/mitteilung-2',
    '/embed.js', '/embed/headlines?limit=2', '/sitemap.xml', '/robots.txt',
    // Rate-limited (the limits are off here; see below): the short way after the limit.
    '/feeds/all.rss?q=Baustelle', '/search?q=Baustelle', '/api/v1/headlines?limit=2'];
  const variants: Array<Record<string, string>> = [{}, { 'Accept-Encoding': 'gzip' }, { 'Accept-Encoding': 'br;q=1, gzip;q=0.5' }];

  test.each(urls)('%s: the same status, headers and bytes as through Express, in every coding, for 304 and HEAD', async (url) => {
    for (const headers of variants) {
      const routed = await raw(request(s.app).get(url).set(headers));
      expect(routed.status).toBe(200);
      const before = await directHits(s.metrics);
      const direct = await raw(request(s.listener).get(url).set(headers));
      expect(await directHits(s.metrics)).toBe(before + 1);
      expect(seen(direct)).toEqual(seen(routed));

      const etag = routed.headers.etag!;
      const notModified = [request(s.app), request(s.listener)].map((agent) => agent.get(url).set({ ...headers, 'If-None-Match': etag }));
      const [routed304, direct304] = await Promise.all(notModified);
      expect(direct304!.status).toBe(304);
      expect(seen(direct304!)).toEqual(seen(routed304!));

      const [routedHead, directHead] = await Promise.all([request(s.app).head(url).set(headers), request(s.listener).head(url).set(headers)]);
      expect(seen(directHead!)).toEqual(seen(routedHead!));
    }
  });

  test('the first request after a write goes the whole way and answers the new data; the next one is direct again', async () => {
    const first = await request(s.listener).get('/feeds/all.rss');
    await request(s.listener).get('/feeds/all.rss');
    const hits = await directHits(s.metrics);
    s.store.upsertReleases([release(2, { title: 'Mitteilung 2: berichtigt' })], { now: new Date('2026-11-25T11:00:00Z'), note: 'Korrektur' });
    const after = await request(s.listener).get('/feeds/all.rss');
    expect(await directHits(s.metrics)).toBe(hits);
    expect(after.headers.etag).not.toBe(first.headers.etag);
    expect(after.text).toContain('Mitteilung 2: berichtigt');
    const again = await request(s.listener).get('/feeds/all.rss');
    expect(await directHits(s.metrics)).toBe(hits + 1);
    expect(again.text).toBe(after.text);
  });

  test('every direct answer carries its own request id: the one sent, or a new one', async () => {
    await request(s.listener).get('/feeds/all.rss').expect(200);
    const hits = await directHits(s.metrics);
    const ids = [];
    for (const [n, sending] of [true, false, true, false].entries()) {
      for (const etag of [undefined, (await request(s.listener).get('/feeds/all.rss')).headers.etag!]) {
        const sent = sending ? `trace-${n}${etag ? '-304' : ''}` : undefined;
        const asked = request(s.listener).get('/feeds/all.rss');
        if (sent) asked.set('X-Request-Id', sent);
        if (etag) asked.set('If-None-Match', etag);
        const id = (await asked.expect(etag ? 304 : 200)).headers['x-request-id']!;
        if (sent) expect(id).toBe(sent);
        ids.push(id);
      }
    }
    expect(await directHits(s.metrics)).toBe(hits + 12);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('a withdrawn release page answers 410, not its cached page', async () => {
    await request(s.listener).get('/releases/mitteilung-3').expect(200);
    await request(s.listener).get('/releases/mitteilung-3').expect(200);
    s.store.upsertReleases([release(3, { status: 'withdrawn' })], { now: new Date('2026-11-25T11:00:00Z') });
    await request(s.listener).get('/releases/mitteilung-3').expect(410);
  });

  test('an embargo lifting reaches the cached feed at the moment it lifts', async () => {
    s.store.upsertReleases([release(9, { title: 'Gesperrt bis Mittag', publishedAt: '2026-11-25T13:00:00.000Z', embargoUntil: '2026-11-25T13:00:00.000Z' })],
      { now: new Date('2026-11-25T11:00:00Z') });
    for (let i = 0; i < 2; i++) expect((await request(s.listener).get('/feeds/all.rss')).text).not.toContain('Gesperrt bis Mittag');
    s.now = new Date('2026-11-25T13:00:01Z');
    expect((await request(s.listener).get('/feeds/all.rss')).text).toContain('Gesperrt bis Mittag');
  });

  test('the releases API, writes, errors and redirects never take the short way', async () => {
    const urls = ['/api/v1/releases', '/oembed?url=' + encodeURIComponent(`${BASE_URL}/releases/mitteilung-1`),
      '/feeds/all.rss?limit=0', '/feeds/nowhere.rss', '/releases/unbekannt', '/healthz'];
    for (const url of urls) {
      const first = await request(s.listener).get(url);
      const second = await request(s.listener).get(url);
      expect(second.status).toBe(first.status);
    }
    await request(s.listener).post('/feeds/all.rss').send('x');
    expect(await directHits(s.metrics)).toBe(0);
  });
});

describe('rate limits stay in force', () => {
  const limitedUrls = ['/feeds/all.rss?q=Baustelle', '/search?q=Baustelle', '/api/v1/headlines?limit=2'];

  test.each(limitedUrls)('%s: counted and limited on the short way as through Express, 429 alike', async (url) => {
    const env = { HEROLD_RATE_LIMIT_SEARCH: '3', HEROLD_RATE_LIMIT_API: '3' };
    const [short, routed] = [start(env), start(env)];
    try {
      const answers = async (agent: () => request.Test) => {
        const seenAnswers = [];
        for (let i = 0; i < 5; i++) seenAnswers.push(await raw(agent()));
        return seenAnswers;
      };
      const direct = await answers(() => request(short.listener).get(url).set('Accept-Encoding', 'gzip'));
      const viaExpress = await answers(() => request(routed.app).get(url).set('Accept-Encoding', 'gzip'));
      expect(direct.map((res) => res.status)).toEqual([200, 200, 200, 429, 429]);
      expect(direct.map((res) => /r=(\d+)/.exec(res.headers.ratelimit!)?.[1])).toEqual(['2', '1', '0', '0', '0']);
      // The second and third were answered from the cache before the router, the 429s by the limiter there.
      expect(await directHits(short.metrics)).toBe(2);
      expect(await directHits(routed.metrics)).toBe(0);
      for (let i = 0; i < direct.length; i++) expect(seen(direct[i]!)).toEqual(seen(viaExpress[i]!));
    } finally {
      short.close();
      routed.close();
    }
  });

  test('a client with a valid API token is counted in its token\'s bucket on the short way too', async () => {
    const token = 'fast-path-token-0123456789abcdef';
    const limited = start({ HEROLD_RATE_LIMIT_API: '2', HEROLD_API_TOKENS: token });
    try {
      const ask = (headers: Record<string, string> = {}) => request(limited.listener).get('/api/v1/headlines?limit=2').set(headers);
      const withToken = [];
      for (let i = 0; i < 4; i++) withToken.push(await ask({ Authorization: `Bearer ${token}` }));
      expect(withToken.map((res) => res.status)).toEqual([200, 200, 200, 200]);
      expect(withToken.map((res) => /^"author"; r=(\d+); t=\d+$/.exec(res.headers.ratelimit!)?.[1])).toEqual(['19', '18', '17', '16']);
      expect(await directHits(limited.metrics)).toBe(3);
      // A wrong token is no token: the address's bucket, short way or not.
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await ask({ Authorization: 'Bearer wrong' })).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      limited.close();
    }
  });

  test('a search feed asked again and again is limited, though plain feeds are answered directly', async () => {
    const limited = start({ HEROLD_RATE_LIMIT_SEARCH: '2' });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(limited.listener).get('/feeds/all.rss?q=Baustelle')).status);
      expect(statuses).toEqual([200, 200, 429]);
      for (let i = 0; i < 3; i++) await request(limited.listener).get('/feeds/all.rss').expect(200);
      // One search hit and two plain hits took the short way.
      expect(await directHits(limited.metrics)).toBe(3);
    } finally {
      limited.close();
    }
  });
});
