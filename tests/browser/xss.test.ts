/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CHUNKS, ingestCorpus, INGRESSES, PAYLOADS, type Corpus } from '../security/xss-corpus.js';
import { listenOnLoopback } from '../helpers/cli.js';

/*
 * The XSS corpus (tests/fixtures/xss/payloads.json), ingested through files, feeds, a website and the
 * authoring API, shown in Chromium: Herold's pages, its iframe embeds and the script widget on a host
 * page of another origin. Every payload would call window.__xss(id); the page's CSP is bypassed, so
 * that escaping alone has to hold. Nothing may run, and nothing on a page may be able to run anything
 * when clicked (no javascript:/data: link, no handler, no frame, object or base from content).
 */

const CHROMIUM = process.env.HEROLD_CHROMIUM ?? '/usr/bin/chromium';
// CI installs Chromium (.ci/run); elsewhere the browser tests run where it is installed.
const available = existsSync(CHROMIUM) || process.env.CI === 'true';
/** Tabs loading pages at the same time. */
const TABS = 4;

let corpus: Corpus;
let herold: Server;
let host: Server;
let heroldUrl: string;
let hostUrl: string;
let browser: Browser;


function closeServer(server: Server | undefined): Promise<void> {
  server?.closeAllConnections();
  return new Promise((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
}

function attribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** A page of another site embedding Herold: widgets searching for payloads and showing payload topics, and iframes. */
function hostPage(): string {
  const topics = corpus.t.store.listTopics(corpus.t.now).filter((term) => term.count > 0 && term.name.includes('<')).slice(0, 3);
  const searches = PAYLOADS.filter((_, index) => index % 15 === 0).map((item) => item.payload);
  return `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Lokalzeitung</title></head><body>
<h1>Lokalzeitung</h1>
<div id="alle" data-herold-headlines data-limit="50"></div>
${topics.map((topic) => `<div data-herold-headlines data-topic="${attribute(topic.slug)}" data-limit="5"></div>`).join('\n')}
${searches.map((q) => `<div data-herold-headlines data-q="${attribute(q)}" data-limit="3"></div>`).join('\n')}
<iframe title="Schlagzeilen" src="${heroldUrl}/embed/headlines?limit=50" width="400" height="300"></iframe>
${searches.slice(0, 1).map((q) => `<iframe title="Suche" src="${heroldUrl}/embed/headlines?q=${encodeURIComponent(q)}" width="400" height="200"></iframe>`).join('\n')}
<script src="${heroldUrl}/embed.js" defer></script>
</body></html>`;
}

/** A page that does run a payload: proves that the marker, the dialog listener and the DOM check see one. */
const CONTROL_PAGE = `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Kontrolle</title></head><body>
<img src="/fehlt" onerror="__xss('control')"><a href="javascript:__xss('control-link')">Link</a></body></html>`;

/**
 * Runs in the browser, in every frame: what on the document, as the browser parsed it (and in the
 * shadow roots of widgets), could run code: `on*` attributes, javascript:/data: URLs as the browser
 * resolved them (but raster images), frames, objects, bases, refreshes, and scripts but Herold's own.
 */
function domProblems(herold: string): string[] {
  const problems: string[] = [];
  const dangerous = /^(?:javascript|vbscript|data|blob|filesystem):/i;
  const raster = /^data:image\/(?:png|jpeg|gif|webp|avif)[;,]/i;
  const own = (url: string) => url.startsWith(`${herold}/`);
  const resolve = (value: string) => {
    try {
      return new URL(value, document.baseURI).href;
    } catch {
      return value;
    }
  };
  const roots: Array<Document | ShadowRoot> = [document];
  for (let index = 0; index < roots.length; index++) {
    for (const element of roots[index]!.querySelectorAll('*')) {
      if (element.shadowRoot) roots.push(element.shadowRoot);
      const tag = element.localName;
      const where = `<${tag}> in ${location.href}`;
      for (const { name, value } of element.attributes) {
        if (name.toLowerCase().startsWith('on')) problems.push(`${where}: ${name}="${value}"`);
        if (name.toLowerCase() === 'srcdoc') problems.push(`${where}: srcdoc`);
        if (name.toLowerCase() === 'http-equiv') problems.push(`${where}: http-equiv="${value}"`);
      }
      const urls: Array<[string, string]> = [];
      for (const name of ['href', 'src', 'action', 'formaction', 'data', 'poster', 'xlink:href']) {
        const value = element.getAttribute(name);
        if (value !== null) urls.push([name, resolve(value)]);
      }
      // What the browser will follow, as it resolved it (entities, tabs and case already undone).
      if (element instanceof HTMLAnchorElement || element instanceof HTMLAreaElement) urls.push(['href', element.href]);
      if (element instanceof HTMLFormElement) urls.push(['action', element.action]);
      for (const [name, url] of urls) {
        if (dangerous.test(url) && !(tag === 'img' && name === 'src' && raster.test(url))) problems.push(`${where}: ${name}="${url}"`);
      }
      const script = tag === 'script' && !((element as HTMLScriptElement).type === 'application/ld+json' && !element.hasAttribute('src'))
        && !(own((element as HTMLScriptElement).src) && !element.textContent?.trim());
      const frame = tag === 'iframe' && !own((element as HTMLIFrameElement).src);
      const chart = tag === 'svg' && element.classList.contains('chart');
      if (script || frame || (tag === 'svg' && !chart)
        || ['frame', 'frameset', 'object', 'embed', 'applet', 'base', 'portal', 'math', 'foreignObject', 'animate', 'set', 'use'].includes(tag)) {
        problems.push(`${where}: ${element.outerHTML.slice(0, 120)}`);
      }
    }
  }
  return problems;
}

/** What happened while pages were shown: payloads that ran, dialogs, uncaught errors, console errors. */
interface Observed {
  readonly ran: string[];
  readonly dialogs: string[];
  readonly errors: string[];
  readonly popups: string[];
}

async function instrumented(): Promise<{ context: BrowserContext; observed: Observed }> {
  const observed: Observed = { ran: [], dialogs: [], errors: [], popups: [] };
  // Escaping must hold on its own: the pages' Content-Security-Policy would block inline code anyway.
  const context = await browser.newContext({ bypassCSP: true });
  await context.exposeBinding('__xssReport', ({ frame }, id: unknown) => {
    observed.ran.push(`${String(id)} in ${frame.url()}`);
  });
  await context.addInitScript(() => {
    const report = (window as unknown as { __xssReport: (id: string) => void }).__xssReport;
    Object.defineProperty(window, '__xss', { value: (id: unknown) => report(String(id)) });
  });
  context.on('page', (page) => {
    page.on('dialog', (dialog) => {
      observed.dialogs.push(`${dialog.type()} "${dialog.message()}" in ${page.url()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => observed.errors.push(`${page.url()}: ${error.message}`));
    page.on('popup', (popup) => observed.popups.push(popup.url()));
    page.on('console', (message) => {
      // A missing image upstream (the API's unreachable pictures) is the only failure a page may log.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) observed.errors.push(`${page.url()}: ${message.text()}`);
    });
  });
  return { context, observed };
}

/** Loads a page, lets what the parser queued (toggle, focus, animation, image errors) happen, and checks every frame. */
async function visit(page: Page, url: string): Promise<{ problems: string[]; text: string }> {
  await page.goto(url, { waitUntil: 'load' });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(resolve, 0)))));
  const problems: string[] = [];
  for (const frame of page.frames()) problems.push(...await frame.evaluate(domProblems, heroldUrl));
  return { problems, text: await page.evaluate(() => document.body?.innerText ?? '') };
}

/**
 * The pages shown (tests/security/xss.test.ts checks every output's markup; here a browser parses and
 * runs them): every list page (all titles, summaries, topic and department names), the release page of
 * each group of payloads as the API took it and one of every other way in, topic, department and search
 * pages of payloads, the feed directory, status, share and error pages.
 */
function pagesToShow(): string[] {
  const { t, apiIds } = corpus;
  const releases = t.store.newestReleases({ kind: 'all' }, { now: t.now, limit: 1000 });
  const api = apiIds.map((id) => t.store.releaseById(Number(id))!);
  // One release of every other way in, each of another group of payloads ("rss-3-…" is the third group read from RSS).
  const others = INGRESSES.filter((ingress) => ingress !== 'api')
    .map((ingress, index) => releases.find((release) => release.slug.startsWith(`${ingress}-${(index % CHUNKS.length) + 1}-`))!);
  const marked = (terms: ReadonlyArray<{ slug: string; name: string; count: number }>) =>
    terms.filter((term) => term.count > 0 && term.name.includes('<')).slice(0, 3).map((term) => term.slug);
  const queries = PAYLOADS.filter((item) => ['script-close', 'title-close', 'textarea-close', 'attribute-break-double', 'unicode-separators'].includes(item.id))
    .map((item) => encodeURIComponent(item.payload));
  const withdrawn = t.store.releaseByGuid("javascript:__xss('guid')")!;
  return [
    '/', ...Array.from({ length: Math.ceil(releases.length / 20) - 1 }, (_, index) => `/?page=${index + 2}`), '/feeds', '/status',
    ...[...api, ...others].map((release) => `/releases/${release.slug}`),
    ...marked(t.store.listTopics(t.now)).map((slug) => `/topics/${slug}`),
    ...marked(t.store.listDepartments(t.now)).map((slug) => `/departments/${slug}`),
    ...queries.map((q) => `/search?q=${q}`),
    ...queries.slice(0, 2).map((q) => `/share/mastodon?url=${encodeURIComponent(`${heroldUrl}/releases/${api[0]!.slug}`)}&text=${q}`),
    `/releases/${queries[0]}`, `/releases/${withdrawn.slug}`,
  ].map((path) => `${heroldUrl}${path}`);
}

/** The iframe embeds shown: the card of each group of payloads as the API took it, and headline lists. */
function embedsToShow(): string[] {
  const cards = corpus.apiIds.map((id) => `/embed/release/${corpus.t.store.releaseById(Number(id))!.slug}`);
  const query = encodeURIComponent(PAYLOADS.find((item) => item.id === 'attribute-break-double')!.payload);
  return [...cards, '/embed/headlines?limit=50', `/embed/headlines?q=${query}`].map((path) => `${heroldUrl}${path}`);
}

/** Shows every URL, a few tabs at a time: the problems found on them, and how many show a payload as text. */
async function showAll(context: BrowserContext, urls: readonly string[]): Promise<{ problems: string[]; showingPayloads: number }> {
  const problems: string[] = [];
  let showingPayloads = 0;
  const queue = [...urls];
  await Promise.all(Array.from({ length: Math.min(TABS, urls.length) }, async () => {
    const page = await context.newPage();
    for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
      const seen = await visit(page, url);
      problems.push(...seen.problems);
      if (seen.text.includes('__xss(')) showingPayloads++;
    }
    await page.close();
  }));
  return { problems, showingPayloads };
}

// A few dozen pages in a real browser: slower than most tests, on a machine shared with the rest of the suite.
describe.runIf(available)('the XSS corpus in Chromium', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    herold = createServer();
    heroldUrl = await listenOnLoopback(herold);
    corpus = await ingestCorpus({ baseUrl: heroldUrl });
    herold.on('request', corpus.t.app);
    host = createServer((req, res) => {
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(hostPage());
      else if (req.url === '/kontrolle') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(CONTROL_PAGE);
      else res.writeHead(204).end();
    });
    hostUrl = await listenOnLoopback(host);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer(herold);
    await closeServer(host);
    await corpus?.close();
  });

  test('the instruments see a payload that runs', async () => {
    const { context, observed } = await instrumented();
    try {
      const page = await context.newPage();
      const { problems } = await visit(page, `${hostUrl}/kontrolle`);
      await expect.poll(() => observed.ran).toEqual([`control in ${hostUrl}/kontrolle`]);
      expect(problems).toEqual(expect.arrayContaining([expect.stringContaining('onerror'), expect.stringContaining('javascript:')]));
    } finally {
      await context.close();
    }
  });

  test('no payload runs on any page, and no page has anything that could run one', async () => {
    const { context, observed } = await instrumented();
    try {
      const urls = pagesToShow();
      const { problems, showingPayloads } = await showAll(context, urls);
      expect(urls.length).toBeGreaterThan(25);
      // The payloads are there, as text.
      expect(showingPayloads).toBeGreaterThan(urls.length / 2);
      expect(problems).toEqual([]);
      expect(observed).toEqual({ ran: [], dialogs: [], errors: [], popups: [] });
    } finally {
      await context.close();
    }
  });

  test('no payload runs in the iframe embeds nor in the script widget on another site', async () => {
    const { context, observed } = await instrumented();
    try {
      const cards = embedsToShow();
      const { problems, showingPayloads } = await showAll(context, cards);
      expect(showingPayloads).toBe(cards.length);
      const page = await context.newPage();
      await page.goto(`${hostUrl}/`, { waitUntil: 'load' });
      // Every widget has its headlines (or its "none" note) once it is no longer busy.
      await expect.poll(() => page.evaluate(() => [...document.querySelectorAll('[data-herold-headlines]')]
        .every((element) => element.shadowRoot?.querySelector('section:not([aria-busy])')))).toBe(true);
      const links = await page.evaluate(() => [...document.getElementById('alle')!.shadowRoot!.querySelectorAll('a')].map((link) => link.textContent ?? ''));
      expect(links).toHaveLength(corpus.t.store.countReleases({ kind: 'all' }, corpus.t.now));
      expect(links.some((text) => text.includes('<script>__xss('))).toBe(true);
      for (const frame of page.frames()) problems.push(...await frame.evaluate(domProblems, heroldUrl));
      expect(cards).toHaveLength(CHUNKS.length + 2);
      expect(problems).toEqual([]);
      expect(observed).toEqual({ ran: [], dialogs: [], errors: [], popups: [] });
    } finally {
      await context.close();
    }
  });
});
