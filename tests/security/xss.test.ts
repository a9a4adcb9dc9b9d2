import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { load } from 'cheerio';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stableGuid } from '../../src/ingest/refresh.js';
import { BASE_URL } from '../helpers/app.js';
import {
  CHUNKS, htmlProblems, ingestCorpus, jsonProblems, outputProblems, outputs, PAYLOADS, vcardProblems, xmlOutputProblems,
  type Corpus, type Output,
} from './xss-corpus.js';

/*
 * The XSS corpus (tests/fixtures/xss/payloads.json) goes in through files, feeds, a website and the
 * authoring API; then every output is fetched and parsed: no script but Herold's own, no event
 * handler, no javascript:/data: URL, no frame, object, base, refresh or form from content, every
 * XML output well-formed with clean HTML inside, and no payload's markup written out as it came.
 */

let corpus: Corpus;
let server: Server;
let origin: string;

beforeAll(async () => {
  corpus = await ingestCorpus();
  server = createServer(corpus.t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await corpus?.close();
});

/** Fetches every output of one kind, a few at a time, and gathers what is wrong with each. */
async function problemsOf(kind: Output['kind']): Promise<{ checked: number; problems: string[] }> {
  const list = outputs(corpus).filter((output) => output.kind === kind);
  const problems: string[] = [];
  for (let start = 0; start < list.length; start += 8) {
    await Promise.all(list.slice(start, start + 8).map(async (output) => {
      const res = await request(origin).get(output.path).set(output.headers ?? {}).buffer(true).parse((response, done) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => { body += chunk; });
        response.on('end', () => done(null, body));
      });
      const text = res.body as string;
      problems.push(...outputProblems(output, { status: res.status, headers: res.headers as Record<string, string>, text }, BASE_URL)
        .map((problem) => `${output.path}: ${problem}`));
    }));
  }
  return { checked: list.length, problems };
}

describe('the corpus goes in through every way', () => {
  test('files, three feed formats, a website and the API each store a release per group of payloads', () => {
    const { t, reports, apiIds } = corpus;
    const bySource = Object.fromEntries(reports.map((report) => [report.sourceId, report]));
    expect(bySource.dateien).toMatchObject({ ok: true, new: 2 * CHUNKS.length, rejected: [] });
    for (const id of ['rss', 'atom', 'json', 'website']) expect(bySource[id], id).toMatchObject({ ok: true, new: CHUNKS.length, rejected: [] });
    // The failing source names its URL, payload and all, in its error.
    expect(bySource.kaputt!.ok).toBe(false);
    expect(bySource.kaputt!.error).toContain('__xss("status-url")');
    expect(apiIds).toHaveLength(CHUNKS.length);
    expect(t.store.countReleases({ kind: 'all' }, t.now)).toBe(7 * CHUNKS.length);
  });

  test('payloads stay text: titles show their markup as characters, escaped text is not unescaped into a tag', async () => {
    const { t, apiIds } = corpus;
    const first = t.store.releaseById(Number(apiIds[0]))!;
    const page = load((await request(t.app).get(`/releases/${first.slug}`).expect(200)).text);
    expect(page('h1.p-name').text()).toBe(first.title);
    expect(first.title).toContain(PAYLOADS[0]!.payload);
    expect(page('title').text()).toContain(PAYLOADS[0]!.payload);
    // The API takes HTML bodies: an escaped tag stays text, one escaped twice is unescaped once only.
    const chunkOf = (id: string) => CHUNKS.findIndex((chunk) => chunk.some((item) => item.id === id));
    for (const [id, shown] of [['already-escaped', '<script>__xss("already-escaped")</script>'],
      ['double-escaped', '&lt;script&gt;__xss("double-escaped")&lt;/script&gt;']] as const) {
      const release = t.store.releaseById(Number(apiIds[chunkOf(id)]))!;
      const body = load((await request(t.app).get(`/releases/${release.slug}`).expect(200)).text)('.e-content');
      expect(body.text()).toContain(shown);
      expect(body.find('script')).toHaveLength(0);
    }
    // An RSS item's title is HTML: a script in it is gone, escaped markup is kept as text.
    const rssTitle = (id: string) => {
      const index = chunkOf(id);
      return t.store.releaseByGuid(stableGuid('rss', `rss-${index} ${CHUNKS[index]![0]!.payload}`))!.title;
    };
    expect(rssTitle('already-escaped')).toContain('<script>__xss("already-escaped")</script>');
    expect(rssTitle('script-plain')).toMatch(/^RSS 1: /);
    expect(rssTitle('script-plain')).not.toContain('__xss("script-plain")');
  });
});

describe('the checks find what they look for', () => {
  test('every payload of the corpus calls the marker with its own id, and fits a search (200 characters)', () => {
    expect(new Set(PAYLOADS.map((item) => item.id)).size).toBe(PAYLOADS.length);
    for (const { id, payload } of PAYLOADS) {
      // A data: URL's document is base64: its marker call is inside.
      const documents = [...payload.matchAll(/base64,([A-Za-z0-9+/=]+)/g)].map((match) => Buffer.from(match[1]!, 'base64').toString());
      expect([payload, ...documents].some((text) => text.includes('__xss(') && text.includes(id)), id).toBe(true);
      expect([...payload].length, id).toBeLessThanOrEqual(200);
    }
  });

  test.each([
    '<script>__xss(1)</script>', '<p onclick="__xss(1)">x</p>', '<a href="java\tscript:__xss(1)">x</a>', '<a href=" JAVASCRIPT:__xss(1)">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz4=">', '<iframe src="/embed/headlines"></iframe>', '<meta http-equiv="refresh" content="0">',
    '<p style="background:url(javascript:__xss(1))">x</p>', '<form action="https://evil.example/"></form>', '<svg><set attributeName="x"/></svg>',
    '<base href="https://evil.example/">', '<object data="x"></object>',
  ])('flags %s', (snippet) => {
    expect(htmlProblems(snippet, BASE_URL, 'fragment')).not.toEqual([]);
  });

  test('passes clean content, Herold\'s own scripts and structured data', () => {
    expect(htmlProblems('<p>Text <a href="https://example.org/">Link</a> <img src="data:image/png;base64,AA" alt=""></p>', BASE_URL, 'fragment')).toEqual([]);
    expect(htmlProblems(`<!doctype html><html><head><script type="application/ld+json">{"a":"\\u003c/script>"}</script></head>
<body><script src="${BASE_URL}/assets/copy-link.js" defer></script></body></html>`, BASE_URL, 'document')).toEqual([]);
    expect(htmlProblems('<!doctype html><html><head><script type="application/ld+json">{"a":</script></head></html>', BASE_URL, 'document')).not.toEqual([]);
    expect(xmlOutputProblems('<rss><channel><item><description>&lt;img src=x onerror=__xss(1)&gt;</description></item></channel></rss>', BASE_URL)).not.toEqual([]);
    expect(xmlOutputProblems('<feed><title type="html">x</title><entry></feed>', BASE_URL)).not.toEqual([]);
    expect(xmlOutputProblems('<feed><link href="javascript:__xss(1)"/></feed>', BASE_URL)).not.toEqual([]);
    expect(jsonProblems('{"items":[{"url":"javascript:__xss(1)","content_html":"<p>x</p>"}]}', BASE_URL)).not.toEqual([]);
    expect(vcardProblems('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nURL:javascript:__xss(1)\r\nEND:VCARD\r\n')).not.toEqual([]);
  });
});

// Several hundred answers, fetched and parsed: slower than most tests, on a machine shared with the rest of the suite.
describe('every output is clean', { timeout: 90_000 }, () => {
  test('HTML pages: lists, releases, topics, departments, searches, embeds, share, status, error pages', async () => {
    const { checked, problems } = await problemsOf('html');
    expect(checked).toBeGreaterThan(300);
    expect(problems).toEqual([]);
  });

  test('feeds (RSS, Atom) of all, every topic and department, every search, the embargoed feed, OPML and sitemaps', async () => {
    const { checked, problems } = await problemsOf('xml');
    expect(checked).toBeGreaterThan(60);
    expect(problems).toEqual([]);
  });

  test('JSON: JSON Feeds, the headlines and releases APIs, oEmbed, status', async () => {
    const { checked, problems } = await problemsOf('json');
    expect(checked).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });

  test('vCards of every press contact', async () => {
    const { checked, problems } = await problemsOf('vcard');
    // Text files, Markdown, the website and the API bring a press contact.
    expect(checked).toBe(4 * CHUNKS.length);
    expect(problems).toEqual([]);
  });
});
