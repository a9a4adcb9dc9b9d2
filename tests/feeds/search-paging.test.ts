import { parseAtomFeed, parseJsonFeed, parseRssFeed } from 'feedsmith';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Contact, ReleaseInput } from '../../src/model.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';
import { atomProblems, jsonFeedProblems, rssProblems } from '../helpers/validate.js';

type Format = 'rss' | 'atom' | 'json';
const FORMATS: readonly Format[] = ['rss', 'atom', 'json'];

const contact = (name: string): Contact => ({
  name, organisation: 'Stadt Lindenau', street: null, postcode: null, city: null, phone: null, fax: null, email: null,
});

/**
 * 45 public releases (some published at the same instant, so that paging must break ties) and four hidden
 * ones that match every scope and search below: two under embargo, two withdrawn.
 */
function releases(): ReleaseInput[] {
  const list: ReleaseInput[] = [];
  for (let i = 0; i < 45; i++) {
    const hour = i - (i % 4 === 3 ? 1 : 0); // every fourth release shares its instant with the one before
    list.push(input({
      guid: `tag:lindenau.example,2026:p-${i}`,
      title: `Meldung ${i}`,
      body: i % 2 === 1 ? `<p>Die Baustelle Nummer ${i} beginnt.</p>` : `<p>Ein Fest Nummer ${i}.</p>`,
      topics: i % 3 === 0 ? ['Verkehr', 'Stadtentwicklung'] : ['Kultur'],
      department: i % 5 < 3 ? 'Fachbereich Tiefbau' : 'Fachbereich Kultur',
      contact: i % 4 === 0 ? contact('Serap Güler') : contact('Jan Schmitz'),
      publishedAt: new Date(Date.UTC(2026, 9, 1, hour)).toISOString(),
    }));
  }
  const hidden = (guid: string, extra: Partial<ReleaseInput>) => input({
    guid, title: `Verborgen ${guid}`, body: '<p>Baustelle.</p>', topics: ['Verkehr'], department: 'Fachbereich Tiefbau',
    contact: contact('Serap Güler'), publishedAt: '2026-10-01T12:30:00Z', ...extra,
  });
  list.push(
    hidden('tag:lindenau.example,2026:embargo-1', { embargoUntil: '2026-12-24T00:00:00Z' }),
    hidden('tag:lindenau.example,2026:embargo-2', { embargoUntil: '2027-01-01T00:00:00Z', publishedAt: '2026-09-01T00:00:00Z' }),
    hidden('tag:lindenau.example,2026:withdrawn-1', { status: 'withdrawn' }),
    hidden('tag:lindenau.example,2026:withdrawn-2', { status: 'withdrawn', publishedAt: '2026-08-01T00:00:00Z' }),
  );
  return list;
}

const guid = (i: number) => `tag:lindenau.example,2026:p-${i}`;
const indices = (keep: (i: number) => boolean) => Array.from({ length: 45 }, (_, i) => i).filter(keep);

/** Each feed under test: its path, the query a subscriber types, and which fixtures it must hold. */
const SCOPES = [
  { name: 'all', path: '/feeds/all', q: null, expected: indices(() => true) },
  { name: 'topic', path: '/feeds/topics/verkehr', q: null, expected: indices((i) => i % 3 === 0) },
  { name: 'department', path: '/feeds/departments/fachbereich-tiefbau', q: null, expected: indices((i) => i % 5 < 3) },
  { name: 'search', path: '/feeds/all', q: 'Baustelle', expected: indices((i) => i % 2 === 1) },
  { name: 'search in a topic', path: '/feeds/topics/stadtentwicklung', q: 'Gueler', expected: indices((i) => i % 12 === 0) },
  { name: 'search in a department', path: '/feeds/departments/fachbereich-tiefbau', q: 'baust', expected: indices((i) => i % 2 === 1 && i % 5 < 3) },
] as const;

let t: TestApp;
beforeAll(() => {
  t = createTestApp();
  t.store.upsertReleases(releases(), { now: new Date('2026-11-01T00:00:00Z') });
});
afterAll(() => t.close());

const PAGING = ['self', 'first', 'previous', 'next', 'last'];

/** What one page says, read back by an independent parser. */
interface Page {
  ids: string[];
  self: string | undefined;
  links: Partial<Record<'first' | 'previous' | 'next' | 'last', string>>;
  title: string;
  id: string | undefined;
}

function readPage(format: Format, text: string): Page {
  const rels = (links: Array<{ rel?: string; href?: string }> | undefined) =>
    Object.fromEntries((links ?? []).filter((link) => PAGING.includes(link.rel ?? '')).map((link) => [link.rel, link.href]));
  if (format === 'rss') {
    const feed = parseRssFeed(text);
    const links = rels(feed.atom?.links);
    return { ids: (feed.items ?? []).map((item) => item.guid!.value!), self: links.self, links, title: feed.title!, id: undefined };
  }
  if (format === 'atom') {
    const feed = parseAtomFeed(text);
    const links = rels(feed.links);
    return { ids: (feed.entries ?? []).map((entry) => entry.id!), self: links.self, links, title: typeof feed.title === 'string' ? feed.title : String(feed.title?.value), id: feed.id };
  }
  const feed = parseJsonFeed(JSON.parse(text));
  return {
    ids: (feed.items ?? []).map((item) => item.id!), self: feed.feed_url, links: feed.next_url ? { next: feed.next_url } : {},
    title: feed.title!, id: undefined,
  };
}

function problems(format: Format, text: string, self: string): string[] {
  if (format === 'rss') return rssProblems(text, self);
  if (format === 'atom') return atomProblems(text, self);
  return jsonFeedProblems(text);
}

const path = (url: string) => url.slice(BASE_URL.length);

describe('following next from page 1 reaches every public release exactly once', () => {
  for (const scope of SCOPES) {
    test.each(FORMATS)(`${scope.name} (${scope.path}${scope.q ? `?q=${scope.q}` : ''}), %s`, async (format) => {
      // The subscriber's order of parameters; the feed names itself in one canonical form.
      const typed = `${scope.path}.${format}?limit=10${scope.q ? `&q=${encodeURIComponent(scope.q)}` : ''}`;
      const canonical = (page: number) => `${BASE_URL}${scope.path}.${format}?${scope.q ? `q=${encodeURIComponent(scope.q)}&` : ''}limit=10`
        + `${page > 1 ? `&page=${page}` : ''}`;
      const pages = Math.max(1, Math.ceil(scope.expected.length / 10));
      const seen: string[] = [];
      let next: string | undefined = `${BASE_URL}${typed}`;
      let number = 0;
      const feedIds = new Set<string | undefined>();
      while (next) {
        number++;
        expect(number, 'pages followed').toBeLessThanOrEqual(pages);
        const res = await request(t.app).get(path(next)).expect(200);
        const self = canonical(number);
        expect(problems(format, res.text, self), `page ${number}`).toEqual([]);
        const page = readPage(format, res.text);
        expect(page.self).toBe(self);
        expect(page.ids.length).toBe(number < pages ? 10 : scope.expected.length - 10 * (pages - 1));
        if (format !== 'json') {
          expect(page.links.first).toBe(canonical(1));
          // A search does not count its matches (its cost would grow with them): it names no last page.
          expect(page.links.last).toBe(scope.q ? undefined : canonical(pages));
          expect(page.links.previous).toBe(number > 1 ? canonical(number - 1) : undefined);
        }
        if (page.links.next) expect(page.links.next).toBe(canonical(number + 1));
        if (scope.q) expect(page.title).toContain(`Suche: „${scope.q}“`);
        feedIds.add(page.id);
        seen.push(...page.ids);
        next = page.links.next;
      }
      expect(number).toBe(pages);
      // Every page is one feed: the Atom id is the first page's URL, search included.
      expect([...feedIds]).toEqual([format === 'atom' ? canonical(1) : undefined]);
      expect(new Set(seen).size).toBe(seen.length);
      expect(new Set(seen)).toEqual(new Set(scope.expected.map(guid)));
      // Newest first across pages, as the store orders what is visible now.
      const storeScope = scope.path === '/feeds/all' ? { kind: 'all' as const }
        : scope.path.startsWith('/feeds/topics/')
          ? { kind: 'topic' as const, id: t.store.topicBySlug(scope.path.split('/').pop()!)!.id }
          : { kind: 'department' as const, id: t.store.departmentBySlug(scope.path.split('/').pop()!)!.id };
      const visible = scope.q
        ? t.store.searchReleases(storeScope, scope.q, { now: t.now, limit: 100 })
        : t.store.newestReleases(storeScope, { now: t.now, limit: 100 });
      expect(seen).toEqual(visible.map((release) => release.guid));
    });
  }
});

describe('search feeds', () => {
  test.each(FORMATS)('%s: the title says what is searched; ids and self links carry the q', async (format) => {
    const res = await request(t.app).get(`/feeds/topics/verkehr.${format}?q=${encodeURIComponent('Güler  & <Co> ]]>')}`).expect(200);
    const self = `${BASE_URL}/feeds/topics/verkehr.${format}?q=${encodeURIComponent('Güler & <Co> ]]>')}`;
    expect(problems(format, res.text, self)).toEqual([]);
    const page = readPage(format, res.text);
    expect(page.title).toBe('Pressestelle Stadt Lindenau: Verkehr – Suche: „Güler & <Co> ]]>“');
    expect(page.self).toBe(self);
    if (format === 'atom') expect(page.id).toBe(self);
    expect(page.ids).toEqual([]);
    if (format === 'json') expect(JSON.parse(res.text).home_page_url).toBe(`${BASE_URL}/search?q=${encodeURIComponent('Güler & <Co> ]]>')}&topic=verkehr`);
  });

  test('the search finds contact, department and topic names with German spellings folded', async () => {
    const ids = async (q: string, scope = '/feeds/all') =>
      readPage('json', (await request(t.app).get(`${scope}.json?limit=100&q=${encodeURIComponent(q)}`).expect(200)).text).ids;
    const gueler = indices((i) => i % 4 === 0).map(guid).reverse();
    expect(await ids('Güler')).toEqual(gueler);
    expect(await ids('gueler')).toEqual(gueler);
    expect(await ids('GULER')).toEqual(gueler);
    expect(await ids('Serap Gül')).toEqual(gueler);
    expect(await ids('tiefbau')).toEqual(indices((i) => i % 5 < 3).map(guid).reverse());
    expect(await ids('stadtentwicklung baustelle')).toEqual(indices((i) => i % 3 === 0 && i % 2 === 1).map(guid).reverse());
    expect(await ids('Fest', '/feeds/departments/fachbereich-kultur')).toEqual(indices((i) => i % 5 >= 3 && i % 2 === 0).map(guid).reverse());
  });

  test('a page of the results page links to the HTML search in the same scope', async () => {
    const res = await request(t.app).get('/feeds/departments/fachbereich-tiefbau.atom?q=Baustelle').expect(200);
    const alternate = parseAtomFeed(res.text).links!.find((link) => link.rel === 'alternate')!.href!;
    expect(alternate).toBe(`${BASE_URL}/search?q=Baustelle&department=fachbereich-tiefbau`);
    await request(t.app).get(path(alternate)).expect(200);
  });

  test.each(['"', '*', 'a OR b', 'NEAR(a b, 2)', 'title:x', '-x', '^a', '(((', '")', 'a\u0000b', '💥', '\\', 'AND', "l'été", '%', '+'])(
    'q=%j answers 200 in every format, never FTS syntax errors', async (q) => {
      for (const format of FORMATS) {
        const res = await request(t.app).get(`/feeds/all.${format}?q=${encodeURIComponent(q)}`);
        expect(res.status, format).toBe(200);
      }
    });

  test('q of 200 characters is a search; 201 characters, or q given twice, answer 400 problem JSON', async () => {
    await request(t.app).get(`/feeds/all.rss?q=${'ä'.repeat(200)}`).expect(200);
    for (const query of [`q=${'a'.repeat(201)}`, `q=${encodeURIComponent('ü'.repeat(201))}`, 'q=a&q=b']) {
      const res = await request(t.app).get(`/feeds/topics/verkehr.atom?${query}`).expect(400);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body).toMatchObject({ status: 400, title: 'Bad Request', parameter: 'q' });
    }
  });

  test('an empty q is the plain feed', async () => {
    const plain = await request(t.app).get('/feeds/all.atom').expect(200);
    const empty = await request(t.app).get('/feeds/all.atom?q=%20%20').expect(200);
    expect(empty.text).toBe(plain.text);
  });

  test('an embargoed release joins the search feed when its time comes', async () => {
    const at = new Date(t.now);
    try {
      const before = readPage('json', (await request(t.app).get('/feeds/all.json?q=verborgen').expect(200)).text);
      expect(before.ids).toEqual([]);
      t.now = new Date('2026-12-24T00:00:00Z');
      const after = readPage('json', (await request(t.app).get('/feeds/all.json?q=verborgen').expect(200)).text);
      expect(after.ids).toEqual(['tag:lindenau.example,2026:embargo-1']);
    } finally {
      t.now = at;
    }
  });
});

describe('paging parameters', () => {
  test.each(['0', '10001', '-1', 'abc', '1.5', '1e2', '', '999999'])('page=%j answers 400 problem JSON naming it', async (page) => {
    const res = await request(t.app).get(`/feeds/all.json?page=${page}`).expect(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 400, parameter: 'page' });
  });

  test('page given twice answers 400', async () => {
    const res = await request(t.app).get('/feeds/all.rss?page=1&page=2').expect(400);
    expect(res.body.parameter).toBe('page');
  });

  test.each(FORMATS)('%s: a page past the end answers 404 problem JSON; the last page is 200', async (format) => {
    await request(t.app).get(`/feeds/all.${format}?limit=10&page=5`).expect(200);
    const res = await request(t.app).get(`/feeds/all.${format}?limit=10&page=6`).expect(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found' });
    await request(t.app).get(`/feeds/all.${format}?page=10000`).expect(404);
    await request(t.app).get(`/feeds/all.${format}?q=Baustelle&limit=10&page=4`).expect(404);
  });

  test.each(FORMATS)('%s: page 1 of an empty search feed is a valid, empty feed with first = itself (a search names no last page); page 2 is 404', async (format) => {
    const url = `${BASE_URL}/feeds/topics/kultur.${format}?q=nirgendwo`;
    const res = await request(t.app).get(path(url)).expect(200);
    expect(problems(format, res.text, url)).toEqual([]);
    const page = readPage(format, res.text);
    expect(page.ids).toEqual([]);
    expect(page.links).toEqual(format === 'json' ? {} : { self: url, first: url });
    const past = await request(t.app).get(`${path(url)}&page=2`).expect(404);
    expect(past.body.detail).toContain('no page 2');
  });

  test('page=1 is the feed itself (one URL, one cache entry, one ETag)', async () => {
    const plain = await request(t.app).get('/feeds/all.rss?limit=10').expect(200);
    const first = await request(t.app).get('/feeds/all.rss?page=1&limit=10').set('If-None-Match', plain.headers.etag!).expect(304);
    expect(first.headers.etag).toBe(plain.headers.etag);
  });
});

describe('validators and caching of search and paged feeds', () => {
  test('the cache key is the normalized query: spacing and parameter order hit the same entry', async () => {
    const calls: string[] = [];
    const c = createTestApp({ storeCalls: calls });
    try {
      c.store.upsertReleases(releases(), { now: new Date('2026-11-01T00:00:00Z') });
      const first = await request(c.app).get('/feeds/all.atom?q=Serap%20G%C3%BCler&limit=10&page=2').expect(200);
      expect(calls).toContain('searchReleaseHeads');
      calls.length = 0;
      const again = await request(c.app).get('/feeds/all.atom?page=2&q=%20Serap%20%20G%C3%BCler%20&limit=10').expect(200);
      expect(calls).toEqual(['generation']);
      expect(again.text).toBe(first.text);
      // Another spelling is another search (its title says so), though it finds the same releases.
      calls.length = 0;
      const other = await request(c.app).get('/feeds/all.atom?q=Serap%20Gueler&limit=10&page=2').expect(200);
      expect(calls).toContain('searchReleaseHeads');
      expect(other.headers.etag).not.toBe(first.headers.etag);
      expect(parseAtomFeed(other.text).entries!.map((entry) => entry.id)).toEqual(parseAtomFeed(first.text).entries!.map((entry) => entry.id));
    } finally {
      c.close();
    }
  });

  test('a search page answers 304 to its ETag and to its Last-Modified, with the feed Cache-Control', async () => {
    const url = '/feeds/topics/verkehr.rss?q=baustelle&limit=2&page=2';
    const res = await request(t.app).get(url).expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['last-modified']).toBe(new Date('2026-11-01T00:00:00Z').toUTCString());
    await request(t.app).get(url).set('If-None-Match', res.headers.etag!).expect(304);
    await request(t.app).get(url).set('If-Modified-Since', res.headers['last-modified']!).expect(304);
    const head = await request(t.app).head(url).set('Accept-Encoding', 'gzip, deflate').expect(200);
    expect(head.headers.etag).toBe(res.headers.etag);
  });

  test('a withdrawal on page 1 moves the items of page 2, and page 2\'s Last-Modified with them', async () => {
    const w = createTestApp();
    try {
      w.store.upsertReleases(releases(), { now: new Date('2026-11-01T00:00:00Z') });
      const url = '/feeds/all.json?limit=10&page=2';
      const before = await request(w.app).get(url).expect(200);
      const [newest] = releases().filter((release) => release.guid === guid(44));
      w.store.upsertReleases([{ ...newest!, status: 'withdrawn' }], { now: new Date('2026-11-10T00:00:00Z') });
      const after = await request(w.app).get(url).set('If-Modified-Since', before.headers['last-modified']!).expect(200);
      expect(after.headers['last-modified']).toBe(new Date('2026-11-10T00:00:00Z').toUTCString());
      expect(readPage('json', after.text).ids[0]).toBe(readPage('json', before.text).ids[1]);
    } finally {
      w.close();
    }
  });

  test('a change after a page leaves its Last-Modified alone', async () => {
    const w = createTestApp();
    try {
      w.store.upsertReleases(releases(), { now: new Date('2026-11-01T00:00:00Z') });
      const url = '/feeds/all.atom?limit=10';
      const before = await request(w.app).get(url).expect(200);
      const [oldest] = releases().filter((release) => release.guid === guid(0));
      w.store.upsertReleases([{ ...oldest!, title: 'Korrigiert' }], { now: new Date('2026-11-10T00:00:00Z') });
      await request(w.app).get(url).set('If-Modified-Since', before.headers['last-modified']!).expect(304);
      const last = await request(w.app).get('/feeds/all.atom?limit=10&page=5').expect(200);
      expect(last.headers['last-modified']).toBe(new Date('2026-11-10T00:00:00Z').toUTCString());
    } finally {
      w.close();
    }
  });
});
