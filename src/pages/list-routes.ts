import { Router, type Request, type Response } from 'express';
import type { Scope } from '../db/store.js';
import { badRequest, HttpError, notFound, singleParam } from '../http/errors.js';
import { representation, type FastPath } from '../http/representation.js';
import type { Term } from '../model.js';
import { stripXmlForbidden } from '../text.js';
import type { PageDeps } from './deps.js';
import { listPath, pageCount, PAGE_SIZE, renderListPage, SEARCH_RESULTS_SHOWN, renderNotFoundPage, type ListScope, type ListView } from './list-page.js';

/** The deepest page anyone may ask for: deeper offsets only cost the database. */
const MAX_PAGE = 10_000;
/** The longest search text, in characters. */
const MAX_QUERY = 200;
const SLUG = /^[a-z0-9-]{1,120}$/;

/** A query parameter given at most once, as a plain value; twice (an array) is a 400 naming it. */
/** `?page=` as 1..10000 (default 1); anything else is a 400 naming `page`. */
function parsePage(query: Record<string, unknown>): number {
  const raw = singleParam(query, 'page');
  if (raw === undefined) return 1;
  const page = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(page >= 1 && page <= MAX_PAGE)) {
    throw badRequest('page', `"page" must be an integer from 1 to ${MAX_PAGE}, got "${raw.slice(0, 40)}".`);
  }
  return page;
}

/** The search text as shown and searched: no control characters, whitespace collapsed; over 200 characters is a 400. */
function parseSearchText(query: Record<string, unknown>): string {
  const raw = singleParam(query, 'q') ?? '';
  if ([...raw].length > MAX_QUERY) throw badRequest('q', `"q" must be at most ${MAX_QUERY} characters long.`);
  return stripXmlForbidden(raw).replace(/\s+/g, ' ').trim();
}

/** The search's optional scope: `topic` or `department` (an empty value, as a form sends it, means none). */
function parseSearchScope(query: Record<string, unknown>): { kind: 'topic' | 'department'; slug: string } | null {
  const topic = singleParam(query, 'topic') || undefined;
  const department = singleParam(query, 'department') || undefined;
  if (topic && department) throw badRequest('department', 'Search within a topic or within a department, not both.');
  const kind = topic ? 'topic' : department ? 'department' : null;
  if (!kind) return null;
  const slug = (topic ?? department)!;
  if (!SLUG.test(slug)) throw badRequest(kind, `There is no ${kind} "${slug.slice(0, 40)}".`);
  return { kind, slug };
}

/** /, /topics/{topic}, /departments/{department} and /search. */
export function listRoutes({ config, store, respond }: PageDeps): Router {
  const router = Router();
  const cacheControl = `public, max-age=${config.feedMaxAge}`;
  const contentType = 'text/html; charset=utf-8';

  /**
   * A topic or department with at least one visible release; one whose releases are all embargoed
   * or withdrawn is not shown, so that an embargoed release's topic does not leak through its name.
   */
  function findTerm(kind: 'topic' | 'department', slug: string, now: Date): { scope: ListScope; storeScope: Scope; total: number } | undefined {
    const found = kind === 'topic' ? store.topicBySlug(slug) : store.departmentBySlug(slug);
    if (!found) return undefined;
    const storeScope: Scope = { kind, id: found.id };
    const total = store.countReleases(storeScope, now);
    if (total === 0) return undefined;
    const term: Term = { slug: found.slug, name: found.name };
    return { scope: { kind, term }, storeScope, total };
  }

  function notFoundPage(req: Request, res: Response): void {
    res.status(404).set('Cache-Control', 'no-store').type(contentType).send(renderNotFoundPage(config, req.path));
  }

  /**
   * respond() with an HTML 404 page for a 404 raised while building (unknown slug, page past the end);
   * the lists' cached hits skip the router; search's after the client's rate limit.
   */
  function respondPage(req: Request, res: Response, key: string, build: (now: Date) => string, fast: FastPath = true): void {
    try {
      respond(req, res, key, cacheControl, (now) => representation(build(now), contentType, null), { fast });
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) notFoundPage(req, res);
      else throw error;
    }
  }

  function listView(scope: ListScope, storeScope: Scope, total: number, page: number, now: Date): ListView {
    const pages = pageCount(total);
    if (page > pages) throw notFound(`This list has ${pages} page(s).`);
    return {
      scope, total, page, pages,
      releases: store.newestReleases(storeScope, { now, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }),
      topics: store.listTopics(now),
      departments: store.listDepartments(now),
    };
  }

  router.get('/', (req: Request, res: Response) => {
    const page = parsePage(req.query);
    respondPage(req, res, `page:${listPath({ kind: 'all' }, undefined, page)}`, (now) =>
      renderListPage(config, listView({ kind: 'all' }, { kind: 'all' }, store.countReleases({ kind: 'all' }, now), page, now)));
  });

  for (const kind of ['topic', 'department'] as const) {
    router.get(`/${kind}s/:slug`, (req: Request, res: Response) => {
      const slug = String(req.params.slug);
      const page = parsePage(req.query);
      if (!SLUG.test(slug)) {
        notFoundPage(req, res);
        return;
      }
      respondPage(req, res, `page:/${kind}s/${slug}?page=${page}`, (now) => {
        const found = findTerm(kind, slug, now);
        if (!found) throw notFound(`There is no ${kind} "${slug}".`);
        return renderListPage(config, listView(found.scope, found.storeScope, found.total, page, now));
      });
    });
  }

  router.get('/search', (req: Request, res: Response) => {
    const text = parseSearchText(req.query);
    const target = parseSearchScope(req.query);
    const page = parsePage(req.query);
    const key = `page:search?q=${encodeURIComponent(text)}&${target ? `${target.kind}=${target.slug}` : ''}&page=${page}`;
    respondPage(req, res, key, (now) => {
      let scope: ListScope = { kind: 'all' };
      let storeScope: Scope = { kind: 'all' };
      if (target) {
        const found = findTerm(target.kind, target.slug, now);
        if (!found) throw badRequest(target.kind, `There is no ${target.kind} "${target.slug}".`);
        ({ scope, storeScope } = found);
      }
      // Counted one past what is listed, to tell "more" from exactly as many.
      const found = store.countSearchMatches(storeScope, text, now, SEARCH_RESULTS_SHOWN + 1);
      const total = Math.min(found, SEARCH_RESULTS_SHOWN);
      const pages = pageCount(total);
      if (page > pages) throw notFound(`These results have ${pages} page(s).`);
      const releases = store.searchReleases(storeScope, text, { now, limit: Math.min(PAGE_SIZE, total - (page - 1) * PAGE_SIZE), offset: (page - 1) * PAGE_SIZE });
      return renderListPage(config, { scope, query: text, releases, total, more: found > total, page, pages, topics: [], departments: [] });
    }, 'rate-limited');
  });

  return router;
}
