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

/** The sitemaps.org limit of URLs in one sitemap file. */
export const SITEMAP_LIMIT = 50_000;
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

/**
 * Every public page: the home page, the feed directory, each topic and department that has a
 * visible release (a term known only from an embargoed release would give the release away), and
 * each visible release with its last change.
 */
export function sitemapEntries(config: Config, store: Store, now: Date): { entries: SitemapEntry[]; lastModified: Date | null } {
  const pages: SitemapEntry[] = [
    { loc: `${config.baseUrl}/` },
    { loc: `${config.baseUrl}/feeds` },
    ...store.listTopics(now).filter((topic) => topic.count > 0).map((topic) => ({ loc: `${config.baseUrl}/topics/${topic.slug}` })),
    ...store.listDepartments(now).filter((department) => department.count > 0)
      .map((department) => ({ loc: `${config.baseUrl}/departments/${department.slug}` })),
  ];
  // One file holds 50,000 URLs. Beyond that a sitemap index with paged sitemaps would be needed;
  // until a press office publishes that many releases, the oldest ones are left out here.
  const releases = store.newestListings({ now, limit: Math.max(0, SITEMAP_LIMIT - pages.length) });
  const entries = [
    ...pages,
    ...releases.map((release) => ({ loc: releaseUrl(config, release), lastmod: w3cDatetime(release.updatedAt ?? release.publishedAt) })),
  ];
  const newest = [...releases.map(visibleChange), store.newestWithdrawal({ kind: 'all' }, '')]
    .reduce<string | null>((max, value) => (value && (!max || value > max) ? value : max), null);
  return { entries, lastModified: newest ? new Date(newest) : null };
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
