import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import { DomUtils, parseDocument } from 'htmlparser2';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Release } from '../../src/model.js';
import { releaseMeta } from '../../src/pages/release-meta.js';
import { excerpt } from '../../src/text.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { input, longBody, nastyReleases } from '../helpers/fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SITE = 'Pressestelle Stadt Lindenau';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A test app whose media folder holds the real default share image; `file` becomes data/herold.json. */
function setup(file?: object): TestApp {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-meta-'));
  mkdirSync(path.join(dir, 'media'));
  copyFileSync(path.join(ROOT, 'data/media/share-default.png'), path.join(dir, 'media/share-default.png'));
  if (file) writeFileSync(path.join(dir, 'herold.json'), JSON.stringify(file));
  const t = createTestApp({ dir });
  cleanups.push(() => {
    t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return t;
}

async function seeded(file?: object): Promise<TestApp> {
  const t = setup(file);
  t.store.upsertReleases(await nastyReleases(), { now: new Date('2026-11-21T00:00:00Z') });
  return t;
}

async function page(t: TestApp, release: Release): Promise<string> {
  const res = await request(t.app).get(`/releases/${release.slug}`).expect(200);
  return res.text;
}

/** Every `<meta property>` and `<meta name>` as [key, content] pairs, in document order, read by cheerio. */
function metaPairs(html: string, attribute: 'property' | 'name'): Array<[string, string]> {
  const $ = cheerio.load(html);
  return $(`head meta[${attribute}]`).toArray().map((element) => [$(element).attr(attribute)!, $(element).attr('content')!]);
}

/** The JSON-LD blocks, read by htmlparser2 (a second, independent reader) and JSON.parse. */
function jsonLd(html: string): Array<Record<string, any>> {
  const doc = parseDocument(html);
  return DomUtils.findAll((element) => element.name === 'script' && element.attribs.type === 'application/ld+json', doc.children)
    .map((element) => JSON.parse(DomUtils.textContent(element)) as Record<string, any>);
}

function byGuid(t: TestApp, guid: string): Release {
  return t.store.releaseByGuid(guid)!;
}

describe('release share metadata, read back from the served page', () => {
  test('Open Graph and article tags carry the release: title, description, url, measured image, section, tags', async () => {
    const t = await seeded();
    const release = byGuid(t, 'tag:lindenau.example,2026:nasty-1');
    const html = await page(t, release);
    const canonical = `${BASE_URL}/releases/${release.slug}`;
    const image = release.images[0]!;
    expect(metaPairs(html, 'property')).toEqual([
      ['og:type', 'article'],
      ['og:title', release.title],
      ['og:description', excerpt(release.subtitle!, 200)],
      ['og:url', canonical],
      ['og:image', `${BASE_URL}${image.url}`],
      ['og:image:type', image.mime],
      ['og:image:width', String(image.width)],
      ['og:image:height', String(image.height)],
      ['og:image:alt', image.alt],
      ['og:site_name', SITE],
      ['og:locale', 'de_DE'],
      ['article:published_time', release.publishedAt],
      ['article:modified_time', release.publishedAt],
      ['article:section', 'Fachbereich Mobilität und Verkehr'],
      ['article:tag', 'Verkehr'],
      ['article:tag', 'Straßenbau'],
    ]);
    expect(release.title).toBe('Tempo <30 & „Ruhe“ für die Jülicher Straße 🚲 ]]> und ]]> zweimal');
    const $ = cheerio.load(html);
    expect($('head title').text()).toBe(`${release.title} – ${SITE}`);
    expect($('head meta[name="description"]').attr('content')).toBe('Anwohner fragen: "Wann?" – \'Bald\' & <sicher>');
    expect($('head link[rel="canonical"]').attr('href')).toBe(canonical);
  });

  test('a Twitter large-image card with the same title, description, image and alt', async () => {
    const t = await seeded();
    const release = byGuid(t, 'tag:lindenau.example,2026:nasty-1');
    const pairs = metaPairs(await page(t, release), 'name');
    expect(pairs.filter(([key]) => key.startsWith('twitter:'))).toEqual([
      ['twitter:card', 'summary_large_image'],
      ['twitter:title', release.title],
      ['twitter:description', release.subtitle!.replace(/\s+/g, ' ')],
      ['twitter:image', `${BASE_URL}/media/bild-ohne-endung`],
      ['twitter:image:alt', 'Ein Farbverlauf in Blau & Grün'],
    ]);
  });

  test('without an image of its own: the site share image, measured from the file (1200×630 PNG), and a summary card', async () => {
    const t = await seeded();
    const release = byGuid(t, 'urn:uuid:6f1c1d0e-8d0c-4a7e-9a53-0d7c1b2e3f40');
    const html = await page(t, release);
    const og = new Map(metaPairs(html, 'property'));
    expect(og.get('og:image')).toBe(`${BASE_URL}/media/share-default.png`);
    expect(og.get('og:image:width')).toBe('1200');
    expect(og.get('og:image:height')).toBe('630');
    expect(og.get('og:image:type')).toBe('image/png');
    expect(og.get('og:image:alt')).toBe(SITE);
    expect(og.get('og:description')).toBe('Geänderte Zeiten vom 24. Dezember bis 2. Januar');
    const twitter = new Map(metaPairs(html, 'name'));
    expect(twitter.get('twitter:card')).toBe('summary');
    expect(twitter.get('twitter:image')).toBe(`${BASE_URL}/media/share-default.png`);
    expect(jsonLd(html)[0]!.image).toEqual({ '@type': 'ImageObject', url: `${BASE_URL}/media/share-default.png`, width: 1200, height: 630 });
  });

  test('an image that is only a stored file name is no share image', async () => {
    const t = setup();
    t.store.upsertReleases([input({
      guid: 'g-bare', title: 'Besuch im Integrationszentrum', publishedAt: '2017-08-01T22:00:00Z',
      images: [{ url: 'kommunales-Integrationszentrum_1', title: null, alt: 'Gruppenbild', caption: null, credit: null, width: null, height: null, mime: null, bytes: null }],
    })]);
    const html = await page(t, byGuid(t, 'g-bare'));
    expect(new Map(metaPairs(html, 'property')).get('og:image')).toBe(`${BASE_URL}/media/share-default.png`);
    expect(cheerio.load(html)('main img')).toHaveLength(0);
  });

  test('the description is the start of the text (at most 200 characters) when there is no subtitle', async () => {
    const t = await seeded();
    const release = byGuid(t, 'tag:lindenau.example,2026:long-1');
    const html = await page(t, release);
    const description = cheerio.load(html)('head meta[name="description"]').attr('content')!;
    expect(description).toBe(excerpt(release.bodyText, 200));
    expect(description.length).toBeLessThanOrEqual(200);
    expect(description.endsWith('…')).toBe(true);
    expect(new Map(metaPairs(html, 'property')).get('og:description')).toBe(description);
    expect(jsonLd(html)[0]!.description).toBe(description);
  });

  test('twitter:site when the site has an account', async () => {
    const t = await seeded({ site: { twitter_site: '@lindenau' } });
    const html = await page(t, byGuid(t, 'tag:lindenau.example,2026:nasty-1'));
    expect(new Map(metaPairs(html, 'name')).get('twitter:site')).toBe('@lindenau');
  });

  test('JSON-LD NewsArticle: headline, image object, dates, the organisation as author and publisher, section, keywords', async () => {
    const t = await seeded();
    const release = byGuid(t, 'tag:lindenau.example,2026:nasty-1');
    const html = await page(t, release);
    const blocks = jsonLd(html);
    expect(blocks).toHaveLength(1);
    const canonical = `${BASE_URL}/releases/${release.slug}`;
    const organisation = {
      '@type': 'GovernmentOrganization',
      name: 'Stadt Lindenau',
      url: `${BASE_URL}/`,
      department: { '@type': 'GovernmentOrganization', name: 'Fachbereich Mobilität und Verkehr', url: `${BASE_URL}/departments/fachbereich-mobilitaet-und-verkehr` },
    };
    expect(blocks[0]).toEqual({
      '@context': 'https://schema.org',
      '@type': 'NewsArticle',
      headline: release.title,
      description: excerpt(release.subtitle!, 200),
      url: canonical,
      mainEntityOfPage: { '@type': 'WebPage', '@id': canonical },
      image: {
        '@type': 'ImageObject',
        url: `${BASE_URL}/media/bild-ohne-endung`,
        width: 40,
        height: 30,
        caption: 'Die „neue“ Straße <bald> fertig',
        creditText: '© Stadt Lindenau / Jörg Müßig',
        copyrightNotice: '© Stadt Lindenau / Jörg Müßig',
      },
      datePublished: '2026-11-20T09:30:00.000Z',
      dateModified: '2026-11-20T09:30:00.000Z',
      author: organisation,
      publisher: { ...organisation, logo: { '@type': 'ImageObject', url: `${BASE_URL}/media/logo.png` } },
      inLanguage: 'de',
      articleSection: 'Fachbereich Mobilität und Verkehr',
      keywords: ['Verkehr', 'Straßenbau'],
    });
  });

  test('oEmbed discovery names the canonical URL, encoded', async () => {
    const t = await seeded();
    const release = byGuid(t, 'tag:lindenau.example,2026:nasty-1');
    const $ = cheerio.load(await page(t, release));
    const link = $('head link[rel="alternate"][type="application/json+oembed"]');
    expect(link).toHaveLength(1);
    const href = new URL(link.attr('href')!);
    expect(`${href.origin}${href.pathname}`).toBe(`${BASE_URL}/oembed`);
    expect(href.searchParams.get('url')).toBe(`${BASE_URL}/releases/${release.slug}`);
    expect(href.searchParams.get('format')).toBe('json');
    expect(link.attr('title')).toBe(release.title);
  });

  test('a correction: article:modified_time and dateModified become the correction time', async () => {
    const t = await seeded();
    const [first] = await nastyReleases();
    t.store.upsertReleases([{ ...first!, bodyHtml: '<p>Korrigierter Text.</p>', bodyText: 'Korrigierter Text.' }],
      { now: new Date('2026-11-22T08:15:00Z'), note: 'Text berichtigt' });
    const release = byGuid(t, 'tag:lindenau.example,2026:nasty-1');
    expect(release.updatedAt).toBe('2026-11-22T08:15:00.000Z');
    const html = await page(t, release);
    const og = new Map(metaPairs(html, 'property'));
    expect(og.get('article:published_time')).toBe('2026-11-20T09:30:00.000Z');
    expect(og.get('article:modified_time')).toBe('2026-11-22T08:15:00.000Z');
    expect(jsonLd(html)[0]!.dateModified).toBe('2026-11-22T08:15:00.000Z');
  });
});

describe('escaping: markup characters in a title survive every reader exactly', () => {
  const TITLE = `Er sagte "Tempo <30" & 'Ruhe' </script><script>alert(1)</script> <!-- und --> ]]>`;

  test('attributes round-trip through cheerio, the JSON-LD through htmlparser2 and JSON.parse, and nothing closes the script', async () => {
    const t = setup();
    t.store.upsertReleases([input({
      guid: 'g-escape', title: TITLE, subtitle: `Untertitel mit "Anführung" & </script>`, publishedAt: '2026-11-20T09:30:00Z',
      topics: ['A & B <c>'], department: `Amt für "Zitate"`,
      images: [{ url: 'https://bilder.example/foto.jpg?a=1&b=2', title: null, alt: `Alt "mit" <Zeichen> & '`, caption: '</script>', credit: '© "X"', width: 800, height: 600, mime: 'image/jpeg', bytes: 1000 }],
    })]);
    const release = byGuid(t, 'g-escape');
    const res = await request(t.app).get(`/releases/${release.slug}`).expect(200);
    const html = res.text;

    const scriptTexts = [...html.matchAll(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
    expect(scriptTexts).toHaveLength(1);
    expect(scriptTexts[0]).not.toMatch(/<\/script/i);
    expect(scriptTexts[0]).not.toContain('<');
    const [data] = jsonLd(html);
    expect(data!.headline).toBe(TITLE);
    expect(data!.description).toBe(`Untertitel mit "Anführung" & </script>`);
    expect(data!.image.caption).toBe('</script>');
    expect(data!.image.url).toBe('https://bilder.example/foto.jpg?a=1&b=2');
    expect(data!.keywords).toEqual(['A & B <c>']);

    const $ = cheerio.load(html);
    expect($('head title').text()).toBe(`${TITLE} – ${SITE}`);
    expect($('meta[property="og:title"]').attr('content')).toBe(TITLE);
    expect($('meta[name="twitter:title"]').attr('content')).toBe(TITLE);
    expect($('meta[property="og:image"]').attr('content')).toBe('https://bilder.example/foto.jpg?a=1&b=2');
    expect($('meta[property="og:image:alt"]').attr('content')).toBe(`Alt "mit" <Zeichen> & '`);
    expect($('meta[property="article:section"]').attr('content')).toBe(`Amt für "Zitate"`);
    expect($('meta[property="article:tag"]').attr('content')).toBe('A & B <c>');
    expect($('link[type="application/json+oembed"]').attr('title')).toBe(TITLE);
    expect($('h1').text()).toBe(TITLE);
    expect($('main img').attr('alt')).toBe(`Alt "mit" <Zeichen> & '`);
    // The only scripts are the JSON-LD and Herold's own copy-link script: the title's one stayed text.
    expect($('script').toArray().map((element) => $(element).attr('type') ?? $(element).attr('src'))).toEqual([
      'application/ld+json', `${BASE_URL}/assets/copy-link.js`,
    ]);
  });
});

describe('releaseMeta (pure)', () => {
  const config = loadConfig({ HEROLD_DATA_DIR: '/nonexistent', HEROLD_BASE_URL: 'https://presse.example' }, '/');
  const release: Release = {
    id: 1, guid: 'g', slug: 'neue-bruecke', sourceId: 's', sourceRef: null, title: 'Neue Brücke', subtitle: null,
    bodyHtml: '<p>Die Brücke ist fertig.</p>', bodyText: 'Die Brücke ist fertig.', language: 'de', organisation: null,
    department: null, contact: null, topics: [], places: [], images: [], attachments: [],
    publishedAt: '2026-03-02T08:30:00.000Z', updatedAt: null, embargoUntil: null, status: 'published', changedAt: '2026-03-02T08:30:00.000Z',
    contentHash: 'bruecke',
  };

  test('drops empty values: no section, no tags, no image size without a measurement, no twitter:site', () => {
    const meta = releaseMeta(release, config, null);
    expect(meta.title).toBe('Neue Brücke – Pressestelle Stadt Lindenau');
    expect(meta.description).toBe('Die Brücke ist fertig.');
    expect(meta.canonical).toBe('https://presse.example/releases/neue-bruecke');
    expect(meta.tags.map((tag) => [tag.attribute, tag.key, tag.content])).toEqual([
      ['property', 'og:type', 'article'],
      ['property', 'og:title', 'Neue Brücke'],
      ['property', 'og:description', 'Die Brücke ist fertig.'],
      ['property', 'og:url', 'https://presse.example/releases/neue-bruecke'],
      ['property', 'og:image', 'https://presse.example/media/share-default.png'],
      ['property', 'og:image:alt', 'Pressestelle Stadt Lindenau'],
      ['property', 'og:site_name', 'Pressestelle Stadt Lindenau'],
      ['property', 'og:locale', 'de_DE'],
      ['property', 'article:published_time', '2026-03-02T08:30:00.000Z'],
      ['property', 'article:modified_time', '2026-03-02T08:30:00.000Z'],
      ['name', 'twitter:card', 'summary'],
      ['name', 'twitter:title', 'Neue Brücke'],
      ['name', 'twitter:description', 'Die Brücke ist fertig.'],
      ['name', 'twitter:image', 'https://presse.example/media/share-default.png'],
      ['name', 'twitter:image:alt', 'Pressestelle Stadt Lindenau'],
    ]);
    expect(meta.links).toEqual([{
      rel: 'alternate', type: 'application/json+oembed', title: 'Neue Brücke',
      href: 'https://presse.example/oembed?url=https%3A%2F%2Fpresse.example%2Freleases%2Fneue-bruecke&format=json',
    }]);
    expect(meta.jsonLd).toEqual([{
      '@context': 'https://schema.org', '@type': 'NewsArticle', headline: 'Neue Brücke', description: 'Die Brücke ist fertig.',
      url: 'https://presse.example/releases/neue-bruecke',
      mainEntityOfPage: { '@type': 'WebPage', '@id': 'https://presse.example/releases/neue-bruecke' },
      image: { '@type': 'ImageObject', url: 'https://presse.example/media/share-default.png' },
      datePublished: '2026-03-02T08:30:00.000Z', dateModified: '2026-03-02T08:30:00.000Z',
      author: { '@type': 'GovernmentOrganization', name: 'Stadt Lindenau', url: 'https://presse.example/' },
      publisher: { '@type': 'GovernmentOrganization', name: 'Stadt Lindenau', url: 'https://presse.example/', logo: { '@type': 'ImageObject', url: 'https://presse.example/media/logo.png' } },
      inLanguage: 'de',
    }]);
  });

  test('a long subtitle is cut to 200 characters at a word', () => {
    const subtitle = longBody(100).replace(/<[^>]+>/g, '');
    const meta = releaseMeta({ ...release, subtitle }, config, { width: 1200, height: 630, mime: 'image/png' });
    expect(meta.description.length).toBeLessThanOrEqual(200);
    expect(meta.description).toBe(excerpt(subtitle, 200));
    expect(meta.tags.find((tag) => tag.key === 'og:image:width')?.content).toBe('1200');
  });
});
