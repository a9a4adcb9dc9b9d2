import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { freePort, kill, requireBuild, spawnCli, waitForOutput, type Run } from '../helpers/cli.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { until } from '../helpers/wait.js';
import { largeFeed, largeFeedHandler } from './large-upstream.js';
import { rawClient } from './server-helpers.js';

const runs: Run[] = [];
const dirs: string[] = [];
const upstreams: Upstream[] = [];
/** Readers still polling: stopped first, so that a failed test leaves no client looping on a killed server. */
const pollers: Array<() => Promise<void>> = [];

beforeAll(requireBuild);

afterEach(async () => {
  for (const stop of pollers.splice(0)) await stop();
  for (const run of runs.splice(0)) await kill(run);
  for (const upstream of upstreams.splice(0)) await upstream.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const ADMIN_TOKEN = 'operations-token-0123456789';
const AUTHOR_TOKEN = 'author-token-0123456789abcdef';
/** What SQLite says when a connection could not get its lock in time. */
const LOCKED = /SQLITE_BUSY|database is locked/i;
const READERS = 16;
const BIG = 3000;

/** What readers poll: feeds (plain, search, topic, department), pages, search, the JSON APIs, health and status. */
const URLS = [
  '/feeds/all.rss', '/feeds/all.atom', '/feeds/all.json?q=strassenbau', '/feeds/topics/verkehr.rss', '/feeds/departments/tiefbauamt.json',
  '/', '/topics/umwelt', '/search?q=gruenflaechen', '/api/v1/headlines', '/api/v1/headlines?q=mitteilung&limit=10',
  '/api/v1/releases?limit=5', '/api/v1/sources', '/healthz', '/status.json', '/sitemap.xml', '/feeds',
];

interface Seen {
  readonly url: string;
  readonly status: number;
  /** When the answer came, in ms since the readers started. */
  readonly at: number;
}

/** `count` clients, each polling URLS in turn (every other round conditionally) until `stop()`; every answer is recorded. */
function startReaders(port: number, count: number) {
  const seen: Seen[] = [];
  const problems: string[] = [];
  const etags = new Map<string, string>();
  const started = performance.now();
  let running = true;
  const client = async (offset: number) => {
    for (let turn = offset; running; turn++) {
      const url = URLS[turn % URLS.length]!;
      const etag = Math.floor(turn / URLS.length) % 2 ? etags.get(url) : undefined;
      try {
        const res = await fetch(`http://127.0.0.1:${port}${url}`, { headers: etag ? { 'If-None-Match': etag } : {} });
        const body = await res.text();
        seen.push({ url, status: res.status, at: performance.now() - started });
        const tag = res.headers.get('etag');
        if (tag) etags.set(url, tag);
        if (LOCKED.test(body)) problems.push(`${url}: ${body.slice(0, 300)}`);
      } catch (error) {
        problems.push(`${url}: ${(error as Error).message} ${String((error as Error).cause)} at ${performance.now() - started}`);
      }
    }
  };
  const clients = Array.from({ length: count }, (_, index) => client(index));
  const stop = async () => {
    running = false;
    await Promise.all(clients);
  };
  pollers.push(stop);
  return { seen, problems, elapsed: () => performance.now() - started, stop };
}

describe('readers during a large refresh', () => {
  test('16 clients reading feeds, pages, search and the APIs while the server and a separate process each write 3,000 releases: no error, no SQLITE_BUSY', { timeout: 120_000 }, async () => {
    const sizes = { a: 10, b: 10 };
    const upstream = await startUpstream({
      '/a.xml': largeFeedHandler(() => sizes.a, 'Mitteilung'),
      '/b.xml': largeFeedHandler(() => sizes.b, 'Nachricht'),
    });
    upstreams.push(upstream);
    const dir = mkdtempSync(path.join(tmpdir(), 'herold-readers-'));
    dirs.push(dir);
    const source = (id: string) => ({ id, type: 'feed', schedule: '0 3 1 1 *', url: `${upstream.url}/${id}.xml`,
      department: 'Tiefbauamt', max_bytes: 50 * 1024 * 1024, timeout_ms: 60_000 });
    writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({ sources: [source('a'), source('b')] }));
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: dir, HOST: '127.0.0.1', PORT: String(port), HEROLD_BASE_URL: 'http://herold.test',
      HEROLD_ADMIN_TOKEN: ADMIN_TOKEN, HEROLD_RATE_LIMIT_API: '0', HEROLD_RATE_LIMIT_SEARCH: '0',
    };
    const server = spawnCli(['serve'], env, dir);
    runs.push(server);
    await waitForOutput(server, /listening/, 30_000);

    // The start-up catch-up refreshes both sources (10 releases each) first.
    const healthz = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { releases: number };
    const deadline = Date.now() + 30_000;
    while ((await healthz()).releases < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await healthz()).releases).toBe(20);

    const readers = startReaders(port, READERS);
    await until(() => readers.seen.length >= READERS * 2, 30_000, 'the readers\' first answers');
    sizes.a = BIG;
    sizes.b = BIG;
    const writingFrom = readers.elapsed();
    // One refresh in the server itself, one in a separate process on the same database file, at the same time.
    const refreshInServer = fetch(`http://127.0.0.1:${port}/api/v1/sources/a/refresh`, {
      method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    }).then(async (res) => ({ status: res.status, body: await res.text() }));
    const cli = spawnCli(['refresh', '--source', 'b'], env, dir);
    runs.push(cli);
    const [inServer, separate] = await Promise.all([refreshInServer, cli.exit]);
    const writingUntil = readers.elapsed();
    // The readers go on a little while after the writes, to read what was written.
    const after = readers.seen.length;
    await until(() => readers.seen.length >= after + READERS * 2, 30_000, 'answers after the refreshes');
    await readers.stop();

    expect(inServer.status, inServer.body).toBe(200);
    expect(JSON.parse(inServer.body)).toMatchObject({ id: 'a', ok: true, new: BIG - 10, unchanged: 10, error: null });
    expect(separate.code, `${cli.stdout()}${cli.stderr()}`).toBe(0);
    expect(cli.stdout()).toContain(`b: ${BIG - 10} new, 0 changed, 10 unchanged, 0 rejected`);
    expect((await healthz()).releases).toBe(2 * BIG);

    // Readers were answered all along the writes, and every answer was a success.
    expect(readers.seen.filter((answer) => answer.at > writingFrom && answer.at < writingUntil).length).toBeGreaterThan(READERS);
    const failed = readers.seen.filter((answer) => !(answer.status >= 200 && answer.status < 300) && answer.status !== 304);
    expect(failed.map((answer) => `${answer.status} ${answer.url}`)).toEqual([]);
    expect(readers.problems).toEqual([]);
    expect(readers.seen.some((answer) => answer.status === 304)).toBe(true);
    for (const url of URLS) expect(readers.seen.some((answer) => answer.url === url && answer.status === 200), url).toBe(true);

    for (const output of [server.stdout(), server.stderr(), cli.stdout(), cli.stderr()]) expect(output).not.toMatch(LOCKED);
  });

  test('a refresh whose writing meets another process\'s write transaction waits for it, instead of failing with SQLITE_BUSY', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herold-writers-'));
    dirs.push(dir);
    const file = path.join(dir, 'herold.db');
    openDatabase(file).close();
    const other = new Database(file);
    let holding: Promise<void> | null = null;
    // While the refresh fetches, another process (this one) takes the write lock and keeps it 2 s: the refresh's
    // writing transaction starts while it is held.
    const upstream = await startUpstream({
      '/feed.xml': (_req, res) => {
        other.exec('BEGIN IMMEDIATE');
        other.prepare(`INSERT INTO http_validators (url, source_id, etag) VALUES ('https://other.example/', 'other', '"x"')`).run();
        holding = new Promise((resolve) => setTimeout(() => {
          other.exec('COMMIT');
          resolve();
        }, 2000));
        res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(largeFeed(20));
      },
    });
    upstreams.push(upstream);
    try {
      writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({ sources: [
        { id: 'klein', type: 'feed', schedule: '0 3 1 1 *', url: `${upstream.url}/feed.xml` },
      ] }));
      const env = { PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: dir, HEROLD_BASE_URL: 'http://herold.test' };
      const cli = spawnCli(['refresh', '--source', 'klein'], env, dir);
      runs.push(cli);
      const exit = await cli.exit;
      expect(holding).not.toBeNull();
      await holding;
      expect(`${cli.stdout()}${cli.stderr()}`).not.toMatch(LOCKED);
      expect(exit.code, `${cli.stdout()}${cli.stderr()}`).toBe(0);
      expect(cli.stdout()).toContain('klein: 20 new, 0 changed, 0 unchanged, 0 rejected');
      expect(other.prepare('SELECT count(*) FROM releases').pluck().get()).toBe(20);
      expect(other.prepare(`SELECT etag FROM http_validators WHERE url = 'https://other.example/'`).pluck().get()).toBe('"x"');
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  test('a keep-alive reader whose next request arrives while the server is held up past the keep-alive timeout is answered, not reset', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herold-stall-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({ sources: [] }));
    const port = await freePort();
    const env = { PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: dir, HOST: '127.0.0.1', PORT: String(port), HEROLD_BASE_URL: 'http://herold.test',
      HEROLD_KEEP_ALIVE_TIMEOUT_MS: '200', HEROLD_API_TOKENS: AUTHOR_TOKEN };
    const server = spawnCli(['serve'], env, dir);
    runs.push(server);
    await waitForOutput(server, /listening/, 30_000);
    const ask = 'GET /healthz HTTP/1.1\r\nHost: herold.test\r\n\r\n';
    // Answers follow each other on the connection without a line break between a body and the next status line.
    const answers = (text: string) => text.match(/HTTP\/1\.1 200 OK\r\n/g)?.length ?? 0;
    const reader = await rawClient(port);
    const idle = await rawClient(port);
    // A writer whose request is still arriving when the keep-alive timeout is looked at: its answer waits for the body.
    const writer = await rawClient(port);
    const body = JSON.stringify({ title: 'Mitteilung nach der Pause', body: '<p>Text.</p>', published_at: '2026-11-24T09:30:00+01:00' });
    try {
      reader.socket.write(ask);
      idle.socket.write(ask);
      writer.socket.write(ask);
      await until(() => answers(reader.received()) === 1 && answers(idle.received()) === 1 && answers(writer.received()) === 1, 10_000, 'the first answers');
      // The server is held up (as by a long synchronous commit) for longer than the keep-alive timeout (and Node's
      // second of grace); meanwhile the reader sends its next request on the same connection, and the writer the head of its own.
      server.child.kill('SIGSTOP');
      try {
        await new Promise((resolve) => setTimeout(resolve, 1800));
        reader.socket.write(ask);
        writer.socket.write(`POST /api/v1/releases HTTP/1.1\r\nHost: herold.test\r\nAuthorization: Bearer ${AUTHOR_TOKEN}\r\n`
          + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        server.child.kill('SIGCONT');
      }
      // The timeout has been looked at (a turn of the event loop) before the body follows.
      await new Promise((resolve) => setTimeout(resolve, 300));
      writer.socket.write(body);
      await until(() => answers(reader.received()) === 2 || reader.isClosed(), 10_000, 'the reader\'s second answer');
      expect(answers(reader.received()), reader.received()).toBe(2);
      await until(() => /HTTP\/1\.1 201 /.test(writer.received()) || writer.isClosed(), 10_000, 'the writer\'s answer');
      expect(writer.received()).toMatch(/HTTP\/1\.1 201 /);
      // The connection that stayed idle is closed as before.
      await idle.closed;
      expect(answers(idle.received())).toBe(1);
    } finally {
      reader.socket.destroy();
      idle.socket.destroy();
      writer.socket.destroy();
    }
  });
});
