import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from 'better-sqlite3';
import type { Contact, Media, Probe, Release, ReleaseHead, ReleaseInput, ReleaseListing, ReleaseStatus, Revision, SourceState, Term } from '../model.js';
import { readerEssence, slugify } from '../text.js';
import { createRenderedStore } from './rendered-store.js';
import { createStatusStore } from './status-store.js';
import { createSearchMatch, indexWords, registerSearchFunctions, searchableText } from './search-text.js';

/** How long a withdrawn release stays in the Atom feeds as an RFC 6721 tombstone. */
export const TOMBSTONE_MS = 30 * 24 * 60 * 60 * 1000;

/** This process as the holder of a source's run lease. */
const LEASE_HOLDER = `${hostname()} ${process.pid}`;

/**
 * Whether a lease holder is a process of this host that no longer runs. Another host's process, and
 * this one, are never taken for gone: their leases expire with time.
 */
function holderIsGone(holder: string): boolean {
  const match = /^(.*) (\d+)$/.exec(holder);
  if (!match || match[1] !== hostname() || Number(match[2]) === process.pid) return false;
  try {
    process.kill(Number(match[2]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A list's scope: all releases, one topic or one department (by id). */
export type Scope = { kind: 'all' } | { kind: 'topic'; id: number } | { kind: 'department'; id: number };

/** What an upsert did; `unchanged` means nothing was written. */
export type UpsertOutcome = 'new' | 'changed' | 'unchanged';

/** A topic or department with its id and the number of releases visible now. */
export interface TermRow extends Term {
  readonly id: number;
  readonly count: number;
}

interface ReleaseRow {
  id: number; guid: string; slug: string; source_id: string; source_ref: string | null;
  title: string; subtitle: string | null; body_html: string; body_text: string; language: string;
  organisation: string | null; department_id: number | null; department_slug: string | null;
  department_name: string | null; contact_json: string | null; places_json: string;
  published_at: string; updated_at: string | null; embargo_until: string | null;
  status: ReleaseStatus; content_hash: string; changed_at: string;
}

interface MediaRow {
  release_id: number; kind: 'image' | 'attachment'; url: string; title: string | null; alt: string | null;
  caption: string | null; credit: string | null; width: number | null; height: number | null;
  mime: string | null; bytes: number | null;
}

const VISIBLE = `r.status = 'published' AND (r.embargo_until IS NULL OR r.embargo_until <= :now)`;
const RELEASE_COLUMNS = `r.*, d.slug AS department_slug, d.name AS department_name`;
/**
 * The number of a release's row in the search index: its publication second and id, so that the
 * index's order is newest last (ties of one second by id). Ids stay below 2^30; the release of a row is
 * RELEASE_OF_SEARCH_ROW. Kept in SQL only: the numbers pass 2^53.
 */
const SEARCH_ID_MASK = 2 ** 30 - 1;
const SEARCH_KEY = `unixepoch(r.published_at) * ${SEARCH_ID_MASK + 1} + r.id`;
export const RELEASE_OF_SEARCH_ROW = `rowid & ${SEARCH_ID_MASK}`;
/** The ids of the releases not visible at :now (the complement of VISIBLE, status being published or withdrawn), by their indexes. */
const HIDDEN_IDS = `SELECT h.id FROM releases h INDEXED BY releases_withdrawn WHERE h.status = 'withdrawn'
  UNION ALL SELECT h.id FROM releases h INDEXED BY releases_embargo WHERE h.embargo_until > :now AND h.status = 'published'`;

/**
 * How many releases of a department or topic (given as SQL, e.g. a parameter) are under embargo at :now: the few
 * embargoed releases are found by their index and tested for the scope ("+" keeps the department's index unused,
 * CROSS JOIN keeps the embargoed releases the outer loop), never the scope's many releases.
 */
const embargoedInDepartment = (department: string) => `(SELECT count(*) FROM releases r
  WHERE r.embargo_until > :now AND r.status = 'published' AND +r.department_id = ${department})`;
const embargoedInTopic = (topic: string) => `(SELECT count(*) FROM releases r CROSS JOIN release_topics rt
  WHERE r.embargo_until > :now AND r.status = 'published' AND rt.release_id = r.id AND rt.topic_id = ${topic})`;

/** The releases a search matches, by their rows in the index (visible or not). */
const SEARCH_MATCHES = `SELECT ${RELEASE_OF_SEARCH_ROW} FROM release_search WHERE release_search MATCH :match`;

/** How many matches of a search, within the further `scope` condition on r, are not visible (HIDDEN_IDS). */
function hiddenMatches(scope: string): string {
  return `(SELECT count(*) FROM (${HIDDEN_IDS}) hidden JOIN releases r ON r.id = hidden.id WHERE +r.id IN (${SEARCH_MATCHES}) ${scope})`;
}

/** The columns of a ReleaseListing. */
const LISTING_COLUMNS = `r.slug, r.title, r.published_at AS publishedAt, r.updated_at AS updatedAt, r.embargo_until AS embargoUntil,
  r.changed_at AS changedAt`;
/** The columns of a ReleaseHead. */
export const HEAD_COLUMNS = `r.id, r.published_at AS publishedAt, r.embargo_until AS embargoUntil, r.changed_at AS changedAt, r.content_hash AS contentHash`;

/** Fields whose change is a correction; their previous values go into the revision. */
const TRACKED = ['title', 'subtitle', 'bodyHtml', 'organisation', 'department', 'contact', 'topics',
  'places', 'images', 'attachments', 'publishedAt', 'embargoUntil', 'status', 'language'] as const;

/** Whitespace next to a block-level tag never shows, so re-indented HTML compares equal. */
const BLOCK_TAG_SPACE = /\s*(<\/?(?:p|h[1-6]|ul|ol|li|blockquote|figure|figcaption|table|thead|tbody|tr|th|td|hr|br|div)\b[^>]*>)\s*/gi;

function collapse(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(BLOCK_TAG_SPACE, '$1').replace(/\s+/g, ' ').trim();
  if (Array.isArray(value)) return value.map(collapse);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, collapse(inner)]));
  }
  return value ?? null;
}

type Normalized = Record<(typeof TRACKED)[number], unknown>;

function normalize(input: ReleaseInput): Normalized {
  return {
    title: input.title,
    subtitle: input.subtitle ?? null,
    bodyHtml: input.bodyHtml,
    organisation: input.organisation ?? null,
    department: input.department ?? null,
    contact: input.contact ?? null,
    topics: [...(input.topics ?? [])],
    places: [...(input.places ?? [])],
    images: (input.images ?? []).map(mediaFields),
    attachments: (input.attachments ?? []).map(mediaFields),
    publishedAt: input.publishedAt,
    embargoUntil: input.embargoUntil ?? null,
    status: input.status ?? 'published',
    language: input.language ?? 'de',
  };
}

function mediaFields(media: Media): Media {
  return {
    url: media.url, title: media.title, alt: media.alt, caption: media.caption, credit: media.credit,
    width: media.width, height: media.height, mime: media.mime, bytes: media.bytes,
  };
}

/**
 * The values as readers compare them: a body counts by its text and link targets (readerEssence), so a
 * change of markup alone (`<b>` for `<strong>`, re-indentation) is no correction.
 */
function comparable(values: Normalized): Normalized {
  return { ...values, bodyHtml: readerEssence(String(values.bodyHtml)) };
}

/** Hash of the content that matters to readers; whitespace- and markup-only differences do not count. */
export function contentHash(input: ReleaseInput): string {
  return createHash('sha256').update(JSON.stringify(collapse(comparable(normalize(input))))).digest('base64url');
}

function normalizedOf(release: Release): Normalized {
  return {
    title: release.title,
    subtitle: release.subtitle,
    bodyHtml: release.bodyHtml,
    organisation: release.organisation,
    department: release.department?.name ?? null,
    contact: release.contact,
    topics: release.topics.map((topic) => topic.name),
    places: [...release.places],
    images: release.images.map(mediaFields),
    attachments: release.attachments.map(mediaFields),
    publishedAt: release.publishedAt,
    embargoUntil: release.embargoUntil,
    status: release.status,
    language: release.language,
  };
}

function instant(value: string, field: string, guid: string): string {
  const time = Date.parse(value);
  if (!Number.isFinite(time)) throw new Error(`store: release ${guid}: ${field} "${value}" is not a date-time`);
  return new Date(time).toISOString();
}

/** Instants are stored in one form (ISO 8601 UTC with milliseconds), so that they compare as strings. */
function withCanonicalInstants(input: ReleaseInput): ReleaseInput {
  return {
    ...input,
    publishedAt: instant(input.publishedAt, 'publishedAt', input.guid),
    updatedAt: input.updatedAt ? instant(input.updatedAt, 'updatedAt', input.guid) : null,
    embargoUntil: input.embargoUntil ? instant(input.embargoUntil, 'embargoUntil', input.guid) : null,
  };
}

/**
 * The SQL of the visible releases of each kind of scope, newest first, as `columns`. Visible is "not hidden": the
 * withdrawn and embargoed releases are few and found by their indexes, so a page far down a list skips the
 * releases before it by the index alone, without reading their rows. (Exported for the tests of its plans.)
 */
export const newestInScopeSql = (columns: string) => ({
  all: `SELECT ${columns} FROM releases r
    WHERE +r.id NOT IN (${HIDDEN_IDS}) ORDER BY r.published_at DESC, r.id DESC LIMIT :limit OFFSET :offset`,
  department: `SELECT ${columns} FROM releases r
    WHERE r.department_id = :scope AND +r.id NOT IN (${HIDDEN_IDS}) ORDER BY r.published_at DESC, r.id DESC LIMIT :limit OFFSET :offset`,
  // A topic's page is cut from its entries before any release's row is read.
  topic: `SELECT ${columns} FROM (SELECT rt.release_id, rt.published_at FROM release_topics rt
      WHERE rt.topic_id = :scope AND +rt.release_id NOT IN (${HIDDEN_IDS}) ORDER BY rt.published_at DESC, rt.release_id DESC LIMIT :limit OFFSET :offset) page
    JOIN releases r ON r.id = page.release_id ORDER BY page.published_at DESC, page.release_id DESC`,
});

/**
 * The SQL of the visible releases matching :match in :department or :topic (or everywhere), newest first, as
 * `columns` (joining `join`). Each match is tested by its entry in releases_state: a page far down the matches
 * reads the rows of its own releases only. (Exported for the tests of its plans.)
 */
export const searchInScopeSql = (columns: string, join: string) => `SELECT ${columns}
  FROM (SELECT rowid AS key FROM release_search WHERE release_search MATCH :match) m
  JOIN releases r INDEXED BY releases_state ON r.id = m.key & ${SEARCH_ID_MASK} ${join}
  WHERE ${VISIBLE} AND (:department IS NULL OR r.department_id = :department)
    AND (:topic IS NULL OR EXISTS (SELECT 1 FROM release_topics rt WHERE rt.release_id = r.id AND rt.topic_id = :topic))
  ORDER BY m.key DESC LIMIT :limit OFFSET :offset`;

/**
 * The SQL of Store.newestChange per kind of scope: what a reader of a list can have seen change, a write (correction,
 * withdrawal) or an embargo lifting, of any release in the scope published since :since; releases still under
 * embargo reveal nothing. Read from indexes alone (migration 14). (Exported for the tests of its plans.)
 */
export const NEWEST_CHANGE_SQL = {
  all: `SELECT max(max(r.changed_at, coalesce(r.embargo_until, ''))) FROM releases r
    WHERE r.published_at >= :since AND (r.embargo_until IS NULL OR r.embargo_until <= :now)`,
  department: `SELECT max(max(r.changed_at, coalesce(r.embargo_until, ''))) FROM releases r
    WHERE r.department_id = :scope AND r.published_at >= :since AND (r.embargo_until IS NULL OR r.embargo_until <= :now)`,
  // Without statistics SQLite would read each release's row by its id, not its entry in releases_state.
  topic: `SELECT max(max(r.changed_at, coalesce(r.embargo_until, ''))) FROM release_topics rt
    JOIN releases r INDEXED BY releases_state ON r.id = rt.release_id
    WHERE rt.topic_id = :scope AND rt.published_at >= :since AND (r.embargo_until IS NULL OR r.embargo_until <= :now)`,
};

/** Prepares every statement once and exposes the queries by what they return. */
export function createStore(db: Database) {
  registerSearchFunctions(db);
  const searchInScope = (columns: string, join: string) => db.prepare(searchInScopeSql(columns, join));
  const newestInScope = (columns: string) => {
    const sql = newestInScopeSql(columns);
    return { all: db.prepare(sql.all), department: db.prepare(sql.department), topic: db.prepare(sql.topic) };
  };
  const q = {
    // Newest first in a scope: the heads (no bodies read).
    newestHeads: newestInScope(HEAD_COLUMNS),
    // Published per scope (kept by triggers) minus those still under embargo (few, found by releases_embargo).
    publishedIn: db.prepare(`SELECT coalesce((SELECT published FROM scope_counts WHERE scope = :key), 0)`).pluck(),
    embargoedAll: db.prepare(`SELECT count(*) FROM releases r WHERE r.embargo_until > :now AND r.status = 'published'`).pluck(),
    embargoedDepartment: db.prepare(`SELECT ${embargoedInDepartment(':scope')}`).pluck(),
    embargoedTopic: db.prepare(`SELECT ${embargoedInTopic(':scope')}`).pluck(),
    // The matches newest first: the index's rows are numbered by publication (SEARCH_KEY), so reading them from the
    // last stops after the page, however many releases match.
    search: searchInScope(RELEASE_COLUMNS, 'LEFT JOIN departments d ON d.id = r.department_id'),
    searchHeads: searchInScope(HEAD_COLUMNS, ''),
    // All the matches are counted as the index's count (in a topic, of its entries there; in a department, of the
    // department's entries in its index among the matches) less the few matching releases not visible (withdrawn,
    // embargoed): no release's row is read but those few ("+" keeps SQLite starting from them).
    indexMatches: {
      all: db.prepare(`SELECT count(*) FROM release_search WHERE release_search MATCH :match`).pluck(),
      topic: db.prepare(`SELECT count(*) FROM release_search f
        JOIN release_topics rt ON rt.topic_id = :topic AND rt.release_id = f.${RELEASE_OF_SEARCH_ROW} WHERE release_search MATCH :match`).pluck(),
      department: db.prepare(`SELECT count(*) FROM releases r INDEXED BY releases_department_newest
        WHERE r.department_id = :department AND +r.id IN (${SEARCH_MATCHES})`).pluck(),
    },
    hiddenMatches: {
      all: db.prepare(`SELECT ${hiddenMatches('')}`).pluck(),
      topic: db.prepare(`SELECT ${hiddenMatches('AND EXISTS (SELECT 1 FROM release_topics rt WHERE rt.release_id = r.id AND rt.topic_id = :topic)')}`).pluck(),
      department: db.prepare(`SELECT ${hiddenMatches('AND +r.department_id = :department')}`).pluck(),
    },
    // Up to :limit of them are counted as the pages list them (searchInScopeSql), each tested by its entry in
    // releases_state: the count stops there, however many releases match.
    visibleMatchesUpTo: db.prepare(`SELECT count(*) FROM (${searchInScopeSql('1', '')})`).pluck(),
    // The search index is kept by the store, in the writing transaction (its text is folded in JavaScript). A release
    // leaves it by its row's number as stored, before its publication time (part of that number) is written anew.
    unindexRelease: db.prepare(`DELETE FROM release_search WHERE rowid = (SELECT ${SEARCH_KEY} FROM releases r WHERE r.id = ?)`),
    // The texts the index holds of a release (in the columns of migration 13); the store writes their searchable forms.
    searchedTexts: db.prepare(`SELECT r.title, r.subtitle, r.body_text AS body,
        (SELECT group_concat(t.name, ' ') FROM release_topics rt JOIN topics t ON t.id = rt.topic_id WHERE rt.release_id = r.id) AS topics,
        d.name AS department,
        concat_ws(' ', json_extract(r.contact_json, '$.name'), json_extract(r.contact_json, '$.organisation')) AS contact
      FROM releases r LEFT JOIN departments d ON d.id = r.department_id WHERE r.id = ?`).raw(),
    indexRelease: db.prepare(`INSERT INTO release_search (rowid, title, subtitle, body, topics, department, contact)
      SELECT ${SEARCH_KEY}, ?, ?, ?, ?, ?, ? FROM releases r WHERE r.id = ?`),
    // The index's words only grow: a word no release holds any more matches nothing.
    indexWords: db.prepare(`INSERT OR IGNORE INTO search_words (word) SELECT value FROM json_each(?)`),
    changeAll: db.prepare(NEWEST_CHANGE_SQL.all).pluck(),
    changeDepartment: db.prepare(NEWEST_CHANGE_SQL.department).pluck(),
    changeTopic: db.prepare(NEWEST_CHANGE_SQL.topic).pluck(),
    withdrawnChangeAll: db.prepare(`SELECT max(r.changed_at) AS at FROM releases r
      WHERE r.status = 'withdrawn' AND r.published_at >= :since`),
    withdrawnChangeDepartment: db.prepare(`SELECT max(r.changed_at) AS at FROM releases r
      WHERE r.department_id = :scope AND r.status = 'withdrawn' AND r.published_at >= :since`),
    withdrawnChangeTopic: db.prepare(`SELECT max(r.changed_at) AS at FROM release_topics rt JOIN releases r ON r.id = rt.release_id
      WHERE rt.topic_id = :scope AND r.status = 'withdrawn' AND rt.published_at >= :since`),
    // RFC 6721 tombstones: withdrawals since :since of releases that were public before (an embargoed one's GUID never
    // shows, nor one first stored as withdrawn).
    tombstonesAll: db.prepare(`SELECT r.guid, r.changed_at FROM releases r WHERE r.status = 'withdrawn' AND r.changed_at > :since
      AND (r.embargo_until IS NULL OR r.embargo_until <= r.changed_at) AND r.created_at < r.changed_at ORDER BY r.changed_at DESC, r.id DESC LIMIT 100`),
    // Scopes start from the few withdrawn releases (the partial index releases_withdrawn), not from the scope's
    // many releases: "+" keeps the department index out of the plan.
    tombstonesDepartment: db.prepare(`SELECT r.guid, r.changed_at FROM releases r WHERE +r.department_id = :scope
      AND r.status = 'withdrawn' AND r.changed_at > :since AND (r.embargo_until IS NULL OR r.embargo_until <= r.changed_at) AND r.created_at < r.changed_at
      ORDER BY r.changed_at DESC, r.id DESC LIMIT 100`),
    tombstonesTopic: db.prepare(`SELECT r.guid, r.changed_at FROM releases r
      WHERE r.status = 'withdrawn' AND r.changed_at > :since AND EXISTS (SELECT 1 FROM release_topics rt WHERE rt.release_id = r.id AND rt.topic_id = :scope)
      AND (r.embargo_until IS NULL OR r.embargo_until <= r.changed_at) AND r.created_at < r.changed_at ORDER BY r.changed_at DESC, r.id DESC LIMIT 100`),
    oldestTombstone: db.prepare(`SELECT min(r.changed_at) AS at FROM releases r WHERE r.status = 'withdrawn' AND r.changed_at > :since
      AND (r.embargo_until IS NULL OR r.embargo_until <= r.changed_at) AND r.created_at < r.changed_at`),
    embargoed: db.prepare(`SELECT ${RELEASE_COLUMNS} FROM releases r LEFT JOIN departments d ON d.id = r.department_id
      WHERE r.status = 'published' AND r.embargo_until > :now ORDER BY r.published_at DESC, r.id DESC LIMIT :limit`),
    lastEmbargoLift: db.prepare(`SELECT max(embargo_until) AS at FROM releases WHERE embargo_until <= :now AND status = 'published'`),
    topicsOf: db.prepare(`SELECT rt.release_id, t.slug, t.name FROM release_topics rt JOIN topics t ON t.id = rt.topic_id
      WHERE rt.release_id IN (SELECT value FROM json_each(:ids)) ORDER BY rt.release_id, rt.position`),
    mediaOf: db.prepare(`SELECT * FROM media WHERE release_id IN (SELECT value FROM json_each(:ids))
      ORDER BY release_id, kind, position`),
    byId: db.prepare(`SELECT ${RELEASE_COLUMNS} FROM releases r LEFT JOIN departments d ON d.id = r.department_id WHERE r.id = ?`),
    byIds: db.prepare(`SELECT ${RELEASE_COLUMNS} FROM releases r LEFT JOIN departments d ON d.id = r.department_id
      WHERE r.id IN (SELECT value FROM json_each(:ids))`),
    // Newest first by the index of publication; the columns are read from each row, the bodies are not copied.
    listings: db.prepare(`SELECT ${LISTING_COLUMNS} FROM releases r WHERE ${VISIBLE} AND r.published_at >= :since
      ORDER BY r.published_at DESC, r.id DESC LIMIT :limit`),
    listingsByIds: db.prepare(`SELECT ${LISTING_COLUMNS} FROM releases r WHERE r.id BETWEEN :first AND :last AND ${VISIBLE}
      ORDER BY r.published_at DESC, r.id DESC`),
    lastReleaseId: db.prepare(`SELECT coalesce(max(id), 0) FROM releases`).pluck(),
    byGuid: db.prepare(`SELECT ${RELEASE_COLUMNS} FROM releases r LEFT JOIN departments d ON d.id = r.department_id WHERE r.guid = ?`),
    bySlug: db.prepare(`SELECT ${RELEASE_COLUMNS} FROM releases r LEFT JOIN departments d ON d.id = r.department_id WHERE r.slug = ?`),
    oldSlug: db.prepare(`SELECT r.slug FROM release_slugs s JOIN releases r ON r.id = s.release_id WHERE s.slug = ?`),
    slugTaken: db.prepare(`SELECT 1 FROM releases WHERE slug = :slug AND id IS NOT :id
      UNION ALL SELECT 1 FROM release_slugs WHERE slug = :slug AND release_id IS NOT :id`),
    topicBySlug: db.prepare(`SELECT id, slug, name FROM topics WHERE slug = ?`),
    departmentBySlug: db.prepare(`SELECT id, slug, name FROM departments WHERE slug = ?`),
    // Counts as countReleases makes them: the published (scope_counts) less those under embargo (a few, by their
    // index), never a scan of the topic's or department's releases.
    topics: db.prepare(`SELECT t.id, t.slug, t.name, coalesce((SELECT published FROM scope_counts WHERE scope = 't:' || t.id), 0)
      - ${embargoedInTopic('t.id')} AS count FROM topics t ORDER BY t.name COLLATE NOCASE`),
    departments: db.prepare(`SELECT d.id, d.slug, d.name, coalesce((SELECT published FROM scope_counts WHERE scope = 'd:' || d.id), 0)
      - ${embargoedInDepartment('d.id')} AS count FROM departments d ORDER BY d.name COLLATE NOCASE`),
    insertTopic: db.prepare(`INSERT INTO topics (slug, name) VALUES (?, ?) ON CONFLICT (slug) DO NOTHING`),
    insertDepartment: db.prepare(`INSERT INTO departments (slug, name) VALUES (?, ?) ON CONFLICT (slug) DO NOTHING`),
    insertRelease: db.prepare(`INSERT INTO releases (guid, slug, source_id, source_ref, title, subtitle, body_html, body_text,
      language, organisation, department_id, contact_json, places_json, published_at, updated_at, embargo_until, status,
      content_hash, changed_at, created_at)
      VALUES (:guid, :slug, :sourceId, :sourceRef, :title, :subtitle, :bodyHtml, :bodyText, :language, :organisation,
      :departmentId, :contactJson, :placesJson, :publishedAt, :updatedAt, :embargoUntil, :status, :contentHash, :now, :now)`),
    updateRelease: db.prepare(`UPDATE releases SET slug = :slug, source_id = :sourceId, source_ref = :sourceRef, title = :title,
      subtitle = :subtitle, body_html = :bodyHtml, body_text = :bodyText, language = :language, organisation = :organisation,
      department_id = :departmentId, contact_json = :contactJson, places_json = :placesJson, published_at = :publishedAt,
      updated_at = :updatedAt, embargo_until = :embargoUntil, status = :status, content_hash = :contentHash, changed_at = :now
      WHERE id = :id`),
    rememberSlug: db.prepare(`INSERT INTO release_slugs (slug, release_id) VALUES (?, ?)
      ON CONFLICT (slug) DO UPDATE SET release_id = excluded.release_id`),
    deleteTopics: db.prepare(`DELETE FROM release_topics WHERE release_id = ?`),
    insertReleaseTopic: db.prepare(`INSERT OR IGNORE INTO release_topics (topic_id, release_id, published_at, position)
      SELECT id, :releaseId, :publishedAt, :position FROM topics WHERE slug = :slug`),
    deleteMedia: db.prepare(`DELETE FROM media WHERE release_id = ?`),
    insertMedia: db.prepare(`INSERT INTO media (release_id, kind, position, url, title, alt, caption, credit, width, height, mime, bytes)
      VALUES (:releaseId, :kind, :position, :url, :title, :alt, :caption, :credit, :width, :height, :mime, :bytes)`),
    insertRevision: db.prepare(`INSERT INTO revisions (release_id, revised_at, note, previous_json) VALUES (?, ?, ?, ?)`),
    revisions: db.prepare(`SELECT id, release_id, revised_at, note, previous_json FROM revisions WHERE release_id = ? ORDER BY revised_at, id`),
    nextEmbargo: db.prepare(`SELECT min(embargo_until) AS at FROM releases WHERE embargo_until > :now AND status = 'published'`),
    ping: db.prepare(`SELECT 1 AS ok`),
    anyRelease: db.prepare(`SELECT 1 FROM releases LIMIT 1`),
    recentRefs: db.prepare(`SELECT source_ref FROM releases WHERE source_id = ? AND source_ref IS NOT NULL AND status = 'published'
      ORDER BY published_at DESC, id DESC LIMIT ?`).pluck(),
    dataVersion: db.prepare(`PRAGMA data_version`).pluck(),
    sourceState: db.prepare(`SELECT * FROM source_state WHERE source_id = ?`),
    sourceStates: db.prepare(`SELECT * FROM source_state ORDER BY source_id`),
    acquireLease: db.prepare(`INSERT INTO source_state (source_id, running_until, running_by, last_attempt_at) VALUES (:id, :until, :holder, :now)
      ON CONFLICT (source_id) DO UPDATE SET running_until = :until, running_by = :holder, last_attempt_at = :now
      WHERE running_until IS NULL OR running_until <= :now OR running_by = :gone`),
    leaseHolder: db.prepare(`SELECT running_by FROM source_state WHERE source_id = ?`).pluck(),
    releaseLease: db.prepare(`UPDATE source_state SET running_until = NULL, running_by = NULL WHERE source_id = ?`),
    restoreAttempt: db.prepare(`UPDATE source_state SET last_attempt_at = :at WHERE source_id = :id`),
    recordSuccess: db.prepare(`UPDATE source_state SET last_success_at = :now, consecutive_errors = 0, runs = runs + 1,
      last_new = :new, last_changed = :changed, last_unchanged = :unchanged, last_rejected = :rejected,
      last_requests = :requests, last_duration_ms = :durationMs WHERE source_id = :id`),
    recordFailure: db.prepare(`UPDATE source_state SET last_error = :error, last_error_at = :now, error_count = error_count + 1,
      consecutive_errors = consecutive_errors + 1, runs = runs + 1, last_requests = :requests, last_duration_ms = :durationMs
      WHERE source_id = :id`),
    validators: db.prepare(`SELECT etag, last_modified FROM http_validators WHERE url = ?`),
    saveValidators: db.prepare(`INSERT INTO http_validators (url, source_id, etag, last_modified) VALUES (:url, :sourceId, :etag, :lastModified)
      ON CONFLICT (url) DO UPDATE SET source_id = :sourceId, etag = :etag, last_modified = :lastModified
      WHERE etag IS NOT :etag OR last_modified IS NOT :lastModified`),
    probe: db.prepare(`SELECT mime, bytes, width, height, error, local_url AS localUrl FROM media_probes WHERE url = ?`),
    saveProbe: db.prepare(`INSERT INTO media_probes (url, mime, bytes, width, height, error, local_url, probed_at)
      VALUES (:url, :mime, :bytes, :width, :height, :error, :localUrl, :now)
      ON CONFLICT (url) DO UPDATE SET mime = :mime, bytes = :bytes, width = :width, height = :height, error = :error,
      local_url = :localUrl, probed_at = :now`),
  };

  function hydrate(rows: ReleaseRow[]): Release[] {
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((row) => row.id));
    const topics = new Map<number, Term[]>();
    for (const row of q.topicsOf.all({ ids }) as Array<{ release_id: number; slug: string; name: string }>) {
      const list = topics.get(row.release_id) ?? [];
      list.push({ slug: row.slug, name: row.name });
      topics.set(row.release_id, list);
    }
    const media = new Map<number, { image: Media[]; attachment: Media[] }>();
    for (const row of q.mediaOf.all({ ids }) as MediaRow[]) {
      const entry = media.get(row.release_id) ?? { image: [], attachment: [] };
      entry[row.kind].push({
        url: row.url, title: row.title, alt: row.alt, caption: row.caption, credit: row.credit,
        width: row.width, height: row.height, mime: row.mime, bytes: row.bytes,
      });
      media.set(row.release_id, entry);
    }
    return rows.map((row) => ({
      id: row.id,
      guid: row.guid,
      slug: row.slug,
      sourceId: row.source_id,
      sourceRef: row.source_ref,
      title: row.title,
      subtitle: row.subtitle,
      bodyHtml: row.body_html,
      bodyText: row.body_text,
      language: row.language,
      organisation: row.organisation,
      department: row.department_slug && row.department_name ? { slug: row.department_slug, name: row.department_name } : null,
      contact: row.contact_json ? (JSON.parse(row.contact_json) as Contact) : null,
      topics: topics.get(row.id) ?? [],
      places: JSON.parse(row.places_json) as string[],
      images: media.get(row.id)?.image ?? [],
      attachments: media.get(row.id)?.attachment ?? [],
      publishedAt: row.published_at,
      updatedAt: row.updated_at,
      embargoUntil: row.embargo_until,
      status: row.status,
      changedAt: row.changed_at,
      contentHash: row.content_hash,
    }));
  }

  function one(row: unknown): Release | undefined {
    return row ? hydrate([row as ReleaseRow])[0] : undefined;
  }

  function uniqueSlug(base: string, id: number | null): string {
    const stem = base || 'pressemitteilung';
    for (let n = 1; ; n++) {
      const candidate = n === 1 ? stem : `${stem}-${n}`;
      if (!q.slugTaken.get({ slug: candidate, id })) return candidate;
    }
  }

  /** A topic's or department's slug; a name without letters or digits ("\">") gets one from its hash, never an empty one. */
  function termSlug(name: string): string {
    return slugify(name) || `t-${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
  }

  function ensureDepartment(name: string | null | undefined): number | null {
    if (!name) return null;
    const slug = termSlug(name);
    q.insertDepartment.run(slug, name);
    return (q.departmentBySlug.get(slug) as { id: number }).id;
  }

  function writeChildren(id: number, input: ReleaseInput): void {
    q.deleteTopics.run(id);
    (input.topics ?? []).forEach((name, position) => {
      const slug = termSlug(name);
      q.insertTopic.run(slug, name);
      q.insertReleaseTopic.run({ releaseId: id, publishedAt: input.publishedAt, position, slug });
    });
    q.deleteMedia.run(id);
    for (const [kind, list] of [['image', input.images ?? []], ['attachment', input.attachments ?? []]] as const) {
      list.forEach((item, position) => q.insertMedia.run({ releaseId: id, kind, position, ...mediaFields(item) }));
    }
  }

  function rowParams(input: ReleaseInput, slug: string, now: string) {
    return {
      guid: input.guid,
      slug,
      sourceId: input.sourceId,
      sourceRef: input.sourceRef ?? null,
      title: input.title,
      subtitle: input.subtitle ?? null,
      bodyHtml: input.bodyHtml,
      bodyText: input.bodyText,
      language: input.language ?? 'de',
      organisation: input.organisation ?? null,
      departmentId: ensureDepartment(input.department),
      contactJson: input.contact ? JSON.stringify(input.contact) : null,
      placesJson: JSON.stringify(input.places ?? []),
      publishedAt: input.publishedAt,
      updatedAt: input.updatedAt ?? null,
      embargoUntil: input.embargoUntil ?? null,
      status: input.status ?? 'published',
      contentHash: contentHash(input),
      now,
    };
  }

  const searchMatch = createSearchMatch(db);
  /** Writes a release into the search index, and its words into search_words, in the caller's transaction. */
  const indexRelease = (id: number) => {
    const texts = (q.searchedTexts.get(id) as Array<string | null>).map((text) => (text === null ? '' : searchableText(text)));
    q.indexRelease.run(...texts, id);
    q.indexWords.run(JSON.stringify(indexWords(texts)));
  };

  const upsertOne = (given: ReleaseInput, now: string, note: string | null): { id: number; outcome: UpsertOutcome } => {
    const input = withCanonicalInstants(given);
    const existing = one(q.byGuid.get(input.guid));
    if (!existing) {
      const slug = uniqueSlug(input.slug ?? slugify(input.title), null);
      const id = Number(q.insertRelease.run(rowParams(input, slug, now)).lastInsertRowid);
      writeChildren(id, input);
      indexRelease(id);
      return { id, outcome: 'new' };
    }
    const hash = contentHash(input);
    const stored = (q.byId.get(existing.id) as ReleaseRow).content_hash;
    if (hash === stored) return { id: existing.id, outcome: 'unchanged' };
    const before = normalizedOf(existing);
    const after = normalize(input);
    const [was, will] = [comparable(before), comparable(after)];
    const previous = Object.fromEntries(TRACKED
      .filter((key) => JSON.stringify(collapse(was[key])) !== JSON.stringify(collapse(will[key])))
      .map((key) => [key, before[key]]));
    // A hash from an older Herold (another formula) differs though nothing a reader sees does: no write.
    if (Object.keys(previous).length === 0) return { id: existing.id, outcome: 'unchanged' };
    const wantedSlug = input.slug ?? (previous.title !== undefined ? slugify(input.title) : existing.slug);
    const slug = wantedSlug === existing.slug ? existing.slug : uniqueSlug(wantedSlug, existing.id);
    if (slug !== existing.slug) q.rememberSlug.run(existing.slug, existing.id);
    const onlyStatus = Object.keys(previous).every((key) => key === 'status' || key === 'embargoUntil');
    const updatedAt = onlyStatus ? existing.updatedAt : (input.updatedAt ?? now);
    q.unindexRelease.run(existing.id);
    q.updateRelease.run({ ...rowParams({ ...input, updatedAt }, slug, now), id: existing.id });
    writeChildren(existing.id, input);
    indexRelease(existing.id);
    q.insertRevision.run(existing.id, now, note, JSON.stringify(previous));
    return { id: existing.id, outcome: 'changed' };
  };

  // Every writing transaction is IMMEDIATE: one that read first could not wait for another process's write lock
  // (SQLite answers SQLITE_BUSY at once, as its snapshot would be stale); nested, it is a savepoint.
  const upsertMany = db.transaction((inputs: readonly ReleaseInput[], now: string, note: string | null) =>
    inputs.map((input) => upsertOne(input, now, note)));

  let localWrites = 0;
  const status = createStatusStore(db);

  function scopeParams(scope: Scope) {
    return scope.kind === 'all' ? {} : { scope: scope.id };
  }

  function searchParams(scope: Scope, match: string, now: Date) {
    return {
      match,
      now: now.toISOString(),
      topic: scope.kind === 'topic' ? scope.id : null,
      department: scope.kind === 'department' ? scope.id : null,
    };
  }

  function releasesByIds(ids: readonly number[]): Release[] {
    if (ids.length === 0) return [];
    const byId = new Map(hydrate(q.byIds.all({ ids: JSON.stringify(ids) }) as ReleaseRow[]).map((release) => [release.id, release]));
    return ids.map((id) => byId.get(id)).filter((release): release is Release => release !== undefined);
  }

  /** The visible matches of a search in a scope, all of them or up to `atMost` (see indexMatches and visibleMatchesUpTo). */
  function countMatches(scope: Scope, match: string, now: Date, atMost: number | undefined): number {
    const params = searchParams(scope, match, now);
    if (atMost !== undefined) return q.visibleMatchesUpTo.get({ ...params, limit: atMost, offset: 0 }) as number;
    return (q.indexMatches[scope.kind].get(params) as number) - (q.hiddenMatches[scope.kind].get(params) as number);
  }

  function listParams(scope: Scope, options: { now: Date; limit: number; offset?: number }) {
    return { ...scopeParams(scope), now: options.now.toISOString(), limit: options.limit, offset: options.offset ?? 0 };
  }

  return {
    // The status page's queries (source runs, releases per week) live in status-store.ts.
    ...status,
    // Rendered feed items kept across processes (rendered-store.ts).
    ...createRenderedStore(db),

    /** Inserts new releases, updates changed ones (recording a revision), skips unchanged ones; one transaction. */
    upsertReleases(inputs: readonly ReleaseInput[], options: { now?: Date; note?: string | null } = {}) {
      const now = (options.now ?? new Date()).toISOString();
      const results = upsertMany.immediate(inputs, now, options.note ?? null);
      if (results.some((result) => result.outcome !== 'unchanged')) localWrites++;
      return results;
    },

    /** The newest releases visible at `now` in a scope, newest first. */
    newestReleases(scope: Scope, options: { now: Date; limit: number; offset?: number }): Release[] {
      // The page's ids by the index, then their rows: joining each row to its department before the offset is
      // counted would read every row skipped.
      return releasesByIds((q.newestHeads[scope.kind].all(listParams(scope, options)) as ReleaseHead[]).map((head) => head.id));
    },

    /** The newest releases visible at `now` and published since `since` (all when absent), as a sitemap lists them. */
    newestListings(options: { now: Date; limit: number; since?: Date }): ReleaseListing[] {
      return q.listings.all({ now: options.now.toISOString(), limit: options.limit, since: options.since?.toISOString() ?? '' }) as ReleaseListing[];
    },

    /** The releases visible at `now` whose ids are from `first` to `last`, newest first, as a sitemap lists them. */
    listingsByIds(first: number, last: number, now: Date): ReleaseListing[] {
      return q.listingsByIds.all({ first, last, now: now.toISOString() }) as ReleaseListing[];
    },

    /** The highest release id given so far (0 before the first release). */
    lastReleaseId(): number {
      return q.lastReleaseId.get() as number;
    },

    /** The heads of the releases newestReleases returns, without reading their bodies (releasesByIds loads them whole). */
    newestReleaseHeads(scope: Scope, options: { now: Date; limit: number; offset?: number }): ReleaseHead[] {
      return q.newestHeads[scope.kind].all(listParams(scope, options)) as ReleaseHead[];
    },

    /** How many releases are visible at `now` in a scope. */
    countReleases(scope: Scope, now: Date): number {
      const key = scope.kind === 'all' ? 'all' : `${scope.kind === 'topic' ? 't' : 'd'}:${scope.id}`;
      const embargoed = scope.kind === 'all' ? q.embargoedAll : scope.kind === 'topic' ? q.embargoedTopic : q.embargoedDepartment;
      return (q.publishedIn.get({ key }) as number) - (embargoed.get({ ...scopeParams(scope), now: now.toISOString() }) as number);
    },

    /**
     * Full-text search within a scope, newest first: every word must occur (as a word or a word's
     * beginning), umlauts and accents folded. A query without words finds nothing.
     */
    searchReleases(scope: Scope, text: string, options: { now: Date; limit: number; offset?: number }): Release[] {
      const match = searchMatch(text);
      if (!match) return [];
      return hydrate(q.search.all({ ...searchParams(scope, match, options.now), limit: options.limit, offset: options.offset ?? 0 }) as ReleaseRow[]);
    },

    /**
     * How many releases visible at `now` in a scope a search finds, or `atMost` when it finds more. Counting
     * stops there: it reads the matches until `atMost` of them are visible in the scope, however many there are.
     */
    countSearchMatches(scope: Scope, text: string, now: Date, atMost?: number): number {
      const match = searchMatch(text);
      return match ? countMatches(scope, match, now, atMost) : 0;
    },

    /**
     * The heads of the releases searchReleases returns, without their bodies: its cost grows with the page,
     * not with how many releases match.
     */
    searchReleaseHeads(scope: Scope, text: string, options: { now: Date; limit: number; offset?: number }): ReleaseHead[] {
      const match = searchMatch(text);
      if (!match) return [];
      return q.searchHeads.all({ ...searchParams(scope, match, options.now), limit: options.limit, offset: options.offset ?? 0 }) as ReleaseHead[];
    },

    /**
     * The newest change readers of a scope can have seen among releases published since `since` (an
     * ISO instant, or "" for all): a write of a visible or withdrawn release, or an embargo lifting.
     * Whatever moves an item into, out of or along a page of that list is such a change; null when none.
     */
    newestChange(scope: Scope, since: string, now: Date): string | null {
      const statement = scope.kind === 'all' ? q.changeAll : scope.kind === 'topic' ? q.changeTopic : q.changeDepartment;
      return (statement.get({ ...scopeParams(scope), since, now: now.toISOString() }) as string | null) || null;
    },

    /** Newest withdrawal in a scope among releases published since `since`, or null. */
    newestWithdrawal(scope: Scope, since: string): string | null {
      const statement = scope.kind === 'all' ? q.withdrawnChangeAll
        : scope.kind === 'topic' ? q.withdrawnChangeTopic : q.withdrawnChangeDepartment;
      return (statement.get({ ...scopeParams(scope), since }) as { at: string | null }).at;
    },

    /**
     * RFC 6721 tombstones of a scope: the GUIDs of releases withdrawn within the last 30 days before `now`
     * (while public), with the time of withdrawal, newest first.
     */
    tombstones(scope: Scope, now: Date): Array<{ guid: string; withdrawnAt: string }> {
      const statement = scope.kind === 'all' ? q.tombstonesAll : scope.kind === 'topic' ? q.tombstonesTopic : q.tombstonesDepartment;
      const rows = statement.all({ ...scopeParams(scope), since: new Date(now.getTime() - TOMBSTONE_MS).toISOString() }) as Array<{ guid: string; changed_at: string }>;
      return rows.map((row) => ({ guid: row.guid, withdrawnAt: row.changed_at }));
    },

    /** Releases still under embargo at `now`, newest first: only for journalists holding a press token. */
    embargoedReleases(now: Date, limit: number): Release[] {
      return hydrate(q.embargoed.all({ now: now.toISOString(), limit }) as ReleaseRow[]);
    },

    /** The last moment an embargo lifted at or before `now`, or null. */
    lastEmbargoLift(now: Date): string | null {
      return (q.lastEmbargoLift.get({ now: now.toISOString() }) as { at: string | null }).at;
    },

    /** One release by internal id, whatever its status. */
    releaseById(id: number): Release | undefined {
      return one(q.byId.get(id));
    },

    /** Releases by internal id, in the order given (unknown ids left out), whatever their status. */
    releasesByIds,

    /**
     * The connection itself, for feature stores (src/db/api-store.ts) that prepare their own statements
     * and whose writes must share a transaction with this store's.
     */
    connection(): Database {
      return db;
    },

    /** One release by its stable GUID, whatever its status. */
    releaseByGuid(guid: string): Release | undefined {
      return one(q.byGuid.get(guid));
    },

    /** One release by its current slug, whatever its status. */
    releaseBySlug(slug: string): Release | undefined {
      return one(q.bySlug.get(slug));
    },

    /** The current slug of a release once reachable under `slug`. */
    currentSlugFor(slug: string): string | undefined {
      return (q.oldSlug.get(slug) as { slug: string } | undefined)?.slug;
    },

    /** The corrections of a release, oldest first. */
    revisionsOf(releaseId: number): Revision[] {
      return (q.revisions.all(releaseId) as Array<{ id: number; release_id: number; revised_at: string; note: string | null; previous_json: string }>)
        .map((row) => ({ id: row.id, releaseId: row.release_id, revisedAt: row.revised_at, note: row.note, previous: JSON.parse(row.previous_json) }));
    },

    topicBySlug(slug: string): { id: number; slug: string; name: string } | undefined {
      return q.topicBySlug.get(slug) as { id: number; slug: string; name: string } | undefined;
    },

    departmentBySlug(slug: string): { id: number; slug: string; name: string } | undefined {
      return q.departmentBySlug.get(slug) as { id: number; slug: string; name: string } | undefined;
    },

    /** All topics with their count of visible releases, by name. */
    listTopics(now: Date): TermRow[] {
      return q.topics.all({ now: now.toISOString() }) as TermRow[];
    },

    /** All departments with their count of visible releases, by name. */
    listDepartments(now: Date): TermRow[] {
      return q.departments.all({ now: now.toISOString() }) as TermRow[];
    },

    /** Count and newest publication time of the releases visible at `now`. */
    stats(now: Date): { count: number; newest: string | null } {
      const [newest] = this.newestReleases({ kind: 'all' }, { now, limit: 1 });
      return { count: this.countReleases({ kind: 'all' }, now), newest: newest?.publishedAt ?? null };
    },

    /** The next moment public output changes without a write (an embargo lifts, a tombstone ages out), or null: cached output expires then. */
    nextEmbargoLift(now: Date): string | null {
      const lift = (q.nextEmbargo.get({ now: now.toISOString() }) as { at: string | null }).at;
      // A tombstone ageing out changes the Atom feeds too: cached output expires then as well.
      const oldest = (q.oldestTombstone.get({ since: new Date(now.getTime() - TOMBSTONE_MS).toISOString() }) as { at: string | null }).at;
      const expiry = oldest ? new Date(Date.parse(oldest) + TOMBSTONE_MS).toISOString() : null;
      return lift && expiry ? (lift < expiry ? lift : expiry) : lift ?? expiry;
    },

    /**
     * Takes the run lease of a source until `until`, unless another run (in any process) holds an
     * unexpired one whose process still runs; returns whether it was taken.
     */
    acquireSourceLease(sourceId: string, now: Date, until: Date): boolean {
      const lease = { id: sourceId, now: now.toISOString(), until: until.toISOString(), holder: LEASE_HOLDER };
      if (q.acquireLease.run({ ...lease, gone: null }).changes === 1) return true;
      // A run killed mid-way (kill -9, a crash) never gave its lease back: it is void once its process is gone.
      const holder = q.leaseHolder.get(sourceId) as string | null | undefined;
      return !!holder && holderIsGone(holder) && q.acquireLease.run({ ...lease, gone: holder }).changes === 1;
    },

    /** Gives the run lease of a source back; `lastAttemptAt` puts back the attempt time from before the run (a cancelled run). */
    releaseSourceLease(sourceId: string, restore: { lastAttemptAt?: string | null } = {}): void {
      q.releaseLease.run(sourceId);
      if (restore.lastAttemptAt !== undefined) q.restoreAttempt.run({ id: sourceId, at: restore.lastAttemptAt });
    },

    /**
     * Writes a successful run's releases, the validators of what was fetched and the source's counts
     * in one transaction: either all of it is stored or none.
     */
    commitRefresh(sourceId: string, inputs: readonly ReleaseInput[], validators: ReadonlyArray<{ url: string; etag: string | null; lastModified: string | null }>,
      stats: { rejected: number; requests: number; durationMs: number }, now: Date) {
      const results = db.transaction(() => {
        const outcomes = upsertMany(inputs, now.toISOString(), null);
        for (const entry of validators) q.saveValidators.run({ sourceId, ...entry });
        const count = (outcome: UpsertOutcome) => outcomes.filter((result) => result.outcome === outcome).length;
        q.recordSuccess.run({
          id: sourceId, now: now.toISOString(), new: count('new'), changed: count('changed'), unchanged: count('unchanged'),
          rejected: stats.rejected, requests: stats.requests, durationMs: Math.round(stats.durationMs),
        });
        status.recordRun({
          sourceId, finishedAt: now, ok: true, new: count('new'), changed: count('changed'), unchanged: count('unchanged'),
          rejected: stats.rejected, requests: stats.requests, durationMs: stats.durationMs,
        });
        return outcomes;
      }).immediate();
      if (results.some((result) => result.outcome !== 'unchanged')) localWrites++;
      return results;
    },

    /** Records a failed run: the error (naming source and URL), its time and the error counts. */
    recordSourceFailure(sourceId: string, error: string, stats: { requests: number; durationMs: number }, now: Date): void {
      db.transaction(() => {
        q.recordFailure.run({ id: sourceId, error, now: now.toISOString(), requests: stats.requests, durationMs: Math.round(stats.durationMs) });
        status.recordRun({ sourceId, finishedAt: now, ok: false, requests: stats.requests, durationMs: stats.durationMs, error });
      }).immediate();
    },

    /** The state of one source, or undefined before its first run. */
    sourceState(sourceId: string): SourceState | undefined {
      const row = q.sourceState.get(sourceId) as Record<string, unknown> | undefined;
      return row ? toSourceState(row) : undefined;
    },

    /** The state of every source that ever ran. */
    sourceStates(): SourceState[] {
      return (q.sourceStates.all() as Array<Record<string, unknown>>).map(toSourceState);
    },

    /** The validators stored for an upstream URL. */
    validatorsFor(url: string): { etag: string | null; lastModified: string | null } | undefined {
      const row = q.validators.get(url) as { etag: string | null; last_modified: string | null } | undefined;
      return row ? { etag: row.etag, lastModified: row.last_modified } : undefined;
    },

    /** What was measured of a media URL before, if it was probed. */
    probeOf(url: string): Probe | undefined {
      return q.probe.get(url) as Probe | undefined;
    },

    /** Stores what a probe measured (or its error) so that the URL is not probed again. */
    saveProbe(url: string, probe: Probe, now: Date): void {
      q.saveProbe.run({ url, ...probe, localUrl: probe.localUrl ?? null, now: now.toISOString() });
    },

    /** The upstream references of a source's newest published releases, newest first. */
    recentSourceRefs(sourceId: string, limit: number): string[] {
      return q.recentRefs.all(sourceId, limit) as string[];
    },

    /** True when the database holds no release at all, of any status. */
    isEmpty(): boolean {
      return q.anyRelease.get() === undefined;
    },

    /** Throws when the database cannot answer. */
    ping(): void {
      q.ping.get();
    },

    /**
     * Changes whenever stored data change: SQLite's data_version counts other connections'
     * commits (another process's import), the local counter this connection's own writes.
     */
    generation(): string {
      return `${localWrites}:${q.dataVersion.get() as number}`;
    },
  };
}

function toSourceState(row: Record<string, unknown>): SourceState {
  return {
    sourceId: row.source_id as string,
    lastAttemptAt: row.last_attempt_at as string | null,
    lastSuccessAt: row.last_success_at as string | null,
    lastError: row.last_error as string | null,
    lastErrorAt: row.last_error_at as string | null,
    errorCount: row.error_count as number,
    consecutiveErrors: row.consecutive_errors as number,
    runs: row.runs as number,
    lastNew: row.last_new as number,
    lastChanged: row.last_changed as number,
    lastUnchanged: row.last_unchanged as number,
    lastRejected: row.last_rejected as number,
    lastRequests: row.last_requests as number,
    lastDurationMs: row.last_duration_ms as number | null,
    // The lease of a run killed mid-way (its process gone) holds nothing: no run is going on.
    runningUntil: row.running_by && holderIsGone(row.running_by as string) ? null : row.running_until as string | null,
  };
}

/** The store's interface, as created by createStore. */
export type Store = ReturnType<typeof createStore>;
