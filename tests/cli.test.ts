import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { BASE_URL, dataDir, environment, freePort, kill, requireBuild, spawnCli, waitForOutput, type Exit, type Run } from './helpers/cli.js';

const runs: Run[] = [];
const dirs: string[] = [];

beforeAll(requireBuild);

afterEach(async () => {
  for (const run of runs.splice(0)) await kill(run);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});


function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Run {
  const started = spawnCli(args, env, cwd);
  runs.push(started);
  return started;
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
    const dir = dataDir(dirs);
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
    const dir = dataDir(dirs);
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
    const dir = dataDir(dirs);
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
    const dir = dataDir(dirs);
    const started = run(['serve'], environment(dir, null, { PORT: 'abc' }), dir);
    expect((await started.exit).code).toBe(1);
    expect(started.stderr()).toContain('configuration error');
    expect(started.stderr()).toContain('PORT');
    expect(started.stdout()).not.toContain('listening');
    expect(existsSync(path.join(dir, 'herold.db'))).toBe(false);
  });

  test('a config file with a bad site.language exits 1 naming the key', async () => {
    const dir = dataDir(dirs);
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
    const dir = dataDir(dirs);
    for (const args of [['help'], ['--help'], ['serve', '-h']]) {
      const started = run(args, environment(dir, null), dir);
      expect((await started.exit).code, args.join(' ')).toBe(0);
      expect(started.stdout(), args.join(' ')).toMatch(/^Usage: herold <command>/);
      expect(started.stdout()).toContain('serve');
    }
    expect(existsSync(path.join(dir, 'herold.db'))).toBe(false);
  });

  test('an unknown command exits 2 with the usage on stderr', async () => {
    const dir = dataDir(dirs);
    const started = run(['frobnicate'], environment(dir, null), dir);
    expect((await started.exit).code).toBe(2);
    expect(started.stderr()).toContain('unknown command "frobnicate"');
    expect(started.stderr()).toContain('Usage: herold <command>');
    expect(started.stdout()).toBe('');
  });
});
