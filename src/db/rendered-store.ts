import path from 'node:path';
import type { Database } from 'better-sqlite3';

/**
 * Rendered feed items outlive the process in a database file of their own beside the main one
 * (`herold.db` → `herold.rendered.db`), attached to the main connection as `rendered`: a cache that
 * may be deleted at any time. Its own file keeps its writes out of the main database's
 * `data_version`, which every process reads to see another's writes (store.generation), so a process
 * keeping an item never makes the others drop their cached answers.
 */
const SCHEMA = 'rendered';
const VERSION = 1;

/** Items kept at most: about three formats of the 2,000 releases written last (4–5 KB each). */
export const RENDERED_ITEMS_KEPT = 6000;

/** The file of the rendered items beside a database file; none for a database in memory. */
export function renderedItemsFile(databaseFile: string): string {
  if (databaseFile === ':memory:') return ':memory:';
  const ext = path.extname(databaseFile);
  return `${ext ? databaseFile.slice(0, -ext.length) : databaseFile}.rendered.db`;
}

/**
 * Attaches the rendered items' file to a connection, creating its table. A file that cannot be
 * opened or read is left detached (Herold then renders without it) and its error returned; it never
 * keeps the main database from opening.
 */
export function attachRenderedItems(db: Database, databaseFile: string): Error | null {
  try {
    db.prepare(`ATTACH DATABASE ? AS ${SCHEMA}`).run(renderedItemsFile(databaseFile));
  } catch (error) {
    return error as Error;
  }
  try {
    if (databaseFile !== ':memory:') db.pragma(`${SCHEMA}.journal_mode = WAL`);
    db.transaction(() => {
      // A cache: a file of another layout is emptied rather than migrated.
      if (db.pragma(`${SCHEMA}.user_version`, { simple: true }) !== VERSION) {
        db.exec(`DROP TABLE IF EXISTS ${SCHEMA}.items`);
        db.exec(`CREATE TABLE ${SCHEMA}.items (
          id INTEGER PRIMARY KEY,
          release_id INTEGER NOT NULL,
          kind TEXT NOT NULL,
          renderer TEXT NOT NULL,
          changed_at TEXT NOT NULL,
          content_hash TEXT NOT NULL,
          body BLOB NOT NULL,
          UNIQUE (release_id, kind)
        )`);
        db.pragma(`${SCHEMA}.user_version = ${VERSION}`);
      }
    }).immediate();
    return null;
  } catch (error) {
    db.exec(`DETACH DATABASE ${SCHEMA}`);
    return error as Error;
  }
}

/** One rendered item: the release version it shows (id, last change, content hash) and its bytes. */
export interface RenderedItem {
  readonly releaseId: number;
  readonly changedAt: string;
  readonly contentHash: string;
  readonly body: Buffer;
}

/** The rendered items' queries; without the attached file, nothing is found and nothing kept. */
export function createRenderedStore(db: Database) {
  const attached = (db.pragma('database_list') as Array<{ name: string }>).some((entry) => entry.name === SCHEMA);
  if (!attached) {
    return {
      renderedItems: (_kind: string, _renderer: string, _releaseIds: readonly number[]): RenderedItem[] => [],
      keepRenderedItems: (_kind: string, _renderer: string, _items: readonly RenderedItem[]): boolean => false,
    };
  }
  const q = {
    find: db.prepare(`SELECT release_id AS releaseId, changed_at AS changedAt, content_hash AS contentHash, body
      FROM ${SCHEMA}.items WHERE kind = :kind AND renderer = :renderer AND release_id IN (SELECT value FROM json_each(:ids))`),
    // REPLACE gives the row a new id: ids grow in the order items were kept, and the oldest go first.
    keep: db.prepare(`INSERT OR REPLACE INTO ${SCHEMA}.items (release_id, kind, renderer, changed_at, content_hash, body)
      VALUES (:releaseId, :kind, :renderer, :changedAt, :contentHash, :body)`),
    prune: db.prepare(`DELETE FROM ${SCHEMA}.items WHERE id <= (SELECT max(id) FROM ${SCHEMA}.items) - ${RENDERED_ITEMS_KEPT}`),
  };
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  const keepAll = db.transaction((kind: string, renderer: string, items: readonly RenderedItem[]) => {
    for (const item of items) q.keep.run({ kind, renderer, ...item });
    q.prune.run();
  });

  return {
    /** The items kept of these releases in one kind by this renderer, whatever their version (the caller compares). */
    renderedItems(kind: string, renderer: string, releaseIds: readonly number[]): RenderedItem[] {
      return q.find.all({ kind, renderer, ids: JSON.stringify(releaseIds) }) as RenderedItem[];
    },

    /**
     * Keeps rendered items, replacing what was kept of the same releases and kind. Never waits and never
     * fails a render: while another connection writes (or the file cannot be written), nothing is kept
     * (false), and a later render keeps the items.
     */
    keepRenderedItems(kind: string, renderer: string, items: readonly RenderedItem[]): boolean {
      if (!items.length) return true;
      db.pragma('busy_timeout = 0');
      try {
        keepAll(kind, renderer, items);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code?.startsWith('SQLITE_')) return false;
        throw error;
      } finally {
        db.pragma(`busy_timeout = ${timeout}`);
      }
    },
  };
}
