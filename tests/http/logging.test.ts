import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, test } from 'vitest';
import { LOG_BUFFER_BYTES } from '../../src/http/log.js';
import { CLI, cleanUpAfterEach, dataDir, environment, freePort, requireBuild, spawnCli, waitForOutput, type Exit, type Run } from '../helpers/cli.js';
import { startUpstream, status } from '../helpers/upstream.js';
import { until } from '../helpers/wait.js';

const { runs, dirs, upstreams } = cleanUpAfterEach();

beforeAll(requireBuild);

const PRESS_TOKEN = 'press-token-9f8e7d6c5b4a3210';
const API_TOKEN = 'author-token-0123456789abcdef';
/** The ids Herold makes: a per-process hex prefix and a counter. */
const GENERATED_ID = /^[0-9a-f]{8}-[0-9a-z]+$/;

/** One log line as written by the service. */
interface LogLine {
  readonly level: string;
  readonly time: string;
  readonly service: string;
  readonly pid: number;
  readonly hostname: string;
  readonly msg: string;
  readonly reqId?: string;
  readonly method?: string;
  readonly url?: string;
  readonly status?: number;
  readonly ms?: number;
  readonly remote?: string;
  readonly source?: string;
  readonly dropped?: number;
  readonly err?: { readonly message: string; readonly stack: string };
}

/** Every line of one output stream, parsed; a line that is not a JSON log line fails the test. */
function parseLines(output: string): LogLine[] {
  return output.split('\n').filter((line) => line !== '').map((line) => {
    const parsed = JSON.parse(line) as LogLine;
    expect(parsed, line).toMatchObject({ service: 'herold', pid: expect.any(Number), hostname: expect.any(String), msg: expect.any(String) });
    expect(new Date(parsed.time).toISOString(), line).toBe(parsed.time);
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], line).toContain(parsed.level);
    return parsed;
  });
}

/** `herold serve` on a fresh data folder with this environment and config file; resolves once it listens. */
async function startServer(extra: Record<string, string>, configFile?: unknown) {
  const dir = dataDir(dirs);
  if (configFile) writeFileSync(path.join(dir, 'herold.json'), JSON.stringify(configFile));
  const port = await freePort();
  const server = spawnCli(['serve'], environment(dir, port, extra), dir);
  runs.push(server);
  return { dir, port, server, base: `http://127.0.0.1:${port}` };
}

/** Resolves once `url` answers 200 (when start-up is not logged); rejects when the server ends or 15 s pass. */
async function answering(server: Run, url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const answer = await fetch(url);
      await answer.arrayBuffer();
      if (answer.ok) return;
    } catch {
      // Not listening yet.
    }
    if (server.child.exitCode !== null || Date.now() > deadline) throw new Error(`${url} did not answer\nstderr: ${server.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('herold serve logs JSON lines with request ids', () => {
  test('request lines carry the id answered in X-Request-Id, keep a sane incoming id, redact tokens, and are levelled by status; errors carry the stack', async () => {
    const upstream = await startUpstream({ '/feed.xml': status(404) });
    upstreams.push(upstream);
    const feedUrl = `${upstream.url}/feed.xml`;
    const { dir, server, base } = await startServer({ HEROLD_PRESS_TOKENS: PRESS_TOKEN, HEROLD_API_TOKENS: API_TOKEN },
      { sources: [{ id: 'kreis', type: 'feed', schedule: '0 5 * * *', url: feedUrl }] });
    await waitForOutput(server, /listening on/);

    // An upstream failure in the start-up refresh is a warning naming the source and the URL.
    await waitForOutput(server, /refresh: source kreis: /);

    const plain = await fetch(`${base}/feeds/all.rss`);
    expect(plain.status).toBe(200);
    await plain.arrayBuffer();
    const generated = plain.headers.get('x-request-id')!;
    expect(generated).toMatch(GENERATED_ID);

    const kept = await fetch(`${base}/healthz`, { headers: { 'X-Request-Id': 'trace-42.a:b_c-D' } });
    await kept.arrayBuffer();
    expect(kept.headers.get('x-request-id')).toBe('trace-42.a:b_c-D');

    const replaced: string[] = [];
    for (const insane of ['two words', 'a'.repeat(65), 'semi;colon', '{"json":1}']) {
      const answer = await fetch(`${base}/healthz`, { headers: { 'X-Request-Id': insane } });
      await answer.arrayBuffer();
      const id = answer.headers.get('x-request-id')!;
      expect(id, insane).toMatch(GENERATED_ID);
      replaced.push(id);
    }
    expect(new Set([generated, ...replaced]).size).toBe(5);

    const embargoed = await fetch(`${base}/feeds/embargoed.rss?limit=5&token=${PRESS_TOKEN}`);
    expect(embargoed.status).toBe(200);
    await embargoed.arrayBuffer();
    const encodedName = await fetch(`${base}/feeds/embargoed.json?%74oken=${PRESS_TOKEN}`);
    await encodedName.arrayBuffer();
    const authoring = await fetch(`${base}/api/v1/releases`, {
      method: 'POST', headers: { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' }, body: '{"title": ',
    });
    expect(authoring.status).toBe(400);
    await authoring.arrayBuffer();

    const missing = await fetch(`${base}/no/such/page?page=2`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    const missingId = missing.headers.get('x-request-id')!;

    // A broken database: the search index is gone, so a search fails with a 500.
    const db = new Database(path.join(dir, 'herold.db'));
    try {
      db.exec('DROP TABLE release_search');
    } finally {
      db.close();
    }
    const failing = await fetch(`${base}/search?q=Radweg`);
    expect(failing.status).toBe(500);
    await failing.arrayBuffer();
    const failingId = failing.headers.get('x-request-id')!;
    expect(failingId).toMatch(GENERATED_ID);

    await until(() => server.stderr().includes(`"status":500`), 5000, 'the 500 request line');
    await waitForOutput(server, new RegExp(`"reqId":"${missingId}"`));

    const out = parseLines(server.stdout());
    const err = parseLines(server.stderr());
    const all = [...out, ...err];
    const request = (id: string) => all.filter((line) => line.reqId === id && line.status !== undefined);

    // Start-up lines keep their text as the message.
    expect(out.map((line) => line.msg)).toContainEqual(expect.stringMatching(/^herold: listening on 127\.0\.0\.1:\d+, public at /));
    const refresh = out.find((line) => line.msg.startsWith('refresh: source kreis: '))!;
    expect(refresh).toMatchObject({ level: 'warn', source: 'kreis' });
    expect(refresh.msg).toContain(feedUrl);
    expect(refresh.msg).toContain('HTTP 404');

    // One line per request, with the id the client was given.
    expect(request(generated)).toEqual([expect.objectContaining({
      level: 'info', method: 'GET', url: '/feeds/all.rss', status: 200, ms: expect.any(Number), remote: '127.0.0.1', msg: 'GET /feeds/all.rss 200',
    })]);
    expect(request('trace-42.a:b_c-D')).toEqual([expect.objectContaining({ level: 'info', url: '/healthz', status: 200 })]);
    for (const id of replaced) expect(request(id)).toHaveLength(1);
    expect(all.filter((line) => line.url === '/healthz')).toHaveLength(5);

    // Tokens never reach the log, neither from the query nor from a header.
    for (const output of [server.stdout(), server.stderr()]) {
      expect(output).not.toContain(PRESS_TOKEN);
      expect(output).not.toContain(API_TOKEN);
    }
    expect(all.map((line) => line.url)).toContain('/feeds/embargoed.rss?limit=5&token=[redacted]');
    expect(all.map((line) => line.url)).toContain('/feeds/embargoed.json?%74oken=[redacted]');

    // Levels by status: 4xx warn on stdout, 5xx error on stderr with the error's stack under the same id.
    expect(request(missingId)).toEqual([expect.objectContaining({ level: 'warn', status: 404, url: '/no/such/page?page=2' })]);
    expect(out.filter((line) => line.method === 'POST')).toEqual([expect.objectContaining({ level: 'warn', status: 400, url: '/api/v1/releases' })]);
    const failed = err.filter((line) => line.reqId === failingId);
    expect(failed).toHaveLength(2);
    const [thrown, answered] = failed;
    expect(thrown).toMatchObject({ level: 'error', msg: expect.stringMatching(/^error: GET \/search\?q=Radweg: .*release_search/) });
    expect(thrown!.err!.stack).toMatch(/release_search[\s\S]*\n\s+at /);
    expect(answered).toMatchObject({ level: 'error', method: 'GET', url: '/search?q=Radweg', status: 500 });
    expect(out.some((line) => line.level === 'error')).toBe(false);
    expect(err.every((line) => line.level === 'error' || line.level === 'fatal')).toBe(true);
  }, 30_000);

  test('HEROLD_LOG_LEVEL=warn drops info lines: start-up and successful requests are not logged, a 404 is', async () => {
    const { server, base } = await startServer({ HEROLD_LOG_LEVEL: 'warn' });
    await answering(server, `${base}/healthz`);
    const ok = await fetch(`${base}/feeds/all.json`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    const missing = await fetch(`${base}/nothing-here`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    await waitForOutput(server, /"url":"\/nothing-here"/);
    const lines = parseLines(server.stdout());
    expect(lines.map((line) => line.level)).toEqual(['warn']);
    expect(lines[0]).toMatchObject({ status: 404, reqId: missing.headers.get('x-request-id') });
    expect(server.stdout()).not.toContain('listening');
  }, 30_000);

  test('a bad HEROLD_LOG_LEVEL stops start-up with exit code 1 naming the key', async () => {
    const { server } = await startServer({ HEROLD_LOG_LEVEL: 'verbose' });
    expect((await server.exit).code).toBe(1);
    expect(server.stderr()).toContain('configuration error: HEROLD_LOG_LEVEL');
    expect(server.stdout()).toBe('');
  }, 30_000);
});

/** The stream a test leaves unread, and requests that write large lines to it (the URL is in each line's message). */
const STALLS = [
  { stream: 'stdout', noteLevel: 'warn', linesPerRequest: 1, status: 404, path: (mark: string) => `/stalled/${mark}` },
  // A search fails (its index is dropped below), and each failure writes two lines to stderr: the error, the answer.
  { stream: 'stderr', noteLevel: 'error', linesPerRequest: 2, status: 500, path: (mark: string) => `/search?q=Radweg&stalled=${mark}` },
] as const;

describe('a log reader that stalls', () => {
  test.each(STALLS)('$stream holds at most LOG_BUFFER_BYTES: lines beyond are dropped, counted in /metrics and reported in $stream once it is read again; the service answers throughout', async ({ stream, noteLevel, linesPerRequest, status, path: pathOf }) => {
    const dir = dataDir(dirs);
    const port = await freePort();
    // Warn and worse only: while the stream is unread, nothing but the test's requests writes to it.
    const env = environment(dir, port, { HEROLD_LOG_LEVEL: 'warn' });
    const child = spawn(process.execPath, [CLI, 'serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { stdout: '', stderr: '' };
    const read = (name: 'stdout' | 'stderr') => child[name]!.setEncoding('utf8').on('data', (chunk: string) => { output[name] += chunk; });
    const other = stream === 'stdout' ? 'stderr' : 'stdout';
    read(other);
    const exit = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    const server: Run = { child, stdout: () => output.stdout, stderr: () => output.stderr, exit };
    runs.push(server);
    const base = `http://127.0.0.1:${port}`;
    await answering(server, `${base}/healthz`);
    if (stream === 'stderr') {
      const db = new Database(path.join(dir, 'herold.db'));
      try {
        db.exec('DROP TABLE release_search');
      } finally {
        db.close();
      }
    }

    // Nothing reads the stream: once its pipe is full, every line waits in the process. About 12 KB a line, 800
    // requests: more than twice what may wait.
    const requests = 800;
    const long = 'x'.repeat(6000);
    for (let start = 0; start < requests; start += 20) {
      await Promise.all(Array.from({ length: 20 }, async (_, offset) => {
        const answer = await fetch(`${base}${pathOf(`${start + offset}-${long}`)}`);
        expect(answer.status).toBe(status);
        await answer.arrayBuffer();
      }));
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const dropped = Number(/^herold_log_lines_dropped_total (\d+)$/m.exec(metrics)?.[1]);
    expect(dropped).toBeGreaterThan(0);
    expect((await fetch(`${base}/feeds/all.json`)).status).toBe(200);

    // Read again: what waited arrives, then a line naming the number dropped, then new lines as usual.
    read(stream);
    const unread = () => output[stream];
    const arrived = async (pattern: RegExp) => {
      for (const deadline = Date.now() + 10_000; !pattern.test(unread());) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${stream}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    await arrived(/lines dropped while/);
    const after = await fetch(`${base}${pathOf('after')}`);
    expect(after.status).toBe(status);
    await after.arrayBuffer();
    await arrived(/stalled=after|stalled\/after/);

    const raw = unread().split('\n').filter((line) => line.includes('stalled') && !line.includes('stalled/after') && !line.includes('stalled=after'));
    const lines = parseLines(unread());
    const stalled = lines.filter((line) => line.msg.includes('stalled') && !line.msg.includes('after'));
    expect(stalled).toHaveLength(raw.length);
    // No line is lost without being counted, and none arrives cut (each parses) or twice.
    expect(stalled.length + dropped).toBe(requests * linesPerRequest);
    expect(new Set(stalled.map((line) => line.msg)).size).toBe(stalled.length);
    expect(stalled.every((line) => line.msg.includes(long))).toBe(true);
    // Bounded: what arrived is what waited in the process plus what the pipe held, far less than what was logged.
    expect(raw.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0)).toBeLessThan(LOG_BUFFER_BYTES + 1024 * 1024);
    const notes = lines.filter((line) => line.msg.includes('lines dropped'));
    expect(notes).toEqual([expect.objectContaining({
      level: noteLevel, dropped, msg: expect.stringMatching(new RegExp(`^log: ${dropped} lines dropped while ${stream} was not being read`)),
    })]);
    // The note comes after every line kept, before the lines logged once the reader came back.
    expect(lines.indexOf(notes[0]!)).toBeGreaterThan(lines.indexOf(stalled.at(-1)!));
    expect(lines.at(-1)!.msg).toContain('after');
    expect(output[other]).not.toContain('lines dropped');
  }, 60_000);
});
