import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { RENDERED_ITEMS_KEPT, renderedItemsFile } from '../../src/db/rendered-store.js';
import { prepareDatabase } from '../../src/serve.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';

/**
 * Rendered feed items are kept in a file beside the database (src/db/rendered-store.ts), so that a
 * process that starts, or another process of the host, renders a feed without writing its items again.
 */
const opened: Array<{ close(): void }> = [];
const dirs: string[] = [];
afterEach(() => {
  while (opened.length) opened.pop()!.close();
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const WRITTEN = new Date('2026-11-21T00:00:00Z');
const release = (index: number, body = `<p>Text der Meldung ${index} &amp; mehr.</p>`) => input({
  guid: `tag:lindenau.example,2026:kept-${index}`, title: `Meldung ${index}`, publishedAt: `2026-11-${String(10 + index).padStart(2, '0')}T09:00:00Z`,
  body, topics: ['Verkehr'],
});
const releases = Array.from({ length: 12 }, (_, index) => release(index));

/** A process of the service: its own connection and memory, on the folder `dir` (a new one when absent). */
function serviceProcess(dir?: string, env: Record<string, string> = {}, storeCalls?: string[]): TestApp {
  const t = createTestApp({ dir: dir ?? mkdtempSync(path.join(tmpdir(), 'herold-rendered-')), env, storeCalls });
  // The folder outlives each process and goes at the end of the test.
  opened.push({ close: () => t.db.close() });
  if (!dirs.includes(t.dir)) dirs.push(t.dir);
  return t;
}

/** A connection of its own to the rendered items' file. */
function itemsFile(t: TestApp): Database.Database {
  const db = new Database(renderedItemsFile(t.config.databaseFile));
  db.pragma('busy_timeout = 5000');
  opened.push(db);
  return db;
}

const kept = (db: Database.Database, kind: string) =>
  db.prepare('SELECT count(*) FROM items WHERE kind = ?').pluck().get(kind) as number;

describe('rendered items kept beside the database', () => {
  test('a process that starts takes the items another rendered, and its feeds are byte for byte the same', async () => {
    const first = serviceProcess();
    first.store.upsertReleases(releases, { now: WRITTEN });
    const answers: Record<string, string> = {};
    for (const format of ['rss', 'atom', 'json']) {
      answers[format] = (await request(first.app).get(`/feeds/all.${format}`).expect(200)).text;
      expect(kept(itemsFile(first), format)).toBe(releases.length);
    }

    // It reads the list by its heads and loads no release whole.
    const calls: string[] = [];
    const second = serviceProcess(first.dir, {}, calls);
    for (const format of ['rss', 'atom', 'json']) {
      expect((await request(second.app).get(`/feeds/all.${format}`).expect(200)).text).toBe(answers[format]);
    }
    expect(calls).toContain('newestReleaseHeads');
    expect(calls).not.toContain('releasesByIds');

    // What a third process shows comes from the file: a changed kept item shows in its feed.
    itemsFile(first).prepare(`UPDATE items SET body = CAST(replace(CAST(body AS TEXT), 'Text der Meldung 3 ', 'Aus der Ablage ') AS BLOB)`).run();
    const third = serviceProcess(first.dir);
    for (const format of ['rss', 'atom', 'json']) {
      const text = (await request(third.app).get(`/feeds/all.${format}`).expect(200)).text;
      expect(text).toContain('Aus der Ablage');
      expect(text).not.toContain('Text der Meldung 3 ');
    }
  });

  test('an item kept of an older version of its release, or by another renderer, is rendered anew', async () => {
    const first = serviceProcess();
    first.store.upsertReleases(releases, { now: WRITTEN });
    await request(first.app).get('/feeds/all.rss').expect(200);
    itemsFile(first).prepare(`UPDATE items SET body = CAST(replace(CAST(body AS TEXT), '<p>Text', '<p>Alt') AS BLOB)`).run();

    // A correction: a new version of one release, the only one loaded whole.
    first.store.upsertReleases([release(5, '<p>Berichtigt.</p>')], { now: new Date('2026-11-22T00:00:00Z') });
    const calls: string[] = [];
    const second = serviceProcess(first.dir, {}, calls);
    const corrected = (await request(second.app).get('/feeds/all.rss').expect(200)).text;
    expect(calls.filter((call) => call === 'releasesByIds')).toHaveLength(1);
    expect(corrected).toContain('Berichtigt.');
    expect(corrected).toContain('Alt der Meldung 4 ');
    const rows = itemsFile(first).prepare(`SELECT CAST(body AS TEXT) FROM items WHERE kind = 'rss'`).pluck().all() as string[];
    expect(rows.filter((row) => row.includes('Berichtigt.'))).toHaveLength(1);

    // Another base URL is another renderer: its links differ, and nothing of the first is taken.
    const moved = serviceProcess(first.dir, { HEROLD_BASE_URL: 'https://presse.lindenau.example' });
    const elsewhere = (await request(moved.app).get('/feeds/all.rss').expect(200)).text;
    expect(elsewhere).toContain('<link>https://presse.lindenau.example/releases/');
    expect(elsewhere).not.toContain('Alt der Meldung');
  });

  test('the journalists\' items under embargo stay in memory', async () => {
    const first = serviceProcess();
    first.store.upsertReleases([input({
      guid: 'tag:lindenau.example,2026:sperrfrist', title: 'Unter Sperrfrist', publishedAt: '2026-11-25T09:00:00Z',
      embargoUntil: '2026-11-30T09:00:00Z',
    })], { now: WRITTEN });
    const token = 'journalists-token-0123456789abcdef';
    const journalists = serviceProcess(first.dir, { HEROLD_PRESS_TOKENS: token });
    const feed = await request(journalists.app).get(`/feeds/embargoed.rss?token=${token}`);
    expect(feed.status).toBe(200);
    expect(feed.text).toContain('Unter Sperrfrist');
    expect(itemsFile(first).prepare('SELECT count(*) FROM items').pluck().get()).toBe(0);
  });

  test('keeping items waits for no other writer, and changes nothing another process watches', async () => {
    const first = serviceProcess();
    first.store.upsertReleases(releases, { now: WRITTEN });
    const other = serviceProcess(first.dir);
    const generation = other.store.generation();

    // Another connection writes the items' file: the feed is answered without waiting, its items not kept.
    const writer = itemsFile(first);
    writer.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    await request(first.app).get('/feeds/all.atom').expect(200);
    expect(Date.now() - started).toBeLessThan(2500);
    writer.exec('ROLLBACK');
    expect(kept(writer, 'atom')).toBe(0);
    // The connection's own busy timeout is back for its other writes.
    expect(first.db.pragma('busy_timeout', { simple: true })).toBe(5000);

    // With the file free, the next render keeps them; the other process's generation (its cached answers) stays.
    await request(first.app).get('/feeds/all.json').expect(200);
    expect(kept(writer, 'json')).toBe(releases.length);
    expect(other.store.generation()).toBe(generation);
  });

  test(`at most ${RENDERED_ITEMS_KEPT} items are kept: the ones kept longest ago go first`, () => {
    const t = serviceProcess();
    const item = (releaseId: number) => ({ releaseId, changedAt: '2026-11-21T00:00:00.000Z', contentHash: 'h', body: Buffer.from(`<item>${releaseId}</item>`) });
    expect(t.store.keepRenderedItems('rss', 'r', Array.from({ length: RENDERED_ITEMS_KEPT }, (_, index) => item(index + 1)))).toBe(true);
    // Kept again, release 1 is among the newest.
    expect(t.store.keepRenderedItems('rss', 'r', [item(1), item(RENDERED_ITEMS_KEPT + 1), item(RENDERED_ITEMS_KEPT + 2)])).toBe(true);
    expect(kept(itemsFile(t), 'rss')).toBe(RENDERED_ITEMS_KEPT);
    const found = t.store.renderedItems('rss', 'r', [1, 2, 3, 4, RENDERED_ITEMS_KEPT + 2]).map((row) => row.releaseId).sort((a, b) => a - b);
    expect(found).toEqual([1, 4, RENDERED_ITEMS_KEPT + 2]);
    expect(t.store.renderedItems('rss', 'another renderer', [1])).toEqual([]);
  });

  test.each([
    ['a folder', (file: string) => mkdirSync(file)],
    ['not a database', (file: string) => writeFileSync(file, 'Dies ist keine Datenbank. '.repeat(200))],
  ])('an items file that cannot be used (%s) is named in a log line, and the service stores and renders without it', async (_name, spoil) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herold-rendered-'));
    dirs.push(dir);
    const config = loadConfig({ HEROLD_DATA_DIR: dir, HEROLD_BASE_URL: 'http://127.0.0.1:8080' }, dir);
    spoil(renderedItemsFile(config.databaseFile));
    const logs: string[] = [];
    const { db, store } = await prepareDatabase({ ...config, samplesDir: path.join(dir, 'no-samples') }, (line) => logs.push(line));
    opened.push(db);
    expect(logs.join('\n')).toContain(`rendered feed items are not kept in ${renderedItemsFile(config.databaseFile)}`);
    store.upsertReleases(releases, { now: WRITTEN });
    expect(store.keepRenderedItems('rss', 'r', [{ releaseId: 1, changedAt: 'x', contentHash: 'h', body: Buffer.from('x') }])).toBe(false);

    const app = createApp({ config, store, log: () => {} });
    const feed = await request(app).get('/feeds/all.rss').expect(200);
    expect(feed.text).toContain('Text der Meldung 11 ');
  });
});
