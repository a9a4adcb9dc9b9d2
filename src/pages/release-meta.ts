import type { Config } from '../config.js';
import { absoluteUrl, isPublished } from '../feeds/build.js';
import type { Media, Release } from '../model.js';
import { excerpt } from '../text.js';
import { metaTags, type HeadLink, type PageMeta } from './meta.js';

/** Pixel size and type of an image, as measured from its bytes. */
export interface ImageFacts {
  readonly width: number | null;
  readonly height: number | null;
  readonly mime: string | null;
}

/** An image as share metadata shows it: absolute URL, measured size, alt text, caption and credit. */
export interface ShareImage extends ImageFacts {
  readonly url: string;
  readonly alt: string | null;
  readonly caption: string | null;
  readonly credit: string | null;
}

/** The longest meta description: search engines and unfurlers cut after about this many characters. */
const DESCRIPTION_MAX = 200;

/** A release's published media of one kind with absolute URLs. */
export function publishedMedia(list: readonly Media[], baseUrl: string): Media[] {
  return list.filter(isPublished).map((media) => ({ ...media, url: absoluteUrl(baseUrl, media.url) }));
}

/** The release's lead image (its first published image), absolute, or null. */
export function leadImage(release: Release, baseUrl: string): ShareImage | null {
  const [image] = publishedMedia(release.images, baseUrl);
  return image
    ? { url: image.url, alt: image.alt, caption: image.caption, credit: image.credit, width: image.width, height: image.height, mime: image.mime }
    : null;
}

/** The absolute URL of a release's page: its canonical address. */
export function releaseUrl(config: Config, slug: string): string {
  return `${config.baseUrl}/releases/${slug}`;
}

/** The meta description: the subtitle, or else the start of the text, at most 200 characters. */
export function releaseDescription(release: Release): string {
  return excerpt(release.subtitle || release.bodyText, DESCRIPTION_MAX);
}

/** The organisation that issued a release: its own, or the site's. */
export function issuerName(release: Release, config: Config): string {
  return release.organisation ?? config.site.organisation;
}

/** Drops null, undefined, empty strings and empty arrays, deeply, so that no empty property is published. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value)
      .map(([key, inner]) => [key, compact(inner)] as const)
      .filter(([, inner]) => inner !== null && inner !== undefined && inner !== '' && !(Array.isArray(inner) && inner.length === 0)));
  }
  return value;
}

/** The schema.org NewsArticle of a release: author and publisher are the issuing organisation. */
export function releaseJsonLd(release: Release, config: Config, image: ShareImage): object {
  const canonical = releaseUrl(config, release.slug);
  const organisation = {
    '@type': 'GovernmentOrganization',
    name: issuerName(release, config),
    url: `${config.baseUrl}/`,
    department: release.department
      ? { '@type': 'GovernmentOrganization', name: release.department.name, url: `${config.baseUrl}/departments/${release.department.slug}` }
      : null,
  };
  return compact({
    '@context': 'https://schema.org',
    '@type': 'NewsArticle',
    headline: release.title,
    description: releaseDescription(release),
    url: canonical,
    mainEntityOfPage: { '@type': 'WebPage', '@id': canonical },
    image: {
      '@type': 'ImageObject',
      url: image.url,
      width: image.width,
      height: image.height,
      caption: image.caption,
      creditText: image.credit,
      copyrightNotice: image.credit,
    },
    datePublished: release.publishedAt,
    dateModified: release.updatedAt ?? release.publishedAt,
    author: organisation,
    publisher: { ...organisation, logo: { '@type': 'ImageObject', url: absoluteUrl(config.baseUrl, config.site.logo) } },
    inLanguage: release.language,
    articleSection: release.department?.name,
    keywords: release.topics.map((topic) => topic.name),
  }) as object;
}

/** The oEmbed discovery link of a page (the /oembed endpoint answers it). */
export function oembedLink(config: Config, canonical: string, title: string): HeadLink {
  return {
    rel: 'alternate',
    type: 'application/json+oembed',
    href: `${config.baseUrl}/oembed?url=${encodeURIComponent(canonical)}&format=json`,
    title,
  };
}

/**
 * Everything a shared link of a release unfurls from, as data: title, description, canonical,
 * Open Graph article tags, the Twitter card, oEmbed discovery and the NewsArticle JSON-LD.
 * Without an image of its own, the site's share image (measured once: `defaultImage`) stands in.
 */
export function releaseMeta(release: Release, config: Config, defaultImage: ImageFacts | null): PageMeta {
  const { site } = config;
  const canonical = releaseUrl(config, release.slug);
  const description = releaseDescription(release);
  const own = leadImage(release, config.baseUrl);
  const image: ShareImage = own ?? {
    url: absoluteUrl(config.baseUrl, site.shareImage), alt: site.name, caption: null, credit: null,
    width: defaultImage?.width ?? null, height: defaultImage?.height ?? null, mime: defaultImage?.mime ?? null,
  };
  return {
    title: `${release.title} – ${site.name}`,
    description,
    canonical,
    tags: [
      ...metaTags('property', [
        ['og:type', 'article'],
        ['og:title', release.title],
        ['og:description', description],
        ['og:url', canonical],
        ['og:image', image.url],
        ['og:image:type', image.mime],
        ['og:image:width', image.width],
        ['og:image:height', image.height],
        ['og:image:alt', image.alt],
        ['og:site_name', site.name],
        ['og:locale', site.locale],
        ['article:published_time', release.publishedAt],
        ['article:modified_time', release.updatedAt ?? release.publishedAt],
        ['article:section', release.department?.name],
        ...release.topics.map((topic) => ['article:tag', topic.name] as const),
      ]),
      ...metaTags('name', [
        // The large card only for a picture of the release itself; the site's share image is a fallback.
        ['twitter:card', own ? 'summary_large_image' : 'summary'],
        ['twitter:site', site.twitterSite],
        ['twitter:title', release.title],
        ['twitter:description', description],
        ['twitter:image', image.url],
        ['twitter:image:alt', image.alt],
      ]),
    ],
    links: [oembedLink(config, canonical, release.title)],
    jsonLd: [releaseJsonLd(release, config, image)],
  };
}
