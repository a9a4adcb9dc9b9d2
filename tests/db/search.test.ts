import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ftsQuery } from '../../src/db/store.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';

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
  t.store.searchReleases(scope, text, { now: t.now, limit: 10 }).releases.map((release) => release.title);

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
    expect(t.store.searchReleases({ kind: 'all' }, 'sperrung', { now: t.now, limit: 10 }).total).toBe(1);
  });

  test('FTS syntax in the query is taken as words, not as operators', () => {
    expect(ftsQuery('a OR b" NEAR(')).toBe('"a"* "OR"* "b"* "NEAR"*');
    expect(ftsQuery('  "* ()')).toBeNull();
    expect(titles('" OR * )(')).toEqual([]);
    expect(titles('-baustelle')).toEqual(['Sperrung der Jülicher Straße']);
  });

  test('a correction is found by its new words, not its old ones', () => {
    const [release] = t.store.searchReleases({ kind: 'all' }, 'guler', { now: t.now, limit: 1 }).releases;
    t.store.upsertReleases([input({ guid: release!.guid, title: 'Staatssekretärin zu Besuch', body: '<p>Integrationszentrum besucht.</p>',
      topics: ['Soziales'], department: 'Fachbereich Soziales', publishedAt: '2026-11-01T09:00:00Z' })], { now: new Date('2026-11-05T00:00:00Z') });
    expect(titles('guler')).toEqual([]);
    expect(titles('staatssekretarin')).toEqual(['Staatssekretärin zu Besuch']);
  });
});
