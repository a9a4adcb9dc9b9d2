import type { Database } from 'better-sqlite3';
import { registerSearchFunctions } from './search-text.js';

/**
 * The schema, as an append-only list: the database's `PRAGMA user_version` is the number of
 * steps applied. Never edit a step that has shipped; add a new one.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL
  );

  CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
  );

  CREATE TABLE departments (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
  );

  CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL UNIQUE,
    source_id TEXT NOT NULL,
    source_ref TEXT,
    title TEXT NOT NULL,
    subtitle TEXT,
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'de',
    organisation TEXT,
    department_id INTEGER REFERENCES departments(id),
    contact_json TEXT,
    places_json TEXT NOT NULL DEFAULT '[]',
    published_at TEXT NOT NULL,
    updated_at TEXT,
    embargo_until TEXT,
    status TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'withdrawn')),
    content_hash TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX releases_newest ON releases (published_at DESC, id DESC);
  CREATE INDEX releases_department_newest ON releases (department_id, published_at DESC, id DESC);
  CREATE INDEX releases_embargo ON releases (embargo_until) WHERE embargo_until IS NOT NULL;
  CREATE INDEX releases_source ON releases (source_id, source_ref);

  -- Slugs a release was reachable under before a correction renamed it.
  CREATE TABLE release_slugs (
    slug TEXT PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE
  ) WITHOUT ROWID;

  -- published_at is repeated here so that "newest N of a topic" is one index range scan.
  CREATE TABLE release_topics (
    topic_id INTEGER NOT NULL REFERENCES topics(id),
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    published_at TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (topic_id, release_id)
  ) WITHOUT ROWID;
  CREATE INDEX release_topics_newest ON release_topics (topic_id, published_at DESC, release_id DESC);
  CREATE INDEX release_topics_release ON release_topics (release_id);

  CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'attachment')),
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    title TEXT,
    alt TEXT,
    caption TEXT,
    credit TEXT,
    width INTEGER,
    height INTEGER,
    mime TEXT,
    bytes INTEGER
  );
  CREATE INDEX media_release ON media (release_id, kind, position);

  CREATE TABLE revisions (
    id INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    revised_at TEXT NOT NULL,
    note TEXT,
    previous_json TEXT NOT NULL
  );
  CREATE INDEX revisions_release ON revisions (release_id, revised_at);
  `,
  `
  -- What each source did last, shown at /api/v1/sources; running_until is a lease so that runs never overlap,
  -- across processes too (a CLI refresh while the server runs).
  CREATE TABLE source_state (
    source_id TEXT PRIMARY KEY,
    last_attempt_at TEXT,
    last_success_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    error_count INTEGER NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    runs INTEGER NOT NULL DEFAULT 0,
    last_new INTEGER NOT NULL DEFAULT 0,
    last_changed INTEGER NOT NULL DEFAULT 0,
    last_unchanged INTEGER NOT NULL DEFAULT 0,
    last_rejected INTEGER NOT NULL DEFAULT 0,
    last_requests INTEGER NOT NULL DEFAULT 0,
    last_duration_ms INTEGER,
    running_until TEXT
  );

  -- Validators of the last 200 answer per upstream URL, for conditional GETs.
  CREATE TABLE http_validators (
    url TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT
  ) WITHOUT ROWID;

  -- What a probe measured of a media URL, so that each file is probed once.
  CREATE TABLE media_probes (
    url TEXT PRIMARY KEY,
    mime TEXT,
    bytes INTEGER,
    width INTEGER,
    height INTEGER,
    error TEXT,
    probed_at TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Full-text search over title, subtitle and text; diacritics folded so that "Guler" finds "Güler".
  CREATE VIRTUAL TABLE releases_fts USING fts5(
    title, subtitle, body_text,
    content = 'releases', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER releases_fts_insert AFTER INSERT ON releases BEGIN
    INSERT INTO releases_fts (rowid, title, subtitle, body_text) VALUES (new.id, new.title, coalesce(new.subtitle, ''), new.body_text);
  END;
  CREATE TRIGGER releases_fts_delete AFTER DELETE ON releases BEGIN
    INSERT INTO releases_fts (releases_fts, rowid, title, subtitle, body_text) VALUES ('delete', old.id, old.title, coalesce(old.subtitle, ''), old.body_text);
  END;
  CREATE TRIGGER releases_fts_update AFTER UPDATE OF title, subtitle, body_text ON releases BEGIN
    INSERT INTO releases_fts (releases_fts, rowid, title, subtitle, body_text) VALUES ('delete', old.id, old.title, coalesce(old.subtitle, ''), old.body_text);
    INSERT INTO releases_fts (rowid, title, subtitle, body_text) VALUES (new.id, new.title, coalesce(new.subtitle, ''), new.body_text);
  END;
  INSERT INTO releases_fts (releases_fts) VALUES ('rebuild');
  `,
  `
  -- Authoring API: answers to POSTs by Idempotency-Key, so that a retried request creates nothing twice.
  CREATE TABLE idempotency_keys (
    key TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response_json TEXT NOT NULL,
    location TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (token_hash, key)
  ) WITHOUT ROWID;
  `,
  `
  -- WebSub: subscriptions to Herold's own hub, and the deliveries still to be made.
  CREATE TABLE websub_subscriptions (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    callback TEXT NOT NULL,
    secret TEXT,
    lease_seconds INTEGER NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_delivery_at TEXT,
    last_error TEXT,
    UNIQUE (topic, callback)
  );
  CREATE INDEX websub_subscriptions_topic ON websub_subscriptions (topic, expires_at);
  `,
  `
  -- WebSub: the ETag of the feed body a subscriber last received, so that only changed feeds are pushed again.
  ALTER TABLE websub_subscriptions ADD COLUMN last_etag TEXT;
  `,
  `
  -- Status page: one row per refresh of a source (kept 30 days), so that the press office sees the last week.
  CREATE TABLE source_runs (
    id INTEGER PRIMARY KEY,
    source_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    new INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER,
    error TEXT
  );
  CREATE INDEX source_runs_started ON source_runs (started_at DESC);
  -- Atom feeds carry an RFC 6721 tombstone for each release withdrawn in the last 30 days.
  CREATE INDEX releases_withdrawn ON releases (changed_at) WHERE status = 'withdrawn';
  `,
  `
  -- Full-text search over title, subtitle, text, topics, department and press contact, folded for German
  -- (herold_searchable, src/db/search-text.ts: "Gueler", "Guler" and "güler" find "Güler"). The folding is
  -- JavaScript, so the store fills this index in its own transaction; the triggers of the old index go.
  DROP TRIGGER IF EXISTS releases_fts_insert;
  DROP TRIGGER IF EXISTS releases_fts_delete;
  DROP TRIGGER IF EXISTS releases_fts_update;
  DROP TABLE IF EXISTS releases_fts;
  CREATE VIRTUAL TABLE release_search USING fts5(
    title, subtitle, body, topics, department, contact,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
  );
  INSERT INTO release_search (rowid, title, subtitle, body, topics, department, contact)
  SELECT r.id, herold_searchable(r.title), herold_searchable(r.subtitle), herold_searchable(r.body_text),
    herold_searchable((SELECT group_concat(t.name, ' ') FROM release_topics rt JOIN topics t ON t.id = rt.topic_id
      WHERE rt.release_id = r.id)),
    herold_searchable(d.name),
    herold_searchable(concat_ws(' ', json_extract(r.contact_json, '$.name'), json_extract(r.contact_json, '$.organisation')))
  FROM releases r LEFT JOIN departments d ON d.id = r.department_id;
  `,
  `
  -- Herold's copy of a remote image, served under /media/remote/.
  ALTER TABLE media_probes ADD COLUMN local_url TEXT;
  `,
  `
  -- Published releases per scope ('all', 't:<topic id>', 'd:<department id>'), kept exact by triggers, so that
  -- a feed's page count costs the same at 100,000 releases as at 100 (embargoed ones are subtracted at read time).
  CREATE TABLE scope_counts (scope TEXT PRIMARY KEY, published INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO scope_counts (scope, published) SELECT 'all', count(*) FROM releases WHERE status = 'published';
  INSERT INTO scope_counts (scope, published)
    SELECT 'd:' || department_id, count(*) FROM releases WHERE status = 'published' AND department_id IS NOT NULL GROUP BY department_id;
  INSERT INTO scope_counts (scope, published)
    SELECT 't:' || rt.topic_id, count(*) FROM release_topics rt JOIN releases r ON r.id = rt.release_id
    WHERE r.status = 'published' GROUP BY rt.topic_id;

  CREATE TRIGGER scope_counts_release_insert AFTER INSERT ON releases WHEN new.status = 'published' BEGIN
    INSERT INTO scope_counts VALUES ('all', 1) ON CONFLICT (scope) DO UPDATE SET published = published + 1;
    INSERT INTO scope_counts SELECT 'd:' || new.department_id, 1 WHERE new.department_id IS NOT NULL
      ON CONFLICT (scope) DO UPDATE SET published = published + 1;
  END;
  CREATE TRIGGER scope_counts_release_delete AFTER DELETE ON releases WHEN old.status = 'published' BEGIN
    UPDATE scope_counts SET published = published - 1 WHERE scope IN ('all', 'd:' || old.department_id);
  END;
  CREATE TRIGGER scope_counts_release_update AFTER UPDATE OF status, department_id ON releases
    WHEN old.status IS NOT new.status OR old.department_id IS NOT new.department_id BEGIN
    UPDATE scope_counts SET published = published - 1
      WHERE old.status = 'published' AND scope IN ('all', 'd:' || old.department_id);
    UPDATE scope_counts SET published = published - 1
      WHERE old.status = 'published' AND new.status IS NOT 'published'
        AND scope IN (SELECT 't:' || topic_id FROM release_topics WHERE release_id = old.id);
    INSERT INTO scope_counts VALUES ('all', 1) ON CONFLICT (scope) DO UPDATE SET published = published + 1
      WHERE new.status = 'published';
    INSERT INTO scope_counts SELECT 'd:' || new.department_id, 1 WHERE new.status = 'published' AND new.department_id IS NOT NULL
      ON CONFLICT (scope) DO UPDATE SET published = published + 1;
    INSERT INTO scope_counts SELECT 't:' || topic_id, 1 FROM release_topics
      WHERE release_id = new.id AND new.status = 'published' AND old.status IS NOT 'published' AND true
      ON CONFLICT (scope) DO UPDATE SET published = published + 1;
  END;
  CREATE TRIGGER scope_counts_topic_insert AFTER INSERT ON release_topics
    WHEN (SELECT status FROM releases WHERE id = new.release_id) = 'published' BEGIN
    INSERT INTO scope_counts VALUES ('t:' || new.topic_id, 1) ON CONFLICT (scope) DO UPDATE SET published = published + 1;
  END;
  CREATE TRIGGER scope_counts_topic_delete AFTER DELETE ON release_topics
    WHEN (SELECT status FROM releases WHERE id = old.release_id) = 'published' BEGIN
    UPDATE scope_counts SET published = published - 1 WHERE scope = 't:' || old.topic_id;
  END;
  `,
  `
  -- Who holds a source's run lease ("<host> <pid>"): a lease of a process that no longer runs (killed) is taken over.
  ALTER TABLE source_state ADD COLUMN running_by TEXT;
  `,
  `
  -- The search index's rows are numbered newest last: unixepoch(published_at) * 2^30 + id (ids stay below 2^30),
  -- so that the newest matches of a search are the index's last rows, read first without sorting all matches.
  INSERT INTO release_search (release_search) VALUES ('delete-all');
  INSERT INTO release_search (rowid, title, subtitle, body, topics, department, contact)
  SELECT unixepoch(r.published_at) * 1073741824 + r.id, herold_searchable(r.title), herold_searchable(r.subtitle),
    herold_searchable(r.body_text),
    herold_searchable((SELECT group_concat(t.name, ' ') FROM release_topics rt JOIN topics t ON t.id = rt.topic_id
      WHERE rt.release_id = r.id)),
    herold_searchable(d.name),
    herold_searchable(concat_ws(' ', json_extract(r.contact_json, '$.name'), json_extract(r.contact_json, '$.organisation')))
  FROM releases r LEFT JOIN departments d ON d.id = r.department_id;
  `,
  `
  -- The index's words, so that a word typed is searched as the words that begin with it, each read newest first
  -- (an FTS5 prefix query merges the lists of all of them before it yields a match). The index is filled anew from
  -- words alone (herold_searchable now writes nothing else), so that it and this list split text the same way.
  CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
  INSERT INTO release_search (release_search) VALUES ('delete-all');
  CREATE TEMP TABLE searched AS
  SELECT unixepoch(r.published_at) * 1073741824 + r.id AS key, herold_searchable(r.title) AS title,
    herold_searchable(r.subtitle) AS subtitle, herold_searchable(r.body_text) AS body,
    herold_searchable((SELECT group_concat(t.name, ' ') FROM release_topics rt JOIN topics t ON t.id = rt.topic_id
      WHERE rt.release_id = r.id)) AS topics,
    herold_searchable(d.name) AS department,
    herold_searchable(concat_ws(' ', json_extract(r.contact_json, '$.name'), json_extract(r.contact_json, '$.organisation'))) AS contact
  FROM releases r LEFT JOIN departments d ON d.id = r.department_id;
  INSERT INTO release_search (rowid, title, subtitle, body, topics, department, contact)
  SELECT key, title, subtitle, body, topics, department, contact FROM temp.searched;
  INSERT OR IGNORE INTO search_words (word)
  SELECT w.value FROM temp.searched s, json_each(herold_index_words(s.title, s.subtitle, s.body, s.topics, s.department, s.contact)) w;
  DROP TABLE temp.searched;
  `,
  `
  -- What lists and searches test of a release is read from indexes alone: the lists' indexes carry each release's
  -- change and embargo (the newest change of a list from a page on is a feed page's time of update), and
  -- releases_state holds by id what a topic's entries or a search's matches are tested for: state, change,
  -- department. The rows, kilobytes each with these columns after the bodies, are read for what is shown only.
  DROP INDEX IF EXISTS releases_newest;
  CREATE INDEX releases_newest ON releases (published_at DESC, id DESC, changed_at, embargo_until);
  DROP INDEX IF EXISTS releases_department_newest;
  CREATE INDEX releases_department_newest ON releases (department_id, published_at DESC, id DESC, changed_at, embargo_until);
  CREATE INDEX IF NOT EXISTS releases_state ON releases (id, status, embargo_until, changed_at, department_id);
  `,
];

/** Applies the steps the database has not seen yet, each in its own transaction. */
export function migrate(db: Database): number {
  // Steps may fold text for search in SQL (herold_searchable).
  registerSearchFunctions(db);
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`database: schema version ${current} is newer than this Herold (${migrations.length})`);
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      // Another process opening the same new database may have taken this step meanwhile.
      if (db.pragma('user_version', { simple: true }) !== version) return;
      db.exec(migrations[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
  return migrations.length;
}
