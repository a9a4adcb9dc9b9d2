import type { Config } from '../config.js';
import { absoluteUrl } from '../feeds/build.js';
import { html, type SafeHtml } from './html.js';
import { stringsFor } from './strings.js';

/** A feed link for autodiscovery and subscription. */
export interface FeedLink {
  readonly title: string;
  /** Site path without extension, e.g. "/feeds/topics/verkehr". */
  readonly path: string;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#4d5560;--accent:#0b5394;--line:#d5d9de}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaed;--bg:#15181c;--muted:#b3bac2;--accent:#8cc4ff;--line:#39414a}}
*{box-sizing:border-box}body{margin:0;font:1.0625rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem}
header,main,footer{max-width:46rem;margin:0 auto;padding:1rem}header{border-bottom:1px solid var(--line)}
footer{border-top:1px solid var(--line);color:var(--muted);font-size:.9rem}
.feeds{list-style:none;padding:0}.feeds li{margin:.25rem 0}.muted{color:var(--muted)}
`;

/** The page frame: language, landmarks, feed autodiscovery; no script, no third-party request. */
export function layout(config: Config, page: { title: string; feeds: readonly FeedLink[]; body: SafeHtml; canonical: string }): string {
  const t = stringsFor(config.site.language);
  const alternates = page.feeds.flatMap((feed) => [
    html`<link rel="alternate" type="application/rss+xml" title="${feed.title} (RSS)" href="${config.baseUrl}${feed.path}.rss">`,
    html`<link rel="alternate" type="application/atom+xml" title="${feed.title} (Atom)" href="${config.baseUrl}${feed.path}.atom">`,
    html`<link rel="alternate" type="application/feed+json" title="${feed.title} (JSON Feed)" href="${config.baseUrl}${feed.path}.json">`,
  ]);
  return `<!doctype html>\n${html`<html lang="${config.site.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<link rel="canonical" href="${page.canonical}">
<link rel="icon" href="${absoluteUrl(config.baseUrl, config.site.icon)}">
${alternates}
<style>${STYLE}</style>
</head>
<body>
<a class="skip" href="#inhalt">${t.skipToContent}</a>
<header><a href="${config.baseUrl}/">${config.site.name}</a></header>
<main id="inhalt">
${page.body}
</main>
<footer><a href="${config.baseUrl}/feeds">${t.feeds}</a> · <a href="${config.baseUrl}/feeds.opml">OPML</a></footer>
</body>
</html>`.value}\n`;
}
