import { load, type Cheerio, type CheerioAPI } from 'cheerio';
// cheerio does not re-export its node types: they are those of domhandler, the tree it builds.
import type { AnyNode } from 'domhandler';
import { excerpt } from '../text.js';
import { parseContactBlock } from './contact.js';
import { parseGermanDate } from './dates.js';
import type { MediaRef, ParsedRelease } from './types.js';

/**
 * Settings of an `html` source: where its listing is and CSS selectors for each part of a release
 * page, so that a new site needs configuration, not code. Selectors are evaluated on the whole page.
 */
export interface HtmlSiteSettings {
  /** The first listing page, absolute. */
  readonly listing_url: string;
  /** Links to release pages on a listing page (their href). */
  readonly link_selector: string;
  /** The "next page" link on a listing page, followed for back-fill. */
  readonly next_selector?: string;
  readonly title_selector: string;
  readonly subtitle_selector?: string;
  /** Its inner HTML is the body, without what `remove_selectors` match. */
  readonly body_selector: string;
  /** Noise inside the body: share buttons, skip links, blocks already read into other fields. */
  readonly remove_selectors?: readonly string[];
  readonly date_selector: string;
  /** Luxon format tokens (locale de) tried first on the date's text, e.g. "dd.MM.yyyy". */
  readonly date_format?: string;
  /** An attribute of the date element preferred over its text when present, e.g. "datetime". */
  readonly date_attribute?: string;
  /** The release's picture, an <img>. */
  readonly image_selector?: string;
  readonly caption_selector?: string;
  readonly credit_selector?: string;
  /** The issuer block ("Herausgegeben von"): organisation, department and, failing a contact block, the contact. */
  readonly issuer_selector?: string;
  /** A separate press-contact block, preferred for the contact. */
  readonly contact_selector?: string;
  /** Each match's text is a topic. */
  readonly topics_selector?: string;
  /** Links to files (PDF and the like): href, and the link text as title. */
  readonly attachment_selector?: string;
}

type Selection = Cheerio<AnyNode>;

/** Elements at whose edges a line of text ends, as a browser breaks it. */
const BLOCKS = 'address, article, aside, blockquote, dd, div, dl, dt, figcaption, figure, footer, h1, h2, h3, h4, h5, h6, '
  + 'header, hr, li, main, nav, ol, p, pre, section, table, td, th, tr, ul';

/** The URL relative links of the page resolve against: its `<base href>` when it has one. */
function baseOf($: CheerioAPI, pageUrl: string): string {
  const href = $('base[href]').first().attr('href');
  return href ? absolute(href, pageUrl) : pageUrl;
}

/** `value` resolved against `base`; left as it is when it is no URL at all. */
function absolute(value: string, base: string): string {
  try {
    return new URL(value, base).href;
  } catch {
    return value;
  }
}

/** `value` as an absolute http(s) URL without fragment, or null (mailto:, javascript:, unparseable). */
function webUrl(value: string | undefined, base: string): string | null {
  if (!value?.trim()) return null;
  try {
    const url = new URL(value.trim(), base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    url.hash = '';
    return url.href;
  } catch {
    return null;
  }
}

/** The values in first-seen order, each once. */
function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** Percent-decoded, or as it is when it is not valid UTF-8 percent-encoding (a Latin-1 "%FC"). */
function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The lines of text a reader sees in the selected elements: broken at <br>, block edges and newlines. */
function linesOf($: CheerioAPI, selection: Selection): string[] {
  return selection.toArray().flatMap((element) => {
    const copy = $(element).clone();
    copy.find('script, style, template').remove();
    // A mail link labelled only "Mail" (as in the seed's contact block) has its address in the href alone.
    copy.find('a[href^="mailto:"]').each((_, link) => {
      const address = percentDecoded($(link).attr('href')!.slice('mailto:'.length).split('?')[0]!);
      if (!$(link).text().includes('@')) $(link).text(address);
    });
    copy.find('br').replaceWith('\n');
    copy.find(BLOCKS).before('\n').after('\n');
    return copy.text().split('\n').map((line) => line.replace(/\s+/g, ' ').trim()).filter(Boolean);
  });
}

/** The text of the first selected element on one line, or null when it has none. */
function textOf($: CheerioAPI, selection: Selection): string | null {
  return linesOf($, selection.first()).join(' ') || null;
}

/** The picture's URL: a lazy-loading `data-src` first, since `src` then holds only a placeholder. */
function imageUrl(image: Selection, base: string): string | null {
  const firstCandidate = image.attr('srcset')?.split(',')[0]?.trim().split(/\s+/)[0];
  for (const candidate of [image.attr('data-src'), image.attr('src'), firstCandidate]) {
    const url = webUrl(candidate, base);
    if (url) return url;
  }
  return null;
}

/** The alt text, unless it is empty or only the file's name ("kommunales-Integrationszentrum_1"): noise, not a description. */
function altText(alt: string | undefined, url: string): string | null {
  const text = alt?.replace(/\s+/g, ' ').trim();
  if (!text) return null;
  const file = percentDecoded(new URL(url).pathname.split('/').pop() ?? '');
  return text === file || text === file.replace(/\.[^.]*$/, '') ? null : text;
}

/**
 * Parses a page. Lone surrogates become U+FFFD first, as a decoder would have made them: parse5 throws a
 * RangeError on some of them (two lone low surrogates in a quoted attribute value).
 */
function loadPage(html: string): CheerioAPI {
  return load(html.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
}

/** Links to release pages and the next listing page, absolute, in page order, each once. */
export function parseListing(html: string, pageUrl: string, settings: HtmlSiteSettings): { links: string[]; next: string | null } {
  const $ = loadPage(html);
  const base = baseOf($, pageUrl);
  const links = $(settings.link_selector).toArray().map((element) => webUrl($(element).attr('href'), base));
  return {
    links: unique(links.filter((link): link is string => link !== null)),
    next: settings.next_selector ? webUrl($(settings.next_selector).first().attr('href'), base) : null,
  };
}

/** The first date of the date elements that reads (the attribute before the text), as an ISO UTC instant. */
function dateOf($: CheerioAPI, settings: HtmlSiteSettings): string | null {
  for (const element of $(settings.date_selector).toArray().map((node) => $(node))) {
    const attribute = settings.date_attribute ? element.attr(settings.date_attribute) : undefined;
    const found = (attribute ? parseGermanDate(attribute) : null)
      ?? parseGermanDate(textOf($, element) ?? '', { format: settings.date_format });
    if (found) return found;
  }
  return null;
}

/**
 * One release page read with the site's selectors. The body is upstream HTML with URLs made absolute
 * and without scripts, styles, `remove_selectors` matches and the picked image with its figure,
 * caption and credit (they are in `images`); it is not sanitized here.
 */
export function parseReleasePage(html: string, pageUrl: string, settings: HtmlSiteSettings): ParsedRelease {
  const $ = loadPage(html);
  const base = baseOf($, pageUrl);
  const url = webUrl($('link[rel~="canonical"]').first().attr('href'), base) ?? pageUrl;
  const fail = (field: string, selector: string, why: string): Error =>
    new Error(`html page ${pageUrl}: no ${field}: ${field}_selector "${selector}" ${why}`);

  const title = textOf($, $(settings.title_selector));
  if (!title) throw fail('title', settings.title_selector, 'finds no text');
  const body = $(settings.body_selector).first();
  if (!body.length) throw fail('body', settings.body_selector, 'matches nothing');
  const publishedAt = dateOf($, settings);
  if (!publishedAt) {
    const seen = textOf($, $(settings.date_selector));
    throw fail('date', settings.date_selector, seen ? `finds no readable date in "${excerpt(seen, 80)}"` : 'matches nothing');
  }
  const subtitle = settings.subtitle_selector ? textOf($, $(settings.subtitle_selector)) : null;

  const block = (selector: string | undefined) => {
    const lines = selector ? linesOf($, $(selector)) : [];
    return lines.length ? parseContactBlock(lines) : null;
  };
  const issuer = block(settings.issuer_selector);
  const press = block(settings.contact_selector);
  const topics = settings.topics_selector
    ? unique($(settings.topics_selector).toArray().flatMap((element) => textOf($, $(element)) ?? []))
    : [];
  const attachments = new Map<string, MediaRef>();
  for (const element of settings.attachment_selector ? $(settings.attachment_selector).toArray() : []) {
    const link = webUrl($(element).attr('href'), base);
    if (link && !attachments.has(link)) attachments.set(link, { url: link, title: textOf($, $(element)) });
  }

  const images: MediaRef[] = [];
  const image = settings.image_selector ? $(settings.image_selector).first() : null;
  const imageSource = image?.length ? imageUrl(image, base) : null;
  if (image && imageSource) {
    const credit = settings.credit_selector ? $(settings.credit_selector).first() : null;
    const creditText = credit ? textOf($, credit) : null;
    // Out before the caption is read: a credit inside the caption is not part of its text.
    credit?.remove();
    const caption = settings.caption_selector ? $(settings.caption_selector).first() : null;
    images.push({
      url: imageSource,
      alt: altText(image.attr('alt'), imageSource),
      caption: caption ? textOf($, caption) : null,
      credit: creditText,
    });
    caption?.remove();
    const figure = image.closest('figure');
    (figure.length ? figure : image).remove();
  }

  $('script, style').remove();
  for (const selector of settings.remove_selectors ?? []) $(selector).remove();
  body.find('a[href]').each((_, element) => {
    $(element).attr('href', absolute($(element).attr('href')!, base));
  });
  body.find('img').each((_, element) => {
    const source = imageUrl($(element), base);
    if (source) $(element).attr('src', source);
  });

  return {
    ref: url,
    url,
    title,
    subtitle,
    bodyHtml: (body.html() ?? '').trim(),
    publishedAt,
    organisation: issuer?.organisation ?? press?.organisation ?? null,
    department: issuer?.department ?? press?.department ?? null,
    contact: press?.contact ?? issuer?.contact ?? null,
    topics,
    images,
    attachments: [...attachments.values()],
  };
}
