import type { Config } from '../config.js';
import type { FeedListing } from '../feeds/directory.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { websiteMeta } from './meta.js';
import { stringsFor } from './strings.js';

/** The /feeds page: every feed with its subscribe links. */
export function renderFeedsPage(config: Config, feeds: readonly FeedListing[]): string {
  const t = stringsFor(config.site.language);
  const links = (feed: FeedListing) => html`<a href="${config.baseUrl}${feed.path}.rss">RSS</a> ·
    <a href="${config.baseUrl}${feed.path}.atom">Atom</a> · <a href="${config.baseUrl}${feed.path}.json">JSON Feed</a>`;
  const item = (feed: FeedListing, name: string) => html`<li><a href="${config.baseUrl}${feed.htmlPath}">${name}</a>
    <span class="muted">(${t.releases(feed.count ?? 0)})</span>: ${links(feed)}</li>`;
  const section = (title: string, group: FeedListing['group']) => {
    const list = feeds.filter((feed) => feed.group === group);
    return list.length ? html`<h2>${title}</h2><ul class="feeds">${list.map((feed) => item(feed, feed.title.replace(`${config.site.name}: `, '')))}</ul>` : '';
  };
  const [all] = feeds;
  const body = html`<h1>${t.feedsTitle}</h1>
<p>${t.feedsIntro}</p>
<ul class="feeds">${all ? item(all, t.allReleases) : ''}</ul>
${section(t.topics, 'topic')}
${section(t.departments, 'department')}
<p><a href="${config.baseUrl}/feeds.opml">${t.opml}</a></p>`;
  return layout(config, {
    meta: websiteMeta(config, { title: `${t.feedsTitle} – ${config.site.name}`, description: t.feedsIntro, canonical: `${config.baseUrl}/feeds` }),
    feeds: all ? [{ title: all.title, path: all.path }] : [],
    body,
  });
}
