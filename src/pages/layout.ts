import type { Config } from '../config.js';
import { absoluteUrl } from '../feeds/build.js';
import { html, trusted, type SafeHtml } from './html.js';
import { writeHead, type PageMeta } from './meta.js';
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
h1{font-size:clamp(1.6rem,7vw,2.4rem);line-height:1.2}h1,h2,h3,p,li,a{overflow-wrap:break-word;hyphens:auto}
.feeds{list-style:none;padding:0}.feeds li{margin:.25rem 0}.muted{color:var(--muted)}
.list-search{margin:1rem 0 1.5rem}.list-search label{display:block;font-weight:600}
.list-search-row{display:flex;gap:.5rem}.list-search-row input{flex:1;min-width:0;font:inherit;padding:.4rem .5rem}.list-search-row button{font:inherit;padding:.4rem .9rem}
.list-items{list-style:none;padding:0;margin:0}.list-item{display:flex;gap:1rem;align-items:flex-start;padding:1rem 0;border-bottom:1px solid var(--line)}
.list-text{flex:1;min-width:0}.list-item h2{font-size:1.2rem;line-height:1.3;margin:0 0 .25rem}
.list-meta,.list-count{color:var(--muted);font-size:.9rem;margin:0}.list-summary{margin:.4rem 0 0}
.list-thumb{flex:none;width:8rem;max-width:30%;height:auto;object-fit:cover}
.list-pages{display:flex;flex-wrap:wrap;gap:1rem;justify-content:space-between;align-items:center;margin:1.5rem 0}
.list-terms{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}.list-terms [aria-current]{font-weight:700}
.release .subtitle{font-size:1.2rem;color:var(--muted);margin-top:-.5rem}.release .issuer,.release .dates,.corrections{color:var(--muted);font-size:.95rem}
.release figure{margin:1.5rem 0}.release img{max-width:100%;height:auto}.release figcaption{color:var(--muted);font-size:.9rem;margin-top:.35rem}
.release .credit{font-style:italic}.release address{font-style:normal}
.share,.topics{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}
.copy input{display:block;width:100%;font:inherit;padding:.4rem .5rem;margin:.25rem 0}.copy button{font:inherit;padding:.4rem .9rem}
.mastodon input[type=text]{display:block;width:100%;max-width:24rem;font:inherit;padding:.4rem .5rem;margin:.25rem 0}.mastodon button{font:inherit;padding:.4rem .9rem}
`;

/** The page frame: language, landmarks, head metadata, feed autodiscovery; no script, no third-party request. */
export function layout(config: Config, page: { meta: PageMeta; feeds: readonly FeedLink[]; body: SafeHtml }): string {
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
${writeHead(page.meta)}<link rel="icon" href="${absoluteUrl(config.baseUrl, config.site.icon)}">
${alternates}
<style>${trusted(STYLE)}</style>
</head>
<body>
<a class="skip" href="#inhalt">${t.skipToContent}</a>
<header>
<a class="site" href="${config.baseUrl}/">${config.site.name}</a>
<form class="search" role="search" action="${config.baseUrl}/search" method="get">
<label for="suche">${t.searchLabel}</label> <input id="suche" name="q" type="search"> <button type="submit">${t.searchButton}</button>
</form>
</header>
<main id="inhalt">
${page.body}
</main>
<footer><nav aria-label="${t.footerNav}"><a href="${config.baseUrl}/">${t.home}</a> · <a href="${config.baseUrl}/feeds">${t.feeds}</a> · <a href="${config.baseUrl}/feeds.opml">OPML</a></nav></footer>
</body>
</html>`.value}\n`;
}
