import { DateTime } from 'luxon';
import type { Config } from '../config.js';
import type { Contact, Media, Release, Revision } from '../model.js';
import { html, trusted, type SafeHtml } from './html.js';
import { layout, type FeedLink } from './layout.js';
import { metaTags, type PageMeta } from './meta.js';
import { issuerName, leadImage, publishedMedia, releaseMeta, releaseUrl, type ImageFacts } from './release-meta.js';
import { describeRevisions } from './revision-text.js';
import { shareLinks } from './share.js';
import { stringsFor, type Strings } from './strings.js';
import { hasContact } from './vcard.js';

/** Everything the release page shows, as the route gathered it. */
export interface ReleaseView {
  readonly release: Release;
  readonly revisions: readonly Revision[];
  /** The measured size of the site's share image, the stand-in for a release without one. */
  readonly shareImage: ImageFacts | null;
}

/** Dates are shown as Germans read them: the office's wall clock, Europe/Berlin. */
const ZONE = 'Europe/Berlin';

/** Fields whose change is no correction of the content: withdrawing, re-publishing, moving an embargo. */
const STATUS_FIELDS = new Set(['status', 'embargoUntil']);

/**
 * A long date in the site's language ("2. August 2017"), with the time when it is not midnight
 * ("2. August 2017, 09:30 Uhr"): a date given without a time is never shown with a fake one.
 * `datetime` is the machine-readable form for `<time>`: the bare date, or the instant with its offset.
 */
export function longDate(iso: string, language: string): { text: string; datetime: string } {
  const t = stringsFor(language);
  const local = DateTime.fromISO(iso, { zone: ZONE }).setLocale(language);
  const midnight = local.hour === 0 && local.minute === 0 && local.second === 0;
  return midnight
    ? { text: local.toFormat(t.releaseDateFormat), datetime: local.toFormat('yyyy-MM-dd') }
    : { text: `${local.toFormat(t.releaseDateFormat)}, ${local.toFormat(t.releaseTimeFormat)}`, datetime: local.toISO({ suppressMilliseconds: true })! };
}

function time(iso: string, language: string, className = ''): SafeHtml {
  const date = longDate(iso, language);
  return html`<time${className ? html` class="${className}"` : ''} datetime="${date.datetime}">${date.text}</time>`;
}

/** What kind of file a MIME type names, as people say it ("PDF", "JPEG"); null when unknown. */
export function fileKind(mime: string | null): string | null {
  if (!mime) return null;
  const known: Record<string, string> = {
    'application/pdf': 'PDF', 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/gif': 'GIF', 'image/webp': 'WebP',
    'image/svg+xml': 'SVG', 'application/zip': 'ZIP', 'text/plain': 'Text', 'text/csv': 'CSV',
    'application/msword': 'Word', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
    'application/vnd.ms-excel': 'Excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel',
    'application/vnd.oasis.opendocument.text': 'ODT', 'application/vnd.oasis.opendocument.spreadsheet': 'ODS',
  };
  return known[mime] ?? mime.split('/')[1]?.split(/[+;]/)[0]?.toUpperCase() ?? null;
}

/** A byte count for people, in the site's number format: "142 Bytes", "2,7 KB", "1,2 MB". */
export function fileSize(bytes: number, language: string): string {
  const number = (value: number) => new Intl.NumberFormat(language, { maximumFractionDigits: 1 }).format(value);
  if (bytes < 1024) return `${number(bytes)} Bytes`;
  if (bytes < 1024 * 1024) return `${number(bytes / 1024)} KB`;
  return `${number(bytes / (1024 * 1024))} MB`;
}

/** "PDF, 2,7 KB": what an attachment is and how big, from measured values only. */
export function attachmentFacts(file: Media, language: string): string {
  return [fileKind(file.mime), file.bytes !== null ? fileSize(file.bytes, language) : null].filter(Boolean).join(', ');
}

/** The autodiscovery feeds of a release: every feed it appears in (all, its topics, its department). */
export function releaseFeeds(release: Release, config: Config): FeedLink[] {
  const name = config.site.name;
  return [
    { title: name, path: '/feeds/all' },
    ...release.topics.map((topic) => ({ title: `${name}: ${topic.name}`, path: `/feeds/topics/${topic.slug}` })),
    ...(release.department ? [{ title: `${name}: ${release.department.name}`, path: `/feeds/departments/${release.department.slug}` }] : []),
  ];
}

/** A dialable tel: URI from a printed number ("0241/432-1309" → "tel:02414321309"); null without digits. */
function telUri(printed: string): string | null {
  const dialable = printed.replace(/\(0\)/g, '').replace(/(?!^\+)[^\d]/g, '');
  return /\d/.test(dialable) ? `tel:${dialable}` : null;
}

function issuerLine(release: Release, config: Config): SafeHtml {
  const organisation = issuerName(release, config);
  if (!release.department) return html`<span class="p-author">${organisation}</span>`;
  return html`<a class="p-author" href="${config.baseUrl}/departments/${release.department.slug}">${organisation} – ${release.department.name}</a>`;
}

function datesLine(release: Release, corrections: ReadonlyArray<{ revision: Revision; changes: string[] }>, language: string, t: Strings): SafeHtml {
  const corrected = release.updatedAt && release.updatedAt !== release.publishedAt ? release.updatedAt : null;
  // Each correction says what changed (revision-text.ts), and why when the office gave a note.
  const told = corrections
    .map(({ revision, changes }) => ({ revision, text: [revision.note?.trim(), changes.join('; ')].filter(Boolean).join(' – ') }))
    .filter((item) => item.text);
  return html`<p class="dates">${t.releasePublished} ${time(release.publishedAt, language, 'dt-published')}${corrected
    ? html`, ${t.releaseCorrected} ${time(corrected, language, 'dt-updated')}` : ''}</p>
${told.length ? html`<ul class="corrections" aria-label="${t.releaseCorrections}">${told.map(({ revision, text }) =>
    html`<li>${t.releaseCorrectionOf} ${time(revision.revisedAt, language)}: ${text}</li>`)}</ul>\n` : ''}`;
}

function figure(release: Release, config: Config): SafeHtml | '' {
  const image = leadImage(release, config.baseUrl);
  if (!image) return '';
  const size = image.width && image.height ? html` width="${image.width}" height="${image.height}"` : '';
  const caption = [image.caption, image.credit].filter((part) => part?.trim());
  return html`<figure>
<img class="u-photo" src="${image.url}" alt="${image.alt ?? ''}"${size}>
${caption.length ? html`<figcaption>${image.caption ? html`<span class="caption">${image.caption}</span>` : ''}${
    image.caption && image.credit ? ' ' : ''}${image.credit ? html`<span class="credit">${image.credit}</span>` : ''}</figcaption>\n` : ''}</figure>\n`;
}

/** The last path segment of a URL, for a file without a title. */
function fileName(url: string): string {
  const last = new URL(url).pathname.split('/').pop() || url;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

function attachmentsSection(release: Release, config: Config, t: Strings): SafeHtml | '' {
  const files = publishedMedia(release.attachments, config.baseUrl);
  if (!files.length) return '';
  const language = config.site.language;
  return html`<section aria-labelledby="anhaenge">
<h2 id="anhaenge">${t.releaseAttachments}</h2>
<ul class="attachments">${files.map((file) => {
    const facts = attachmentFacts(file, language);
    return html`<li><a href="${file.url}"${file.mime ? html` type="${file.mime}"` : ''}>${file.title ?? fileName(file.url)}</a>${
      facts ? html` <span class="muted">(${facts})</span>` : ''}</li>`;
  })}</ul>
</section>\n`;
}

function topicsSection(release: Release, config: Config, t: Strings): SafeHtml | '' {
  if (!release.topics.length) return '';
  return html`<section aria-labelledby="themen">
<h2 id="themen">${t.topics}</h2>
<ul class="topics">${release.topics.map((topic) => html`<li><a class="p-category" href="${config.baseUrl}/topics/${topic.slug}">${topic.name}</a></li>`)}</ul>
</section>\n`;
}

function contactSection(release: Release, config: Config, t: Strings): SafeHtml | '' {
  const contact: Contact | null = release.contact;
  if (!hasContact(contact)) return '';
  const phone = contact.phone ? telUri(contact.phone) : null;
  const line = (part: SafeHtml | '') => (part ? html`${part}<br>\n` : '');
  return html`<section aria-labelledby="pressekontakt">
<h2 id="pressekontakt">${t.releaseContact}</h2>
<address class="h-card">
${line(contact.name ? html`<span class="p-name">${contact.name}</span>` : '')}${
  line(contact.organisation ? html`<span class="p-org">${contact.organisation}</span>` : '')}${
  line(contact.street ? html`<span class="p-street-address">${contact.street}</span>` : '')}${
  line(contact.postcode || contact.city
    ? html`${contact.postcode ? html`<span class="p-postal-code">${contact.postcode}</span>` : ''}${contact.postcode && contact.city ? ' ' : ''}${
      contact.city ? html`<span class="p-locality">${contact.city}</span>` : ''}` : '')}${
  line(contact.phone
    ? html`${t.releasePhone}: ${phone ? html`<a class="p-tel" href="${phone}">${contact.phone}</a>` : html`<span class="p-tel">${contact.phone}</span>`}` : '')}${
  line(contact.fax ? html`<span class="label">${t.releaseFax}:</span> <span class="p-tel">${contact.fax}</span>` : '')}${
  line(contact.email ? html`${t.releaseEmail}: <a class="u-email" href="mailto:${contact.email}">${contact.email}</a>` : '')}</address>
<p><a href="${releaseUrl(config, release.slug)}/contact.vcf" type="text/vcard" download>${t.releaseSaveContact}</a></p>
</section>\n`;
}

function shareSection(release: Release, config: Config, t: Strings): SafeHtml {
  const canonical = releaseUrl(config, release.slug);
  return html`<section aria-labelledby="teilen">
<h2 id="teilen">${t.releaseShare}</h2>
<ul class="share">${shareLinks(config, { url: canonical, title: release.title }).map((link) =>
    html`<li><a class="share-${link.id}" href="${link.href}" rel="noopener">${link.label}</a></li>`)}</ul>
<p class="copy"><label for="link">${t.releaseLinkLabel}</label>
<input id="link" type="url" value="${canonical}" readonly>
<button type="button" data-copy-link="link" data-copied="${t.releaseLinkCopied}" data-failed="${t.releaseCopyFailed}" hidden>${t.releaseCopyLink}</button>
<span class="copy-status" role="status" aria-live="polite"></span></p>
</section>\n`;
}

function feedsSection(release: Release, config: Config, t: Strings): SafeHtml {
  const base = config.baseUrl;
  const entries = [
    ...release.topics.map((topic) => ({ label: t.releaseTopicFeed(topic.name), path: `/feeds/topics/${topic.slug}` })),
    ...(release.department ? [{ label: t.releaseDepartmentFeed(release.department.name), path: `/feeds/departments/${release.department.slug}` }] : []),
    { label: t.allReleases, path: '/feeds/all' },
  ];
  return html`<section aria-labelledby="feeds">
<h2 id="feeds">${t.releaseFeeds}</h2>
<ul class="feeds">${entries.map((entry) => html`<li>${entry.label}: <a href="${base}${entry.path}.rss" type="application/rss+xml">RSS</a> ·
<a href="${base}${entry.path}.atom" type="application/atom+xml">Atom</a> · <a href="${base}${entry.path}.json" type="application/feed+json">JSON Feed</a></li>`)}</ul>
</section>\n`;
}

/** The page of one release: text, image, attachments, topics, contact, share and feed links. */
export function renderReleasePage(config: Config, view: ReleaseView): string {
  const { release } = view;
  const t = stringsFor(config.site.language);
  const language = config.site.language;
  const corrections = describeRevisions(view.revisions, release, language)
    .filter(({ revision }) => Object.keys(revision.previous).some((key) => !STATUS_FIELDS.has(key)));
  const body = html`<article class="release h-entry"${release.language !== language ? html` lang="${release.language}"` : ''}>
<h1 class="p-name">${release.title}</h1>
${release.subtitle ? html`<p class="subtitle p-summary">${release.subtitle}</p>\n` : ''}<p class="issuer">${t.releaseIssuedBy} ${issuerLine(release, config)}</p>
${datesLine(release, corrections, language, t)}${figure(release, config)}<div class="e-content">
${trusted(release.bodyHtml)}
</div>
${attachmentsSection(release, config, t)}${topicsSection(release, config, t)}${contactSection(release, config, t)}${shareSection(release, config, t)}${feedsSection(release, config, t)}</article>
<script src="${config.baseUrl}/assets/copy-link.js" defer></script>`;
  return layout(config, { meta: releaseMeta(release, config, view.shareImage), feeds: releaseFeeds(release, config), body });
}

/** Head metadata of a page that must not be indexed (gone, not found). */
function noindexMeta(config: Config, title: string, description: string, canonical: string): PageMeta {
  return {
    title: `${title} – ${config.site.name}`,
    description,
    canonical,
    tags: metaTags('name', [['robots', 'noindex']]),
    links: [],
    jsonLd: [],
  };
}

function notice(config: Config, title: string, note: string, canonical: string): string {
  const t = stringsFor(config.site.language);
  const body = html`<h1>${title}</h1>
<p>${note}</p>
<p><a href="${config.baseUrl}/">${t.releaseBackHome}</a></p>`;
  return layout(config, { meta: noindexMeta(config, title, note, canonical), feeds: [{ title: config.site.name, path: '/feeds/all' }], body });
}

/** The 410 page of a withdrawn release: a short note and the way home; not to be indexed. */
export function renderWithdrawnPage(config: Config, slug: string): string {
  const t = stringsFor(config.site.language);
  return notice(config, t.releaseWithdrawnTitle, t.releaseWithdrawnNote, releaseUrl(config, slug));
}

/** The 404 page of a release address that has no (public) release. */
export function renderReleaseNotFoundPage(config: Config, path: string): string {
  const t = stringsFor(config.site.language);
  return notice(config, t.releaseNotFoundTitle, t.releaseNotFoundNote, `${config.baseUrl}${path}`);
}
