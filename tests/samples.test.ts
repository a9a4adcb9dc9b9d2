import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Release } from '../src/model.js';
import { loadSamples } from '../src/samples.js';
import { slugify } from '../src/text.js';
import { BASE_URL, createTestApp, type TestApp } from './helpers/app.js';
import { atomProblems, jsonFeedProblems, rssProblems } from './helpers/validate.js';

const DATA = path.resolve(import.meta.dirname, '../data');
let t: TestApp;
let releases: Release[];

beforeAll(async () => {
  // The shipped config points samples and media at the repository's data/ folder.
  t = createTestApp({ env: { HEROLD_CONFIG: path.join(DATA, 'herold.json') } });
  const loaded = await loadSamples(t.store, { samplesDir: t.config.samplesDir, mediaDir: t.config.mediaDir, baseUrl: BASE_URL });
  expect(loaded).toBeGreaterThanOrEqual(12);
  releases = t.store.newestReleases({ kind: 'all' }, { now: t.now, limit: 100 });
});
afterAll(() => t.close());

/** The pixel size written in a JPEG's SOF or a PNG's IHDR header, read here independently of the app. */
function headerSize(bytes: Buffer): { mime: string; width: number; height: number } {
  if (bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) {
    return { mime: 'image/png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    for (let at = 2; at < bytes.length;) {
      const marker = bytes[at + 1]!;
      const length = bytes.readUInt16BE(at + 2);
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { mime: 'image/jpeg', height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
      }
      at += 2 + length;
    }
  }
  throw new Error('not a PNG or JPEG');
}

describe('the shipped sample releases', () => {
  test('are realistic and varied enough for every page and feed', () => {
    expect(releases.length).toBeGreaterThanOrEqual(12);
    expect(new Set(releases.flatMap((release) => release.topics.map((topic) => topic.slug))).size).toBeGreaterThanOrEqual(3);
    expect(new Set(releases.map((release) => release.department?.slug)).size).toBeGreaterThanOrEqual(3);
    const months = new Set(releases.map((release) => release.publishedAt.slice(0, 7)));
    expect(months.size).toBeGreaterThanOrEqual(4);
    expect(releases.some((release) => release.title.includes('&') && release.title.includes('<'))).toBe(true);
    const all = releases.map((release) => `${release.title} ${release.bodyText}`).join(' ');
    for (const letter of ['ä', 'ö', 'ü', 'ß']) expect(all).toContain(letter);
    for (const release of releases) {
      expect(release.contact?.name, release.slug).toBeTruthy();
      expect(release.contact?.email, release.slug).toMatch(/@/);
      expect(release.bodyText.length, release.slug).toBeGreaterThan(200);
    }
  });

  test('images carry alt, caption, credit and the type and sizes measured from the files', () => {
    const withImages = releases.filter((release) => release.images.length);
    expect(withImages.length).toBeGreaterThanOrEqual(10);
    for (const image of withImages.flatMap((release) => release.images)) {
      const file = path.join(DATA, 'media', path.basename(image.url));
      const bytes = readFileSync(file);
      expect(image.url).toMatch(/^\/media\//);
      expect(image.bytes).toBe(statSync(file).size);
      expect({ mime: image.mime, width: image.width, height: image.height }).toEqual(headerSize(bytes));
      expect(image.alt).toBeTruthy();
      expect(image.caption).toBeTruthy();
      expect(image.credit).toMatch(/^©/);
    }
    const pdf = releases.flatMap((release) => release.attachments).find((file) => file.url.endsWith('.pdf'));
    expect(pdf?.mime).toBe('application/pdf');
    expect(pdf?.bytes).toBe(statSync(path.join(DATA, 'media', path.basename(pdf!.url))).size);
  });

  test('one release was corrected: same GUID, updated time, and a revision with the earlier text', () => {
    const corrected = releases.filter((release) => release.updatedAt);
    expect(corrected).toHaveLength(1);
    const [release] = corrected;
    const revisions = t.store.revisionsOf(release!.id);
    expect(revisions).toHaveLength(1);
    expect(revisions[0]!.revisedAt).toBe(release!.updatedAt);
    expect(revisions[0]!.note).toMatch(/^Korrigiert/);
    expect(Object.keys(revisions[0]!.previous)).toEqual(expect.arrayContaining(['title', 'bodyHtml']));
    expect(revisions[0]!.previous.title).not.toBe(release!.title);
    // The corrected title gave a new slug; the old one still leads to the release.
    const oldSlug = slugify(String(revisions[0]!.previous.title));
    expect(oldSlug).not.toBe(release!.slug);
    expect(t.store.currentSlugFor(oldSlug)).toBe(release!.slug);
  });

  test('the media files are served with their real type', async () => {
    const image = releases.find((release) => release.images.length)!.images[0]!;
    const res = await request(t.app).get(image.url).expect(200);
    expect(res.headers['content-type']).toBe(image.mime);
    expect(Number(res.headers['content-length'])).toBe(image.bytes);
  });

  test('every feed of every topic and department is valid', async () => {
    const paths = [
      '/feeds/all',
      ...t.store.listTopics(t.now).map((topic) => `/feeds/topics/${topic.slug}`),
      ...t.store.listDepartments(t.now).map((department) => `/feeds/departments/${department.slug}`),
    ];
    expect(paths.length).toBeGreaterThanOrEqual(7);
    for (const feedPath of paths) {
      const rss = await request(t.app).get(`${feedPath}.rss`).expect(200);
      expect(rssProblems(rss.text, `${BASE_URL}${feedPath}.rss`), feedPath).toEqual([]);
      const atom = await request(t.app).get(`${feedPath}.atom`).expect(200);
      expect(atomProblems(atom.text, `${BASE_URL}${feedPath}.atom`), feedPath).toEqual([]);
      const json = await request(t.app).get(`${feedPath}.json`).expect(200);
      expect(jsonFeedProblems(json.text), feedPath).toEqual([]);
    }
  });
});
