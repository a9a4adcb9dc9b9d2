import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'cheerio';
import type { Element } from 'domhandler';
import request from 'supertest';
import { refreshAll, type RefreshReport } from '../../src/ingest/refresh.js';
import { createTestApp, FIXTURES, type TestApp } from '../helpers/app.js';
import { startUpstream } from '../helpers/upstream.js';
import { xmlProblems } from '../helpers/validate.js';

/*
 * The XSS corpus of tests/fixtures/xss/payloads.json, put through every way a release gets into Herold:
 * a `files` source (plain text and Markdown), three `feed` sources (RSS 2.0, Atom, JSON Feed), an `html`
 * website source, and the authoring API. Every payload would call `window.__xss(id)` if it ever ran.
 */

/** One entry of the corpus: `payload` calls `__xss(id)` if it is ever executed. */
export interface Payload {
  readonly id: string;
  readonly note: string;
  readonly payload: string;
}

export const PAYLOADS: readonly Payload[] = JSON.parse(readFileSync(path.join(FIXTURES, 'xss', 'payloads.json'), 'utf8')) as Payload[];

export const API_TOKEN = 'xss-corpus-api-token-0001';
export const PRESS_TOKEN = 'xss-corpus-press-token-0001';

const PNG = readFileSync(path.join(FIXTURES, 'media', 'bild-ohne-endung'));
const PDF = readFileSync(path.join(FIXTURES, 'media', 'anlage.pdf'));

/**
 * The payloads in groups of up to a thousand characters: each way in makes one release of each group (the
 * authoring API's title takes its first 500 characters, its subtitle all of it).
 */
export const CHUNKS: readonly (readonly Payload[])[] = (() => {
  const chunks: Payload[][] = [[]];
  for (const item of PAYLOADS) {
    const current = chunks.at(-1)!;
    if (current.length && [...joined([...current, item])].length > 1000) chunks.push([item]);
    else current.push(item);
  }
  return chunks;
})();

function joined(items: readonly Payload[]): string {
  return items.map((item) => item.payload).join(' ');
}

/**
 * Written after each payload of a body: ends a CDATA section, comment, script, style, textarea, title,
 * attribute or tag the payload left open, so that the next payload is read as markup again rather than swallowed.
 */
const CLOSER = ']]>"\'>--></script></style></textarea></title></noscript></xmp>';

/** The payloads as the HTML of a body, each in `wrap` and followed by the closer. */
function body(items: readonly Payload[], wrap: (payload: string) => string = (payload) => payload): string {
  return items.map((item) => `${wrap(item.payload)}\n${CLOSER}`).join('\n');
}

/** The ways in, in the order their releases are dated (newest first). */
export const INGRESSES = ['text', 'markdown', 'rss', 'atom', 'json', 'website', 'api'] as const;
export type Ingress = (typeof INGRESSES)[number];

/** Publication instants 10 minutes apart, all within the news sitemap's two days before the test clock. */
function publishedAt(ingress: Ingress, index: number): Date {
  const position = INGRESSES.indexOf(ingress) * CHUNKS.length + index;
  return new Date(Date.UTC(2026, 10, 25, 10, 0) - position * 10 * 60_000);
}

/** Characters XML 1.0 does not allow at all, even as references. */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Text as XML character data or attribute value: what a correct upstream writes. */
function xml(value: string): string {
  return value.replace(XML_FORBIDDEN, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function cdata(value: string): string {
  return `<![CDATA[${value.replace(XML_FORBIDDEN, '').replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

/** Text as HTML character data (the website's visible text). */
const text = xml;

/** One line of a plain-text release: line breaks inside a payload would change the file's structure. */
function line(value: string): string {
  return value.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/** A payload as the local part of a mail address: no whitespace, so the contact parser reads it as one. */
function mailbox(item: Payload): string {
  return `${item.payload.replace(/\s+/g, '')}@lindenau.example`;
}

function pick(chunk: readonly Payload[], index: number): Payload {
  return chunk[index % chunk.length]!;
}

/** The day in Berlin as a German date ("25.11.2026"); releases are dated in November, at UTC+1. */
function germanDate(date: Date): string {
  const berlin = new Date(date.getTime() + 60 * 60_000);
  return `${String(berlin.getUTCDate()).padStart(2, '0')}.${String(berlin.getUTCMonth() + 1).padStart(2, '0')}.${berlin.getUTCFullYear()}`;
}

/** A release in the plain-text shape of a release page, with the payloads as title, teaser, credit, text and issuer. */
function textRelease(chunk: readonly Payload[], index: number): string {
  return [
    'Inhalt', '',
    line(`Text ${index + 1}: ${joined(chunk)}`), '',
    line(pick(chunk, 1).payload), '',
    'bild_1.png',
    line(`© ${pick(chunk, 2).payload}`), '',
    ...chunk.flatMap((item) => [item.payload, '']),
    `Herausgegeben am ${germanDate(publishedAt('text', index))} von:`, '',
    line(`Stadt Lindenau ${pick(chunk, 0).payload}`),
    line(`Fachbereich ${pick(chunk, 1).payload}`),
    'Erika Mustermann',
    'Markt 1',
    line(`52999 Lindenau ${pick(chunk, 2).payload}`),
    'Tel. 02461 99-2100',
    line(`E-Mail: ${mailbox(pick(chunk, 0))}`),
    '',
  ].join('\n');
}

/** A Markdown release: payloads in every front matter field, raw in the body (Markdown passes HTML through). */
function markdownRelease(chunk: readonly Payload[], index: number): string {
  const json = (value: string) => JSON.stringify(value);
  return `---
title: ${json(`Markdown ${index + 1}: ${joined(chunk)}`)}
subtitle: ${json(joined(chunk))}
date: ${json(publishedAt('markdown', index).toISOString())}
topics: [${chunk.map((item) => json(item.payload)).join(', ')}]
department: ${json(pick(chunk, 1).payload)}
organisation: ${json(`Stadt Lindenau ${pick(chunk, 2).payload}`)}
contact: {name: ${json(pick(chunk, 0).payload)}, street: ${json(pick(chunk, 1).payload)}, city: ${json(pick(chunk, 2).payload)}, phone: ${
  json(`02461 ${pick(chunk, 3).payload}`)}, email: ${json(mailbox(pick(chunk, 4)))}}
image: {src: "bild_1.png", alt: ${json(pick(chunk, 0).payload)}, caption: ${json(pick(chunk, 1).payload)}, credit: ${json(pick(chunk, 2).payload)}}
attachments: [{url: ${json(`javascript:__xss("markdown-attachment-${index}")`)}, title: ${json(pick(chunk, 3).payload)}}, {url: "anlage.pdf", title: ${
  json(pick(chunk, 4).payload)}}]
---
${body(chunk).replaceAll('\n', '\n\n')}
`;
}

function rssFeed(upstream: string): string {
  const items = CHUNKS.map((chunk, index) => `<item>
<title>${xml(`RSS ${index + 1}: ${body(chunk)}`)}</title>
<link>${xml(index === 0 ? 'javascript:__xss("rss-link")' : `${upstream}/rss/${index}`)}</link>
<guid isPermaLink="false">${xml(`rss-${index} ${pick(chunk, 0).payload}`)}</guid>
<pubDate>${publishedAt('rss', index).toUTCString()}</pubDate>
<description>${xml(joined(chunk))}</description>
<content:encoded>${cdata(body(chunk))}</content:encoded>
${chunk.map((item) => `<category>${xml(item.payload)}</category>`).join('\n')}
<dc:creator>${xml(pick(chunk, 1).payload)}</dc:creator>
<enclosure url="${xml(`${upstream}/anlage.pdf?rss=${index}`)}" type="application/pdf" length="${PDF.length}"/>
<enclosure url="${xml('javascript:__xss("rss-enclosure")')}" type="application/pdf" length="1"/>
<media:content url="${xml(`${upstream}/bild.png`)}" type="image/png"><media:title>${xml(pick(chunk, 2).payload)}</media:title><media:description>${
  xml(pick(chunk, 3).payload)}</media:description><media:credit>${xml(pick(chunk, 4).payload)}</media:credit></media:content>
</item>`);
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>${xml(PAYLOADS[0]!.payload)}</title><link>${upstream}/</link><description>${xml(joined(CHUNKS[0]!))}</description>
${items.join('\n')}
</channel></rss>
`;
}

function atomFeed(upstream: string): string {
  const entries = CHUNKS.map((chunk, index) => {
    const date = publishedAt('atom', index).toISOString();
    // Every other entry has a text title: there "<" is a literal character, elsewhere markup.
    return `<entry>
<title type="${index % 2 ? 'text' : 'html'}">${xml(`Atom ${index + 1}: ${index % 2 ? joined(chunk) : body(chunk)}`)}</title>
<id>${xml(`atom-${index} ${pick(chunk, 0).payload}`)}</id>
<link rel="alternate" href="${xml(index === 0 ? 'javascript:__xss("atom-link")' : `${upstream}/atom/${index}`)}"/>
<link rel="enclosure" href="${xml(`${upstream}/anlage.pdf?atom=${index}`)}" type="application/pdf" length="${PDF.length}" title="${xml(pick(chunk, 1).payload)}"/>
<link rel="enclosure" href="${xml(`data:text/html,<script>__xss("atom-enclosure")</script>`)}" type="text/html" length="1"/>
<published>${date}</published><updated>${date}</updated>
<author><name>${xml(pick(chunk, 2).payload)}</name></author>
${chunk.map((item) => `<category term="${xml(item.payload)}" label="${xml(item.payload)}"/>`).join('\n')}
<summary type="html">${xml(joined(chunk))}</summary>
<content type="html">${xml(body(chunk))}</content>
</entry>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>${xml(PAYLOADS[1]!.payload)}</title><id>urn:xss:atom</id>
<updated>2026-11-25T10:00:00Z</updated><link href="${upstream}/"/>
${entries.join('\n')}
</feed>
`;
}

function jsonFeed(upstream: string): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: PAYLOADS[2]!.payload,
    home_page_url: `${upstream}/`,
    items: CHUNKS.map((chunk, index) => ({
      id: `json-${index} ${pick(chunk, 0).payload}`,
      url: index === 0 ? 'javascript:__xss("json-url")' : `${upstream}/json/${index}`,
      external_url: 'data:text/html,<script>__xss("json-external-url")</script>',
      title: `JSON ${index + 1}: ${body(chunk)}`,
      summary: joined(chunk),
      // Every other item has only text: there markup is literal.
      ...(index % 2 ? { content_text: joined(chunk) } : { content_html: body(chunk) }),
      tags: chunk.map((item) => item.payload),
      authors: [{ name: pick(chunk, 1).payload, url: 'javascript:__xss("json-author")' }],
      image: index === 0 ? 'javascript:__xss("json-image")' : `${upstream}/bild.png`,
      date_published: publishedAt('json', index).toISOString(),
      attachments: [
        { url: `${upstream}/anlage.pdf?json=${index}`, mime_type: 'application/pdf', title: pick(chunk, 2).payload },
        { url: 'javascript:__xss("json-attachment")', mime_type: 'application/pdf', title: pick(chunk, 3).payload },
      ],
    })),
  });
}

/** The website's listing: one link per release page, and a javascript: link that is no release. */
function siteListing(): string {
  return `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Pressemitteilungen</title></head><body>
<ul class="liste">
${CHUNKS.map((chunk, index) => `<li><a href="/site/meldung-${index}.html">${text(joined(chunk))}</a></li>`).join('\n')}
<li><a href="javascript:__xss('site-listing')">${text(PAYLOADS[0]!.payload)}</a></li>
</ul></body></html>`;
}

/**
 * A release page of the website. The fields the parser must find come first; the teaser and the text
 * with the raw payloads come last, since a payload may leave a comment or a script open to the end.
 */
function sitePage(chunk: readonly Payload[], index: number): string {
  return `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>${text(joined(chunk))}</title>
${index === 0 ? `<base href="javascript:__xss('site-base')//">` : ''}
<link rel="canonical" href="javascript:__xss('site-canonical')">
<meta http-equiv="refresh" content="0;url=javascript:__xss('site-refresh')">
<script>__xss('site-head-script')</script>
</head><body>
<article class="meldung">
<h1>${text(`Website ${index + 1}: ${joined(chunk)}`)}</h1>
<p class="datum">${germanDate(publishedAt('website', index))}</p>
<figure><img class="bild" src="/site/bild.png" data-src="javascript:__xss('site-data-src')" alt="${text(pick(chunk, 0).payload)}">
<figcaption>${text(pick(chunk, 1).payload)} <span class="credit">${text(pick(chunk, 2).payload)}</span></figcaption></figure>
<ul class="tags">${chunk.map((item) => `<li>${text(item.payload)}</li>`).join('')}</ul>
<p class="dateien"><a class="download" href="/site/anlage.pdf?site=${index}">${text(pick(chunk, 3).payload)}</a>
<a class="download" href="javascript:__xss('site-download')">${text(pick(chunk, 4).payload)}</a></p>
<div class="herausgeber"><p>Stadt Lindenau ${text(pick(chunk, 0).payload)}<br>Fachbereich ${text(pick(chunk, 1).payload)}<br>Erika Mustermann<br>
Markt 1<br>52999 Lindenau<br>Telefon: 02461 99-2100<br>E-Mail: <a href="mailto:${encodeURIComponent(mailbox(pick(chunk, 2)))}">Mail</a></p></div>
<div class="text">${body(chunk, (payload) => `<div>${payload}</div>`)}</div>
<p class="teaser">${joined(chunk)}</p>
</article></body></html>`;
}

const SITE_SETTINGS = {
  listing_url: '/site/index.html',
  link_selector: '.liste a',
  title_selector: 'article h1',
  subtitle_selector: 'article p.teaser',
  body_selector: 'article div.text',
  date_selector: 'article p.datum',
  date_format: 'dd.MM.yyyy',
  image_selector: 'article figure img.bild',
  caption_selector: 'article figcaption',
  credit_selector: 'article figcaption .credit',
  issuer_selector: 'article div.herausgeber p',
  topics_selector: 'article ul.tags li',
  attachment_selector: 'article a.download',
};

/** A release of the authoring API with a payload in every field it has. */
function apiRelease(chunk: readonly Payload[], index: number, upstream: string): Record<string, unknown> {
  const cut = (value: string, max: number) => [...value].slice(0, max).join('');
  return {
    title: cut(`API ${index + 1}: ${joined(chunk)}`, 500),
    subtitle: joined(chunk),
    body: body(chunk, (payload) => `<p>${payload}</p>`),
    topics: chunk.map((item) => cut(item.payload, 100)),
    department: pick(chunk, 0).payload,
    organisation: `Stadt Lindenau ${pick(chunk, 1).payload}`,
    published_at: publishedAt('api', index).toISOString(),
    // Every other image is missing upstream: its URL is then published as given, not as Herold's copy.
    image: {
      url: index % 2 ? `${upstream}/fehlt.png?api=${index}&x=%22%3E%3Cscript%3E__xss(1)%3C/script%3E` : `${upstream}/bild.png`,
      alt: pick(chunk, 2).payload, caption: pick(chunk, 3).payload, credit: pick(chunk, 4).payload,
    },
    attachments: [{ url: `${upstream}/anlage.pdf?api=${index}`, title: pick(chunk, 5).payload }],
    contact: {
      name: pick(chunk, 0).payload, organisation: pick(chunk, 1).payload, street: pick(chunk, 2).payload,
      postcode: pick(chunk, 3).payload, city: pick(chunk, 4).payload, phone: `02461 ${pick(chunk, 5).payload}`,
      fax: pick(chunk, 6).payload, email: mailbox(pick(chunk, 0)),
    },
  };
}

/** A feed URL with markup in its query, answered 404: the failing source names it on the status page. */
function failingFeedUrl(upstream: string): string {
  return `${upstream}/fehlt?q=<script>__xss("status-url")</script>&x="><img/src=x/onerror=__xss("status-url")>`;
}

/** A running corpus: the app with everything ingested, and what ingest reported; `close` stops the upstream too. */
export interface Corpus {
  readonly t: TestApp;
  readonly reports: readonly RefreshReport[];
  /** Ids of the releases created through the API. */
  readonly apiIds: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts the fixture upstream, a test app whose config declares one source of each type, refreshes
 * them all, then creates, corrects, embargoes and withdraws releases through the authoring API.
 */
export async function ingestCorpus(options: { baseUrl?: string } = {}): Promise<Corpus> {
  const upstream = await startUpstream({});
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-xss-'));
  let t: TestApp | undefined;
  try {
    const up = upstream.url;
    upstream.set('/rss.xml', { body: rssFeed(up), headers: { 'content-type': 'application/rss+xml; charset=utf-8' } });
    upstream.set('/atom.xml', { body: atomFeed(up), headers: { 'content-type': 'application/atom+xml; charset=utf-8' } });
    upstream.set('/feed.json', { body: jsonFeed(up), headers: { 'content-type': 'application/feed+json; charset=utf-8' } });
    upstream.set('/site/index.html', { body: siteListing(), headers: { 'content-type': 'text/html; charset=utf-8' } });
    const page = { 'content-type': 'text/html; charset=utf-8' };
    CHUNKS.forEach((chunk, index) => upstream.set(`/site/meldung-${index}.html`, { body: sitePage(chunk, index), headers: page }));
    for (const file of ['/bild.png', '/site/bild.png']) upstream.set(file, { body: PNG, headers: { 'content-type': 'image/png' } });
    for (const file of ['/anlage.pdf', '/site/anlage.pdf']) upstream.set(file, { body: PDF, headers: { 'content-type': 'application/pdf' } });

    const folder = path.join(dir, 'dateien');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'bild_1.png'), PNG);
    writeFileSync(path.join(folder, 'anlage.pdf'), PDF);
    CHUNKS.forEach((chunk, index) => {
      writeFileSync(path.join(folder, `text-${index}.txt`), textRelease(chunk, index));
      writeFileSync(path.join(folder, `markdown-${index}.md`), markdownRelease(chunk, index));
    });
    const schedule = '0 0 1 1 *';
    writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({
      sources: [
        { id: 'dateien', type: 'files', schedule, path: 'dateien' },
        { id: 'rss', type: 'feed', schedule, url: `${up}/rss.xml`, department: PAYLOADS[3]!.payload },
        { id: 'atom', type: 'feed', schedule, url: `${up}/atom.xml` },
        { id: 'json', type: 'feed', schedule, url: `${up}/feed.json` },
        { id: 'website', type: 'html', schedule, ...SITE_SETTINGS, listing_url: `${up}${SITE_SETTINGS.listing_url}` },
        { id: 'kaputt', type: 'feed', schedule, url: failingFeedUrl(up), timeout_ms: 2000 },
      ],
    }));
    const app = createTestApp({
      dir,
      env: {
        ...(options.baseUrl ? { HEROLD_BASE_URL: options.baseUrl } : {}),
        HEROLD_API_TOKENS: API_TOKEN,
        HEROLD_PRESS_TOKENS: PRESS_TOKEN,
        // The authoring API may fetch images from the fixture upstream on 127.0.0.1.
        HEROLD_ALLOW_PRIVATE_URLS: '127.0.0.1',
      },
    });
    t = app;
    const reports = await refreshAll({ config: app.config, store: app.store, clock: () => app.now, log: (entry) => app.logs.push(entry) });
    const apiIds = await authorThroughApi(app, up);
    return {
      t: app, reports, apiIds,
      async close() {
        app.close();
        await upstream.close();
      },
    };
  } catch (error) {
    t?.close();
    rmSync(dir, { recursive: true, force: true });
    await upstream.close();
    throw error;
  }
}

async function authorThroughApi(t: TestApp, upstream: string): Promise<string[]> {
  const auth = { Authorization: `Bearer ${API_TOKEN}` };
  const ids: string[] = [];
  for (const [index, chunk] of CHUNKS.entries()) {
    const release = apiRelease(chunk, index, upstream);
    const res = await request(t.app).post('/api/v1/releases').set(auth).send(release);
    if (res.status !== 201) throw new Error(`API release ${index}: ${res.status} ${res.text}`);
    ids.push((res.body as { id: string }).id);
    // A correction whose note and changed text are payloads too: the release page lists it.
    const note = pick(chunk, 1).payload;
    const patched = await request(t.app).patch(`/api/v1/releases/${res.body.id as string}`).set(auth).set('If-Match', res.headers.etag as string)
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({
        title: release.title, topics: release.topics, body: release.body, subtitle: `${joined(chunk)} ${pick(chunk, 2).payload}`, correction_note: note,
      }));
    if (patched.status !== 200) throw new Error(`API correction ${index}: ${patched.status} ${patched.text}`);
  }
  // One under embargo (only the journalists' feed shows it), one withdrawn (Atom keeps its tombstone) with a javascript: GUID.
  const embargoed = await request(t.app).post('/api/v1/releases').set(auth)
    .send({ ...apiRelease(CHUNKS[0]!, 0, upstream), title: `Sperrfrist: ${joined(CHUNKS[1]!)}`.slice(0, 500), embargo_until: '2026-12-24T09:00:00Z' });
  if (embargoed.status !== 201) throw new Error(`embargoed API release: ${embargoed.status} ${embargoed.text}`);
  const withdrawn = await request(t.app).post('/api/v1/releases').set(auth)
    .send({ ...apiRelease(CHUNKS[2]!, 2, upstream), title: 'Zurückgezogen', guid: "javascript:__xss('guid')" });
  if (withdrawn.status !== 201) throw new Error(`withdrawn API release: ${withdrawn.status} ${withdrawn.text}`);
  const gone = await request(t.app).delete(`/api/v1/releases/${withdrawn.body.id as string}`).set(auth)
    .set('If-Match', withdrawn.headers.etag as string).set('X-Correction-Note', 'javascript:__xss("withdrawal")');
  if (gone.status !== 204) throw new Error(`withdrawal: ${gone.status} ${gone.text}`);
  return ids;
}

/* ---------------------------------------------------------------------------------------------------
 * Structural checks of every output: what a browser (or a feed reader) could execute.
 * ------------------------------------------------------------------------------------------------- */

/** Schemes that run code or load a document of the attacker's making when followed or embedded. */
const DANGEROUS_SCHEME = /^(?:javascript|vbscript|livescript|data|blob|filesystem):/;
/** The one kind of data: URL allowed: a raster image in an <img>, which cannot run anything. */
const RASTER_DATA_IMAGE = /^data:image\/(?:png|jpeg|gif|webp|avif)[;,]/;
/** CSS that runs code or loads anything. */
const DANGEROUS_CSS = /expression\s*\(|javascript:|vbscript:|@import|url\s*\(|behavior\s*:|-moz-binding/i;
/** Attributes whose value is a URL a browser loads or follows. */
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background', 'cite', 'codebase',
  'longdesc', 'lowsrc', 'dynsrc', 'manifest', 'icon', 'ping', 'archive', 'classid', 'profile', 'usemap', 'srcset', 'imagesrcset']);
/** Elements no output of Herold has, and no content may bring. */
const FORBIDDEN_ELEMENTS = new Set(['frame', 'frameset', 'object', 'embed', 'applet', 'base', 'math', 'noscript', 'template', 'textarea',
  'xmp', 'plaintext', 'noembed', 'noframes', 'param', 'portal', 'isindex', 'keygen', 'listing', 'foreignobject', 'animate', 'set',
  'animatetransform', 'animatemotion', 'use', 'handler', 'listener']);
/** The `rel` values of the <link> elements Herold writes in a head. */
const OWN_LINK_RELS = new Set(['icon', 'alternate', 'canonical', 'prev', 'next']);

/** The scheme part of a URL as a browser reads it: tabs and line breaks removed, leading controls and spaces trimmed, lower case. */
export function urlAsRead(value: string): string {
  return value.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+/, '').toLowerCase();
}

/** Where an HTML text stands: a whole document of Herold's, a fragment of content, or an oEmbed snippet (one iframe of Herold's). */
export type HtmlKind = 'document' | 'fragment' | 'oembed';

/**
 * What in HTML could run code: a script other than Herold's own (same-origin `src`, or JSON-LD that is
 * JSON), an `on*` attribute, a javascript:/data: URL (but a raster image), a frame, object, base, refresh,
 * form or style from content; and any payload of the corpus that contains "<" appearing verbatim.
 */
export function htmlProblems(htmlText: string, baseUrl: string, kind: HtmlKind): string[] {
  const problems: string[] = [];
  const $ = kind === 'document' ? load(htmlText) : load(htmlText, null, false);
  const own = (url: string | undefined) => url !== undefined && url.startsWith(`${baseUrl}/`);
  const inHead = (element: Element) => $(element).closest('head').length > 0;
  for (const element of $('*').toArray() as Element[]) {
    const tag = element.name.toLowerCase();
    const where = `<${tag}>`;
    for (const [name, value] of Object.entries(element.attribs)) {
      const attribute = name.toLowerCase();
      if (attribute.startsWith('on')) problems.push(`${where} has an event handler ${name}="${value}"`);
      if (attribute === 'srcdoc') problems.push(`${where} has srcdoc`);
      if (attribute === 'style' && DANGEROUS_CSS.test(value)) problems.push(`${where} has style="${value}"`);
      if (attribute === 'http-equiv') problems.push(`${where} has http-equiv="${value}"`);
      if (tag === 'meta' && attribute === 'content' && DANGEROUS_SCHEME.test(urlAsRead(value))) problems.push(`${where} content="${value}"`);
      if (!URL_ATTRIBUTES.has(attribute)) continue;
      const urls = attribute.endsWith('srcset') ? value.split(',').map((candidate) => candidate.trim().split(/\s+/)[0] ?? '') : [value];
      for (const url of urls.map(urlAsRead)) {
        if (DANGEROUS_SCHEME.test(url) && !(tag === 'img' && attribute === 'src' && RASTER_DATA_IMAGE.test(url))) {
          problems.push(`${where} has ${name}="${value}"`);
        }
      }
    }
    if (FORBIDDEN_ELEMENTS.has(tag)) problems.push(`${where} element`);
    if (tag === 'script') {
      const code = $(element).text();
      const type = element.attribs.type?.toLowerCase();
      const jsonLd = type === 'application/ld+json' && element.attribs.src === undefined && (() => {
        try {
          JSON.parse(code);
          return true;
        } catch {
          return false;
        }
      })();
      const sameOrigin = kind === 'document' && own(element.attribs.src) && !code.trim() && (type === undefined || type === 'text/javascript');
      if (!jsonLd && !sameOrigin) problems.push(`${where} element not Herold's: ${$.html(element).slice(0, 120)}`);
    }
    if (tag === 'style' && (kind !== 'document' || DANGEROUS_CSS.test($(element).text()))) {
      problems.push(`${where} element from content: ${$(element).text().slice(0, 80)}`);
    }
    if (tag === 'iframe' && !(kind === 'oembed' && element.attribs.src?.startsWith(`${baseUrl}/embed/`))) {
      problems.push(`${where} element: ${$.html(element).slice(0, 120)}`);
    }
    if (tag === 'link' && !(kind === 'document' && inHead(element) && OWN_LINK_RELS.has(element.attribs.rel ?? '')
      && /^https?:\/\//.test(element.attribs.href ?? ''))) {
      problems.push(`${where} element: ${$.html(element).slice(0, 120)}`);
    }
    if (tag === 'form' && !(kind === 'document' && own(element.attribs.action))) problems.push(`${where} element with action="${element.attribs.action}"`);
    if (['input', 'button', 'select'].includes(tag) && kind !== 'document') problems.push(`${where} element in content`);
    // The status page draws its chart as inline SVG: nothing in it may be active.
    if (tag === 'svg' && !(kind === 'document' && element.attribs.class === 'chart'
      && $(element).find('script, a, foreignObject, use, animate, set, image, iframe').length === 0)) {
      problems.push(`${where} element: ${$.html(element).slice(0, 120)}`);
    }
  }
  for (const { id, payload } of PAYLOADS) {
    if (payload.includes('<') && htmlText.includes(payload)) problems.push(`payload ${id} appears verbatim`);
  }
  return problems;
}

/** Elements and attributes of Herold's XML outputs that hold a URL a reader follows. */
const XML_URL_ELEMENTS = new Set(['link', 'loc', 'icon', 'logo', 'uri', 'url', 'comments', 'docs']);
const XML_URL_ATTRIBUTES = new Set(['href', 'url', 'src', 'xmlurl', 'htmlurl', 'domain', 'scheme']);

/**
 * What in an XML output (feed, OPML, sitemap) could run code: it must be well-formed, every URL http(s),
 * an RSS GUID that claims to be a permalink a URL, and the HTML it carries (RSS description and
 * content:encoded, Atom text constructs of type html) free of what htmlProblems finds.
 */
export function xmlOutputProblems(xmlText: string, baseUrl: string): string[] {
  const problems = xmlProblems(xmlText);
  if (problems.length) return problems;
  const $ = load(xmlText, { xml: true });
  for (const element of $('*').toArray() as Element[]) {
    const tag = element.name.toLowerCase();
    const local = tag.replace(/^.*:/, '');
    for (const [name, value] of Object.entries(element.attribs)) {
      if (XML_URL_ATTRIBUTES.has(name.toLowerCase()) && !/^https?:\/\//.test(value)) problems.push(`<${tag}> ${name}="${value}" is not an http(s) URL`);
    }
    const ownText = $(element).children().length === 0 ? $(element).text().trim() : '';
    if (XML_URL_ELEMENTS.has(local) && ownText && !/^https?:\/\//.test(ownText)) problems.push(`<${tag}> "${ownText}" is not an http(s) URL`);
    if (tag === 'guid' && element.attribs.isPermaLink !== 'false' && !/^https?:\/\//.test(ownText)) problems.push(`<guid> permalink "${ownText}"`);
    // RSS titles and the channel's description are plain text (escaped for XML); an item's description is HTML.
    const html = (tag === 'description' && element.parent && (element.parent as Element).name === 'item') || tag === 'content:encoded'
      || (['title', 'subtitle', 'summary', 'content', 'rights'].includes(tag) && element.attribs.type === 'html');
    if (html) problems.push(...htmlProblems($(element).text(), baseUrl, 'fragment').map((problem) => `<${tag}>: ${problem}`));
    if (['title', 'subtitle', 'summary', 'content', 'rights'].includes(tag) && element.attribs.type === 'xhtml') {
      problems.push(`<${tag}> of type xhtml: ${$(element).html()?.slice(0, 80)}`);
    }
  }
  return problems;
}

/** JSON members that hold HTML, and those that hold a URL. */
const JSON_HTML = new Set(['content_html', 'body']);
const JSON_URL = /(?:^|_)(?:url|href|link|image|icon|favicon|avatar|feed)$/;

/**
 * What in a JSON output could run code where it is shown: HTML members (`content_html`, `body`, oEmbed
 * `html`) as htmlProblems finds, and every URL member http(s).
 */
export function jsonProblems(jsonText: string, baseUrl: string): string[] {
  const problems: string[] = [];
  const visit = (value: unknown, pointer: string, key: string): void => {
    if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${pointer}/${index}`, key));
    else if (value && typeof value === 'object') for (const [name, inner] of Object.entries(value)) visit(inner, `${pointer}/${name}`, name);
    else if (typeof value === 'string') {
      if (JSON_HTML.has(key)) problems.push(...htmlProblems(value, baseUrl, 'fragment').map((problem) => `${pointer}: ${problem}`));
      if (key === 'html') problems.push(...htmlProblems(value, baseUrl, 'oembed').map((problem) => `${pointer}: ${problem}`));
      if (JSON_URL.test(key) && !/^https?:\/\//.test(value)) problems.push(`${pointer}: "${value}" is not an http(s) URL`);
    }
  };
  try {
    visit(JSON.parse(jsonText), '', '');
  } catch (error) {
    problems.push(`not JSON: ${(error as Error).message}`);
  }
  return problems;
}

/** The properties Herold writes in a vCard. */
const VCARD_PROPERTIES = new Set(['BEGIN', 'VERSION', 'KIND', 'FN', 'ORG', 'ADR', 'TEL', 'EMAIL', 'END']);

/** A vCard of Herold's: CRLF lines, one card, only Herold's properties (no line a value smuggled in). */
export function vcardProblems(card: string): string[] {
  const problems: string[] = [];
  if (/\r(?!\n)|(?<!\r)\n/.test(card)) problems.push('a line break other than CRLF');
  const lines = card.replace(/\r\n[ \t]/g, '').split('\r\n').filter(Boolean);
  for (const entry of lines) {
    const name = /^([A-Za-z-]+)[;:]/.exec(entry)?.[1]?.toUpperCase();
    if (!name || !VCARD_PROPERTIES.has(name)) problems.push(`unexpected line "${entry.slice(0, 80)}"`);
  }
  if (lines.filter((entry) => entry === 'BEGIN:VCARD').length !== 1 || lines.filter((entry) => entry === 'END:VCARD').length !== 1) {
    problems.push('not exactly one card');
  }
  return problems;
}

/** One output of Herold to check: its path, what it is, and the status it must answer. */
export interface Output {
  readonly path: string;
  readonly kind: 'html' | 'xml' | 'json' | 'vcard';
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Every public output after the corpus is in: lists (every page), each release page, card, oEmbed and
 * vCard, each topic and department page, every payload as a search; the feed directory, OPML, status,
 * sitemaps, the journalists' feed and the releases API. Outputs that only differ by the name or text
 * they show (a topic's feeds and embeds; a search's feeds and embeds, a share text, a wrong address) take
 * turns: each topic, department and payload is checked in one more form, each form with a share of them.
 */
export function outputs(corpus: Corpus): Output[] {
  const { t } = corpus;
  const base = t.config.baseUrl;
  const enc = encodeURIComponent;
  const releases = t.store.newestReleases({ kind: 'all' }, { now: t.now, limit: 1000 });
  const topics = t.store.listTopics(t.now).filter((term) => term.count > 0).map((term) => term.slug);
  const departments = t.store.listDepartments(t.now).filter((term) => term.count > 0).map((term) => term.slug);
  const listPages = Math.ceil(releases.length / 20);
  const html = (path: string, status = 200): Output => ({ path, kind: 'html', status });
  const xml = (path: string): Output => ({ path, kind: 'xml', status: 200 });
  const json = (path: string, headers?: Record<string, string>): Output => ({ path, kind: 'json', status: 200, ...(headers ? { headers } : {}) });
  const feeds = (path: string, query = ''): Output[] => [xml(`${path}.rss${query}`), xml(`${path}.atom${query}`), json(`${path}.json${query}`)];
  /** The forms a list can take besides its page: its three feeds, its iframe, its JSON headlines, its oEmbed. */
  const forms = (feed: string, query: string, page: string): Output[] => [
    ...feeds(feed, query ? `?${query}` : ''), html(`/embed/headlines?${query}`), json(`/api/v1/headlines?${query}`),
    json(`/oembed?url=${enc(`${base}${page}`)}`),
  ];
  const turn = (list: readonly Output[], index: number): Output => list[index % list.length]!;
  const withdrawn = t.store.releaseByGuid("javascript:__xss('guid')")!;
  const shared = `${base}/releases/${releases[0]!.slug}`;
  const press = { Authorization: `Bearer ${PRESS_TOKEN}` };
  const author = { Authorization: `Bearer ${API_TOKEN}` };
  return [
    html('/'),
    ...Array.from({ length: listPages - 1 }, (_, index) => html(`/?page=${index + 2}`)),
    html('/feeds'), html('/status'), json('/status.json'),
    xml('/feeds.opml'), xml('/sitemap.xml'), xml('/news-sitemap.xml'),
    ...feeds('/feeds/all'), ...feeds('/feeds/all', '?page=2'), ...feeds('/feeds/all', '?limit=100'),
    { path: '/feeds/embargoed.rss', kind: 'xml', status: 200, headers: press },
    { path: '/feeds/embargoed.atom', kind: 'xml', status: 200, headers: press },
    json('/feeds/embargoed.json', press),
    json('/api/v1/headlines?limit=50'), html('/embed/headlines?limit=50'),
    json('/api/v1/releases?limit=100'), json('/api/v1/releases?limit=100&status=all', author),
    ...releases.flatMap((release) => [
      html(`/releases/${release.slug}`),
      html(`/embed/release/${release.slug}`),
      json(`/oembed?url=${enc(`${base}/releases/${release.slug}`)}&format=json`),
      ...(release.contact ? [{ path: `/releases/${release.slug}/contact.vcf`, kind: 'vcard', status: 200 } satisfies Output] : []),
    ]),
    ...corpus.apiIds.slice(0, 3).map((id) => json(`/api/v1/releases/${id}`)),
    html(`/releases/${withdrawn.slug}`, 410),
    ...topics.flatMap((slug, index) => [html(`/topics/${slug}`), turn(forms(`/feeds/topics/${slug}`, `topic=${slug}`, `/topics/${slug}`), index)]),
    ...departments.flatMap((slug, index) => [
      html(`/departments/${slug}`), turn(forms(`/feeds/departments/${slug}`, `department=${slug}`, `/departments/${slug}`), index),
    ]),
    html('/search?q=xss'), html('/search?q=xss&page=2'),
    ...PAYLOADS.flatMap(({ payload }, index) => [
      html(`/search?q=${enc(payload)}`),
      turn([
        ...forms('/feeds/all', `q=${enc(payload)}`, `/search?q=${enc(payload)}`),
        html(`/share/mastodon?url=${enc(shared)}&text=${enc(payload)}`),
        html(`/share/mastodon?url=${enc(shared)}&text=x&instance=${enc(payload)}`, 400),
        html(`/releases/${enc(payload)}`, 404), html(`/topics/${enc(payload)}`, 404),
      ], index),
    ]),
  ];
}

/** The problems of one answer: its status and headers, then the body as what it is. */
export function outputProblems(output: Output, res: { status: number; headers: Record<string, string>; text: string }, baseUrl: string): string[] {
  const problems: string[] = [];
  if (res.status !== output.status) problems.push(`status ${res.status}, expected ${output.status}: ${res.text.slice(0, 200)}`);
  if (res.headers['x-content-type-options'] !== 'nosniff') problems.push('no X-Content-Type-Options: nosniff');
  const type = res.headers['content-type'] ?? '';
  const expected = {
    html: /^text\/html/, xml: /^application\/(?:rss\+|atom\+)?xml|^text\/x-opml/, json: /^application\/(?:feed\+)?json/, vcard: /^text\/vcard/,
  }[output.kind];
  if (!expected.test(type)) problems.push(`Content-Type ${type}`);
  if (output.kind === 'html') {
    if (!/script-src 'self'(?:;|$)/.test(res.headers['content-security-policy'] ?? '')) problems.push('no Content-Security-Policy with script-src \'self\'');
    problems.push(...htmlProblems(res.text, baseUrl, 'document'));
  }
  if (output.kind === 'xml') problems.push(...xmlOutputProblems(res.text, baseUrl));
  if (output.kind === 'json') problems.push(...jsonProblems(res.text, baseUrl));
  if (output.kind === 'vcard') problems.push(...vcardProblems(res.text));
  return problems;
}
