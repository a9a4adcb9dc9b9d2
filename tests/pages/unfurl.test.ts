import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import ogs from 'open-graph-scraper';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { absoluteUrl } from '../../src/feeds/build.js';
import { loadSamples } from '../../src/samples.js';
import { excerpt } from '../../src/text.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const DATA = path.resolve(import.meta.dirname, '../../data');
let t: TestApp;
let server: Server;
let base: string;

beforeAll(async () => {
  server = (await import('node:http')).createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = createTestApp({ env: { HEROLD_BASE_URL: base, HEROLD_CONFIG: path.join(DATA, 'herold.json') } });
  await loadSamples(t.store, { samplesDir: t.config.samplesDir, mediaDir: t.config.mediaDir, baseUrl: base });
  server.on('request', t.app);
});
afterAll(() => {
  server.close();
  t.close();
});

/** What an unfurler (open-graph-scraper, as link previews use it) reads from a page fetched over HTTP. */
async function unfurl(url: string) {
  const { result, error } = await ogs({ url, timeout: 5 });
  expect(error).toBe(false);
  return result;
}

test('a shared release link unfurls with its title, description, image, site and dates', async () => {
  const release = t.store.newestReleases({ kind: 'all' }, { now: t.now, limit: 20 }).find((candidate) => candidate.images.length && candidate.topics.length)!;
  const image = release.images[0]!;
  const result = await unfurl(`${base}/releases/${release.slug}`);
  expect(result).toMatchObject({
    ogType: 'article',
    ogTitle: release.title,
    ogDescription: release.subtitle ?? excerpt(release.bodyText, 200),
    ogUrl: `${base}/releases/${release.slug}`,
    ogSiteName: t.config.site.name,
    ogLocale: 'de_DE',
    articlePublishedTime: release.publishedAt,
    articleSection: release.department!.name,
    twitterCard: 'summary_large_image',
    twitterTitle: release.title,
  });
  expect(result.ogImage?.[0]).toMatchObject({ url: absoluteUrl(base, image.url), width: String(image.width), height: String(image.height), alt: image.alt });
  expect(result.twitterImage?.[0]?.url).toBe(absoluteUrl(base, image.url));
  const article = (result.jsonLD as Array<Record<string, unknown>>).find((data) => data['@type'] === 'NewsArticle')!;
  expect(article).toMatchObject({ headline: release.title, datePublished: release.publishedAt, inLanguage: 'de' });
});

test('a release without an image unfurls with the site\'s share image', async () => {
  const release = t.store.newestReleases({ kind: 'all' }, { now: t.now, limit: 20 }).find((candidate) => !candidate.images.length)!;
  const result = await unfurl(`${base}/releases/${release.slug}`);
  expect(result.ogImage?.[0]).toMatchObject({ url: `${base}/media/share-default.png`, width: '1200', height: '630' });
  expect(result.twitterCard).toBe('summary');
});

test('the home page and a topic page unfurl as the website', async () => {
  const home = await unfurl(`${base}/`);
  expect(home).toMatchObject({ ogType: 'website', ogSiteName: t.config.site.name, ogUrl: `${base}/` });
  const topic = await unfurl(`${base}/topics/verkehr`);
  expect(topic.ogTitle).toContain('Verkehr');
  expect(topic.ogUrl).toBe(`${base}/topics/verkehr`);
});
