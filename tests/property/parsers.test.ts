import { load } from 'cheerio';
import type { Element } from 'domhandler';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { migrate } from '../../src/db/migrations.js';
import { createSearchMatch, foldGerman, indexWords, searchableText } from '../../src/db/search-text.js';
import { parseContactBlock } from '../../src/ingest/contact.js';
import { parseGermanDate, parseInstant } from '../../src/ingest/dates.js';
import { parseFeedSource } from '../../src/ingest/feed-source.js';
import { parseListing, parseReleasePage } from '../../src/ingest/html-site.js';
import { parseMarkdownRelease } from '../../src/ingest/markdown.js';
import { parseTextRelease } from '../../src/ingest/text-release.js';
import { excerpt, htmlToText, sanitizeBody, slugify, stripXmlForbidden } from '../../src/text.js';
import { KREIS, RATHAUS } from '../helpers/sites.js';
import { anyString, htmlFragment, nastyString, oddDate, textOrHtml, throwsOnlyPlainError, XML_FORBIDDEN } from './arbitraries.js';

const RUNS = { numRuns: 200 };
const TIMEOUT = 15_000;
const isInstant = (value: string | null) => value === null || (/^\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$|^[+-]\d{6}-/.test(value) && Number.isFinite(Date.parse(value)));

describe('dates never throw and give ISO instants or null', () => {
  test('parseGermanDate', () => {
    fc.assert(fc.property(fc.oneof(oddDate, anyString), fc.option(fc.constantFrom('dd.MM.yyyy', "'am' d. MMMM yyyy", 'yyyy', 'x', "'", '')),
      fc.constantFrom('Europe/Berlin', 'UTC', 'Invalid/Zone'), (text, format, zone) => {
        const found = parseGermanDate(text, { zone, ...(format !== null ? { format } : {}) });
        expect(found === null || typeof found === 'string').toBe(true);
      }), RUNS);
  }, TIMEOUT);

  test('parseInstant', () => {
    fc.assert(fc.property(fc.oneof(oddDate, anyString), (text) => {
      const found = parseInstant(text);
      expect(found === null || Number.isFinite(Date.parse(found))).toBe(true);
    }), { numRuns: 400 });
  }, TIMEOUT);

  test('parseInstant and parseGermanDate in a valid zone give a parseable instant', () => {
    fc.assert(fc.property(oddDate, (text) => {
      expect(isInstant(parseGermanDate(text)) || Number.isFinite(Date.parse(parseGermanDate(text)!))).toBe(true);
    }), RUNS);
  }, TIMEOUT);
});

describe('release parsers throw nothing but an Error with a message', () => {
  const textRelease = fc.tuple(nastyString(40), nastyString(40), fc.array(textOrHtml, { maxLength: 4 }), oddDate, fc.array(nastyString(30), { maxLength: 6 }))
    .map(([title, teaser, paragraphs, date, contact]) => [title, '', teaser, '', ...paragraphs.flatMap((p) => [p, '']), `Herausgegeben am ${date} von:`, ...contact].join('\n'));

  test('parseTextRelease', () => {
    fc.assert(fc.property(fc.oneof(textRelease, anyString), (text) => throwsOnlyPlainError(() => parseTextRelease(text, 'ref.txt'))), RUNS);
  }, TIMEOUT);

  const yamlValue = fc.oneof(nastyString(20), oddDate, fc.constantFrom('[a, b]', '{x: 1}', '|', '>', '- a', '"', "'", '&a', '*a', '!!binary x', '~', 'null', '[', '{', '? x'));
  const yamlKey = fc.constantFrom('title', 'date', 'subtitle', 'updated', 'embargo', 'organisation', 'department', 'topics', 'image', 'attachments', 'contact', 'guid', 'language', 'unknown', 'image.src');
  const markdownRelease = fc.tuple(fc.array(fc.tuple(yamlKey, yamlValue, fc.constantFrom('', '  ')), { maxLength: 8 }), textOrHtml)
    .map(([fields, body]) => `---\n${fields.map(([k, v, indent]) => `${indent}${k}: ${v}`).join('\n')}\n---\n${body}`);

  test('parseMarkdownRelease', () => {
    fc.assert(fc.property(fc.oneof(markdownRelease, anyString), (text) => throwsOnlyPlainError(() => parseMarkdownRelease(text, 'ref.md'))), RUNS);
  }, TIMEOUT);

  const feedItem = fc.tuple(textOrHtml, textOrHtml, oddDate, nastyString(20), fc.boolean()).map(([title, body, date, link, cdata]) =>
    `<item><title>${title}</title><link>${link}</link><guid>${link}</guid><pubDate>${date}</pubDate><description>${cdata ? `<![CDATA[${body}]]>` : body}</description><category>${title}</category><enclosure url="${link}" type="${title}" length="${date}"/></item>`);
  const atomEntry = fc.tuple(textOrHtml, textOrHtml, oddDate, nastyString(20), fc.constantFrom('text', 'html', 'xhtml', 'bogus')).map(([title, body, date, id, type]) =>
    `<entry><id>${id}</id><title type="${type}">${title}</title><updated>${date}</updated><published>${date}</published><link href="${id}"/><content type="${type}">${body}</content></entry>`);
  const feedText = fc.oneof(
    fc.array(feedItem, { maxLength: 3 }).map((items) => `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><link>http://x/</link><description>D</description>${items.join('')}</channel></rss>`),
    fc.array(atomEntry, { maxLength: 3 }).map((entries) => `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>${entries.join('')}</feed>`),
    fc.tuple(nastyString(30), nastyString(30), oddDate).map(([title, body, date]) => JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'T', items: [{ id: title, title, content_html: body, date_published: date }] })),
    anyString,
  );

  test('parseFeedSource', () => {
    fc.assert(fc.property(feedText, (text) => throwsOnlyPlainError(() => {
      const result = parseFeedSource(text, 'https://presse.example/feed.xml', { url: 'https://presse.example/feed.xml', organisation: 'Stadt', topics: ['Verkehr'] });
      expect(Array.isArray(result.releases) && Array.isArray(result.rejected)).toBe(true);
    })), RUNS);
  }, TIMEOUT);

  test('parseListing and parseReleasePage', () => {
    const page = fc.tuple(htmlFragment, htmlFragment, oddDate).map(([head, body, date]) =>
      `<!doctype html><html><head><base href="${head.slice(0, 20)}">${head}</head><body><div id="content"><article class="pressemitteilung"><h1>${head}</h1>${body}<div class="herausgeber"><p>Herausgegeben am ${date} von:</p><p>${body}</p></div></article><h2 class="headline">${head}</h2><time datetime="${date}">${date}</time></div><ul class="liste"><li><a href="${head}">x</a></li></ul><div class="blaettern"><a href="?p=${date}">Weiter</a></div></body></html>`);
    fc.assert(fc.property(fc.oneof(page, textOrHtml), fc.constantFrom(RATHAUS, KREIS), fc.constantFrom('https://rathaus.lindenau.example/a/b.html', 'https://ä.example/x?y#z'), (html, settings, url) => {
      throwsOnlyPlainError(() => parseListing(html, url, settings));
      throwsOnlyPlainError(() => parseReleasePage(html, url, settings));
    }), { numRuns: 150 });
  }, TIMEOUT);

  test('regression: lone surrogates in a quoted attribute value crashed parse5 with a RangeError', () => {
    const html = '<ul class="liste"><li><a href="<p>\udc00\udc00">x</a></li></ul>';
    expect(parseListing(html, 'https://rathaus.lindenau.example/a/b.html', RATHAUS).links).toHaveLength(1);
    expect(() => parseReleasePage(html, 'https://rathaus.lindenau.example/a/b.html', RATHAUS)).toThrow(/no title/);
  });

  test('parseContactBlock', () => {
    const line = fc.oneof(nastyString(30), fc.constantFrom('fon: 0241 432-0', 'fax:', 'mail: a@b', 'E-Mail: <x@y>', '52062 Aachen', 'Markt 1', 'Fachbereich Presse', 'Dr. Max Mustermann', 'Telefon +49 (0) 241'));
    fc.assert(fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
      const block = parseContactBlock(lines);
      expect(block).toHaveProperty('contact');
    }), RUNS);
  }, TIMEOUT);
});

describe('text functions', () => {
  test('stripXmlForbidden leaves no forbidden character and keeps allowed ones', () => {
    fc.assert(fc.property(anyString, (text) => {
      const stripped = stripXmlForbidden(text);
      expect(XML_FORBIDDEN.test(stripped)).toBe(false);
      expect(stripXmlForbidden(stripped)).toBe(stripped);
    }), RUNS);
  }, TIMEOUT);

  test('sanitizeBody gives no forbidden character, no script, no "]]>", and is stable', () => {
    fc.assert(fc.property(textOrHtml, fc.constantFrom('https://presse.example/a/b.html', 'not a url'), (html, base) => {
      const clean = sanitizeBody(html, base);
      expect(XML_FORBIDDEN.test(clean)).toBe(false);
      expect(clean).not.toContain(']]>');
      const $ = load(clean);
      for (const element of $('*').toArray() as Element[]) {
        expect(['html', 'head', 'body', 'script', 'iframe', 'style'].includes(element.tagName) ? element.tagName : 'ok').toMatch(/^(ok|html|head|body)$/);
        for (const [name, value] of Object.entries(element.attribs)) {
          expect(name).not.toMatch(/^on/i);
          // Relative URLs stay relative only when the base is no URL to resolve them against.
          if (name === 'href' || name === 'src') expect(value).toMatch(base.startsWith('https:') ? /^(https?:|mailto:|tel:|data:)/i : /^(?!\s*javascript:)/i);
        }
      }
      expect(typeof htmlToText(clean)).toBe('string');
    }), RUNS);
  }, TIMEOUT);

  test('regression: a character reference to a forbidden character ("&#xFFFF;") came out of sanitizeBody as the character', () => {
    for (const html of ['&#xFFFF;', '<p>a&#xFFFE;b</p>', '<a href="http://x/" title="&#xFFFF;">x</a>', '&#1;&#xB;']) {
      expect(XML_FORBIDDEN.test(sanitizeBody(html, 'https://presse.example/'))).toBe(false);
    }
  });

  test('htmlToText, slugify, excerpt never throw and keep their shapes', () => {
    fc.assert(fc.property(textOrHtml, fc.integer({ min: 1, max: 400 }), (text, max) => {
      expect(typeof htmlToText(text)).toBe('string');
      const slug = slugify(text);
      expect(slug).toMatch(/^[a-z0-9-]*$/);
      expect(slug.length).toBeLessThanOrEqual(80);
      const cut = excerpt(text, max);
      expect([...cut].length <= max || cut.length <= max).toBe(true);
    }), RUNS);
  }, TIMEOUT);

  test('foldGerman, searchableText and the search match never throw; FTS5 takes every match as words alone', () => {
    const db = new Database(':memory:');
    migrate(db);
    const match = createSearchMatch(db);
    const addWords = db.prepare(`INSERT OR IGNORE INTO search_words (word) SELECT value FROM json_each(?)`);
    const run = db.prepare(`SELECT count(*) FROM release_search WHERE release_search MATCH ?`).pluck();
    const quoted = '"[\\p{L}\\p{N}\\p{Co}]+"';
    const group = `\\((?:${quoted}(?: OR ${quoted})*|${quoted}\\*)\\)`;
    const shape = new RegExp(`^${group}(?: AND ${group})*$`, 'u');
    fc.assert(fc.property(anyString, anyString, (indexed, typed) => {
      expect(typeof foldGerman(typed)).toBe('string');
      const searchable = searchableText(indexed);
      expect(searchable).toMatch(/^(?:[\p{L}\p{N}\p{Co}]+(?: [\p{L}\p{N}\p{Co}]+)*)?$/u);
      addWords.run(JSON.stringify(indexWords([searchable])));
      // Typed as it was indexed, its words are known: a match unless it has no word.
      expect(match(indexed) === null).toBe(!/[\p{L}\p{N}\p{Co}]/u.test(foldGerman(indexed)));
      for (const text of [typed, indexed, indexed.slice(0, indexed.length >> 1)]) {
        const found = match(text);
        if (found === null) continue;
        expect(found).toMatch(shape);
        expect(() => run.get(found)).not.toThrow();
      }
    }), RUNS);
    db.close();
  }, TIMEOUT);
});
