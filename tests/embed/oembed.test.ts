import * as cheerio from 'cheerio';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { BASE_URL, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';
import { EMBARGO, EMBARGOED_SLUG, NASTY_SLUG, SCRIPT_SLUG, SCRIPT_TITLE, WITHDRAWN_SLUG, seededApp } from './seed.js';

const apps: TestApp[] = [];
afterEach(() => {
  while (apps.length) apps.pop()!.close();
});

const oembed = (url: string, extra = '') => `/oembed?url=${encodeURIComponent(url)}&format=json${extra}`;

/** The iframe of an oEmbed answer's html, with its attributes. */
function iframeOf(markup: string) {
  const $ = cheerio.load(markup);
  expect($('body').children()).toHaveLength(1);
  const frame = $('iframe');
  expect(frame).toHaveLength(1);
  return { src: frame.attr('src')!, width: frame.attr('width'), height: frame.attr('height'), title: frame.attr('title') };
}

describe('GET /oembed for a release page', () => {
  test('answers oEmbed 1.0 rich JSON with an iframe of the release card, cacheable', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(oembed(`${BASE_URL}/releases/${NASTY_SLUG}`)).expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers.etag).toBeTruthy();
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.body).toMatchObject({
      version: '1.0',
      type: 'rich',
      title: 'Tempo <30 & „Ruhe“ für die Jülicher Straße 🚲 ]]> und ]]> zweimal',
      provider_name: 'Pressestelle Stadt Lindenau',
      provider_url: `${BASE_URL}/`,
      author_name: 'Stadt Lindenau – Fachbereich Mobilität und Verkehr',
      author_url: `${BASE_URL}/departments/fachbereich-mobilitaet-und-verkehr`,
      width: 480,
      height: 200,
      thumbnail_url: `${BASE_URL}/media/bild-ohne-endung`,
      thumbnail_width: 40,
      thumbnail_height: 30,
      cache_age: 300,
    });
    const frame = iframeOf(res.body.html);
    expect(frame).toEqual({ src: `${BASE_URL}/embed/release/${NASTY_SLUG}`, width: '480', height: '200', title: res.body.title });
    // What the iframe shows exists and may be framed.
    const card = await request(t.app).get(frame.src.slice(BASE_URL.length)).expect(200);
    expect(card.headers['content-security-policy']).toContain('frame-ancestors *');
    await request(t.app).get(oembed(`${BASE_URL}/releases/${NASTY_SLUG}`))
      .set('If-None-Match', res.headers.etag!).expect(304);
  });

  test('escapes the title in the iframe markup and keeps it exact in JSON', async () => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(oembed(`${BASE_URL}/releases/${SCRIPT_SLUG}`)).expect(200);
    expect(res.body.title).toBe(SCRIPT_TITLE);
    expect(res.body.html).not.toContain('</script>');
    expect(res.body.html).not.toContain('"Ruhe"');
    expect(iframeOf(res.body.html).title).toBe(SCRIPT_TITLE);
    expect(res.body.thumbnail_url).toBeUndefined();
  });

  test('respects maxwidth and maxheight, and leaves out a thumbnail larger than they allow', async () => {
    const t = await seededApp(apps);
    const small = await request(t.app).get(oembed(`${BASE_URL}/releases/${NASTY_SLUG}`, '&maxwidth=300&maxheight=120')).expect(200);
    expect(small.body).toMatchObject({ width: 300, height: 120, thumbnail_width: 40 });
    expect(iframeOf(small.body.html)).toMatchObject({ width: '300', height: '120' });
    const tiny = await request(t.app).get(oembed(`${BASE_URL}/releases/${NASTY_SLUG}`, '&maxwidth=30')).expect(200);
    expect(tiny.body.width).toBe(30);
    expect(tiny.body.thumbnail_url).toBeUndefined();
    expect(tiny.body.thumbnail_width).toBeUndefined();
    const wide = await request(t.app).get(oembed(`${BASE_URL}/releases/${NASTY_SLUG}`, '&maxwidth=2000')).expect(200);
    expect(wide.body.width).toBe(480);
  });

  test('finds a release under a slug it had before', async () => {
    const t = await seededApp(apps);
    const release = t.store.releaseBySlug(SCRIPT_SLUG)!;
    t.store.upsertReleases([input({ guid: release.guid, title: 'Bürgerfest verschoben', publishedAt: release.publishedAt })],
      { now: new Date('2026-11-25T08:00:00Z') });
    const res = await request(t.app).get(oembed(`${BASE_URL}/releases/${SCRIPT_SLUG}`)).expect(200);
    expect(iframeOf(res.body.html).src).toBe(`${BASE_URL}/embed/release/buergerfest-verschoben`);
  });

  test('an embargoed release is not found until its time; a withdrawn one never', async () => {
    const t = await seededApp(apps);
    const embargoed = await request(t.app).get(oembed(`${BASE_URL}/releases/${EMBARGOED_SLUG}`)).expect(404);
    expect(embargoed.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    await request(t.app).get(oembed(`${BASE_URL}/releases/${WITHDRAWN_SLUG}`)).expect(404);
    t.now = new Date(EMBARGO);
    const lifted = await request(t.app).get(oembed(`${BASE_URL}/releases/${EMBARGOED_SLUG}`)).expect(200);
    expect(lifted.body.title).toBe('Neuer Oberbürgermeister gewählt');
    await request(t.app).get(oembed(`${BASE_URL}/releases/${WITHDRAWN_SLUG}`)).expect(404);
  });
});

describe('GET /oembed for list pages', () => {
  test.each([
    [`${BASE_URL}/`, `${BASE_URL}/embed/headlines`, 'Pressestelle Stadt Lindenau', 'Stadt Lindenau'],
    [BASE_URL, `${BASE_URL}/embed/headlines`, 'Pressestelle Stadt Lindenau', 'Stadt Lindenau'],
    [`${BASE_URL}/topics/verkehr`, `${BASE_URL}/embed/headlines?topic=verkehr`, 'Pressestelle Stadt Lindenau: Verkehr', 'Stadt Lindenau'],
    [`${BASE_URL}/topics/verkehr/`, `${BASE_URL}/embed/headlines?topic=verkehr`, 'Pressestelle Stadt Lindenau: Verkehr', 'Stadt Lindenau'],
    [`${BASE_URL}/departments/fachbereich-finanzen`, `${BASE_URL}/embed/headlines?department=fachbereich-finanzen`,
      'Pressestelle Stadt Lindenau: Fachbereich Finanzen', 'Stadt Lindenau – Fachbereich Finanzen'],
    [`${BASE_URL}/search?q=Haushalt`, `${BASE_URL}/embed/headlines?q=Haushalt`,
      'Pressestelle Stadt Lindenau – Suche „Haushalt“', 'Stadt Lindenau'],
  ])('%s embeds %s', async (url, src, title, author) => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(oembed(url)).expect(200);
    expect(res.body).toMatchObject({ version: '1.0', type: 'rich', title, author_name: author, width: 400, cache_age: 300 });
    expect(res.body.thumbnail_url).toBeUndefined();
    const frame = iframeOf(res.body.html);
    expect(frame.src).toBe(src);
    expect(frame.width).toBe(String(res.body.width));
    expect(frame.height).toBe(String(res.body.height));
    const page = await request(t.app).get(frame.src.slice(BASE_URL.length)).expect(200);
    expect(page.headers['x-frame-options']).toBeUndefined();
  });
});

describe('GET /oembed errors', () => {
  test.each([
    ['', 'url'],
    ['url=', 'url'],
    [`url=${encodeURIComponent('/releases/x')}`, 'url'],
    [`url=${encodeURIComponent('javascript:alert(1)')}`, 'url'],
    [`url=${encodeURIComponent(`${BASE_URL}/`)}&maxwidth=0`, 'maxwidth'],
    [`url=${encodeURIComponent(`${BASE_URL}/`)}&maxwidth=2001`, 'maxwidth'],
    [`url=${encodeURIComponent(`${BASE_URL}/`)}&maxheight=abc`, 'maxheight'],
    [`url=${encodeURIComponent(`${BASE_URL}/`)}&url=${encodeURIComponent(`${BASE_URL}/`)}`, 'url'],
  ])('?%s is a 400 naming "%s"', async (query, parameter) => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(`/oembed?${query}`).expect(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 400, parameter });
  });

  test.each([
    'https://example.com/releases/tempo',
    `https://herold.test/releases/${NASTY_SLUG}`,
    `http://herold.test.example.com/releases/${NASTY_SLUG}`,
    `${BASE_URL}/feeds`,
    `${BASE_URL}/feeds/all.rss`,
    `${BASE_URL}/releases/gibt-es-nicht`,
    `${BASE_URL}/releases/${NASTY_SLUG}/contact.vcf`,
    `${BASE_URL}/topics/gibt-es-nicht`,
    `${BASE_URL}/departments/gibt-es-nicht`,
    `${BASE_URL}/search`,
    `${BASE_URL}/embed/headlines`,
  ])('%s is a 404 problem', async (url) => {
    const t = await seededApp(apps);
    const res = await request(t.app).get(oembed(url)).expect(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found' });
  });

  test('format=xml is 501, format=json and no format are fine', async () => {
    const t = await seededApp(apps);
    const url = encodeURIComponent(`${BASE_URL}/releases/${NASTY_SLUG}`);
    const res = await request(t.app).get(`/oembed?url=${url}&format=xml`).expect(501);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ status: 501, parameter: 'format' });
    await request(t.app).get(`/oembed?url=${url}&format=json`).expect(200);
    await request(t.app).get(`/oembed?url=${url}`).expect(200);
  });
});
