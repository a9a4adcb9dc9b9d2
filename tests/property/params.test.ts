import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpError } from '../../src/http/errors.js';
import { feedQueryString, parseFeedQuery } from '../../src/feeds/query.js';
import type { TestApp } from '../helpers/app.js';
import { xmlProblems } from '../helpers/validate.js';
import { seededApp } from '../embed/seed.js';
import { anyString, nastyString } from './arbitraries.js';

const apps: TestApp[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await seededApp(apps);
});
afterAll(() => {
  for (const app of apps) app.close();
});

/** Percent-encodes every byte but the unreserved ones; lone surrogates go as UTF-8 of U+FFFD, as a browser sends them. */
function encode(value: string): string {
  return [...Buffer.from(value, 'utf8')].map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A raw query-string value: arbitrary text encoded, or broken percent-encoding as clients send it. */
const rawValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: anyString.map(encode) },
  { weight: 2, arbitrary: fc.constantFrom('1', '0', '-1', '20', '100', '101', '9999', '10000', '10001', '1e2', '0x10', '1.5', '+1', '%201', '001', '99999999999999999999', 'verkehr', 'fachbereich-finanzen', 'auto', 'dark', 'light', '') },
  { weight: 2, arbitrary: fc.array(fc.constantFrom('%', '%Z', '%ZZ', '%C3', '%ED%A0%80', '%F4%90%80%80', '%00', '%0A', '+', '%2B', '%26', '%3D', '%FF', 'a', 'ä'), { maxLength: 6 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('http://herold.test/releases/x', 'http://herold.test/', 'https://herold.test/releases/%ZZ', 'http://herold.test/releases/' + 'a'.repeat(3000), 'javascript:alert(1)', 'http://[::1', '//herold.test/topics/verkehr').map(encode) },
);

const NAMES = ['q', 'limit', 'page', 'topic', 'department', 'theme', 'url', 'cursor'] as const;
/** A query string of some of the parameters, sometimes one twice, sometimes with a bracketed name. */
const queryString = fc.array(fc.tuple(fc.constantFrom(...NAMES, 'q[]', 'limit[a]', 'format', 'maxwidth', 'maxheight'), rawValue), { minLength: 1, maxLength: 4 })
  .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('&'));

const ENDPOINTS = [
  '/feeds/all.rss', '/feeds/all.atom', '/feeds/all.json', '/feeds/topics/verkehr.atom', '/feeds/departments/fachbereich-finanzen.rss',
  '/search', '/api/v1/headlines', '/embed/headlines', '/oembed', '/api/v1/releases',
] as const;
const ALLOWED = [200, 304, 400, 404, 501];

describe('any value of any query parameter', () => {
  test('is answered 200, 304, 400, 404 or 501, never 500; errors are problem JSON; feeds stay well-formed', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ENDPOINTS), queryString, async (path, query) => {
      const url = `${path}?${query}`;
      const res = await request(t.app).get(url);
      // Node's HTTP server answers a request line over its 16 KiB header limit itself, before the app.
      if (url.length > 16_000 && res.status === 431) return;
      expect(ALLOWED, `${path}?${query} → ${res.status} ${res.text.slice(0, 300)}`).toContain(res.status);
      if (path === '/search' && res.status === 404) {
        // An HTML page past the end is answered with the HTML 404 page, by design (src/pages/list-routes.ts).
        expect(res.headers['content-type']).toMatch(/^text\/html/);
      } else if (res.status >= 400) {
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const problem = JSON.parse(res.text) as { status: number; title: string };
        expect(problem.status).toBe(res.status);
        expect(problem.title).toBeTruthy();
      } else if (res.status === 200 && /\.(rss|atom)$/.test(path)) {
        expect(xmlProblems(res.text)).toEqual([]);
      } else if (res.status === 200 && /json/.test(res.headers['content-type'] ?? '')) {
        expect(() => JSON.parse(res.text)).not.toThrow();
      }
    }), { numRuns: 300 });
  }, 60_000);

  test('search terms of arbitrary text find or do not find, but never fail', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom('/search', '/feeds/all.json', '/api/v1/headlines', '/api/v1/releases'), nastyString(40), async (path, q) => {
      const res = await request(t.app).get(`${path}?q=${encode(q)}`);
      expect([200, 400], `${path}?q=${JSON.stringify(q)} → ${res.status} ${res.text.slice(0, 300)}`).toContain(res.status);
    }), { numRuns: 100 });
  }, 60_000);
});

describe('parseFeedQuery', () => {
  const value = fc.oneof(anyString, fc.constantFrom('1', '100', '10000', '0', '101'), fc.array(anyString, { maxLength: 2 }), fc.constant({ a: '1' }));
  test('gives a query or throws an HttpError 400, nothing else; a parsed query prints again as ASCII', () => {
    fc.assert(fc.property(fc.dictionary(fc.constantFrom('q', 'limit', 'page', 'other'), value), (query) => {
      try {
        const parsed = parseFeedQuery(query);
        expect(parsed.limit).toBeGreaterThanOrEqual(1);
        expect(parsed.page).toBeGreaterThanOrEqual(1);
        expect(feedQueryString(parsed)).toMatch(/^[\x21-\x7E]*$/);
      } catch (error) {
        if (!(error instanceof HttpError) || error.status !== 400 || !error.message) throw error;
      }
    }), { numRuns: 300 });
  }, 15_000);
});
