/**
 * `npm run bench`: Herold against the runtime's limit, in one run.
 *
 * For each dataset size (BENCH_SIZES, default 1000,10000,100000 releases, made by bench/dataset.ts
 * and kept in bench/.cache/), it starts Herold as shipped (`herold serve`) and a bare node:http
 * server answering with the very bytes and headers Herold answered (bench/baseline.ts), both on CPU
 * 0, and loads each target from CPU 1 with wrk (or autocannon) at 50 connections, in BENCH_ROUNDS
 * interleaved rounds of BENCH_SECONDS per server, in two halves ordered A B B A (after an uncounted
 * warm-up of BENCH_WARMUP seconds per target and server); each server's medians are reported, and
 * Herold's ratio to the baseline as the median of the rounds' ratios. It also measures
 * feed renders (query, render, hash; after a write and from nothing), resident memory with every
 * feed warm, and the first import of a 5,000-release upstream, then checks the targets of
 * bench/README.md. The table is printed and written to bench/results/ (git-ignored). Asserts nothing
 * in tests: figures are read by people.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { openDatabase } from '../src/db/open.js';
import { attachRenderedItems } from '../src/db/rendered-store.js';
import { createStore, type Store } from '../src/db/store.js';
import { createFeedBody } from '../src/feeds/handler.js';
import { datasetDir, TOPICS } from './dataset.js';
import { CLIENT, load, type LoadResult } from './load.js';
import { runRefreshBench } from './refresh.js';

/** One recorded answer of Herold's, replayed by the baseline: the request and the response, body in base64. */
export interface Recorded {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly status: number;
  /** Herold's header fields less those node writes itself (Date, Connection, Keep-Alive): names and values in turn, a repeated field repeated. */
  readonly responseHeaders: readonly string[];
  readonly body: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const CACHE = path.join(REPO, 'bench', '.cache');
const RESULTS = path.join(REPO, 'bench', 'results');
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
/** Each round loads each server for two halves of BENCH_SECONDS: whole seconds, as wrk takes them. */
const HALF = Math.max(1, Math.round(SECONDS / 2));
const CONNECTIONS = 50;
const GZIP = { 'accept-encoding': 'gzip' };
/**
 * The public URL of every dataset's Herold, in the bench process and in the server alike, whatever port
 * it listens on: the items a render keeps are kept per base URL, so the server finds the bench's.
 */
const BASE_URL = 'http://herold.bench.test';

/** The targets of the issue's list: what readers, embeds and journalists ask for most. */
interface Target {
  readonly name: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  /** Counted against the ≥ 80 % target (cached feed responses and 304s). */
  readonly cachedFeed: boolean;
}

function targets(releaseSlug: string, etag: string): Target[] {
  const topic = TOPICS[0]!.toLowerCase();
  return [
    { name: 'feed, 50 items', path: '/feeds/all.rss?limit=50', headers: {}, cachedFeed: true },
    { name: 'feed, 50 items, gzip', path: '/feeds/all.rss?limit=50', headers: GZIP, cachedFeed: true },
    { name: 'feed, 50 items, 304', path: '/feeds/all.rss?limit=50', headers: { ...GZIP, 'if-none-match': etag }, cachedFeed: true },
    { name: 'topic feed, gzip', path: `/feeds/topics/${topic}.atom`, headers: GZIP, cachedFeed: false },
    { name: 'search feed, gzip', path: '/feeds/all.rss?q=Haltestelle', headers: GZIP, cachedFeed: false },
    { name: 'release page, gzip', path: `/releases/${releaseSlug}`, headers: GZIP, cachedFeed: false },
    { name: '/api/v1/headlines, gzip', path: '/api/v1/headlines', headers: GZIP, cachedFeed: false },
    { name: '/embed.js, gzip', path: '/embed.js', headers: GZIP, cachedFeed: false },
  ];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Server on CPU 0, client and this process on CPU 1, when the machine has two and taskset is there. */
const PIN = os.availableParallelism() >= 2 && !spawnSync('taskset', ['-V']).error;
if (PIN) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

/** The node options and environment `npm start` (and the Dockerfile) run Herold with, so that it is measured as shipped. */
const START = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
const NODE_OPTIONS = START.filter((word) => word.startsWith('--'));
const START_ENV = Object.fromEntries(START.filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split('=') as [string, string]));

function startProcess(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const command = PIN ? 'taskset' : process.execPath;
  const argv = PIN ? ['-c', '0', process.execPath, ...args] : args;
  return spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  await closed;
}

/** Header fields as received (names and values in turn), less those node writes itself whatever the server: Date, Connection, Keep-Alive. */
function ownFields(rawHeaders: readonly string[]): string[] {
  const node = new Set(['date', 'connection', 'keep-alive']);
  return rawHeaders.flatMap((field, at) => (at % 2 === 0 && !node.has(field.toLowerCase()) ? [field, rawHeaders[at + 1]!] : []));
}

/** A GET over a fresh connection: status, headers (the last of a repeated field; and all, as received) and body. */
function get(port: number, urlPath: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string>; rawHeaders: string[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const flat: Record<string, string> = {};
        for (let i = 0; i < res.rawHeaders.length; i += 2) flat[res.rawHeaders[i]!] = res.rawHeaders[i + 1]!;
        resolve({ status: res.statusCode!, headers: flat, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitForPort(child: ChildProcess, pattern: RegExp, what: string): Promise<number> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('close', (code) => reject(new Error(`${what} exited with ${code}:\n${output}`)));
  });
}

/** Resident memory of a process, in MB (Linux). */
function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every feed of the dataset (all, each topic, each department, each format) and the main pages. */
function everyFeedAndPage(store: Store, now: Date): string[] {
  const scopes = ['/feeds/all', ...store.listTopics(now).map((topic) => `/feeds/topics/${topic.slug}`),
    ...store.listDepartments(now).map((department) => `/feeds/departments/${department.slug}`)];
  return [...scopes.flatMap((scope) => ['rss', 'atom', 'json'].map((format) => `${scope}.${format}`)), '/', '/feeds', '/feeds.opml', '/embed.js',
    '/embed/headlines', '/api/v1/headlines'];
}

/**
 * The subjects in the order of one sample: they take turns sample by sample, so that a slow spell of the
 * machine hits every size alike, and each sample starts with the next one, so that each size takes every
 * place in the turn as often (what runs just before a sample may slow it).
 */
function inTurn<T>(subjects: readonly T[], sample: number): T[] {
  return subjects.map((_subject, index) => subjects[(index + sample) % subjects.length]!);
}

/** Cold costs: each sample is the first request to a fresh app (an empty cache), over HTTP on 127.0.0.1. */
async function coldCosts(subjects: readonly CostSubject[], samples: number, counted: boolean): Promise<void> {
  for (const name of Object.keys(subjects[0]!.paths)) {
    for (let i = 0; i < samples; i++) {
      for (const subject of inTurn(subjects, i)) {
        const urlPath = subject.paths[name]!;
        const app = createApp({ config: subject.config, store: subject.store, log: () => {} });
        const server = app.listen(0, '127.0.0.1');
        await new Promise((resolve) => server.once('listening', resolve));
        const port = (server.address() as AddressInfo).port;
        const start = performance.now();
        const answer = await get(port, urlPath, GZIP);
        const ms = performance.now() - start;
        if (counted) (subject.http[name] ??= []).push(ms);
        if (answer.status !== 200) throw new Error(`${urlPath}: status ${answer.status}`);
        await new Promise((resolve) => server.close(resolve));
      }
    }
  }
}

interface RenderFigure {
  /** A render after a write: the feed's cached answer dropped, its releases' items kept in memory (ItemCache). */
  readonly median: number;
  readonly p95: number;
  /** A render in a process that starts: no item in memory, the items rendered before kept in the database. */
  readonly fromShelf: number;
  /** A render of releases no feed showed since they changed: every item rendered. */
  readonly fromNothing: number;
  readonly bytes: number;
}

/** The samples of coldRenders, per format: the three kinds of render (RenderFigure), in ms, and the document's size. */
type RenderSamples = Record<string, { times: number[]; fromShelf: number[]; fromNothing: number[]; bytes: number }>;

/**
 * Renders of a 50-item feed in each format: query, render, hash, no HTTP, no compression. A subject's
 * `store` keeps rendered items beside the database, its `bare` (a connection without that file) keeps
 * none. The subjects take turns sample by sample (inTurn).
 */
function coldRenders(subjects: readonly CostSubject[], samples: number, counted: boolean): void {
  const now = new Date();
  const timed = (render: (url: string, now: Date) => unknown, url: string) => {
    const start = performance.now();
    render(url, now);
    return performance.now() - start;
  };
  for (const format of ['rss', 'atom', 'json']) {
    const runs = subjects.map((subject) => {
      const url = `${subject.config.baseUrl}/feeds/all.${format}?limit=50`;
      // Rendered once first, so that its items are in memory, as after a write.
      const body = createFeedBody(subject.config, subject.store);
      const bytes = body(url, now).body.length;
      const figure = counted ? (subject.renders[format] ??= { times: [], fromShelf: [], fromNothing: [], bytes }) : null;
      return { subject, url, body, figure };
    });
    for (let i = 0; i < samples; i++) {
      for (const { subject, url, body, figure } of inTurn(runs, i)) {
        const times = timed(body, url);
        const fromShelf = timed(createFeedBody(subject.config, subject.store), url);
        const fromNothing = timed(createFeedBody(subject.config, subject.bare), url);
        figure?.times.push(times);
        figure?.fromShelf.push(fromShelf);
        figure?.fromNothing.push(fromNothing);
      }
    }
  }
}

/** One dataset as the cost phase measures it, in this process. */
interface CostSubject {
  readonly size: number;
  readonly config: Config;
  readonly store: Store;
  readonly bare: Store;
  readonly paths: Record<string, string>;
  readonly renders: RenderSamples;
  readonly http: Record<string, number[]>;
  close(): void;
}

/**
 * The renders and first requests of every dataset, the sizes taking turns sample by sample (inTurn),
 * so that the machine's drift and its slow spells, which last seconds, hit every size alike and the
 * flatness compares like with like. The compiler's work on each path comes first and is not counted:
 * 50 renders of each kind and one first request per target and dataset, which also leaves each feed's
 * items in the dataset's `herold.rendered.db` (with the base URL the server is started with after).
 */
async function measureCosts(sizes: readonly number[], log: (line: string) => void): Promise<Map<number, Pick<SizeReport, 'cold' | 'coldHttp'>>> {
  const subjects: CostSubject[] = sizes.map((size) => {
    const dir = datasetDir(CACHE, size, log);
    const config = loadConfig({ HEROLD_DATA_DIR: dir, HEROLD_BASE_URL: BASE_URL, HEROLD_LOG_LEVEL: 'silent' }, dir);
    const db = openDatabase(config.databaseFile);
    const unattached = attachRenderedItems(db, config.databaseFile);
    if (unattached) throw unattached;
    const bareDb = openDatabase(config.databaseFile);
    const store = createStore(db);
    const paths = {
      ...Object.fromEntries(targets(middleSlug(store, size), '').filter((target) => !('if-none-match' in target.headers))
        .map((target) => [target.name.replace(/, gzip$/, ''), target.path])),
      // Pages whose lists and counts span every release: their first request shows whether a cost grows with the data.
      'home page': '/', 'feed directory': '/feeds', 'topic page': `/topics/${TOPICS[0]!.toLowerCase()}`, 'search page': '/search?q=Haltestelle',
      '/api/v1/releases': '/api/v1/releases',
    };
    return {
      size, config, store, bare: createStore(bareDb), paths, renders: {}, http: {},
      close: () => { db.close(); bareDb.close(); },
    };
  });
  try {
    for (const subject of subjects) {
      coldRenders([subject], 50, false);
      await coldCosts([subject], 1, false);
    }
    for (let round = 0; round < ROUNDS; round++) {
      coldRenders(subjects, Math.ceil(60 / ROUNDS), true);
      await coldCosts(subjects, Math.ceil(45 / ROUNDS), true);
      log(`renders and first requests: round ${round + 1} of ${ROUNDS} done`);
    }
  } finally {
    for (const subject of subjects) subject.close();
  }
  return new Map(subjects.map((subject) => [subject.size, {
    cold: Object.fromEntries(Object.entries(subject.renders).map(([format, samples]) => [format, {
      median: median(samples.times), p95: percentile(samples.times, 0.95), fromShelf: median(samples.fromShelf),
      fromNothing: median(samples.fromNothing), bytes: samples.bytes,
    }])),
    coldHttp: Object.fromEntries(Object.entries(subject.http).map(([name, samples]) => [name, median(samples)])),
  }]));
}

/** The slug of the release in the middle of a dataset, whose page is a target. */
function middleSlug(store: Store, size: number): string {
  return store.newestReleases({ kind: 'all' }, { now: new Date(), limit: 1, offset: Math.floor(size / 2) })[0]!.slug;
}

interface SizeReport {
  readonly size: number;
  readonly cold: Record<string, RenderFigure>;
  readonly coldHttp: Record<string, number>;
  /** Per target: each server's medians, and the median of the rounds' ratios (Herold's requests/s over the baseline's). */
  readonly load: Record<string, { herold: LoadResult; baseline: LoadResult; ratio: number; bytes: number }>;
  readonly residentMb: { warm: number; afterLoad: number };
}

async function measureSize(size: number, log: (line: string) => void): Promise<Omit<SizeReport, 'cold' | 'coldHttp'>> {
  const dir = datasetDir(CACHE, size, log);
  const port = await freePort();
  const db = openDatabase(path.join(dir, 'herold.db'));
  const store = createStore(db);
  const now = new Date();

  const herold = startProcess([...NODE_OPTIONS, path.join(REPO, 'dist', 'src', 'cli.js'), 'serve'], {
    ...process.env, ...START_ENV, HEROLD_DATA_DIR: dir, PORT: String(port), HOST: '127.0.0.1', HEROLD_BASE_URL: BASE_URL,
    // The rate limits stay on (their cost is measured), at the highest limit, which one client's load stays under.
    HEROLD_RATE_LIMIT_API: '999999', HEROLD_RATE_LIMIT_SEARCH: '999999', NODE_ENV: 'production',
  });
  const recordedFile = path.join(dir, 'recorded.json');
  let baseline: ChildProcess | null = null;
  try {
    await waitForPort(herold, /listening on [\d.]+:(\d+)/, 'herold serve');
    // Every feed and page warm, then the memory they hold.
    for (const urlPath of everyFeedAndPage(store, now)) {
      const answer = await get(port, urlPath, GZIP);
      if (answer.status !== 200) throw new Error(`${urlPath}: status ${answer.status}`);
    }
    const warm = residentMb(herold.pid!);
    const etag = (await get(port, '/feeds/all.rss?limit=50', GZIP)).headers.ETag!;
    const list = targets(middleSlug(store, size), etag);

    // What the baseline replays: Herold's own answer to each target, less what node writes itself.
    const recorded: Recorded[] = [];
    for (const target of list) {
      const answer = await get(port, target.path, target.headers);
      recorded.push({ url: target.path, headers: target.headers, status: answer.status, responseHeaders: ownFields(answer.rawHeaders), body: answer.body.toString('base64') });
    }
    writeFileSync(recordedFile, JSON.stringify(recorded));
    baseline = startProcess([path.join(HERE, 'baseline.js'), recordedFile], process.env);
    const baselinePort = await waitForPort(baseline, /^(\d+)$/m, 'baseline');
    for (const [index, target] of list.entries()) {
      const replay = await get(baselinePort, target.path, target.headers);
      // The very status, header fields (names, order, repeats, values) and bytes: what the ratio compares is the server alone.
      const same = replay.status === recorded[index]!.status && replay.body.equals(Buffer.from(recorded[index]!.body, 'base64'))
        && ownFields(replay.rawHeaders).join('\n') === recorded[index]!.responseHeaders.join('\n');
      if (!same) throw new Error(`baseline differs from Herold at ${target.path}`);
    }

    // Both servers see the load of every target once before the rounds (not counted): what the rounds measure is
    // the steady state, not the compiler's first work on each path.
    for (const target of list) {
      for (const serverPort of [port, baselinePort]) {
        await load({ url: `http://127.0.0.1:${serverPort}${target.path}`, headers: target.headers, connections: CONNECTIONS, seconds: WARMUP });
      }
    }
    const runs = new Map<string, { herold: LoadResult[]; baseline: LoadResult[]; ratios: number[] }>(
      list.map((target) => [target.name, { herold: [], baseline: [], ratios: [] }]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of list) {
        // Each server for two halves of the round's time, in the order A B B A (which of the two is A alternating
        // with the rounds), so that the machine's drift within the round hits both alike: the round's ratio is that
        // of Herold's and the baseline's requests over both halves.
        const [a, b] = round % 2 === 0 ? (['herold', 'baseline'] as const) : (['baseline', 'herold'] as const);
        const halves: Record<'herold' | 'baseline', LoadResult[]> = { herold: [], baseline: [] };
        for (const which of [a, b, b, a]) {
          halves[which].push(await load({
            url: `http://127.0.0.1:${which === 'herold' ? port : baselinePort}${target.path}`,
            headers: target.headers, connections: CONNECTIONS, seconds: HALF,
          }));
        }
        const run = runs.get(target.name)!;
        run.herold.push(...halves.herold);
        run.baseline.push(...halves.baseline);
        const requests = (results: LoadResult[]) => results.reduce((sum, result) => sum + result.requestsPerSecond, 0);
        run.ratios.push(requests(halves.herold) / requests(halves.baseline));
      }
      log(`${size}: round ${round + 1} of ${ROUNDS} done`);
    }
    const afterLoad = residentMb(herold.pid!);
    const pick = (results: LoadResult[]): LoadResult => ({
      requestsPerSecond: median(results.map((result) => result.requestsPerSecond)),
      p50Ms: median(results.map((result) => result.p50Ms)),
      p99Ms: median(results.map((result) => result.p99Ms)),
      failures: results.reduce((sum, result) => sum + result.failures, 0),
    });
    const loadReport = Object.fromEntries(list.map((target, index) => {
      const { herold: heroldRuns, baseline: baselineRuns, ratios } = runs.get(target.name)!;
      return [target.name, {
        herold: pick(heroldRuns), baseline: pick(baselineRuns),
        // The median of the rounds' ratios, which the machine's drift between rounds does not move.
        ratio: median(ratios),
        bytes: Buffer.from(recorded[index]!.body, 'base64').length,
      }];
    }));
    return { size, load: loadReport, residentMb: { warm, afterLoad } };
  } finally {
    if (baseline) await stopProcess(baseline);
    await stopProcess(herold);
    db.close();
    rmSync(recordedFile, { force: true });
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, index) => cell.padEnd(widths[index]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const lines: string[] = [];
  const print = (line = '') => {
    lines.push(line);
    console.log(line);
  };
  const progress = (line: string) => console.error(`  … ${line}`);
  mkdirSync(CACHE, { recursive: true });
  print(`# Herold benchmark, ${started.toISOString()}`);
  print();
  print(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; load: ${CLIENT}, ${CONNECTIONS} connections, `
    + `${ROUNDS} interleaved rounds × ${2 * HALF} s per target and server (halves A B B A), medians; ${PIN ? 'servers on CPU 0, client on CPU 1' : 'not pinned'}.`);
  const reports: SizeReport[] = [];
  const costs = await measureCosts(SIZES, progress);
  for (const size of SIZES) reports.push({ ...(await measureSize(size, progress)), ...costs.get(size)! });

  for (const report of reports) {
    print();
    print(`## ${report.size.toLocaleString('en')} releases`);
    print();
    print(table(['target', 'bytes', 'Herold req/s', 'baseline req/s', 'ratio', 'Herold p50 / p99 ms', 'baseline p99 ms', 'failures'],
      Object.entries(report.load).map(([name, { herold, baseline, ratio, bytes }]) => [
        name, String(bytes), herold.requestsPerSecond.toFixed(0), baseline.requestsPerSecond.toFixed(0), `${(ratio * 100).toFixed(0)} %`,
        `${herold.p50Ms.toFixed(2)} / ${herold.p99Ms.toFixed(2)}`, baseline.p99Ms.toFixed(2), String(herold.failures + baseline.failures),
      ])));
    print();
    print(`render of a 50-item feed after a write (query, render, hash; items kept): ${Object.entries(report.cold)
      .map(([format, figure]) => `${format} ${figure.median.toFixed(2)} ms (p95 ${figure.p95.toFixed(2)}, ${figure.bytes} bytes)`).join('; ')}`);
    print(`the same in a process that starts (items kept in the database): ${Object.entries(report.cold).map(([format, figure]) => `${format} ${figure.fromShelf.toFixed(2)} ms`).join('; ')}`);
    print(`the same with every item rendered (none kept anywhere): ${Object.entries(report.cold).map(([format, figure]) => `${format} ${figure.fromNothing.toFixed(2)} ms`).join('; ')}`);
    print(`cold request, fresh cache, gzip: ${Object.entries(report.coldHttp).map(([name, ms]) => `${name} ${ms.toFixed(2)} ms`).join('; ')}`);
    print(`resident memory: ${report.residentMb.warm.toFixed(0)} MB with every feed warm, ${report.residentMb.afterLoad.toFixed(0)} MB after the load`);
  }

  const refresh = await runRefreshBench(['feed'], ['first import']);
  print();
  print(`refresh: ${refresh.map((row) => `${row.source} ${row.label}: ${row.seconds.toFixed(2)} s, ${row.requests} request(s), ${row.report.new} new`).join('; ')}`);

  // The targets (bench/README.md).
  const largest = reports.at(-1)!;
  const smallest = reports[0]!;
  const checks: Array<[string, boolean, string]> = [];
  const cachedRatios = reports.flatMap((report) => Object.entries(report.load).filter(([name]) => name.startsWith('feed, 50 items'))
    .map(([name, { ratio }]) => [`${report.size}: ${name}`, ratio] as const));
  const lowestRatio = cachedRatios.reduce((low, entry) => (entry[1] < low[1] ? entry : low));
  checks.push(['cached feed responses and 304s ≥ 80 % of the baseline, at every size', cachedRatios.every(([, ratio]) => ratio >= 0.8),
    `lowest ${lowestRatio[0]} ${(lowestRatio[1] * 100).toFixed(0)} %; at ${largest.size}: ${cachedRatios.filter(([name]) => name.startsWith(`${largest.size}:`))
      .map(([name, ratio]) => `${name.slice(name.indexOf(' ') + 1)} ${(ratio * 100).toFixed(0)} %`).join(', ')}`]);
  const p99s = reports.flatMap((report) => Object.entries(report.load).map(([name, { herold }]) => [`${report.size}: ${name}`, herold.p99Ms] as const));
  const worstP99 = p99s.reduce((worst, entry) => (entry[1] > worst[1] ? entry : worst));
  checks.push(['p99 latency at 50 connections < 20 ms', worstP99[1] < 20, `worst ${worstP99[1].toFixed(2)} ms (${worstP99[0]})`]);
  if (largest !== smallest) {
    // Each cost at its highest over its lowest across the sizes. A served target's cost is taken, as the targets are,
    // as a ratio to the baseline in the same rounds (its requests per second over Herold's): the sizes are loaded
    // minutes apart, and the machine's speed drifts more than that between them.
    const spread = (name: string, cost: (report: SizeReport) => number) => {
      const costs = reports.map(cost);
      return [name, Math.max(...costs) / Math.min(...costs)] as const;
    };
    const costRatios = [
      ...Object.keys(largest.cold).map((format) => spread(`render ${format}`, (report) => report.cold[format]!.median)),
      ...Object.keys(largest.cold).map((format) => spread(`render ${format}, items from the database`, (report) => report.cold[format]!.fromShelf)),
      ...Object.keys(largest.cold).map((format) => spread(`render ${format}, every item rendered`, (report) => report.cold[format]!.fromNothing)),
      ...Object.keys(largest.coldHttp).map((name) => spread(`first request ${name}`, (report) => report.coldHttp[name]!)),
      ...Object.keys(largest.load).map((name) => spread(`served ${name}`,
        (report) => 1 / report.load[name]!.ratio)),
    ];
    const worst = costRatios.reduce((max, entry) => (entry[1] > max[1] ? entry : max));
    checks.push([`cost flat (within 20 %) from ${smallest.size} to ${largest.size} releases`, costRatios.every(([, ratio]) => ratio <= 1.2),
      `worst ${worst[0]}: × ${worst[1].toFixed(2)}`]);
  }
  checks.push([`resident memory < 150 MB with ${largest.size} releases, every feed warm`, largest.residentMb.warm < 150 && largest.residentMb.afterLoad < 150,
    `${largest.residentMb.warm.toFixed(0)} MB warm, ${largest.residentMb.afterLoad.toFixed(0)} MB after load`]);
  const slowestCold = Object.entries(largest.cold).reduce((max, entry) => (entry[1].median > max[1].median ? entry : max));
  checks.push(['render of a 50-item feed after a write (items kept) < 3 ms', slowestCold[1].median < 3, `slowest ${slowestCold[0]} ${slowestCold[1].median.toFixed(2)} ms`]);
  const slowestShelf = Object.entries(largest.cold).reduce((max, entry) => (entry[1].fromShelf > max[1].fromShelf ? entry : max));
  checks.push(['render of a 50-item feed in a process that starts (items kept in the database) < 3 ms', slowestShelf[1].fromShelf < 3,
    `slowest ${slowestShelf[0]} ${slowestShelf[1].fromShelf.toFixed(2)} ms`]);
  const slowestFresh = Object.entries(largest.cold).reduce((max, entry) => (entry[1].fromNothing > max[1].fromNothing ? entry : max));
  checks.push(['render of a 50-item feed with every item rendered < 3 ms', slowestFresh[1].fromNothing < 3,
    `slowest ${slowestFresh[0]} ${slowestFresh[1].fromNothing.toFixed(2)} ms`]);
  const failures = reports.reduce((sum, report) => sum + Object.values(report.load).reduce((inner, { herold }) => inner + herold.failures, 0), 0);
  checks.push(['no failed request under load', failures === 0, `${failures} failed`]);
  print();
  print('## Targets');
  print();
  for (const [what, met, figures] of checks) print(`- ${met ? 'met' : 'NOT MET'}: ${what} — ${figures}`);

  mkdirSync(RESULTS, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  writeFileSync(path.join(RESULTS, `${stamp}.md`), `${lines.join('\n')}\n`);
  writeFileSync(path.join(RESULTS, `${stamp}.json`), `${JSON.stringify({ started, client: CLIENT, rounds: ROUNDS, seconds: SECONDS, reports, refresh, checks }, null, 2)}\n`);
  console.error(`written to ${path.relative(REPO, path.join(RESULTS, `${stamp}.md`))}`);
}

await main();
