import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import { imageSize } from 'image-size';
import type { Config } from '../config.js';
import { absoluteUrl } from '../feeds/build.js';
import { representation, sendRepresentation } from '../http/representation.js';
import type { Release } from '../model.js';
import { COPY_LINK_SCRIPT } from './copy-link.js';
import type { PageDeps } from './deps.js';
import { renderMastodonSharePage, type MastodonStep } from './mastodon-page.js';
import { releaseUrl, type ImageFacts } from './release-meta.js';
import { renderReleaseNotFoundPage, renderReleasePage, renderWithdrawnPage } from './release-page.js';
import { mastodonInstance, mastodonShareTarget } from './share.js';
import { hasContact, renderVCard } from './vcard.js';

const SLUG = /^[a-z0-9-]{1,120}$/;
const HTML = 'text/html; charset=utf-8';
/** Longer is no share text anyone typed; the link itself is always added. */
const SHARE_TEXT_MAX = 500;

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml', avif: 'image/avif',
};

/**
 * Measures the site's share image once, from the file Herold serves under /media/ (its header, never
 * its name); null when it lies elsewhere or cannot be read: the tags then go without a size.
 */
export function measureShareImage(config: Config): ImageFacts | null {
  const url = absoluteUrl(config.baseUrl, config.site.shareImage);
  const prefix = `${config.baseUrl}/media/`;
  if (!url.startsWith(prefix)) return null;
  try {
    const file = path.resolve(config.mediaDir, decodeURIComponent(new URL(url).pathname.slice(new URL(prefix).pathname.length)));
    if (!file.startsWith(path.resolve(config.mediaDir) + path.sep)) return null;
    const size = imageSize(readFileSync(file));
    return { width: size.width ?? null, height: size.height ?? null, mime: IMAGE_TYPES[size.type ?? ''] ?? null };
  } catch {
    return null;
  }
}

/** What a release address leads to now. */
type Lookup =
  | { kind: 'public'; release: Release }
  | { kind: 'moved'; slug: string }
  | { kind: 'gone' }
  | { kind: 'missing' };

function embargoed(release: Release, now: Date): boolean {
  return release.embargoUntil !== null && Date.parse(release.embargoUntil) > now.getTime();
}

/** When the page last changed as readers see it: its last write, or the lifting of its embargo. */
function lastChange(release: Release): Date {
  const times = [release.changedAt, release.embargoUntil].filter((value): value is string => !!value).map(Date.parse);
  return new Date(Math.max(...times));
}

function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** /releases/{slug}, /releases/{slug}/contact.vcf, the Mastodon share step and the copy-link script. */
export function releaseRoutes({ config, store, respond, clock }: PageDeps): Router {
  const router = Router();
  const pageCache = `public, max-age=${config.feedMaxAge}`;
  const shareImage = measureShareImage(config);
  const script = representation(COPY_LINK_SCRIPT, 'text/javascript; charset=utf-8', null);

  /** An embargoed release is not there at all (404, like an unknown slug): its existence must not leak. */
  function lookup(slug: string, now: Date): Lookup {
    if (!SLUG.test(slug)) return { kind: 'missing' };
    const release = store.releaseBySlug(slug);
    if (release) {
      if (embargoed(release, now)) return { kind: 'missing' };
      return release.status === 'withdrawn' ? { kind: 'gone' } : { kind: 'public', release };
    }
    const current = store.currentSlugFor(slug);
    const target = current ? store.releaseBySlug(current) : undefined;
    if (!current || !target || embargoed(target, now)) return { kind: 'missing' };
    return { kind: 'moved', slug: current };
  }

  function sendHtml(res: Response, status: number, body: string, cacheControl: string): void {
    res.status(status).set('Content-Type', HTML).set('Cache-Control', cacheControl).send(body);
  }

  function notFoundPage(req: Request, res: Response): void {
    // Not cached: the same answer for an embargoed release must end the moment its embargo does.
    sendHtml(res, 404, renderReleaseNotFoundPage(config, req.path), 'no-store');
  }

  function moved(res: Response, location: string): void {
    res.status(301).set('Location', location).set('Cache-Control', pageCache).end();
  }

  router.get('/releases/:slug', (req: Request, res: Response) => {
    const slug = String(req.params.slug);
    const found = lookup(slug, clock());
    switch (found.kind) {
      case 'missing': return notFoundPage(req, res);
      case 'moved': return moved(res, releaseUrl(config, found.slug));
      case 'gone': return sendHtml(res, 410, renderWithdrawnPage(config, slug), pageCache);
      case 'public': {
        const { release } = found;
        return respond(req, res, `page:/releases/${slug}`, pageCache, () => representation(
          renderReleasePage(config, { release, revisions: store.revisionsOf(release.id), shareImage }), HTML, lastChange(release)), { fast: true });
      }
    }
  });

  router.get('/releases/:slug/contact.vcf', (req: Request, res: Response) => {
    const slug = String(req.params.slug);
    const found = lookup(slug, clock());
    if (found.kind === 'moved') return moved(res, `${releaseUrl(config, found.slug)}/contact.vcf`);
    if (found.kind !== 'public' || !hasContact(found.release.contact)) return notFoundPage(req, res);
    const { release } = found;
    const contact = release.contact!;
    // The department is the contact's unit only when the contact belongs to the issuing organisation.
    const unit = contact.organisation && contact.organisation === release.organisation ? release.department?.name : null;
    res.set('Content-Disposition', `attachment; filename="pressekontakt-${slug}.vcf"`);
    respond(req, res, `vcf:/releases/${slug}`, pageCache, () =>
      representation(renderVCard(contact, { unit }), 'text/vcard; charset=utf-8', lastChange(release)));
  });

  router.get('/share/mastodon', (req: Request, res: Response) => {
    const url = single(req.query.url);
    const text = single(req.query.text) ?? '';
    const typed = req.query.instance;
    const own = url !== undefined && url.startsWith(`${config.baseUrl}/`) && URL.canParse(url);
    if (!own || text.length > SHARE_TEXT_MAX) {
      sendHtml(res, 400, renderMastodonSharePage(config, { url: '', text: '', error: 'link' }), 'no-store');
      return;
    }
    const page = { url, title: text };
    if (typed !== undefined) {
      const instance = mastodonInstance(single(typed) ?? '');
      if (instance) {
        res.status(303).set('Location', mastodonShareTarget(instance, page)).set('Cache-Control', 'no-store').end();
        return;
      }
    }
    const step: MastodonStep = typed === undefined ? { url, text } : { url, text, instance: single(typed) ?? '', error: 'instance' };
    // The form submits here and is redirected to the instance; browsers hold that redirect to form-action too.
    const policy = res.get('Content-Security-Policy');
    if (policy) res.set('Content-Security-Policy', policy.replace("form-action 'self'", "form-action 'self' https:"));
    if (step.error) {
      sendHtml(res, 400, renderMastodonSharePage(config, step), 'no-store');
      return;
    }
    sendRepresentation(req, res, representation(renderMastodonSharePage(config, step), HTML, null), pageCache);
  });

  router.get('/assets/copy-link.js', (req: Request, res: Response) => {
    sendRepresentation(req, res, script, 'public, max-age=86400');
  });

  return router;
}
