import type { Config } from '../config.js';
import type { TermRow } from '../db/store.js';
import { absoluteUrl, isPublished } from '../feeds/build.js';
import type { Media, Release, Term } from '../model.js';
import { excerpt, stripXmlForbidden } from '../text.js';
import { html, type SafeHtml } from './html.js';
import { layout, type FeedLink } from './layout.js';
import { websiteMeta, type HeadLink, type PageMeta } from './meta.js';
import { stringsFor, type Strings } from './strings.js';

/** Releases shown on one page of a list. */
export const PAGE_SIZE = 20;
/**
 * The most results a search page lists (the newest): like a web search's, its pages end there, so that no
 * search page costs more than reading those. A search's feed and the API page on beyond them.
 */
export const SEARCH_RESULTS_SHOWN = 1000;

/** What a list shows: everything, one topic, one department, or a search within one of those. */
export type ListScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'topic' | 'department'; readonly term: Term };

/** Everything one page of a list needs, as the routes gathered it from the store. */
export interface ListView {
  readonly scope: ListScope;
  /** The normalized search text; undefined for a plain list (not a search page). */
  readonly query?: string;
  readonly releases: readonly Release[];
  /** The releases of the list, or a search's results listed (at most SEARCH_RESULTS_SHOWN). */
  readonly total: number;
  /** A search found more than it lists. */
  readonly more?: boolean;
  readonly page: number;
  readonly pages: number;
  /** Filters with counts; empty on search pages. */
  readonly topics: readonly TermRow[];
  readonly departments: readonly TermRow[];
}

/** The number of pages a list of `total` releases takes (at least one, which may be empty). */
export function pageCount(total: number): number {
  return Math.max(1, Math.ceil(total / PAGE_SIZE));
}

/** The site path of a scope's feed (without extension) and of its page. */
function scopePath(scope: ListScope): { feed: string; html: string } {
  if (scope.kind === 'all') return { feed: '/feeds/all', html: '/' };
  const group = scope.kind === 'topic' ? 'topics' : 'departments';
  return { feed: `/feeds/${group}/${scope.term.slug}`, html: `/${group}/${scope.term.slug}` };
}

/** The site-relative URL of one page of a list or search; page 1 carries no page parameter. */
export function listPath(scope: ListScope, query: string | undefined, page: number): string {
  if (query === undefined) return `${scopePath(scope).html}${page > 1 ? `?page=${page}` : ''}`;
  const params = [
    ...(query ? [`q=${encodeURIComponent(query)}`] : []),
    ...(scope.kind === 'all' ? [] : [`${scope.kind}=${encodeURIComponent(scope.term.slug)}`]),
    ...(page > 1 ? [`page=${page}`] : []),
  ];
  return `/search${params.length ? `?${params.join('&')}` : ''}`;
}

function publishedImage(release: Release): Media | undefined {
  return release.images.find(isPublished);
}

function thumbnail(config: Config, image: Media | undefined): SafeHtml | '' {
  if (!image) return '';
  const size = image.width && image.height ? html` width="${image.width}" height="${image.height}"` : '';
  return html`<img class="list-thumb" src="${absoluteUrl(config.baseUrl, image.url)}" alt="${image.alt ?? ''}"${size} loading="lazy" decoding="async">`;
}

function item(config: Config, release: Release, formatDate: (iso: string) => string): SafeHtml {
  const base = config.baseUrl;
  const issuer = release.department
    ? html`<a href="${base}/departments/${release.department.slug}">${release.department.name}</a>`
    : release.organisation ?? '';
  // Control characters (a word processor's vertical tab) are as invalid in HTML as in XML.
  const summary = stripXmlForbidden(release.subtitle?.trim() || excerpt(release.bodyText, 220));
  return html`<li><article class="list-item">
<div class="list-text">
<h2><a href="${base}/releases/${release.slug}">${stripXmlForbidden(release.title)}</a></h2>
<p class="list-meta"><time datetime="${release.publishedAt}">${formatDate(release.publishedAt)}</time>${issuer ? html` · ${issuer}` : ''}</p>
${summary ? html`<p class="list-summary">${summary}</p>` : ''}
</div>
${thumbnail(config, publishedImage(release))}
</article></li>
`;
}

function pager(config: Config, t: Strings, view: ListView): SafeHtml | '' {
  if (view.pages <= 1) return '';
  const href = (page: number) => `${config.baseUrl}${listPath(view.scope, view.query, page)}`;
  return html`<nav class="list-pages" aria-label="${t.listPages}">
${view.page > 1 ? html`<a rel="prev" href="${href(view.page - 1)}">${t.listPrevious}</a>` : ''}
<span aria-current="page">${t.listPageOf(view.page, view.pages)}</span>
${view.page < view.pages ? html`<a rel="next" href="${href(view.page + 1)}">${t.listNext}</a>` : ''}
</nav>`;
}

function searchForm(config: Config, t: Strings, scope: ListScope, query: string | undefined): SafeHtml {
  const label = scope.kind === 'all' ? t.listSearchLabel : t.listSearchIn(scope.term.name);
  return html`<form class="list-search" role="search" action="${config.baseUrl}/search" method="get">
<label for="list-q">${label}</label>
<div class="list-search-row"><input id="list-q" name="q" type="search" maxlength="200" value="${query ?? ''}">
${scope.kind === 'all' ? '' : html`<input type="hidden" name="${scope.kind}" value="${scope.term.slug}">`}<button type="submit">${t.searchButton}</button></div>
</form>`;
}

function filters(config: Config, t: Strings, view: ListView): SafeHtml | '' {
  const section = (heading: string, id: string, group: 'topics' | 'departments', terms: readonly TermRow[]) => {
    const shown = terms.filter((term) => term.count > 0);
    if (!shown.length) return '';
    const current = view.scope.kind === 'all' ? null : view.scope;
    const groupOf = { topic: 'topics', department: 'departments' } as const;
    return html`<section class="list-filter" aria-labelledby="${id}">
<h2 id="${id}">${heading}</h2>
<ul class="list-terms">${shown.map((term) => {
      const here = current !== null && groupOf[current.kind] === group && current.term.slug === term.slug;
      return html`<li><a href="${config.baseUrl}/${group}/${term.slug}"${here ? html` aria-current="page"` : ''}>${term.name}</a> <span class="muted">(${term.count})</span></li>`;
    })}</ul>
</section>
`;
  };
  const topics = section(t.topics, 'list-topics', 'topics', view.topics);
  const departments = section(t.departments, 'list-departments', 'departments', view.departments);
  return topics || departments ? html`${topics}${departments}` : '';
}

/** The feeds of a page: its scope's feed for a list, the same scope's feed with `?q=` for a search. */
function pageFeeds(config: Config, t: Strings, view: ListView): Array<{ title: string; urls: Record<'rss' | 'atom' | 'json', string> }> {
  const path = scopePath(view.scope).feed;
  const name = view.scope.kind === 'all' ? config.site.name : `${config.site.name}: ${view.scope.term.name}`;
  const url = (ext: string, qs = '') => `${config.baseUrl}${path}.${ext}${qs}`;
  if (view.query === undefined || view.query === '') {
    return [{ title: name, urls: { rss: url('rss'), atom: url('atom'), json: url('json') } }];
  }
  const qs = `?q=${encodeURIComponent(view.query)}`;
  return [{ title: `${name} – ${t.listSearchFeedTitle(view.query)}`, urls: { rss: url('rss', qs), atom: url('atom', qs), json: url('json', qs) } }];
}

function feedSection(config: Config, t: Strings, view: ListView): SafeHtml {
  const [feed] = pageFeeds(config, t, view);
  const intro = view.query
    ? t.listSearchFeed
    : t.listFeedsOf(view.scope.kind === 'all' ? t.allReleases : view.scope.term.name);
  return html`<section class="list-feeds" aria-labelledby="list-feeds">
<h2 id="list-feeds">${t.listFeedsHeading}</h2>
<p>${intro} <a href="${feed!.urls.rss}">RSS</a> · <a href="${feed!.urls.atom}">Atom</a> · <a href="${feed!.urls.json}">JSON Feed</a></p>
<p><a href="${config.baseUrl}/feeds">${t.listAllFeeds}</a></p>
</section>`;
}

function heading(config: Config, t: Strings, view: ListView): { h1: string; title: string; description: string } {
  const suffix = view.page > 1 ? ` – ${t.listPage(view.page)}` : '';
  if (view.query !== undefined) {
    const h1 = view.query ? t.listSearchResults(view.query) : t.listSearchTitle;
    return { h1, title: `${h1}${suffix} – ${config.site.name}`, description: view.query ? t.listSearchDescription(view.query) : t.listSearchIntro };
  }
  if (view.scope.kind === 'all') {
    return { h1: t.newest, title: `${config.site.name}${suffix}`, description: config.site.description };
  }
  const { name } = view.scope.term;
  const description = view.scope.kind === 'topic' ? t.listTopicDescription(name) : t.listDepartmentDescription(name);
  return { h1: name, title: `${name}${suffix} – ${config.site.name}`, description };
}

function meta(config: Config, t: Strings, view: ListView, text: { title: string; description: string }): PageMeta {
  const href = (page: number) => `${config.baseUrl}${listPath(view.scope, view.query, page)}`;
  const links: HeadLink[] = [
    ...(view.page > 1 ? [{ rel: 'prev', href: href(view.page - 1) }] : []),
    ...(view.page < view.pages ? [{ rel: 'next', href: href(view.page + 1) }] : []),
  ];
  const isSearch = view.query !== undefined;
  // A search feed has a query string, which layout()'s feed links cannot carry: announce it here.
  if (isSearch && view.query) {
    const [feed] = pageFeeds(config, t, view);
    links.push(
      { rel: 'alternate', type: 'application/rss+xml', title: `${feed!.title} (RSS)`, href: feed!.urls.rss },
      { rel: 'alternate', type: 'application/atom+xml', title: `${feed!.title} (Atom)`, href: feed!.urls.atom },
      { rel: 'alternate', type: 'application/feed+json', title: `${feed!.title} (JSON Feed)`, href: feed!.urls.json },
    );
  }
  const base = websiteMeta(config, { title: text.title, description: text.description, canonical: href(view.page), links });
  // Result pages are endless and change with every release: not for search engines.
  return isSearch ? { ...base, tags: [...base.tags, { attribute: 'name', key: 'robots', content: 'noindex' }] } : base;
}

/** One page of a list (home, topic, department) or of search results. */
export function renderListPage(config: Config, view: ListView): string {
  const t = stringsFor(config.site.language);
  const dates = new Intl.DateTimeFormat(config.site.language, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Berlin' });
  const formatDate = (iso: string) => dates.format(new Date(iso));
  const text = heading(config, t, view);
  const isSearch = view.query !== undefined;
  const scopeNote = isSearch && view.scope.kind !== 'all'
    ? html`<p>${t.listSearchWithin(view.scope.kind === 'topic' ? t.listTopic : t.listDepartment, view.scope.term.name)}
<a href="${config.baseUrl}${listPath({ kind: 'all' }, view.query, 1)}">${t.listSearchAll}</a></p>`
    : '';
  let status: SafeHtml;
  if (isSearch && !view.query) status = html`<p>${t.listSearchIntro}</p>`;
  else if (isSearch) status = html`<p class="list-count">${view.more ? t.listHitsMore(view.total) : t.listHits(view.total)}</p>${view.total ? '' : html`<p>${t.listNoHits}</p>`}`;
  else status = view.total ? html`<p class="list-count">${t.releases(view.total)}</p>` : html`<p>${t.listEmpty}</p>`;
  const body = html`<h1>${text.h1}</h1>
${searchForm(config, t, view.scope, view.query)}
${scopeNote}
${status}
${view.releases.length ? html`<ol class="list-items">
${view.releases.map((release) => item(config, release, formatDate))}</ol>` : ''}
${pager(config, t, view)}
${filters(config, t, view)}
${feedSection(config, t, view)}`;
  const scopeFeed = view.scope.kind === 'all' ? config.site.name : `${config.site.name}: ${view.scope.term.name}`;
  return layout(config, {
    meta: meta(config, t, view, text),
    // Search feeds are announced through meta links (they carry ?q=); a plain list announces its scope's feed.
    feeds: isSearch && view.query ? [] : [{ title: scopeFeed, path: scopePath(view.scope).feed } satisfies FeedLink],
    body,
  });
}

/** The HTML page for an address with nothing behind it: a way on instead of problem JSON. */
export function renderNotFoundPage(config: Config, path: string): string {
  const t = stringsFor(config.site.language);
  const base = websiteMeta(config, {
    title: `${t.listNotFoundTitle} – ${config.site.name}`,
    description: t.listNotFoundText,
    canonical: `${config.baseUrl}${path}`,
  });
  const body = html`<h1>${t.listNotFoundTitle}</h1>
<p>${t.listNotFoundText}</p>
${searchForm(config, t, { kind: 'all' }, undefined)}
<p><a href="${config.baseUrl}/">${t.home}</a> · <a href="${config.baseUrl}/feeds">${t.feeds}</a></p>`;
  return layout(config, {
    meta: { ...base, tags: [...base.tags, { attribute: 'name', key: 'robots', content: 'noindex' }] },
    feeds: [{ title: config.site.name, path: '/feeds/all' }],
    body,
  });
}
