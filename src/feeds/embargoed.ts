import { Router, type Request, type Response } from 'express';
import { matchesAnyToken } from '../api/auth.js';
import { HttpError, notFound } from '../http/errors.js';
import { representation, sendRepresentation } from '../http/representation.js';
import type { PageDeps } from '../pages/deps.js';
import { stringsFor } from '../pages/strings.js';
import { FEED_FORMATS, ItemCache, renderFeed, wholeReleases, type FeedDocument, type FeedFormat } from './build.js';

/** Embargoed releases are few; a journalist wants all of them at once. */
const MAX_ITEMS = 100;

/**
 * Only for the token holder, never stored on the way: no shared cache (a CDN, Herold's own
 * representation cache) may keep a copy that could outlive the token's check or leak to the public.
 */
const CACHE_CONTROL = 'private, no-store';

/** The press token of a request: `?token=` (feed readers can send no header), else `Authorization: Bearer`. */
function tokenOf(req: Request): string | null {
  const query = req.query.token;
  if (query !== undefined) return typeof query === 'string' ? query : null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match ? match[1]! : null;
}

function isFormat(value: string): value is FeedFormat {
  return Object.hasOwn(FEED_FORMATS, value);
}

/**
 * GET /feeds/embargoed.{rss,atom,json}?token=…: the releases still under embargo, newest first, each
 * showing its embargo; for holders of a press token (HEROLD_PRESS_TOKENS) only.
 */
export function embargoedFeedRoutes({ config, store, clock }: PageDeps): Router {
  const router = Router();
  const t = stringsFor(config.site.language);
  // Rendered on every request (it is never cached): the items are kept across requests.
  const feedSite = { baseUrl: config.baseUrl, site: config.site, items: new ItemCache(1024 * 1024) };
  // The token is not part of the feed's name: a document never repeats a secret it was asked with.
  const url = (format: FeedFormat) => `${config.baseUrl}/feeds/embargoed.${format}`;

  router.get('/feeds/embargoed.:format', (req: Request, res: Response) => {
    const format = String(req.params.format);
    if (!isFormat(format)) throw notFound(`"embargoed.${format}" is not a feed: feeds end in .rss, .atom or .json.`);
    if (config.pressTokens.length === 0) throw notFound('This server has no press tokens (HEROLD_PRESS_TOKENS): there is no embargoed feed.');
    const token = tokenOf(req);
    if (token === null || !matchesAnyToken(token, config.pressTokens)) {
      res.set('WWW-Authenticate', 'Bearer realm="herold-press"');
      throw new HttpError(401, 'Unauthorized', 'The embargoed feed needs a valid press token: ?token=… (or Authorization: Bearer …).');
    }
    const now = clock();
    const releases = store.embargoedReleases(now, MAX_ITEMS);
    // The feed changes when an item is written or leaves it as its embargo lifts.
    const newest = [...releases.map((release) => release.changedAt), store.lastEmbargoLift(now)]
      .reduce<string | null>((max, value) => (value && (!max || value > max) ? value : max), null);
    const doc: FeedDocument = {
      title: `${config.site.name}: ${t.feedEmbargoedTitle}`,
      description: t.feedEmbargoedDescription,
      urls: { rss: url('rss'), atom: url('atom'), json: url('json') },
      htmlUrl: `${config.baseUrl}/`,
      updated: new Date(newest ?? '2000-01-01T00:00:00Z'),
      ...wholeReleases(releases),
      embargoed: true,
    };
    res.set('X-Robots-Tag', 'noindex');
    // No Last-Modified: an item withdrawn under embargo leaves no time to tell by; the ETag answers 304s.
    sendRepresentation(req, res, representation(renderFeed(format, doc, feedSite), FEED_FORMATS[format].contentType, null), CACHE_CONTROL);
  });

  return router;
}
