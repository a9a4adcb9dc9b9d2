import type { Database, Statement } from 'better-sqlite3';
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

/** The filters of a list without search text: none, a topic, a department, or both. */
type ListScope = 'all' | 'topic' | 'department' | 'both';

/**
 * The statements of the lists of many releases (what the public sees, or everything), one per filter and each
 * led by its index (newest first): a filter written for any value, null included (":department IS NULL OR …"),
 * keeps SQLite from using one, and a list of a small department would read every release. `rule` is the
 * condition on each release; a release's row is read only once its ids and index entries matched (reading one,
 * bodies and all, is what costs): with both filters, the page checks the topic before the rule, and the count
 * reads the rows of the releases in both only. Everything ("1") reads no row to count.
 */
function scoped(rule: string): Readonly<Record<ListScope, { readonly from: string; readonly where: string; readonly count?: string; readonly countFrom?: string; readonly key: readonly [string, string] }>> {
  return {
    all: { from: 'releases r', where: rule, key: ['r.published_at', 'r.id'] },
    // Counted by releases_state, whose entries hold what the rule of everything reads of a release: nothing.
    topic: { from: 'release_topics rt JOIN releases r ON r.id = rt.release_id', where: `rt.topic_id = :topic AND ${rule}`, key: ['rt.published_at', 'rt.release_id'],
      countFrom: 'release_topics rt JOIN releases r INDEXED BY releases_state ON r.id = rt.release_id' },
    department: { from: 'releases r', where: `r.department_id = :department AND ${rule}`, key: ['r.published_at', 'r.id'] },
    both: {
      from: 'releases r',
      where: `r.department_id = :department
        AND CASE WHEN EXISTS (SELECT 1 FROM release_topics rt WHERE rt.release_id = r.id AND rt.topic_id = :topic) THEN ${rule} ELSE 0 END`,
      count: `r.id IN (SELECT rt.release_id FROM release_topics rt WHERE rt.topic_id = :topic
        INTERSECT SELECT d.id FROM releases d WHERE d.department_id = :department) AND ${rule}`,
      key: ['r.published_at', 'r.id'],
    },
  };
}

/** The page statements of each filter under `rule` (see scoped), and the count statements of the filters `counted`. */
function scopedStatements(db: Database, rule: string, counted: readonly ListScope[]): {
  page: Record<ListScope, Statement>; count: Partial<Record<ListScope, Statement>>;
} {
  const filters = scoped(rule);
  const page = (scope: ListScope) => {
    const { from, where, key: [time, id] } = filters[scope];
    return db.prepare(`SELECT r.id FROM ${from} WHERE ${where}
      AND (:afterPublished IS NULL OR (${time}, ${id}) < (:afterPublished, :afterId)) ORDER BY ${time} DESC, ${id} DESC LIMIT :limit`).pluck();
  };
  const count = (scope: ListScope) => {
    const { from, countFrom, where, count: condition } = filters[scope];
    return db.prepare(`SELECT count(*) FROM ${countFrom ?? from} WHERE ${condition ?? where}`).pluck();
  };
  const scopes: ListScope[] = ['all', 'topic', 'department', 'both'];
  return {
    page: Object.fromEntries(scopes.map((scope) => [scope, page(scope)])) as Record<ListScope, Statement>,
    count: Object.fromEntries(counted.map((scope) => [scope, count(scope)])),
  };
}

/**
 * The withdrawn and the embargoed releases are few: their lists start from them (their partial indexes) and test
 * the filters on each, so that a token holder's list of them never walks the many others.
 */
const FEW = {
  withdrawn: { index: 'releases_withdrawn', rule: `r.status = 'withdrawn'` },
  embargoed: { index: 'releases_embargo', rule: `r.embargo_until > :now AND r.status = 'published'` },
} as const;
const FEW_FILTERS = `(:topic IS NULL OR EXISTS (SELECT 1 FROM release_topics rt WHERE rt.release_id = r.id AND rt.topic_id = :topic))
  AND (:department IS NULL OR +r.department_id = :department)`;

/** The statements' parameters of a list's filters: those its scope names. */
function scopeParams(scope: ListScope, query: ListQuery): Record<string, number> {
  return {
    ...(scope === 'topic' || scope === 'both' ? { topic: query.topicId! } : {}),
    ...(scope === 'department' || scope === 'both' ? { department: query.departmentId! } : {}),
  };
}

/** The store's counts of what the public sees in a scope: all of it (Store.countReleases), and a search's matches (Store.countSearchMatches). */
export interface VisibleCounts {
  countReleases(scope: Scope, now: Date): number;
  countSearchMatches(scope: Scope, text: string, now: Date): number;
}

/** The authoring API's own SQL (cursor-paged lists, idempotency keys), each statement prepared once. */
export function createApiStore(db: Database, counts: VisibleCounts) {
  const searchMatch = createSearchMatch(db);
  const q = {
    // The public's list of one filter takes its total from the store's kept counts (listReleaseIds): only that of
    // both filters is counted here.
    visible: scopedStatements(db, `r.status = 'published' AND (r.embargo_until IS NULL OR r.embargo_until <= :now)`, ['both']),
    everything: scopedStatements(db, '1', ['all', 'topic', 'department', 'both']),
    few: Object.fromEntries(Object.entries(FEW).map(([state, { index, rule }]) => [state, {
      page: db.prepare(`SELECT r.id FROM releases r INDEXED BY ${index} WHERE ${rule} AND ${FEW_FILTERS} AND ${AFTER} ${ORDER}`).pluck(),
      count: db.prepare(`SELECT count(*) FROM releases r INDEXED BY ${index} WHERE ${rule} AND ${FEW_FILTERS}`).pluck(),
    }])) as Record<keyof typeof FEW, { page: Statement; count: Statement }>,
    // "+" keeps SQLite from reading the matches by id, every row of them, to sort them: it walks the newest-first
    // index instead, checks each id against the matches, and stops after the page.
    pageSearch: db.prepare(`SELECT r.id FROM releases r WHERE +${SEARCH} AND ${FILTERS} AND ${AFTER} ${ORDER}`).pluck(),
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
      const scope: ListScope = query.topicId === null ? (query.departmentId === null ? 'all' : 'department')
        : query.departmentId === null ? 'topic' : 'both';
      // What the public sees, in one scope at most, is counted as the feeds and pages count it: the filters below
      // would read every release of the scope, or every match.
      const visible = query.visibility === 'public' || query.visibility === 'published';
      const counted: Scope | null = !visible || scope === 'both' ? null
        : scope === 'all' ? { kind: 'all' } : scope === 'topic' ? { kind: 'topic', id: query.topicId! } : { kind: 'department', id: query.departmentId! };
      if (match !== null) {
        return { ids: q.pageSearch.all(page) as number[], total: counted ? counts.countSearchMatches(counted, query.q!, now) : q.countSearch.get(filters) as number };
      }
      const after = { limit: page.limit, afterPublished: page.afterPublished, afterId: page.afterId };
      if (query.visibility === 'withdrawn' || query.visibility === 'embargoed') {
        const few = q.few[query.visibility];
        const params = { now: filters.now, topic: query.topicId, department: query.departmentId };
        return { ids: few.page.all({ ...params, ...after }) as number[], total: few.count.get(params) as number };
      }
      const statements = query.visibility === 'all' ? q.everything : q.visible;
      const params = { now: filters.now, ...scopeParams(scope, query) };
      const ids = statements.page[scope].all({ ...params, ...after }) as number[];
      return { ids, total: counted ? counts.countReleases(counted, now) : statements.count[scope]!.get(params) as number };
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
