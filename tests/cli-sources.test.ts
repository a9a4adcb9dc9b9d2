import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, test, type TestContext } from 'vitest';
import { FIXTURES } from './helpers/app.js';
import { freePort, kill, requireBuild, spawnCli, waitForOutput, type Run } from './helpers/cli.js';
import { RATHAUS } from './helpers/sites.js';
import { startUpstream, type Route, type Upstream } from './helpers/upstream.js';

const BASE_URL = 'http://herold.test';
const FILES = readdirSync(path.join(FIXTURES, 'files')).filter((name) => /\.(txt|md)$/.test(name)).sort();

/** The fixture city site's selectors; each test points listing_url at its own upstream. */
const { listing_url: _listing, ...RATHAUS_SELECTORS } = RATHAUS;

interface Data {
  readonly dir: string;
  readonly config: string;
}

beforeAll(requireBuild);

/** Every file under a folder, as URL paths. */
function filesUnder(root: string, prefix = ''): string[] {
  return readdirSync(path.join(root, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${prefix}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(root, relative) : [relative];
  });
}

/** Only what the CLI reads, so the environment of whoever runs the tests cannot leak in. */
function environment(data: Data, port: number | null = null): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: data.dir, HEROLD_CONFIG: data.config, HOST: '127.0.0.1', HEROLD_BASE_URL: BASE_URL,
    ...(port === null ? {} : { PORT: String(port) }),
  };
}

/**
 * What one test starts: processes, folders, upstreams, all ended when the test finishes. Per test, not per
 * file, because the tests run concurrently (each CLI start loads the whole program).
 */
function scope(context: TestContext) {
  const runs: Run[] = [];
  const dirs: string[] = [];
  const upstreams: Upstream[] = [];
  context.onTestFinished(async () => {
    for (const started of runs) await kill(started);
    for (const upstream of upstreams) await upstream.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[], data: Data, port: number | null = null): Run {
    const started = spawnCli(args, environment(data, port), data.dir);
    runs.push(started);
    return started;
  }

  function tempDir(prefix: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  }

  return {
    /** The city's fixture site on 127.0.0.1, every file with validators (its pages have no absolute links to their own origin). */
    async rathausUpstream(): Promise<Upstream> {
      const root = path.join(FIXTURES, 'sites', 'rathaus');
      const types: Record<string, string> = { '.html': 'text/html', '.jpg': 'image/jpeg', '.pdf': 'application/pdf' };
      const routes: Record<string, Route> = {};
      for (const file of filesUnder(root)) {
        const body = readFileSync(path.join(root, file));
        if (body.includes('rathaus.lindenau.example')) throw new Error(`${file} links to the real site: rewrite it`);
        routes[file] = { body, headers: { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }, validators: true };
      }
      const upstream = await startUpstream(routes);
      upstreams.push(upstream);
      return upstream;
    },

    /** A data folder without samples; its config file declares the `html` source "rathaus" on `upstream`, if given. */
    dataDir(upstream: Upstream | null): Data {
      const dir = tempDir('herold-cli-sources-');
      const config = path.join(dir, 'herold.json');
      const sources = upstream
        ? [{ id: 'rathaus', type: 'html', schedule: '0 * * * *', timeout_ms: 5000, listing_url: `${upstream.url}/index.html`, ...RATHAUS_SELECTORS }]
        : [];
      writeFileSync(config, JSON.stringify({ sources }));
      return { dir, config };
    },

    /** A folder with copies of tests/fixtures/files/*.txt and *.md. */
    releaseFolder(): string {
      const folder = path.join(tempDir('herold-cli-files-'), 'eingang');
      mkdirSync(folder);
      for (const name of FILES) cpSync(path.join(FIXTURES, 'files', name), path.join(folder, name));
      return folder;
    },

    run,

    /** Runs a command to its end. */
    async complete(args: string[], data: Data): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const started = run(args, data);
      const { code } = await started.exit;
      return { code, stdout: started.stdout(), stderr: started.stderr() };
    },
  };
}

/** The output line that names `file`. */
function lineOf(stdout: string, file: string): string | undefined {
  return stdout.split('\n').find((line) => line.includes(file));
}

/** Each CLI start loads the whole program (over a second of CPU): generous on a busy machine; nothing here is timed. */
const SLOW = { timeout: 60_000 };

describe.concurrent('herold import', () => {
  test('prints each file with its outcome and a summary; again, unchanged files say so; a broken file exits 1 with the reason', SLOW, async (context) => {
    const { expect } = context;
    const { dataDir, releaseFolder, complete } = scope(context);
    const data = dataDir(null);
    const folder = releaseFolder();

    const first = await complete(['import', folder], data);
    expect(first.code, first.stderr).toBe(0);
    for (const name of FILES) expect(lineOf(first.stdout, name), `${name} in\n${first.stdout}`).toBe(`new       ${path.join(folder, name)}`);
    expect(first.stdout).toMatch(new RegExp(`^import: ${FILES.length} new, 0 changed, 0 unchanged, 0 rejected \\(\\d+ requests, \\d+ ms\\)$`, 'm'));

    const broken = path.join(folder, 'kaputt.txt');
    writeFileSync(broken, 'Nur ein Titel\n\nUnd ein Absatz ohne Datum.\n');
    const stadtfest = path.join(folder, 'lindenau-stadtfest.txt');
    writeFileSync(stadtfest, readFileSync(stadtfest, 'utf8').replace('mehr als 40 Bands', 'mehr als 45 Bands'));
    const again = await complete(['import', folder], data);
    expect(again.code).toBe(1);
    for (const name of FILES.filter((file) => file !== 'lindenau-stadtfest.txt')) {
      expect(lineOf(again.stdout, name), name).toBe(`unchanged ${path.join(folder, name)}`);
    }
    expect(lineOf(again.stdout, 'lindenau-stadtfest.txt')).toBe(`changed   ${stadtfest}`);
    expect(lineOf(again.stdout, 'kaputt.txt')).toBe(`rejected  ${broken}: text release kaputt.txt: no date (no line "Herausgegeben am … von:")`);
    expect(again.stdout).toMatch(new RegExp(`^import: 0 new, 1 changed, ${FILES.length - 1} unchanged, 1 rejected`, 'm'));
    expect(again.stderr).toContain(`rejected ${broken}`);
  });

  test('an import while the server runs on the same data folder shows in the server\'s feeds at once', SLOW, async (context) => {
    const { expect } = context;
    const { dataDir, releaseFolder, run, complete } = scope(context);
    // No sources here: nothing but the import changes the data while the server runs.
    const data = dataDir(null);
    const port = await freePort();
    const server = run(['serve'], data, port);
    await waitForOutput(server, /listening/, 45_000);
    const feedUrl = `http://127.0.0.1:${port}/feeds/all.json`;
    // Asked once before, so that the server holds a rendered feed that the import must make stale.
    const before = (await (await fetch(feedUrl)).json()) as { items: Array<{ title: string }> };
    expect(before.items).toEqual([]);

    const folder = releaseFolder();
    const imported = await complete(['import', path.join(folder, 'lindenau-stadtfest.txt'), path.join(folder, 'lindenau-gruenflaeche.md')], data);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^import: 2 new/m);

    const after = (await (await fetch(feedUrl)).json()) as { items: Array<{ title: string }> };
    expect(after.items.map((item) => item.title).sort()).toEqual(['Neue Grünfläche am Rathausplatz', 'Stadtfest 2026: drei Tage Musik auf dem Marktplatz']);
    expect(server.child.exitCode).toBeNull();
  });
});

describe.concurrent('herold refresh', () => {
  test('--source ID reads the first listing page and prints what it did; --backfill then follows the archive, plain progress off a terminal', SLOW, async (context) => {
    const { expect } = context;
    const { rathausUpstream, dataDir, complete } = scope(context);
    const upstream = await rathausUpstream();
    const data = dataDir(upstream);
    const first = await complete(['refresh', '--source', 'rathaus'], data);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^rathaus: 3 new, 0 changed, 0 unchanged, 0 rejected \(\d+ requests, \d+ ms\)$/m);
    expect(lineOf(first.stdout, `${upstream.url}/mitteilungen/2017-08-02-serap-gueler-zu-besuch.html`)).toMatch(/^new\s/);
    expect(upstream.hits('/seite-2.html')).toBe(0);
    expect(first.stderr).not.toContain('back-fill');

    const backfill = await complete(['refresh', '--source', 'rathaus', '--backfill'], data);
    expect(backfill.code, backfill.stderr).toBe(0);
    const progress = backfill.stderr.split('\n').filter((line) => line.startsWith('back-fill:'));
    expect(progress).toEqual([
      `back-fill: page 1, 3 releases so far (${upstream.url}/index.html)`,
      `back-fill: page 2, 5 releases so far (${upstream.url}/seite-2.html)`,
    ]);
    // No progress bar drawing (cursor movement, carriage returns) off a terminal.
    expect(backfill.stderr).not.toMatch(/\r|\u001b\[/);
    // The three pages read before answer 304 (unchanged); page 2's two releases are new.
    expect(backfill.stdout).toMatch(/^rathaus: 2 new, 0 changed, 3 unchanged, 0 rejected/m);
    expect(lineOf(backfill.stdout, `${upstream.url}/mitteilungen/2017-07-14-ratssitzung.html`)).toMatch(/^new\s/);
  });

  test('--source with an unknown id exits 2 naming it', SLOW, async (context) => {
    const { expect } = context;
    const { dataDir, complete } = scope(context);
    const data = dataDir(null);
    const unknown = await complete(['refresh', '--source', 'nope'], data);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`herold refresh: there is no source "nope" in ${data.config}`);
    expect(unknown.stdout).toBe('');
  });
});
