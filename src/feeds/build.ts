import { Feed, type Extension, type Item } from 'feed';
import type { SiteConfig } from '../config.js';
import type { Contact, Media, Release, ReleaseHead } from '../model.js';
import { escapeHtml, excerpt, stripXmlForbidden } from '../text.js';
import { embargoNotice } from './embargo.js';

/** The three published formats. */
export type FeedFormat = 'rss' | 'atom' | 'json';

/** Per format: the URL extension and the media type served. */
export const FEED_FORMATS: Readonly<Record<FeedFormat, { readonly contentType: string }>> = {
  rss: { contentType: 'application/rss+xml; charset=utf-8' },
  atom: { contentType: 'application/atom+xml; charset=utf-8' },
  json: { contentType: 'application/feed+json; charset=utf-8' },
};

/** Everything a renderer needs about one feed: what it is, where it lives, and its items. */
export interface FeedDocument {
  readonly title: string;
  readonly description: string;
  /** Absolute URLs of this feed in each format (the self links). */
  readonly urls: Readonly<Record<FeedFormat, string>>;
  /** Absolute URL of the HTML page showing the same list. */
  readonly htmlUrl: string;
  /** The newest change among the items: never the render time. */
  readonly updated: Date;
  /** The items' releases in order, by their heads: an item kept from an earlier render needs no more. */
  readonly releases: readonly ReleaseHead[];
  /** The whole releases of these heads, in their order: those whose items are rendered now. */
  readonly load: (heads: readonly ReleaseHead[]) => readonly Release[];
  /** The journalists' feed of releases under embargo: every item shows its embargo (and JSON Feed `_embargo`). */
  readonly embargoed?: boolean;
  /** RFC 6721 tombstones of releases recently withdrawn from this feed; written in Atom only. */
  readonly tombstones?: readonly Tombstone[];
  /** RFC 5005 paging: per relation, the URLs of that page in each format; a relation left out has no page. */
  readonly pages?: Readonly<Partial<Record<PageRel, Readonly<Record<FeedFormat, string>>>>> | null;
}

/** The `releases` and `load` of a document whose releases are at hand whole. */
export function wholeReleases<R extends Release>(releases: readonly R[]): { releases: readonly R[]; load: FeedDocument['load'] } {
  const byId = new Map(releases.map((release) => [release.id, release]));
  return { releases, load: (heads) => heads.map((head) => byId.get(head.id)!) };
}

/** The RFC 5005 paging relations, in the order they are written. */
export const PAGE_RELS = ['first', 'previous', 'next', 'last'] as const;
export type PageRel = (typeof PAGE_RELS)[number];

/** An RFC 6721 deleted entry: the GUID of a withdrawn release, when, and a note for people. */
export interface Tombstone {
  readonly ref: string;
  readonly when: Date;
  readonly comment: string;
}

/** Site-wide facts the renderers need. */
export interface FeedSite {
  readonly baseUrl: string;
  readonly site: SiteConfig;
  /** The WebSub hub the feeds announce (atom:link rel="hub", JSON Feed `hubs`); none when absent. */
  readonly hub?: string;
  /** Items rendered before, kept for the next renders (see ItemCache); without it every item is rendered. */
  readonly items?: ItemCache;
}

/** Where rendered items outlive the process, for every process of the host (the database; see feeds/handler.ts). */
export interface ItemShelf {
  /** The items kept of these releases in one format, in their order: undefined where none was kept of the release's version. */
  take(format: FeedFormat, releases: readonly ReleaseHead[]): ReadonlyArray<Buffer | undefined>;
  /** Keeps items just rendered, one per release. */
  put(format: FeedFormat, releases: readonly ReleaseHead[], items: readonly Buffer[]): void;
}

/**
 * Rendered items kept from one render to the next, as UTF-8 bytes. An item's text depends on its
 * release alone (and on whether the feed is the journalists'), never on the feed or page it is in:
 * after a write, the feeds are rendered again with only the changed releases' items made anew. Keyed
 * by format, release id, last change and content hash; least recently used first out beyond `budget`
 * bytes. With a shelf, public items missing here are looked for there, and those rendered are put there.
 */
export class ItemCache {
  private readonly items = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly budget = 4 * 1024 * 1024, readonly shelf?: ItemShelf) {}

  get(key: string): Buffer | undefined {
    const found = this.items.get(key);
    if (found) {
      this.items.delete(key);
      this.items.set(key, found);
    }
    return found;
  }

  set(key: string, item: Buffer): void {
    const old = this.items.get(key);
    if (old) this.bytes -= old.length;
    this.items.delete(key);
    this.items.set(key, item);
    this.bytes += item.length;
    for (const [oldest, value] of this.items) {
      if (this.bytes <= this.budget) break;
      this.items.delete(oldest);
      this.bytes -= value.length;
    }
  }

  /** The bytes of all items kept. */
  get size(): number {
    return this.bytes;
  }
}

const MEDIA_NS = 'http://search.yahoo.com/mrss/';
const DC_NS = 'http://purl.org/dc/elements/1.1/';
const CONTENT_NS = 'http://purl.org/rss/1.0/modules/content/';
const TOMBSTONES_NS = 'http://purl.org/atompub/tombstones/1.0';

/** Resolves a site-relative path against the public base URL; absolute URLs pass through. */
export function absoluteUrl(baseUrl: string, pathOrUrl: string): string {
  const url = new URL(pathOrUrl, `${baseUrl}/`);
  const head = `${url.protocol}//${url.host}`;
  if (!url.href.startsWith(head)) return url.href;
  // The URL parser leaves "[", "]", "|", "^" and a "%" that starts no escape as they are in paths and
  // queries; RFC 3986 (JSON Feed's format "uri", strict readers) does not allow them there.
  return head + url.href.slice(head.length)
    .replace(/%(?![0-9A-Fa-f]{2})/g, '%25')
    .replace(/[[\]|^]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The format-neutral item: one per release, every string already free of XML-forbidden characters. */
interface Entry {
  readonly guid: string;
  readonly title: string;
  readonly url: string;
  readonly summary: string;
  readonly contentHtml: string;
  readonly published: Date;
  readonly updated: Date;
  readonly author: string;
  readonly categories: ReadonlyArray<{ name: string; term: string; url: string }>;
  readonly media: readonly Media[];
  readonly images: readonly Media[];
  readonly language: string;
  readonly contact: Contact | null;
  /** Set only in the journalists' feed, for a release still under embargo. */
  readonly embargoUntil: Date | null;
}

const clean = (value: string): string => stripXmlForbidden(value);

function mediaFigure(image: Media): string {
  const size = image.width && image.height ? ` width="${image.width}" height="${image.height}"` : '';
  const caption = [image.caption, image.credit].filter(Boolean).map((part) => escapeHtml(part!)).join(' ');
  return `<figure><img src="${escapeHtml(image.url)}" alt="${escapeHtml(image.alt ?? '')}"${size}>`
    + `${caption ? `<figcaption>${caption}</figcaption>` : ''}</figure>`;
}

function attachmentList(attachments: readonly Media[]): string {
  if (attachments.length === 0) return '';
  const items = attachments.map((file) => `<li><a href="${escapeHtml(file.url)}">${escapeHtml(file.title ?? file.url)}</a></li>`);
  return `<ul>${items.join('')}</ul>`;
}

function withAbsoluteUrl(baseUrl: string, media: Media): Media {
  return { ...media, url: absoluteUrl(baseUrl, media.url) };
}

/**
 * A file source may name an image that was never found: the name stays stored as a reference, but
 * only URLs (absolute, or paths Herold serves) are published, in feeds, pages and embeds alike.
 */
export function isPublished(media: Media): boolean {
  return /^(https?:\/\/|\/(?!\/))/.test(media.url);
}

/** Feeds carry absolute URLs: the body's own paths (Herold's copies of images) are resolved against the base URL. */
function absoluteBody(html: string, baseUrl: string): string {
  return html.replace(/(\s(?:src|href))="\/(?!\/)/g, `$1="${baseUrl}/`);
}

/** The one mapper: a stored release → the item every format is rendered from. */
export function toEntry(release: Release, { baseUrl, site }: FeedSite, doc: Pick<FeedDocument, 'embargoed'> = {}): Entry {
  // In the journalists' feed the embargo travels with the item, wherever a reader shows it (title, summary, text).
  const embargo = doc.embargoed && release.embargoUntil ? embargoNotice(release.embargoUntil, site.language) : null;
  const images = release.images.filter(isPublished).map((image) => withAbsoluteUrl(baseUrl, image));
  const attachments = release.attachments.filter(isPublished).map((file) => withAbsoluteUrl(baseUrl, file));
  // An organisation without visible text ("", blanks, forbidden characters) is none: the site's stands in.
  const author = [clean(release.organisation ?? '').trim() || site.organisation, release.department?.name].filter(Boolean).join(' – ');
  return {
    guid: release.guid,
    title: clean(embargo ? `[${embargo}] ${release.title}` : release.title),
    url: absoluteUrl(baseUrl, `/releases/${release.slug}`),
    summary: clean(`${embargo ? `${embargo}. ` : ''}${release.subtitle || excerpt(release.bodyText)}`),
    contentHtml: clean(`${embargo ? `<p><strong>${escapeHtml(embargo)}</strong></p>` : ''}${images[0] ? mediaFigure(images[0]) : ''}${
      absoluteBody(release.bodyHtml, baseUrl)}${attachmentList(attachments)}`),
    published: new Date(release.publishedAt),
    updated: new Date(release.updatedAt ?? release.publishedAt),
    author: clean(author),
    // A topic named only by blanks or forbidden characters would be an empty category, which no format allows.
    categories: release.topics.filter((topic) => clean(topic.name).trim()).map((topic) => ({
      name: clean(topic.name), term: topic.slug, url: absoluteUrl(baseUrl, `/topics/${topic.slug}`),
    })),
    images,
    // An enclosure needs a type and a positive length: an empty file is none.
    media: [...images, ...attachments].filter((item) => item.mime && item.bytes),
    language: release.language,
    contact: release.contact,
    embargoUntil: embargo ? new Date(release.embargoUntil!) : null,
  };
}

/**
 * A rendered document as pieces of text, each far below V8's large-object size: a string of 200 KB is
 * allocated in pages of its own and given back on the next collection, and touching fresh pages is
 * what costs most on a virtual machine. The pieces go into one Buffer without ever being one string.
 */
type Pieces = readonly string[];

/** The UTF-8 bytes of the pieces, written into one Buffer. */
function utf8(pieces: Pieces): Buffer {
  let length = 0;
  for (const piece of pieces) length += Buffer.byteLength(piece, 'utf8');
  const bytes = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const piece of pieces) offset += bytes.write(piece, offset, 'utf8');
  return bytes;
}

/**
 * Release bodies (about 4 KB each) and RSS titles go into the `feed` package as short markers and are put
 * in place as pieces of their own once the package has written the document: its XML writer (xml-js)
 * joins the whole text again at every level of nesting, and the document with the bodies in it is
 * large; and with no title or body text in it, an item's end tag is found by its name (splitItems).
 * The markers contain U+0001, which `clean` removes from every text, so nothing else can look like one.
 */
function createBodies() {
  const bodies: string[] = [];
  let restored = 0;
  return {
    /** The marker standing for one text, to hand to the package for a CDATA section. */
    defer(html: string): string {
      bodies.push(html);
      return `\u0001${bodies.length - 1}\u0001`;
    },
    /** A fragment's pieces with every marker replaced by its text, escaped for the CDATA section the package wrote around it. */
    restore(xml: string): Pieces {
      const parts = xml.split('\u0001');
      if (parts.length % 2 !== 1) throw new Error('feeds: a marker of a release text is cut in two');
      for (let index = 1; index < parts.length; index += 2) parts[index] = bodies[Number(parts[index])]!.replaceAll(']]>', ']]]]><![CDATA[>');
      restored += (parts.length - 1) / 2;
      return parts;
    },
    /** Throws unless every text deferred was put back. */
    checkAllRestored(): void {
      if (restored !== bodies.length) throw new Error('feeds: release texts and their markers differ in number');
    },
  };
}

/** The cache key of a release's item in one format (see ItemCache). */
function itemKey(format: FeedFormat, release: ReleaseHead, doc: Pick<FeedDocument, 'embargoed'>): string {
  return `${format}${doc.embargoed ? ':embargoed' : ''}:${release.id}:${release.changedAt}:${release.contentHash}`;
}

/**
 * The items of a document: `missing` are the releases (loaded whole) whose items neither the cache nor
 * its shelf holds, in order, and `assemble` takes their items, made in that order, keeps them, and
 * returns all items in order. The journalists' items (under embargo) stay in memory: the shelf holds public ones.
 */
function lookUpItems(format: FeedFormat, doc: FeedDocument, cache: ItemCache | undefined) {
  const keys = doc.releases.map((release) => itemKey(format, release, doc));
  const kept = keys.map((key) => cache?.get(key));
  const shelf = doc.embargoed ? undefined : cache?.shelf;
  if (shelf && kept.includes(undefined)) {
    const absent = kept.flatMap((item, index) => (item ? [] : [index]));
    const found = shelf.take(format, absent.map((index) => doc.releases[index]!));
    absent.forEach((index, at) => {
      const item = found[at];
      if (!item) return;
      kept[index] = item;
      cache!.set(keys[index]!, item);
    });
  }
  const heads = doc.releases.filter((_release, index) => kept[index] === undefined);
  const missing = heads.length ? doc.load(heads) : [];
  if (missing.some((release, index) => release?.id !== heads[index]!.id) || missing.length !== heads.length) {
    throw new Error('feeds: the releases loaded are not the ones listed');
  }
  return {
    missing,
    assemble(made: readonly Buffer[]): Buffer[] {
      // Kept as the version they were made of: another process may have written a release since its head was read.
      if (shelf && made.length) shelf.put(format, missing, made);
      let next = 0;
      return kept.map((item) => {
        if (item) return item;
        const release = missing[next]!;
        const fresh = made[next++]!;
        cache?.set(itemKey(format, release, doc), fresh);
        return fresh;
      });
    },
  };
}

/**
 * Splits a document the `feed` package wrote into the text before its first item, each item (with the
 * line break and indentation before it) and the text after the last, `count` items expected; with none,
 * the items' place is before the line of `end` (the end tag of the element that holds them).
 */
function splitItems(xml: string, open: string, close: string, end: string, count: number): { head: string; items: string[]; tail: string } {
  const parts = xml.split(close);
  if (parts.length !== count + 1) throw new Error(`feeds: rendered ${open} elements and releases differ in number`);
  if (count === 0) {
    const at = xml.lastIndexOf('\n', xml.lastIndexOf(end));
    return { head: xml.slice(0, at), items: [], tail: xml.slice(at) };
  }
  const first = parts[0]!.lastIndexOf('\n', parts[0]!.indexOf(open));
  const items = parts.slice(0, count).map((part, index) => `${index === 0 ? part.slice(first) : part}${close}`);
  return { head: parts[0]!.slice(0, first), items, tail: parts[count]! };
}

/**
 * Items per document the package writes. Its XML writer joins the whole document into one string at each
 * of its outer levels (root, feed, channel); a string of 128 KB or more (64 Ki characters, once one is
 * outside Latin-1) is a large object in V8, allocated in fresh pages of its own, which costs each join
 * about half a millisecond on a virtual machine: a 50-item RSS feed crossed it. Ten items stay far below.
 */
export const ITEMS_PER_DOCUMENT = 10;

/**
 * The items written `ITEMS_PER_DOCUMENT` at a time, each part a document of its own (`write` returns it
 * split, as splitItems does), in order; the head and tail, which depend on the feed alone, of the first
 * (of one without items when there are none). Throws if the parts' heads or tails differ.
 */
function writtenInParts<T>(all: readonly T[], write: (part: readonly T[]) => { head: string; items: string[]; tail: string }) {
  const first = write(all.slice(0, ITEMS_PER_DOCUMENT));
  const items = first.items;
  for (let start = ITEMS_PER_DOCUMENT; start < all.length; start += ITEMS_PER_DOCUMENT) {
    const part = write(all.slice(start, start + ITEMS_PER_DOCUMENT));
    if (part.head !== first.head || part.tail !== first.tail) throw new Error('feeds: the parts of a document differ outside their items');
    items.push(...part.items);
  }
  return { head: first.head, items, tail: first.tail };
}

function baseFeed(doc: FeedDocument, { baseUrl, site, hub }: FeedSite, self: FeedFormat): Feed {
  return new Feed({
    ...(hub ? { hub } : {}),
    // Every page of a feed is one feed (RFC 5005): its id is the first page's URL; self names the page.
    id: doc.pages?.first?.[self] ?? doc.urls[self],
    title: clean(doc.title),
    description: clean(doc.description),
    link: doc.htmlUrl,
    language: site.language,
    updated: doc.updated,
    generator: 'Herold',
    feedLinks: { [self]: doc.urls[self] },
    image: absoluteUrl(baseUrl, site.logo),
    favicon: absoluteUrl(baseUrl, site.icon),
    copyright: `© ${site.organisation}`,
    author: { name: clean(site.organisation), email: site.contactEmail, link: `${baseUrl}/` },
  });
}

function insertIntoRoot(xml: string, root: string, attributes: Record<string, string>): string {
  const open = `<${root} `;
  const at = xml.indexOf(open);
  if (at === -1) throw new Error(`feeds: rendered document has no <${root}> element`);
  const missing = Object.entries(attributes).filter(([name]) => !xml.slice(at, xml.indexOf('>', at)).includes(`${name}=`));
  const text = missing.map(([name, value]) => `${name}="${escapeHtml(value)}"`).join(' ');
  return text ? `${xml.slice(0, at + open.length)}${text} ${xml.slice(at + open.length)}` : xml;
}

/**
 * Writes the RFC 5005 paging links (first, previous, next, last) beside the feed's self link, as
 * atom:link in RSS (Appendix B) and link in Atom: the `feed` package writes only self and hub.
 */
function withPageLinks(xml: string, doc: FeedDocument, format: 'rss' | 'atom'): string {
  if (!doc.pages) return xml;
  const element = format === 'rss' ? 'atom:link' : 'link';
  const type = FEED_FORMATS[format].contentType.split(';')[0]!;
  const self = new RegExp(`<${element} [^>]*\\brel="self"[^>]*/>`).exec(xml);
  if (!self) throw new Error(`feeds: rendered ${format} has no self link to put paging links beside`);
  const indent = /[ \t]*$/.exec(xml.slice(0, self.index))![0];
  const links = PAGE_RELS.filter((rel) => doc.pages![rel])
    .map((rel) => `\n${indent}<${element} rel="${rel}" href="${escapeHtml(doc.pages![rel]![format])}" type="${type}"/>`).join('');
  const end = self.index + self[0].length;
  return `${xml.slice(0, end)}${links}${xml.slice(end)}`;
}

function mediaContent(item: Media): Record<string, unknown> {
  const medium = item.mime?.startsWith('image/') ? 'image' : 'document';
  const attributes: Record<string, string | number> = { url: item.url, type: item.mime!, fileSize: item.bytes!, medium };
  if (item.width && item.height) Object.assign(attributes, { width: item.width, height: item.height });
  const inner: Record<string, unknown> = { _attributes: attributes };
  if (item.title) inner['media:title'] = { _attributes: { type: 'plain' }, _text: clean(item.title) };
  if (item.caption || item.alt) inner['media:description'] = { _attributes: { type: 'plain' }, _text: clean(item.caption ?? item.alt!) };
  if (item.credit) inner['media:credit'] = { _text: clean(item.credit) };
  return inner;
}

/** The RSS start tag, with every namespace an item may use: the package declares some only when an item it wrote needs them. */
const RSS_ROOT = `<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="${DC_NS}" xmlns:content="${CONTENT_NS}" xmlns:media="${MEDIA_NS}">`;

function withRssRoot(xml: string): string {
  const at = xml.indexOf('<rss ');
  if (at === -1) throw new Error('feeds: rendered document has no <rss> element');
  return `${xml.slice(0, at)}${RSS_ROOT}${xml.slice(xml.indexOf('>', at) + 1)}`;
}

/** One RSS item: title and body as markers (createBodies). */
function rssItem(entry: Entry, bodies: ReturnType<typeof createBodies>): Item {
  const extensions: Extension[] = [{ name: 'dc:creator', objects: { _text: entry.author } }];
  if (entry.media.length) {
    // One <media:content> per file: an array is written as repeated elements.
    extensions.push({ name: 'media:content', objects: entry.media.map(mediaContent) as unknown as Record<string, unknown> });
  }
  const enclosure = entry.media[0];
  return {
    title: entry.title && bodies.defer(entry.title),
    id: entry.guid,
    guid: entry.guid,
    link: entry.url,
    date: entry.updated,
    published: entry.published,
    // Escaped: the CDATA section the package writes around it then holds no "]]>".
    description: escapeHtml(entry.summary),
    content: entry.contentHtml && bodies.defer(entry.contentHtml),
    category: entry.categories.map((category) => ({ name: category.name, domain: category.url })),
    extensions,
    ...(enclosure ? { enclosure: { url: enclosure.url, type: enclosure.mime!, length: enclosure.bytes! } } : {}),
  };
}

/** RSS 2.0 with atom:link self, dc:creator, content:encoded, a measured enclosure and Media RSS. */
function renderRss(doc: FeedDocument, feedSite: FeedSite): Buffer[] {
  const { missing, assemble } = lookUpItems('rss', doc, feedSite.items);
  const bodies = createBodies();
  const { head, items, tail } = writtenInParts(missing, (releases) => {
    const feed = baseFeed(doc, feedSite, 'rss');
    for (const release of releases) feed.addItem(rssItem(toEntry(release, feedSite, doc), bodies));
    return splitItems(withRssRoot(feed.rss2()), '<item>', '</item>', '</channel>', releases.length);
  });
  const made = items.map((item) => utf8(bodies.restore(item)));
  bodies.checkAllRestored();
  return [utf8([withPageLinks(head, doc, 'rss')]), ...assemble(made), utf8([tail])];
}

/** RFC 6721: one at:deleted-entry per tombstone, after the entries. */
function withTombstones(xml: string, doc: FeedDocument): string {
  if (!doc.tombstones?.length) return xml;
  const end = xml.lastIndexOf('</feed>');
  if (end === -1) throw new Error('feeds: rendered Atom has no </feed>');
  const deleted = doc.tombstones.map((tombstone) => `<at:deleted-entry ref="${escapeHtml(clean(tombstone.ref))}" when="${tombstone.when.toISOString()}">`
    + `<at:comment>${escapeHtml(clean(tombstone.comment))}</at:comment></at:deleted-entry>`).join('');
  return `${xml.slice(0, end)}${deleted}${xml.slice(end)}`;
}

function atomEnclosures(entry: Entry): string {
  return entry.media.map((item) => {
    const title = item.title ?? item.alt;
    return `<link rel="enclosure" href="${escapeHtml(item.url)}" type="${escapeHtml(item.mime!)}" length="${item.bytes}"`
      + `${title ? ` title="${escapeHtml(clean(title))}"` : ''}/>`;
  }).join('');
}

/** Atom 1.0 (RFC 4287) with xml:lang, author, categories with term, self/alternate and enclosure links. */
function renderAtom(doc: FeedDocument, feedSite: FeedSite): Buffer[] {
  const { missing, assemble } = lookUpItems('atom', doc, feedSite.items);
  const entries = missing.map((release) => toEntry(release, feedSite, doc));
  const bodies = createBodies();
  const { head, items, tail } = writtenInParts(entries, (part) => {
    const feed = baseFeed(doc, feedSite, 'atom');
    for (const entry of part) {
      feed.addItem({
        // type="html": the text is HTML-escaped so that "&" and "<" stay literal characters.
        title: escapeHtml(entry.title),
        id: entry.guid,
        link: entry.url,
        date: entry.updated,
        published: entry.published,
        description: escapeHtml(entry.summary),
        content: entry.contentHtml && bodies.defer(entry.contentHtml),
        author: [{ name: entry.author }],
        category: entry.categories.map((category) => ({ name: category.name, term: category.term, scheme: category.url.replace(/[^/]+$/, '') })),
      });
    }
    return splitItems(feed.atom1(), '<entry>', '</entry>', '</feed>', part.length);
  });
  // The package writes enclosure links with a type guessed from the file name; measured ones go at the end of each entry instead.
  const made = items.map((item, index) => utf8(bodies.restore(`${item.slice(0, -'</entry>'.length)}${atomEnclosures(entries[index]!)}</entry>`)));
  bodies.checkAllRestored();
  const root = insertIntoRoot(head, 'feed', { 'xml:lang': feedSite.site.language, ...(doc.tombstones?.length ? { 'xmlns:at': TOMBSTONES_NS } : {}) });
  return [utf8([withPageLinks(root, doc, 'atom')]), ...assemble(made), utf8([withTombstones(tail, doc)])];
}

function dropEmpty<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== null && inner !== undefined && inner !== '')) as Partial<T>;
}

/**
 * JSON Feed 1.1 with authors, language, attachments and the `_press_contact` extension. Each item is
 * one piece: the feed without items (`items` is its last member), then the items, exactly the text
 * JSON.stringify makes of the whole.
 */
function renderJson(doc: FeedDocument, feedSite: FeedSite): Buffer[] {
  const { baseUrl, site } = feedSite;
  const json = dropEmpty({
    version: 'https://jsonfeed.org/version/1.1',
    title: clean(doc.title),
    home_page_url: doc.htmlUrl,
    feed_url: doc.urls.json,
    description: clean(doc.description),
    icon: absoluteUrl(baseUrl, site.logo),
    favicon: absoluteUrl(baseUrl, site.icon),
    language: site.language,
    authors: [{ name: clean(site.organisation), url: `${baseUrl}/` }],
    hubs: feedSite.hub ? [{ type: 'WebSub', url: feedSite.hub }] : null,
    next_url: doc.pages?.next?.json,
    items: [],
  });
  const { missing, assemble } = lookUpItems('json', doc, feedSite.items);
  const made = missing.map((release) => {
    const entry = toEntry(release, feedSite, doc);
    return utf8([JSON.stringify(dropEmpty({
      id: entry.guid,
      url: entry.url,
      title: entry.title,
      summary: entry.summary,
      content_html: entry.contentHtml,
      // JSON Feed requires content; a release without a body (a Markdown file of front matter only) has its text.
      content_text: entry.contentHtml ? null : entry.summary || entry.title,
      image: entry.images[0]?.url,
      date_published: entry.published.toISOString(),
      date_modified: entry.updated.toISOString(),
      authors: [{ name: entry.author }],
      tags: entry.categories.map((category) => category.name),
      language: entry.language,
      attachments: entry.media.length
        ? entry.media.map((item) => dropEmpty({
          url: item.url, mime_type: item.mime, size_in_bytes: item.bytes, title: item.title ? clean(item.title) : null,
        }))
        : null,
      _press_contact: entry.contact ? dropEmpty({ ...entry.contact }) : null,
      _embargo: entry.embargoUntil ? { until: entry.embargoUntil.toISOString() } : null,
    }))]);
  });
  const head = JSON.stringify(json);
  if (!head.endsWith('"items":[]}')) throw new Error('feeds: JSON Feed members out of order');
  return [utf8([head.slice(0, -2)]), ...assemble(made).flatMap((item, index) => (index ? [COMMA, item] : [item])), utf8([']}'])];
}

const COMMA = Buffer.from(',');

/** Renders one feed document in the requested format: its UTF-8 bytes. */
export function renderFeed(format: FeedFormat, doc: FeedDocument, feedSite: FeedSite): Buffer {
  switch (format) {
    case 'rss': return Buffer.concat(renderRss(doc, feedSite));
    case 'atom': return Buffer.concat(renderAtom(doc, feedSite));
    case 'json': return Buffer.concat(renderJson(doc, feedSite));
  }
}
