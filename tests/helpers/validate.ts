import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jsonFeedSchema = require('jsonfeed-schema/schema-v1.1.json') as object;

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validateJsonFeed = ajv.compile(jsonFeedSchema);

/** Characters XML 1.0 forbids anywhere in a document. */
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** Well-formedness problems of an XML document (empty when well-formed). */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  if (FORBIDDEN.test(xml)) problems.push('contains a character XML 1.0 forbids');
  const result = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (result !== true) problems.push(`not well-formed: ${result.err.msg} (line ${result.err.line})`);
  return problems;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  cdataPropName: false as unknown as string,
  isArray: (name) => ['entry', 'item', 'link', 'category', 'author', 'atom:link', 'media:content', 'enclosure', 'guid',
    'title', 'id', 'updated', 'published', 'content', 'summary', 'pubDate', 'description', 'dc:creator', 'contributor'].includes(name),
});

type Node = Record<string, unknown>;
const list = (value: unknown): Node[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]) as Node[];
const text = (value: unknown): string => {
  const node = list(value)[0];
  if (node === undefined) return '';
  return typeof node === 'string' ? node : String((node as Node)['#text'] ?? '');
};

/** RFC 3339 date-time as Atom requires (section 3.3). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** RFC 822 date-time with a four-digit year, as the W3C validator accepts for RSS. */
const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|UT|[+-]\d{4})$/;
const MEDIA_TYPE = /^[a-z]+\/[a-z0-9.+-]+$/;
const ABSOLUTE_IRI = /^[a-z][a-z0-9+.-]*:\S+$/i;

/** The W3C validator's "full URL": http(s), and a host with a dot (it refuses "localhost"). */
function fullUrl(value: unknown): boolean {
  try {
    const url = new URL(String(value));
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.includes('.');
  } catch {
    return false;
  }
}

/** Violations of RFC 4287 (the rules that can be checked on the document alone). */
export function atomProblems(xml: string, expectedSelf: string): string[] {
  const problems = xmlProblems(xml);
  if (problems.length) return problems;
  const feed = parser.parse(xml).feed as Node | undefined;
  if (!feed) return ['root element is not atom:feed'];
  if (feed['@xmlns'] !== 'http://www.w3.org/2005/Atom') problems.push('feed is not in the Atom namespace');
  if (!feed['@xml:lang']) problems.push('feed has no xml:lang');
  for (const element of ['id', 'title', 'updated']) {
    if (list(feed[element]).length !== 1) problems.push(`feed must contain exactly one atom:${element} (4.1.1)`);
  }
  if (!ABSOLUTE_IRI.test(text(feed.id))) problems.push('feed atom:id is not an absolute IRI (4.2.6)');
  if (!RFC3339.test(text(feed.updated))) problems.push(`feed atom:updated is not RFC 3339: ${text(feed.updated)}`);
  const links = list(feed.link);
  const self = links.filter((link) => link['@rel'] === 'self');
  if (self.length !== 1 || self[0]!['@href'] !== expectedSelf) problems.push(`feed self link is not ${expectedSelf}`);
  if (!links.some((link) => (link['@rel'] ?? 'alternate') === 'alternate')) problems.push('feed has no alternate link');
  const feedAuthors = list(feed.author);
  for (const author of feedAuthors) if (!text(author.name)) problems.push('atom:author without atom:name (3.2.1)');
  const ids = new Set<string>();
  for (const [index, entry] of list(feed.entry).entries()) {
    const where = `entry ${index + 1}`;
    for (const element of ['id', 'title', 'updated']) {
      if (list(entry[element]).length !== 1) problems.push(`${where}: must contain exactly one atom:${element} (4.1.2)`);
    }
    for (const element of ['published', 'summary', 'content']) {
      if (list(entry[element]).length > 1) problems.push(`${where}: more than one atom:${element}`);
    }
    const id = text(entry.id);
    if (!ABSOLUTE_IRI.test(id)) problems.push(`${where}: atom:id is not an absolute IRI: ${id}`);
    if (ids.has(id)) problems.push(`${where}: duplicate atom:id ${id}`);
    ids.add(id);
    for (const element of ['updated', 'published']) {
      const value = text(entry[element]);
      if (list(entry[element]).length && !RFC3339.test(value)) problems.push(`${where}: atom:${element} is not RFC 3339: ${value}`);
    }
    if (!feedAuthors.length && !list(entry.author).length) problems.push(`${where}: no atom:author and none on the feed (4.1.1)`);
    const entryLinks = list(entry.link);
    const alternates = entryLinks.filter((link) => (link['@rel'] ?? 'alternate') === 'alternate');
    if (!list(entry.content).length && !alternates.length) problems.push(`${where}: neither content nor alternate link (4.1.2)`);
    const alternateKeys = alternates.map((link) => `${link['@type'] ?? ''}|${link['@hreflang'] ?? ''}`);
    if (new Set(alternateKeys).size !== alternateKeys.length) problems.push(`${where}: two alternate links with the same type and hreflang`);
    for (const link of entryLinks) {
      if (!ABSOLUTE_IRI.test(String(link['@href'] ?? ''))) problems.push(`${where}: link without absolute href`);
      if (link['@rel'] === 'enclosure') {
        if (!MEDIA_TYPE.test(String(link['@type'] ?? ''))) problems.push(`${where}: enclosure link without a media type`);
        if (!/^[1-9]\d*$/.test(String(link['@length'] ?? ''))) problems.push(`${where}: enclosure link without a length`);
      }
    }
    for (const category of list(entry.category)) {
      if (!category['@term']) problems.push(`${where}: atom:category without term (4.2.2)`);
    }
    for (const element of ['title', 'summary', 'content']) {
      const node = list(entry[element])[0];
      const type = node && typeof node === 'object' ? node['@type'] : undefined;
      if (type !== undefined && !['text', 'html', 'xhtml'].includes(String(type)) && element !== 'content') {
        problems.push(`${where}: atom:${element} has type ${String(type)}`);
      }
    }
  }
  // RFC 6721 tombstones: allowed beside the entries, in their namespace, naming a removed entry and when.
  for (const [index, deleted] of list(feed['at:deleted-entry']).entries()) {
    const where = `at:deleted-entry ${index + 1}`;
    if (feed['@xmlns:at'] !== 'http://purl.org/atompub/tombstones/1.0') problems.push(`${where}: tombstones namespace not declared as "at"`);
    if (!ABSOLUTE_IRI.test(String(deleted['@ref'] ?? ''))) problems.push(`${where}: ref is not an absolute IRI (RFC 6721 2.1)`);
    if (!RFC3339.test(String(deleted['@when'] ?? ''))) problems.push(`${where}: when is not RFC 3339 (RFC 6721 2.1)`);
    if (ids.has(String(deleted['@ref']))) problems.push(`${where}: ${String(deleted['@ref'])} is also an entry of the feed`);
  }
  return problems;
}

/** Violations of the RSS 2.0 rules the W3C Feed Validator applies to what Herold writes. */
export function rssProblems(xml: string, expectedSelf: string): string[] {
  const problems = xmlProblems(xml);
  if (problems.length) return problems;
  const rss = parser.parse(xml).rss as Node | undefined;
  if (!rss || rss['@version'] !== '2.0') return ['root element is not rss version="2.0"'];
  const channel = rss.channel as Node;
  for (const element of ['title', 'link', 'description']) {
    if (!text(channel[element]).trim() && channel[element] === undefined) problems.push(`channel: missing ${element} (MissingElement)`);
  }
  if (!/^[a-z]{2,3}(-[a-zA-Z]{2,8})?$/.test(text(channel.language))) problems.push('channel: language missing or invalid');
  for (const element of ['lastBuildDate', 'pubDate']) {
    if (channel[element] !== undefined && !RFC822.test(text(channel[element]))) problems.push(`channel: ${element} is not RFC 822`);
  }
  const self = list(channel['atom:link']).filter((link) => link['@rel'] === 'self');
  if (self.length !== 1) problems.push('channel: no atom:link rel="self" (MissingAtomSelfLink)');
  else {
    if (self[0]!['@href'] !== expectedSelf) problems.push(`channel: self link ${String(self[0]!['@href'])} is not ${expectedSelf}`);
    if (self[0]!['@type'] !== 'application/rss+xml') problems.push('channel: self link type is not application/rss+xml');
  }
  if (!rss['@xmlns:atom']) problems.push('atom namespace not declared');
  const guids = new Set<string>();
  for (const [index, item] of list(channel.item).entries()) {
    const where = `item ${index + 1}`;
    if (!text(item.title) && !text(item.description)) problems.push(`${where}: neither title nor description (ItemMustContainTitleOrDescription)`);
    if (!fullUrl(text(item.link))) problems.push(`${where}: link is not a full URL`);
    const guid = list(item.guid)[0];
    if (!guid) problems.push(`${where}: no guid (MissingGuid)`);
    else {
      const value = text(item.guid);
      const permalink = typeof guid === 'object' ? guid['@isPermaLink'] : undefined;
      if (permalink !== 'false' && !/^https?:\/\//.test(value)) problems.push(`${where}: guid is a permalink but not a URL`);
      if (guids.has(value)) problems.push(`${where}: duplicate guid`);
      guids.add(value);
    }
    if (list(item.pubDate).length !== 1 || !RFC822.test(text(item.pubDate))) problems.push(`${where}: pubDate missing or not RFC 822: ${text(item.pubDate)}`);
    for (const author of list(item.author)) {
      if (!/^[^@\s]+@[^@\s]+\.[a-z]+( \(.+\))?$/i.test(text(author))) problems.push(`${where}: author is not an e-mail address (InvalidContact)`);
    }
    if (!text(item['dc:creator'])) problems.push(`${where}: no dc:creator`);
    const enclosures = list(item.enclosure);
    if (enclosures.length > 1) problems.push(`${where}: more than one enclosure`);
    for (const enclosure of enclosures) {
      if (!fullUrl(enclosure['@url'])) problems.push(`${where}: enclosure url is not a full URL (InvalidURLAttribute)`);
      if (!/^[1-9]\d*$/.test(String(enclosure['@length'] ?? ''))) problems.push(`${where}: enclosure length is not a positive integer`);
      if (!MEDIA_TYPE.test(String(enclosure['@type'] ?? ''))) problems.push(`${where}: enclosure type is not a media type`);
    }
    for (const media of list(item['media:content'])) {
      if (!fullUrl(media['@url'])) problems.push(`${where}: media:content url is not a full URL`);
      if (!MEDIA_TYPE.test(String(media['@type'] ?? ''))) problems.push(`${where}: media:content without type`);
      if (!/^\d+$/.test(String(media['@fileSize'] ?? ''))) problems.push(`${where}: media:content without fileSize`);
    }
    for (const category of list(item.category)) {
      if (!text(category).trim()) problems.push(`${where}: empty category`);
    }
  }
  return problems;
}

/** Violations of the JSON Feed 1.1 schema, plus the 1.1 rules the schema leaves out. */
export function jsonFeedProblems(body: string): string[] {
  let feed: Record<string, unknown>;
  try {
    feed = JSON.parse(body) as Record<string, unknown>;
  } catch (error) {
    return [`not JSON: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  if (!validateJsonFeed(feed)) {
    problems.push(...(validateJsonFeed.errors ?? []).map((error) => `${error.instancePath} ${error.message}`));
  }
  if (feed.version !== 'https://jsonfeed.org/version/1.1') problems.push('version is not 1.1');
  if ('author' in feed) problems.push('uses the 1.0 "author" instead of "authors"');
  const items = Array.isArray(feed.items) ? (feed.items as Array<Record<string, unknown>>) : [];
  for (const [index, item] of items.entries()) {
    if (typeof item.id !== 'string' || !item.id) problems.push(`item ${index + 1}: no id`);
    if ('author' in item) problems.push(`item ${index + 1}: uses the 1.0 "author"`);
    if (!item.content_html && !item.content_text) problems.push(`item ${index + 1}: no content`);
  }
  return problems;
}
