import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { escapeHtml } from '../text.js';
import type { FeedFormat } from './build.js';

/** One subscribable feed: its title, its path without extension, and its HTML page. */
export interface FeedListing {
  readonly title: string;
  readonly path: string;
  readonly htmlPath: string;
  readonly group: 'all' | 'topic' | 'department';
  readonly count: number | null;
}

/** Every feed the site publishes: all releases, each topic, each department. */
export function listFeeds(config: Config, store: Store, now: Date): FeedListing[] {
  const all: FeedListing = { title: config.site.name, path: '/feeds/all', htmlPath: '/', group: 'all', count: store.stats(now).count };
  const topics = store.listTopics(now).map((topic): FeedListing => ({
    title: `${config.site.name}: ${topic.name}`, path: `/feeds/topics/${topic.slug}`, htmlPath: `/topics/${topic.slug}`, group: 'topic', count: topic.count,
  }));
  const departments = store.listDepartments(now).map((department): FeedListing => ({
    title: `${config.site.name}: ${department.name}`, path: `/feeds/departments/${department.slug}`,
    htmlPath: `/departments/${department.slug}`, group: 'department', count: department.count,
  }));
  return [all, ...topics, ...departments];
}

const OPML_TYPES: Readonly<Record<FeedFormat, string>> = { rss: 'rss', atom: 'atom', json: 'json' };

/** OPML 2.0 with one outline per feed (its Atom, RSS and JSON forms grouped under it). */
export function renderOpml(config: Config, feeds: readonly FeedListing[], updated: Date): string {
  const attr = (value: string) => escapeHtml(value);
  const outline = (feed: FeedListing, indent: string) => (['rss', 'atom', 'json'] as const).map((format) =>
    `${indent}<outline type="${OPML_TYPES[format]}" text="${attr(`${feed.title} (${format.toUpperCase()})`)}" title="${attr(feed.title)}"`
    + ` xmlUrl="${attr(`${config.baseUrl}${feed.path}.${format}`)}" htmlUrl="${attr(`${config.baseUrl}${feed.htmlPath}`)}"`
    + ` language="${attr(config.site.language)}"/>`).join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head>
    <title>${attr(config.site.name)}</title>
    <dateCreated>${updated.toUTCString()}</dateCreated>
    <ownerEmail>${attr(config.site.contactEmail)}</ownerEmail>
    <docs>http://opml.org/spec2.opml</docs>
  </head>
  <body>
${feeds.map((feed) => outline(feed, '    ')).join('\n')}
  </body>
</opml>
`;
}
