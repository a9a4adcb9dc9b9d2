import type { Config } from '../config.js';
import type { Scope, Store } from '../db/store.js';
import { toEntry } from '../feeds/build.js';
import { badRequest, notFound, trimmedParam } from '../http/errors.js';
import type { Release } from '../model.js';
import { stringsFor } from '../pages/strings.js';

/** How an embed is coloured: fixed light or dark, or following the reader's system setting. */
export type Theme = 'light' | 'dark' | 'auto';

/** The validated query every headline form shares (script widget, iframe document, JSON). */
export interface HeadlineQuery {
  readonly topic: string | null;
  readonly department: string | null;
  readonly q: string | null;
  readonly limit: number;
  readonly theme: Theme;
}

/** One headline as the JSON API, the widget and the iframe document show it. */
export interface Headline {
  readonly title: string;
  readonly url: string;
  readonly published_at: string;
  readonly date_label: string;
  readonly department: string | null;
  readonly image?: { readonly url: string; readonly alt: string; readonly width: number | null; readonly height: number | null };
}

/** A resolved headline list: what it is called, where its page and feed are, and its items. */
export interface HeadlineList {
  readonly title: string;
  readonly htmlUrl: string;
  readonly feedUrl: string;
  readonly items: readonly Headline[];
  /** The newest change readers can see in the list, for Last-Modified; null when unknown (search). */
  readonly lastModified: Date | null;
}

/** How many headlines an embed shows unless `limit` says otherwise, and the most it may ask for. */
export const DEFAULT_HEADLINES = 5;
export const MAX_HEADLINES = 50;
/** The longest search text accepted, in characters. */
export const MAX_QUERY_LENGTH = 200;
const THEMES: readonly Theme[] = ['light', 'dark', 'auto'];
const SLUG = /^[a-z0-9-]{1,120}$/;

/** Parses `topic`, `department`, `q`, `limit` and `theme`; a bad value is a 400 naming the parameter. */
export function parseHeadlineQuery(query: Readonly<Record<string, unknown>>): HeadlineQuery {
  const topic = trimmedParam(query, 'topic');
  const department = trimmedParam(query, 'department');
  const q = trimmedParam(query, 'q');
  const limit = trimmedParam(query, 'limit');
  const theme = parseTheme(query);
  if (topic !== null && department !== null) {
    throw badRequest('department', '"topic" and "department" cannot be combined: choose one.');
  }
  if (q !== null && Array.from(q).length > MAX_QUERY_LENGTH) {
    throw badRequest('q', `"q" must be at most ${MAX_QUERY_LENGTH} characters long.`);
  }
  if (limit !== null && (!/^\d{1,2}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_HEADLINES)) {
    throw badRequest('limit', `"limit" must be an integer from 1 to ${MAX_HEADLINES}, got "${limit.slice(0, 40)}".`);
  }
  return { topic, department, q, limit: limit === null ? DEFAULT_HEADLINES : Number(limit), theme };
}

/** Parses `theme` (light, dark or auto; auto when absent). */
export function parseTheme(query: Readonly<Record<string, unknown>>): Theme {
  const theme = trimmedParam(query, 'theme');
  if (theme === null) return 'auto';
  if (!THEMES.includes(theme as Theme)) {
    throw badRequest('theme', `"theme" must be one of ${THEMES.join(', ')}, got "${theme.slice(0, 40)}".`);
  }
  return theme as Theme;
}

/**
 * The normalized query string (with "?", or "" for the defaults): the same list always has the same
 * URL, so it is also the cache key. The theme only matters to the rendered forms.
 */
export function headlineQueryString(query: HeadlineQuery, options: { theme: boolean }): string {
  const params = new URLSearchParams();
  if (query.topic) params.set('topic', query.topic);
  if (query.department) params.set('department', query.department);
  if (query.q) params.set('q', query.q);
  if (query.limit !== DEFAULT_HEADLINES) params.set('limit', String(query.limit));
  if (options.theme && query.theme !== 'auto') params.set('theme', query.theme);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** "20. November 2026": the day in Europe/Berlin, where the press office is, in the site's language. */
export function dateLabel(instant: string, locale: string): string {
  return new Intl.DateTimeFormat(locale.replace('_', '-'), {
    day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Berlin',
  }).format(new Date(instant));
}

/** Whether a release can be seen by the public at `now`: published and out of embargo. */
export function isVisible(release: Release, now: Date): boolean {
  return release.status === 'published' && (!release.embargoUntil || Date.parse(release.embargoUntil) <= now.getTime());
}

/** A release as a headline; image URLs go through the feed mapper, so the same rule decides what is published. */
export function toHeadline(release: Release, config: Config): Headline {
  const entry = toEntry(release, { baseUrl: config.baseUrl, site: config.site });
  const image = entry.images[0];
  return {
    title: entry.title,
    url: entry.url,
    published_at: new Date(release.publishedAt).toISOString(),
    date_label: dateLabel(release.publishedAt, config.site.locale),
    department: release.department?.name ?? null,
    ...(image ? { image: { url: image.url, alt: image.alt ?? '', width: image.width, height: image.height } } : {}),
  };
}

/** The newest change readers can see in a release: its last write, or the lifting of its embargo. */
export function visibleChange(release: Pick<Release, 'embargoUntil' | 'changedAt'>): string {
  return release.embargoUntil && release.embargoUntil > release.changedAt ? release.embargoUntil : release.changedAt;
}

function newest(values: ReadonlyArray<string | null>): string | null {
  return values.reduce<string | null>((max, value) => (value && (!max || value > max) ? value : max), null);
}

/** Resolves a query against the store: 404 for an unknown topic or department. */
export function headlineList(config: Config, store: Store, query: HeadlineQuery, now: Date): HeadlineList {
  const t = stringsFor(config.site.language);
  let scope: Scope = { kind: 'all' };
  let name: string | null = null;
  let htmlPath = '/';
  let feedPath = '/feeds/all';
  if (query.topic !== null) {
    const topic = SLUG.test(query.topic) ? store.topicBySlug(query.topic) : undefined;
    if (!topic) throw notFound(`There is no topic "${query.topic.slice(0, 120)}".`);
    scope = { kind: 'topic', id: topic.id };
    name = topic.name;
    htmlPath = `/topics/${topic.slug}`;
    feedPath = `/feeds/topics/${topic.slug}`;
  } else if (query.department !== null) {
    const department = SLUG.test(query.department) ? store.departmentBySlug(query.department) : undefined;
    if (!department) throw notFound(`There is no department "${query.department.slice(0, 120)}".`);
    scope = { kind: 'department', id: department.id };
    name = department.name;
    htmlPath = `/departments/${department.slug}`;
    feedPath = `/feeds/departments/${department.slug}`;
  }

  let releases: Release[];
  let lastModified: Date | null = null;
  if (query.q !== null) {
    releases = store.searchReleases(scope, query.q, { now, limit: query.limit });
    const search = new URLSearchParams({ q: query.q });
    if (scope.kind === 'topic') search.set('topic', query.topic!);
    if (scope.kind === 'department') search.set('department', query.department!);
    htmlPath = `/search?${search}`;
    feedPath = `${feedPath}.json?${new URLSearchParams({ q: query.q })}`;
  } else {
    releases = store.newestReleases(scope, { now, limit: query.limit });
    // A withdrawal removes an item without changing any that remain: it counts as a change of the list.
    const oldest = releases.length === query.limit ? releases.at(-1)!.publishedAt : '';
    const changed = newest([...releases.map(visibleChange), store.newestWithdrawal(scope, oldest)]);
    lastModified = changed ? new Date(changed) : null;
    feedPath = `${feedPath}.json`;
  }

  const base = name ? `${config.site.name}: ${name}` : config.site.name;
  return {
    title: query.q !== null ? `${base} – ${t.embedSearchTitle(query.q)}` : base,
    htmlUrl: `${config.baseUrl}${htmlPath}`,
    feedUrl: `${config.baseUrl}${feedPath}`,
    items: releases.map((release) => toHeadline(release, config)),
    lastModified,
  };
}
