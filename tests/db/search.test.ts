import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { migrate, migrations } from '../../src/db/migrations.js';
import fc from 'fast-check';
import { createSearchMatch, foldGerman, indexWords, searchableText, WORDS_PER_PREFIX } from '../../src/db/search-text.js';
import { createStore } from '../../src/db/store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';

/** A store on a new database in memory, migrated. */
function migratedStore() {
  const db = new Database(':memory:');
  migrate(db);
  return { db, store: createStore(db) };
}

let t: TestApp;
beforeAll(() => {
  t = createTestApp();
  t.store.upsertReleases([
    input({ guid: 'tag:x,2026:1', title: 'Serap Güler zu Besuch', body: '<p>Integrationszentrum besucht.</p>', topics: ['Soziales'],
      department: 'Fachbereich Soziales', publishedAt: '2026-11-01T09:00:00Z' }),
    input({ guid: 'tag:x,2026:2', title: 'Sperrung der Jülicher Straße', subtitle: 'Baustelle bis Dezember', topics: ['Verkehr'],
      department: 'Fachbereich Verkehr', publishedAt: '2026-11-02T09:00:00Z' }),
    input({ guid: 'tag:x,2026:3', title: 'Baustelle am Markt', body: '<p>Die Baustelle am Markt dauert.</p>', topics: ['Verkehr'],
      department: 'Fachbereich Verkehr', publishedAt: '2026-11-03T09:00:00Z', embargoUntil: '2026-12-01T00:00:00Z' }),
    input({ guid: 'tag:x,2026:4', title: 'Baustellen im Winter', topics: ['Verkehr'], department: 'Fachbereich Verkehr',
      publishedAt: '2026-11-04T09:00:00Z', status: 'withdrawn' }),
  ], { now: new Date('2026-11-04T10:00:00Z') });
});
afterAll(() => t.close());

const titles = (text: string, scope: Parameters<TestApp['store']['searchReleases']>[0] = { kind: 'all' }) =>
  t.store.searchReleases(scope, text, { now: t.now, limit: 10 }).map((release) => release.title);

describe('full-text search', () => {
  test('finds words in title, subtitle and text, as prefixes, with umlauts folded', () => {
    expect(titles('guler')).toEqual(['Serap Güler zu Besuch']);
    expect(titles('Güler')).toEqual(['Serap Güler zu Besuch']);
    expect(titles('integrationszent')).toEqual(['Serap Güler zu Besuch']);
    expect(titles('baustelle')).toEqual(['Sperrung der Jülicher Straße']);
  });

  test('every word must occur; embargoed and withdrawn releases are never found', () => {
    expect(titles('baustelle dezember')).toEqual(['Sperrung der Jülicher Straße']);
    expect(titles('baustelle markt')).toEqual([]);
  });

  test('is limited to a scope and counts its hits', () => {
    const soziales = t.store.topicBySlug('soziales')!;
    expect(titles('besuch', { kind: 'topic', id: soziales.id })).toEqual(['Serap Güler zu Besuch']);
    expect(titles('baustelle', { kind: 'topic', id: soziales.id })).toEqual([]);
    expect(t.store.countSearchMatches({ kind: 'all' }, 'sperrung', t.now)).toBe(1);
  });

  test('counts only what it shows: matches withdrawn or under embargo are left out of the total, in and out of a scope', () => {
    const verkehr = { kind: 'topic' as const, id: t.store.topicBySlug('verkehr')!.id };
    const fachbereich = { kind: 'department' as const, id: t.store.departmentBySlug('fachbereich-verkehr')!.id };
    const elsewhere = [{ kind: 'topic' as const, id: t.store.topicBySlug('soziales')!.id }, { kind: 'department' as const, id: t.store.departmentBySlug('fachbereich-soziales')!.id }];
    const total = (scope: Parameters<TestApp['store']['searchReleases']>[0], now: Date) => t.store.countSearchMatches(scope, 'baustelle', now);
    for (const scope of [{ kind: 'all' as const }, verkehr, fachbereich]) {
      expect(total(scope, t.now), scope.kind).toBe(1);
    }
    for (const scope of elsewhere) expect(total(scope, t.now), scope.kind).toBe(0);
    // Once the embargo lifts, its release counts (and shows) too; the withdrawn one never does.
    const later = new Date('2026-12-02T00:00:00Z');
    for (const scope of [{ kind: 'all' as const }, verkehr, fachbereich]) expect(total(scope, later), scope.kind).toBe(2);
    for (const scope of elsewhere) expect(total(scope, later), scope.kind).toBe(0);
    expect(t.store.searchReleases({ kind: 'all' }, 'baustelle', { now: later, limit: 10 }).map((release) => release.title))
      .toEqual(['Baustelle am Markt', 'Sperrung der Jülicher Straße']);
  });

  test('a count up to a bound is the visible matches or the bound, whichever is less, in every scope', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const release = fc.record({
      matches: fc.boolean(),
      topic: fc.constantFrom('Verkehr', 'Soziales'),
      department: fc.constantFrom('Fachbereich Verkehr', 'Fachbereich Soziales'),
      shown: fc.constantFrom('visible', 'visible', 'withdrawn', 'embargoed'),
    });
    fc.assert(fc.property(fc.array(release, { minLength: 1, maxLength: 24 }), (drawn) => {
      const { db, store } = migratedStore();
      // Every topic and department is there, matched or not.
      const terms = [['Verkehr', 'Fachbereich Verkehr'], ['Soziales', 'Fachbereich Soziales']].map(([topic, department], index) =>
        input({ guid: `tag:t,2026:${index}`, title: 'Markt', topics: [topic!], department, publishedAt: '2025-01-01T00:00:00Z' }));
      store.upsertReleases(terms, { now });
      store.upsertReleases(drawn.map((r, index) => input({ guid: `tag:c,2026:${index}`, title: r.matches ? `Baustelle ${index}` : `Markt ${index}`,
        topics: [r.topic], department: r.department, publishedAt: new Date(Date.UTC(2026, 0, 1 + index)).toISOString(),
        status: r.shown === 'withdrawn' ? 'withdrawn' : 'published', embargoUntil: r.shown === 'embargoed' ? '2027-01-01T00:00:00Z' : null })), { now });
      const scopes = [
        { scope: { kind: 'all' as const }, within: () => true },
        ...['verkehr', 'soziales'].map((slug) => ({ scope: { kind: 'topic' as const, id: store.topicBySlug(slug)!.id }, within: (r: typeof drawn[number]) => r.topic.toLowerCase() === slug })),
        ...['fachbereich-verkehr', 'fachbereich-soziales'].map((slug) => ({ scope: { kind: 'department' as const, id: store.departmentBySlug(slug)!.id },
          within: (r: typeof drawn[number]) => r.department === (slug === 'fachbereich-verkehr' ? 'Fachbereich Verkehr' : 'Fachbereich Soziales') })),
      ];
      for (const { scope, within } of scopes) {
        const visible = drawn.filter((r) => r.matches && r.shown === 'visible' && within(r)).length;
        expect(store.countSearchMatches(scope, 'baustelle', now), scope.kind).toBe(visible);
        for (let atMost = 0; atMost <= drawn.length + 1; atMost++) {
          expect(store.countSearchMatches(scope, 'baustelle', now, atMost), `${scope.kind} up to ${atMost}`).toBe(Math.min(visible, atMost));
        }
      }
      db.close();
    }), { numRuns: 60 });
  });

  test('FTS syntax in the query is taken as words, not as operators', () => {
    // Words are folded like the index, so operators lose their meaning twice: quoted and lower-cased.
    const match = createSearchMatch(t.store.connection());
    // Each word typed is matched as the indexed words that begin with it.
    expect(match('BAUST "Mark')).toBe('("baustelle" OR "baustellen") AND ("markt")');
    expect(match('  "* ()')).toBeNull();
    expect(match('baustelle OR')).toBeNull();
    expect(titles('" OR * )(')).toEqual([]);
    expect(titles('-baustelle')).toEqual(['Sperrung der Jülicher Straße']);
  });

  test('a correction is found by its new words, not its old ones', () => {
    const [release] = t.store.searchReleases({ kind: 'all' }, 'guler', { now: t.now, limit: 1 });
    t.store.upsertReleases([input({ guid: release!.guid, title: 'Staatssekretärin zu Besuch', body: '<p>Integrationszentrum besucht.</p>',
      topics: ['Soziales'], department: 'Fachbereich Soziales', publishedAt: '2026-11-01T09:00:00Z' })], { now: new Date('2026-11-05T00:00:00Z') });
    expect(titles('guler')).toEqual([]);
    expect(titles('staatssekretarin')).toEqual(['Staatssekretärin zu Besuch']);
  });
});

describe('German folding', () => {
  test('foldGerman writes umlauts and ß out, lower-cases and drops other diacritics', () => {
    expect(foldGerman('Güler ÄÖÜ Straße ẞ Café Łódź')).toBe('gueler aeoeue strasse ss cafe łodz');
    // A decomposed "ü" (u + U+0308, as some Mac software writes it) is the same letter.
    expect(foldGerman('Gu\u0308ler')).toBe('gueler');
  });

  test('the index holds the transliterated and the dotless spelling of umlaut words', () => {
    expect(searchableText('Serap Güler, Jülicher Straße')).toBe('serap gueler juelicher strasse guler julicher');
    expect(searchableText('Baustelle am Markt')).toBe('baustelle am markt');
  });

  let g: TestApp;
  beforeAll(() => {
    g = createTestApp();
    g.store.upsertReleases([
      input({ guid: 'tag:g,2026:1', title: 'Besuch im Integrationszentrum', body: '<p>Die Ministerin sprach.</p>',
        topics: ['Gesundheit & Soziales'], department: 'Fachbereich Bürgerdienste', publishedAt: '2026-11-01T09:00:00Z',
        contact: { name: 'Serap Güler', organisation: 'Büro für Öffentlichkeitsarbeit', street: null, postcode: null, city: null,
          phone: null, fax: null, email: null } }),
      input({ guid: 'tag:g,2026:2', title: 'Sperrung der Jülicher Straße', topics: ['Straßenbau'], department: 'Fachbereich Tiefbau',
        publishedAt: '2026-11-02T09:00:00Z' }),
      input({ guid: 'tag:g,2026:3', title: 'Neue Strasse im Gewerbegebiet', subtitle: 'Café eröffnet', publishedAt: '2026-11-03T09:00:00Z' }),
      input({ guid: 'tag:g,2026:4', title: 'Grünschnitt im Herbst', body: '<p>Säcke für Laub gibt es im Bürgerbüro.</p>',
        topics: ['Umwelt'], department: 'Fachbereich Umwelt', publishedAt: '2026-11-04T09:00:00Z' }),
    ], { now: new Date('2026-11-04T10:00:00Z') });
  });
  afterAll(() => g.close());

  const found = (text: string) => g.store.searchReleases({ kind: 'all' }, text, { now: g.now, limit: 10 }).map((r) => r.guid);

  test.each(['Güler', 'güler', 'GÜLER', 'Gueler', 'gueler', 'Guler', 'guler', 'Gü', 'Gue', 'Gul'])('"%s" finds the contact Güler', (text) => {
    expect(found(text)).toEqual(['tag:g,2026:1']);
  });

  test('"Straße" and "Strasse" find each other, newest first, in titles and topics alike', () => {
    const both = ['tag:g,2026:3', 'tag:g,2026:2'];
    expect(found('Straße')).toEqual(both);
    expect(found('strasse')).toEqual(both);
    expect(found('STRASSE')).toEqual(both);
    expect(found('Straßenbau')).toEqual(['tag:g,2026:2']);
    expect(found('strassenb')).toEqual(['tag:g,2026:2']);
  });

  test('topics, department and contact organisation are searched, with umlauts folded', () => {
    expect(found('Soziales')).toEqual(['tag:g,2026:1']);
    expect(found('buergerdienste')).toEqual(['tag:g,2026:1']);
    expect(found('Bürgerdienste')).toEqual(['tag:g,2026:1']);
    expect(found('tiefbau sperrung')).toEqual(['tag:g,2026:2']);
    expect(found('Oeffentlichkeitsarbeit')).toEqual(['tag:g,2026:1']);
    expect(found('offentlichkeit')).toEqual(['tag:g,2026:1']);
    // Prefixes reach into the body and across every field; other diacritics fold to the bare letter.
    expect(found('Buergerbuero')).toEqual(['tag:g,2026:4']);
    expect(found('säck laub')).toEqual(['tag:g,2026:4']);
    expect(found('cafe')).toEqual(['tag:g,2026:3']);
    expect(found('Café')).toEqual(['tag:g,2026:3']);
  });

  test('a correction of topics, department or contact is found by its new words only', () => {
    g.store.upsertReleases([input({ guid: 'tag:g,2026:4', title: 'Grünschnitt im Herbst', body: '<p>Säcke für Laub gibt es im Bürgerbüro.</p>',
      topics: ['Abfall'], department: 'Fachbereich Stadtreinigung', publishedAt: '2026-11-04T09:00:00Z',
      contact: { name: 'Jörg Müßig', organisation: null, street: null, postcode: null, city: null, phone: null, fax: null, email: null } })],
    { now: new Date('2026-11-05T10:00:00Z') });
    expect(found('umwelt')).toEqual([]);
    expect(found('abfall stadtreinigung')).toEqual(['tag:g,2026:4']);
    expect(found('Muessig')).toEqual(['tag:g,2026:4']);
    expect(found('Joerg Müßig')).toEqual(['tag:g,2026:4']);
  });

  test.each(['"', '*', 'NEAR(a b)', 'a AND', 'OR', '^x', 'title:güler', '(((', '"güler', "güler'", '\\', '💥', 'a\u0000b', 'x'.repeat(500)])(
    'the query %j never reaches FTS as syntax', (text) => {
      expect(() => found(text)).not.toThrow();
    });
});

describe('the migration to the German-folded index', () => {
  test('fills the new index from the releases stored before it, topics, department and contact included', () => {
    const step = migrations.findIndex((sql) => sql.includes('CREATE VIRTUAL TABLE release_search'));
    expect(step).toBeGreaterThan(2);
    const db = new Database(':memory:');
    for (const sql of migrations.slice(0, step)) db.exec(sql);
    db.pragma(`user_version = ${step}`);
    db.exec(`INSERT INTO departments (id, slug, name) VALUES (1, 'fachbereich-buergerdienste', 'Fachbereich Bürgerdienste');
      INSERT INTO topics (id, slug, name) VALUES (1, 'strassenbau', 'Straßenbau');
      INSERT INTO releases (id, guid, slug, source_id, title, body_html, body_text, department_id, contact_json, published_at,
        content_hash, changed_at, created_at)
      VALUES (1, 'tag:m,2026:1', 'alt', 'test', 'Alte Meldung', '<p>Text.</p>', 'Text.', 1,
        '{"name":"Serap Güler","organisation":null}', '2026-01-01T00:00:00.000Z', 'x', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
      INSERT INTO release_topics (topic_id, release_id, published_at, position) VALUES (1, 1, '2026-01-01T00:00:00.000Z', 0);`);
    migrate(db);
    const store = createStore(db);
    const guids = (text: string) => store.searchReleases({ kind: 'all' }, text, { now: new Date('2026-02-01T00:00:00Z'), limit: 5 })
      .map((release) => release.guid);
    for (const text of ['alte meldung', 'Guler', 'strasse', 'bürgerdienste']) expect(guids(text), text).toEqual(['tag:m,2026:1']);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'releases_fts%'`).all()).toEqual([]);
    db.close();
  });
});

describe('the index numbered newest last', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const search = (store: ReturnType<typeof createStore>, text: string, limit = 10) => {
    const found = store.searchReleases({ kind: 'all' }, text, { now, limit });
    return { guids: found.map((release) => release.guid), total: store.countSearchMatches({ kind: 'all' }, text, now) };
  };

  test('a correction of the publication time moves a release along the matches and leaves no row of its old place', () => {
    const { db, store } = migratedStore();
    const bridge = (guid: string, publishedAt: string, title = 'Brücke gesperrt') => input({ guid, title, publishedAt });
    // Published out of the order they were stored in, one before 1970 (an archive), two in the same second.
    store.upsertReleases([bridge('tag:b,2026:1', '2026-11-01T09:00:00Z'), bridge('tag:b,2026:2', '2026-11-03T09:00:00Z'),
      bridge('tag:b,2026:3', '1969-07-20T20:17:00Z'), bridge('tag:b,2026:4', '2026-11-03T09:00:00.500Z'), bridge('tag:b,2026:5', '2026-11-02T09:00:00Z')]);
    expect(search(store, 'brücke')).toEqual({ guids: ['tag:b,2026:4', 'tag:b,2026:2', 'tag:b,2026:5', 'tag:b,2026:1', 'tag:b,2026:3'], total: 5 });
    // Each page is the part of that order, however the pages are cut.
    const pages = [0, 2, 4].flatMap((offset) => store.searchReleases({ kind: 'all' }, 'brücke', { now, limit: 2, offset }).map((r) => r.guid));
    expect(pages).toEqual(search(store, 'brücke').guids);

    store.upsertReleases([bridge('tag:b,2026:3', '2026-11-04T09:00:00Z', 'Brücke wieder offen')]);
    expect(search(store, 'brücke')).toEqual({ guids: ['tag:b,2026:3', 'tag:b,2026:4', 'tag:b,2026:2', 'tag:b,2026:5', 'tag:b,2026:1'], total: 5 });
    expect(search(store, 'offen')).toEqual({ guids: ['tag:b,2026:3'], total: 1 });
    expect(search(store, 'gesperrt').guids).not.toContain('tag:b,2026:3');
    expect(db.prepare('SELECT count(*) FROM release_search').pluck().get()).toBe(5);
    expect(() => db.exec(`INSERT INTO release_search (release_search) VALUES ('integrity-check')`)).not.toThrow();
    expect(store.searchReleaseHeads({ kind: 'all' }, 'brücke', { now, limit: 2, offset: 1 }).map((head) => head.id))
      .toEqual(store.searchReleases({ kind: 'all' }, 'brücke', { now, limit: 2, offset: 1 }).map((release) => release.id));
    db.close();
  });

  test('the migration numbers the rows of an index made before it', () => {
    const step = migrations.findIndex((sql) => sql.includes('newest last'));
    expect(step).toBeGreaterThan(0);
    const { db, store } = migratedStore();
    store.upsertReleases([input({ guid: 'tag:m,2026:1', title: 'Neuer Radweg', publishedAt: '2026-11-02T09:00:00Z' }),
      input({ guid: 'tag:m,2026:2', title: 'Alter Radweg', publishedAt: '2026-11-01T09:00:00Z' })]);
    // The index as the migrations before made it: numbered by release id.
    db.exec(`INSERT INTO release_search (release_search) VALUES ('delete-all')`);
    db.exec(`INSERT INTO release_search (rowid, title) SELECT id, herold_searchable(title) FROM releases`);
    db.exec('DROP TABLE search_words');
    db.pragma(`user_version = ${step}`);
    migrate(db);
    expect(search(createStore(db), 'radweg')).toEqual({ guids: ['tag:m,2026:1', 'tag:m,2026:2'], total: 2 });
    expect(db.prepare('SELECT count(*) FROM release_search').pluck().get()).toBe(2);
    db.close();
  });
});

describe('words typed searched as the indexed words that begin with them', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const WORD = /[\p{L}\p{N}\p{Co}]+/gu;
  /** What a search must find, worked out without the index: every word typed begins a word of the release. */
  const expected = (releases: ReadonlyArray<{ guid: string; title: string; body: string }>, typed: string) => {
    const prefixes = foldGerman(typed).match(WORD) ?? [];
    if (prefixes.length === 0) return [];
    return releases.filter((release) => {
      const words = indexWords([searchableText(release.title), searchableText(release.body)]);
      return prefixes.every((prefix) => words.some((word) => word.startsWith(prefix)));
    }).map((release) => release.guid).reverse();
  };

  test('finds exactly the releases a word-by-word reading finds, newest first, counted alike', () => {
    // Few letters, so that words share beginnings, often more than WORDS_PER_PREFIX of them.
    const word = fc.stringMatching(/^[abäßeü]{1,5}$/);
    const text = fc.array(word, { minLength: 1, maxLength: 12 }).map((words) => words.join(' '));
    fc.assert(fc.property(fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 12 }), fc.array(word, { minLength: 1, maxLength: 3 }),
      (texts, typed) => {
        const { db, store } = migratedStore();
        const releases = texts.map(([title, body], index) => ({ guid: `tag:p,2026:${index}`, title, body }));
        store.upsertReleases(releases.map((release, index) => input({ ...release, body: `<p>${release.body}</p>`,
          publishedAt: new Date(Date.UTC(2026, 0, 1 + index)).toISOString() })), { now });
        for (const query of [typed.join(' '), typed.join(' ').toUpperCase()]) {
          const want = expected(releases, query);
          const found = store.searchReleases({ kind: 'all' }, query, { now, limit: 20 });
          expect(found.map((release) => release.guid), query).toEqual(want);
          expect(store.countSearchMatches({ kind: 'all' }, query, now), query).toBe(want.length);
          expect(store.searchReleaseHeads({ kind: 'all' }, query, { now, limit: 20 }).map((head) => head.id))
            .toEqual(found.map((release) => release.id));
        }
        db.close();
      }), { numRuns: 150 });
  }, 30_000);

  test(`a word typed that begins more than ${WORDS_PER_PREFIX} indexed words is searched as a prefix, and finds them all`, () => {
    const { db, store } = migratedStore();
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const words = Array.from({ length: WORDS_PER_PREFIX + 8 }, (_, index) => `bau${letters[index % 26]}${letters[Math.floor(index / 26)]}`);
    store.upsertReleases(words.map((word, index) => input({ guid: `tag:w,2026:${index}`, title: `Neu: ${word}`,
      publishedAt: new Date(Date.UTC(2026, 0, 1 + index)).toISOString() })), { now });
    const match = createSearchMatch(db);
    expect(match('bau')).toBe('("bau"*)');
    expect(match('baua')).toBe('("bauaa" OR "bauab")');
    const found = store.searchReleases({ kind: 'all' }, 'bau', { now, limit: 100 });
    expect(store.countSearchMatches({ kind: 'all' }, 'bau', now)).toBe(words.length);
    expect(found.map((release) => release.guid)).toEqual(words.map((_, index) => `tag:w,2026:${index}`).reverse());
    expect(store.searchReleases({ kind: 'all' }, 'baua neu', { now, limit: 100 }).map((release) => release.title))
      .toEqual(['Neu: bauab', 'Neu: bauaa']);
    db.close();
  });

  test('the migration lists the words of an index made before it, and indexes words alone', () => {
    const step = migrations.findIndex((sql) => sql.includes('CREATE TABLE search_words'));
    expect(step).toBeGreaterThan(0);
    const { db, store } = migratedStore();
    store.upsertReleases([input({ guid: 'tag:v,2026:1', title: 'Sperrung der Jülicher Straße', publishedAt: '2026-11-02T09:00:00Z',
      topics: ['Straßenbau'], contact: { name: 'Serap Güler', organisation: 'Presseamt', street: null, postcode: null, city: null,
        phone: null, fax: null, email: null } })]);
    // The index as the migrations before made it: folded text with its punctuation, and no list of words.
    db.exec(`DROP TABLE search_words`);
    db.exec(`INSERT INTO release_search (release_search) VALUES ('delete-all')`);
    db.exec(`INSERT INTO release_search (rowid, title) SELECT unixepoch(published_at) * 1073741824 + id, lower(title) || ', (alt).' FROM releases`);
    db.pragma(`user_version = ${step}`);
    migrate(db);
    const guids = (text: string) => createStore(db).searchReleases({ kind: 'all' }, text, { now, limit: 5 }).map((release) => release.guid);
    for (const text of ['jüli', 'Strasse', 'guler', 'presse', 'strassenb']) expect(guids(text), text).toEqual(['tag:v,2026:1']);
    expect(guids('alt')).toEqual([]);
    expect(db.prepare(`SELECT word FROM search_words WHERE word LIKE 'ju%' ORDER BY word`).pluck().all()).toEqual(['juelicher', 'julicher']);
    expect(() => db.exec(`INSERT INTO release_search (release_search) VALUES ('integrity-check')`)).not.toThrow();
    db.close();
  });
});
