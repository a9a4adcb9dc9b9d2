import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Handler } from '../helpers/upstream.js';

/** When upstream release `index` was published: one per hour from 2020 on, so the order is fixed. */
function publishedAt(index: number): Date {
  return new Date(Date.UTC(2020, 0, 1) + index * 3_600_000);
}

/** The title of upstream release `index`, the same in the feed and in release files; `label` tells two upstreams apart. */
export function largeTitle(index: number, label = 'Mitteilung'): string {
  return `${label} ${index}: Straßenbau & Grünflächen`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function item(index: number, label: string): string {
  return `<item><title>${escapeXml(largeTitle(index, label))}</title><link>/presse/${index}.html</link>`
    + `<guid isPermaLink="false">large-${index}</guid><pubDate>${publishedAt(index).toUTCString()}</pubDate>`
    + `<description>Kurzfassung ${index}</description><content:encoded><![CDATA[<p>Die Stadt informiert über Vorhaben ${index}.</p>`
    + '<p>Weitere Informationen gibt es im Bürgerbüro am Markt.</p>]]></content:encoded>'
    + `<category>${index % 2 ? 'Verkehr' : 'Umwelt'}</category></item>`;
}

/** An RSS 2.0 feed of the releases 0 … count-1, newest first. */
export function largeFeed(count: number, label = 'Mitteilung'): string {
  const items: string[] = [];
  for (let index = count - 1; index >= 0; index--) items.push(item(index, label));
  return '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
    + `<channel><title>Große Quelle</title><link>/</link><description>Viele Mitteilungen</description>${items.join('')}</channel></rss>`;
}

/**
 * A feed upstream whose size the test sets: `count()` releases, rendered once per size and sent without
 * validators (so every run reads and compares it all, as after a crash).
 */
export function largeFeedHandler(count: () => number, label = 'Mitteilung'): Handler {
  let rendered: { count: number; body: Buffer } | null = null;
  return (_req, res) => {
    const wanted = count();
    if (rendered?.count !== wanted) rendered = { count: wanted, body: Buffer.from(largeFeed(wanted, label), 'utf8') };
    res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', 'content-length': String(rendered.body.length) });
    res.end(rendered.body);
  };
}

/** Writes `count` Markdown release files (release-0000.md …) into `folder`. */
export function writeReleaseFiles(folder: string, count: number): void {
  mkdirSync(folder, { recursive: true });
  for (let index = 0; index < count; index++) {
    const name = `release-${String(index).padStart(5, '0')}.md`;
    writeFileSync(path.join(folder, name), `---\ntitle: "${largeTitle(index)}"\ndate: ${publishedAt(index).toISOString()}\n`
      + `topics: ${index % 2 ? 'Verkehr' : 'Umwelt'}\ndepartment: Tiefbauamt\n---\n\nDie Stadt informiert über Vorhaben ${index}.\n`);
  }
}
