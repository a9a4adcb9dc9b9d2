import { describe, expect, test } from 'vitest';
import { renderFeed, toEntry, wholeReleases } from '../../src/feeds/build.js';
import type { Media, Release } from '../../src/model.js';
import { loadConfig } from '../../src/config.js';
import { BASE_URL } from '../helpers/app.js';

const site = loadConfig({ HEROLD_DATA_DIR: '/nonexistent' }, '/').site;
const media = (url: string, extra: Partial<Media> = {}): Media => ({
  url, title: null, alt: 'Alt', caption: null, credit: null, width: null, height: null, mime: null, bytes: null, ...extra,
});
const release: Release = {
  id: 1, guid: 'tag:lindenau.example,2026:m-1', slug: 'mitteilung', sourceId: 'files', sourceRef: 'a.txt', title: 'Mitteilung',
  subtitle: null, bodyHtml: '<p>Text.</p>', bodyText: 'Text.', language: 'de', organisation: 'Stadt Lindenau', department: null,
  contact: null, topics: [], places: [], attachments: [], publishedAt: '2026-11-20T09:00:00.000Z', updatedAt: null,
  embargoUntil: null, status: 'published', changedAt: '2026-11-20T09:00:00.000Z', contentHash: 'mitteilung',
  images: [
    media('kommunales-Integrationszentrum_1'),
    media('/media/bild.png', { mime: 'image/png', bytes: 100, width: 4, height: 3 }),
    media('https://cdn.lindenau.example/ungemessen.jpg'),
  ],
};

describe('the feed mapper', () => {
  test('publishes image URLs only: a stored bare reference is not an image in any format', () => {
    const entry = toEntry(release, { baseUrl: BASE_URL, site });
    expect(entry.images.map((image) => image.url)).toEqual([`${BASE_URL}/media/bild.png`, 'https://cdn.lindenau.example/ungemessen.jpg']);
    // Enclosures and attachments need the measured type and size.
    expect(entry.media.map((item) => item.url)).toEqual([`${BASE_URL}/media/bild.png`]);
    const doc = { title: 'T', description: 'D', urls: { rss: `${BASE_URL}/f.rss`, atom: `${BASE_URL}/f.atom`, json: `${BASE_URL}/f.json` },
      htmlUrl: `${BASE_URL}/`, updated: new Date('2026-11-20T09:00:00Z'), ...wholeReleases([release]) };
    for (const format of ['rss', 'atom', 'json'] as const) {
      expect(renderFeed(format, doc, { baseUrl: BASE_URL, site }).toString('utf8')).not.toContain('Integrationszentrum_1');
    }
  });
});
