import type { Database } from 'better-sqlite3';
import { createSearchMatch } from './search-text.js';
import { RELEASE_OF_SEARCH_ROW, type Scope } from './store.js';

/** Which releases a list may show: what the public sees, or (token holders) all or one state. */
export type ListVisibility = 'public' | 'all' | 'published' | 'embargoed' | 'withdrawn';

/** A validated list query: filters by id (resolved from slugs), search text, page size and position. */
export interface ListQuery {
  readonly visibility: ListVisibility;
  readonly topicId: number | null;
  readonly departmentId: number | null;
  readonly q: string | null;
  readonly limit: number;
  /** Where the previous page ended: the last item's publication time and id. */
  readonly after: { readonly publishedAt: string; readonly id: number } | null;
}

/** A stored answer to a POST with an Idempotency-Key. */
export interface StoredAnswer {
  readonly requestHash: string;
  readonly status: number;
  readonly responseJson: string;
  readonly location: string | null;
}

/** How long an Idempotency-Key is remembered: a day covers any client's retries. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

// The same rule as the store's VISIBLE for 'public' (and 'published'); the others are for token holders.
const VISIBILITY = `CASE :visibility
    WHEN 'all' THEN 1
    WHEN 'withdrawn' THEN r.status = 'withdrawn'
    WHEN 'embargoed' THEN r.status = 'published' AND r.embargo_until > :now
    ELSE r.status = 'published' AND (r.embargo_until IS NULL OR r.embargo_until <= :now)
  END`;
const FILTERS = `(:topic IS NULL OR EXISTS (SELECT 1 FROM release_topics rt WHERE rt.release_id = r.id AND rt.topic_id = :topic))
  AND (:department IS NULL OR r.department_id = :department) AND ${VISIBILITY}`;
// The search index is the store's (release_search, filled by it); its query is built as the store's (createSearchMatch).
const SEARCH = `r.id IN (SELECT ${RELEASE_OF_SEARCH_ROW} FROM release_search WHERE release_search MATCH :match)`;
// Keyset paging: rows strictly after the cursor in (published_at DESC, id DESC) order, so inserts never shift a page.
const AFTER = `(:afterPublished IS NULL OR (r.published_at, r.id) < (:afterPublished, :afterId))`;
const ORDER = `ORDER BY r.published_at DESC, r.id DESC LIMIT :limit`;

/**
 * The authoring API's own SQL (cursor-paged lists, idempotency keys), each statement prepared once.
 * `countVisible` is the store's count of what the public sees in a scope (Store.countReleases).
 */
export function createApiStore(db: Database, countVisible: (scope: Scope, now: Date) => number) {
  const searchMatch = createSearchMatch(db);
  const q = {
    page: db.prepare(`SELECT r.id FROM releases r WHERE ${FILTERS} AND ${AFTER} ${ORDER}`).pluck(),
    pageSearch: db.prepare(`SELECT r.id FROM releases r WHERE ${SEARCH} AND ${FILTERS} AND ${AFTER} ${ORDER}`).pluck(),
    count: db.prepare(`SELECT count(*) FROM releases r WHERE ${FILTERS}`).pluck(),
    countSearch: db.prepare(`SELECT count(*) FROM releases r WHERE ${SEARCH} AND ${FILTERS}`).pluck(),
    answer: db.prepare(`SELECT request_hash, status, response_json, location FROM idempotency_keys
      WHERE token_hash = :tokenHash AND key = :key AND created_at >= :since`),
    forget: db.prepare(`DELETE FROM idempotency_keys WHERE created_at < :since`),
    remember: db.prepare(`INSERT INTO idempotency_keys (key, token_hash, request_hash, status, response_json, location, created_at)
      VALUES (:key, :tokenHash, :requestHash, :status, :responseJson, :location, :now)`),
  };

  return {
    /**
     * One page of release ids, newest first, and how many match in all. The page holds up to
     * `limit + 1` ids: one more than asked says whether there is a next page.
     */
    listReleaseIds(query: ListQuery, now: Date): { ids: number[]; total: number } {
      const match = query.q === null ? null : searchMatch(query.q);
      if (query.q !== null && match === null) return { ids: [], total: 0 };
      const filters = {
        visibility: query.visibility, now: now.toISOString(), topic: query.topicId, department: query.departmentId,
        ...(match === null ? {} : { match }),
      };
      const page = {
        ...filters, limit: query.limit + 1,
        afterPublished: query.after?.publishedAt ?? null, afterId: query.after?.id ?? null,
      };
      if (match !== null) return { ids: q.pageSearch.all(page) as number[], total: q.countSearch.get(filters) as number };
      // What the public sees, in one scope at most, is counted as the feeds count it (kept by triggers): the query
      // would read every release of the scope.
      const scope: Scope | null = query.visibility !== 'public' && query.visibility !== 'published' ? null
        : query.topicId === null ? (query.departmentId === null ? { kind: 'all' } : { kind: 'department', id: query.departmentId })
          : query.departmentId === null ? { kind: 'topic', id: query.topicId } : null;
      return { ids: q.page.all(page) as number[], total: scope ? countVisible(scope, now) : q.count.get(filters) as number };
    },

    /** The answer stored for a token's Idempotency-Key, unless it expired. */
    answerFor(tokenHash: string, key: string, now: Date): StoredAnswer | undefined {
      const row = q.answer.get({ tokenHash, key, since: new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString() }) as
        { request_hash: string; status: number; response_json: string; location: string | null } | undefined;
      return row && { requestHash: row.request_hash, status: row.status, responseJson: row.response_json, location: row.location };
    },

    /** Stores the answer to a token's Idempotency-Key (dropping expired ones); call inside the creating transaction. */
    rememberAnswer(tokenHash: string, key: string, answer: StoredAnswer, now: Date): void {
      q.forget.run({ since: new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString() });
      q.remember.run({ key, tokenHash, ...answer, now: now.toISOString() });
    },

    /**
     * Runs `write` in one IMMEDIATE transaction (the write lock is taken first, so a check inside it
     * cannot be overtaken by another process); the store's own transactions nest inside as savepoints.
     */
    writing<T>(write: () => T): T {
      return db.transaction(write).immediate();
    },
  };
}

/** The authoring API's store, as created by createApiStore. */
export type ApiStore = ReturnType<typeof createApiStore>;
