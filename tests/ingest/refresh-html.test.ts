import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import type { SourceConfig } from '../../src/config.js';
import type { HtmlSiteSettings } from '../../src/ingest/html-site.js';
import { refreshSource, stableGuid, type Progress } from '../../src/ingest/refresh.js';
import type { Contact, Media } from '../../src/model.js';
import { createTestApp, FIXTURES, type TestApp } from '../helpers/app.js';
import { expectMirrored, MIRRORED } from '../helpers/mirror.js';
import { KREIS, RATHAUS, SITE_ORIGINS } from '../helpers/sites.js';
import { startUpstream, status, truncated, type Handler, type Upstream } from '../helpers/upstream.js';

/*
 * The two fixture sites of tests/fixtures/sites, served from 127.0.0.1 and read by an `html` source each,
 * with the settings of tests/helpers/sites.ts. A new site with a different structure needs only a new configuration.
 */

/** Where the fixture pages believe they live; absolute links to these origins are rewritten to the fixture upstream. */
const ORIGINS = SITE_ORIGINS;
type SiteName = keyof typeof ORIGINS;

const SETTINGS: Record<SiteName, HtmlSiteSettings> = { rathaus: RATHAUS, kreis: KREIS };

/** The one page in ISO-8859-1 (declared by its meta tag). */
const LATIN1_PAGE = '/mitteilungen/2017-08-01-juelicher-strasse.html';

const PNG = readFileSync(path.join(FIXTURES, 'media', 'bild-ohne-endung'));
const JPEG = readFileSync(path.join(FIXTURES, 'sites', 'rathaus', 'bilder', 'juelicher-strasse.jpg'));
const PDF = readFileSync(path.join(FIXTURES, 'media', 'anlage.pdf'));

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.jpg': 'image/jpeg', '.pdf': 'application/pdf' };

/** A fixture site served over HTTP on 127.0.0.1, observed: every answer's status, and how many requests were in flight at most. */
interface Site {
  readonly name: SiteName;
  readonly upstream: Upstream;
  /** The origin, without a trailing slash. */
  readonly url: string;
  /** Every answer so far: path and status (304 for a conditional hit). */
  readonly answers: Array<{ path: string; status: number }>;
  readonly maxInFlight: number;
  /** Replaces a page's text as served (the Latin-1 page is edited as Latin-1 text and served as such). */
  edit(file: string, change: (html: string) => string): void;
  /** Serves a new page. */
  add(file: string, html: string): void;
  /** Answers a path with a custom handler (still observed). */
  set(file: string, handler: Handler): void;
  /** The page's text as served now. */
  text(file: string): string;
  hits(file: string): number;
}

const upstreams: Upstream[] = [];
const apps: TestApp[] = [];
afterEach(async () => {
  while (upstreams.length) await upstreams.pop()!.close();
  while (apps.length) {
    const t = apps.pop()!;
    t.close();
    rmSync(t.dir, { recursive: true, force: true });
  }
});

/** Every file under a folder, as URL paths ("/presse/index.html"). */
function filesUnder(root: string, prefix = ''): string[] {
  return readdirSync(path.join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${prefix}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(root, relative) : [relative];
  });
}

/** A file as a static route: an ETag from its bytes, 304 for a matching If-None-Match. */
function fileRoute(body: Buffer, type: string): Handler {
  const tag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  return (req, res) => {
    if (req.headers['if-none-match'] === tag) {
      res.writeHead(304, { etag: tag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': type, 'content-length': String(body.length), etag: tag }).end(body);
  };
}

/**
 * Serves tests/fixtures/sites/<name>/ at the root of a fresh upstream. Absolute links to the site's own origin
 * are rewritten to the upstream, so that nothing leaves 127.0.0.1. The ISO-8859-1 page is sent without a
 * charset in its Content-Type unless `latin1Header` asks for `charset=iso-8859-1`.
 */
async function serveSite(name: SiteName, options: { latin1Header?: boolean; delayMs?: number } = {}): Promise<Site> {
  const upstream = await startUpstream({});
  upstreams.push(upstream);
  const root = path.join(FIXTURES, 'sites', name);
  const answers: Array<{ path: string; status: number }> = [];
  const contents = new Map<string, Buffer>();
  let inFlight = 0;
  let maxInFlight = 0;
  const typeOf = (file: string) => file === LATIN1_PAGE
    ? (options.latin1Header ? 'text/html; charset=iso-8859-1' : 'text/html')
    : TYPES[path.extname(file)] ?? 'application/octet-stream';
  // Latin-1 maps every byte to one character and back: the rewrite keeps UTF-8 and ISO-8859-1 bytes alike.
  const rewrite = (bytes: Buffer) => Buffer.from(bytes.toString('latin1').replaceAll(ORIGINS[name], upstream.url), 'latin1');
  const observed = (file: string, handler: Handler): Handler => (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once('close', () => { inFlight--; });
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((code: number, ...rest: unknown[]) => {
      answers.push({ path: file, status: code });
      return writeHead(code, ...rest);
    }) as typeof res.writeHead;
    if (options.delayMs) setTimeout(() => handler(req, res), options.delayMs);
    else handler(req, res);
  };
  const serve = (file: string, bytes: Buffer) => {
    contents.set(file, bytes);
    upstream.set(file, observed(file, fileRoute(bytes, typeOf(file))));
  };
  const encoding = (file: string): BufferEncoding => (file === LATIN1_PAGE ? 'latin1' : 'utf8');
  for (const file of filesUnder(root)) {
    const bytes = readFileSync(path.join(root, file));
    serve(file, file.endsWith('.html') ? rewrite(bytes) : bytes);
  }
  return {
    name,
    upstream,
    url: upstream.url,
    answers,
    get maxInFlight() { return maxInFlight; },
    edit(file, change) {
      serve(file, Buffer.from(change(contents.get(file)!.toString(encoding(file))), encoding(file)));
    },
    add(file, html) {
      serve(file, Buffer.from(html, 'utf8'));
    },
    set(file, handler) {
      upstream.set(file, observed(file, handler));
    },
    text(file) {
      return contents.get(file)!.toString(encoding(file));
    },
    hits: (file) => upstream.hits(file),
  };
}

/** An `html` source reading the site with its settings, its listing on the fixture upstream. */
function htmlSource(id: string, site: Site, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const settings = SETTINGS[site.name];
  return { id, type: 'html', schedule: '0 * * * *', ...settings, listing_url: settings.listing_url.replace(ORIGINS[site.name], site.url), timeout_ms: 5000, ...extra };
}

/** A test app whose config file declares the given sources. */
function appWith(sources: Array<Record<string, unknown>>): TestApp {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-refresh-html-'));
  writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({ sources }));
  const t = createTestApp({ dir });
  apps.push(t);
  return t;
}

function deps(t: TestApp) {
  return { config: t.config, store: t.store, clock: () => t.now, log: (line: string) => t.logs.push(line) };
}

function source(t: TestApp, id: string): SourceConfig {
  return t.config.sources.find((candidate) => candidate.id === id)!;
}

/** The stored release of a page, by Herold's GUID for its URL on the fixture upstream. */
function stored(t: TestApp, sourceId: string, site: Site, file: string) {
  return t.store.releaseByGuid(stableGuid(sourceId, `${site.url}${file}`));
}

const PAGES = {
  serap: '/mitteilungen/2017-08-02-serap-gueler-zu-besuch.html',
  juelicher: LATIN1_PAGE,
  freibad: '/mitteilungen/2017-07-28-freibad-hitzeferien.html',
  bibliothek: '/mitteilungen/2017-07-20-stadtbibliothek-ferienprogramm.html',
  ratssitzung: '/mitteilungen/2017-07-14-ratssitzung.html',
  kreistag: '/presse/meldungen/kreistag-beschliesst-haushalt-2027.html',
  buslinie: '/presse/meldungen/neue-buslinie-gewerbegebiet.html',
  winterdienst: '/presse/meldungen/winterdienst-startet.html',
} as const;

const PRESSEAMT: Contact = {
  name: 'Jörg Müßig', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52999', city: 'Lindenau',
  phone: '02461/123-45', fax: '02461/123-46', email: 'presse@lindenau.example',
};
const KREISPRESSE: Contact = {
  name: 'Anna Beispiel', organisation: 'Kreis Lindenau', street: 'Kreishausstraße 1', postcode: '52998', city: 'Lindenau-Nord',
  phone: '02461 97-1020', fax: null, email: 'presse@kreis-lindenau.example',
};

/** What the probe must measure: the served bytes' real type and sizes, whatever the file name or Content-Type claim. */
const MEASURED = {
  png: { mime: 'image/png', bytes: PNG.length, width: 40, height: 30 },
  jpeg: { mime: 'image/jpeg', bytes: JPEG.length, width: 64, height: 48 },
  pdf: { mime: 'application/pdf', bytes: PDF.length, width: null, height: null },
  failed: { mime: null, bytes: null, width: null, height: null },
} as const;

/** A stored medium: a measured image is Herold's copy of `url` (mirrorImage); anything else keeps its URL. */
function media(url: string, measured: (typeof MEASURED)[keyof typeof MEASURED], fields: Partial<Media> = {}): Media {
  const copied = measured.mime?.startsWith('image/') ? (expect.stringMatching(MIRRORED) as unknown as string) : url;
  return { url: copied, title: null, alt: null, caption: null, credit: null, ...measured, ...fields };
}

describe('an html source: listing and back-fill', () => {
  test('a normal refresh reads only the first listing page: the releases linked there', async () => {
    const rathaus = await serveSite('rathaus');
    const kreis = await serveSite('kreis');
    const t = appWith([htmlSource('rathaus', rathaus), htmlSource('kreis', kreis)]);

    const first = await refreshSource(source(t, 'rathaus'), deps(t));
    expect(first).toMatchObject({ ok: true, new: 3, changed: 0, unchanged: 0, rejected: [], error: null });
    expect(first.outcomes.map((outcome) => outcome.ref)).toEqual(
      [PAGES.serap, PAGES.juelicher, PAGES.freibad].map((file) => `${rathaus.url}${file}`));
    expect(rathaus.hits('/seite-2.html')).toBe(0);
    expect(rathaus.hits(PAGES.bibliothek)).toBe(0);
    expect(stored(t, 'rathaus', rathaus, PAGES.ratssitzung)).toBeUndefined();

    const second = await refreshSource(source(t, 'kreis'), deps(t));
    expect(second).toMatchObject({ ok: true, new: 2, rejected: [] });
    expect(kreis.hits('/presse/seite-2.html')).toBe(0);
    expect(stored(t, 'kreis', kreis, PAGES.winterdienst)).toBeUndefined();
    // The listing names the Kreistag release twice (once with a fragment): fetched once.
    expect(kreis.hits(PAGES.kreistag)).toBe(1);
    expect(t.store.sourceState('rathaus')).toMatchObject({ lastNew: 3, runs: 1, errorCount: 0, lastError: null });
  });

  test('--backfill follows the next pages through the whole archive, reporting progress per page', async () => {
    const rathaus = await serveSite('rathaus');
    const kreis = await serveSite('kreis');
    const t = appWith([htmlSource('rathaus', rathaus), htmlSource('kreis', kreis)]);
    const events: Array<Parameters<Progress>[0]> = [];
    const progress: Progress = (event) => events.push(event);

    const report = await refreshSource(source(t, 'rathaus'), deps(t), { backfill: true, progress });
    expect(report).toMatchObject({ ok: true, new: 5, rejected: [] });
    expect(events).toEqual([
      { pages: 1, releases: 3, url: `${rathaus.url}/index.html` },
      { pages: 2, releases: 5, url: `${rathaus.url}/seite-2.html` },
    ]);
    for (const file of Object.values(PAGES).slice(0, 5)) expect(stored(t, 'rathaus', rathaus, file), file).toBeDefined();

    events.length = 0;
    const other = await refreshSource(source(t, 'kreis'), deps(t), { backfill: true, progress });
    expect(other).toMatchObject({ ok: true, new: 3, rejected: [] });
    expect(events.map((event) => [event.pages, event.releases])).toEqual([[1, 2], [2, 3]]);
    expect(stored(t, 'kreis', kreis, PAGES.winterdienst)!.title).toBe('Winterdienst startet');
  });
});

describe('an html source: what is stored', () => {
  test('both sites, different markup, one configuration each: titles, dates, contacts and measured media', async () => {
    const rathaus = await serveSite('rathaus');
    const kreis = await serveSite('kreis');
    const t = appWith([htmlSource('rathaus', rathaus), htmlSource('kreis', kreis, { topics: ['Kreis'] })]);
    expect(await refreshSource(source(t, 'rathaus'), deps(t), { backfill: true })).toMatchObject({ ok: true, new: 5 });
    expect(await refreshSource(source(t, 'kreis'), deps(t), { backfill: true })).toMatchObject({ ok: true, new: 3 });
    const R = rathaus.url;
    const K = kreis.url;

    const serap = stored(t, 'rathaus', rathaus, PAGES.serap)!;
    expect(serap).toMatchObject({
      sourceId: 'rathaus', sourceRef: `${R}${PAGES.serap}`, title: 'Serap Güler zu Besuch',
      subtitle: 'NRW-Staatssekretärin Güler besuchte das Kommunale Integrationszentrum',
      publishedAt: '2017-08-01T22:00:00.000Z', updatedAt: null, organisation: 'Stadt Lindenau',
      department: { name: 'Fachbereich Presse und Marketing' }, contact: PRESSEAMT, attachments: [],
    });
    // Served as image/jpeg under a .jpg name, but the bytes are a PNG: the probe measures the bytes.
    expect(serap.images).toEqual([media(`${R}/bilder/kommunales-Integrationszentrum_1.jpg`, MEASURED.png, {
      caption: 'Serap Güler (Mitte) mit Rolf Frankenberger und Sevim Dogan', credit: '© Stadt Lindenau / Jörg Müßig',
    })]);
    expect(serap.bodyText).toMatch(/^Zum Auftakt ihrer Sommertour/);
    expect(serap.bodyText).not.toMatch(/Inhalt|Twitter|Herausgegeben|Müßig/);

    const juelicher = stored(t, 'rathaus', rathaus, PAGES.juelicher)!;
    expect(juelicher).toMatchObject({ title: 'Sanierung der Jülicher Straße beginnt', publishedAt: '2017-07-31T22:00:00.000Z', contact: PRESSEAMT });
    expect(juelicher.images).toEqual([media(`${R}/bilder/juelicher-strasse.jpg`, MEASURED.jpeg, {
      alt: 'Baustelle an der Jülicher Straße, Höhe Grünfläche', caption: 'Die Bauarbeiten beginnen am Kreisverkehr.',
      credit: '© Stadt Lindenau / Jörg Müßig',
    })]);

    expect(stored(t, 'rathaus', rathaus, PAGES.freibad)).toMatchObject({
      title: 'Freibad öffnet an Hitzetagen länger & „Mondscheinschwimmen“ am Freitag', subtitle: 'Bis 21 Uhr schwimmen',
      publishedAt: '2017-07-27T22:00:00.000Z', department: { name: 'Fachbereich Sport' }, images: [],
      contact: { name: null, phone: '02461/123-70', email: null },
    });

    // bilder/bibliothek.jpg answers 404: the failed probe is stored with the image, the release is not failed.
    const bibliothek = stored(t, 'rathaus', rathaus, PAGES.bibliothek)!;
    expect(bibliothek).toMatchObject({ title: 'Ferienprogramm der Stadtbibliothek', publishedAt: '2017-07-19T22:00:00.000Z',
      department: { name: 'Fachbereich Kultur' }, contact: { name: 'Anna von der Heide', email: 'bibliothek@lindenau.example' } });
    expect(bibliothek.images).toEqual([media(`${R}/bilder/bibliothek.jpg`, MEASURED.failed, {
      alt: 'Kinder lesen in der Stadtbibliothek', caption: 'Im Lesesommer ist die Kinderbibliothek gut besucht.', credit: '© Stadt Lindenau',
    })]);
    expect(bibliothek.attachments).toEqual([media(`${R}/dokumente/ferienprogramm-2017.pdf`, MEASURED.pdf, { title: 'Programmheft (PDF)' })]);
    expect(t.logs).toContainEqual(expect.stringMatching(new RegExp(`source rathaus: probe of ${R}/bilder/bibliothek\\.jpg failed: .*HTTP 404`)));

    expect(stored(t, 'rathaus', rathaus, PAGES.ratssitzung)).toMatchObject({
      title: 'Rat beschließt Radverkehrskonzept', publishedAt: '2017-07-14T13:30:00.000Z',
      contact: { name: 'Eva Muster', email: 'eva.muster@lindenau.example' },
      images: [media(`${R}/bilder/radweg.jpg`, MEASURED.jpeg, {
        alt: 'Ein neuer Radweg an der Jülicher Straße', caption: 'Der erste Abschnitt ist schon fertig.', credit: '© Stadt Lindenau / Eva Muster',
      })],
    });

    const kreistag = stored(t, 'kreis', kreis, PAGES.kreistag)!;
    expect(kreistag).toMatchObject({
      sourceRef: `${K}${PAGES.kreistag}`, title: 'Kreistag beschließt Haushalt 2027', subtitle: 'Investitionen in Schulen und Radwege',
      publishedAt: '2026-11-14T09:00:00.000Z', organisation: 'Kreis Lindenau',
      department: { name: 'Amt für Presse- und Öffentlichkeitsarbeit' }, contact: KREISPRESSE,
    });
    // The source's topics first, then the page's, each once.
    expect(kreistag.topics.map((topic) => topic.name)).toEqual(['Kreis', 'Finanzen', 'Kreistag']);
    expect(kreistag.images).toEqual([media(`${K}/fileadmin/bilder/presse/kreistag-sitzung.jpg`, MEASURED.jpeg, {
      alt: 'Der Kreistag im Sitzungssaal des Kreishauses', caption: 'Der Kreistag bei der Abstimmung am Freitag.',
      credit: 'Foto: Kreis Lindenau / Anna Beispiel',
    })]);
    expect(kreistag.attachments).toEqual([media(`${K}/files/haushaltsplan-2027.pdf`, MEASURED.pdf, { title: 'Haushaltsplan 2027 (PDF, 2 MB)' })]);

    const bus = stored(t, 'kreis', kreis, PAGES.buslinie)!;
    expect(bus).toMatchObject({ title: 'Neue Buslinie ins GE Nord ab 1. September', publishedAt: '2017-08-01T22:00:00.000Z', contact: KREISPRESSE });
    expect(bus.images).toEqual([media(`${K}/fileadmin/bilder/presse/bus-42-1200.jpg`, MEASURED.png, {
      alt: 'Ein Bus der Linie 42', caption: 'Die Linie 42 am Bahnhof Lindenau.', credit: 'Foto: Verkehrsverbund Lindenau',
    })]);

    expect(stored(t, 'kreis', kreis, PAGES.winterdienst)).toMatchObject({
      title: 'Winterdienst startet', subtitle: null, publishedAt: '2026-10-29T23:00:00.000Z', department: { name: 'Straßenverkehrsamt' },
      attachments: [media(`${K}/files/streuplan-2026.pdf`, MEASURED.pdf, { title: 'Streuplan 2026/27' })],
    });

    // Each file was asked for once, whatever the number of releases showing it.
    for (const file of ['/bilder/kommunales-Integrationszentrum_1.jpg', '/bilder/bibliothek.jpg', '/dokumente/ferienprogramm-2017.pdf']) {
      expect(rathaus.hits(file), file).toBe(1);
    }
    const feed = JSON.parse((await request(t.app).get('/feeds/all.json').expect(200)).text) as { items: Array<{ id: string; title: string }> };
    expect(feed.items.map((item) => item.title)).toEqual(expect.arrayContaining(['Kreistag beschließt Haushalt 2027', 'Serap Güler zu Besuch']));
    expect(feed.items).toHaveLength(8);
  });

  test.each([
    ['without a charset in the Content-Type (the meta tag decides)', false],
    ['with Content-Type charset=iso-8859-1', true],
  ])('the ISO-8859-1 page %s keeps its umlauts', async (_name, latin1Header) => {
    const rathaus = await serveSite('rathaus', { latin1Header });
    const t = appWith([htmlSource('rathaus', rathaus)]);
    expect(rathaus.text(LATIN1_PAGE)).toContain('<meta charset="iso-8859-1">');
    expect(await refreshSource(source(t, 'rathaus'), deps(t))).toMatchObject({ ok: true, new: 3 });
    const release = stored(t, 'rathaus', rathaus, LATIN1_PAGE)!;
    expect(release.title).toBe('Sanierung der Jülicher Straße beginnt');
    expect(release.subtitle).toBe('Ab Montag gilt eine neue Verkehrsführung für Fußgänger, Radfahrer und Autofahrer');
    expect(release.bodyText).toContain('„Wir bitten die Anwohnerinnen und Anwohner um Verständnis“, sagt Baudezernentin Dr. Gülay Öztürk.');
    expect(release.bodyText).toContain('1,2 Mio. €');
    expect(release.images[0]!.alt).toBe('Baustelle an der Jülicher Straße, Höhe Grünfläche');
    expect(JSON.stringify(release)).not.toMatch(/\uFFFD|Ã¼|Ã¶/);
  });

  test('the body is sanitized once, at ingest: no script, no event handler, no javascript: URL; links are absolute', async () => {
    const rathaus = await serveSite('rathaus');
    rathaus.edit(PAGES.serap, (html) => html.replace('<script>', '<p onclick="steal()">Klick <a href="javascript:alert(1)">hier</a>, '
      + '<a href="../themen/verkehr.html" onmouseover="track()">relativ</a> und <a href="//cdn.lindenau.example/plan.html">protokollrelativ</a>'
      + '<img src="../bilder/radweg.jpg" onerror="boom()" alt="Radweg"></p><iframe src="https://evil.example/"></iframe><script>'));
    const t = appWith([htmlSource('rathaus', rathaus)]);
    expect(await refreshSource(source(t, 'rathaus'), deps(t))).toMatchObject({ ok: true, new: 3 });
    for (const file of [PAGES.serap, PAGES.juelicher, PAGES.freibad]) {
      const { bodyHtml } = stored(t, 'rathaus', rathaus, file)!;
      expect(bodyHtml, file).not.toMatch(/<script|<iframe|<style|\son\w+=|javascript:|window\.stadt/i);
      const urls = [...bodyHtml.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((match) => match[1]!);
      expect(urls.length, file).toBeGreaterThan(0);
      // Links are absolute; images are Herold's copies, so that pages load nothing from elsewhere.
      for (const url of urls) expect(url, `${file}: ${url}`).toMatch(/^(https?:\/\/[^/]+\/|\/media\/remote\/[0-9a-f]{32}\.\w+$)/);
    }
    const { bodyHtml } = stored(t, 'rathaus', rathaus, PAGES.serap)!;
    expect(bodyHtml).toContain(`<a href="${rathaus.url}/themen/verkehr.html">relativ</a>`);
    const copy = /<img src="([^"]+)" alt="Radweg"/.exec(bodyHtml)![1]!;
    expectMirrored(t.config, copy, readFileSync(path.join(FIXTURES, 'sites', 'rathaus', 'bilder', 'radweg.jpg')));
    // Feeds carry absolute URLs: the copy is resolved against Herold's base URL there.
    const feed = await request(t.app).get('/feeds/all.rss').expect(200);
    expect(feed.text).toContain(`<img src="${t.config.baseUrl}${copy}" alt="Radweg"`);
    expect(feed.text).not.toMatch(/src="\/media/);
    expect(bodyHtml).toContain('Klick <a>hier</a>');
    expect(bodyHtml).toContain('href="http://cdn.lindenau.example/plan.html"');
  });
});

describe('an html source: refreshing again', () => {
  test('a second refresh of an unchanged site asks conditionally and writes nothing', async () => {
    const rathaus = await serveSite('rathaus');
    const t = appWith([htmlSource('rathaus', rathaus)]);
    await refreshSource(source(t, 'rathaus'), deps(t));
    const files = [PAGES.serap, PAGES.juelicher, PAGES.freibad];
    const before = files.map((file) => stored(t, 'rathaus', rathaus, file)!);
    const generation = t.store.generation();
    const imageHits = rathaus.hits('/bilder/juelicher-strasse.jpg');
    expect(imageHits).toBe(1);
    rathaus.answers.length = 0;

    t.now = new Date('2026-11-25T13:00:00Z');
    const again = await refreshSource(source(t, 'rathaus'), deps(t));
    expect(again).toMatchObject({ ok: true, new: 0, changed: 0, unchanged: 3, rejected: [], requests: 4 });
    // The listing answered 304; the stored releases' pages were asked again conditionally and answered 304; no image probed again.
    expect(rathaus.answers[0]).toEqual({ path: '/index.html', status: 304 });
    expect(rathaus.answers.slice(1).map((answer) => answer.status)).toEqual([304, 304, 304]);
    expect(rathaus.answers.slice(1).map((answer) => answer.path).sort()).toEqual([...files].sort());
    expect(t.store.generation()).toBe(generation);
    expect(files.map((file) => stored(t, 'rathaus', rathaus, file))).toEqual(before);
    expect(before.map((release) => t.store.revisionsOf(release.id))).toEqual([[], [], []]);
    expect(t.store.sourceState('rathaus')).toMatchObject({ runs: 2, lastNew: 0, lastChanged: 0, lastSuccessAt: t.now.toISOString() });
  });

  test('a second back-fill of an unchanged site: every release page answers 304, nothing is written or probed', async () => {
    const rathaus = await serveSite('rathaus');
    const t = appWith([htmlSource('rathaus', rathaus)]);
    await refreshSource(source(t, 'rathaus'), deps(t), { backfill: true });
    const generation = t.store.generation();
    const before = Object.values(PAGES).slice(0, 5).map((file) => stored(t, 'rathaus', rathaus, file)!);
    rathaus.answers.length = 0;

    const again = await refreshSource(source(t, 'rathaus'), deps(t), { backfill: true });
    expect(again).toMatchObject({ ok: true, new: 0, changed: 0, unchanged: 5, rejected: [] });
    const releasePages = rathaus.answers.filter((answer) => answer.path.startsWith('/mitteilungen/'));
    expect(releasePages).toHaveLength(5);
    expect(releasePages.every((answer) => answer.status === 304)).toBe(true);
    expect(rathaus.answers.filter((answer) => answer.path.startsWith('/bilder/') || answer.path.startsWith('/dokumente/'))).toEqual([]);
    expect(t.store.generation()).toBe(generation);
    expect(before.map((release) => t.store.releaseByGuid(release.guid))).toEqual(before);
  });

  test('a release corrected upstream is updated in place: same GUID and id, new updated time, a revision', async () => {
    const rathaus = await serveSite('rathaus');
    const t = appWith([htmlSource('rathaus', rathaus)]);
    await refreshSource(source(t, 'rathaus'), deps(t));
    const original = stored(t, 'rathaus', rathaus, PAGES.serap)!;

    // The office corrects the release and, a day later, publishes another one: the listing changes too.
    rathaus.edit(PAGES.serap, (html) => html.replace('heute (2. August)', 'am Mittwoch (2. August)'));
    rathaus.add('/mitteilungen/2017-08-03-neu.html', rathaus.text(PAGES.freibad)
      .replace(/<h1>.*<\/h1>/, '<h1>Neue Mitteilung</h1>').replace('28.07.2017', '03.08.2017'));
    rathaus.edit('/index.html', (html) => html.replace('<div class="liste">',
      '<div class="liste">\n<div class="eintrag"><h2><a href="mitteilungen/2017-08-03-neu.html">Neue Mitteilung</a></h2></div>'));
    t.now = new Date('2026-11-26T09:00:00Z');
    const report = await refreshSource(source(t, 'rathaus'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 1, changed: 1, unchanged: 2, rejected: [] });
    expect(report.outcomes).toContainEqual({ ref: `${rathaus.url}${PAGES.serap}`, outcome: 'changed' });

    const updated = stored(t, 'rathaus', rathaus, PAGES.serap)!;
    expect(updated.guid).toBe(original.guid);
    expect(updated.id).toBe(original.id);
    expect(updated.slug).toBe(original.slug);
    expect(updated.bodyText).toContain('am Mittwoch (2. August)');
    expect(updated.updatedAt).toBe('2026-11-26T09:00:00.000Z');
    expect(updated.publishedAt).toBe(original.publishedAt);
    expect(t.store.revisionsOf(original.id).map((revision) => revision.previous)).toEqual([{ bodyHtml: original.bodyHtml }]);
    // The unchanged pages answered 304 and were not parsed or written.
    expect(stored(t, 'rathaus', rathaus, PAGES.freibad)!.updatedAt).toBeNull();
    const feed = JSON.parse((await request(t.app).get('/feeds/all.json').expect(200)).text) as { items: Array<{ id: string; date_modified?: string }> };
    expect(Date.parse(feed.items.find((item) => item.id === original.guid)!.date_modified!)).toBe(Date.parse('2026-11-26T09:00:00Z'));
  });

  test('a correction on a release page alone, while the listing answers 304, is picked up', async () => {
    const rathaus = await serveSite('rathaus');
    const t = appWith([htmlSource('rathaus', rathaus)]);
    await refreshSource(source(t, 'rathaus'), deps(t));
    rathaus.edit(PAGES.serap, (html) => html.replace('heute (2. August)', 'am Mittwoch (2. August)'));
    const report = await refreshSource(source(t, 'rathaus'), deps(t));
    expect(report).toMatchObject({ ok: true, changed: 1 });
  });

  test('a release that dropped off the listing stays stored, unchanged and in the feeds', async () => {
    const rathaus = await serveSite('rathaus');
    const t = appWith([htmlSource('rathaus', rathaus)]);
    await refreshSource(source(t, 'rathaus'), deps(t));
    const freibad = stored(t, 'rathaus', rathaus, PAGES.freibad)!;

    rathaus.edit('/index.html', (html) => html.replace(/<div class="eintrag">\s*<h2><a href="mitteilungen\/2017-07-28[\s\S]*?<\/div>/, ''));
    expect(rathaus.text('/index.html')).not.toContain('freibad');
    const hits = rathaus.hits(PAGES.freibad);
    const report = await refreshSource(source(t, 'rathaus'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 0, changed: 0, unchanged: 2 });
    expect(rathaus.hits(PAGES.freibad)).toBe(hits);
    expect(stored(t, 'rathaus', rathaus, PAGES.freibad)).toEqual(freibad);
    const feed = JSON.parse((await request(t.app).get('/feeds/all.json').expect(200)).text) as { items: Array<{ id: string }> };
    expect(feed.items.map((item) => item.id)).toContain(freibad.guid);
  });

  test('an image shown by two releases of one run is probed once', async () => {
    const rathaus = await serveSite('rathaus');
    rathaus.edit(PAGES.freibad, (html) => html.replace('<div class="share">',
      '<figure class="bild"><img src="../bilder/juelicher-strasse.jpg" alt="Das Freibad"><figcaption>Am Weiher.</figcaption></figure>\n<div class="share">'));
    const t = appWith([htmlSource('rathaus', rathaus)]);
    expect(await refreshSource(source(t, 'rathaus'), deps(t))).toMatchObject({ ok: true, new: 3 });
    expect(stored(t, 'rathaus', rathaus, PAGES.freibad)!.images).toEqual([
      media(`${rathaus.url}/bilder/juelicher-strasse.jpg`, MEASURED.jpeg, { alt: 'Das Freibad', caption: 'Am Weiher.' }),
    ]);
    expect(stored(t, 'rathaus', rathaus, PAGES.juelicher)!.images[0]).toMatchObject(MEASURED.jpeg);
    expect(rathaus.hits('/bilder/juelicher-strasse.jpg')).toBe(1);
  });
});

describe('an html source: failures', () => {
  const brokenPages: Array<[string, (site: Site) => void, RegExp]> = [
    ['answering 500', (site) => site.set(PAGES.juelicher, status(500)), /HTTP 500/],
    ['truncated HTML (the document ends before its date)', (site) => site.edit(PAGES.juelicher,
      (html) => html.slice(0, html.indexOf('<div class="herausgeber">'))), /no date/],
  ];

  test.each(brokenPages)('one release page %s: that page is rejected naming its URL, the others are stored, the run is ok', async (_name, breakPage, reason) => {
    const rathaus = await serveSite('rathaus');
    breakPage(rathaus);
    const t = appWith([htmlSource('rathaus', rathaus)]);
    const url = `${rathaus.url}${PAGES.juelicher}`;
    const report = await refreshSource(source(t, 'rathaus'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 2, error: null });
    expect(report.rejected).toEqual([{ ref: url, reason: expect.stringMatching(reason) }]);
    expect(report.rejected[0]!.reason).toContain(url);
    expect(t.logs).toContainEqual(expect.stringMatching(new RegExp(`^refresh: source rathaus: .*${url.replace(/[.]/g, '\\.')}.*`)));
    expect(stored(t, 'rathaus', rathaus, PAGES.serap)).toBeDefined();
    expect(stored(t, 'rathaus', rathaus, PAGES.freibad)).toBeDefined();
    expect(stored(t, 'rathaus', rathaus, PAGES.juelicher)).toBeUndefined();
    expect(t.store.sourceState('rathaus')).toMatchObject({ lastNew: 2, lastRejected: 1, errorCount: 0, lastError: null });
  });

  test.each(brokenPages)('a release page %s is asked for again on the next refresh, though the listing did not change', async (_name, breakPage) => {
    const rathaus = await serveSite('rathaus');
    const original = rathaus.text(PAGES.juelicher);
    breakPage(rathaus);
    const t = appWith([htmlSource('rathaus', rathaus)]);
    expect((await refreshSource(source(t, 'rathaus'), deps(t))).rejected).toHaveLength(1);

    // The upstream recovers; its listing is the same as before.
    rathaus.edit(PAGES.juelicher, () => original);
    const report = await refreshSource(source(t, 'rathaus'), deps(t));
    expect(report).toMatchObject({ ok: true, new: 1, rejected: [] });
    expect(stored(t, 'rathaus', rathaus, PAGES.juelicher)!.title).toBe('Sanierung der Jülicher Straße beginnt');
  });

  const brokenListings: Array<[string, (site: Site) => void, RegExp]> = [
    ['answering 500', (site) => site.set('/index.html', status(500)), /HTTP 500/],
    ['cut off in transfer', (site) => site.set('/index.html', truncated(site.text('/index.html'))), /body incomplete/],
    ['replaced by a page without release links', (site) => site.edit('/index.html',
      () => '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Wartung</title></head><body><p>Wartungsarbeiten</p></body></html>'),
    /link_selector/],
  ];

  test.each(brokenListings)('the listing %s: the run fails naming source and listing URL; nothing stored is lost', async (_name, breakListing, pattern) => {
    const rathaus = await serveSite('rathaus');
    const t = appWith([htmlSource('rathaus', rathaus)]);
    await refreshSource(source(t, 'rathaus'), deps(t));
    const before = [PAGES.serap, PAGES.juelicher, PAGES.freibad].map((file) => stored(t, 'rathaus', rathaus, file)!);

    breakListing(rathaus);
    t.now = new Date('2026-11-25T13:00:00Z');
    const report = await refreshSource(source(t, 'rathaus'), deps(t));
    expect(report).toMatchObject({ ok: false, new: 0, changed: 0 });
    expect(report.error).toMatch(pattern);
    expect(report.error).toContain('source rathaus');
    expect(report.error).toContain(`${rathaus.url}/index.html`);
    expect(t.logs).toContainEqual(expect.stringContaining(`source rathaus`));
    expect(t.logs.some((line) => line.includes('source rathaus') && line.includes(`${rathaus.url}/index.html`))).toBe(true);
    expect(t.store.sourceState('rathaus')).toMatchObject({ errorCount: 1, consecutiveErrors: 1, lastError: report.error, lastErrorAt: t.now.toISOString(), runningUntil: null });
    expect(before.map((release) => t.store.releaseByGuid(release.guid))).toEqual(before);
    const feed = JSON.parse((await request(t.app).get('/feeds/all.json').expect(200)).text) as { items: Array<{ id: string }> };
    expect(feed.items.map((item) => item.id)).toEqual(expect.arrayContaining(before.map((release) => release.guid)));
  });
});

describe('an html source: politeness', () => {
  test('at most 4 requests to the upstream are in flight at once, and more than one is', async () => {
    const rathaus = await serveSite('rathaus', { delayMs: 60 });
    // A listing of twelve release pages.
    const copies = Array.from({ length: 12 }, (_, index) => `/mitteilungen/kopie-${index + 1}.html`);
    for (const [index, file] of copies.entries()) {
      rathaus.add(file, rathaus.text(PAGES.freibad).replace(/<h1>.*<\/h1>/, `<h1>Kopie ${index + 1}</h1>`));
    }
    rathaus.edit('/index.html', (html) => html.replace(/<div class="liste">[\s\S]*?<p class="hinweis">/,
      `<div class="liste">${copies.map((file) => `<h2><a href="${file.slice(1)}">x</a></h2>`).join('\n')}<p class="hinweis">`));
    const t = appWith([htmlSource('rathaus', rathaus)]);
    const report = await refreshSource(source(t, 'rathaus'), deps(t), { backfill: true });
    expect(report).toMatchObject({ ok: true, new: 14, rejected: [] });
    expect(rathaus.answers.filter((answer) => answer.path.startsWith('/mitteilungen/'))).toHaveLength(14);
    expect(rathaus.maxInFlight).toBeLessThanOrEqual(4);
    expect(rathaus.maxInFlight).toBeGreaterThan(1);
  });
});
