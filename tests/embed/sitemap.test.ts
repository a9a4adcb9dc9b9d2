import { XMLParser, XMLValidator } from 'fast-xml-parser';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { SITEMAP_PART } from '../../src/embed/sitemap.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';
import { EMBARGO, EMBARGOED_SLUG, NASTY_SLUG, SCRIPT_SLUG, SCRIPT_TITLE, WITHDRAWN_SLUG, seededApp } from './seed.js';

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

const parser = new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, trimValues: true, isArray: (name) => name === 'url',
});

interface UrlNode {
  loc: string;
  lastmod?: string;
  'news:news'?: {
    'news:publication': { 'news:name': string; 'news:language': string };
    'news:publication_date': string;
    'news:title': string;
  };
}

/** Checks the document is well-formed and returns its urlset. */
function urlset(xml: string): { '@xmlns': string; '@xmlns:news'?: string; url?: UrlNode[] } {
  expect(XMLValidator.validate(xml)).toBe(true);
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<urlset ')).toBe(true);
  return parser.parse(xml).urlset;
}

const W3C = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('GET /sitemap.xml', () => {
  test('lists every public page: home, feeds, topics and departments with visible releases, and each visible release with lastmod', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/sitemap.xml').expect(200);
    expect(res.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers.etag).toBeTruthy();
    const set = urlset(res.text);
    expect(set['@xmlns']).toBe('http://www.sitemaps.org/schemas/sitemap/0.9');
    const locs = set.url!.map((url) => url.loc);
    expect(new Set(locs).size).toBe(locs.length);
    expect(locs).toEqual([
      `${BASE_URL}/`,
      `${BASE_URL}/feeds`,
      ...['finanzen', 'kultur', 'strassenbau', 'verkehr', 'verwaltung'].map((slug) => `${BASE_URL}/topics/${slug}`),
      ...['fachbereich-buergerservice', 'fachbereich-finanzen', 'fachbereich-kultur', 'fachbereich-mobilitaet-und-verkehr']
        .map((slug) => `${BASE_URL}/departments/${slug}`),
      ...[SCRIPT_SLUG, NASTY_SLUG, 'haushalt-2027-der-ausfuehrliche-bericht', 'oeffnungszeiten-der-buergerbueros-ueber-die-feiertage']
        .map((slug) => `${BASE_URL}/releases/${slug}`),
    ]);
    // Neither the embargoed release nor the terms only it has give it away; the withdrawn one is gone.
    expect(res.text).not.toContain(EMBARGOED_SLUG);
    expect(res.text).not.toContain('wahlen-2026');
    expect(res.text).not.toContain('wahlamt');
    expect(res.text).not.toContain(WITHDRAWN_SLUG);
    const releases = set.url!.filter((url) => url.loc.includes('/releases/'));
    for (const url of releases) expect(url.lastmod).toMatch(W3C);
    expect(releases[0]!.lastmod).toBe('2026-11-24T10:00:00Z');
  });

  test('lastmod is the correction time once a release was corrected', async () => {
    const t = await seededApp(apps);
    const release = t.store.releaseBySlug(NASTY_SLUG)!;
    t.store.upsertReleases([input({
      guid: release.guid, title: release.title, body: '<p>Korrigierter Text.</p>', publishedAt: release.publishedAt,
      topics: ['Verkehr'], department: 'Fachbereich Mobilität und Verkehr',
    })], { now: new Date('2026-11-25T09:15:00Z') });
    const set = urlset((await request(t.app).get('/sitemap.xml').expect(200)).text);
    expect(set.url!.find((url) => url.loc.endsWith(NASTY_SLUG))!.lastmod).toBe('2026-11-25T09:15:00Z');
  });

  test('takes an embargoed release in once its time has come, with its topic and department', async () => {
    const t = await seededApp(apps);
    const before = await request(t.app).get('/sitemap.xml').expect(200);
    t.now = new Date(Date.parse(EMBARGO) + 1);
    const after = await request(t.app).get('/sitemap.xml').expect(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const locs = urlset(after.text).url!.map((url) => url.loc);
    expect(locs).toContain(`${BASE_URL}/releases/${EMBARGOED_SLUG}`);
    expect(locs).toContain(`${BASE_URL}/topics/wahlen-2026`);
    expect(locs).toContain(`${BASE_URL}/departments/wahlamt`);
  });
});

describe('a sitemap of more releases than one file holds', () => {
  test(`is an index of parts of ${SITEMAP_PART} release ids each; together they list every visible release once, part 1 the other pages too`, async () => {
    const t = createTestApp({ now: new Date('2026-11-25T12:00:00Z') });
    apps.push(t);
    const count = SITEMAP_PART + 7;
    const day = (index: number) => new Date(Date.UTC(2020, 0, 1) + index * 3_600_000).toISOString();
    // Ids follow the order of writing: the withdrawn release is in part 1, the embargoed one in part 2.
    const hidden = { withdrawn: 3, embargoed: count - 2 };
    t.store.upsertReleases(Array.from({ length: count }, (_, index) => input({
      guid: `tag:lindenau.example,2026:teil-${index}`, title: `Meldung ${index}`, publishedAt: day(index), topics: index % 2 ? ['Verkehr'] : ['Kultur'],
      ...(index === hidden.withdrawn ? { status: 'withdrawn' as const } : {}),
      ...(index === hidden.embargoed ? { embargoUntil: '2026-12-01T00:00:00Z' } : {}),
    })), { now: t.now });

    const index = await request(t.app).get('/sitemap.xml').expect(200);
    expect(index.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(XMLValidator.validate(index.text)).toBe(true);
    const files = new XMLParser({ isArray: (name) => name === 'sitemap' }).parse(index.text).sitemapindex;
    expect(index.text).toContain('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">');
    expect(files.sitemap.map((file: { loc: string }) => file.loc)).toEqual([`${BASE_URL}/sitemap.xml?part=1`, `${BASE_URL}/sitemap.xml?part=2`]);

    const parts = await Promise.all([1, 2].map(async (part) => urlset((await request(t.app).get(`/sitemap.xml?part=${part}`).expect(200)).text).url!));
    expect(parts[0]!.slice(0, 4).map((url) => url.loc)).toEqual([`${BASE_URL}/`, `${BASE_URL}/feeds`, `${BASE_URL}/topics/kultur`, `${BASE_URL}/topics/verkehr`]);
    const listed = parts.map((urls) => urls.filter((url) => url.loc.includes('/releases/')).map((url) => url.loc.split('/releases/')[1]!));
    expect(listed[0]).toHaveLength(SITEMAP_PART - 1);
    expect(listed[1]).toHaveLength(6);
    const visible = t.store.newestListings({ now: t.now, limit: count }).map((release) => release.slug);
    expect(visible).toHaveLength(count - 2);
    // Newest first within each part; every visible release once in all.
    expect([...listed[1]!, ...listed[0]!]).toEqual(visible);
    expect(parts[1]!.every((url) => W3C.test(url.lastmod!))).toBe(true);

    await request(t.app).get('/sitemap.xml?part=3').expect(404);
    for (const query of ['part=0', 'part=zwei', 'part=1&part=2', 'part=01', `part=${'9'.repeat(7)}`]) {
      const answer = await request(t.app).get(`/sitemap.xml?${query}`).expect(400);
      expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(answer.body.parameter).toBe('part');
    }
  }, 60_000);
});

describe('GET /news-sitemap.xml', () => {
  test('is a Google News sitemap of the releases of the last two days', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/news-sitemap.xml').expect(200);
    expect(res.headers['content-type']).toBe('application/xml; charset=utf-8');
    const set = urlset(res.text);
    expect(set['@xmlns']).toBe('http://www.sitemaps.org/schemas/sitemap/0.9');
    expect(set['@xmlns:news']).toBe('http://www.google.com/schemas/sitemap-news/0.9');
    expect(set.url).toEqual([{
      loc: `${BASE_URL}/releases/${SCRIPT_SLUG}`,
      'news:news': {
        'news:publication': { 'news:name': 'Pressestelle Stadt Lindenau', 'news:language': 'de' },
        'news:publication_date': '2026-11-24T10:00:00Z',
        'news:title': SCRIPT_TITLE,
      },
    }]);
    expect(res.text).toContain('<news:title>Bürgerfest &lt;Markt&gt; &amp; &quot;Ruhe&quot; &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</news:title>');
  });

  test('the window moves with the clock, and an embargoed release joins when its embargo lifts', async () => {
    const t = await seededApp(apps);
    t.store.upsertReleases([
      input({ guid: 'edge-in', title: 'Gerade noch', publishedAt: '2026-11-23T12:00:00Z' }),
      input({ guid: 'edge-out', title: 'Knapp vorbei', publishedAt: '2026-11-23T11:59:59Z' }),
    ], { now: new Date('2026-11-24T12:00:00Z') });
    const slugs = async () => (urlset((await request(t.app).get('/news-sitemap.xml').expect(200)).text).url ?? [])
      .map((url) => url.loc.replace(`${BASE_URL}/releases/`, ''));

    expect(await slugs()).toEqual([SCRIPT_SLUG, 'gerade-noch']);
    t.now = new Date(EMBARGO);
    expect(await slugs()).toEqual([EMBARGOED_SLUG, SCRIPT_SLUG]);
    t.now = new Date('2026-11-26T10:00:00Z');
    expect(await slugs()).toEqual([EMBARGOED_SLUG, SCRIPT_SLUG]);
    t.now = new Date('2026-11-26T10:01:00Z');
    expect(await slugs()).toEqual([EMBARGOED_SLUG]);
    t.now = new Date('2026-11-28T15:00:00Z');
    expect(await slugs()).toEqual([]);
    expect(await slugs()).not.toContain(WITHDRAWN_SLUG);
  });

  test('an empty window is still a valid sitemap', async () => {
    const t = await seededApp(apps);
    t.now = new Date('2027-06-01T00:00:00Z');
    const set = urlset((await request(t.app).get('/news-sitemap.xml').expect(200)).text);
    expect(set.url).toBeUndefined();
  });
});

describe('GET /robots.txt', () => {
  test('allows crawling but the embeds and the API, and names both sitemaps', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get('/robots.txt').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text).toBe([
      'User-agent: *',
      'Allow: /',
      'Disallow: /embed/',
      'Disallow: /api/',
      '',
      `Sitemap: ${BASE_URL}/sitemap.xml`,
      `Sitemap: ${BASE_URL}/news-sitemap.xml`,
      '',
    ].join('\n'));
    // Every line is a directive robots.txt parsers know.
    for (const line of res.text.split('\n').filter(Boolean)) expect(line).toMatch(/^(User-agent|Allow|Disallow|Sitemap): \S+$/);
  });
});
