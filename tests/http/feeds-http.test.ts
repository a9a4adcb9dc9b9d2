import { once } from 'node:events';
import { get, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { createStore } from '../../src/db/store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { input, nastyReleases } from '../helpers/fixtures.js';

const apps: TestApp[] = [];
async function seeded(options: Parameters<typeof createTestApp>[0] = {}): Promise<TestApp> {
  const t = createTestApp(options);
  apps.push(t);
  t.store.upsertReleases(await nastyReleases(), { now: new Date('2026-11-21T00:00:00Z') });
  return t;
}
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

/** A GET over a real socket that keeps the body as sent (supertest would decode it). */
async function rawGet(app: TestApp['app'], path: string, headers: Record<string, string>) {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject);
    });
  } finally {
    server.close();
  }
}

describe('content types and methods', () => {
  test.each([
    ['rss', 'application/rss+xml; charset=utf-8'],
    ['atom', 'application/atom+xml; charset=utf-8'],
    ['json', 'application/feed+json; charset=utf-8'],
  ])('%s is served as %s with caching headers', async (format, type) => {
    const t = await seeded();
    const res = await request(t.app).get(`/feeds/topics/verkehr.${format}`).expect(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{20,}"$/);
  });

  test('HEAD answers the headers of GET without a body', async () => {
    const t = await seeded();
    const get = await request(t.app).get('/feeds/all.rss').set('Accept-Encoding', 'identity').expect(200);
    const head = await request(t.app).head('/feeds/all.rss').set('Accept-Encoding', 'identity').expect(200);
    expect(head.headers.etag).toBe(get.headers.etag);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.text)));
    expect(head.text ?? '').toBe('');
  });

  test('the max-age comes from the config file', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'herold-cfg-'));
    writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({ feeds: { max_age: 60 } }));
    const t = await seeded({ dir });
    const res = await request(t.app).get('/feeds/all.atom').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=60');
  });
});

describe('conditional requests', () => {
  test('If-None-Match with the ETag answers 304 until a release changes', async () => {
    const t = await seeded();
    const first = await request(t.app).get('/feeds/all.rss').expect(200);
    const etag = first.headers.etag!;
    const again = await request(t.app).get('/feeds/all.rss').set('If-None-Match', etag).expect(304);
    expect(again.text ?? '').toBe('');
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['cache-control']).toBe('public, max-age=300');
    expect(again.headers.vary).toBe('Accept-Encoding');
    // RFC 9110 15.4.5: no representation metadata beside the ETag that validates.
    expect(first.headers['last-modified']).toBeDefined();
    for (const name of ['last-modified', 'content-type', 'content-length', 'content-encoding']) expect(again.headers[name]).toBeUndefined();
    await request(t.app).get('/feeds/all.rss').set('If-None-Match', `"other", ${etag}`).expect(304);
    await request(t.app).get('/feeds/all.rss').set('If-None-Match', '"other"').expect(200);

    const [release] = await nastyReleases();
    t.store.upsertReleases([{ ...release!, title: 'Korrigierter Titel' }], { now: new Date('2026-11-22T08:00:00Z') });
    const changed = await request(t.app).get('/feeds/all.rss').set('If-None-Match', etag).expect(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.text).toContain('Korrigierter Titel');
  });

  test('Last-Modified is the newest change of an item, not the render time; If-Modified-Since answers 304', async () => {
    const t = await seeded();
    const res = await request(t.app).get('/feeds/all.atom').expect(200);
    expect(res.headers['last-modified']).toBe(new Date('2026-11-21T00:00:00Z').toUTCString());
    await request(t.app).get('/feeds/all.atom').set('If-Modified-Since', res.headers['last-modified']!).expect(304);
    await request(t.app).get('/feeds/all.atom').set('If-Modified-Since', 'Thu, 19 Nov 2026 00:00:00 GMT').expect(200);
    await request(t.app).get('/feeds/all.atom').set('If-Modified-Since', 'not a date').expect(200);
    // If-None-Match decides when both are sent (RFC 9110 13.2.2).
    await request(t.app).get('/feeds/all.atom')
      .set('If-Modified-Since', res.headers['last-modified']!).set('If-None-Match', '"stale"').expect(200);
  });

  test('the ETag and the bytes are the same after a restart on the same database', async () => {
    const first = await seeded();
    const before = await request(first.app).get('/feeds/departments/fachbereich-mobilitaet-und-verkehr.json').expect(200);
    const second = createTestApp({ dir: first.dir });
    apps.push(second);
    const after = await request(second.app).get('/feeds/departments/fachbereich-mobilitaet-und-verkehr.json')
      .set('If-None-Match', before.headers.etag!).expect(304);
    expect(after.headers.etag).toBe(before.headers.etag);
    const full = await request(second.app).get('/feeds/departments/fachbereich-mobilitaet-und-verkehr.json').expect(200);
    expect(full.text).toBe(before.text);
  });

  test('a withdrawal moves Last-Modified forward although the item leaves the feed', async () => {
    const t = await seeded();
    const before = await request(t.app).get('/feeds/all.rss').expect(200);
    const [release] = await nastyReleases();
    t.store.upsertReleases([{ ...release!, status: 'withdrawn' }], { now: new Date('2026-11-23T10:00:00Z') });
    const after = await request(t.app).get('/feeds/all.rss')
      .set('If-Modified-Since', before.headers['last-modified']!).expect(200);
    expect(after.headers['last-modified']).toBe(new Date('2026-11-23T10:00:00Z').toUTCString());
    expect(after.text).not.toContain(release!.guid);
  });
});

describe('compression', () => {
  test.each(['gzip', 'br'])('%s decodes to the identity bytes, with its own ETag', async (coding) => {
    const t = await seeded();
    const plain = await rawGet(t.app, '/feeds/all.atom', { 'Accept-Encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    const packed = await rawGet(t.app, '/feeds/all.atom', { 'Accept-Encoding': coding });
    expect(packed.status).toBe(200);
    expect(packed.headers['content-encoding']).toBe(coding);
    expect(packed.headers.vary).toBe('Accept-Encoding');
    expect(packed.body.length).toBeLessThan(plain.body.length / 2);
    expect(Number(packed.headers['content-length'])).toBe(packed.body.length);
    const decoded = coding === 'gzip' ? gunzipSync(packed.body) : brotliDecompressSync(packed.body);
    expect(decoded.equals(plain.body)).toBe(true);
    expect(packed.headers.etag).not.toBe(plain.headers.etag);
    await request(t.app).get('/feeds/all.atom').set('Accept-Encoding', coding)
      .set('If-None-Match', packed.headers.etag!).expect(304);
  });

  test('brotli is preferred when both are accepted, q-values are honoured', async () => {
    const t = await seeded();
    const coding = async (accept: string) => (await rawGet(t.app, '/feeds/all.json', { 'Accept-Encoding': accept })).headers['content-encoding'];
    expect(await coding('gzip, deflate, br')).toBe('br');
    expect(await coding('br;q=0.1, gzip')).toBe('gzip');
    expect(await coding('*')).toBe('br');
    expect(await coding('br;q=0, gzip;q=0')).toBeUndefined();
    expect(await coding('identity')).toBeUndefined();
  });
});

describe('errors', () => {
  test.each(['0', '101', '-1', 'abc', '1e2', '20.5', ''])('limit=%s answers 400 problem JSON naming the parameter', async (limit) => {
    const t = await seeded();
    const res = await request(t.app).get(`/feeds/all.rss?limit=${limit}`).expect(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', parameter: 'limit' });
    expect(res.body.detail).toContain('limit');
  });

  test('a repeated limit answers 400', async () => {
    const t = await seeded();
    const res = await request(t.app).get('/feeds/all.rss?limit=1&limit=2').expect(400);
    expect(res.body.parameter).toBe('limit');
  });

  test('limit picks the number of items', async () => {
    const t = await seeded();
    const res = await request(t.app).get('/feeds/all.json?limit=2').expect(200);
    const json = JSON.parse(res.text) as { items: unknown[]; feed_url: string };
    expect(json.items).toHaveLength(2);
    expect(json.feed_url).toBe('http://herold.test/feeds/all.json?limit=2');
  });

  test.each([
    '/feeds/topics/unbekannt.rss', '/feeds/departments/unbekannt.atom', '/feeds/all.xml', '/feeds/topics/verkehr.html',
    '/feeds/topics/Verkehr.rss', '/nirgends',
  ])('%s answers 404 problem JSON', async (path) => {
    const t = await seeded();
    const res = await request(t.app).get(path).expect(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found', instance: path });
  });
});

describe('the representation cache', () => {
  test('a repeated request asks the store for nothing but its generation', async () => {
    const calls: string[] = [];
    const t = await seeded({ storeCalls: calls });
    await request(t.app).get('/feeds/topics/verkehr.rss').set('Accept-Encoding', 'br').expect(200);
    expect(calls).toContain('newestReleaseHeads');
    calls.length = 0;
    await request(t.app).get('/feeds/topics/verkehr.rss').set('Accept-Encoding', 'br').expect(200);
    await request(t.app).get('/feeds/topics/verkehr.rss').set('Accept-Encoding', 'br').expect(200);
    expect(calls).toEqual(['generation', 'generation']);
  });

  test('a write by another process (an import) shows in the next response', async () => {
    const t = await seeded();
    const before = await request(t.app).get('/feeds/all.json').expect(200);
    const other = openDatabase(t.config.databaseFile);
    createStore(other).upsertReleases([input({ guid: 'tag:lindenau.example,2026:import-1', title: 'Importiert', publishedAt: '2026-11-24T09:00:00Z' })],
      { now: new Date('2026-11-24T09:00:00Z') });
    other.close();
    const after = await request(t.app).get('/feeds/all.json').set('If-None-Match', before.headers.etag!).expect(200);
    expect(JSON.parse(after.text).items[0].title).toBe('Importiert');
  });

  test('an embargoed release appears when its time comes, with no write in between', async () => {
    const t = await seeded();
    t.store.upsertReleases([input({
      guid: 'tag:lindenau.example,2026:embargo-1', title: 'Unter Sperrfrist', publishedAt: '2026-11-25T09:00:00Z',
      embargoUntil: '2026-11-25T14:00:00Z', topics: ['Verkehr'],
    })], { now: new Date('2026-11-25T08:00:00Z') });
    t.now = new Date('2026-11-25T13:59:59Z');
    const hidden = await request(t.app).get('/feeds/topics/verkehr.rss').expect(200);
    expect(hidden.text).not.toContain('Unter Sperrfrist');
    t.now = new Date('2026-11-25T14:00:00Z');
    const shown = await request(t.app).get('/feeds/topics/verkehr.rss').set('If-None-Match', hidden.headers.etag!).expect(200);
    expect(shown.text).toContain('Unter Sperrfrist');
    expect(shown.headers['last-modified']).toBe(new Date('2026-11-25T14:00:00Z').toUTCString());
  });
});
