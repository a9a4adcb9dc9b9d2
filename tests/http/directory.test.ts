import { parseOpml } from 'feedsmith';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { nastyReleases } from '../helpers/fixtures.js';
import { xmlProblems } from '../helpers/validate.js';

const apps: TestApp[] = [];
async function seeded(): Promise<TestApp> {
  const t = createTestApp();
  apps.push(t);
  t.store.upsertReleases(await nastyReleases(), { now: new Date('2026-11-21T00:00:00Z') });
  return t;
}
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

/** Every feed path the store implies: all, each topic, each department. */
function expectedFeeds(t: TestApp): string[] {
  return [
    '/feeds/all',
    ...t.store.listTopics(t.now).map((topic) => `/feeds/topics/${topic.slug}`),
    ...t.store.listDepartments(t.now).map((department) => `/feeds/departments/${department.slug}`),
  ];
}

describe('/feeds.opml', () => {
  test('is OPML 2.0 with one outline per feed and format, each with xmlUrl, htmlUrl, type and language', async () => {
    const t = await seeded();
    const res = await request(t.app).get('/feeds.opml').expect(200);
    expect(res.headers['content-type']).toBe('text/x-opml; charset=utf-8');
    expect(xmlProblems(res.text)).toEqual([]);
    expect(res.text).toContain('<opml version="2.0">');
    const opml = parseOpml(res.text);
    const outlines = opml.body!.outlines!;
    const wanted = expectedFeeds(t).flatMap((feed) => ['rss', 'atom', 'json'].map((format) => `${BASE_URL}${feed}.${format}`));
    expect(outlines.map((outline) => outline.xmlUrl).sort()).toEqual(wanted.sort());
    for (const outline of outlines) {
      expect(outline.type).toBe(outline.xmlUrl!.split('.').pop());
      expect(outline.htmlUrl).toMatch(new RegExp(`^${BASE_URL}/`));
      expect((outline as Record<string, unknown>).language).toBe('de');
      expect(outline.text).toBeTruthy();
    }
    // Every listed feed answers.
    for (const url of wanted) await request(t.app).get(url.slice(BASE_URL.length)).expect(200);
  });
});

describe('/feeds', () => {
  test('lists every feed with subscribe links and autodiscovery, as escaped HTML', async () => {
    const t = await seeded();
    const res = await request(t.app).get('/feeds').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toMatch(/^<!doctype html>\n<html lang="de">/);
    for (const feed of expectedFeeds(t)) {
      for (const format of ['rss', 'atom', 'json']) expect(res.text).toContain(`href="${BASE_URL}${feed}.${format}"`);
    }
    expect(res.text).toContain(`<link rel="alternate" type="application/atom+xml" title="Pressestelle Stadt Lindenau (Atom)" href="${BASE_URL}/feeds/all.atom">`);
    expect(res.text).toContain('>Straßenbau</a>');
    // Pages load nothing from another server: no script, style or image from elsewhere, and no framing.
    expect(res.headers['content-security-policy']).toContain("img-src 'self' data:");
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    // No script runs on the page; JSON-LD data is the only script element.
    expect(res.text.match(/<script[^>]*>/gi) ?? []).toEqual(['<script type="application/ld+json">']);
  });
});

describe('/healthz', () => {
  test('reports the database, the release count and the newest release', async () => {
    const t = await seeded();
    const res = await request(t.app).get('/healthz').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ status: 'ok', database: 'ok', releases: 3, newest_release: '2026-11-20T09:30:00.000Z' });
  });

  test('answers 503 when the database cannot be reached, and logs it', async () => {
    const t = createTestApp();
    apps.push(t);
    const res0 = await request(t.app).get('/healthz').expect(200);
    expect(res0.body.releases).toBe(0);
    t.db.close();
    const res = await request(t.app).get('/healthz').expect(503);
    expect(res.body).toMatchObject({ status: 'unavailable', database: 'unreachable' });
    expect(t.logs.join('\n')).toContain('healthz: database not reachable');
  });
});
