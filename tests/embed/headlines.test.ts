import * as cheerio from 'cheerio';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';
import { EMBARGO, EMBARGOED_SLUG, NASTY_SLUG, SCRIPT_SLUG, SCRIPT_TITLE, WITHDRAWN_SLUG, seededApp } from './seed.js';

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

const slugOf = (url: string) => url.replace(`${BASE_URL}/releases/`, '');

describe('GET /api/v1/headlines', () => {
  test('answers the newest visible headlines as JSON with CORS, a short max-age and validators, and no cookie', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/api/v1/headlines').set('Origin', 'https://blog.example').expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(res.headers['last-modified']).toBe('Tue, 24 Nov 2026 12:00:00 GMT');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.body.feed).toBe(`${BASE_URL}/feeds/all.json`);
    expect(res.body.items.map((item: { url: string }) => slugOf(item.url))).toEqual([
      SCRIPT_SLUG, NASTY_SLUG, 'haushalt-2027-der-ausfuehrliche-bericht', 'oeffnungszeiten-der-buergerbueros-ueber-die-feiertage',
    ]);
    expect(res.body.items[0]).toEqual({
      title: SCRIPT_TITLE,
      url: `${BASE_URL}/releases/${SCRIPT_SLUG}`,
      published_at: '2026-11-24T10:00:00.000Z',
      date_label: '24. November 2026',
      department: 'Fachbereich Kultur',
    });
    expect(res.body.items[1].image).toEqual({ url: `${BASE_URL}/media/bild-ohne-endung`, alt: 'Ein Farbverlauf in Blau & Grün', width: 40, height: 30 });
  });

  test('the date label is the day in Berlin, not in UTC', async () => {
    const t = createTestApp();
    apps.push(t);
    t.store.upsertReleases([input({ guid: 'late', title: 'Spät am Abend', publishedAt: '2026-11-20T23:30:00Z' })]);
    const res = await request(t.app).get('/api/v1/headlines').expect(200);
    expect(res.body.items[0].date_label).toBe('21. November 2026');
  });

  test('filters by topic, department and search, and names the matching feed', async () => {
    const t = await seededApp(apps);
    const topic = await request(t.app).get('/api/v1/headlines?topic=verkehr').expect(200);
    expect(topic.body.items.map((item: { url: string }) => slugOf(item.url))).toEqual([NASTY_SLUG, 'oeffnungszeiten-der-buergerbueros-ueber-die-feiertage']);
    expect(topic.body.feed).toBe(`${BASE_URL}/feeds/topics/verkehr.json`);
    expect(topic.body.title).toBe('Pressestelle Stadt Lindenau: Verkehr');

    const department = await request(t.app).get('/api/v1/headlines?department=fachbereich-finanzen').expect(200);
    expect(department.body.items).toHaveLength(1);
    expect(department.body.feed).toBe(`${BASE_URL}/feeds/departments/fachbereich-finanzen.json`);

    const search = await request(t.app).get(`/api/v1/headlines?q=${encodeURIComponent('Bürgerbüros')}`).expect(200);
    expect(search.body.items.map((item: { url: string }) => slugOf(item.url))).toEqual(['oeffnungszeiten-der-buergerbueros-ueber-die-feiertage']);
    expect(search.body.feed).toBe(`${BASE_URL}/feeds/all.json?q=B%C3%BCrgerb%C3%BCros`);

    const scoped = await request(t.app).get('/api/v1/headlines?topic=finanzen&q=Haushalt').expect(200);
    expect(scoped.body.items).toHaveLength(1);
    expect(scoped.body.feed).toBe(`${BASE_URL}/feeds/topics/finanzen.json?q=Haushalt`);

    const limited = await request(t.app).get('/api/v1/headlines?limit=1').expect(200);
    expect(limited.body.items).toHaveLength(1);
  });

  test('answers 304 to a matching If-None-Match, still with CORS', async () => {
    const t = await seededApp(apps);
    const first = await request(t.app).get('/api/v1/headlines?limit=2').expect(200);
    const again = await request(t.app).get('/api/v1/headlines?limit=2').set('If-None-Match', first.headers.etag!).expect(304);
    expect(again.headers['access-control-allow-origin']).toBe('*');
    const gzip = await request(t.app).get('/api/v1/headlines?limit=2').set('Accept-Encoding', 'gzip').expect(200);
    expect(gzip.headers['content-encoding']).toBe('gzip');
  });

  test('answers a CORS preflight with 204', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).options('/api/v1/headlines?topic=verkehr')
      .set('Origin', 'https://blog.example')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'if-none-match')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toContain('GET');
    expect(res.headers['access-control-allow-headers']?.toLowerCase()).toContain('if-none-match');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.text).toBe('');
  });

  test.each([
    ['limit=0', 'limit'], ['limit=51', 'limit'], ['limit=abc', 'limit'], ['limit=5.5', 'limit'],
    ['theme=blue', 'theme'], ['limit=1&limit=2', 'limit'], ['topic=verkehr&topic=kultur', 'topic'],
    [`q=${'a'.repeat(201)}`, 'q'], ['topic=verkehr&department=fachbereich-kultur', 'department'],
  ])('?%s is a 400 problem naming "%s", readable cross-origin', async (query, parameter) => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(`/api/v1/headlines?${query}`).expect(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', parameter });
    expect(res.body.detail).toContain(parameter);
  });

  test('a query of 200 characters is still fine', async () => {
    const t = await seededApp(apps);
    await request(t.app).get(`/api/v1/headlines?q=${'ä'.repeat(200)}`).expect(200);
  });

  test.each(['topic=gibt-es-nicht', 'department=gibt-es-nicht', 'topic=Verkehr%20und%20mehr'])('?%s is a 404 problem', async (query) => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(`/api/v1/headlines?${query}`).expect(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found' });
  });

  test('keeps embargoed and withdrawn releases out until the embargo lifts, then shows it at once', async () => {
    const t = await seededApp(apps);
    const before = await request(t.app).get('/api/v1/headlines?limit=50').expect(200);
    const slugs = before.body.items.map((item: { url: string }) => slugOf(item.url));
    expect(slugs).not.toContain(EMBARGOED_SLUG);
    expect(slugs).not.toContain(WITHDRAWN_SLUG);
    const search = await request(t.app).get('/api/v1/headlines?q=Oberb%C3%BCrgermeister').expect(200);
    expect(search.body.items).toEqual([]);

    t.now = new Date(Date.parse(EMBARGO) + 1000);
    const after = await request(t.app).get('/api/v1/headlines?limit=50').expect(200);
    expect(slugOf(after.body.items[0].url)).toBe(EMBARGOED_SLUG);
    expect(after.body.items.map((item: { url: string }) => slugOf(item.url))).not.toContain(WITHDRAWN_SLUG);
    const found = await request(t.app).get('/api/v1/headlines?q=Oberb%C3%BCrgermeister').expect(200);
    expect(found.body.items).toHaveLength(1);
  });
});

describe('GET /embed/headlines', () => {
  test('is a complete, framable HTML document without script, listing the headlines as links out', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/embed/headlines?limit=3').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain('frame-ancestors *');
    expect(res.headers['content-security-policy']).not.toContain("frame-ancestors 'none'");
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.text).toMatch(/^<!doctype html>\n<html lang="de" data-theme="auto">/);

    const $ = cheerio.load(res.text);
    expect($('meta[name="robots"]').attr('content')).toBe('noindex');
    expect($('script')).toHaveLength(0);
    expect($('[style]')).toHaveLength(0);
    expect($('link[rel="stylesheet"]')).toHaveLength(0);
    const section = $('section');
    expect($(`#${section.attr('aria-labelledby')}`).text()).toBe('Pressestelle Stadt Lindenau');
    const links = $('ul li a');
    expect(links).toHaveLength(3);
    links.each((_, link) => {
      expect($(link).attr('target')).toBe('_blank');
      expect($(link).attr('rel')).toBe('noopener');
      expect($(link).attr('href')).toMatch(new RegExp(`^${BASE_URL}/releases/`));
    });
    expect($('ul li time').first().attr('datetime')).toBe('2026-11-24T10:00:00.000Z');
    expect($('ul li time').first().text()).toBe('24. November 2026');
  });

  test('escapes a title that tries to close elements or attributes', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/embed/headlines').expect(200);
    expect(res.text).toContain('Bürgerfest &lt;Markt&gt; &amp; &quot;Ruhe&quot; &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toContain('</script>');
    expect(res.text).not.toContain('<Markt>');
    const $ = cheerio.load(res.text);
    expect($('ul li a').first().text()).toBe(SCRIPT_TITLE);
    // The style element is not decoded: it must not carry entities.
    expect($('style').text()).not.toContain('&');
  });

  test('takes the theme: light, dark, or auto following the system setting', async () => {
    const t = await seededApp(apps);
    for (const theme of ['light', 'dark'] as const) {
      const res = await request(t.app).get(`/embed/headlines?theme=${theme}`).expect(200);
      expect(cheerio.load(res.text)('html').attr('data-theme')).toBe(theme);
    }
    const auto = await request(t.app).get('/embed/headlines?theme=auto').expect(200);
    const $ = cheerio.load(auto.text);
    expect($('html').attr('data-theme')).toBe('auto');
    expect($('style').text()).toContain('@media (prefers-color-scheme:dark){html[data-theme=auto]');
    const bad = await request(t.app).get('/embed/headlines?theme=neon').expect(400);
    expect(bad.body.parameter).toBe('theme');
  });

  test('a normal page stays unframable', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/feeds').expect(200);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  test('filters like the API, says so when empty, and answers 404 for an unknown topic', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/embed/headlines?topic=verkehr&theme=dark').expect(200);
    const $ = cheerio.load(res.text);
    expect($('h1').text()).toBe('Pressestelle Stadt Lindenau: Verkehr');
    expect($('a')).toHaveLength(2);
    expect($('ul li')).toHaveLength(2);
    const empty = await request(t.app).get('/embed/headlines?q=Zeppelin').expect(200);
    expect(cheerio.load(empty.text)('p.note').text()).toBe('Zurzeit gibt es hier keine Pressemitteilungen.');
    await request(t.app).get('/embed/headlines?topic=gibt-es-nicht').expect(404);
  });

  test('shows an embargoed release only once its time has come', async () => {
    const t = await seededApp(apps);
    const before = await request(t.app).get('/embed/headlines').expect(200);
    expect(before.text).not.toContain(EMBARGOED_SLUG);
    t.now = new Date(EMBARGO);
    const after = await request(t.app).get('/embed/headlines').expect(200);
    expect(after.text).toContain(EMBARGOED_SLUG);
  });
});

describe('GET /embed/release/{slug}', () => {
  test('is a framable card of one release with image, date and issuer', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(`/embed/release/${NASTY_SLUG}?theme=light`).expect(200);
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain('frame-ancestors *');
    const $ = cheerio.load(res.text);
    expect($('html').attr('data-theme')).toBe('light');
    expect($('meta[name="robots"]').attr('content')).toBe('noindex');
    expect($('script')).toHaveLength(0);
    expect($('article h1 a').attr('href')).toBe(`${BASE_URL}/releases/${NASTY_SLUG}`);
    expect($('article h1 a').attr('target')).toBe('_blank');
    expect($('img').attr('src')).toBe(`${BASE_URL}/media/bild-ohne-endung`);
    expect($('img').attr('alt')).toBe('Ein Farbverlauf in Blau & Grün');
    expect($('time').text()).toBe('20. November 2026');
    expect($('.meta').text()).toContain('Fachbereich Mobilität und Verkehr');
  });

  test('escapes the title, and answers 404 for embargoed, withdrawn and unknown releases', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(`/embed/release/${SCRIPT_SLUG}`).expect(200);
    expect(res.text).not.toContain('</script>');
    expect(cheerio.load(res.text)('h1').text()).toBe(SCRIPT_TITLE);
    for (const slug of [EMBARGOED_SLUG, WITHDRAWN_SLUG, 'gibt-es-nicht', 'NICHT_SO']) {
      await request(t.app).get(`/embed/release/${slug}`).expect(404);
    }
    t.now = new Date(EMBARGO);
    await request(t.app).get(`/embed/release/${EMBARGOED_SLUG}`).expect(200);
  });

  test('an embed made before the slug changed redirects to the current one', async () => {
    const t = await seededApp(apps);
    const release = t.store.releaseBySlug(SCRIPT_SLUG)!;
    t.store.upsertReleases([input({
      guid: release.guid, title: 'Bürgerfest verschoben', topics: ['Kultur'], department: 'Fachbereich Kultur',
      publishedAt: release.publishedAt,
    })], { now: new Date('2026-11-25T08:00:00Z') });
    const res = await request(t.app).get(`/embed/release/${SCRIPT_SLUG}?theme=dark`).expect(301);
    expect(res.headers.location).toBe(`${BASE_URL}/embed/release/buergerfest-verschoben?theme=dark`);
  });
});
