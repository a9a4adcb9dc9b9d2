import { parseAtomFeed, parseJsonFeed, parseRssFeed } from 'feedsmith';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Release } from '../../src/model.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { nastyReleases } from '../helpers/fixtures.js';
import { atomProblems, jsonFeedProblems, rssProblems } from '../helpers/validate.js';

let t: TestApp;
let feedPaths: string[];

beforeAll(async () => {
  t = createTestApp();
  t.store.upsertReleases(await nastyReleases(), { now: new Date('2026-11-21T00:00:00Z') });
  const now = t.now;
  feedPaths = [
    '/feeds/all',
    ...t.store.listTopics(now).map((topic) => `/feeds/topics/${topic.slug}`),
    ...t.store.listDepartments(now).map((department) => `/feeds/departments/${department.slug}`),
  ];
});
afterAll(() => t.close());

const stored = (): Release[] => t.store.newestReleases({ kind: 'all' }, { now: t.now, limit: 100 });
/** What a reader must see of a stored title or text: the characters XML forbids are gone, nothing else changed. */
const visible = (value: string) => value.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');

describe('every feed of every scope is valid', () => {
  test('the fixtures cover all scopes', () => {
    expect(feedPaths.length).toBeGreaterThanOrEqual(7);
  });

  test('RSS 2.0 passes the W3C validator rules', async () => {
    for (const path of feedPaths) {
      const res = await request(t.app).get(`${path}.rss`).expect(200);
      expect(rssProblems(res.text, `${BASE_URL}${path}.rss`), path).toEqual([]);
    }
  });

  test('Atom 1.0 passes RFC 4287', async () => {
    for (const path of feedPaths) {
      const res = await request(t.app).get(`${path}.atom`).expect(200);
      expect(atomProblems(res.text, `${BASE_URL}${path}.atom`), path).toEqual([]);
    }
  });

  test('JSON Feed passes the 1.1 schema', async () => {
    for (const path of feedPaths) {
      const res = await request(t.app).get(`${path}.json`).expect(200);
      expect(jsonFeedProblems(res.text), path).toEqual([]);
    }
  });

  test('the validators reject what they must (they are not vacuous)', async () => {
    const res = await request(t.app).get('/feeds/all.rss');
    expect(rssProblems(res.text.replace(/<pubDate>[^<]+/, '<pubDate>2026-11-20'), `${BASE_URL}/feeds/all.rss`)).not.toEqual([]);
    expect(rssProblems(res.text.replace('</title>', '\u000B</title>'), `${BASE_URL}/feeds/all.rss`)).not.toEqual([]);
    expect(rssProblems(res.text, `${BASE_URL}/feeds/other.rss`)).not.toEqual([]);
    expect(rssProblems(res.text.replaceAll(BASE_URL, 'http://localhost'), 'http://localhost/feeds/all.rss')).not.toEqual([]);
    const atom = (await request(t.app).get('/feeds/all.atom')).text;
    expect(atomProblems(atom.replace(/ term="[^"]+"/, ''), `${BASE_URL}/feeds/all.atom`)).not.toEqual([]);
    expect(atomProblems(atom.replace(/<author>[\s\S]*?<\/author>/g, ''), `${BASE_URL}/feeds/all.atom`)).not.toEqual([]);
    expect(atomProblems(atom.replace(' length="', ' x="'), `${BASE_URL}/feeds/all.atom`)).not.toEqual([]);
    const json = (await request(t.app).get('/feeds/all.json')).text;
    expect(jsonFeedProblems(json.replace('"items":[', '"items":7,"x":['))).not.toEqual([]);
  });
});

describe('an independent parser reads back what the store holds', () => {
  test('RSS', async () => {
    const feed = parseRssFeed((await request(t.app).get('/feeds/all.rss')).text);
    const releases = stored();
    expect(feed.items).toHaveLength(releases.length);
    feed.items!.forEach((item, index) => {
      const release = releases[index]!;
      expect(item.title).toBe(visible(release.title));
      expect(item.link).toBe(`${BASE_URL}/releases/${release.slug}`);
      expect(item.guid).toEqual({ value: release.guid, isPermaLink: false });
      expect(new Date(item.pubDate!).toISOString()).toBe(release.publishedAt);
      expect(item.dc?.creators?.[0]).toBe(`${release.organisation} – ${release.department!.name}`);
      expect(item.categories?.map((category) => category.name)).toEqual(release.topics.map((topic) => topic.name));
      expect(item.content?.encoded).toContain(release.bodyHtml.slice(0, 40).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, ''));
      const image = release.images[0];
      if (image) {
        expect(item.enclosures?.[0]).toEqual({ url: `${BASE_URL}${image.url}`, length: image.bytes, type: image.mime });
        expect(item.media?.contents?.[0]).toMatchObject({ fileSize: image.bytes, type: image.mime, width: image.width, height: image.height });
        expect(item.media?.contents?.[0]?.credits?.[0]?.value).toBe(image.credit);
        expect(item.media?.contents?.[0]?.description?.value).toBe(image.caption);
        expect(item.content?.encoded).toContain(`<img src="${BASE_URL}${image.url}"`);
      }
    });
  });

  test('Atom', async () => {
    const feed = parseAtomFeed((await request(t.app).get('/feeds/all.atom')).text);
    const releases = stored();
    expect(feed.entries).toHaveLength(releases.length);
    feed.entries!.forEach((entry, index) => {
      const release = releases[index]!;
      // type="html": the value is HTML; decoding its entities gives the title back.
      const title = entry.title!.value!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
      expect(title).toBe(visible(release.title));
      expect(entry.id).toBe(release.guid);
      expect(entry.published).toBe(release.publishedAt);
      expect(entry.updated).toBe(release.updatedAt ?? release.publishedAt);
      expect(entry.links?.[0]?.href).toBe(`${BASE_URL}/releases/${release.slug}`);
      expect(entry.categories?.map((category) => category.term)).toEqual(release.topics.map((topic) => topic.slug));
      const enclosures = entry.links?.filter((link) => link.rel === 'enclosure') ?? [];
      expect(enclosures.map((link) => [link.href, link.type, link.length]))
        .toEqual([...release.images, ...release.attachments].map((file) => [`${BASE_URL}${file.url}`, file.mime, file.bytes]));
    });
  });

  test('JSON Feed', async () => {
    const raw = JSON.parse((await request(t.app).get('/feeds/all.json')).text) as { items: Array<Record<string, unknown>> };
    const feed = parseJsonFeed(raw);
    const releases = stored();
    expect(feed.items).toHaveLength(releases.length);
    feed.items!.forEach((item, index) => {
      const release = releases[index]!;
      expect(item.id).toBe(release.guid);
      expect(item.title).toBe(visible(release.title));
      expect(item.date_published).toBe(release.publishedAt);
      expect(item.tags).toEqual(release.topics.map((topic) => topic.name));
      expect(item.attachments?.map((file) => [file.url, file.mime_type, file.size_in_bytes]))
        .toEqual(release.images.length + release.attachments.length
          ? [...release.images, ...release.attachments].map((file) => [`${BASE_URL}${file.url}`, file.mime, file.bytes])
          : undefined);
      // The parser keeps only standard fields; the extension is read from the document itself.
      expect(raw.items[index]!._press_contact ?? null)
        .toEqual(release.contact ? Object.fromEntries(Object.entries(release.contact).filter(([, value]) => value)) : null);
    });
  });
});

describe('hard content survives every format', () => {
  test('"]]>" twice, control characters, markup characters and emoji', async () => {
    const nasty = stored().find((release) => release.guid.endsWith('nasty-1'))!;
    expect(nasty.title).toContain(']]> und ]]>');
    for (const format of ['rss', 'atom']) {
      const body = (await request(t.app).get(`/feeds/all.${format}`)).text;
      expect(body).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
      expect(body).toContain('🚲');
      expect(body).not.toContain('<script');
      expect(body).not.toContain('javascript:');
      expect(body).not.toContain('onclick');
    }
    const json = JSON.parse((await request(t.app).get('/feeds/all.json')).text) as { items: Array<{ title: string; summary: string }> };
    expect(json.items[0]!.summary).toBe('Anwohner fragen: "Wann?" – \'Bald\' & <sicher>');
  });

  test('a 3,000-word body is published whole', async () => {
    const long = stored().find((release) => release.guid.endsWith('long-1'))!;
    expect(long.bodyText.split(/\s+/).length).toBe(3000);
    const feed = parseRssFeed((await request(t.app).get('/feeds/all.rss')).text);
    const item = feed.items!.find((entry) => entry.guid?.value === long.guid)!;
    expect(item.content!.encoded).toBe(long.bodyHtml);
  });
});
