import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Upstream } from './upstream.js';

export const REPO = path.resolve(import.meta.dirname, '../..');
/** The command line as shipped: compiled by `npm run build`, which `npm test` runs first. */
export const CLI = path.join(REPO, 'dist', 'src', 'cli.js');

/** Fails clearly when the compiled command line is missing. */
export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
}

/** How a process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `node dist/src/cli.js …` with its output so far. */
export interface Run {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exit: Promise<Exit>;
}

/** Starts the command line with exactly this environment; stdout and stderr are pipes, not a terminal. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Run {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const exit = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Kills a process that is still running and waits for its end. */
export async function kill(started: Run): Promise<void> {
  if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
  await started.exit;
}

/** A port nothing listens on now: the kernel's pick for port 0, released again. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once stdout matches; rejects when the process ends first or the time runs out. */
export async function waitForOutput(started: Run, pattern: RegExp, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let ended = false;
  void started.exit.then(() => { ended = true; });
  while (!pattern.test(started.stdout())) {
    if (ended || Date.now() > deadline) {
      throw new Error(`no ${pattern} ${ended ? 'before the process ended' : `within ${ms} ms`}\nstdout: ${started.stdout()}\nstderr: ${started.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The base URL the spawned command line is told to use. */
export const BASE_URL = 'http://herold.test';

/** A fresh data folder (recorded in `dirs` for removal) with copies of the sample releases and media, and no database. */
export function dataDir(dirs: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-cli-'));
  dirs.push(dir);
  cpSync(path.join(REPO, 'data', 'samples'), path.join(dir, 'samples'), { recursive: true });
  cpSync(path.join(REPO, 'data', 'media'), path.join(dir, 'media'), { recursive: true });
  return dir;
}

/**
 * Only what the CLI reads, so the environment of whoever runs the tests cannot leak in. Rate limits are
 * off unless `extra` sets them: every request of a test comes from the same address.
 */
export function environment(dir: string, port: number | null, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '', HEROLD_DATA_DIR: dir, HOST: '127.0.0.1', HEROLD_BASE_URL: BASE_URL,
    HEROLD_RATE_LIMIT_API: '0', HEROLD_RATE_LIMIT_SEARCH: '0',
    ...(port === null ? {} : { PORT: String(port) }), ...extra,
  };
}

/** What a test file starts (command-line runs, fixture upstreams, folders): each is ended or removed after every test. */
export function cleanUpAfterEach(): { runs: Run[]; dirs: string[]; upstreams: Upstream[] } {
  const started = { runs: [] as Run[], dirs: [] as string[], upstreams: [] as Upstream[] };
  afterEach(async () => {
    for (const run of started.runs.splice(0)) await kill(run);
    for (const upstream of started.upstreams.splice(0)) await upstream.close();
    for (const dir of started.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return started;
}

/** Starts a server on a free port of 127.0.0.1; resolves to its base URL. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
