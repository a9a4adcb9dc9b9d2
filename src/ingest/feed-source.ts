import { createHash } from 'node:crypto';
import { parseFeed } from 'feedsmith';
import { htmlToText } from '../text.js';
import { parseInstant } from './dates.js';
import type { MediaRef, ParsedRelease, ParseResult, Rejected } from './types.js';

/** Settings of a `feed` source: the upstream feed and the issuer its items are published for. */
export interface FeedSourceSettings {
  readonly url: string;
  readonly organisation?: string;
  readonly department?: string;
  readonly topics?: readonly string[];
}

/** Any feed item, reduced to the fields every format can fill. */
interface Candidate {
  id?: string;
  link?: string;
  title?: string;
  titleIsText?: boolean;
  summary?: string;
  content?: string;
  published?: string;
  updated?: string;
  categories: string[];
  author?: string;
  media: MediaRef[];
  enclosures: MediaRef[];
  language?: string;
}

function absolute(value: string | undefined, base: string): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function textOf(value: string | undefined, isText = false): string {
  if (!value) return '';
  // Titles in the wild carry HTML and entities; Atom's type="text" is the one place where "<" is literal.
  return (isText ? value : htmlToText(value)).replace(/\s+/g, ' ').trim();
}

type AnyFeed = ReturnType<typeof parseFeed>;
type Loose = Record<string, unknown>;

function candidatesOf(parsed: AnyFeed): { items: Candidate[]; link?: string; language?: string } {
  const feed = parsed.feed as Loose;
  if (parsed.format === 'atom') {
    const entries = (feed.entries ?? []) as Loose[];
    const link = ((feed.links ?? []) as Loose[]).find((entry) => (entry.rel ?? 'alternate') === 'alternate')?.href as string | undefined;
    return {
      link,
      items: entries.map((entry) => {
        const links = (entry.links ?? []) as Loose[];
        const title = entry.title as Loose | undefined;
        const content = entry.content as Loose | undefined;
        const summary = entry.summary as Loose | undefined;
        return {
          id: entry.id as string | undefined,
          link: links.find((item) => (item.rel ?? 'alternate') === 'alternate')?.href as string | undefined,
          title: title?.value as string | undefined,
          titleIsText: (title?.type ?? 'text') === 'text',
          summary: summary?.value as string | undefined,
          content: content?.value as string | undefined,
          published: entry.published as string | undefined,
          updated: entry.updated as string | undefined,
          categories: ((entry.categories ?? []) as Loose[]).map((category) => String(category.label ?? category.term ?? '')),
          author: ((entry.authors ?? []) as Loose[])[0]?.name as string | undefined,
          media: mediaContents(entry),
          enclosures: links.filter((item) => item.rel === 'enclosure').map((item) => ({
            url: String(item.href ?? ''), title: (item.title as string | undefined) ?? null,
            mime: (item.type as string | undefined) ?? null, bytes: Number(item.length) || null,
          })),
        };
      }),
    };
  }
  if (parsed.format === 'json') {
    return {
      link: feed.home_page_url as string | undefined,
      language: feed.language as string | undefined,
      items: ((feed.items ?? []) as Loose[]).map((item) => ({
        id: item.id === undefined ? undefined : String(item.id),
        link: (item.url ?? item.external_url) as string | undefined,
        title: item.title as string | undefined,
        summary: item.summary as string | undefined,
        content: (item.content_html as string | undefined) ?? (item.content_text ? escapeText(String(item.content_text)) : undefined),
        published: item.date_published as string | undefined,
        updated: item.date_modified as string | undefined,
        categories: ((item.tags ?? []) as unknown[]).map(String),
        author: (((item.authors ?? []) as Loose[])[0]?.name ?? (item.author as Loose | undefined)?.name) as string | undefined,
        media: item.image ? [{ url: String(item.image) }] : [],
        enclosures: ((item.attachments ?? []) as Loose[]).map((file) => ({
          url: String(file.url ?? ''), title: (file.title as string | undefined) ?? null,
          mime: (file.mime_type as string | undefined) ?? null, bytes: Number(file.size_in_bytes) || null,
        })),
        language: item.language as string | undefined,
      })),
    };
  }
  // RSS 2.0 and RSS 1.0 (RDF) share their item shape in the parser's output.
  return {
    link: feed.link as string | undefined,
    language: feed.language as string | undefined,
    items: ((feed.items ?? []) as Loose[]).map((item) => {
      const guid = item.guid as Loose | string | undefined;
      const dc = (item.dc ?? {}) as Loose;
      return {
        id: typeof guid === 'string' ? guid : (guid?.value as string | undefined),
        link: item.link as string | undefined,
        title: item.title as string | undefined,
        summary: item.description as string | undefined,
        content: (item.content as Loose | undefined)?.encoded as string | undefined,
        published: (item.pubDate ?? (dc.dates as string[] | undefined)?.[0] ?? dc.date) as string | undefined,
        categories: ((item.categories ?? []) as Loose[]).map((category) => String(category.name ?? '')),
        author: ((dc.creators as string[] | undefined)?.[0] ?? (item.authors as string[] | undefined)?.[0]) as string | undefined,
        media: mediaContents(item),
        enclosures: ((item.enclosures ?? []) as Loose[]).map((file) => ({
          url: String(file.url ?? ''), mime: (file.type as string | undefined) ?? null, bytes: Number(file.length) || null,
        })),
      };
    }),
  };
}

function mediaContents(item: Loose): MediaRef[] {
  const media = (item.media ?? {}) as Loose;
  const groups = ((media.groups ?? []) as Loose[]).flatMap((group) => (group.contents ?? []) as Loose[]);
  const contents = [...((media.contents ?? []) as Loose[]), ...groups];
  const thumbnails = ((media.thumbnails ?? []) as Loose[]).map((thumbnail) => ({ url: String(thumbnail.url ?? '') }));
  return [
    ...contents.map((content) => ({
      url: String(content.url ?? ''),
      title: ((content.title as Loose | undefined)?.value as string | undefined) ?? null,
      caption: ((content.description as Loose | undefined)?.value as string | undefined) ?? null,
      credit: (((content.credits ?? []) as Loose[])[0]?.value as string | undefined) ?? null,
      mime: (content.type as string | undefined) ?? null,
      bytes: Number(content.fileSize) || null,
    })),
    ...(contents.length ? [] : thumbnails),
  ];
}

function escapeText(text: string): string {
  return text.split(/\n{2,}/).map((part) => `<p>${part.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>`).join('');
}

function isImage(ref: MediaRef): boolean {
  return ref.mime ? ref.mime.startsWith('image/') : /\.(jpe?g|png|gif|webp|avif)(\?|$)/i.test(ref.url);
}

/**
 * Reads an upstream RSS 2.0, RSS 1.0, Atom 1.0 or JSON Feed (1.0, 1.1) document, already decoded
 * to text. Items without a title or a readable date are rejected with the reason; an item without
 * a GUID is identified by its link, or else by a hash of its title and date.
 */
export function parseFeedSource(text: string, feedUrl: string, settings: FeedSourceSettings): ParseResult {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  let parsed: AnyFeed;
  try {
    parsed = parseFeed(trimmed.startsWith('{') ? JSON.parse(trimmed) : trimmed);
  } catch (error) {
    throw new Error(`feed ${feedUrl}: not a readable RSS, Atom or JSON Feed document: ${(error as Error).message}`);
  }
  const { items, link, language } = candidatesOf(parsed);
  const base = absolute(link, feedUrl) ?? feedUrl;
  const releases: ParsedRelease[] = [];
  const rejected: Rejected[] = [];
  for (const [index, item] of items.entries()) {
    const url = absolute(item.link, base) ?? null;
    const title = textOf(item.title, item.titleIsText);
    const published = parseInstant(item.published ?? item.updated ?? '');
    const ref = item.id?.trim() || url || (title && published
      ? `sha256:${createHash('sha256').update(`${title}\n${published}`).digest('hex').slice(0, 32)}` : '');
    const where = ref || `item ${index + 1}`;
    if (!title) {
      rejected.push({ ref: where, reason: `no title (${feedUrl})` });
      continue;
    }
    if (!published) {
      rejected.push({ ref: where, reason: `no readable date: "${item.published ?? item.updated ?? ''}" (${feedUrl})` });
      continue;
    }
    const updated = item.updated && item.published ? parseInstant(item.updated) : null;
    const resolve = (ref: MediaRef): MediaRef | null => {
      const resolved = absolute(ref.url, base);
      return resolved ? { ...ref, url: resolved } : null;
    };
    const files = [...item.media, ...item.enclosures].map(resolve).filter((ref): ref is MediaRef => ref !== null);
    const unique = files.filter((file, position) => files.findIndex((other) => other.url === file.url) === position);
    const summary = item.summary ? textOf(item.summary) : null;
    const body = item.content ?? item.summary ?? '';
    releases.push({
      ref,
      url,
      title,
      subtitle: item.content && summary ? summary : null,
      bodyHtml: body,
      publishedAt: published,
      updatedAt: updated && updated > published ? updated : null,
      organisation: settings.organisation ?? null,
      department: settings.department ?? null,
      contact: null,
      topics: [...new Set([...(settings.topics ?? []), ...item.categories.map((category) => textOf(category)).filter(Boolean)])],
      images: unique.filter(isImage),
      attachments: unique.filter((file) => !isImage(file)),
      language: item.language ?? language ?? null,
    });
  }
  return { releases, rejected };
}
