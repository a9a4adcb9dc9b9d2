import type { Request, Response } from 'express';
import type { Config } from '../config.js';
import type { Scope, Store } from '../db/store.js';
import { notFound } from '../http/errors.js';
import { representation, type CachedResponder, type Representation } from '../http/representation.js';
import type { ReleaseHead } from '../model.js';
import { stringsFor } from '../pages/strings.js';
import { FEED_FORMATS, ItemCache, renderFeed, type FeedDocument, type FeedFormat, type ItemShelf } from './build.js';
import { feedQueryString, parseFeedQuery, type FeedQuery } from './query.js';
import { rendererId } from './renderer-id.js';

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
export function scopePaths(scope: FeedScope | FeedTarget): { feed: string; html: string } {
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
function visibleChange(release: ReleaseHead): string {
  return maxInstant([release.changedAt, release.embargoUntil])!;
}

/** The WebSub hub every feed announces: the external one configured, else Herold's own at /websub. */
export function hubUrl(config: Config): string {
  return config.websubHub ?? `${config.baseUrl}/websub`;
}

/** The absolute URL of a feed as it names itself (its self link): path, format and normalized query. */
export function feedUrl(config: Config, target: FeedTarget, format: FeedFormat, query: FeedQuery): string {
  return `${config.baseUrl}${scopePaths(target).feed}.${format}${feedQueryString(query)}`;
}

/** The WebSub discovery headers (W3C WebSub 4): the hub, and the topic's self URL. */
export function websubLinks(hub: string, self: string): string[] {
  return [`<${hub}>; rel="hub"`, `<${self}>; rel="self"`];
}

/**
 * The store's rendered items as a shelf: an item is taken only when it was written by this renderer
 * (code, base URL, site) for the release's current version (last change and content hash).
 */
function storeShelf(store: Store, renderer: string): ItemShelf {
  return {
    take(format, releases) {
      const found = new Map(store.renderedItems(format, renderer, releases.map((release) => release.id)).map((item) => [item.releaseId, item]));
      return releases.map((release) => {
        const item = found.get(release.id);
        return item && item.changedAt === release.changedAt && item.contentHash === release.contentHash ? item.body : undefined;
      });
    },
    put(format, releases, items) {
      store.keepRenderedItems(format, renderer, releases.map((release, index) => ({
        releaseId: release.id, changedAt: release.changedAt, contentHash: release.contentHash, body: items[index]!,
      })));
    },
  };
}

/** Store → document → bytes for one feed: the one code path behind serving and WebSub distribution alike. */
function createFeedRenderer(config: Config, store: Store) {
  // Items are kept across renders, in memory and for every process in the store: after a write, a feed is rendered
  // with only the changed releases' items made anew, and a process that starts finds the items others rendered.
  const items = new ItemCache(undefined, storeShelf(store, rendererId(config.baseUrl, config.site)));
  const feedSite = { baseUrl: config.baseUrl, site: config.site, hub: hubUrl(config), items };

  /**
   * One page of a scope's list, newest first, whether a page follows, and the number of the last page.
   * A list is read by its heads: only the releases whose items are rendered now are loaded whole. A
   * search does not count its matches (that cost grows with them): its last page is not known.
   */
  function page(scope: FeedScope, query: FeedQuery, now: Date): Pick<FeedDocument, 'releases' | 'load'> & { more: boolean; last: number | null } {
    const options = { now, limit: query.limit, offset: (query.page - 1) * query.limit };
    const load = (heads: readonly ReleaseHead[]) => store.releasesByIds(heads.map((head) => head.id));
    if (query.q !== null) {
      // One more than the page: whether a next page exists.
      const heads = store.searchReleaseHeads(storeScope(scope), query.q, { ...options, limit: query.limit + 1 });
      return { releases: heads.slice(0, query.limit), load, more: heads.length > query.limit, last: null };
    }
    const last = Math.max(1, Math.ceil(store.countReleases(storeScope(scope), now) / query.limit));
    return { releases: store.newestReleaseHeads(storeScope(scope), options), load, more: query.page < last, last };
  }

  const withdrawn = stringsFor(config.site.language).feedWithdrawn;

  function build(scope: FeedScope, format: FeedFormat, query: FeedQuery, now: Date): Representation {
    const { releases, load, more, last } = page(scope, query, now);
    // Page 1 always exists (an empty feed is still a feed); a page past the end does not.
    if (last !== null && query.page > last) throw notFound(`This feed has ${last} page(s) of ${query.limit}; there is no page ${query.page}.`);
    if (last === null && query.page > 1 && releases.length === 0) {
      throw notFound(`This search has no page ${query.page}: its matches end on an earlier page of ${query.limit}.`);
    }
    // A page changes when anything on it or before it changes (an item moves along the list), never after it.
    const oldest = releases.length === query.limit ? releases.at(-1)!.publishedAt : '';
    // RFC 6721: the first page of every feed names what was withdrawn from it in the last 30 days (Atom only).
    const tombstones = query.page === 1 ? store.tombstones(storeScope(scope), now) : [];
    const newest = maxInstant([...releases.map(visibleChange), store.newestChange(storeScope(scope), oldest, now),
      ...tombstones.map((tombstone) => tombstone.withdrawnAt)]);
    const updated = new Date(newest ?? '2000-01-01T00:00:00Z');
    const paths = scopePaths(scope);
    const url = (ext: FeedFormat, number: number) => `${config.baseUrl}${paths.feed}.${ext}${feedQueryString({ ...query, page: number })}`;
    const urls = (number: number) => ({ rss: url('rss', number), atom: url('atom', number), json: url('json', number) });
    const name = scope.kind === 'all' ? null : scope.name;
    const search = query.q === null ? '' : ` – Suche: „${query.q}“`;
    const htmlSearch = query.q === null ? ''
      : `/search?q=${encodeURIComponent(query.q)}${scope.kind === 'all' ? '' : `&${scope.kind}=${scope.slug}`}`;
    const doc: FeedDocument = {
      title: `${name ? `${config.site.name}: ${name}` : config.site.name}${search}`,
      description: `${name
        ? `${config.site.description} – ${scope.kind === 'topic' ? 'Thema' : 'Fachbereich'}: ${name}`
        : config.site.description}${search}`,
      urls: urls(query.page),
      htmlUrl: `${config.baseUrl}${htmlSearch || paths.html}`,
      updated,
      releases,
      load,
      tombstones: tombstones.map((tombstone) => ({ ref: tombstone.guid, when: new Date(tombstone.withdrawnAt), comment: withdrawn })),
      pages: {
        first: urls(1),
        ...(query.page > 1 ? { previous: urls(query.page - 1) } : {}),
        ...(more ? { next: urls(query.page + 1) } : {}),
        ...(last !== null ? { last: urls(last) } : {}),
      },
    };
    return representation(renderFeed(format, doc, feedSite), FEED_FORMATS[format].contentType, newest ? updated : null);
  }

  function resolve(target: FeedTarget): FeedScope {
    if (target.kind === 'all') return target;
    const found = target.kind === 'topic' ? store.topicBySlug(target.slug) : store.departmentBySlug(target.slug);
    if (!found) throw notFound(`There is no ${target.kind} "${target.slug}".`);
    return { kind: target.kind, ...found };
  }

  return { build, resolve };
}

/** Serves every feed: parse → cache or (store → render) → representation with validators. */
export function createFeedHandler(config: Config, store: Store, respond: CachedResponder) {
  const cacheControl = `public, max-age=${config.feedMaxAge}`;
  const { build, resolve } = createFeedRenderer(config, store);
  const hub = hubUrl(config);

  /** Answers one feed request; a cached representation is served without touching the store's tables. */
  return function serveFeed(req: Request, res: Response, target: FeedTarget, format: FeedFormat): void {
    const query = parseFeedQuery(req.query as Record<string, unknown>);
    const key = `feed:${target.kind}/${target.kind === 'all' ? '' : target.slug}.${format}${feedQueryString(query)}`;
    res.set('Link', websubLinks(hub, feedUrl(config, target, format, query)));
    try {
      // A search feed is rate-limited per client: its cached hits skip the router after the limit.
      respond(req, res, key, cacheControl, (now) => build(resolve(target), format, query, now), { fast: query.q === null || 'rate-limited' });
    } catch (error) {
      // A feed that does not exist announces no hub.
      res.removeHeader('Link');
      throw error;
    }
  };
}

const FEED_PATH = /^\/feeds\/(?:(all)\.(rss|atom|json)|(topics|departments)\/([^/]+))$/;

/** Reads an absolute URL of one of this site's feeds; an HttpError (404, 400) for anything else, as GET would answer. */
export function parseFeedUrl(config: Config, url: string): { target: FeedTarget; format: FeedFormat; query: FeedQuery } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw notFound(`"${url.slice(0, 200)}" is not a URL.`);
  }
  const base = new URL(config.baseUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  const match = parsed.origin === base.origin && parsed.pathname.startsWith(`${prefix}/`)
    ? FEED_PATH.exec(parsed.pathname.slice(prefix.length)) : null;
  if (!match || parsed.hash) throw notFound(`${url.slice(0, 200)} is not one of the feeds of ${config.baseUrl}.`);
  // As Express's "simple" query parser: a repeated parameter becomes an array (which parseFeedQuery refuses).
  const raw: Record<string, string | string[]> = {};
  for (const [name, value] of parsed.searchParams) {
    const seen = raw[name];
    raw[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const query = parseFeedQuery(raw);
  if (match[1]) return { target: { kind: 'all' }, format: match[2] as FeedFormat, query };
  const { slug, format } = parseFeedFile(match[4]!);
  return { target: { kind: match[3] === 'topics' ? 'topic' : 'department', slug }, format, query };
}

/**
 * Renders the feed at one of this site's feed URLs exactly as GET serves it at `now` (same renderer,
 * same bytes, same ETag): what the WebSub hub checks topics with and pushes to subscribers.
 */
export function createFeedBody(config: Config, store: Store): (url: string, now: Date) => Representation {
  const { build, resolve } = createFeedRenderer(config, store);
  return (url, now) => {
    const { target, format, query } = parseFeedUrl(config, url);
    return build(resolve(target), format, query, now);
  };
}
