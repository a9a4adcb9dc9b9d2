import transliterateSlug from '@sindresorhus/slugify';
import { decodeHTML } from 'entities';
import sanitize from 'sanitize-html';

/** Characters XML 1.0 forbids (C0 controls but tab, LF, CR; lone surrogates; U+FFFE/U+FFFF). */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Removes every character that XML 1.0 does not allow, so no output can be broken by one. */
export function stripXmlForbidden(value: string): string {
  return value.replace(XML_FORBIDDEN, '');
}

/** ASCII slug with German transliteration ("Jülicher Straße" → "juelicher-strasse"), at most 80 characters. */
export function slugify(value: string): string {
  const slug = transliterateSlug(value);
  if (slug.length <= 80) return slug;
  const cut = slug.slice(0, 80);
  return cut.includes('-') ? cut.slice(0, cut.lastIndexOf('-')) : cut;
}

/** Escapes text for HTML and XML content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const ALLOWED: sanitize.IOptions = {
  allowedTags: ['p', 'br', 'h2', 'h3', 'h4', 'strong', 'b', 'em', 'i', 'u', 'a', 'ul', 'ol', 'li', 'blockquote',
    'figure', 'figcaption', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'abbr', 'sub', 'sup', 'hr', 'small'],
  allowedAttributes: {
    a: ['href', 'title', 'hreflang'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    abbr: ['title'],
    th: ['scope', 'colspan', 'rowspan'],
    td: ['colspan', 'rowspan'],
  },
  allowedSchemes: ['http', 'https', 'mailto', 'tel'],
  allowedSchemesByTag: { img: ['http', 'https', 'data'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: ['style', 'script', 'textarea', 'option', 'noscript', 'template', 'iframe', 'object'],
};

/** The data: URLs an image may have: raster pictures, which cannot run anything. */
const RASTER_DATA_URL = /^data:image\/(?:png|jpeg|gif|webp|avif)[;,]/;

/**
 * Sanitizes upstream or authored HTML once, at ingest: an allowlist of tags and attributes,
 * only http(s)/mailto/tel links, relative URLs made absolute against `baseUrl`.
 */
export function sanitizeBody(html: string, baseUrl: string): string {
  const absolute = (value: string): string => {
    try {
      return new URL(value, baseUrl).href;
    } catch {
      return value;
    }
  };
  const clean = sanitize(stripXmlForbidden(html), {
    ...ALLOWED,
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: attribs.href ? { ...attribs, href: absolute(attribs.href) } : attribs }),
      img: (tagName, attribs) => {
        const { src, ...rest } = attribs;
        if (!src) return { tagName, attribs };
        // A data: URL only as a raster picture: an SVG or HTML document posing as an image is dropped.
        const compact = src.replace(/[\u0000-\u0020]/g, '').toLowerCase();
        if (compact.startsWith('data:') && !RASTER_DATA_URL.test(compact)) return { tagName, attribs: rest };
        return { tagName, attribs: { ...attribs, src: absolute(src) } };
      },
    },
    exclusiveFilter: (frame) => frame.tag === 'p' && !frame.text.trim() && !frame.mediaChildren.length,
  });
  // sanitize-html decodes character references ("&#xFFFF;") and writes some back as characters: strip again.
  return stripXmlForbidden(clean).replace(/\]\]>/g, ']]&gt;').trim();
}

/** Plain text of sanitized HTML: block elements become paragraph breaks, whitespace collapsed. */
export function htmlToText(html: string): string {
  const text = sanitize(html.replace(/<\/(p|h[1-6]|li|blockquote|figcaption|tr)>|<br\s*\/?>/gi, '$&\n\n'), {
    allowedTags: [],
    allowedAttributes: {},
    nonTextTags: ['style', 'script', 'textarea', 'option', 'noscript', 'template'],
  });
  return decodeHTML(text)
    .split(/\n{2,}/)
    .map((part) => part.replace(/\s+/g, ' ').trim())
    .filter(Boolean)
    .join('\n\n');
}

/** The first `max` characters of a text, cut at a word boundary, with an ellipsis when cut. */
export function excerpt(text: string, max = 240): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,.;:–-]+$/, '')}…`;
}

/** Tags that separate paragraphs or cells: text on either side of one never runs together. */
const BLOCK_BOUNDARY = /<\/?(?:p|h[1-6]|ul|ol|li|blockquote|figure|figcaption|table|thead|tbody|tr|th|td|hr|br|div)\b[^>]*>/gi;

/**
 * What a reader gets from sanitized HTML: the text, paragraph by paragraph with whitespace collapsed,
 * and where its links and images point. Two bodies with the same essence differ only in markup
 * (`<b>` for `<strong>`, re-indentation), which is no correction.
 */
export function readerEssence(html: string): { text: string[]; links: string[] } {
  const links = [...html.matchAll(/<(a|img)\b[^>]*>/gi)].map(([tag, name]) => {
    const attributes = Object.fromEntries([...tag.matchAll(/\s(href|src|alt)="([^"]*)"/gi)].map(([, key, value]) => [key!.toLowerCase(), value!]));
    return name!.toLowerCase() === 'a' ? `a ${attributes.href ?? ''}` : `img ${attributes.src ?? ''} ${attributes.alt ?? ''}`;
  });
  // Line breaks in the source are spaces; only block boundaries separate paragraphs.
  const text = decodeHTML(html.replace(/\s+/g, ' ').replace(BLOCK_BOUNDARY, '\n').replace(/<[^>]*>/g, ''))
    .split('\n')
    .map((part) => part.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  return { text, links };
}
