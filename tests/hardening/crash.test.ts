import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { createStore } from '../../src/db/store.js';
import { sourceHealth } from '../../src/pages/status-page.js';
import { random } from '../../bench/dataset.js';
import { cleanUpAfterEach, requireBuild, spawnCli } from '../helpers/cli.js';
import { startUpstream } from '../helpers/upstream.js';
import { largeFeedHandler, largeTitle, writeReleaseFiles } from './large-upstream.js';

const { runs, dirs, upstreams } = cleanUpAfterEach();

beforeAll(requireBuild);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a reader sees in the database between two commits of the writer. */
interface Snapshot {
  readonly guids: ReadonlySet<string>;
  /** Whether the source's run lease is taken: the run has begun. */
  readonly leased: boolean;
}

/**
 * Watches the database as another process would while the writer works: reads (GUIDs again only when the
 * count moves), and whether a writing transaction holds the write lock (a BEGIN IMMEDIATE that does not wait).
 */
function watcher(file: string, sourceId: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const probe = new Database(file, { fileMustExist: true });
  probe.pragma('busy_timeout = 0');
  const count = db.prepare('SELECT count(*) FROM releases').pluck();
  const guids = db.prepare('SELECT guid FROM releases').pluck();
  const lease = db.prepare('SELECT running_until FROM source_state WHERE source_id = ?').pluck();
  let last: ReadonlySet<string> = new Set();
  return {
    read(): Snapshot {
      // One read transaction, so that the GUIDs and the count are of the same commit.
      return db.transaction(() => {
        if (count.get() !== last.size) last = new Set(guids.all() as string[]);
        return { guids: last, leased: typeof lease.get(sourceId) === 'string' };
      })();
    },
    writing(): boolean {
      try {
        probe.exec('BEGIN IMMEDIATE');
        probe.exec('ROLLBACK');
        return false;
      } catch (error) {
        if (/^SQLITE_BUSY/.test(String((error as { code?: unknown }).code))) return true;
        throw error;
      }
    },
    close() {
      db.close();
      probe.close();
    },
  };
}

/** When to kill: a seeded time after the run took its lease, or the moment its writing transaction is seen under way. */
type KillPoint = { readonly after: number } | { readonly writing: true };

/** Starts `args` and SIGKILLs it at `point`, reading the database all along; returns the last state read before the kill. */
async function killDuringRun(args: string[], folder: DataFolder, sourceId: string, point: KillPoint) {
  const run = spawnCli(args, folder.env, folder.dir);
  runs.push(run);
  let ended = false;
  void run.exit.then(() => { ended = true; });
  const database = watcher(folder.file, sourceId);
  let before = database.read();
  try {
    let killAt: number | null = null;
    while (!ended) {
      before = database.read();
      if ('writing' in point) {
        // The lease is a write too, of one row: only a transaction seen after it is the refresh's.
        if (before.leased && database.writing()) {
          run.child.kill('SIGKILL');
          break;
        }
        await sleep(2);
        continue;
      }
      if (killAt === null && before.leased) killAt = Date.now() + point.after;
      if (killAt !== null && Date.now() >= killAt) {
        run.child.kill('SIGKILL');
        break;
      }
      await sleep(15);
    }
  } finally {
    database.close();
  }
  const exit = await run.exit;
  return { before, exit, output: `${run.stdout()}${run.stderr()}` };
}

/** Opens the database as a restarted Herold does, and checks it through: returns the stored GUIDs. */
function checkDatabase(file: string): Set<string> {
  const db = openDatabase(file);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('quick_check', { simple: true })).toBe('ok');
    // The search index, and the per-scope counts kept by triggers, are written in the same transactions.
    expect(() => db.exec(`INSERT INTO release_search (release_search) VALUES ('integrity-check')`)).not.toThrow();
    const releases = db.prepare(`SELECT count(*) FROM releases`).pluck().get() as number;
    expect(db.prepare(`SELECT count(*) FROM release_search`).pluck().get()).toBe(releases);
    expect(db.prepare(`SELECT published FROM scope_counts WHERE scope = 'all'`).pluck().get() ?? 0)
      .toBe(db.prepare(`SELECT count(*) FROM releases WHERE status = 'published'`).pluck().get());
    // One row per upstream release: a run after the crash neither duplicated nor lost one.
    expect(db.prepare(`SELECT source_ref FROM releases GROUP BY source_id, source_ref HAVING count(*) > 1`).all()).toEqual([]);
    return new Set(db.prepare('SELECT guid FROM releases').pluck().all() as string[]);
  } finally {
    db.close();
  }
}

/** The stored titles, oldest publication first. */
function titles(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT title FROM releases ORDER BY published_at').pluck().all() as string[];
  } finally {
    db.close();
  }
}

interface DataFolder {
  readonly dir: string;
  readonly file: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A data folder with an empty, migrated database (so the test's reader never races the first migration). */
function dataFolder(config: object): DataFolder {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-crash-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'herold.json'), JSON.stringify(config));
  const file = path.join(dir, 'herold.db');
  openDatabase(file).close();
  const env = { PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: dir, HEROLD_BASE_URL: 'http://herold.test' };
  return { dir, file, env };
}

/**
 * One crash round: a run SIGKILLed at `point`, the database checked, then a run to the end that stores
 * exactly the releases missing, and nothing twice.
 */
async function crashRound(options: { args: string[]; sourceId: string; folder: DataFolder; point: KillPoint; total: number }): Promise<void> {
  const { folder, sourceId } = options;
  const { before, exit, output } = await killDuringRun(options.args, folder, sourceId, options.point);
  const killed = exit.signal === 'SIGKILL';
  if (!killed) expect(exit.code, output).toBe(0);

  const after = checkDatabase(folder.file);
  for (const guid of before.guids) expect(after.has(guid), `${guid} was committed before the kill`).toBe(true);
  // The killed run's lease is void: /status and /api/v1/sources show no run going on.
  const db = openDatabase(folder.file);
  try {
    expect(sourceHealth(createStore(db).sourceState(sourceId), new Date())).not.toBe('running');
  } finally {
    db.close();
  }
  if ('writing' in options.point) {
    // Killed inside its writing transaction: none of it is stored.
    expect(killed, output).toBe(true);
    expect(after.size).toBe(before.guids.size);
  } else {
    // Nothing half-written: the killed run's transaction is there in whole or not at all.
    expect([before.guids.size, options.total]).toContain(after.size);
  }

  const again = spawnCli(options.args, folder.env, folder.dir);
  runs.push(again);
  const done = await again.exit;
  expect(done.code, `${again.stdout()}${again.stderr()}`).toBe(0);
  expect(again.stdout()).not.toMatch(/skipped/);
  expect(again.stdout()).toContain(`${sourceId}: ${options.total - after.size} new, 0 changed, ${after.size} unchanged, 0 rejected`);
  expect(checkDatabase(folder.file).size).toBe(options.total);
}

describe('kill -9 during a large refresh or import, then a restart', () => {
  test('a feed refresh of thousands of releases, killed at a seeded moment and inside its writing transaction: the database opens intact, keeps what was committed, the next refresh completes', { timeout: 90_000 }, async () => {
    let size = 0;
    const upstream = await startUpstream({ '/feed.xml': largeFeedHandler(() => size) });
    upstreams.push(upstream);
    const folder = dataFolder({ sources: [
      { id: 'gross', type: 'feed', schedule: '0 * * * *', url: `${upstream.url}/feed.xml`, max_bytes: 50 * 1024 * 1024 },
    ] });
    const chance = random(0x4865726f);
    const refresh = ['refresh', '--source', 'gross'];
    // The upstream grows by 1,500 releases a round: the second killed run finds the first round's releases committed.
    size = 1500;
    await crashRound({ args: refresh, sourceId: 'gross', folder, point: { after: Math.round(chance() * 1500) }, total: size });
    size = 3000;
    await crashRound({ args: refresh, sourceId: 'gross', folder, point: { writing: true }, total: size });
    expect(titles(folder.file)).toEqual(Array.from({ length: 3000 }, (_, index) => largeTitle(index)));
  });

  test('an import of a large folder, killed inside its writing transaction and at a seeded moment: the database opens intact, keeps what was committed, the next import completes', { timeout: 90_000 }, async () => {
    const folder = dataFolder({ sources: [] });
    const files = path.join(folder.dir, 'eingang');
    const chance = random(0x696d706f);
    writeReleaseFiles(files, 400);
    await crashRound({ args: ['import', files], sourceId: 'import', folder, point: { writing: true }, total: 400 });
    writeReleaseFiles(files, 800);
    await crashRound({ args: ['import', files], sourceId: 'import', folder, point: { after: Math.round(chance() * 1000) }, total: 800 });
    expect(titles(folder.file)).toEqual(Array.from({ length: 800 }, (_, index) => largeTitle(index)));
  });
});
