import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { badRequest, HttpError, notFound, trimmedParam } from '../http/errors.js';
import type { Release } from '../model.js';
import { html } from '../pages/html.js';
import {
  headlineList, headlineQueryString, isVisible, parseHeadlineQuery, toHeadline, type HeadlineQuery,
} from './headlines.js';

/** The validated oEmbed request. */
export interface OembedQuery {
  readonly url: string;
  readonly maxwidth: number | null;
  readonly maxheight: number | null;
}

/** An oEmbed 1.0 `rich` response. */
export interface OembedResponse {
  readonly version: '1.0';
  readonly type: 'rich';
  readonly title: string;
  readonly provider_name: string;
  readonly provider_url: string;
  readonly author_name: string;
  readonly author_url: string;
  readonly html: string;
  readonly width: number;
  readonly height: number;
  readonly thumbnail_url?: string;
  readonly thumbnail_width?: number;
  readonly thumbnail_height?: number;
  readonly cache_age: number;
}

/** A page of Herold that can be embedded: one release, or a list of releases. */
export type EmbedTarget = { kind: 'release'; release: Release } | { kind: 'list'; query: HeadlineQuery };

const MAX_DIMENSION = 2000;
const CARD = { width: 480, height: 200 };
const LIST_WIDTH = 400;

function dimension(query: Readonly<Record<string, unknown>>, name: string): number | null {
  const raw = trimmedParam(query, name);
  if (raw === null) return null;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_DIMENSION) {
    throw badRequest(name, `"${name}" must be an integer from 1 to ${MAX_DIMENSION}, got "${raw.slice(0, 40)}".`);
  }
  return Number(raw);
}

/** Parses `url`, `format`, `maxwidth` and `maxheight`: 400 for a missing url or a bad size, 501 for a format but JSON. */
export function parseOembedQuery(query: Readonly<Record<string, unknown>>): OembedQuery {
  const url = trimmedParam(query, 'url');
  if (url === null) throw badRequest('url', '"url" is required: the address of the page to embed.');
  const format = trimmedParam(query, 'format');
  // oEmbed 1.0, section 2.3.4: a format the provider does not offer is answered 501.
  if (format !== null && format !== 'json') {
    throw new HttpError(501, 'Not Implemented', 'Only format=json is offered.', { parameter: 'format' });
  }
  return { url, maxwidth: dimension(query, 'maxwidth'), maxheight: dimension(query, 'maxheight') };
}

/** The current slug's release, also under a slug it had before. */
function releaseAt(store: Store, slug: string): Release | undefined {
  const release = store.releaseBySlug(slug);
  if (release) return release;
  const current = store.currentSlugFor(slug);
  return current ? store.releaseBySlug(current) : undefined;
}

/**
 * Which page of Herold a URL names; only Herold's own origin (and path, when it lives under one)
 * counts. Withdrawn and embargoed releases, unknown pages and other sites are all "not found".
 */
export function embedTarget(config: Config, store: Store, address: string, now: Date): EmbedTarget {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw badRequest('url', '"url" must be an absolute http(s) URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('url', '"url" must be an absolute http(s) URL.');
  const base = new URL(`${config.baseUrl}/`);
  const unknown = () => notFound('"url" is not a page of this site that can be embedded.');
  if (url.origin !== base.origin || !`${url.pathname}/`.startsWith(base.pathname)) throw unknown();
  const path = `/${url.pathname.slice(base.pathname.length)}`.replace(/(.)\/+$/, '$1');
  const params = url.searchParams;
  const list = (fields: Record<string, string | null>): EmbedTarget => {
    const query: Record<string, string> = {};
    for (const [name, value] of Object.entries(fields)) if (value) query[name] = value;
    return { kind: 'list', query: parseHeadlineQuery(query) };
  };

  const release = /^\/releases\/([a-z0-9-]{1,200})$/.exec(path);
  if (release) {
    const found = releaseAt(store, release[1]!);
    if (!found || !isVisible(found, now)) throw notFound('There is no published release at "url".');
    return { kind: 'release', release: found };
  }
  if (path === '/') return list({ q: params.get('q') });
  const term = /^\/(topics|departments)\/([a-z0-9-]{1,120})$/.exec(path);
  if (term) return list({ [term[1] === 'topics' ? 'topic' : 'department']: term[2]!, q: params.get('q') });
  if (path === '/search' && params.get('q')?.trim()) {
    return list({ q: params.get('q'), topic: params.get('topic'), department: params.get('department') });
  }
  throw unknown();
}

function fit(wanted: number, max: number | null): number {
  return max === null ? wanted : Math.min(wanted, max);
}

function iframe(src: string, title: string, width: number, height: number): string {
  return html`<iframe src="${src}" width="${width}" height="${height}" title="${title}" loading="lazy" style="border:0;max-width:100%"></iframe>`.value;
}

/** The oEmbed answer for a page: an iframe of the release card or of the headline list, within maxwidth/maxheight. */
export function oembedResponse(config: Config, store: Store, target: EmbedTarget, query: OembedQuery, now: Date): OembedResponse {
  const common = {
    version: '1.0' as const,
    type: 'rich' as const,
    provider_name: config.site.name,
    provider_url: `${config.baseUrl}/`,
  };
  if (target.kind === 'release') {
    const { release } = target;
    const headline = toHeadline(release, config);
    const width = fit(CARD.width, query.maxwidth);
    const height = fit(CARD.height, query.maxheight);
    const image = headline.image;
    // oEmbed 1.0, section 2.3.4: the thumbnail must respect maxwidth and maxheight; it cannot be scaled here.
    const thumbnail = image && image.width && image.height
      && image.width <= (query.maxwidth ?? Infinity) && image.height <= (query.maxheight ?? Infinity)
      ? { thumbnail_url: image.url, thumbnail_width: image.width, thumbnail_height: image.height }
      : {};
    return {
      ...common,
      title: headline.title,
      author_name: [release.organisation ?? config.site.organisation, release.department?.name].filter(Boolean).join(' – '),
      author_url: release.department ? `${config.baseUrl}/departments/${release.department.slug}` : `${config.baseUrl}/`,
      html: iframe(`${config.baseUrl}/embed/release/${release.slug}`, headline.title, width, height),
      width,
      height,
      ...thumbnail,
      cache_age: config.feedMaxAge,
    };
  }
  const list = headlineList(config, store, target.query, now);
  const width = fit(LIST_WIDTH, query.maxwidth);
  const height = fit(72 + 56 * target.query.limit, query.maxheight);
  const department = target.query.department ? store.departmentBySlug(target.query.department) : undefined;
  return {
    ...common,
    title: list.title,
    author_name: [config.site.organisation, department?.name].filter(Boolean).join(' – '),
    author_url: list.htmlUrl,
    html: iframe(`${config.baseUrl}/embed/headlines${headlineQueryString(target.query, { theme: true })}`, list.title, width, height),
    width,
    height,
    cache_age: config.feedMaxAge,
  };
}
