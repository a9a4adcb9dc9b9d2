import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { XMLParser } from 'fast-xml-parser';
import { ITEMS_PER_DOCUMENT, ItemCache, renderFeed, toEntry, wholeReleases, type FeedDocument, type FeedFormat } from '../../src/feeds/build.js';
import type { Contact, Media, Release, Term } from '../../src/model.js';
import { htmlToText, sanitizeBody, slugify } from '../../src/text.js';
import { BASE_URL } from '../helpers/app.js';
import { atomProblems, jsonFeedProblems, rssProblems } from '../helpers/validate.js';
import { anyString, nastyString, textOrHtml } from './arbitraries.js';

const site = loadConfig({ HEROLD_DATA_DIR: '/nonexistent' }, '/').site;
const feedSite = { baseUrl: BASE_URL, site };
const urls = { rss: `${BASE_URL}/feeds/all.rss`, atom: `${BASE_URL}/feeds/all.atom`, json: `${BASE_URL}/feeds/all.json` };

const instant = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const term: fc.Arbitrary<Term> = anyString.map((name) => ({ name, slug: slugify(name) || 'x' }));
const url = fc.oneof(fc.constantFrom('/media/bild.png', 'https://cdn.example/ä ö.jpg', 'kommunales_1', 'https://x.example/a?b=1&c="2"', 'javascript:alert(1)'), fc.webUrl(), nastyString(20));
const media: fc.Arbitrary<Media> = fc.record({
  url, title: optional(anyString), alt: optional(anyString), caption: optional(anyString), credit: optional(anyString),
  width: optional(fc.integer({ min: 1, max: 5000 })), height: optional(fc.integer({ min: 1, max: 5000 })),
  mime: optional(fc.constantFrom('image/png', 'image/jpeg', 'application/pdf', 'image/svg+xml')), bytes: optional(fc.integer({ min: 0, max: 1e9 })),
});
const contact: fc.Arbitrary<Contact> = fc.record({
  name: optional(anyString), organisation: optional(anyString), street: optional(anyString), postcode: optional(anyString),
  city: optional(anyString), phone: optional(anyString), fax: optional(anyString), email: optional(anyString),
});

/** GUIDs are absolute IRIs (tag: URIs Herold makes, or upstream URLs). */
const guid = fc.oneof(fc.constant('tag:lindenau.example,2026:x'), fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ unit: fc.constantFrom('a', 'ä', '-', '/', '.', '%C3', '😀'), minLength: 1, maxLength: 20 }).map((s) => `tag:lindenau.example,2026:${s}`));

/** A release as ingest would store it: arbitrary text, the body sanitized first. */
const release: fc.Arbitrary<Release> = fc.record({
  id: fc.integer({ min: 1, max: 1e6 }),
  guid,
  // Ingest and the API never store a title without visible text; around it, anything.
  title: fc.tuple(anyString, fc.constantFrom('Ä', 'x', '1', '😀'), anyString).map((parts) => parts.join('')), subtitle: optional(anyString), body: textOrHtml, organisation: optional(anyString),
  department: optional(term), contact: optional(contact), topics: fc.array(term, { maxLength: 3 }), places: fc.array(anyString, { maxLength: 2 }),
  images: fc.array(media, { maxLength: 2 }), attachments: fc.array(media, { maxLength: 2 }),
  publishedAt: instant, updatedAt: optional(instant), embargoUntil: optional(instant), language: fc.constantFrom('de', 'en', 'de-DE', ''),
  status: fc.constantFrom('published' as const, 'withdrawn' as const),
}).map(({ body, ...rest }): Release => {
  const bodyHtml = sanitizeBody(body, 'https://presse.example/a/');
  return {
    ...rest, slug: slugify(rest.title) || 'mitteilung', sourceId: 'files', sourceRef: null,
    bodyHtml, bodyText: htmlToText(bodyHtml), changedAt: rest.publishedAt, contentHash: 'generated',
  };
});

/** A document whose releases are at hand whole (wholeReleases). */
type WholeDocument = Omit<FeedDocument, 'releases'> & { readonly releases: readonly Release[] };

/** A feed document of `minLength` to `maxLength` releases. */
const docOf = (minLength: number, maxLength: number): fc.Arbitrary<WholeDocument> => fc.record({
  // Feed titles are built from the site's name and a topic or department name: never empty.
  title: anyString.map((name) => `Stadt Lindenau – ${name}`), description: anyString, releases: fc.uniqueArray(release, { minLength, maxLength, selector: (r) => r.guid }), embargoed: fc.boolean(),
  tombstones: fc.array(fc.record({ ref: guid, when: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), comment: anyString }), { maxLength: 2 }),
  withPages: fc.boolean(),
}).map(({ withPages, tombstones, ...rest }) => ({
  // A withdrawn release has left the feed: a tombstone never names an entry in it.
  ...rest, ...wholeReleases(rest.releases), tombstones: tombstones.filter((t) => !rest.releases.some((r) => r.guid === t.ref)), urls, htmlUrl: `${BASE_URL}/`, updated: new Date('2026-11-20T09:00:00Z'),
  pages: withPages ? { first: urls, next: { rss: `${urls.rss}?page=2`, atom: `${urls.atom}?page=2`, json: `${urls.json}?page=2` } } : null,
}));
const doc = docOf(0, 3);

const text = (format: FeedFormat, feed: FeedDocument) => renderFeed(format, feed, feedSite).toString('utf8');
const xml = new XMLParser({ ignoreAttributes: false, cdataPropName: '#cdata', isArray: (name) => name === 'item' || name === 'entry', processEntities: false });
/** The text of an element written as one or more CDATA sections (a "]]>" inside splits it). */
const cdata = (value: unknown): string => (value === undefined ? '' : [(value as Record<string, unknown>)['#cdata']].flat().join(''));

describe('renderFeed over arbitrary release content', () => {
  test('RSS, Atom and JSON Feed stay valid', () => {
    fc.assert(fc.property(doc, (feed) => {
      expect(rssProblems(text('rss', feed), urls.rss)).toEqual([]);
      expect(atomProblems(text('atom', feed), urls.atom)).toEqual([]);
      const json = text('json', feed);
      expect(() => JSON.parse(json)).not.toThrow();
      expect(jsonFeedProblems(json)).toEqual([]);
    }), { numRuns: 150 });
  }, 30_000);

  test('every body arrives whole, in its own item, in every format; the JSON is exactly JSON.stringify of it', () => {
    fc.assert(fc.property(doc, (feed) => {
      const bodies = feed.releases.map((release) => toEntry(release, feedSite, feed).contentHtml);
      // An XML parser reads every line break as "\n" (XML 1.0, 2.11), in CDATA too.
      const asXmlReads = bodies.map((body) => body.replace(/\r\n?/g, '\n'));
      const rss = xml.parse(text('rss', feed)).rss.channel.item ?? [];
      expect(rss.map((item: Record<string, unknown>) => cdata(item['content:encoded']))).toEqual(asXmlReads);
      // RSS titles are CDATA too, and go in the same way as the bodies.
      expect(rss.map((item: Record<string, unknown>) => cdata(item.title)))
        .toEqual(feed.releases.map((release) => toEntry(release, feedSite, feed).title.replace(/\r\n?/g, '\n')));
      const atom = xml.parse(text('atom', feed)).feed.entry ?? [];
      expect(atom.map((entry: Record<string, unknown>) => cdata(entry.content))).toEqual(asXmlReads);
      const json = text('json', feed);
      expect(json).toBe(JSON.stringify(JSON.parse(json)));
      expect(JSON.parse(json).items.map((item: { content_html?: string }) => item.content_html ?? '')).toEqual(bodies);
    }), { numRuns: 150 });
  }, 30_000);
});

describe('items kept from earlier renders (ItemCache)', () => {
  const formats: FeedFormat[] = ['rss', 'atom', 'json'];
  // Ids are unique in the store; a release's item is kept by id, last change and content hash.
  const withIds = (feed: WholeDocument): WholeDocument => ({ ...feed, ...wholeReleases(feed.releases.map((release, index) => ({ ...release, id: index + 1 }))) });

  test('a feed made with items kept from other feeds is byte for byte the feed made without', () => {
    fc.assert(fc.property(doc.map(withIds), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), (feed, kept) => {
      for (const format of formats) {
        const fresh = renderFeed(format, feed, feedSite);
        const items = new ItemCache();
        // Some of its items were rendered before, in another feed, and in the other kind of feed (embargoed or not).
        const other: FeedDocument = { ...feed, title: 'Stadt Lindenau – anders', releases: feed.releases.filter((_release, index) => kept[index]), pages: null };
        renderFeed(format, other, { ...feedSite, items });
        renderFeed(format, { ...feed, embargoed: !feed.embargoed }, { ...feedSite, items });
        expect(renderFeed(format, feed, { ...feedSite, items }).equals(fresh)).toBe(true);
        // Now every item is kept.
        expect(renderFeed(format, feed, { ...feedSite, items }).equals(fresh)).toBe(true);
      }
    }), { numRuns: 150 });
  }, 30_000);

  const release = (id: number, title: string, changedAt: string, contentHash: string): Release => ({
    id, guid: `tag:lindenau.example,2026:kept-${id}`, slug: `kept-${id}`, sourceId: 'files', sourceRef: null, title, subtitle: null,
    bodyHtml: `<p>${title}</p>`, bodyText: title, language: 'de', organisation: null, department: null, contact: null, topics: [], places: [],
    images: [], attachments: [], publishedAt: '2026-11-20T09:00:00.000Z', updatedAt: null, embargoUntil: null, status: 'published', changedAt, contentHash,
  });
  const feedOf = (releases: Release[]): FeedDocument => ({
    title: 'Stadt Lindenau', description: 'D', urls, htmlUrl: `${BASE_URL}/`, updated: new Date('2026-11-20T09:00:00Z'), ...wholeReleases(releases),
  });

  test(`a feed of more items than the package writes at a time (${ITEMS_PER_DOCUMENT}) is valid, has every title and body in order, and is byte for byte its items made one by one`, () => {
    fc.assert(fc.property(docOf(ITEMS_PER_DOCUMENT + 1, 2 * ITEMS_PER_DOCUMENT + 5).map(withIds), (feed) => {
      expect(rssProblems(text('rss', feed), urls.rss)).toEqual([]);
      expect(atomProblems(text('atom', feed), urls.atom)).toEqual([]);
      expect(jsonFeedProblems(text('json', feed))).toEqual([]);
      const entries = feed.releases.map((release) => toEntry(release, feedSite, feed));
      const bodies = entries.map((entry) => entry.contentHtml.replace(/\r\n?/g, '\n'));
      const rss = xml.parse(text('rss', feed)).rss.channel.item as Array<Record<string, unknown>>;
      expect(rss.map((item) => cdata(item.title))).toEqual(entries.map((entry) => entry.title.replace(/\r\n?/g, '\n')));
      expect(rss.map((item) => cdata(item['content:encoded']))).toEqual(bodies);
      expect((xml.parse(text('atom', feed)).feed.entry as Array<Record<string, unknown>>).map((entry) => cdata(entry.content))).toEqual(bodies);
      for (const format of formats) {
        const items = new ItemCache();
        // Each item made alone, in a feed of one; then the whole feed is written around the items kept.
        for (const release of feed.releases) renderFeed(format, { ...feed, ...wholeReleases([release]) }, { ...feedSite, items });
        expect(renderFeed(format, feed, { ...feedSite, items }).equals(renderFeed(format, feed, feedSite))).toBe(true);
      }
    }), { numRuns: 25 });
  }, 60_000);

  test.each(formats)('%s: a release written again (a new change time, or new content at the same time) is rendered anew', (format) => {
    const items = new ItemCache();
    const first = release(1, 'Baustelle an der Brücke', '2026-11-20T09:00:00.000Z', 'a');
    const second = release(2, 'Sperrung der Allee', '2026-11-20T09:00:00.000Z', 'b');
    renderFeed(format, feedOf([first, second]), { ...feedSite, items });
    for (const corrected of [{ ...release(1, 'Baustelle an der Brücke: berichtigt', '2026-11-21T09:00:00.000Z', 'c') },
      { ...release(1, 'Baustelle an der Brücke: noch einmal', '2026-11-21T09:00:00.000Z', 'd') }]) {
      const written = renderFeed(format, feedOf([corrected, second]), { ...feedSite, items });
      expect(written.toString('utf8')).toContain(corrected.title);
      expect(written.equals(renderFeed(format, feedOf([corrected, second]), feedSite))).toBe(true);
    }
  });

  test.each(formats)('%s: an item is kept as the version it was made of, when the release was written between listing and loading', (format) => {
    const items = new ItemCache();
    const listed = release(1, 'Baustelle an der Brücke', '2026-11-20T09:00:00.000Z', 'a');
    const written = release(1, 'Baustelle an der Brücke: berichtigt', '2026-11-21T09:00:00.000Z', 'b');
    // Listed at its first version, loaded at its second (another process wrote it in between).
    renderFeed(format, { ...feedOf([listed]), load: () => [written] }, { ...feedSite, items });
    // Listed at its second version, nothing needs loading: the item kept is the second version's.
    const next = renderFeed(format, { ...feedOf([written]), load: () => { throw new Error('loaded again'); } }, { ...feedSite, items });
    expect(next.equals(renderFeed(format, feedOf([written]), feedSite))).toBe(true);
    // Listed at its first version again, its item is not the second version's.
    expect(renderFeed(format, feedOf([listed]), { ...feedSite, items }).toString('utf8')).not.toContain('berichtigt');
  });

  test('the items kept stay within the budget, least recently used out first, and the feeds are the same', () => {
    const items = new ItemCache(6_000);
    const releases = Array.from({ length: 20 }, (_value, index) => release(index + 1, `Mitteilung ${index + 1} ${'Text '.repeat(100)}`, '2026-11-20T09:00:00.000Z', `h${index}`));
    for (let end = 1; end <= releases.length; end++) {
      const feed = feedOf(releases.slice(Math.max(0, end - 3), end));
      expect(renderFeed('rss', feed, { ...feedSite, items }).equals(renderFeed('rss', feed, feedSite))).toBe(true);
      expect(items.size).toBeLessThanOrEqual(6_000);
    }
    expect(items.size).toBeGreaterThan(0);
  });
});

describe('regressions found by the property above', () => {
  const base: Release = {
    id: 1, guid: 'tag:lindenau.example,2026:r', slug: 'r', sourceId: 'files', sourceRef: null, title: 'Mitteilung', subtitle: null,
    bodyHtml: '', bodyText: '', language: 'de', organisation: null, department: null, contact: null, topics: [], places: [],
    images: [], attachments: [], publishedAt: '2026-11-20T09:00:00.000Z', updatedAt: null, embargoUntil: null, status: 'published',
    changedAt: '2026-11-20T09:00:00.000Z', contentHash: 'base',
  };
  const feed = (release: Release): FeedDocument => ({
    title: 'Stadt Lindenau', description: 'D', urls, htmlUrl: `${BASE_URL}/`, updated: new Date('2026-11-20T09:00:00Z'), ...wholeReleases([release]),
  });
  const problems = (release: Release) => [
    ...rssProblems(text('rss', feed(release)), urls.rss),
    ...atomProblems(text('atom', feed(release)), urls.atom),
    ...jsonFeedProblems(text('json', feed(release))),
  ];

  test('a release without a body (Markdown of front matter only) still has content in JSON Feed', () => {
    expect(problems(base)).toEqual([]);
  });
  test('a topic named only by blanks or forbidden characters is no empty category', () => {
    expect(problems({ ...base, bodyHtml: '<p>T</p>', bodyText: 'T', topics: [{ name: '  ', slug: 'x' }, { name: '\u0001', slug: 'y' }] })).toEqual([]);
  });
  test.each([['/%', '/%25'], ['/]]>', '/%5D%5D%3E'], ['/a|b^c[d]', '/a%7Cb%5Ec%5Bd%5D']])(
    'a media URL %s is written as valid RFC 3986 (%s) in every format', (path, written) => {
      const file: Media = { url: path, title: null, alt: null, caption: null, credit: null, width: null, height: null, mime: 'image/png', bytes: 1 };
      expect(problems({ ...base, bodyHtml: '<p>T</p>', bodyText: 'T', attachments: [file] })).toEqual([]);
      expect(renderFeed('json', feed({ ...base, attachments: [file] }), feedSite).toString('utf8')).toContain(`"${BASE_URL}${written}"`);
    });
  test('an empty file is no enclosure (length must be positive)', () => {
    const file: Media = { url: '/media/a.pdf', title: null, alt: null, caption: null, credit: null, width: null, height: null, mime: 'application/pdf', bytes: 0 };
    expect(problems({ ...base, bodyHtml: '<p>T</p>', bodyText: 'T', attachments: [file] })).toEqual([]);
  });
  test('an organisation without visible text leaves the site\'s as dc:creator', () => {
    expect(problems({ ...base, bodyHtml: '<p>T</p>', bodyText: 'T', organisation: '' })).toEqual([]);
    expect(problems({ ...base, bodyHtml: '<p>T</p>', bodyText: 'T', organisation: '\uFFFF' })).toEqual([]);
  });
});
