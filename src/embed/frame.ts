import type { Config } from '../config.js';
import type { Release } from '../model.js';
import { html, type SafeHtml } from '../pages/html.js';
import { stringsFor } from '../pages/strings.js';
import { excerpt } from '../text.js';
import type { HeadlineList, Theme } from './headlines.js';
import { toHeadline } from './headlines.js';
import { LIST_CSS, themeCss } from './theme.js';

// Written through the html writer like everything else: no quote, "<", ">" or "&" in it, since a
// <style> element does not decode the entities the writer would produce.
const FRAME_CSS = `${themeCss('html')}*{box-sizing:border-box}`
  + 'body{margin:0;padding:.75rem 1rem;font:1rem/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}'
  + LIST_CSS
  + '.card{display:flex;gap:1rem;align-items:flex-start}.card img{flex:0 0 auto;width:8rem;height:auto;border-radius:.25rem}'
  + '.card p{margin:.25rem 0}.meta{color:var(--muted);font-size:.85em}.source{color:var(--muted);font-size:.8em}';

/** A whole framable document: no script, inline style only, kept out of search indexes. */
function frameDocument(config: Config, theme: Theme, title: string, body: SafeHtml): string {
  return `<!doctype html>\n${html`<html lang="${config.site.language}" data-theme="${theme}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${FRAME_CSS}</style>
</head>
<body>
${body}
</body>
</html>`.value}\n`;
}

/** Links leave the frame: a new browsing context, with no handle back to the embedding page. */
function outLink(href: string, text: string): SafeHtml {
  return html`<a href="${href}" target="_blank" rel="noopener">${text}</a>`;
}

/** The headline list as an HTML document for an iframe (`/embed/headlines`). */
export function renderHeadlinesFrame(config: Config, list: HeadlineList, theme: Theme): string {
  const t = stringsFor(config.site.language);
  const items = list.items.length
    ? html`<ul>
${list.items.map((item) => html`<li>${outLink(item.url, item.title)} <time datetime="${item.published_at}">${item.date_label}</time></li>
`)}</ul>`
    : html`<p class="note">${t.embedEmpty}</p>`;
  return frameDocument(config, theme, list.title, html`<section aria-labelledby="embed-title">
<h1 class="title" id="embed-title">${list.title}</h1>
${items}
</section>`);
}

/** One release as a small card for an iframe (`/embed/release/{slug}`): image, title, date, issuer, teaser. */
export function renderReleaseCard(config: Config, release: Release, theme: Theme): string {
  const headline = toHeadline(release, config);
  const issuer = [release.organisation ?? config.site.organisation, headline.department].filter(Boolean).join(' – ');
  const image = headline.image;
  const body = html`<article class="card" aria-labelledby="embed-title">
${image ? html`<img src="${image.url}" alt="${image.alt}"${image.width && image.height ? html` width="${image.width}" height="${image.height}"` : ''}>` : ''}
<div>
<h1 class="title" id="embed-title">${outLink(headline.url, headline.title)}</h1>
<p class="meta"><time datetime="${headline.published_at}">${headline.date_label}</time>${issuer ? ` · ${issuer}` : ''}</p>
<p>${release.subtitle || excerpt(release.bodyText, 200)}</p>
<p class="source">${outLink(`${config.baseUrl}/`, config.site.name)}</p>
</div>
</article>`;
  return frameDocument(config, theme, headline.title, body);
}
