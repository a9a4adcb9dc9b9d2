import { load, type CheerioAPI } from 'cheerio';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { input, nastyReleases } from '../helpers/fixtures.js';
import { SEARCH_RESULTS_SHOWN } from '../../src/pages/list-page.js';

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

const EMBARGO = '2026-11-26T08:00:00.000Z';

/** The nasty releases plus an embargoed one, a withdrawn one, one with an unpublished image and one just before midnight. */
async function seeded(): Promise<TestApp> {
  const t = createTestApp();
  apps.push(t);
  t.store.upsertReleases([
    ...await nastyReleases(),
    input({ guid: 'tag:x,2026:embargo', title: 'Neue Oberbürgermeisterin vereidigt', topics: ['Wahlen'], department: 'Wahlamt',
      publishedAt: '2026-11-24T10:00:00Z', embargoUntil: EMBARGO }),
    input({ guid: 'tag:x,2026:withdrawn', title: 'Zurückgezogene Baustellenmeldung', topics: ['Verkehr'],
      department: 'Fachbereich Mobilität und Verkehr', publishedAt: '2026-11-23T10:00:00Z', status: 'withdrawn' }),
    input({ guid: 'tag:x,2026:file-image', title: 'Stadtfest im Park', body: '<p>Das Stadtfest beginnt am Samstag im Stadtpark mit Musik.</p>',
      topics: ['Kultur'], department: 'Kulturbüro', publishedAt: '2026-11-18T23:30:00Z',
      images: [{ url: 'stadtfest.jpg', title: null, alt: 'Bühne', caption: null, credit: null, width: null, height: null, mime: null, bytes: null }] }),
  ], { now: new Date('2026-11-21T00:00:00Z') });
  return t;
}

/** 25 releases on 25 days, newest "Meldung 25". */
function paged(): TestApp {
  const t = createTestApp();
  apps.push(t);
  t.store.upsertReleases(Array.from({ length: 25 }, (_, index) => input({
    guid: `tag:x,2026:page-${index + 1}`, title: `Meldung ${index + 1}`, topics: ['Verkehr'], department: 'Fachbereich Verkehr',
    publishedAt: new Date(Date.UTC(2026, 9, index + 1, 9)).toISOString(),
  })), { now: new Date('2026-11-21T00:00:00Z') });
  return t;
}

/** The rules every page keeps: one h1, headings without gaps, alt on every image, no script but JSON-LD. */
function expectSoundPage($: CheerioAPI): void {
  expect($('h1')).toHaveLength(1);
  const levels = $('h1, h2, h3, h4, h5, h6').toArray().map((element) => Number(element.tagName.slice(1)));
  expect(levels[0]).toBe(1);
  levels.forEach((level, index) => {
    if (index > 0) expect(level, `heading ${index} (h${level}) after h${levels[index - 1]}`).toBeLessThanOrEqual(levels[index - 1]! + 1);
  });
  $('img').each((_, img) => expect($(img).attr('alt'), $(img).attr('src')).toBeDefined());
  $('script').each((_, script) => expect($(script).attr('type')).toBe('application/ld+json'));
  expect($('html').attr('lang')).toBe('de');
}

async function page(t: TestApp, url: string, status = 200): Promise<{ $: CheerioAPI; res: request.Response }> {
  const res = await request(t.app).get(url).expect(status);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  const $ = load(res.text);
  expectSoundPage($);
  return { $, res };
}

const titles = ($: CheerioAPI) => $('.list-items h2 a').toArray().map((a) => $(a).text());
const alternates = ($: CheerioAPI) => $('link[rel="alternate"]').toArray().map((link) => `${$(link).attr('type')} ${$(link).attr('href')}`);

async function expectProblem(t: TestApp, url: string, parameter: string): Promise<void> {
  const res = await request(t.app).get(url).expect(400);
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(JSON.parse(res.text)).toMatchObject({ status: 400, parameter });
}

describe('GET /', () => {
  test('lists the newest releases first, each linked with its date, issuer and summary', async () => {
    const t = await seeded();
    const { $, res } = await page(t, '/');
    expect(res.headers['cache-control']).toBe(`public, max-age=${t.config.feedMaxAge}`);
    expect($('h1').text()).toBe('Neueste Pressemitteilungen');
    expect(titles($)).toEqual([
      'Tempo <30 & „Ruhe“ für die Jülicher Straße 🚲 ]]> und ]]> zweimal',
      'Stadtfest im Park',
      'Haushalt 2027: der ausführliche Bericht',
      'Öffnungszeiten der Bürgerbüros über die Feiertage',
    ]);
    // Markup in a title is text, never markup.
    expect(res.text).toContain('Tempo &lt;30 &amp; „Ruhe“');
    const first = $('.list-item').first();
    const nasty = t.store.releaseByGuid('tag:lindenau.example,2026:nasty-1')!;
    expect(first.find('h2 a').attr('href')).toBe(`${BASE_URL}/releases/${nasty.slug}`);
    expect(first.find('time').attr('datetime')).toBe('2026-11-20T09:30:00.000Z');
    expect(first.find('time').text()).toBe('20. November 2026');
    expect(first.find('.list-meta a').attr('href')).toBe(`${BASE_URL}/departments/fachbereich-mobilitaet-und-verkehr`);
    expect(first.find('.list-meta').text()).toContain('Fachbereich Mobilität und Verkehr');
    expect(first.find('.list-summary').text()).toBe('Anwohner fragen: "Wann?" – \'Bald\' & <sicher>');
    // Without a subtitle, an excerpt of the text; dates are days in Berlin, not in UTC.
    const fest = $('.list-item').eq(1);
    expect(fest.find('.list-summary').text()).toBe('Das Stadtfest beginnt am Samstag im Stadtpark mit Musik.');
    expect(fest.find('time').text()).toBe('19. November 2026');
    expect($('.list-item').eq(2).find('.list-summary').text()).toMatch(/^Stadt Bürgerinnen Bürger .*…$/);
    expect($('.list-count').text()).toBe('4 Mitteilungen');
  });

  test('shows a thumbnail only for a published image, with alt text, size and lazy loading', async () => {
    const t = await seeded();
    const { $ } = await page(t, '/');
    const images = $('main img');
    expect(images).toHaveLength(1);
    const img = images.first();
    expect(img.closest('.list-item').find('h2').text()).toMatch(/^Tempo/);
    expect(img.attr('src')).toBe(`${BASE_URL}/media/bild-ohne-endung`);
    expect(img.attr('alt')).toBe('Ein Farbverlauf in Blau & Grün');
    expect(Number(img.attr('width'))).toBeGreaterThan(0);
    expect(Number(img.attr('height'))).toBeGreaterThan(0);
    expect(img.attr('loading')).toBe('lazy');
  });

  test('has a labelled search form, topic and department filters with counts, and its feeds', async () => {
    const t = await seeded();
    const { $ } = await page(t, '/');
    const form = $('main form[role="search"]');
    expect(form.attr('action')).toBe(`${BASE_URL}/search`);
    const field = form.find('input[name="q"]');
    expect(form.find(`label[for="${field.attr('id')}"]`).text()).toBe('Pressemitteilungen durchsuchen');
    // Ids are unique, also next to the header's search form.
    const ids = $('[id]').toArray().map((element) => $(element).attr('id'));
    expect(new Set(ids).size).toBe(ids.length);

    const terms = (id: string) => $(`#${id}`).closest('section').find('li').toArray()
      .map((li) => `${$(li).find('a').attr('href')!.slice(BASE_URL.length)} ${$(li).text()}`);
    expect(terms('list-topics')).toEqual([
      '/topics/finanzen Finanzen (1)', '/topics/kultur Kultur (1)', '/topics/strassenbau Straßenbau (1)',
      '/topics/verkehr Verkehr (2)', '/topics/verwaltung Verwaltung (1)',
    ]);
    expect(terms('list-departments')).toEqual([
      '/departments/fachbereich-buergerservice Fachbereich Bürgerservice (1)',
      '/departments/fachbereich-finanzen Fachbereich Finanzen (1)',
      '/departments/fachbereich-mobilitaet-und-verkehr Fachbereich Mobilität und Verkehr (1)',
      '/departments/kulturbuero Kulturbüro (1)',
    ]);

    const feedLinks = $('.list-feeds a').toArray().map((a) => $(a).attr('href'));
    expect(feedLinks).toEqual([`${BASE_URL}/feeds/all.rss`, `${BASE_URL}/feeds/all.atom`, `${BASE_URL}/feeds/all.json`, `${BASE_URL}/feeds`]);
    expect(alternates($)).toEqual([
      `application/rss+xml ${BASE_URL}/feeds/all.rss`,
      `application/atom+xml ${BASE_URL}/feeds/all.atom`,
      `application/feed+json ${BASE_URL}/feeds/all.json`,
    ]);
  });

  test('carries website metadata', async () => {
    const t = await seeded();
    const { $ } = await page(t, '/');
    expect($('title').text()).toBe('Pressestelle Stadt Lindenau');
    expect($('link[rel="canonical"]').attr('href')).toBe(`${BASE_URL}/`);
    expect($('meta[name="description"]').attr('content')).toBe(t.config.site.description);
    expect($('meta[property="og:type"]').attr('content')).toBe('website');
    expect($('meta[property="og:url"]').attr('content')).toBe(`${BASE_URL}/`);
    expect($('meta[name="robots"]')).toHaveLength(0);
    const jsonLd = JSON.parse($('script[type="application/ld+json"]').text()) as { '@type': string };
    expect(jsonLd['@type']).toBe('WebSite');
  });

  test('is served from the cache with validators; unknown parameters do not change it', async () => {
    const t = await seeded();
    const first = await request(t.app).get('/').expect(200);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    await request(t.app).get('/').set('If-None-Match', etag).expect(304);
    const other = await request(t.app).get('/?utm_source=newsletter').expect(200);
    expect(other.headers.etag).toBe(etag);
    const zipped = await request(t.app).get('/').set('Accept-Encoding', 'gzip').expect(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    await request(t.app).head('/').expect(200);
  });

  test('says so when there is nothing yet', async () => {
    const t = createTestApp();
    apps.push(t);
    const { $ } = await page(t, '/');
    expect($('.list-items')).toHaveLength(0);
    expect($('main').text()).toContain('Hier gibt es noch keine Pressemitteilungen.');
    expect($('nav[aria-label="Seiten"]')).toHaveLength(0);
  });
});

describe('embargo and withdrawal', () => {
  test('an embargoed release appears nowhere until its time, then promptly everywhere', async () => {
    const t = await seeded();
    const before = await page(t, '/');
    expect(before.res.text).not.toContain('Oberbürgermeisterin');
    // Its topic and department are not even named while all they hold is embargoed.
    await page(t, '/topics/wahlen', 404);
    await page(t, '/departments/wahlamt', 404);
    await expectProblem(t, '/search?q=vereidigt&topic=wahlen', 'topic');
    expect(titles((await page(t, '/search?q=vereidigt')).$)).toEqual([]);

    t.now = new Date(Date.parse(EMBARGO) + 1000);
    const after = await page(t, '/');
    expect(titles(after.$)[0]).toBe('Neue Oberbürgermeisterin vereidigt');
    expect(after.$('#list-topics').closest('section').text()).toContain('Wahlen (1)');
    expect(titles((await page(t, '/topics/wahlen')).$)).toEqual(['Neue Oberbürgermeisterin vereidigt']);
    expect(titles((await page(t, '/departments/wahlamt')).$)).toEqual(['Neue Oberbürgermeisterin vereidigt']);
    expect(titles((await page(t, '/search?q=vereidigt')).$)).toEqual(['Neue Oberbürgermeisterin vereidigt']);
  });

  test('a withdrawn release appears in no list and no search', async () => {
    const t = await seeded();
    for (const url of ['/', '/topics/verkehr', '/departments/fachbereich-mobilitaet-und-verkehr', '/search?q=baustellenmeldung']) {
      const { res } = await page(t, url);
      expect(res.text, url).not.toContain('Zurückgezogene');
    }
  });
});

describe('GET /topics/{topic} and /departments/{department}', () => {
  test('a topic page lists only that topic, named in its h1, with its feeds', async () => {
    const t = await seeded();
    const { $ } = await page(t, '/topics/verkehr');
    expect($('h1').text()).toBe('Verkehr');
    expect($('title').text()).toBe('Verkehr – Pressestelle Stadt Lindenau');
    expect($('link[rel="canonical"]').attr('href')).toBe(`${BASE_URL}/topics/verkehr`);
    expect(titles($)).toEqual([
      'Tempo <30 & „Ruhe“ für die Jülicher Straße 🚲 ]]> und ]]> zweimal',
      'Öffnungszeiten der Bürgerbüros über die Feiertage',
    ]);
    expect(alternates($)).toEqual([
      `application/rss+xml ${BASE_URL}/feeds/topics/verkehr.rss`,
      `application/atom+xml ${BASE_URL}/feeds/topics/verkehr.atom`,
      `application/feed+json ${BASE_URL}/feeds/topics/verkehr.json`,
    ]);
    expect($('.list-feeds a').first().attr('href')).toBe(`${BASE_URL}/feeds/topics/verkehr.rss`);
    expect($('a[aria-current="page"]').attr('href')).toBe(`${BASE_URL}/topics/verkehr`);
    // Its search form searches within the topic.
    expect($('main form[role="search"] input[type="hidden"][name="topic"]').attr('value')).toBe('verkehr');
  });

  test('a department page lists only that department', async () => {
    const t = await seeded();
    const { $ } = await page(t, '/departments/fachbereich-finanzen');
    expect($('h1').text()).toBe('Fachbereich Finanzen');
    expect(titles($)).toEqual(['Haushalt 2027: der ausführliche Bericht']);
    expect(alternates($)).toContain(`application/atom+xml ${BASE_URL}/feeds/departments/fachbereich-finanzen.atom`);
  });

  test('an unknown topic or department is a 404 HTML page through the layout', async () => {
    const t = await seeded();
    for (const url of ['/topics/gibt-es-nicht', '/departments/gibt-es-nicht', '/topics/Gro%C3%9F', '/topics/verkehr?page=2']) {
      const { $, res } = await page(t, url, 404);
      expect($('h1').text(), url).toBe('Seite nicht gefunden');
      expect($('main form[role="search"]')).toHaveLength(1);
      expect($('meta[name="robots"]').attr('content')).toBe('noindex');
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });
});

describe('GET /search', () => {
  test('finds releases by a word with umlauts folded, echoes the query and counts the hits', async () => {
    const t = await seeded();
    const { $, res } = await page(t, '/search?q=offnungszeiten');
    expect(titles($)).toEqual(['Öffnungszeiten der Bürgerbüros über die Feiertage']);
    expect($('h1').text()).toBe('Suchergebnisse für „offnungszeiten“');
    expect($('main input[name="q"]').val()).toBe('offnungszeiten');
    expect($('.list-count').text()).toBe('1 Treffer');
    expect($('meta[name="robots"]').attr('content')).toBe('noindex');
    expect($('link[rel="canonical"]').attr('href')).toBe(`${BASE_URL}/search?q=offnungszeiten`);
    expect(res.headers['cache-control']).toBe(`public, max-age=${t.config.feedMaxAge}`);
    expect(titles((await page(t, '/search?q=B%C3%BCrgerb%C3%BCros')).$)).toEqual(['Öffnungszeiten der Bürgerbüros über die Feiertage']);
  });

  test('links the search as feeds, with q encoded, and announces them', async () => {
    const t = await seeded();
    const { $ } = await page(t, '/search?q=J%C3%BClicher+Stra%C3%9Fe&topic=verkehr');
    expect(titles($)).toEqual(['Tempo <30 & „Ruhe“ für die Jülicher Straße 🚲 ]]> und ]]> zweimal']);
    const q = 'J%C3%BClicher%20Stra%C3%9Fe';
    expect($('.list-feeds a').toArray().map((a) => $(a).attr('href'))).toEqual([
      `${BASE_URL}/feeds/topics/verkehr.rss?q=${q}`, `${BASE_URL}/feeds/topics/verkehr.atom?q=${q}`,
      `${BASE_URL}/feeds/topics/verkehr.json?q=${q}`, `${BASE_URL}/feeds`,
    ]);
    expect(alternates($)).toEqual([
      `application/rss+xml ${BASE_URL}/feeds/topics/verkehr.rss?q=${q}`,
      `application/atom+xml ${BASE_URL}/feeds/topics/verkehr.atom?q=${q}`,
      `application/feed+json ${BASE_URL}/feeds/topics/verkehr.json?q=${q}`,
    ]);
    expect($('link[rel="canonical"]').attr('href')).toBe(`${BASE_URL}/search?q=${q}&topic=verkehr`);
    expect($('main form input[type="hidden"][name="topic"]').attr('value')).toBe('verkehr');

    const all = await page(t, '/search?q=a%26b%3Dc%20%23d');
    expect(all.$('.list-feeds a').first().attr('href')).toBe(`${BASE_URL}/feeds/all.rss?q=a%26b%3Dc%20%23d`);
  });

  test('limits results to a topic or department', async () => {
    const t = await seeded();
    expect(titles((await page(t, '/search?q=stadt&department=kulturbuero')).$)).toEqual(['Stadtfest im Park']);
    expect(titles((await page(t, '/search?q=haushalt&topic=verkehr')).$)).toEqual([]);
    expect((await page(t, '/search?q=haushalt&topic=verkehr')).$('main').text()).toContain('Keine Pressemitteilung passt zu dieser Suche.');
    // An empty filter, as a form sends it, is no filter.
    expect(titles((await page(t, '/search?q=haushalt&topic=')).$)).toEqual(['Haushalt 2027: der ausführliche Bericht']);
  });

  test('echoes an evil query as text, never as markup', async () => {
    const t = await seeded();
    const evil = '"><script>alert(1)</script>';
    const { $, res } = await page(t, `/search?q=${encodeURIComponent(evil)}`);
    expect(res.text).not.toContain('<script>alert');
    expect($('main input[name="q"]').val()).toBe(evil);
    expect($('h1').text()).toBe(`Suchergebnisse für „${evil}“`);
    expect($('title').text()).toBe(`Suchergebnisse für „${evil}“ – Pressestelle Stadt Lindenau`);
    expect($('script').toArray().map((script) => $(script).attr('type'))).toEqual(['application/ld+json']);
    expect($('.list-feeds a').first().attr('href')).toBe(`${BASE_URL}/feeds/all.rss?q=${encodeURIComponent(evil)}`);
  });

  test('an empty query shows the search form and no results', async () => {
    const t = await seeded();
    for (const url of ['/search', '/search?q=', '/search?q=%20%20']) {
      const { $ } = await page(t, url);
      expect($('h1').text()).toBe('Suche');
      expect($('main form[role="search"] input[name="q"]').val()).toBe('');
      expect($('.list-items')).toHaveLength(0);
      expect($('meta[name="robots"]').attr('content')).toBe('noindex');
    }
  });

  test('rejects a query that is too long or given twice, and an unknown or doubled filter', async () => {
    const t = await seeded();
    await page(t, `/search?q=${'a'.repeat(200)}`);
    await expectProblem(t, `/search?q=${'a'.repeat(201)}`, 'q');
    await expectProblem(t, '/search?q=a&q=b', 'q');
    await expectProblem(t, '/search?q=a&topic=gibt-es-nicht', 'topic');
    await expectProblem(t, '/search?q=a&department=gibt-es-nicht', 'department');
    await expectProblem(t, '/search?q=a&topic=verkehr&topic=kultur', 'topic');
    await expectProblem(t, '/search?q=a&topic=verkehr&department=kulturbuero', 'department');
  });
});

describe('paging', () => {
  test('25 releases make 2 pages with prev/next links in the page and in the head', async () => {
    const t = paged();
    const one = await page(t, '/');
    expect(titles(one.$)).toHaveLength(20);
    expect(titles(one.$)[0]).toBe('Meldung 25');
    const nav = one.$('nav[aria-label="Seiten"]');
    expect(nav.text()).toContain('Seite 1 von 2');
    expect(nav.find('a[rel="prev"]')).toHaveLength(0);
    expect(nav.find('a[rel="next"]').attr('href')).toBe(`${BASE_URL}/?page=2`);
    expect(one.$('head link[rel="next"]').attr('href')).toBe(`${BASE_URL}/?page=2`);
    expect(one.$('head link[rel="prev"]')).toHaveLength(0);

    const two = await page(t, '/?page=2');
    expect(titles(two.$)).toEqual(['Meldung 5', 'Meldung 4', 'Meldung 3', 'Meldung 2', 'Meldung 1']);
    expect(two.$('nav[aria-label="Seiten"]').text()).toContain('Seite 2 von 2');
    expect(two.$('nav[aria-label="Seiten"] a[rel="prev"]').attr('href')).toBe(`${BASE_URL}/`);
    expect(two.$('nav[aria-label="Seiten"] a[rel="next"]')).toHaveLength(0);
    expect(two.$('head link[rel="prev"]').attr('href')).toBe(`${BASE_URL}/`);
    expect(two.$('link[rel="canonical"]').attr('href')).toBe(`${BASE_URL}/?page=2`);
    expect(two.$('title').text()).toBe('Pressestelle Stadt Lindenau – Seite 2');
  });

  test('topic, department and search lists page the same way', async () => {
    const t = paged();
    const topic = await page(t, '/topics/verkehr?page=2');
    expect(titles(topic.$)).toHaveLength(5);
    expect(topic.$('head link[rel="prev"]').attr('href')).toBe(`${BASE_URL}/topics/verkehr`);
    const department = await page(t, '/departments/fachbereich-verkehr');
    expect(department.$('head link[rel="next"]').attr('href')).toBe(`${BASE_URL}/departments/fachbereich-verkehr?page=2`);
    const search = await page(t, '/search?q=meldung&topic=verkehr');
    expect(search.$('.list-count').text()).toBe('25 Treffer');
    expect(search.$('nav[aria-label="Seiten"] a[rel="next"]').attr('href')).toBe(`${BASE_URL}/search?q=meldung&topic=verkehr&page=2`);
    const searchTwo = await page(t, '/search?q=meldung&topic=verkehr&page=2');
    expect(titles(searchTwo.$)).toHaveLength(5);
    expect(searchTwo.$('link[rel="canonical"]').attr('href')).toBe(`${BASE_URL}/search?q=meldung&topic=verkehr&page=2`);
    await page(t, '/search?q=meldung&page=3', 404);
  });

  test(`a search lists its newest ${SEARCH_RESULTS_SHOWN} results and says when it found more`, async () => {
    const t = createTestApp();
    apps.push(t);
    const meldung = (index: number, fields: Partial<Parameters<typeof input>[0]> = {}) => input({ guid: `tag:x,2026:many-${index}`,
      title: `Meldung ${index}`, publishedAt: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString(), ...fields });
    // As many visible matches as are listed, and some hidden ones newer than all of them.
    t.store.upsertReleases([...Array.from({ length: SEARCH_RESULTS_SHOWN }, (_, index) => meldung(index + 1)),
      meldung(5001, { status: 'withdrawn' }), meldung(5002, { embargoUntil: '2027-01-01T00:00:00Z' })], { now: new Date('2026-11-21T00:00:00Z') });
    const pages = SEARCH_RESULTS_SHOWN / 20;
    const exact = await page(t, '/search?q=meldung');
    expect(exact.$('.list-count').text()).toBe(`${SEARCH_RESULTS_SHOWN} Treffer`);
    expect(exact.$('nav[aria-label="Seiten"]').text()).toContain(`Seite 1 von ${pages}`);
    await page(t, `/search?q=meldung&page=${pages + 1}`, 404);

    // One more: the count says so, the pages stay, the oldest match falls off the end.
    t.store.upsertReleases([meldung(SEARCH_RESULTS_SHOWN + 1)], { now: new Date('2026-11-21T00:00:00Z') });
    const more = await page(t, '/search?q=meldung');
    expect(more.$('.list-count').text()).toBe(`Mehr als ${SEARCH_RESULTS_SHOWN} Treffer; die neuesten ${SEARCH_RESULTS_SHOWN} sind aufgeführt. Mit weiteren Wörtern grenzen Sie die Suche ein.`);
    expect(titles(more.$)[0]).toBe(`Meldung ${SEARCH_RESULTS_SHOWN + 1}`);
    const last = await page(t, `/search?q=meldung&page=${pages}`);
    expect(last.$('nav[aria-label="Seiten"]').text()).toContain(`Seite ${pages} von ${pages}`);
    expect(last.$('nav[aria-label="Seiten"] a[rel="next"]')).toHaveLength(0);
    expect(titles(last.$)).toEqual(Array.from({ length: 20 }, (_, index) => `Meldung ${21 - index}`));
    await page(t, `/search?q=meldung&page=${pages + 1}`, 404);
    // A narrower search counts exactly again.
    expect((await page(t, '/search?q=meldung+1000')).$('.list-count').text()).toBe('1 Treffer');
  });

  test('a page past the end is a 404 page; a page that is no integer from 1 to 10000 is a 400', async () => {
    const t = paged();
    const { $ } = await page(t, '/?page=3', 404);
    expect($('h1').text()).toBe('Seite nicht gefunden');
    await page(t, '/?page=10000', 404);
    for (const bad of ['0', 'abc', '1e3', '-1', '1.5', '10001', '', '%201']) {
      await expectProblem(t, `/?page=${bad}`, 'page');
    }
    await expectProblem(t, '/?page=1&page=2', 'page');
    await expectProblem(t, '/topics/verkehr?page=0', 'page');
    await expectProblem(t, '/search?q=meldung&page=abc', 'page');
  });
});
