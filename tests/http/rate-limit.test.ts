import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

const apps: TestApp[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  while (apps.length) apps.pop()!.close();
});

const API_TOKEN = 'author-token-0123456789abcdef';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** The test app with this environment, listening on 127.0.0.1; `get` asks it from a chosen loopback address. */
async function served(env: Record<string, string>) {
  const t = createTestApp({ env });
  apps.push(t);
  const server = t.app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const get = (path: string, options: { from?: string; headers?: Record<string, string> } = {}) => new Promise<Answer>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress: options.from ?? '127.0.0.1', headers: options.headers ?? {}, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.once('error', reject).end();
  });
  return { t, get };
}

/** The statuses of `count` requests, one after the other. */
async function statuses(get: (path: string) => Promise<Answer>, path: string, count: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await get(path)).status);
  return seen;
}

describe('the search limit (HEROLD_RATE_LIMIT_SEARCH)', () => {
  test('the 4th search of a minute gets 429 problem JSON with Retry-After and the RateLimit headers', async () => {
    const { get } = await served({ HEROLD_RATE_LIMIT_SEARCH: '3' });
    for (const remaining of [2, 1, 0]) {
      const ok = await get('/search?q=Radweg');
      expect(ok.status).toBe(200);
      expect(ok.headers.ratelimit).toMatch(new RegExp(`^"search"; r=${remaining}; t=\\d+$`));
      expect(ok.headers['ratelimit-policy']).toMatch(/^"search"; q=3; w=60; pk=:[A-Za-z0-9+/=]+:$/);
    }
    const limited = await get('/search?q=Radweg');
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(limited.headers['cache-control']).toBe('no-store');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${limited.headers['retry-after']}`).toBe(true);
    expect(limited.headers.ratelimit).toBe(`"search"; r=0; t=${retryAfter}`);
    expect(limited.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
    expect(JSON.parse(limited.body)).toEqual({
      type: 'about:blank', title: 'Too Many Requests', status: 429, instance: '/search?q=Radweg',
      detail: `More than 3 requests per minute of search from this address; try again in ${retryAfter} s.`,
      limit: 3, window_seconds: 60,
    });
  });

  test('search feeds (?q=) share the bucket, however the path is spelled; plain feeds, pages, the API and other clients are not limited', async () => {
    const { t, get } = await served({ HEROLD_RATE_LIMIT_SEARCH: '3', HEROLD_RATE_LIMIT_API: '50' });
    expect(await statuses(get, '/feeds/all.rss?q=Radweg', 2)).toEqual([200, 200]);
    expect((await get('/SEARCH/?q=Radweg')).status).toBe(200);
    // The bucket is empty now, for every way of searching.
    expect((await get('/search?q=Radweg')).status).toBe(429);
    expect((await get('/Search?q=Stadtfest')).status).toBe(429);
    expect((await get('/feeds/all.json?q=Stadtfest')).status).toBe(429);
    expect((await get('/feeds/topics/verkehr.atom?q=')).status).toBe(429);
    // Without a search nothing is counted, and there are no RateLimit headers.
    const plain = await get('/feeds/all.rss');
    expect(plain.status).toBe(200);
    expect(plain.headers.ratelimit).toBeUndefined();
    expect(await statuses(get, '/', 5)).toEqual([200, 200, 200, 200, 200]);
    // The API has its own bucket.
    const api = await get('/api/v1/releases');
    expect(api.status).toBe(200);
    expect(api.headers.ratelimit).toMatch(/^"api"; r=49; t=\d+$/);
    // Another client address has its own bucket.
    const other = await get('/search?q=Radweg', { from: '127.0.0.2' });
    expect(other.status).toBe(200);
    expect(other.headers.ratelimit).toMatch(/^"search"; r=2; /);
    // Rejections are counted by limiter.
    expect((await get('/metrics')).body).toMatch(/^herold_rate_limited_total\{limiter="search"\} 4$/m);
    expect(t.logs).toEqual([]);
  });

  test('0 disables the limit', async () => {
    const { get } = await served({ HEROLD_RATE_LIMIT_SEARCH: '0', HEROLD_RATE_LIMIT_API: '0' });
    for (const path of ['/search?q=Radweg', '/feeds/all.rss?q=Radweg', '/api/v1/releases']) {
      for (let i = 0; i < 8; i++) {
        const answer = await get(path);
        expect(answer.status, path).toBe(200);
        expect(answer.headers.ratelimit, path).toBeUndefined();
      }
    }
  });
});

describe('the API limit (HEROLD_RATE_LIMIT_API)', () => {
  test('covers all of /api/v1/ per client address; a valid API token gets ten times as much in a bucket of its own, a wrong one does not', async () => {
    const { get } = await served({ HEROLD_RATE_LIMIT_API: '2', HEROLD_RATE_LIMIT_SEARCH: '0', HEROLD_API_TOKENS: API_TOKEN });
    expect((await get('/api/v1/headlines')).status).toBe(200);
    expect((await get('/api/v1/releases')).status).toBe(200);
    const limited = await get('/api/v1/openapi.json');
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body)).toMatchObject({ status: 429, title: 'Too Many Requests', detail: expect.stringContaining('More than 2 requests per minute on the API from this address') });
    expect((await get('/API/V1/releases')).status).toBe(429);
    expect((await get('/api/v1/releases', { headers: { Authorization: 'Bearer not-the-token-0123456789' } })).status).toBe(429);
    // Search is not the API's business (and is unlimited here).
    expect((await get('/search?q=Radweg')).status).toBe(200);

    const authorised = { headers: { Authorization: `Bearer ${API_TOKEN}` } };
    const first = await get('/api/v1/releases', authorised);
    expect(first.status).toBe(200);
    expect(first.headers.ratelimit).toMatch(/^"author"; r=19; t=\d+$/);
    expect(first.headers['ratelimit-policy']).toMatch(/^"author"; q=20; w=60; /);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push((await get('/api/v1/releases', authorised)).status);
    expect(seen).toEqual([...Array<number>(19).fill(200), 429]);
    // The same token from another address is the same bucket.
    expect((await get('/api/v1/releases', { ...authorised, from: '127.0.0.3' })).status).toBe(429);
    expect((await get('/api/v1/releases', { from: '127.0.0.3' })).status).toBe(200);
  });

  test('a 429 of the embeddable headlines can be read by the embedding page (CORS), as their other answers', async () => {
    const { get } = await served({ HEROLD_RATE_LIMIT_API: '1' });
    const ok = await get('/api/v1/headlines', { headers: { Origin: 'https://verein.example' } });
    expect(ok.status).toBe(200);
    const limited = await get('/api/v1/headlines', { headers: { Origin: 'https://verein.example' } });
    expect(limited.status).toBe(429);
    expect(limited.headers['access-control-allow-origin']).toBe('*');
    expect(limited.headers['access-control-expose-headers']).toBe('ETag');
    expect(JSON.parse(limited.body)).toMatchObject({ status: 429, title: 'Too Many Requests' });
    // Other API routes are not opened to every origin by it.
    expect((await get('/api/v1/releases')).headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('trust proxy (HEROLD_TRUST_PROXY)', () => {
  test('without it, X-Forwarded-For does not change the client: every request is the socket\'s address', async () => {
    const { get } = await served({ HEROLD_RATE_LIMIT_SEARCH: '3' });
    const seen: number[] = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) {
      seen.push((await get('/search?q=Radweg', { headers: { 'X-Forwarded-For': client } })).status);
    }
    expect(seen).toEqual([200, 200, 200, 429]);
  });

  test('with "loopback", the forwarded address is the client: each has its own bucket', async () => {
    const { get } = await served({ HEROLD_RATE_LIMIT_SEARCH: '3', HEROLD_TRUST_PROXY: 'loopback' });
    const as = (client: string) => ({ headers: { 'X-Forwarded-For': client } });
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) seen.push((await get('/search?q=Radweg', as('203.0.113.1'))).status);
    expect(seen).toEqual([200, 200, 200, 429]);
    expect((await get('/search?q=Radweg', as('203.0.113.2'))).status).toBe(200);
    // A client naming a forwarder of its own is still told apart by the address the trusted proxy saw.
    expect((await get('/search?q=Radweg', as('203.0.113.1, 198.51.100.7'))).status).toBe(200);
  });
});
