import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import type { ReleaseListing } from '../model.js';
import { escapeHtml, stripXmlForbidden } from '../text.js';
import { visibleChange } from './headlines.js';

/** One `<url>` of a sitemap. */
export interface SitemapEntry {
  readonly loc: string;
  readonly lastmod?: string | null;
}

/**
 * Release URLs per sitemap file (sitemaps.org allows 50,000). Releases are parted by id: a part's file
 * changes only when one of its releases does, and each is read and written in bounded time however
 * many releases there are.
 */
export const SITEMAP_PART = 5000;
/** Google News reads at most 1,000 URLs per news sitemap. */
export const NEWS_LIMIT = 1000;
/** Google News sitemaps hold articles of the last two days. */
export const NEWS_WINDOW_MS = 2 * 24 * 60 * 60 * 1000;

const SITEMAP_NS = 'http://www.sitemaps.org/schemas/sitemap/0.9';
const NEWS_NS = 'http://www.google.com/schemas/sitemap-news/0.9';

const xml = (value: string): string => escapeHtml(stripXmlForbidden(value));

/** A W3C datetime (the profile of ISO 8601 sitemaps use), to the second, in UTC. */
export function w3cDatetime(instant: string): string {
  return new Date(instant).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function releaseUrl(config: Config, release: Pick<ReleaseListing, 'slug'>): string {
  return `${config.baseUrl}/releases/${release.slug}`;
}

/** How many parts the sitemap has: one per SITEMAP_PART release ids given so far, at least one. */
export function sitemapParts(store: Store): number {
  return Math.max(1, Math.ceil(store.lastReleaseId() / SITEMAP_PART));
}

/**
 * One part of the sitemap (from 1): each visible release whose id is in the part, with its last change,
 * newest first; part 1 also holds every other public page: the home page, the feed directory, each topic
 * and department that has a visible release (a term known only from an embargoed release would give the
 * release away).
 */
export function sitemapPart(config: Config, store: Store, now: Date, part: number): { entries: SitemapEntry[]; lastModified: Date | null } {
  const pages: SitemapEntry[] = part !== 1 ? [] : [
    { loc: `${config.baseUrl}/` },
    { loc: `${config.baseUrl}/feeds` },
    ...store.listTopics(now).filter((topic) => topic.count > 0).map((topic) => ({ loc: `${config.baseUrl}/topics/${topic.slug}` })),
    ...store.listDepartments(now).filter((department) => department.count > 0)
      .map((department) => ({ loc: `${config.baseUrl}/departments/${department.slug}` })),
  ];
  const releases = store.listingsByIds((part - 1) * SITEMAP_PART + 1, part * SITEMAP_PART, now);
  const entries = [
    ...pages,
    ...releases.map((release) => ({ loc: releaseUrl(config, release), lastmod: w3cDatetime(release.updatedAt ?? release.publishedAt) })),
  ];
  const newest = [...releases.map(visibleChange), store.newestWithdrawal({ kind: 'all' }, '')]
    .reduce<string | null>((max, value) => (value && (!max || value > max) ? value : max), null);
  return { entries, lastModified: newest ? new Date(newest) : null };
}

/** A sitemaps.org 0.9 sitemap index of the parts' files (`/sitemap.xml?part=N`). */
export function renderSitemapIndex(config: Config, parts: number): string {
  const files = Array.from({ length: parts }, (_, index) => `  <sitemap><loc>${xml(`${config.baseUrl}/sitemap.xml?part=${index + 1}`)}</loc></sitemap>\n`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="${SITEMAP_NS}">\n${files.join('')}</sitemapindex>\n`;
}

/** A sitemaps.org 0.9 urlset. */
export function renderSitemap(entries: readonly SitemapEntry[]): string {
  const urls = entries.map((entry) => `  <url><loc>${xml(entry.loc)}</loc>${entry.lastmod ? `<lastmod>${xml(entry.lastmod)}</lastmod>` : ''}</url>\n`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="${SITEMAP_NS}">\n${urls.join('')}</urlset>\n`;
}

/** Google News wants an ISO 639 code, but "zh-cn" and "zh-tw" for Chinese. */
function newsLanguage(language: string): string {
  const lower = language.toLowerCase();
  return lower === 'zh-cn' || lower === 'zh-tw' ? lower : lower.split('-')[0]!;
}

/**
 * The releases visible at `now` and published within two days before `reference` (`now`, or a
 * moment shortly before it that the cache keys on), newest first.
 */
export function newsReleases(store: Store, now: Date, reference: Date = now): ReleaseListing[] {
  return store.newestListings({ now, limit: NEWS_LIMIT, since: new Date(reference.getTime() - NEWS_WINDOW_MS) });
}

/** A Google News sitemap of the given releases. */
export function renderNewsSitemap(config: Config, releases: readonly ReleaseListing[]): string {
  const name = xml(config.site.name);
  const language = xml(newsLanguage(config.site.language));
  const urls = releases.map((release) => `  <url>
    <loc>${xml(releaseUrl(config, release))}</loc>
    <news:news>
      <news:publication><news:name>${name}</news:name><news:language>${language}</news:language></news:publication>
      <news:publication_date>${w3cDatetime(release.publishedAt)}</news:publication_date>
      <news:title>${xml(release.title)}</news:title>
    </news:news>
  </url>
`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="${SITEMAP_NS}" xmlns:news="${NEWS_NS}">\n${urls.join('')}</urlset>\n`;
}

/** robots.txt: everything may be crawled but the framable embeds and the API; both sitemaps named. */
export function renderRobots(config: Config): string {
  // Herold may live under a path of its host; crawlers read robots.txt paths from the host's root.
  const prefix = new URL(`${config.baseUrl}/`).pathname.replace(/\/$/, '');
  return [
    'User-agent: *',
    'Allow: /',
    `Disallow: ${prefix}/embed/`,
    `Disallow: ${prefix}/api/`,
    '',
    `Sitemap: ${config.baseUrl}/sitemap.xml`,
    `Sitemap: ${config.baseUrl}/news-sitemap.xml`,
    '',
  ].join('\n');
}
