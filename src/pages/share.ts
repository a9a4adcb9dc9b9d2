import { domainToASCII } from 'node:url';
import type { Config } from '../config.js';
import { stringsFor } from './strings.js';

/** One way to share a page: a plain link, no script, no tracking parameter. */
export interface ShareLink {
  readonly id: 'email' | 'mastodon' | 'bluesky' | 'linkedin' | 'facebook' | 'x' | 'whatsapp';
  readonly label: string;
  readonly href: string;
}

/** What is shared: the page's canonical URL and its title. */
export interface SharedPage {
  readonly url: string;
  readonly title: string;
}

const enc = encodeURIComponent;

/** The address of Herold's own Mastodon step, which asks for the instance. */
export function mastodonSharePath(config: Config, page: SharedPage): string {
  return `${config.baseUrl}/share/mastodon?url=${enc(page.url)}&text=${enc(page.title)}`;
}

/** The share links of a page, in the order they are shown. */
export function shareLinks(config: Config, page: SharedPage): ShareLink[] {
  const t = stringsFor(config.site.language);
  const both = `${page.title} ${page.url}`;
  return [
    // RFC 6068: every reserved character percent-encoded, a line break as %0D%0A.
    { id: 'email', label: t.releaseShareByEmail, href: `mailto:?subject=${enc(page.title)}&body=${enc(`${page.title}\r\n\r\n${page.url}`)}` },
    { id: 'mastodon', label: 'Mastodon', href: mastodonSharePath(config, page) },
    { id: 'bluesky', label: 'Bluesky', href: `https://bsky.app/intent/compose?text=${enc(both)}` },
    { id: 'linkedin', label: 'LinkedIn', href: `https://www.linkedin.com/sharing/share-offsite/?url=${enc(page.url)}` },
    { id: 'facebook', label: 'Facebook', href: `https://www.facebook.com/sharer/sharer.php?u=${enc(page.url)}` },
    { id: 'x', label: 'X', href: `https://x.com/intent/post?url=${enc(page.url)}&text=${enc(page.title)}` },
    { id: 'whatsapp', label: 'WhatsApp', href: `https://wa.me/?text=${enc(both)}` },
  ];
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * The host name of a Mastodon instance as people type it ("mastodon.social", "https://mastodon.social/",
 * "@name@mastodon.social"), in ASCII; null for anything that is not a public DNS name (no IP
 * address, no port, no path, no single-label name such as "localhost").
 */
export function mastodonInstance(value: string): string | null {
  const host = value.trim().toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '')
    .replace(/^@?[^@\s/]+@/, '');
  // Letters, digits, dots and hyphens only: domainToASCII would quietly cut "host.example/x" to "host.example".
  if (host.length === 0 || host.length > 253 || !/^[\p{L}\p{M}\p{N}.-]+$/u.test(host)) return null;
  const ascii = domainToASCII(host);
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label)) || !TOP_LEVEL.test(labels.at(-1)!)) return null;
  return ascii;
}

/** Where the Mastodon step sends the reader: the instance's own share form with the text filled in. */
export function mastodonShareTarget(instance: string, page: SharedPage): string {
  return `https://${instance}/share?text=${enc(`${page.title} ${page.url}`)}`;
}
