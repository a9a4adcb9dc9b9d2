import { Router, type NextFunction, type Request, type Response } from 'express';
import { badRequest, HttpError, notFound, singleParam } from '../http/errors.js';
import { representation } from '../http/representation.js';
import { allowFraming } from '../http/security.js';
import type { PageDeps } from '../pages/deps.js';
import { stringsFor } from '../pages/strings.js';
import { renderHeadlinesFrame, renderReleaseCard } from './frame.js';
import { headlineList, headlineQueryString, isVisible, parseHeadlineQuery, parseTheme, visibleChange } from './headlines.js';
import { embedTarget, oembedResponse, parseOembedQuery } from './oembed.js';
import { newsReleases, renderNewsSitemap, renderRobots, renderSitemap, renderSitemapIndex, sitemapPart, sitemapParts } from './sitemap.js';
import { widgetSource } from './widget.js';

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const XML = 'application/xml; charset=utf-8';
/** Headlines change within minutes of a release; embedding sites should not hold them long. */
const HEADLINES_CACHE = 'public, max-age=60';
const SCRIPT_CACHE = 'public, max-age=3600';
const SLUG = /^[a-z0-9-]{1,200}$/;

/**
 * Anyone may read the embeds from any origin. No credentials are ever involved, so the wildcard
 * is enough (and no `Vary: Origin` is needed); CORP lets pages with COEP load them too.
 */
function openToAllOrigins(res: Response): void {
  res.set('Access-Control-Allow-Origin', '*');
  res.set('Access-Control-Expose-Headers', 'ETag');
  res.set('Cross-Origin-Resource-Policy', 'cross-origin');
}

function query(req: Request): Readonly<Record<string, unknown>> {
  return req.query as Record<string, unknown>;
}

/**
 * Opens /api/v1/headlines (every method, every answer) to all origins: mounted by createHerold before
 * the rate limit, so that an embedding page can read a 400 or a 429 too.
 */
export function headlinesOpenToAllOrigins(_req: Request, res: Response, next: NextFunction): void {
  openToAllOrigins(res);
  next();
}

/** /embed.js, /embed/headlines, /embed/release/{slug}, /api/v1/headlines, /oembed, the sitemaps and robots.txt. */
export function embedRoutes({ config, store, respond, clock }: PageDeps): Router {
  const router = Router();
  const t = stringsFor(config.site.language);
  const pageCache = `public, max-age=${config.feedMaxAge}`;
  const script = representation(widgetSource(config.baseUrl, { label: t.embedLabel, empty: t.embedEmpty, error: t.embedError }),
    'application/javascript; charset=utf-8', null);

  router.get('/embed.js', (req: Request, res: Response) => {
    openToAllOrigins(res);
    respond(req, res, 'embed.js', SCRIPT_CACHE, () => script, { fast: true });
  });

  router.options('/api/v1/headlines', (_req: Request, res: Response) => {
    res.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
    res.set('Access-Control-Allow-Headers', 'Accept, Accept-Language, Content-Language, Content-Type, Cache-Control, If-None-Match, If-Modified-Since');
    res.set('Access-Control-Max-Age', '86400');
    res.set('Allow', 'GET, HEAD, OPTIONS');
    res.status(204).end();
  });

  router.get('/api/v1/headlines', (req: Request, res: Response) => {
    const headlines = parseHeadlineQuery(query(req));
    respond(req, res, `api:headlines${headlineQueryString(headlines, { theme: false })}`, HEADLINES_CACHE, (now) => {
      const list = headlineList(config, store, headlines, now);
      const body = { items: list.items, feed: list.feedUrl, title: list.title, html_url: list.htmlUrl };
      return representation(JSON.stringify(body), JSON_TYPE, list.lastModified);
    }, { fast: 'rate-limited' });
  });

  router.get('/embed/headlines', (req: Request, res: Response) => {
    allowFraming(res);
    const headlines = parseHeadlineQuery(query(req));
    respond(req, res, `embed:headlines${headlineQueryString(headlines, { theme: true })}`, HEADLINES_CACHE, (now) => {
      const list = headlineList(config, store, headlines, now);
      return representation(renderHeadlinesFrame(config, list, headlines.theme), HTML, list.lastModified);
    }, { fast: true });
  });

  router.get('/embed/release/:slug', (req: Request, res: Response) => {
    allowFraming(res);
    const theme = parseTheme(query(req));
    const slug = String(req.params.slug);
    if (!SLUG.test(slug)) throw notFound('There is no published release here.');
    try {
      respond(req, res, `embed:release/${slug}?${theme}`, pageCache, (now) => {
        const release = store.releaseBySlug(slug);
        if (!release || !isVisible(release, now)) throw notFound('There is no published release here.');
        return representation(renderReleaseCard(config, release, theme), HTML, new Date(visibleChange(release)));
      });
    } catch (error) {
      // An embed made before a correction changed the slug keeps working.
      const current = error instanceof HttpError && error.status === 404 ? store.currentSlugFor(slug) : undefined;
      if (!current) throw error;
      res.redirect(301, `${config.baseUrl}/embed/release/${current}${theme === 'auto' ? '' : `?theme=${theme}`}`);
    }
  });

  router.get('/oembed', (req: Request, res: Response) => {
    openToAllOrigins(res);
    const oembed = parseOembedQuery(query(req));
    respond(req, res, `oembed:${JSON.stringify([oembed.url, oembed.maxwidth, oembed.maxheight])}`, pageCache, (now) => {
      const target = embedTarget(config, store, oembed.url, now);
      return representation(JSON.stringify(oembedResponse(config, store, target, oembed, now)), JSON_TYPE, null);
    });
  });

  // One file while the releases fit in one part; beyond, a sitemap index of the parts (?part=1, 2, …).
  router.get('/sitemap.xml', (req: Request, res: Response) => {
    const given = singleParam(query(req), 'part');
    if (given !== undefined && !/^[1-9]\d{0,5}$/.test(given)) throw badRequest('part', `"part" must be a whole number from 1, got "${given.slice(0, 40)}".`);
    const part = given === undefined ? null : Number(given);
    respond(req, res, `sitemap.xml?part=${part ?? ''}`, pageCache, (now) => {
      const parts = sitemapParts(store);
      if (part === null && parts > 1) return representation(renderSitemapIndex(config, parts), XML, null);
      if (part !== null && part > parts) throw notFound(`The sitemap has ${parts} part(s); there is no part ${part}.`);
      const { entries, lastModified } = sitemapPart(config, store, now, part ?? 1);
      return representation(renderSitemap(entries), XML, lastModified);
    }, { fast: true });
  });

  router.get('/news-sitemap.xml', (req: Request, res: Response) => {
    // The two-day window moves with time, which no write announces: the key changes every minute,
    // and the window is reckoned from the minute's start so every instance renders the same bytes.
    const minute = new Date(Math.floor(clock().getTime() / 60_000) * 60_000);
    respond(req, res, `news-sitemap.xml@${minute.toISOString()}`, pageCache, (now) =>
      representation(renderNewsSitemap(config, newsReleases(store, now, minute)), XML, null));
  });

  router.get('/robots.txt', (req: Request, res: Response) => {
    respond(req, res, 'robots.txt', pageCache, () => representation(renderRobots(config), 'text/plain; charset=utf-8', null), { fast: true });
  });

  return router;
}
