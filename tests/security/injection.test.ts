import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../src/app.js';
import { createWebSubStore } from '../../src/db/websub-store.js';
import { searchableText, foldGerman } from '../../src/db/search-text.js';
import { startWebSub } from '../../src/websub/hub.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';

const API_TOKEN = 'authoring-token-0123456789';
const ADMIN_TOKEN = 'operations-token-0123456789';
const PRESS_TOKEN = 'press-token-0123456789abc';

/** SQL injection, as text in any parameter: quotes, comments, stacked statements, UNION, encodings, NUL, length. */
const SQL = [
  `' OR 1=1 --`,
  `' OR '1'='1`,
  `"; DROP TABLE releases; --`,
  `'); DROP TABLE releases; --`,
  `') UNION SELECT guid, title FROM releases --`,
  `1 UNION SELECT sql FROM sqlite_master`,
  `1; ATTACH DATABASE 'x.db' AS x; --`,
  `1' AND load_extension('x') --`,
  `%27`,
  `%2527`,
  `a\u0000b`,
  `\u0000' OR 1=1`,
  `é'ü"ß\\'`,
  `'`.repeat(2500),
  'x'.repeat(5000),
];

/** FTS5 query syntax, as search text: every one must be read as words. */
const FTS = [
  `"`, `""`, `*`, `brien*`, `NEAR(`, `NEAR(brien quote, 2)`, `AND OR NOT`, `brien OR near`, `NOT brien`, `title:brien`,
  `{title body}: brien`, `^brien`, `(brien`, `brien)`, `-brien`, `+brien`, `brien -near`, `"brien`, `O'Brien`, `"Quote"`,
  `rowid:1`, `-`, `+`, `:`, `release_search:brien`, `brien AND`, `brien NOT quote`, `brien + quote`,
];

/** Releases whose text holds what the payloads look like, so that a search for a payload has something to find. */
const SEED = [
  { guid: 'tag:inj,2026:obrien', title: 'Interview mit O\'Brien über das "Quote"-Programm', topics: ['Kultur'], department: 'Presseamt',
    body: '<p>Ein Gespräch über Quoten.</p>' },
  { guid: 'tag:inj,2026:near', title: 'NEAR-Funk im Bürgeramt', topics: ['Verwaltung'], department: 'Bürgeramt',
    body: '<p>Kontaktlos bezahlen mit NEAR und NFC.</p>' },
  { guid: 'tag:inj,2026:logik', title: 'Logikkurs: AND, OR und NOT an der Volkshochschule', topics: ['Bildung'], department: 'Volkshochschule',
    body: '<p>Boolesche Ausdrücke für Einsteiger.</p>' },
  { guid: 'tag:inj,2026:drop', title: 'Sicherheitstraining: DROP TABLE releases ist kein Spaß', topics: ['Bildung'], department: 'Volkshochschule',
    body: '<p>Ein Kurs über SQL mit SELECT, UNION und Kommentaren.</p>' },
  { guid: 'tag:inj,2026:radweg', title: 'Radweg an der Jülicher Straße freigegeben', topics: ['Verkehr'], department: 'Tiefbauamt',
    body: '<p>Zwei Kilometer sicherer Weg.</p>' },
  { guid: 'tag:inj,2026:haushalt', title: 'Haushalt 2027: Rat beschließt Entwurf', topics: ['Finanzen'], department: 'Kämmerei',
    body: '<p>Investitionen in Schulen und Brücken.</p>' },
  { guid: 'tag:inj,2026:winter', title: 'Winterdienst startet am 1. Dezember', topics: ['Verkehr'], department: 'Tiefbauamt',
    body: '<p>Streufahrzeuge stehen bereit.</p>' },
];

let t: TestApp;
let server: Server;
let base: string;
let stopWebSub: () => Promise<void>;
/** The database as it was before any request: every request must leave it so. */
let before: { count: number; titles: string; schema: string };
/** Every answer the app gave, for the checks that span all of them. */
const answers: Array<{ label: string; status: number; type: string; body: string }> = [];

function state(): { count: number; titles: string; schema: string } {
  const titles = t.db.prepare('SELECT guid, title, status FROM releases ORDER BY id').all();
  return {
    count: t.db.prepare('SELECT count(*) FROM releases').pluck().get() as number,
    titles: createHash('sha256').update(JSON.stringify(titles)).digest('hex'),
    schema: createHash('sha256').update(JSON.stringify(t.db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all())).digest('hex'),
  };
}

beforeAll(async () => {
  t = createTestApp({ env: {
    HEROLD_API_TOKENS: API_TOKEN, HEROLD_ADMIN_TOKEN: ADMIN_TOKEN, HEROLD_PRESS_TOKENS: PRESS_TOKEN,
    HEROLD_RATE_LIMIT_API: '0', HEROLD_RATE_LIMIT_SEARCH: '0', HEROLD_ALLOW_PRIVATE_URLS: '127.0.0.1',
  } });
  t.store.upsertReleases([
    ...SEED.map((release, index) => input({ ...release, publishedAt: `2026-11-${String(10 + index).padStart(2, '0')}T09:00:00Z` })),
    input({ guid: 'tag:inj,2026:embargo', title: 'Sperrfrist: Brien kommt', publishedAt: '2026-11-20T09:00:00Z', embargoUntil: '2026-12-24T09:00:00Z' }),
    input({ guid: 'tag:inj,2026:withdrawn', title: 'Zurückgezogen: O\'Brien', publishedAt: '2026-11-21T09:00:00Z', status: 'withdrawn' }),
  ], { now: new Date('2026-11-22T00:00:00Z') });
  const log = (line: string) => t.logs.push(line);
  // The hub's own verification requests go to a closed port on 127.0.0.1, never off this machine.
  const websub = startWebSub({ config: t.config, store: t.store, subscriptions: createWebSubStore(t.db), clock: () => t.now, log,
    options: { intervalMs: 50, retryDelaysMs: [10], timeoutMs: 1000, concurrency: 4 } });
  stopWebSub = websub.stop;
  const app = createApp({ config: t.config, store: t.store, clock: () => t.now, log, websub: websub.hub });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  before = state();
});

afterAll(async () => {
  await stopWebSub?.();
  await new Promise((resolve) => server?.close(resolve));
  server?.closeAllConnections();
  t?.close();
});

interface Call {
  readonly method?: string;
  /** The path and query, already encoded. */
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

async function call(label: string, { method = 'GET', url, headers = {}, body }: Call) {
  const res = await fetch(`${base}${url}`, { method, headers, body, redirect: 'manual' });
  const answer = { label: `${method} ${url.slice(0, 160)} (${label})`, status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  answers.push(answer);
  return answer;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const e = encodeURIComponent;

/** Where a payload goes and what the answer must be: path segments, then every query and form parameter. */
const TARGETS: Array<{ name: string; call: (p: string) => Call; statuses: number[] }> = [
  { name: 'feed format', call: (p) => ({ url: `/feeds/all.${e(p)}` }), statuses: [404] },
  { name: 'topic feed', call: (p) => ({ url: `/feeds/topics/${e(p)}.rss` }), statuses: [404] },
  { name: 'department feed', call: (p) => ({ url: `/feeds/departments/${e(p)}.atom` }), statuses: [404] },
  { name: 'embargoed feed format', call: (p) => ({ url: `/feeds/embargoed.${e(p)}?token=${PRESS_TOKEN}` }), statuses: [404] },
  { name: 'topic page', call: (p) => ({ url: `/topics/${e(p)}` }), statuses: [404] },
  { name: 'department page', call: (p) => ({ url: `/departments/${e(p)}` }), statuses: [404] },
  { name: 'release page', call: (p) => ({ url: `/releases/${e(p)}` }), statuses: [404] },
  { name: 'vCard', call: (p) => ({ url: `/releases/${e(p)}/contact.vcf` }), statuses: [404] },
  { name: 'release card', call: (p) => ({ url: `/embed/release/${e(p)}` }), statuses: [404] },
  { name: 'API id', call: (p) => ({ url: `/api/v1/releases/${e(p)}` }), statuses: [404] },
  { name: 'API id with token', call: (p) => ({ url: `/api/v1/releases/${e(p)}`, headers: bearer(API_TOKEN) }), statuses: [404] },
  { name: 'API PUT id', call: (p) => ({ method: 'PUT', url: `/api/v1/releases/${e(p)}`, headers: { ...bearer(API_TOKEN), 'Content-Type': 'application/json', 'If-Match': '*' }, body: '{}' }), statuses: [404] },
  { name: 'API PATCH id', call: (p) => ({ method: 'PATCH', url: `/api/v1/releases/${e(p)}`, headers: { ...bearer(API_TOKEN), 'Content-Type': 'application/merge-patch+json', 'If-Match': '*' }, body: '{"title":"x"}' }), statuses: [404] },
  { name: 'API DELETE id', call: (p) => ({ method: 'DELETE', url: `/api/v1/releases/${e(p)}`, headers: bearer(API_TOKEN) }), statuses: [404] },
  { name: 'source refresh id', call: (p) => ({ method: 'POST', url: `/api/v1/sources/${e(p)}/refresh`, headers: bearer(ADMIN_TOKEN) }), statuses: [404] },
  { name: 'media path', call: (p) => ({ url: `/media/${e(p)}` }), statuses: [404] },
  { name: 'feed limit', call: (p) => ({ url: `/feeds/all.rss?limit=${e(p)}` }), statuses: [400] },
  { name: 'feed page', call: (p) => ({ url: `/feeds/all.atom?page=${e(p)}` }), statuses: [400] },
  { name: 'home page number', call: (p) => ({ url: `/?page=${e(p)}` }), statuses: [400] },
  { name: 'topic page number', call: (p) => ({ url: `/topics/kultur?page=${e(p)}` }), statuses: [400] },
  { name: 'search page number', call: (p) => ({ url: `/search?q=brien&page=${e(p)}` }), statuses: [400] },
  { name: 'search topic', call: (p) => ({ url: `/search?q=brien&topic=${e(p)}` }), statuses: [400] },
  { name: 'search department', call: (p) => ({ url: `/search?q=brien&department=${e(p)}` }), statuses: [400] },
  { name: 'press token', call: (p) => ({ url: `/feeds/embargoed.rss?token=${e(p)}` }), statuses: [401] },
  { name: 'press token header', call: (p) => ({ url: '/feeds/embargoed.json', headers: bearer(e(p)) }), statuses: [401] },
  { name: 'share url', call: (p) => ({ url: `/share/mastodon?url=${e(p)}` }), statuses: [400] },
  { name: 'share text', call: (p) => ({ url: `/share/mastodon?url=${e(`${BASE_URL}/releases/x`)}&text=${e(p)}` }), statuses: [200, 400] },
  { name: 'share instance', call: (p) => ({ url: `/share/mastodon?url=${e(`${BASE_URL}/releases/x`)}&text=t&instance=${e(p)}` }), statuses: [400] },
  { name: 'headlines topic', call: (p) => ({ url: `/api/v1/headlines?topic=${e(p)}` }), statuses: [404] },
  { name: 'headlines department', call: (p) => ({ url: `/api/v1/headlines?department=${e(p)}` }), statuses: [404] },
  { name: 'headlines limit', call: (p) => ({ url: `/api/v1/headlines?limit=${e(p)}` }), statuses: [400] },
  { name: 'headlines theme', call: (p) => ({ url: `/api/v1/headlines?theme=${e(p)}` }), statuses: [400] },
  { name: 'embed topic', call: (p) => ({ url: `/embed/headlines?topic=${e(p)}` }), statuses: [404] },
  { name: 'embed theme', call: (p) => ({ url: `/embed/headlines?theme=${e(p)}` }), statuses: [400] },
  { name: 'release card theme', call: (p) => ({ url: `/embed/release/radweg-an-der-juelicher-strasse-freigegeben?theme=${e(p)}` }), statuses: [400] },
  { name: 'oembed url', call: (p) => ({ url: `/oembed?url=${e(p)}` }), statuses: [400] },
  { name: 'oembed release url', call: (p) => ({ url: `/oembed?url=${e(`${BASE_URL}/releases/${e(p)}`)}` }), statuses: [404] },
  { name: 'oembed topic url', call: (p) => ({ url: `/oembed?url=${e(`${BASE_URL}/topics/${e(p)}`)}` }), statuses: [404] },
  { name: 'oembed format', call: (p) => ({ url: `/oembed?url=${e(`${BASE_URL}/`)}&format=${e(p)}` }), statuses: [501] },
  { name: 'oembed maxwidth', call: (p) => ({ url: `/oembed?url=${e(`${BASE_URL}/`)}&maxwidth=${e(p)}` }), statuses: [400] },
  { name: 'API list topic', call: (p) => ({ url: `/api/v1/releases?topic=${e(p)}` }), statuses: [404] },
  { name: 'API list department', call: (p) => ({ url: `/api/v1/releases?department=${e(p)}` }), statuses: [404] },
  { name: 'API list limit', call: (p) => ({ url: `/api/v1/releases?limit=${e(p)}` }), statuses: [400] },
  { name: 'API list cursor', call: (p) => ({ url: `/api/v1/releases?cursor=${e(p)}` }), statuses: [400] },
  { name: 'API list status', call: (p) => ({ url: `/api/v1/releases?status=${e(p)}`, headers: bearer(API_TOKEN) }), statuses: [400] },
  { name: 'API Idempotency-Key', call: (p) => ({ method: 'POST', url: '/api/v1/releases',
    headers: { ...bearer(API_TOKEN), 'Content-Type': 'application/json', 'Idempotency-Key': e(p) }, body: '{}' }), statuses: [400, 422] },
  { name: 'hub.mode', call: (p) => websubForm({ 'hub.mode': p }), statuses: [400] },
  { name: 'hub.topic', call: (p) => websubForm({ 'hub.topic': p }), statuses: [400] },
  { name: 'hub.callback', call: (p) => websubForm({ 'hub.callback': p }), statuses: [400] },
  { name: 'hub.lease_seconds', call: (p) => websubForm({ 'hub.lease_seconds': p }), statuses: [400] },
  // A topic URL naming no feed is accepted, then denied to the callback (W3C WebSub 5.2): nothing is stored.
  { name: 'hub.topic path', call: (p) => websubForm({ 'hub.topic': `${BASE_URL}/feeds/topics/${e(p)}.rss` }), statuses: [202, 400] },
];

/** The routes that take no parameter at all. */
const PLAIN_ROUTES = ['/feeds', '/feeds.opml', '/healthz', '/status', '/status.json', '/metrics', '/robots.txt', '/sitemap.xml',
  '/news-sitemap.xml', '/embed.js', '/assets/copy-link.js', '/api/v1/openapi.json', '/api/v1/sources'];

function websubForm(fields: Record<string, string>): Call {
  const form = new URLSearchParams({
    'hub.mode': 'subscribe', 'hub.topic': `${BASE_URL}/feeds/all.rss`, 'hub.callback': 'http://127.0.0.1:9/callback', ...fields,
  });
  return { method: 'POST', url: '/websub', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() };
}

/** Where a search text goes: the search page, search feeds, headlines (JSON, frame, oEmbed) and the API list. */
const SEARCHES: Array<{ name: string; call: (q: string) => Call; titles?: (body: string) => string[] }> = [
  { name: 'search page', call: (q) => ({ url: `/search?q=${e(q)}` }),
    titles: (body) => {
      const $ = cheerio.load(body);
      return $('.list-items .list-item h2 a').map((_, link) => $(link).text()).get();
    } },
  { name: 'search feed', call: (q) => ({ url: `/feeds/all.json?q=${e(q)}&limit=100` }),
    titles: (body) => (JSON.parse(body) as { items: Array<{ title: string }> }).items.map((item) => item.title) },
  { name: 'topic search feed', call: (q) => ({ url: `/feeds/topics/kultur.rss?q=${e(q)}` }) },
  { name: 'headlines', call: (q) => ({ url: `/api/v1/headlines?q=${e(q)}&limit=50` }),
    titles: (body) => (JSON.parse(body) as { items: Array<{ title: string }> }).items.map((item) => item.title) },
  { name: 'headlines frame', call: (q) => ({ url: `/embed/headlines?q=${e(q)}` }) },
  { name: 'API list', call: (q) => ({ url: `/api/v1/releases?q=${e(q)}&limit=100` }),
    titles: (body) => (JSON.parse(body) as { items: Array<{ title: string }> }).items.map((item) => item.title) },
  { name: 'oEmbed of a search', call: (q) => ({ url: `/oembed?url=${e(`${BASE_URL}/search?q=${e(q)}`)}` }) },
];

/**
 * What a search must find, by the documented rule alone: the public releases in which every word of the text
 * (folded: case, umlauts, accents) begins some word of the title, subtitle, text, topics, department or contact.
 */
function expectedTitles(text: string): string[] {
  const words = (foldGerman(text).match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 20);
  if (words.length === 0) return [];
  return SEED.filter((release) => {
    const own = searchableText([release.title, release.body.replace(/<[^>]+>/g, ' '), release.topics.join(' '), release.department].join(' '))
      .match(/[\p{L}\p{N}]+/gu) ?? [];
    return words.every((word) => own.some((token) => token.startsWith(word)));
  }).map((release) => release.title).sort();
}

describe('SQL and FTS injection through every parameter', () => {
  test('every route, path and query parameter answers SQL payloads as any wrong value (4xx; ignored where unused), never 5xx', { timeout: 60_000 }, async () => {
    for (const target of TARGETS) {
      for (const payload of SQL) {
        const answer = await call(target.name, target.call(payload));
        expect(target.statuses, `${answer.label}: ${answer.body.slice(0, 300)}`).toContain(answer.status);
      }
    }
    // Routes without parameters ignore what they are given.
    for (const route of PLAIN_ROUTES) {
      for (const payload of SQL) {
        const answer = await call('ignored', { url: `${route}?q=${e(payload)}&page=${e(payload)}` });
        expect(answer.status, `${answer.label}: ${answer.body.slice(0, 300)}`).toBe(200);
      }
    }
    // Raw percent sequences, as a client may send them without encoding them again, and broken ones.
    for (const url of ['/releases/%27%20OR%201=1--', '/api/v1/releases/1%27%20OR%20%271%27=%271', '/api/v1/releases/1%20OR%201=1',
      '/topics/%E0%A4%A', '/releases/%', '/feeds/topics/%ZZ.rss', '/api/v1/releases/%00', '/media/%00']) {
      const answer = await call('raw', { url });
      expect([400, 404], `${answer.label}: ${answer.body.slice(0, 300)}`).toContain(answer.status);
    }
    for (const url of ['/search?q=%', '/search?q=%zz%27', '/api/v1/headlines?q=%27%20OR%201%3D1--', '/feeds/all.rss?q=%E0%A4%A']) {
      const answer = await call('raw query', { url });
      expect(answer.status, `${answer.label}: ${answer.body.slice(0, 300)}`).toBe(200);
    }
  });

  test('search text with SQL or FTS5 syntax is searched as words: it finds exactly the releases holding those words', { timeout: 60_000 }, async () => {
    for (const text of [...SQL, ...FTS]) {
      const expected = expectedTitles(text);
      for (const search of SEARCHES) {
        const answer = await call(search.name, search.call(text));
        if ([...text].length > 200) {
          expect(answer.status, answer.label).toBe(400);
          continue;
        }
        const statuses = search.name === 'oEmbed of a search' ? [200, 404] : [200];
        expect(statuses, `${answer.label}: ${answer.body.slice(0, 300)}`).toContain(answer.status);
        // A NUL is dropped from the text the pages and feeds show (joining its neighbours), so the hits may differ there.
        if (search.titles && !text.includes('\u0000')) expect(search.titles(answer.body).sort(), `${answer.label}`).toEqual(expected);
      }
    }
  });

  test('payloads that look like FTS5 operators are words: found as text, never as syntax', async () => {
    const titlesOf = async (q: string) => {
      const answer = await call('semantics', { url: `/api/v1/releases?q=${e(q)}&limit=100` });
      expect(answer.status).toBe(200);
      return (JSON.parse(answer.body) as { items: Array<{ title: string }> }).items.map((item) => item.title).sort();
    };
    const [obrien, near, logik, drop] = SEED.map((release) => release.title);
    expect(await titlesOf(`O'Brien`)).toEqual([obrien]);
    expect(await titlesOf(`"Quote"`)).toEqual([obrien]);
    expect(await titlesOf(`NEAR(`)).toEqual([near]);
    expect(await titlesOf('AND OR NOT')).toEqual([logik]);
    expect(await titlesOf(`"; DROP TABLE releases; --`)).toEqual([drop]);
    // As FTS5 syntax these would match by column, by OR, by NOT, by NEAR: as words nothing holds them all.
    for (const syntax of ['title:brien', 'brien OR near', 'NOT brien', 'brien NOT quote', '{title body}: brien', 'NEAR(brien quote, 2)']) {
      expect(await titlesOf(syntax), syntax).toEqual([]);
    }
    // The classic tautology finds no more than its words do.
    expect(await titlesOf(`' OR 1=1 --`)).toEqual([]);
    for (const prefix of ['-brien', '+brien', '^brien', 'brien*', '(brien', '"brien']) expect(await titlesOf(prefix), prefix).toEqual([obrien]);
    // Embargoed and withdrawn releases holding the words stay hidden.
    expect(await titlesOf('brien')).toEqual([obrien]);
  });

  test('a release written through the API with payloads in every field is stored as text', async () => {
    // Every request so far left the database as it was.
    expect(state()).toEqual(before);
    const payload = `'); DROP TABLE releases; -- " OR 1=1 NEAR( title:x`;
    const created = await call('create', { method: 'POST', url: '/api/v1/releases', headers: { ...bearer(API_TOKEN), 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: payload, subtitle: payload, body: `<p>${payload}</p>`, topics: [payload], department: payload,
        organisation: payload, published_at: '2026-11-22T10:00:00Z' }) });
    expect(created.status, created.body).toBe(201);
    const { id } = JSON.parse(created.body) as { id: string };
    const read = await call('read', { url: `/api/v1/releases/${id}` });
    expect(JSON.parse(read.body)).toMatchObject({ title: payload, subtitle: payload, department: payload });
    const found = await call('find', { url: `/api/v1/releases?q=${e('drop table near title')}` });
    expect((JSON.parse(found.body) as { items: Array<{ id: string }> }).items.map((item) => item.id)).toContain(id);
    // Withdrawn again, so the database holds what it held before (the row stays, as withdrawn).
    const gone = await call('withdraw', { method: 'DELETE', url: `/api/v1/releases/${id}`, headers: bearer(API_TOKEN) });
    expect(gone.status).toBe(204);
    before = { ...before, count: before.count + 1, titles: state().titles };
  });

  test('afterwards: nothing answered 5xx or was logged as an error, problems are problem JSON, and the database is whole', () => {
    expect(answers.length).toBeGreaterThan(TARGETS.length * SQL.length);
    expect(answers.filter((answer) => answer.status >= 500 && answer.status !== 501).map((answer) => answer.label)).toEqual([]);
    for (const answer of answers.filter((item) => item.status >= 400)) {
      // The Mastodon share step answers its own form page; every other error is RFC 9457 problem JSON.
      if (answer.label.includes('/share/mastodon') || answer.label.includes('(vCard)') || /^GET \/(topics|departments|releases)\//.test(answer.label)) continue;
      expect(answer.type, answer.label).toBe('application/problem+json; charset=utf-8');
      expect(JSON.parse(answer.body), answer.label).toMatchObject({ status: answer.status });
    }
    expect(t.logs.filter((line) => /^error:/.test(line))).toEqual([]);
    expect(state()).toEqual(before);
    expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(() => t.db.exec(`INSERT INTO release_search (release_search) VALUES ('integrity-check')`)).not.toThrow();
  });
});
