import type { Config } from '../config.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { metaTags } from './meta.js';
import { stringsFor } from './strings.js';

/** What the Mastodon step shows: the shared page, what was typed, and what was wrong with it. */
export interface MastodonStep {
  readonly url: string;
  readonly text: string;
  readonly instance?: string;
  readonly error?: 'instance' | 'link';
}

/**
 * The page that asks for the reader's Mastodon instance: a plain GET form back to the same address,
 * which then redirects to the instance's own share form. No script, nothing stored.
 */
export function renderMastodonSharePage(config: Config, step: MastodonStep): string {
  const t = stringsFor(config.site.language);
  const action = `${config.baseUrl}/share/mastodon`;
  const badInstance = step.error === 'instance';
  const body = step.error === 'link'
    ? html`<h1>${t.releaseMastodonTitle}</h1>
<p role="alert">${t.releaseMastodonBadLink}</p>
<p><a href="${config.baseUrl}/">${t.releaseBackHome}</a></p>`
    : html`<h1>${t.releaseMastodonTitle}</h1>
<p>${t.releaseMastodonIntro}</p>
<p class="shared"><a href="${step.url}">${step.text || step.url}</a></p>
<form class="mastodon" action="${action}" method="get">
<input type="hidden" name="url" value="${step.url}">
<input type="hidden" name="text" value="${step.text}">
<p><label for="instance">${t.releaseMastodonInstance}</label>
<input id="instance" name="instance" type="text" inputmode="url" autocomplete="off" autocapitalize="none" spellcheck="false" required
 placeholder="mastodon.social" value="${step.instance ?? ''}" aria-describedby="instance-hint${badInstance ? ' instance-error' : ''}"${badInstance ? html` aria-invalid="true"` : ''}>
<span id="instance-hint" class="muted">${t.releaseMastodonHint}</span></p>
${badInstance ? html`<p id="instance-error" role="alert">${t.releaseMastodonInvalid}</p>\n` : ''}<p><button type="submit">${t.releaseMastodonSubmit}</button></p>
</form>`;
  return layout(config, {
    meta: {
      title: `${t.releaseMastodonTitle} – ${config.site.name}`,
      description: t.releaseMastodonIntro,
      canonical: action,
      tags: metaTags('name', [['robots', 'noindex']]),
      links: [],
      jsonLd: [],
    },
    feeds: [],
    body,
  });
}
