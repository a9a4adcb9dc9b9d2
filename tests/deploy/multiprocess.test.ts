import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { createStore } from '../../src/db/store.js';
import { createRedisCoordinator } from '../../src/ingest/coordinator.js';
import { startScheduler, type Scheduler } from '../../src/ingest/scheduler.js';
import { dataDir, environment, freePort, kill, requireBuild, spawnCli, waitForOutput, type Run } from '../helpers/cli.js';
import { startUpstream, type Handler, type Upstream } from '../helpers/upstream.js';
import { until } from '../helpers/wait.js';

const REDIS_SERVER = '/usr/bin/redis-server';
// CI installs redis-server (.ci/run); elsewhere the Redis test runs where it is installed.
const redisAvailable = existsSync(REDIS_SERVER) || process.env.CI === 'true';
const TOKEN = 'press-office-token-0123456789';

const runs: Run[] = [];
const pids: number[] = [];
const dirs: string[] = [];
const upstreams: Upstream[] = [];

beforeAll(requireBuild);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterEach(async () => {
  for (const run of runs.splice(0)) await kill(run);
  // Workers close by themselves once their primary is gone; any left are ended here.
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const upstream of upstreams.splice(0)) await upstream.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A feed that gains one item with every request, until frozen. */
function growingFeed(): { handler: Handler; freeze(): void } {
  let served = 0;
  let frozen: number | null = null;
  const item = (n: number) => `<item><title>Meldung ${n}</title><link>https://kreis.example/meldung-${n}</link><guid>meldung-${n}</guid>
<pubDate>${new Date(Date.UTC(2026, 10, 1, 8, n)).toUTCString()}</pubDate><description>Text der Meldung ${n}.</description></item>`;
  return {
    handler: (_req, res) => {
      served += 1;
      const items = Array.from({ length: frozen ?? served }, (_, index) => item(index + 1)).join('');
      res.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' })
        .end(`<?xml version="1.0"?><rss version="2.0"><channel><title>Kreis</title><link>https://kreis.example/</link><description>Kreis</description>${items}</channel></rss>`);
    },
    freeze: () => { frozen = served; },
  };
}

/** A data folder whose config has one feed source refreshed every second. */
async function setUp(): Promise<{ dir: string; upstream: Upstream; feed: ReturnType<typeof growingFeed> }> {
  const feed = growingFeed();
  const upstream = await startUpstream({ '/feed.xml': feed.handler });
  upstreams.push(upstream);
  const dir = dataDir(dirs);
  writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({
    sources: [{ id: 'kreis', type: 'feed', schedule: '* * * * * *', url: `${upstream.url}/feed.xml`, timeout_ms: 2000 }],
  }));
  return { dir, upstream, feed };
}

function start(args: string[], env: NodeJS.ProcessEnv, cwd: string): Run {
  const run = spawnCli(args, env, cwd);
  runs.push(run);
  return run;
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request on a connection of its own (so node:cluster hands each to the next worker). */
function send(port: number, method: string, url: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const req = httpRequest({
      host: '127.0.0.1', port, method, path: url, agent: false,
      headers: payload ? { 'content-type': 'application/json', 'content-length': String(payload.length), authorization: `Bearer ${TOKEN}` } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const get = (port: number, url: string) => send(port, 'GET', url);

function release(title: string) {
  return {
    title,
    body: '<p>Die Stadt sperrt die Brücke für eine Prüfung.</p>',
    topics: ['Verkehr'],
    organisation: 'Stadt Lindenau',
    published_at: new Date().toISOString(),
  };
}

/** The start times of the source's runs, as the database recorded them. */
function runStarts(dir: string): string[] {
  const db = new Database(path.join(dir, 'herold.db'), { readonly: true });
  try {
    return db.prepare(`SELECT started_at FROM source_runs WHERE source_id = 'kreis' ORDER BY started_at`).pluck().all() as string[];
  } finally {
    db.close();
  }
}

/**
 * The refreshes so far: at most one per tick of the every-second schedule (two runs never start in the same
 * second) and at most ticks + 1 upstream requests (the start-up catch-up besides the ticks).
 */
function expectOneRunPerTick(dir: string, upstream: Upstream, since: number): string[] {
  const ticks = Math.floor((Date.now() - since) / 1000) + 1;
  const starts = runStarts(dir);
  const seconds = starts.map((at) => at.slice(0, 19));
  expect(new Set(seconds).size, `runs started in the same second: ${starts.join(', ')}`).toBe(seconds.length);
  expect(upstream.hits('/feed.xml')).toBeLessThanOrEqual(ticks + 1);
  // Every request was one recorded run (a run still in flight may not be recorded yet).
  expect(starts.length).toBeGreaterThanOrEqual(upstream.hits('/feed.xml') - 1);
  return starts;
}

/** Freezes the feed and waits for the run after that: from then on a refresh finds nothing new to write. */
async function quiet(feed: ReturnType<typeof growingFeed>, upstream: Upstream): Promise<void> {
  feed.freeze();
  const frozenAt = upstream.hits('/feed.xml');
  await until(() => upstream.hits('/feed.xml') > frozenAt, 5000, 'a refresh after the feed was frozen');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

/** Waits until stdout has `times` lines matching `pattern`; on failure the error shows the output. */
async function waitForLines(run: Run, pattern: RegExp, times: number, ms = 30_000): Promise<void> {
  try {
    await until(() => count(run.stdout(), pattern) >= times, ms, `${times} lines ${pattern}`);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`);
  }
}

describe.runIf(redisAvailable)('with Redis', () => {
  let redis: Run | null = null;
  afterEach(async () => {
    if (redis) await kill(redis);
    redis = null;
  });

  /** Starts Debian's redis-server on 127.0.0.1 (on `port`, else a free one), without persistence, in a temporary folder. */
  async function startRedis(port?: number): Promise<string> {
    const dir = mkdtempSync(path.join(tmpdir(), 'herold-redis-'));
    dirs.push(dir);
    port ??= await freePort();
    const child = spawn(REDIS_SERVER, ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.once('error', (error) => { stderr += error.message; });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    redis = { child, stdout: () => stdout, stderr: () => stderr, exit };
    await waitForOutput(redis, /Ready to accept connections/);
    return `redis://127.0.0.1:${port}`;
  }

  async function stopRedis(): Promise<void> {
    redis!.child.kill('SIGKILL');
    await redis!.exit;
    redis = null;
  }

  test('the coordinator: one winner per key, the key kept after the run, a logged fallback while Redis is away, elections again once it is back', async () => {
    const url = await startRedis();
    const logs: [string[], string[]] = [[], []];
    const coordinators = [
      createRedisCoordinator(url, (line) => logs[0].push(line), 'host-a:1'),
      createRedisCoordinator(url, (line) => logs[1].push(line), 'host-b:2'),
    ] as const;
    const client = new Redis(url);
    try {
      const key = 'source:kreis:2026-11-24T09:15:00.000Z';
      const answers = await Promise.all(coordinators.map((coordinator) => coordinator.shouldRun(key, 5000)));
      expect(answers.filter(Boolean)).toHaveLength(1);
      expect(await client.get(`herold:${key}`)).toBe(answers[0] ? 'host-a:1' : 'host-b:2');
      const ttl = await client.pttl(`herold:${key}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5000);
      // A process firing the same tick late finds it taken.
      expect(await coordinators[0].shouldRun(key, 5000)).toBe(false);
      expect(await coordinators[1].shouldRun(key, 5000)).toBe(false);
      client.disconnect();

      const port = Number(new URL(url).port);
      await stopRedis();
      // Redis away: each says yes (the database decides), and says so once.
      for (let round = 0; round < 3; round++) {
        expect(await coordinators[0].shouldRun(`source:kreis:tick-${round}`, 5000)).toBe(true);
        expect(await coordinators[1].shouldRun(`source:kreis:tick-${round}`, 5000)).toBe(true);
      }
      for (const lines of logs) {
        expect(lines.filter((line) => line.includes('is unreachable'))).toHaveLength(1);
        expect(lines.find((line) => line.includes('is unreachable'))).toContain(`Redis at redis://127.0.0.1:${port} is unreachable`);
      }

      await startRedis(port);
      await until(() => logs.every((lines) => lines.some((line) => line.includes(`Redis at redis://127.0.0.1:${port} is back`))), 8000, 'both reconnecting');
      const answersAgain = await Promise.all(coordinators.map((coordinator) => coordinator.shouldRun('source:kreis:after', 5000)));
      expect(answersAgain.filter(Boolean)).toHaveLength(1);
    } finally {
      client.disconnect();
      for (const coordinator of coordinators) coordinator.close();
    }
  }, 30_000);

  test('the start-up catch-up: of processes starting together one refreshes, one starting after it none', async () => {
    const url = await startRedis();
    const { dir, upstream } = await setUp();
    // A daily schedule: no tick comes during the test, only the catch-up of a source that never ran.
    writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({
      sources: [{ id: 'kreis', type: 'feed', schedule: '0 0 3 * * *', url: `${upstream.url}/feed.xml` }],
    }));
    const config = loadConfig({ HEROLD_DATA_DIR: dir, HEROLD_REDIS_URL: url }, dir);
    const logs: string[] = [];
    const processes: Array<{ db: ReturnType<typeof openDatabase>; scheduler: Scheduler }> = [];
    const begin = () => {
      const db = openDatabase(config.databaseFile);
      const scheduler = startScheduler({ config, store: createStore(db), log: (line) => logs.push(line) });
      processes.push({ db, scheduler });
      return scheduler;
    };
    try {
      // Each has its own connection to the database and to Redis, as separate processes have.
      await Promise.all([begin(), begin(), begin()].map((scheduler) => scheduler.catchUp));
      expect(upstream.hits('/feed.xml')).toBe(1);
      expect(logs.filter((line) => line.endsWith('is due; refreshing now'))).toHaveLength(1);
      await begin().catchUp;
      expect(upstream.hits('/feed.xml')).toBe(1);
      expect(logs.filter((line) => line.endsWith('is due; refreshing now'))).toHaveLength(1);
    } finally {
      for (const { db, scheduler } of processes) {
        await scheduler.stop();
        db.close();
      }
    }
  });

  test('Redis elects one process per tick, each process sees the others\' writes at once, and losing Redis stops nobody', async () => {
    const redisUrl = await startRedis();
    const { dir, upstream, feed } = await setUp();
    const ports = [await freePort(), await freePort(), await freePort()];
    const env = (port: number) => environment(dir, port, { HEROLD_REDIS_URL: redisUrl, HEROLD_API_TOKENS: TOKEN, HEROLD_SHUTDOWN_TIMEOUT_MS: '3000' });
    const since = Date.now();
    // The first one creates the database; the other two start together on it.
    const a = start(['serve'], env(ports[0]!), dir);
    await waitForOutput(a, /listening/, 30_000);
    const [b, c] = [start(['serve'], env(ports[1]!), dir), start(['serve'], env(ports[2]!), dir)];
    await Promise.all([waitForOutput(b, /listening/, 30_000), waitForOutput(c, /listening/, 30_000)]);
    const processes = [a, b, c];

    // Five seconds of ticks, all three processes scheduling and serving.
    for (let round = 0; round < 5; round++) {
      for (const port of ports) expect((await get(port, '/feeds/all.rss')).status).toBe(200);
      await sleep(1000);
    }
    const starts = expectOneRunPerTick(dir, upstream, since);
    expect(starts.length).toBeGreaterThanOrEqual(3);
    // Each tick's winner holds its key in Redis (host:pid of one of the three); every run but the start-up
    // catch-up (which may share its second with a tick whose winner then found it and did nothing) was such a tick.
    const client = new Redis(redisUrl);
    try {
      const keys = await client.keys('herold:source:kreis:*');
      const owners = new Set(await client.mget(...keys));
      const herolds = processes.map((run) => run.child.pid);
      expect([...owners].every((owner) => herolds.some((pid) => owner?.endsWith(`:${pid}`)))).toBe(true);
      const ticks = new Set(keys.map((key) => key.slice('herold:source:kreis:'.length, -'.000Z'.length)));
      expect(starts.filter((at) => !ticks.has(at.slice(0, 19))).length).toBeLessThanOrEqual(1);
    } finally {
      client.disconnect();
    }

    // Coherence: B's cached feeds and page are warm; a release written through A is in B's and C's next answers.
    await quiet(feed, upstream);
    const urls = ['/feeds/all.rss', '/feeds/topics/verkehr.rss', '/feeds/all.json', '/'];
    const before = new Map<string, string>();
    for (const url of urls) {
      const first = await get(ports[1]!, url);
      const second = await get(ports[1]!, url);
      expect(first.headers.etag, url).toMatch(/^"/);
      expect(second.headers.etag).toBe(first.headers.etag);
      before.set(url, String(first.headers.etag));
    }
    const title = 'Brückenprüfung am Mühlenweg';
    expect((await send(ports[0]!, 'POST', '/api/v1/releases', release(title))).status).toBe(201);
    for (const port of [ports[1]!, ports[2]!]) {
      for (const url of urls) {
        const after = await get(port, url);
        expect(after.status).toBe(200);
        expect(after.body, `${url} on port ${port}`).toContain(title);
        if (port === ports[1]) expect(after.headers.etag, url).not.toBe(before.get(url));
      }
    }

    // Redis goes away: every process logs it once, keeps serving, and the refreshes go on, still one per tick.
    await stopRedis();
    const hitsWithoutRedis = upstream.hits('/feed.xml');
    await until(() => processes.every((run) => /Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/.test(run.stderr() + run.stdout())), 5000,
      'every process logging that Redis is unreachable');
    await until(() => upstream.hits('/feed.xml') >= hitsWithoutRedis + 2, 5000, 'refreshes without Redis');
    for (const port of ports) {
      expect((await get(port, '/healthz')).status).toBe(200);
      expect((await get(port, '/feeds/all.rss')).body).toContain(title);
    }
    expectOneRunPerTick(dir, upstream, since);
    for (const run of processes) expect(count(run.stderr() + run.stdout(), /is unreachable/g)).toBe(1);

    for (const run of processes) run.child.kill('SIGTERM');
    for (const run of processes) expect(await run.exit).toEqual({ code: 0, signal: null });
  }, 90_000);
});

describe('herold serve --workers 3', () => {
  test('only worker 1 schedules without Redis, every worker serves and sees the others\' writes, a dead worker is replaced', async () => {
    const { dir, upstream, feed } = await setUp();
    const port = await freePort();
    const since = Date.now();
    const primary = start(['serve', '--workers', '3'],
      environment(dir, port, { HEROLD_API_TOKENS: TOKEN, HEROLD_SHUTDOWN_TIMEOUT_MS: '3000' }), dir);
    await waitForOutput(primary, /without HEROLD_REDIS_URL only worker 1 runs the source schedules/, 30_000);
    await waitForLines(primary, /listening on/g, 3);
    const workers = new Map([...primary.stdout().matchAll(/worker (\d) started \(pid (\d+)\)/g)].map((match) => [Number(match[1]), Number(match[2])]));
    pids.push(...workers.values());
    expect([...workers.keys()].sort()).toEqual([1, 2, 3]);
    // The primary loaded the samples once, before the workers started.
    expect(count(primary.stdout(), /loaded \d+ sample releases/g)).toBe(1);

    await sleep(3000);
    expectOneRunPerTick(dir, upstream, since);

    // Each worker's first scrape of /metrics shows no earlier scrape: those answers count the workers, and only
    // one of them (worker 1) has refreshed.
    const scrapes = [];
    for (let index = 0; index < 9; index++) scrapes.push((await get(port, '/metrics')).body);
    const firsts = scrapes.filter((body) => !/^http_requests_total\{[^}]*route="metrics"[^}]*\} [1-9]/m.test(body));
    expect(firsts).toHaveLength(3);
    const refreshed = firsts.filter((body) => /^herold_refresh_runs_total\{[^}]*outcome="ok"[^}]*\} [1-9]/m.test(body));
    expect(refreshed).toHaveLength(1);

    // Coherence across the workers: all have the feed cached; a write through one is in every worker's next answer.
    await quiet(feed, upstream);
    const warm = [];
    for (let index = 0; index < 6; index++) warm.push(await get(port, '/feeds/all.rss'));
    const etag = warm[0]!.headers.etag;
    expect(warm.every((answer) => answer.headers.etag === etag)).toBe(true);
    const title = 'Sperrung der Lindenallee';
    expect((await send(port, 'POST', '/api/v1/releases', release(title))).status).toBe(201);
    for (let index = 0; index < 6; index++) {
      const after = await get(port, '/feeds/all.rss');
      expect(after.body).toContain(title);
      expect(after.headers.etag).not.toBe(etag);
    }

    // Worker 1 dies between two refreshes: a new worker 1 starts, serves and takes the schedules over.
    const db = new Database(path.join(dir, 'herold.db'), { readonly: true });
    const state = () => db.prepare(`SELECT last_attempt_at, running_until FROM source_state WHERE source_id = 'kreis'`).get() as
      { last_attempt_at: string; running_until: string | null };
    try {
      const previous = state().last_attempt_at;
      await until(() => state().last_attempt_at !== previous && state().running_until === null, 5000, 'a finished refresh');
    } finally {
      db.close();
    }
    process.kill(workers.get(1)!, 'SIGKILL');
    await waitForOutput(primary, new RegExp(`worker 1 \\(pid ${workers.get(1)}\\) died \\(signal SIGKILL\\); starting a new one`));
    await waitForLines(primary, /listening on/g, 4);
    const replacement = Number([...primary.stdout().matchAll(/worker 1 started \(pid (\d+)\)/g)].at(-1)![1]);
    expect(replacement).not.toBe(workers.get(1));
    pids.push(replacement);
    const hits = upstream.hits('/feed.xml');
    await until(() => upstream.hits('/feed.xml') >= hits + 2, 5000, 'refreshes by the new worker 1');
    for (let index = 0; index < 3; index++) expect((await get(port, '/healthz')).status).toBe(200);
    expectOneRunPerTick(dir, upstream, since);

    // SIGTERM to the primary closes every worker gracefully, then the primary exits 0.
    primary.child.kill('SIGTERM');
    expect(await primary.exit).toEqual({ code: 0, signal: null });
    expect(count(primary.stdout(), /herold: closed/g)).toBe(4);
    for (const pid of [workers.get(2)!, workers.get(3)!, replacement]) expect(alive(pid)).toBe(false);
  }, 90_000);
});
