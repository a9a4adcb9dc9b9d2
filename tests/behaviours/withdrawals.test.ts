import { parseAtomFeed } from 'feedsmith';
import { XMLParser } from 'fast-xml-parser';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import type { ReleaseInput } from '../../src/model.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';
import { atomProblems, jsonFeedProblems, rssProblems } from '../helpers/validate.js';

const BRIDGE = 'tag:lindenau.example,2026:lindenbruecke';
const FEST = 'tag:lindenau.example,2026:stadtfest';
const WITHDRAWN = new Date('2026-11-24T10:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const TOMBSTONES_NS = 'http://purl.org/atompub/tombstones/1.0';

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

const bridge = (fields: Partial<ReleaseInput> = {}) => input({
  guid: BRIDGE, title: 'Lindenbrücke ab Montag gesperrt', topics: ['Verkehr'], department: 'Fachbereich Mobilität',
  publishedAt: '2026-11-20T09:30:00.000Z', ...fields,
});
const fest = (fields: Partial<ReleaseInput> = {}) => input({
  guid: FEST, title: 'Stadtfest 2027: der Termin steht', topics: ['Kultur'], department: 'Fachbereich Kultur',
  publishedAt: '2026-11-19T08:00:00.000Z', ...fields,
});

function app(): TestApp {
  const t = createTestApp({ now: new Date('2026-11-25T12:00:00.000Z') });
  apps.push(t);
  t.store.upsertReleases([bridge(), fest()], { now: new Date('2026-11-20T10:00:00.000Z') });
  return t;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => name === 'at:deleted-entry' || name === 'entry' });

/** The feed element's tombstones and entry ids, read with a plain XML parser. */
function atomOf(xml: string): { namespace: unknown; tombstones: Array<{ ref: string; when: string; comment: string }>; entries: string[] } {
  const feed = parser.parse(xml).feed as Record<string, unknown>;
  const deleted = (feed['at:deleted-entry'] ?? []) as Array<Record<string, unknown>>;
  return {
    namespace: feed['@xmlns:at'],
    tombstones: deleted.map((node) => ({ ref: String(node['@ref']), when: String(node['@when']), comment: String(node['at:comment']) })),
    entries: ((feed.entry ?? []) as Array<{ id: string }>).map((entry) => entry.id),
  };
}

async function atom(t: TestApp, path: string) {
  const res = await request(t.app).get(`${path}.atom`).expect(200);
  expect(atomProblems(res.text, `${BASE_URL}${path}.atom`), path).toEqual([]);
  return { res, ...atomOf(res.text) };
}

describe('a withdrawn release leaves every feed; Atom says so with an RFC 6721 tombstone for 30 days', () => {
  test('the Atom feeds it was in (all, its topic, its department) carry at:deleted-entry; the others do not', async () => {
    const t = app();
    // Cached before the withdrawal: the write must drop the copies.
    const warm = await atom(t, '/feeds/all');
    expect(warm.namespace).toBeUndefined();
    expect(warm.res.text).not.toContain('deleted-entry');

    t.store.upsertReleases([bridge({ status: 'withdrawn' })], { now: WITHDRAWN });
    for (const path of ['/feeds/all', '/feeds/topics/verkehr', '/feeds/departments/fachbereich-mobilitaet']) {
      const feed = await atom(t, path);
      expect(feed.namespace, path).toBe(TOMBSTONES_NS);
      expect(feed.tombstones, path).toEqual([{ ref: BRIDGE, when: WITHDRAWN.toISOString(), comment: 'Zurückgezogen' }]);
      expect(feed.entries, path).not.toContain(BRIDGE);
      expect(feed.res.headers['last-modified']).toBe(WITHDRAWN.toUTCString());
      // An independent Atom parser still reads the feed.
      expect(parseAtomFeed(feed.res.text).entries?.map((entry) => entry.id) ?? []).not.toContain(BRIDGE);
    }
    // The check of tombstones is not vacuous.
    const text = (await request(t.app).get('/feeds/all.atom')).text;
    expect(atomProblems(text.replace(/ when="[^"]+"/, ' when="24.11.2026"'), `${BASE_URL}/feeds/all.atom`)).not.toEqual([]);
    expect(atomProblems(text.replace(/ xmlns:at="[^"]+"/, ' xmlns:at="urn:x"'), `${BASE_URL}/feeds/all.atom`)).not.toEqual([]);
    for (const path of ['/feeds/topics/kultur', '/feeds/departments/fachbereich-kultur']) {
      const feed = await atom(t, path);
      expect(feed.tombstones, path).toEqual([]);
      expect(feed.namespace).toBeUndefined();
      expect(feed.entries).toEqual([FEST]);
    }
  });

  test('RSS and JSON Feed just leave the item out (they have no tombstones) and stay valid; the page answers 410', async () => {
    const t = app();
    t.store.upsertReleases([bridge({ status: 'withdrawn' })], { now: WITHDRAWN });
    const rss = await request(t.app).get('/feeds/all.rss').expect(200);
    expect(rssProblems(rss.text, `${BASE_URL}/feeds/all.rss`)).toEqual([]);
    expect(rss.text).not.toContain(BRIDGE);
    expect(rss.text).not.toContain('deleted-entry');
    const json = await request(t.app).get('/feeds/all.json').expect(200);
    expect(jsonFeedProblems(json.text)).toEqual([]);
    expect(json.text).not.toContain(BRIDGE);
    await request(t.app).get(`/releases/${t.store.releaseByGuid(BRIDGE)!.slug}`).expect(410);
  });

  test('the tombstone ages out after 30 days, and the cached feed with it, without any write', async () => {
    const t = app();
    t.store.upsertReleases([bridge({ status: 'withdrawn' })], { now: WITHDRAWN });
    t.now = new Date(WITHDRAWN.getTime() + 30 * DAY - 1);
    const last = await atom(t, '/feeds/all');
    expect(last.tombstones.map((tombstone) => tombstone.ref)).toEqual([BRIDGE]);
    await request(t.app).get('/feeds/all.atom').set('If-None-Match', last.res.headers.etag!).expect(304);

    t.now = new Date(WITHDRAWN.getTime() + 30 * DAY);
    const gone = await atom(t, '/feeds/all');
    expect(gone.tombstones).toEqual([]);
    expect(gone.namespace).toBeUndefined();
    await request(t.app).get('/feeds/all.atom').set('If-None-Match', last.res.headers.etag!).expect(200);
    expect(t.store.nextEmbargoLift(t.now)).toBeNull();
  });

  test('no tombstone for a release nobody could see: withdrawn under embargo, or stored withdrawn', async () => {
    const t = app();
    t.store.upsertReleases([
      input({ guid: 'tag:lindenau.example,2026:geheim', title: 'Noch geheim', topics: ['Verkehr'], publishedAt: '2026-11-24T08:00:00.000Z',
        embargoUntil: '2026-12-01T08:00:00.000Z' }),
    ], { now: new Date('2026-11-24T08:00:00.000Z') });
    t.store.upsertReleases([
      input({ guid: 'tag:lindenau.example,2026:geheim', title: 'Noch geheim', topics: ['Verkehr'], publishedAt: '2026-11-24T08:00:00.000Z',
        embargoUntil: '2026-12-01T08:00:00.000Z', status: 'withdrawn' }),
      input({ guid: 'tag:lindenau.example,2026:nie', title: 'Nie erschienen', topics: ['Verkehr'], publishedAt: '2026-11-24T08:00:00.000Z',
        status: 'withdrawn' }),
    ], { now: WITHDRAWN });
    for (const path of ['/feeds/all', '/feeds/topics/verkehr']) {
      const feed = await atom(t, path);
      expect(feed.tombstones, path).toEqual([]);
      expect(feed.res.text).not.toContain('geheim');
    }
  });

  test('a release published again leaves no tombstone behind', async () => {
    const t = app();
    t.store.upsertReleases([bridge({ status: 'withdrawn' })], { now: WITHDRAWN });
    t.store.upsertReleases([bridge()], { now: new Date(WITHDRAWN.getTime() + DAY) });
    const feed = await atom(t, '/feeds/all');
    expect(feed.tombstones).toEqual([]);
    expect(feed.entries).toContain(BRIDGE);
  });
});
