import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { nastyReleases } from '../helpers/fixtures.js';
import { atomProblems, jsonFeedProblems, rssProblems } from '../helpers/validate.js';

const HUB = `${BASE_URL}/websub`;
let t: TestApp;

beforeAll(async () => {
  t = createTestApp();
  t.store.upsertReleases(await nastyReleases(), { now: new Date('2026-11-21T00:00:00Z') });
});
afterAll(() => t.close());

describe('discovery (W3C WebSub 4): every feed names Herold\'s hub and itself', () => {
  test.each(['/feeds/all', '/feeds/topics/verkehr', '/feeds/departments/fachbereich-finanzen'])('%s in every format', async (path) => {
    const rss = await request(t.app).get(`${path}.rss`).expect(200);
    expect(rss.headers.link).toBe(`<${HUB}>; rel="hub", <${BASE_URL}${path}.rss>; rel="self"`);
    expect(rss.text).toContain(`<atom:link href="${HUB}" rel="hub"/>`);
    expect(rssProblems(rss.text, `${BASE_URL}${path}.rss`)).toEqual([]);

    const atom = await request(t.app).get(`${path}.atom`).expect(200);
    expect(atom.headers.link).toBe(`<${HUB}>; rel="hub", <${BASE_URL}${path}.atom>; rel="self"`);
    expect(atom.text).toContain(`<link rel="hub" href="${HUB}"/>`);
    expect(atomProblems(atom.text, `${BASE_URL}${path}.atom`)).toEqual([]);

    const json = await request(t.app).get(`${path}.json`).expect(200);
    expect(json.headers.link).toBe(`<${HUB}>; rel="hub", <${BASE_URL}${path}.json>; rel="self"`);
    expect(JSON.parse(json.text).hubs).toEqual([{ type: 'WebSub', url: HUB }]);
    expect(jsonFeedProblems(json.text)).toEqual([]);
  });

  test('the self link carries the normalized query, as the feed\'s own self link does', async () => {
    const res = await request(t.app).get('/feeds/all.atom?limit=5').expect(200);
    expect(res.headers.link).toBe(`<${HUB}>; rel="hub", <${BASE_URL}/feeds/all.atom?limit=5>; rel="self"`);
    expect(atomProblems(res.text, `${BASE_URL}/feeds/all.atom?limit=5`)).toEqual([]);
  });

  test('a 304 names the hub too; a feed that does not exist names none', async () => {
    const first = await request(t.app).get('/feeds/all.json').expect(200);
    const again = await request(t.app).get('/feeds/all.json').set('If-None-Match', first.headers.etag!).expect(304);
    expect(again.headers.link).toContain('rel="hub"');
    const missing = await request(t.app).get('/feeds/topics/gibt-es-nicht.atom').expect(404);
    expect(missing.headers.link).toBeUndefined();
  });

  test('without a running hub, /websub answers 503 rather than accepting what it cannot verify', async () => {
    await request(t.app).post('/websub').type('form')
      .send(`hub.mode=subscribe&hub.topic=${encodeURIComponent(`${BASE_URL}/feeds/all.atom`)}&hub.callback=http%3A%2F%2F127.0.0.1%2Fcb`)
      .expect(503);
  });
});
