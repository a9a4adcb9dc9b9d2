import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import type { SourceConfig } from '../../src/config.js';
import { refreshAll, refreshSource, stableGuid } from '../../src/ingest/refresh.js';
import { startScheduler } from '../../src/ingest/scheduler.js';
import { createTestApp, FIXTURES, type TestApp } from '../helpers/app.js';
import { expectMirrored, MIRRORED } from '../helpers/mirror.js';
import { drip, hang, huge, redirect, sequence, startUpstream, status, truncated, type Upstream } from '../helpers/upstream.js';

const PNG = readFileSync(path.join(FIXTURES, 'media', 'bild-ohne-endung'));

function rss(items: string, extra = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/" ${extra}>
<channel><title>Kreis Lindenau</title><link>/presse/</link><description>Pressemitteilungen</description>${items}</channel></rss>`;
}

const ITEMS = {
  bruecke: `<item><title>Brücke &amp; Straße: <b>Sperrung</b> am Wochenende</title><link>/presse/bruecke</link>
    <guid isPermaLink="false">kreis-2026-101</guid><pubDate>Mon, 23 Nov 2026 10:00:00 +0100</pubDate>
    <description>Kurzfassung der Sperrung.</description>
    <content:encoded><![CDATA[<p>Die Brücke wird gesperrt.<script>alert(1)</script></p><p onclick="x()"><a href="/umleitung">Umleitung</a></p>]]></content:encoded>
    <media:content url="/bilder/bruecke" type="image/jpeg" fileSize="1"><media:credit>© Kreis Lindenau</media:credit><media:description>Die Brücke im Nebel</media:description></media:content>
    <category>Verkehr</category></item>`,
  ohneGuid: `<item><title>Ohne GUID, nur mit Datum</title><link>https://kreis.example/presse/ohne-guid</link>
    <pubDate>2026-11-20</pubDate><description>&lt;p&gt;Entities &amp;amp; Text&lt;/p&gt;</description></item>`,
  zonenlos: `<item><title>Zonenlose Zeit</title><guid>kreis-2026-099</guid><pubDate>2026-11-19T14:30:00</pubDate>
    <description>Ortszeit ohne Zone.</description></item>`,
  ohneDatum: `<item><title>Kein Datum</title><guid>kreis-2026-098</guid><description>x</description></item>`,
};

const upstreams: Upstream[] = [];
const apps: TestApp[] = [];
afterEach(async () => {
  while (upstreams.length) await upstreams.pop()!.close();
  while (apps.length) apps.pop()!.close();
});

async function upstream(routes: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  const server = await startUpstream(routes);
  upstreams.push(server);
  return server;
}

/** A test app whose config file declares the given sources. */
function appWith(sources: Array<Record<string, unknown>>, env: Record<string, string> = {}): TestApp {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-refresh-'));
  writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({ sources }));
  const t = createTestApp({ dir, env });
  apps.push(t);
  return t;
}

const feedSource = (id: string, url: string, extra: Record<string, unknown> = {}) =>
  ({ id, type: 'feed', schedule: '*/15 * * * *', url, timeout_ms: 500, department: 'Kreispressestelle', ...extra });

function deps(t: TestApp) {
  return { config: t.config, store: t.store, clock: () => t.now, log: (line: string) => t.logs.push(line) };
}

function source(t: TestApp, id: string): SourceConfig {
  return t.config.sources.find((candidate) => candidate.id === id)!;
}

describe('a feed source', () => {
  test('first refresh stores new releases: decoded titles, sanitized bodies, absolute links, measured images', async () => {
    const up = await upstream({
      '/feed.xml': { body: rss(ITEMS.bruecke + ITEMS.ohneGuid + ITEMS.zonenlos + ITEMS.ohneDatum), headers: { 'content-type': 'application/rss+xml' }, validators: true },
      '/bilder/bruecke': { body: PNG, headers: { 'content-type': 'image/jpeg' } },
    });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`)]);
    const report = await refreshSource(source(t, 'kreis'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 3, changed: 0, unchanged: 0 });
    expect(report.rejected).toEqual([{ ref: 'kreis-2026-098', reason: expect.stringContaining('no readable date') }]);

    const bruecke = t.store.releaseByGuid(stableGuid('kreis', 'kreis-2026-101'))!;
    expect(bruecke.title).toBe('Brücke & Straße: Sperrung am Wochenende');
    expect(bruecke.subtitle).toBe('Kurzfassung der Sperrung.');
    expect(bruecke.sourceRef).toBe('kreis-2026-101');
    expect(bruecke.department?.name).toBe('Kreispressestelle');
    expect(bruecke.topics.map((topic) => topic.name)).toEqual(['Verkehr']);
    expect(bruecke.bodyHtml).toBe(`<p>Die Brücke wird gesperrt.</p><p><a href="${up.url}/umleitung">Umleitung</a></p>`);
    expect(bruecke.publishedAt).toBe('2026-11-23T09:00:00.000Z');
    // The upstream claimed image/jpeg of 1 byte; Herold measured the file and keeps a copy, which pages show.
    expect(bruecke.images).toEqual([{
      url: expect.stringMatching(MIRRORED), title: null, alt: null, caption: 'Die Brücke im Nebel', credit: '© Kreis Lindenau',
      mime: 'image/png', bytes: PNG.length, width: 40, height: 30,
    }]);
    expectMirrored(t.config, bruecke.images[0]!.url, PNG);
    const copy = await request(t.app).get(bruecke.images[0]!.url).expect(200);
    expect(copy.headers['content-type']).toBe('image/png');
    const feed = await request(t.app).get('/feeds/all.rss').expect(200);
    expect(feed.text).toContain(`<enclosure length="${PNG.length}" type="image/png" url="http://herold.test${bruecke.images[0]!.url}"/>`);

    const ohneGuid = t.store.releaseByGuid(stableGuid('kreis', 'https://kreis.example/presse/ohne-guid'))!;
    expect(ohneGuid.publishedAt).toBe('2026-11-19T23:00:00.000Z');
    expect(ohneGuid.bodyText).toBe('Entities & Text');
    const zonenlos = t.store.releaseByGuid(stableGuid('kreis', 'kreis-2026-099'))!;
    expect(zonenlos.publishedAt).toBe('2026-11-19T13:30:00.000Z');

    const state = t.store.sourceState('kreis')!;
    expect(state).toMatchObject({ lastNew: 3, lastRejected: 1, errorCount: 0, runs: 1, runningUntil: null });
    expect(state.lastSuccessAt).toBe(t.now.toISOString());
    expect(up.requests.find((seen) => seen.path === '/feed.xml')!.headers['user-agent']).toMatch(/^Herold\/\S+ \(\+http:\/\/herold\.test\)$/);
  });

  test('a second refresh of an unchanged upstream asks conditionally and writes nothing', async () => {
    const up = await upstream({
      '/feed.xml': { body: rss(ITEMS.bruecke), validators: true },
      '/bilder/bruecke': { body: PNG },
    });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`)]);
    await refreshSource(source(t, 'kreis'), deps(t));
    const before = t.store.releaseByGuid(stableGuid('kreis', 'kreis-2026-101'))!;
    const generation = t.store.generation();
    t.now = new Date('2026-11-25T13:00:00Z');
    const report = await refreshSource(source(t, 'kreis'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 0, changed: 0, requests: 1 });
    expect(up.requests.at(-1)!.headers['if-none-match']).toBeTruthy();
    expect(t.store.generation()).toBe(generation);
    expect(t.store.releaseByGuid(before.guid)).toEqual(before);
    expect(up.hits('/bilder/bruecke')).toBe(1);
  });

  test('the same items without validators are compared by content: no write, no revision', async () => {
    const up = await upstream({ '/feed.xml': { body: rss(ITEMS.zonenlos) } });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`)]);
    await refreshSource(source(t, 'kreis'), deps(t));
    const generation = t.store.generation();
    up.set('/feed.xml', { body: rss(ITEMS.zonenlos.replace('<title>', '<title>\n   ')) });
    const report = await refreshSource(source(t, 'kreis'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 0, changed: 0, unchanged: 1 });
    expect(t.store.generation()).toBe(generation);
  });

  test('a release changed upstream is updated in place: same GUID, new updated time, a revision', async () => {
    const up = await upstream({ '/feed.xml': { body: rss(ITEMS.zonenlos), validators: true } });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`)]);
    await refreshSource(source(t, 'kreis'), deps(t));
    const guid = stableGuid('kreis', 'kreis-2026-099');
    const original = t.store.releaseByGuid(guid)!;
    up.set('/feed.xml', { body: rss(ITEMS.zonenlos.replace('Ortszeit ohne Zone.', 'Ortszeit ohne Zone, korrigiert.')), validators: true });
    t.now = new Date('2026-11-25T15:00:00Z');
    const report = await refreshSource(source(t, 'kreis'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 0, changed: 1 });
    const updated = t.store.releaseByGuid(guid)!;
    expect(updated.id).toBe(original.id);
    expect(updated.bodyText).toBe('Ortszeit ohne Zone, korrigiert.');
    expect(updated.updatedAt).toBe('2026-11-25T15:00:00.000Z');
    expect(t.store.revisionsOf(original.id).map((revision) => revision.previous)).toEqual([{ bodyHtml: original.bodyHtml }]);
  });

  test('Atom, JSON Feed 1.0 and 1.1, a BOM and ISO-8859-1 with and without a header', async () => {
    const atom = `\uFEFF<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id>
      <updated>2026-11-20T10:00:00Z</updated><link href="https://kreis.example/"/><entry><title type="html">Tempo &amp;lt;30 &amp;amp; mehr</title>
      <id>urn:a:1</id><updated>2026-11-20T10:00:00+01:00</updated><link href="/a/1"/><content type="html">&lt;p&gt;Atom-Text&lt;/p&gt;</content>
      <category term="verkehr" label="Verkehr"/><link rel="enclosure" href="/a/plan.pdf" type="application/pdf" length="9"/></entry></feed>`;
    const json10 = JSON.stringify({ version: 'https://jsonfeed.org/version/1', title: 'J', home_page_url: 'https://kreis.example/', items: [
      { id: 1, url: '/j/1', title: 'JSON eins', content_text: 'Text eins', date_published: '2026-11-18T08:00:00+01:00', author: { name: 'x' } }] });
    const json11 = JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'J', items: [
      { id: 'j-2', url: 'https://kreis.example/j/2', title: 'JSON zwei', content_html: '<p>Text zwei</p>', date_published: '2026-11-18T09:00:00Z', tags: ['Kultur'] }] });
    const latin1 = Buffer.from(rss(`<item><title>Grünflächen für Bürger</title><guid>l-1</guid><pubDate>Tue, 17 Nov 2026 09:00:00 GMT</pubDate><description>Straße</description></item>`)
      .replace('encoding="utf-8"', 'encoding="ISO-8859-1"'), 'latin1');
    const up = await upstream({
      '/atom': { body: atom, headers: { 'content-type': 'application/atom+xml' } },
      '/json10': { body: json10, headers: { 'content-type': 'application/json' } },
      '/json11': { body: json11, headers: { 'content-type': 'application/feed+json' } },
      '/latin1-prolog': { body: latin1, headers: { 'content-type': 'application/rss+xml' } },
      '/latin1-header': { body: latin1, headers: { 'content-type': 'application/rss+xml; charset=iso-8859-1' } },
      '/a/plan.pdf': { body: readFileSync(path.join(FIXTURES, 'media', 'anlage.pdf')) },
    });
    const t = appWith(['atom', 'json10', 'json11', 'latin1-prolog', 'latin1-header'].map((id) => feedSource(id, `${up.url}/${id}`)));
    const reports = await refreshAll(deps(t));
    expect(reports.map((report) => [report.sourceId, report.ok, report.new])).toEqual([
      ['atom', true, 1], ['json10', true, 1], ['json11', true, 1], ['latin1-prolog', true, 1], ['latin1-header', true, 1],
    ]);
    const atomRelease = t.store.releaseByGuid(stableGuid('atom', 'urn:a:1'))!;
    expect(atomRelease.title).toBe('Tempo <30 & mehr');
    expect(atomRelease.attachments).toMatchObject([{ url: 'https://kreis.example/a/plan.pdf' }]);
    expect(t.store.releaseByGuid(stableGuid('json10', '1'))!.bodyText).toBe('Text eins');
    expect(t.store.releaseByGuid(stableGuid('json11', 'j-2'))!.topics.map((topic) => topic.name)).toEqual(['Kultur']);
    for (const id of ['latin1-prolog', 'latin1-header']) {
      const release = t.store.releaseByGuid(stableGuid(id, 'l-1'))!;
      expect(release.title).toBe('Grünflächen für Bürger');
      expect(release.bodyText).toBe('Straße');
    }
  });
});

describe('a failing upstream', () => {
  const failures: Array<[string, () => Parameters<Upstream['set']>[1], RegExp]> = [
    ['HTTP 500', () => status(500), /HTTP 500/],
    ['a hang past the timeout', () => hang(), /timed out/],
    ['bytes dripping slower than the timeout allows', () => drip(rss(ITEMS.zonenlos), 100), /timed out/],
    ['a truncated body', () => truncated(rss(ITEMS.zonenlos)), /./],
    ['a 50 MB body', () => huge(50 * 1024 * 1024), /larger than/],
    ['a redirect loop', () => redirect('/feed.xml'), /redirect loop/],
    ['429 with a long Retry-After', () => status(429, { 'retry-after': '3600' }), /Retry-After/],
    ['a page that is not a feed', () => ({ body: '<html><body>Wartung</body></html>' }), /not a readable/],
  ];

  test.each(failures)('%s: the error names source and URL, stored releases stay, other sources refresh', async (_name, route, pattern) => {
    const up = await upstream({
      '/feed.xml': { body: rss(ITEMS.bruecke.replace(/<media:content[\s\S]*?<\/media:content>/, '')) },
      '/other.xml': { body: rss(ITEMS.zonenlos) },
    });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`, { max_bytes: 5 * 1024 * 1024 }), feedSource('other', `${up.url}/other.xml`)]);
    await refreshSource(source(t, 'kreis'), deps(t));
    const stored = t.store.releaseByGuid(stableGuid('kreis', 'kreis-2026-101'))!;

    up.set('/feed.xml', route());
    t.now = new Date('2026-11-25T13:00:00Z');
    const [failed, other] = await refreshAll(deps(t));
    expect(failed).toMatchObject({ sourceId: 'kreis', ok: false });
    expect(failed!.error).toMatch(pattern);
    expect(failed!.error).toContain('source kreis');
    expect(failed!.error).toContain(`${up.url}/feed.xml`);
    expect(other).toMatchObject({ sourceId: 'other', ok: true, new: 1 });
    const state = t.store.sourceState('kreis')!;
    expect(state).toMatchObject({ errorCount: 1, consecutiveErrors: 1, lastError: failed!.error, lastErrorAt: t.now.toISOString(), runningUntil: null });
    expect(t.logs.some((line) => line.includes('source kreis') && line.includes(`${up.url}/feed.xml`))).toBe(true);
    expect(t.store.releaseByGuid(stored.guid)).toEqual(stored);
    const feed = await request(t.app).get('/feeds/all.json').expect(200);
    expect(feed.text).toContain(stored.guid);
    // Health stays ready (stored releases are served) and names the failing upstream.
    const health = await request(t.app).get('/healthz').expect(200);
    expect(health.body.upstreams).toEqual([
      { id: 'kreis', last_success_at: expect.any(String), consecutive_errors: 1, last_error: failed!.error },
      { id: 'other', last_success_at: t.now.toISOString(), consecutive_errors: 0, last_error: null },
    ]);
  });

  test('a 500 followed by success is retried within one refresh', async () => {
    const up = await upstream({ '/feed.xml': sequence([status(500), { body: rss(ITEMS.zonenlos) }]) });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`)]);
    const report = await refreshSource(source(t, 'kreis'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 1 });
    expect(up.hits('/feed.xml')).toBe(2);
  });
});

describe('runs and schedules', () => {
  test('two runs of one source never overlap: the second is skipped while the first holds the lease', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const up = await upstream({
      '/feed.xml': (_req, res) => { void gate.then(() => res.writeHead(200).end(rss(ITEMS.zonenlos))); },
    });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`, { timeout_ms: 5000 })]);
    const first = refreshSource(source(t, 'kreis'), deps(t));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await refreshSource(source(t, 'kreis'), deps(t));
    expect(second).toMatchObject({ skipped: true, ok: false });
    release();
    expect(await first).toMatchObject({ ok: true, new: 1 });
    expect(up.hits('/feed.xml')).toBe(1);
    expect(t.store.sourceState('kreis')!.runningUntil).toBeNull();
  });

  test('on start-up, a source that never ran or whose last success is older than its interval refreshes at once', async () => {
    const up = await upstream({ '/a.xml': { body: rss(ITEMS.zonenlos) }, '/b.xml': { body: rss(ITEMS.zonenlos) } });
    const t = appWith([feedSource('fresh', `${up.url}/a.xml`), feedSource('due', `${up.url}/b.xml`)]);
    t.now = new Date();
    await refreshSource(source(t, 'fresh'), deps(t));
    const scheduler = startScheduler(deps(t));
    try {
      await scheduler.catchUp;
      expect(up.hits('/a.xml')).toBe(1);
      expect(up.hits('/b.xml')).toBe(1);
      expect(scheduler.nextRun('due')!.getTime()).toBeGreaterThan(Date.now());
    } finally {
      await scheduler.stop();
    }
  });
});

describe('the sources API', () => {
  const TOKEN = 'test-token-0123456789abcdef';

  test('GET /api/v1/sources shows each source\'s state', async () => {
    const up = await upstream({ '/feed.xml': { body: rss(ITEMS.zonenlos) } });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`), feedSource('leer', `${up.url}/missing.xml`)]);
    await refreshAll(deps(t));
    const res = await request(t.app).get('/api/v1/sources').expect(200);
    expect(res.body.items).toMatchObject([
      { id: 'kreis', type: 'feed', schedule: '*/15 * * * *', last_error: null, error_count: 0, last_run: { new: 1, changed: 0, unchanged: 0 } },
      { id: 'leer', type: 'feed', error_count: 1, last_success_at: null, last_error: expect.stringContaining('HTTP 404') },
    ]);
  });

  test('GET /api/v1/sources shows a source running while its lease lasts, and not once it ran out', async () => {
    const t = appWith([feedSource('kreis', 'http://127.0.0.1:9/feed.xml')]);
    const running = async () => (await request(t.app).get('/api/v1/sources').expect(200)).body.items[0].running as boolean;
    expect(await running()).toBe(false);
    expect(t.store.acquireSourceLease('kreis', t.now, new Date(t.now.getTime() + 60_000))).toBe(true);
    expect(await running()).toBe(true);
    t.now = new Date(t.now.getTime() + 60_000);
    expect(await running()).toBe(false);
  });

  test('POST /api/v1/sources/{id}/refresh needs the bearer token and runs the source at once', async () => {
    const up = await upstream({ '/feed.xml': { body: rss(ITEMS.zonenlos) } });
    const t = appWith([feedSource('kreis', `${up.url}/feed.xml`)], { HEROLD_ADMIN_TOKEN: TOKEN });
    const none = await request(t.app).post('/api/v1/sources/kreis/refresh').expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="herold"');
    expect(none.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    await request(t.app).post('/api/v1/sources/kreis/refresh').set('Authorization', `Bearer ${TOKEN}x`).expect(401);
    await request(t.app).post('/api/v1/sources/kreis/refresh').set('Authorization', `Basic ${TOKEN}`).expect(401);
    expect(up.hits('/feed.xml')).toBe(0);
    const ok = await request(t.app).post('/api/v1/sources/kreis/refresh').set('Authorization', `Bearer ${TOKEN}`).expect(200);
    expect(ok.body).toMatchObject({ id: 'kreis', ok: true, new: 1, requests: 1 });
    await request(t.app).post('/api/v1/sources/unbekannt/refresh').set('Authorization', `Bearer ${TOKEN}`).expect(404);
    const feed = await request(t.app).get('/feeds/all.json').expect(200);
    expect(JSON.parse(feed.text).items[0].title).toBe('Zonenlose Zeit');
  });

  test('without HEROLD_ADMIN_TOKEN the refresh endpoint is disabled', async () => {
    const t = appWith([feedSource('kreis', 'http://127.0.0.1:9/feed.xml')]);
    const res = await request(t.app).post('/api/v1/sources/kreis/refresh').set('Authorization', 'Bearer anything-at-all-long').expect(403);
    expect(res.body.detail).toContain('HEROLD_ADMIN_TOKEN');
  });
});
