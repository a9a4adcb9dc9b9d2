import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { migrations } from '../../src/db/migrations.js';
import { openDatabase } from '../../src/db/open.js';
import { contentHash, createStore, HEAD_COLUMNS, NEWEST_CHANGE_SQL, newestInScopeSql, searchInScopeSql, type Store } from '../../src/db/store.js';
import type { Contact, Media, Release, ReleaseInput } from '../../src/model.js';

interface Opened {
  readonly file: string;
  readonly db: Database.Database;
  readonly store: Store;
}

const dirs: string[] = [];
const open: Database.Database[] = [];

/** A new database file in a fresh temporary folder, opened the way the service opens it. */
function fresh(): Opened {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-store-'));
  dirs.push(dir);
  return reopen(path.join(dir, 'herold.db'));
}

/** Another connection to the same file (the next start, or another process). */
function reopen(file: string): Opened {
  const db = openDatabase(file);
  open.push(db);
  return { file, db, store: createStore(db) };
}

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const CONTACT: Contact = {
  name: 'Annika Schröder', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52461', city: 'Lindenau',
  phone: '02461/382-1322', fax: '02461/382-121', email: 'annika.schroeder@lindenau.example',
};

const IMAGE: Media = {
  url: '/media/rathausplatz-sanierung.jpg', title: 'Rathausplatz', alt: 'Der Rathausplatz mit Bauzäunen',
  caption: 'Die Arbeiten beginnen im Mai.', credit: '© Stadt Lindenau / Tobias Kranz',
  width: 1200, height: 675, mime: 'image/jpeg', bytes: 183_204,
};

/** A minimal release input; every test states the fields it is about. */
function release(fields: Partial<ReleaseInput> & { guid: string }): ReleaseInput {
  return {
    sourceId: 'test',
    title: `Meldung ${fields.guid}`,
    bodyHtml: '<p>Text.</p>',
    bodyText: 'Text.',
    publishedAt: '2026-11-20T09:00:00.000Z',
    ...fields,
  };
}

const T0 = new Date('2026-11-20T10:00:00.000Z');
const T1 = new Date('2026-11-21T10:00:00.000Z');
const T2 = new Date('2026-11-22T10:00:00.000Z');

function count(db: Database.Database, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function changedAt(db: Database.Database, guid: string): string {
  return (db.prepare('SELECT changed_at FROM releases WHERE guid = ?').get(guid) as { changed_at: string }).changed_at;
}

const guids = (releases: readonly Release[]) => releases.map((item) => item.guid);

describe('migrations', () => {
  test('a new database is at the latest version, in WAL mode, with foreign keys on', () => {
    const { db } = fresh();
    expect(migrations.length).toBeGreaterThan(0);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  test('opening an existing database applies nothing and keeps its data', () => {
    const first = fresh();
    first.store.upsertReleases([release({ guid: 'keep-1', topics: ['Verkehr'] })], { now: T0 });
    const schemaVersion = first.db.pragma('schema_version', { simple: true });
    const schema = first.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();
    first.db.close();

    const second = reopen(first.file);
    expect(second.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    // schema_version counts every schema change: equal means no step ran again.
    expect(second.db.pragma('schema_version', { simple: true })).toBe(schemaVersion);
    expect(second.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all()).toEqual(schema);
    expect(second.store.releaseByGuid('keep-1')?.topics).toEqual([{ slug: 'verkehr', name: 'Verkehr' }]);
  });

  test('a database from a newer Herold is refused', () => {
    const first = fresh();
    first.db.pragma(`user_version = ${migrations.length + 1}`);
    first.db.close();
    expect(() => reopen(first.file)).toThrow(/newer than this Herold/);
  });
});

describe('upsertReleases', () => {
  test('a new release is "new"; the same input again is "unchanged" and writes nothing', () => {
    const { db, store } = fresh();
    const input = release({ guid: 'pm-1', title: 'Neue Brücke über die Wurm', topics: ['Verkehr'] });
    const [created] = store.upsertReleases([input], { now: T0 });
    expect(created?.outcome).toBe('new');
    expect(created?.id).toBe(store.releaseByGuid('pm-1')?.id);
    const generation = store.generation();
    const totalChanges = () => (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    const changesBefore = totalChanges();

    expect(store.upsertReleases([input], { now: T1 })).toEqual([{ id: created!.id, outcome: 'unchanged' }]);
    expect(changedAt(db, 'pm-1')).toBe(T0.toISOString());
    expect(count(db, 'revisions')).toBe(0);
    expect(totalChanges()).toBe(changesBefore);
    expect(store.generation()).toBe(generation);
    expect(store.releaseByGuid('pm-1')?.updatedAt).toBeNull();
  });

  test('an input differing only in whitespace is "unchanged"', () => {
    const { db, store } = fresh();
    store.upsertReleases([release({
      guid: 'pm-ws', title: 'Neue Brücke über die Wurm', subtitle: 'Freigabe am Montag',
      bodyHtml: '<p>Die Brücke ist fertig. Sie wird am Montag freigegeben.</p>',
    })], { now: T0 });
    const generation = store.generation();

    const result = store.upsertReleases([release({
      guid: 'pm-ws', title: '  Neue   Brücke\n über die  Wurm ', subtitle: 'Freigabe\tam Montag\n',
      bodyHtml: '<p>Die Brücke ist   fertig.\n  Sie wird am\r\nMontag freigegeben.</p>\n',
    })], { now: T1 });
    expect(result.map((item) => item.outcome)).toEqual(['unchanged']);
    expect(changedAt(db, 'pm-ws')).toBe(T0.toISOString());
    expect(count(db, 'revisions')).toBe(0);
    expect(store.generation()).toBe(generation);
  });

  test('a changed title is "changed": same GUID and id, updatedAt, a revision, a new slug that the old one leads to', () => {
    const { db, store } = fresh();
    const [created] = store.upsertReleases([release({ guid: 'pm-2', title: 'Sperrung der Lindenbrücke', topics: ['Verkehr'] })], { now: T0 });
    const before = store.releaseByGuid('pm-2')!;
    expect(before.slug).toBe('sperrung-der-lindenbruecke');
    const generation = store.generation();

    const [changed] = store.upsertReleases([release({ guid: 'pm-2', title: 'Sperrung der Lindenbrücke verlängert', topics: ['Verkehr'] })],
      { now: T2, note: 'Dauer der Sperrung korrigiert' });
    expect(changed).toEqual({ id: created!.id, outcome: 'changed' });

    const after = store.releaseByGuid('pm-2')!;
    expect(after.id).toBe(before.id);
    expect(after.guid).toBe('pm-2');
    expect(after.title).toBe('Sperrung der Lindenbrücke verlängert');
    expect(after.updatedAt).toBe(T2.toISOString());
    expect(after.changedAt).toBe(T2.toISOString());
    expect(after.publishedAt).toBe(before.publishedAt);
    expect(after.slug).toBe('sperrung-der-lindenbruecke-verlaengert');
    expect(store.releaseBySlug('sperrung-der-lindenbruecke-verlaengert')?.id).toBe(before.id);
    expect(store.releaseBySlug('sperrung-der-lindenbruecke')).toBeUndefined();
    expect(store.currentSlugFor('sperrung-der-lindenbruecke')).toBe('sperrung-der-lindenbruecke-verlaengert');
    expect(store.currentSlugFor('gibt-es-nicht')).toBeUndefined();

    expect(store.revisionsOf(before.id)).toEqual([{
      id: expect.any(Number),
      releaseId: before.id,
      revisedAt: T2.toISOString(),
      note: 'Dauer der Sperrung korrigiert',
      previous: { title: 'Sperrung der Lindenbrücke' },
    }]);
    expect(count(db, 'releases')).toBe(1);
    expect(store.generation()).not.toBe(generation);
  });

  // Whitespace between block elements never shows: re-indented upstream HTML is not a correction.
  test('whitespace added between block elements of the body is "unchanged"', () => {
    const { db, store } = fresh();
    store.upsertReleases([release({ guid: 'pm-blocks', bodyHtml: '<p>Erster Absatz.</p><p>Zweiter Absatz.</p>' })], { now: T0 });
    const [result] = store.upsertReleases([release({ guid: 'pm-blocks', bodyHtml: '<p>Erster Absatz.</p>\n  <p>Zweiter Absatz.</p>' })], { now: T1 });
    expect(result?.outcome).toBe('unchanged');
    expect(count(db, 'revisions')).toBe(0);
  });

  test('instants are stored in one form, so equal instants are "unchanged" and compare as strings', () => {
    const { store } = fresh();
    store.upsertReleases([release({
      guid: 'pm-tz', publishedAt: '2026-06-03T11:45:00+02:00', updatedAt: '2026-06-04T10:00:00+02:00', embargoUntil: '2026-11-26T09:00:00+01:00',
    })], { now: T0 });
    const stored = store.releaseByGuid('pm-tz')!;
    expect([stored.publishedAt, stored.updatedAt, stored.embargoUntil])
      .toEqual(['2026-06-03T09:45:00.000Z', '2026-06-04T08:00:00.000Z', '2026-11-26T08:00:00.000Z']);
    const same = store.upsertReleases([release({
      guid: 'pm-tz', publishedAt: '2026-06-03T09:45:00Z', updatedAt: '2026-06-04T08:00:00Z', embargoUntil: '2026-11-26T08:00:00Z',
    })], { now: T1 });
    expect(same.map((item) => item.outcome)).toEqual(['unchanged']);
    expect(guids(store.newestReleases({ kind: 'all' }, { now: new Date('2026-11-26T07:59:59.999Z'), limit: 5 }))).toEqual([]);
    expect(guids(store.newestReleases({ kind: 'all' }, { now: new Date('2026-11-26T08:00:00.000Z'), limit: 5 }))).toEqual(['pm-tz']);
  });

  test('a batch with an invalid instant throws naming the release and field, and writes nothing', () => {
    const { db, store } = fresh();
    const generation = store.generation();
    expect(() => store.upsertReleases([
      release({ guid: 'good-1', topics: ['Verkehr'], department: 'Tiefbauamt' }),
      release({ guid: 'bad-1', publishedAt: '32.13.2026' }),
    ], { now: T0 })).toThrow(/bad-1.*publishedAt/);
    expect(count(db, 'releases')).toBe(0);
    expect(count(db, 'topics')).toBe(0);
    expect(count(db, 'departments')).toBe(0);
    expect(store.generation()).toBe(generation);
  });

  test('topics and departments are created on first use, with ASCII slugs', () => {
    const { db, store } = fresh();
    expect(store.topicBySlug('juelicher-strasse')).toBeUndefined();
    store.upsertReleases([
      release({ guid: 'pm-3', topics: ['Jülicher Straße', 'Straßenbau'], department: 'Fachbereich Straßenbau und Grünflächen' }),
      release({ guid: 'pm-4', topics: ['Straßenbau'], department: 'Fachbereich Straßenbau und Grünflächen' }),
    ], { now: T0 });

    const juelicher = store.topicBySlug('juelicher-strasse');
    const strassenbau = store.topicBySlug('strassenbau');
    expect(juelicher).toEqual({ id: expect.any(Number), slug: 'juelicher-strasse', name: 'Jülicher Straße' });
    expect(strassenbau).toEqual({ id: expect.any(Number), slug: 'strassenbau', name: 'Straßenbau' });
    expect(store.departmentBySlug('fachbereich-strassenbau-und-gruenflaechen'))
      .toEqual({ id: expect.any(Number), slug: 'fachbereich-strassenbau-und-gruenflaechen', name: 'Fachbereich Straßenbau und Grünflächen' });
    expect(count(db, 'topics')).toBe(2);
    expect(count(db, 'departments')).toBe(1);
    expect(store.listTopics(T0)).toEqual([
      { id: juelicher!.id, slug: 'juelicher-strasse', name: 'Jülicher Straße', count: 1 },
      { id: strassenbau!.id, slug: 'strassenbau', name: 'Straßenbau', count: 2 },
    ]);
  });
});

describe('a release round-trips', () => {
  test('every part comes back as it went in', () => {
    const { store } = fresh();
    const attachment: Media = {
      url: '/media/haushalt-2027-eckdaten.pdf', title: 'Eckdaten (PDF)', alt: null, caption: 'Die Eckdaten im Überblick',
      credit: 'Stadt Lindenau', width: null, height: null, mime: 'application/pdf', bytes: 48_113,
    };
    const second: Media = { ...IMAGE, url: 'https://www.lindenau.example/bild/123', width: 800, height: 600, mime: 'image/png', bytes: 9_001 };
    const input: ReleaseInput = {
      guid: 'tag:lindenau.example,2026:pm-2026-0142',
      sourceId: 'samples',
      sourceRef: 'https://www.lindenau.example/pm/0142',
      title: 'Lärmschutz & Tempo 30 an der Jülicher Straße',
      subtitle: 'Eine Anwohnerversammlung stellt den Entwurf vor',
      bodyHtml: '<p>Erster Absatz.</p><p>Zweiter <strong>Absatz</strong>.</p>',
      bodyText: 'Erster Absatz.\n\nZweiter Absatz.',
      language: 'de',
      organisation: 'Stadt Lindenau',
      department: 'Fachbereich Mobilität und Verkehr',
      contact: CONTACT,
      topics: ['Verkehr', 'Umwelt', 'Bauen'],
      places: ['Jülicher Straße', 'Gesamtschule Nord'],
      images: [IMAGE, second],
      attachments: [attachment],
      publishedAt: '2026-06-03T09:45:00.000Z',
      updatedAt: '2026-06-04T08:00:00.000Z',
      embargoUntil: '2026-06-03T09:00:00.000Z',
      status: 'published',
    };
    const [result] = store.upsertReleases([input], { now: T0 });

    const expected: Release = {
      id: result!.id,
      guid: 'tag:lindenau.example,2026:pm-2026-0142',
      slug: 'laermschutz-and-tempo-30-an-der-juelicher-strasse',
      sourceId: 'samples',
      sourceRef: 'https://www.lindenau.example/pm/0142',
      title: 'Lärmschutz & Tempo 30 an der Jülicher Straße',
      subtitle: 'Eine Anwohnerversammlung stellt den Entwurf vor',
      bodyHtml: '<p>Erster Absatz.</p><p>Zweiter <strong>Absatz</strong>.</p>',
      bodyText: 'Erster Absatz.\n\nZweiter Absatz.',
      language: 'de',
      organisation: 'Stadt Lindenau',
      department: { slug: 'fachbereich-mobilitaet-und-verkehr', name: 'Fachbereich Mobilität und Verkehr' },
      contact: {
        name: 'Annika Schröder', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52461', city: 'Lindenau',
        phone: '02461/382-1322', fax: '02461/382-121', email: 'annika.schroeder@lindenau.example',
      },
      topics: [
        { slug: 'verkehr', name: 'Verkehr' },
        { slug: 'umwelt', name: 'Umwelt' },
        { slug: 'bauen', name: 'Bauen' },
      ],
      places: ['Jülicher Straße', 'Gesamtschule Nord'],
      images: [
        {
          url: '/media/rathausplatz-sanierung.jpg', title: 'Rathausplatz', alt: 'Der Rathausplatz mit Bauzäunen',
          caption: 'Die Arbeiten beginnen im Mai.', credit: '© Stadt Lindenau / Tobias Kranz',
          width: 1200, height: 675, mime: 'image/jpeg', bytes: 183_204,
        },
        {
          url: 'https://www.lindenau.example/bild/123', title: 'Rathausplatz', alt: 'Der Rathausplatz mit Bauzäunen',
          caption: 'Die Arbeiten beginnen im Mai.', credit: '© Stadt Lindenau / Tobias Kranz',
          width: 800, height: 600, mime: 'image/png', bytes: 9_001,
        },
      ],
      attachments: [{
        url: '/media/haushalt-2027-eckdaten.pdf', title: 'Eckdaten (PDF)', alt: null, caption: 'Die Eckdaten im Überblick',
        credit: 'Stadt Lindenau', width: null, height: null, mime: 'application/pdf', bytes: 48_113,
      }],
      publishedAt: '2026-06-03T09:45:00.000Z',
      updatedAt: '2026-06-04T08:00:00.000Z',
      embargoUntil: '2026-06-03T09:00:00.000Z',
      status: 'published',
      changedAt: T0.toISOString(),
      contentHash: contentHash(input),
    };
    expect(store.releaseByGuid(input.guid)).toEqual(expected);
    expect(store.releaseById(result!.id)).toEqual(expected);
    expect(store.releaseBySlug(expected.slug)).toEqual(expected);
    expect(store.newestReleases({ kind: 'all' }, { now: T0, limit: 10 })).toEqual([expected]);
  });

  test('a release with only the required fields comes back with nulls and empty lists', () => {
    const { store } = fresh();
    const [result] = store.upsertReleases([{
      guid: 'minimal-1', sourceId: 'api', title: 'Kurz', bodyHtml: '<p>Kurz.</p>', bodyText: 'Kurz.',
      publishedAt: '2026-11-01T07:00:00.000Z',
    }], { now: T0 });
    expect(store.releaseByGuid('minimal-1')).toEqual({
      id: result!.id, guid: 'minimal-1', slug: 'kurz', sourceId: 'api', sourceRef: null, title: 'Kurz', subtitle: null,
      bodyHtml: '<p>Kurz.</p>', bodyText: 'Kurz.', language: 'de', organisation: null, department: null, contact: null,
      topics: [], places: [], images: [], attachments: [], publishedAt: '2026-11-01T07:00:00.000Z', updatedAt: null,
      embargoUntil: null, status: 'published', changedAt: T0.toISOString(), contentHash: expect.any(String),
    });
  });
});

describe('visibility', () => {
  const EMBARGO = '2026-11-26T08:00:00.000Z';
  const BEFORE = new Date('2026-11-25T12:00:00.000Z');
  const AFTER = new Date('2026-11-26T08:00:01.000Z');

  function seeded(): Opened & { topic: number; department: number } {
    const opened = fresh();
    opened.store.upsertReleases([
      release({ guid: 'open', topics: ['Verkehr'], department: 'Fachbereich Verkehr', publishedAt: '2026-11-19T09:00:00.000Z' }),
      release({ guid: 'embargoed', topics: ['Verkehr'], department: 'Fachbereich Verkehr', publishedAt: '2026-11-20T09:00:00.000Z', embargoUntil: EMBARGO }),
      release({ guid: 'withdrawn', topics: ['Verkehr'], department: 'Fachbereich Verkehr', publishedAt: '2026-11-21T09:00:00.000Z', status: 'withdrawn' }),
    ], { now: T0 });
    return {
      ...opened,
      topic: opened.store.topicBySlug('verkehr')!.id,
      department: opened.store.departmentBySlug('fachbereich-verkehr')!.id,
    };
  }

  test('an embargoed release is hidden in every scope and in stats until the embargo lifts', () => {
    const { store, topic, department } = seeded();
    const scopes = [{ kind: 'all' as const }, { kind: 'topic' as const, id: topic }, { kind: 'department' as const, id: department }];
    for (const scope of scopes) {
      expect(guids(store.newestReleases(scope, { now: BEFORE, limit: 10 })), scope.kind).toEqual(['open']);
    }
    expect(store.stats(BEFORE)).toEqual({ count: 1, newest: '2026-11-19T09:00:00.000Z' });
    expect(store.listTopics(BEFORE).map((row) => row.count)).toEqual([1]);
    expect(store.nextEmbargoLift(BEFORE)).toBe(EMBARGO);

    for (const now of [new Date(EMBARGO), AFTER]) {
      for (const scope of scopes) {
        expect(guids(store.newestReleases(scope, { now, limit: 10 })), `${scope.kind} at ${now.toISOString()}`).toEqual(['embargoed', 'open']);
      }
      expect(store.stats(now)).toEqual({ count: 2, newest: '2026-11-20T09:00:00.000Z' });
    }
    expect(store.nextEmbargoLift(AFTER)).toBeNull();
  });

  test('a withdrawn release is never listed, and withdrawing one removes it', () => {
    const { store, topic, department } = seeded();
    for (const scope of [{ kind: 'all' as const }, { kind: 'topic' as const, id: topic }, { kind: 'department' as const, id: department }]) {
      expect(guids(store.newestReleases(scope, { now: AFTER, limit: 10 }))).not.toContain('withdrawn');
    }
    expect(store.releaseByGuid('withdrawn')?.status).toBe('withdrawn');

    const [result] = store.upsertReleases([release({
      guid: 'open', topics: ['Verkehr'], department: 'Fachbereich Verkehr', publishedAt: '2026-11-19T09:00:00.000Z', status: 'withdrawn',
    })], { now: T2 });
    expect(result?.outcome).toBe('changed');
    expect(guids(store.newestReleases({ kind: 'all' }, { now: AFTER, limit: 10 }))).toEqual(['embargoed']);
    // A withdrawal is not a correction of the content: updatedAt stays as it was.
    expect(store.releaseByGuid('open')?.updatedAt).toBeNull();
    expect(store.newestWithdrawal({ kind: 'all' }, '2026-01-01T00:00:00.000Z')).toBe(T2.toISOString());
  });
});

describe('ordering and limits', () => {
  function seeded(): Opened {
    const opened = fresh();
    // Inserted out of order; "tie-a" and "tie-b" share an instant, so the later id comes first.
    opened.store.upsertReleases([
      release({ guid: 'd', publishedAt: '2026-11-04T08:00:00.000Z', topics: ['Kultur'], department: 'Kulturamt' }),
      release({ guid: 'a', publishedAt: '2026-11-01T08:00:00.000Z', topics: ['Verkehr'], department: 'Tiefbauamt' }),
      release({ guid: 'f', publishedAt: '2026-11-06T08:00:00.000Z', topics: ['Verkehr', 'Kultur'], department: 'Tiefbauamt' }),
      release({ guid: 'tie-a', publishedAt: '2026-11-03T08:00:00.000Z', topics: ['Verkehr'], department: 'Kulturamt' }),
      release({ guid: 'tie-b', publishedAt: '2026-11-03T08:00:00.000Z', topics: ['Kultur'], department: 'Tiefbauamt' }),
      release({ guid: 'e', publishedAt: '2026-11-05T08:00:00.000Z', topics: ['Verkehr'], department: 'Kulturamt' }),
      release({ guid: 'b', publishedAt: '2026-11-02T08:00:00.000Z', topics: ['Kultur'], department: 'Tiefbauamt' }),
    ], { now: T0 });
    return opened;
  }

  test('newest first by publishedAt, with limit and offset', () => {
    const { store } = seeded();
    const all = { kind: 'all' as const };
    expect(guids(store.newestReleases(all, { now: T1, limit: 10 }))).toEqual(['f', 'e', 'd', 'tie-b', 'tie-a', 'b', 'a']);
    expect(guids(store.newestReleases(all, { now: T1, limit: 3 }))).toEqual(['f', 'e', 'd']);
    expect(guids(store.newestReleases(all, { now: T1, limit: 3, offset: 3 }))).toEqual(['tie-b', 'tie-a', 'b']);
    expect(guids(store.newestReleases(all, { now: T1, limit: 3, offset: 6 }))).toEqual(['a']);
    expect(guids(store.newestReleases(all, { now: T1, limit: 3, offset: 7 }))).toEqual([]);
  });

  test('topic and department scopes return only their releases', () => {
    const { store } = seeded();
    const topic = (slug: string) => ({ kind: 'topic' as const, id: store.topicBySlug(slug)!.id });
    const department = (slug: string) => ({ kind: 'department' as const, id: store.departmentBySlug(slug)!.id });
    expect(guids(store.newestReleases(topic('verkehr'), { now: T1, limit: 10 }))).toEqual(['f', 'e', 'tie-a', 'a']);
    expect(guids(store.newestReleases(topic('kultur'), { now: T1, limit: 10 }))).toEqual(['f', 'd', 'tie-b', 'b']);
    expect(guids(store.newestReleases(topic('kultur'), { now: T1, limit: 2, offset: 1 }))).toEqual(['d', 'tie-b']);
    expect(guids(store.newestReleases(department('tiefbauamt'), { now: T1, limit: 10 }))).toEqual(['f', 'tie-b', 'b', 'a']);
    expect(guids(store.newestReleases(department('kulturamt'), { now: T1, limit: 10 }))).toEqual(['e', 'd', 'tie-a']);
    expect(guids(store.newestReleases(department('kulturamt'), { now: T1, limit: 1, offset: 1 }))).toEqual(['d']);
  });
});

describe('query plans of the lists', () => {
  // The SQL the store runs: the heads of a page of each kind of list, and the newest change from a page on.
  const HEADS = newestInScopeSql(HEAD_COLUMNS);
  const INDEX = { all: 'releases_newest', topic: 'release_topics_newest', department: 'releases_department_newest' };

  function plan(db: Database.Database, sql: string, kind: keyof typeof INDEX, scope: number): string[] {
    const params = { now: T2.toISOString(), since: '2024-02-01T00:00:00.000Z', limit: 20, offset: 0, ...(kind === 'all' ? {} : { scope }) };
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((row) => row.detail);
  }

  test('each uses its index and sorts nothing; the newest change reads indexes alone; a search tests its matches by index; with 2,000 releases, before and after ANALYZE', () => {
    const { db, store } = fresh();
    const topics = ['Verkehr', 'Kultur', 'Umwelt', 'Schule', 'Finanzen'];
    const departments = ['Tiefbauamt', 'Kulturamt', 'Umweltamt', 'Schulamt', 'Kämmerei'];
    const start = Date.parse('2024-01-01T00:00:00.000Z');
    store.upsertReleases(Array.from({ length: 2000 }, (_, index) => release({
      guid: `bulk-${index}`,
      publishedAt: new Date(start + index * 3_600_000).toISOString(),
      topics: [topics[index % 5]!, topics[(index + 2) % 5]!],
      department: departments[index % 5]!,
      embargoUntil: index % 50 === 0 ? '2027-01-01T00:00:00.000Z' : null,
      status: index % 97 === 0 ? 'withdrawn' : 'published',
    })), { now: T0 });
    const topic = store.topicBySlug('kultur')!.id;
    const department = store.departmentBySlug('kaemmerei')!.id;

    for (const analyzed of [false, true]) {
      if (analyzed) db.exec('ANALYZE');
      for (const kind of ['all', 'topic', 'department'] as const) {
        const scope = kind === 'topic' ? topic : department;
        const details = plan(db, HEADS[kind], kind, scope);
        const where = `${kind}${analyzed ? ' after ANALYZE' : ''}: ${details.join(' | ')}`;
        expect(details.some((detail) => new RegExp(`\\bINDEX ${INDEX[kind]}\\b`).test(detail)), where).toBe(true);
        // Any sort step: "USE TEMP B-TREE FOR ORDER BY", or "… FOR LAST TERM OF ORDER BY" when only the tie-break is unindexed.
        expect(details.filter((detail) => detail.includes('USE TEMP B-TREE')), where).toEqual([]);
        // Every table the newest change reads, it reads by a covering index: no release's row.
        const change = plan(db, NEWEST_CHANGE_SQL[kind], kind, scope);
        expect(change.filter((detail) => /^(SEARCH|SCAN) /.test(detail)).map((detail) => /USING COVERING INDEX/.test(detail)), `${where} || ${change.join(' | ')}`)
          .toEqual(kind === 'topic' ? [true, true] : [true]);
      }
    }
    // A search tests each match by its entry in releases_state, in the order of the index of words (no sort).
    const searchParams = { match: 'bulk', now: T2.toISOString(), topic: topic, department: null, limit: 20, offset: 0 };
    const search = (db.prepare(`EXPLAIN QUERY PLAN ${searchInScopeSql(HEAD_COLUMNS, '')}`).all(searchParams) as Array<{ detail: string }>).map((row) => row.detail);
    expect(search.some((detail) => /^SEARCH r USING (COVERING )?INDEX releases_state \(id=\?/.test(detail)), search.join(' | ')).toBe(true);
    expect(search.filter((detail) => detail.includes('USE TEMP B-TREE')), search.join(' | ')).toEqual([]);
    // The plans are those of queries that answer: the store returns the newest visible releases of the scope.
    const newest = store.newestReleases({ kind: 'topic', id: topic }, { now: T2, limit: 3 });
    expect(newest.every((item) => item.topics.some((term) => term.slug === 'kultur'))).toBe(true);
    expect(newest.map((item) => item.publishedAt)).toEqual([...newest.map((item) => item.publishedAt)].sort().reverse());
  });
});

describe('generation()', () => {
  test('changes when this store or another connection writes, and not otherwise', () => {
    const mine = fresh();
    const other = reopen(mine.file);
    const g0 = mine.store.generation();
    expect(mine.store.generation()).toBe(g0);
    mine.store.newestReleases({ kind: 'all' }, { now: T1, limit: 5 });
    expect(mine.store.generation()).toBe(g0);

    other.store.upsertReleases([release({ guid: 'from-other' })], { now: T0 });
    const g1 = mine.store.generation();
    expect(g1).not.toBe(g0);
    expect(mine.store.releaseByGuid('from-other')?.guid).toBe('from-other');

    mine.store.upsertReleases([release({ guid: 'from-mine' })], { now: T0 });
    const g2 = mine.store.generation();
    expect(g2).not.toBe(g1);
    expect(g2).not.toBe(g0);

    // Unchanged input writes nothing, on either connection.
    mine.store.upsertReleases([release({ guid: 'from-mine' })], { now: T1 });
    other.store.upsertReleases([release({ guid: 'from-other' })], { now: T1 });
    expect(mine.store.generation()).toBe(g2);
  });
});
