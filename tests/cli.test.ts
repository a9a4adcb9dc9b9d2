import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPO, 'dist', 'src', 'cli.js');
const BASE_URL = 'http://herold.test';

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `node dist/src/cli.js …` with its output so far. */
interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exit: Promise<Exit>;
}

const runs: Run[] = [];
const dirs: string[] = [];

beforeAll(() => {
  // The CLI is tested as shipped, compiled; `npm test` type-checks without emitting, so build here.
  const build = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0 || !existsSync(CLI)) throw new Error(`build failed (${build.status}):\n${build.stdout}${build.stderr}`);
}, 120_000);

afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await run.exit;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A port nothing listens on now: the kernel's pick for port 0, released again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fresh data folder holding copies of the repository's sample releases and media, and no database. */
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-cli-'));
  dirs.push(dir);
  cpSync(path.join(REPO, 'data', 'samples'), path.join(dir, 'samples'), { recursive: true });
  cpSync(path.join(REPO, 'data', 'media'), path.join(dir, 'media'), { recursive: true });
  return dir;
}

/** Only what the CLI reads, so the environment of whoever runs the tests cannot leak in. */
function environment(dir: string, port: number | null, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: dir, HOST: '127.0.0.1', HEROLD_BASE_URL: BASE_URL,
    ...(port === null ? {} : { PORT: String(port) }), ...extra,
  };
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Run {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const exit = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const started: Run = { child, stdout: () => stdout, stderr: () => stderr, exit };
  runs.push(started);
  return started;
}

/** Resolves once stdout matches; rejects when the process ends first or the time runs out. */
async function waitForOutput(started: Run, pattern: RegExp, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let ended = false;
  void started.exit.then(() => { ended = true; });
  while (!pattern.test(started.stdout())) {
    if (ended || Date.now() > deadline) {
      throw new Error(`no ${pattern} ${ended ? 'before the process ended' : `within ${ms} ms`}\n`
        + `stdout: ${started.stdout()}\nstderr: ${started.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Sends SIGTERM and returns how the process ended and how long that took. */
async function stop(started: Run): Promise<Exit & { ms: number }> {
  const at = Date.now();
  started.child.kill('SIGTERM');
  const exit = await started.exit;
  return { ...exit, ms: Date.now() - at };
}

async function health(port: number): Promise<{ status: number; type: string | null; body: { status: string; releases: number } }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { status: string; releases: number } };
}

describe('herold serve', () => {
  test('starts, creates the database, loads the samples, answers, and exits 0 on SIGTERM', async () => {
    const dir = dataDir();
    const port = await freePort();
    const server = run(['serve'], environment(dir, port), dir);
    await waitForOutput(server, /listening/);

    expect(existsSync(path.join(dir, 'herold.db'))).toBe(true);
    expect(server.stdout()).toContain(`loaded 13 sample releases from ${path.join(dir, 'samples')}`);
    expect(server.stdout()).toContain(`listening on 127.0.0.1:${port}, public at ${BASE_URL}`);

    const healthz = await health(port);
    expect(healthz.status).toBe(200);
    expect(healthz.type).toMatch(/^application\/json/);
    expect(healthz.body.status).toBe('ok');
    expect(healthz.body.releases).toBeGreaterThanOrEqual(12);

    const res = await fetch(`http://127.0.0.1:${port}/feeds/all.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/feed\+json/);
    const feed = (await res.json()) as { feed_url: string; items: Array<{ id: string; url: string }> };
    expect(feed.items.length).toBe(Math.min(healthz.body.releases, 20));
    expect(feed.feed_url).toBe(`${BASE_URL}/feeds/all.json`);
    expect(feed.items.every((item) => item.url.startsWith(`${BASE_URL}/releases/`))).toBe(true);

    const exit = await stop(server);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    // Well before serve's 5-second fallback exit: the listener and the database closed by themselves.
    expect(exit.ms).toBeLessThan(4000);
    expect(server.stdout()).toContain('SIGTERM: closing');
  });

  test('a second start on the same data folder does not load the samples again', async () => {
    const dir = dataDir();
    const first = run(['serve'], environment(dir, await freePort()), dir);
    await waitForOutput(first, /listening/);
    const firstPort = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(first.stdout())![1]);
    const before = (await health(firstPort)).body.releases;
    expect(first.stdout()).toContain('loaded');
    expect((await stop(first)).code).toBe(0);

    const port = await freePort();
    const second = run(['serve'], environment(dir, port), dir);
    await waitForOutput(second, /listening/);
    expect(second.stdout()).not.toContain('loaded');
    expect((await health(port)).body.releases).toBe(before);
    expect((await stop(second)).code).toBe(0);
  });
});

describe('a first start that fails while loading the samples', () => {
  /** A data folder whose first sample refers to an image that is not there. */
  function brokenDataDir(): { dir: string; missing: string; restore: () => void } {
    const dir = dataDir();
    const missing = path.join(dir, 'media', 'rathausplatz-sanierung.jpg');
    const aside = path.join(dir, 'aside.jpg');
    renameSync(missing, aside);
    return { dir, missing, restore: () => renameSync(aside, missing) };
  }

  test('exits 1 naming the missing file', async () => {
    const { dir, missing } = brokenDataDir();
    const started = run(['serve'], environment(dir, await freePort()), dir);
    expect((await started.exit).code).toBe(1);
    expect(started.stderr()).toContain(missing);
    expect(started.stdout()).not.toContain('listening');
  });

  // A first start that failed while loading the samples must not leave a database that skips them for good.
  test('the next start, once the file is back, loads the samples', async () => {
    const { dir, restore } = brokenDataDir();
    const first = run(['serve'], environment(dir, await freePort()), dir);
    await first.exit;
    restore();
    const port = await freePort();
    const second = run(['serve'], environment(dir, port), dir);
    await waitForOutput(second, /listening/);
    expect(second.stdout()).toContain('loaded 13 sample releases');
    expect((await health(port)).body.releases).toBeGreaterThanOrEqual(12);
  });
});

describe('bad configuration', () => {
  test('PORT=abc exits 1 naming PORT, before creating a database', async () => {
    const dir = dataDir();
    const started = run(['serve'], environment(dir, null, { PORT: 'abc' }), dir);
    expect((await started.exit).code).toBe(1);
    expect(started.stderr()).toContain('configuration error');
    expect(started.stderr()).toContain('PORT');
    expect(started.stdout()).not.toContain('listening');
    expect(existsSync(path.join(dir, 'herold.db'))).toBe(false);
  });

  test('a config file with a bad site.language exits 1 naming the key', async () => {
    const dir = dataDir();
    const file = path.join(dir, 'site.json');
    writeFileSync(file, JSON.stringify({ site: { language: 5 } }));
    const started = run(['serve'], environment(dir, await freePort(), { HEROLD_CONFIG: file }), dir);
    expect((await started.exit).code).toBe(1);
    expect(started.stderr()).toContain('site.language');
    expect(started.stdout()).not.toContain('listening');
  });
});

describe('commands', () => {
  test('help prints the usage and exits 0', async () => {
    const dir = dataDir();
    for (const args of [['help'], ['--help'], ['serve', '-h']]) {
      const started = run(args, environment(dir, null), dir);
      expect((await started.exit).code, args.join(' ')).toBe(0);
      expect(started.stdout(), args.join(' ')).toMatch(/^Usage: herold <command>/);
      expect(started.stdout()).toContain('serve');
    }
    expect(existsSync(path.join(dir, 'herold.db'))).toBe(false);
  });

  test('an unknown command exits 2 with the usage on stderr', async () => {
    const dir = dataDir();
    const started = run(['frobnicate'], environment(dir, null), dir);
    expect((await started.exit).code).toBe(2);
    expect(started.stderr()).toContain('unknown command "frobnicate"');
    expect(started.stderr()).toContain('Usage: herold <command>');
    expect(started.stdout()).toBe('');
  });
});
