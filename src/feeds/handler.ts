import type { Request, Response } from 'express';
import type { Config } from '../config.js';
import type { Scope, Store } from '../db/store.js';
import { notFound } from '../http/errors.js';
import { representation, type CachedResponder, type Representation } from '../http/representation.js';
import type { Release } from '../model.js';
import { FEED_FORMATS, renderFeed, type FeedDocument, type FeedFormat } from './build.js';
import { feedQueryString, parseFeedQuery, type FeedQuery } from './query.js';

/** What a feed covers: everything, one topic or one department. */
export type FeedScope =
  | { kind: 'all' }
  | { kind: 'topic'; id: number; slug: string; name: string }
  | { kind: 'department'; id: number; slug: string; name: string };

/** A feed as named by its URL, before the store confirms it exists. */
export type FeedTarget = { kind: 'all' } | { kind: 'topic' | 'department'; slug: string };

const FILE = /^([a-z0-9-]{1,120})\.(rss|atom|json)$/;

/** Splits "verkehr.atom" into slug and format; anything else is not a feed. */
export function parseFeedFile(file: string): { slug: string; format: FeedFormat } {
  const match = FILE.exec(file);
  if (!match) throw notFound(`"${file}" is not a feed: feeds end in .rss, .atom or .json.`);
  return { slug: match[1]!, format: match[2] as FeedFormat };
}

/** The site path of a scope's feed without extension, and of its HTML page. */
export function scopePaths(scope: FeedScope): { feed: string; html: string } {
  switch (scope.kind) {
    case 'all': return { feed: '/feeds/all', html: '/' };
    case 'topic': return { feed: `/feeds/topics/${scope.slug}`, html: `/topics/${scope.slug}` };
    case 'department': return { feed: `/feeds/departments/${scope.slug}`, html: `/departments/${scope.slug}` };
  }
}

function storeScope(scope: FeedScope): Scope {
  return scope.kind === 'all' ? { kind: 'all' } : { kind: scope.kind, id: scope.id };
}

function maxInstant(values: Array<string | null | undefined>): string | null {
  return values.reduce<string | null>((max, value) => (value && (!max || value > max) ? value : max), null);
}

/** When an item last changed as readers see it: its last write, or the lifting of its embargo. */
function visibleChange(release: Release): string {
  return maxInstant([release.changedAt, release.embargoUntil])!;
}

/** Serves every feed: parse → cache or (store → render) → representation with validators. */
export function createFeedHandler(config: Config, store: Store, respond: CachedResponder) {
  const feedSite = { baseUrl: config.baseUrl, site: config.site };
  const cacheControl = `public, max-age=${config.feedMaxAge}`;

  function build(scope: FeedScope, format: FeedFormat, query: FeedQuery, now: Date): Representation {
    const releases = store.newestReleases(storeScope(scope), { now, limit: query.limit });
    const oldest = releases.length === query.limit ? releases.at(-1)!.publishedAt : '';
    const newest = maxInstant([...releases.map(visibleChange), store.newestWithdrawal(storeScope(scope), oldest)]);
    const updated = new Date(newest ?? '2000-01-01T00:00:00Z');
    const paths = scopePaths(scope);
    const qs = feedQueryString(query);
    const url = (ext: FeedFormat) => `${config.baseUrl}${paths.feed}.${ext}${qs}`;
    const name = scope.kind === 'all' ? null : scope.name;
    const doc: FeedDocument = {
      title: name ? `${config.site.name}: ${name}` : config.site.name,
      description: name
        ? `${config.site.description} – ${scope.kind === 'topic' ? 'Thema' : 'Fachbereich'}: ${name}`
        : config.site.description,
      urls: { rss: url('rss'), atom: url('atom'), json: url('json') },
      htmlUrl: `${config.baseUrl}${paths.html}`,
      updated,
      releases,
    };
    return representation(renderFeed(format, doc, feedSite), FEED_FORMATS[format].contentType, newest ? updated : null);
  }

  function resolve(target: FeedTarget): FeedScope {
    if (target.kind === 'all') return target;
    const found = target.kind === 'topic' ? store.topicBySlug(target.slug) : store.departmentBySlug(target.slug);
    if (!found) throw notFound(`There is no ${target.kind} "${target.slug}".`);
    return { kind: target.kind, ...found };
  }

  /** Answers one feed request; a cached representation is served without touching the store's tables. */
  return function serveFeed(req: Request, res: Response, target: FeedTarget, format: FeedFormat): void {
    const query = parseFeedQuery(req.query as Record<string, unknown>);
    const key = `feed:${target.kind}/${target.kind === 'all' ? '' : target.slug}.${format}${feedQueryString(query)}`;
    respond(req, res, key, cacheControl, (now) => build(resolve(target), format, query, now));
  };
}
