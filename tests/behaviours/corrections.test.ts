import * as cheerio from 'cheerio';
import { parseAtomFeed, parseJsonFeed, parseRssFeed } from 'feedsmith';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import type { ReleaseInput } from '../../src/model.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { fixtureMedia, input } from '../helpers/fixtures.js';
import { atomProblems, jsonFeedProblems, rssProblems } from '../helpers/validate.js';

const GUID = 'tag:lindenau.example,2026:lindenbruecke';
const PUBLISHED = '2026-11-20T09:30:00.000Z';
const STORED = new Date('2026-11-20T09:31:00.000Z');
const CORRECTED = new Date('2026-11-23T15:45:00.000Z');

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

function original(fields: Partial<ReleaseInput> & { body?: string } = {}): ReleaseInput {
  return input({
    guid: GUID,
    title: 'Lindenbrücke ab Montag gesperrt',
    subtitle: 'Umleitung über die Ringstraße',
    body: '<p>Die Brücke ist ab Montag gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>',
    topics: ['Verkehr'],
    department: 'Fachbereich Mobilität',
    publishedAt: PUBLISHED,
    ...fields,
  });
}

function app(): TestApp {
  const t = createTestApp({ now: new Date('2026-11-25T12:00:00.000Z') });
  apps.push(t);
  t.store.upsertReleases([original()], { now: STORED });
  return t;
}

const FEEDS = ['/feeds/all', '/feeds/topics/verkehr', '/feeds/departments/fachbereich-mobilitaet'];

describe('a correction keeps the GUID and sets `updated` in every format', () => {
  test('title and text corrected through the store: same GUID, new updated, pubDate/published stay the publication', async () => {
    const t = app();
    const before = new Map<string, string>();
    for (const path of FEEDS) for (const format of ['rss', 'atom', 'json']) {
      before.set(`${path}.${format}`, (await request(t.app).get(`${path}.${format}`).expect(200)).headers.etag!);
    }
    const [result] = t.store.upsertReleases([original({
      title: 'Lindenbrücke ab Dienstag gesperrt',
      body: '<p>Die Lindenbrücke ist ab Dienstag für drei Wochen gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>',
    })], { now: CORRECTED });
    expect(result!.outcome).toBe('changed');
    const slug = t.store.releaseByGuid(GUID)!.slug;
    expect(slug).toBe('lindenbruecke-ab-dienstag-gesperrt');

    for (const path of FEEDS) {
      const rss = await request(t.app).get(`${path}.rss`).expect(200);
      expect(rss.headers.etag).not.toBe(before.get(`${path}.rss`));
      expect(rss.headers['last-modified']).toBe(CORRECTED.toUTCString());
      expect(rssProblems(rss.text, `${BASE_URL}${path}.rss`)).toEqual([]);
      const [item] = parseRssFeed(rss.text).items!;
      expect(item!.guid).toEqual({ value: GUID, isPermaLink: false });
      expect(item!.title).toBe('Lindenbrücke ab Dienstag gesperrt');
      expect(item!.link).toBe(`${BASE_URL}/releases/${slug}`);
      // RSS 2.0 has no element for a modification: pubDate stays the publication, and the channel says when it changed.
      expect(new Date(item!.pubDate!).toISOString()).toBe(PUBLISHED);
      expect(new Date(parseRssFeed(rss.text).lastBuildDate!).toISOString()).toBe(CORRECTED.toISOString());

      const atom = await request(t.app).get(`${path}.atom`).expect(200);
      expect(atom.headers.etag).not.toBe(before.get(`${path}.atom`));
      expect(atomProblems(atom.text, `${BASE_URL}${path}.atom`)).toEqual([]);
      const [entry] = parseAtomFeed(atom.text).entries!;
      expect(entry!.id).toBe(GUID);
      expect(entry!.title?.value).toBe('Lindenbrücke ab Dienstag gesperrt');
      expect(new Date(entry!.updated!).toISOString()).toBe(CORRECTED.toISOString());
      expect(new Date(entry!.published!).toISOString()).toBe(PUBLISHED);
      expect(new Date(parseAtomFeed(atom.text).updated!).toISOString()).toBe(CORRECTED.toISOString());

      const json = await request(t.app).get(`${path}.json`).expect(200);
      expect(json.headers.etag).not.toBe(before.get(`${path}.json`));
      expect(jsonFeedProblems(json.text)).toEqual([]);
      const [item11] = parseJsonFeed(json.text).items!;
      expect(item11!.id).toBe(GUID);
      expect(item11!.date_modified).toBe(CORRECTED.toISOString());
      expect(item11!.date_published).toBe(PUBLISHED);
      expect(item11!.content_html).toContain('ab Dienstag für drei Wochen');
    }
  });

  test('an uncorrected release has updated = published in Atom and JSON Feed', async () => {
    const t = app();
    const [entry] = parseAtomFeed((await request(t.app).get('/feeds/all.atom')).text).entries!;
    expect(new Date(entry!.updated!).toISOString()).toBe(PUBLISHED);
    const [item] = parseJsonFeed((await request(t.app).get('/feeds/all.json')).text).items!;
    expect(item!.date_modified).toBe(PUBLISHED);
  });
});

describe('whitespace and markup alone are no correction', () => {
  const same = [
    ['a newline after a paragraph', '<p>Die Brücke ist ab Montag gesperrt.</p>\n<p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>\n'],
    ['re-indented HTML and a line break inside a sentence', '  <p>Die Brücke ist ab\n  Montag gesperrt.</p>\n\t<p>Mehr unter\n<a href="https://lindenau.example/verkehr">Verkehr</a>.</p>'],
    ['<b> for nothing, <strong> for <b>', '<p>Die <b>Brücke</b> ist ab <strong>Montag</strong> gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr"><em>Verkehr</em></a>.</p>'],
    ['an entity for a character', '<p>Die Br&uuml;cke ist ab Montag gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>'],
  ] as const;

  for (const [name, body] of same) {
    test(`${name}: "unchanged", no revision, the feeds keep their ETag`, async () => {
      const t = app();
      const etag = (await request(t.app).get('/feeds/all.atom').expect(200)).headers.etag;
      const [result] = t.store.upsertReleases([original({ body })], { now: CORRECTED });
      expect(result!.outcome).toBe('unchanged');
      const release = t.store.releaseByGuid(GUID)!;
      expect(release.updatedAt).toBeNull();
      expect(release.changedAt).toBe(STORED.toISOString());
      expect(t.store.revisionsOf(release.id)).toEqual([]);
      await request(t.app).get('/feeds/all.atom').set('If-None-Match', etag!).expect(304);
    });
  }

  const different = [
    ['a changed link target', '<p>Die Brücke ist ab Montag gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/baustellen">Verkehr</a>.</p>'],
    ['one paragraph split in two', '<p>Die Brücke ist ab Montag</p><p>gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>'],
    ['a changed word', '<p>Die Brücke ist ab Dienstag gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>'],
  ] as const;

  for (const [name, body] of different) {
    test(`${name}: a correction`, () => {
      const t = app();
      const [result] = t.store.upsertReleases([original({ body })], { now: CORRECTED });
      expect(result!.outcome).toBe('changed');
      const release = t.store.releaseByGuid(GUID)!;
      expect(release.updatedAt).toBe(CORRECTED.toISOString());
      expect(Object.keys(t.store.revisionsOf(release.id)[0]!.previous)).toEqual(['bodyHtml']);
    });
  }

  test('markup changed together with the title: the revision records the title only', () => {
    const t = app();
    t.store.upsertReleases([original({
      title: 'Lindenbrücke ab Montag voll gesperrt',
      body: '<p>Die <strong>Brücke</strong> ist ab Montag gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>',
    })], { now: CORRECTED });
    const release = t.store.releaseByGuid(GUID)!;
    expect(t.store.revisionsOf(release.id).map((revision) => Object.keys(revision.previous))).toEqual([['title']]);
    // The new markup is stored with the correction.
    expect(release.bodyHtml).toContain('<strong>Brücke</strong>');
  });
});

describe('the release page tells what each correction changed', () => {
  test('"korrigiert am" and, per correction, its note and a readable account of the changes', async () => {
    const t = app();
    const image = await fixtureMedia('bild-ohne-endung', { alt: 'Die Lindenbrücke' });
    t.store.upsertReleases([original({
      title: 'Lindenbrücke ab Dienstag gesperrt',
      body: '<p>Die Lindenbrücke ist ab Dienstag für drei Wochen gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>',
    })], { now: CORRECTED, note: 'Termin berichtigt' });
    t.store.upsertReleases([original({
      title: 'Lindenbrücke ab Dienstag gesperrt',
      body: '<p>Die Lindenbrücke ist ab Dienstag für drei Wochen gesperrt.</p><p>Mehr unter <a href="https://lindenau.example/verkehr">Verkehr</a>.</p>',
      images: [image],
      topics: ['Verkehr', 'Baustellen'],
    })], { now: new Date('2026-11-24T08:00:00.000Z') });
    const slug = t.store.releaseByGuid(GUID)!.slug;

    const $ = cheerio.load((await request(t.app).get(`/releases/${slug}`).expect(200)).text);
    expect($('.dates').text()).toBe('Veröffentlicht am 20. November 2026, 10:30 Uhr, korrigiert am 24. November 2026, 09:00 Uhr');
    expect($('.corrections').attr('aria-label')).toBe('Korrekturen');
    expect($('.corrections li').toArray().map((element) => $(element).text())).toEqual([
      'Korrektur vom 23. November 2026, 16:45 Uhr: Termin berichtigt – Titel geändert: „Lindenbrücke ab Montag gesperrt“ → '
        + '„Lindenbrücke ab Dienstag gesperrt“; Text geändert: 5 Wörter ergänzt, 2 gestrichen',
      'Korrektur vom 24. November 2026, 09:00 Uhr: Bild ergänzt; Themen geändert: „Baustellen“ ergänzt',
    ]);
    expect($('.corrections li time').first().attr('datetime')).toBe('2026-11-23T16:45:00+01:00');
  });

  test('a moved embargo alone is no correction; together with one, it is told', async () => {
    const t = app();
    t.store.upsertReleases([original({ embargoUntil: '2026-11-20T09:00:00.000Z' })], { now: new Date('2026-11-21T00:00:00.000Z') });
    const slug = t.store.releaseByGuid(GUID)!.slug;
    let $ = cheerio.load((await request(t.app).get(`/releases/${slug}`).expect(200)).text);
    expect($('.corrections')).toHaveLength(0);
    expect($('.dates').text()).not.toContain('korrigiert');

    t.store.upsertReleases([original({ embargoUntil: '2026-11-20T09:10:00.000Z', subtitle: 'Umleitung über den Ring' })], { now: CORRECTED });
    $ = cheerio.load((await request(t.app).get(`/releases/${slug}`).expect(200)).text);
    expect($('.corrections li').toArray().map((element) => $(element).text())).toEqual([
      'Korrektur vom 23. November 2026, 16:45 Uhr: Untertitel geändert: „Umleitung über die Ringstraße“ → „Umleitung über den Ring“; Sperrfrist geändert',
    ]);
  });
});
