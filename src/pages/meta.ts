import type { Config } from '../config.js';
import { absoluteUrl } from '../feeds/build.js';
import { html, trusted, type SafeHtml } from './html.js';

/** One `<meta>` element: `property` for Open Graph and article:*, `name` for the rest. */
export interface MetaTag {
  readonly attribute: 'name' | 'property';
  readonly key: string;
  readonly content: string;
}

/** One `<link>` element of the head. */
export interface HeadLink {
  readonly rel: string;
  readonly href: string;
  readonly type?: string;
  readonly title?: string;
}

/** Everything a page's head says about it, as data; `writeHead` turns it into escaped tags. */
export interface PageMeta {
  readonly title: string;
  readonly description: string;
  readonly canonical: string;
  readonly tags: readonly MetaTag[];
  readonly links: readonly HeadLink[];
  readonly jsonLd: readonly object[];
}

/** Tags from a list of [key, value] pairs, dropping empty values. */
export function metaTags(attribute: MetaTag['attribute'], pairs: ReadonlyArray<readonly [string, string | number | null | undefined]>): MetaTag[] {
  return pairs
    .filter(([, content]) => content !== null && content !== undefined && content !== '')
    .map(([key, content]) => ({ attribute, key, content: String(content) }));
}

/** JSON for a `<script type="application/ld+json">`: "<" escaped so that no text can close the element. */
export function jsonLdText(value: object): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The one writer of head metadata: every value escaped, JSON-LD serialised safely. */
export function writeHead(meta: PageMeta): SafeHtml {
  return html`<title>${meta.title}</title>
<meta name="description" content="${meta.description}">
<link rel="canonical" href="${meta.canonical}">
${meta.tags.map((tag) => (tag.attribute === 'property'
    ? html`<meta property="${tag.key}" content="${tag.content}">\n`
    : html`<meta name="${tag.key}" content="${tag.content}">\n`))}${meta.links.map((link) =>
    html`<link rel="${link.rel}"${link.type ? html` type="${link.type}"` : ''}${link.title ? html` title="${link.title}"` : ''} href="${link.href}">\n`)}${
    meta.jsonLd.map((data) => html`<script type="application/ld+json">${trusted(jsonLdText(data))}</script>\n`)}`;
}

/** Website-level metadata for the home page and lists: Open Graph `website`, a summary card, WebSite JSON-LD. */
export function websiteMeta(config: Config, page: { title: string; description: string; canonical: string; links?: readonly HeadLink[] }): PageMeta {
  const { site, baseUrl } = config;
  const image = absoluteUrl(baseUrl, site.shareImage);
  return {
    title: page.title,
    description: page.description,
    canonical: page.canonical,
    tags: [
      ...metaTags('property', [
        ['og:type', 'website'], ['og:title', page.title], ['og:description', page.description], ['og:url', page.canonical],
        ['og:site_name', site.name], ['og:locale', site.locale], ['og:image', image],
      ]),
      ...metaTags('name', [['twitter:card', 'summary'], ['twitter:site', site.twitterSite]]),
    ],
    links: page.links ?? [],
    jsonLd: [{
      '@context': 'https://schema.org',
      '@type': 'WebSite',
      name: site.name,
      url: `${baseUrl}/`,
      inLanguage: site.language,
      publisher: { '@type': 'GovernmentOrganization', name: site.organisation, logo: { '@type': 'ImageObject', url: absoluteUrl(baseUrl, site.logo) } },
      potentialAction: { '@type': 'SearchAction', target: `${baseUrl}/search?q={query}`, 'query-input': 'required name=query' },
    }],
  };
}
