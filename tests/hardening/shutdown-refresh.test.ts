import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { refreshSource } from '../../src/ingest/refresh.js';
import { createTestApp, FIXTURES, type TestApp } from '../helpers/app.js';
import { environment, freePort, kill, requireBuild, spawnCli, waitForOutput, type Run } from '../helpers/cli.js';
import { drip, hang, startUpstream, type Upstream } from '../helpers/upstream.js';
import { until } from '../helpers/wait.js';

const ADMIN = 'operations-token-0123456789';
const PNG = readFileSync(path.join(FIXTURES, 'media', 'bild-ohne-endung'));

/** An upstream agency's feed: one release with an image. */
const FEED = `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Agentur</title><link>/presse/</link><description>Meldungen</description>
<item><title>Neue Ampel an der Jülicher Straße</title><link>/presse/ampel</link><guid isPermaLink="false">agentur-2026-1</guid>
<pubDate>Tue, 24 Nov 2026 09:30:00 +0100</pubDate><description>Die Stadt baut eine Ampel an der Kreuzung.</description>
<media:content url="/bilder/ampel.png" type="image/png"/></item>
</channel></rss>`;
const RSS = { 'content-type': 'application/rss+xml; charset=utf-8' };
/** The feed, one byte every 250 ms: its whole body would take minutes. */
const SLOW_FEED = drip(FEED, 250);

const runs: Run[] = [];
const upstreams: Upstream[] = [];
const dirs: string[] = [];
const apps: TestApp[] = [];

beforeAll(requireBuild);

afterEach(async () => {
  for (const run of runs.splice(0)) await kill(run);
  for (const upstream of upstreams.splice(0)) await upstream.close();
  for (const t of apps.splice(0)) t.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function agency(routes: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  const upstream = await startUpstream(routes);
  upstreams.push(upstream);
  return upstream;
}

/** A data folder whose config file has one feed source on `url`, scheduled once a year (so only start-up and the API run it). */
function dataFolder(url: string): { dir: string; config: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-shutdown-'));
  dirs.push(dir);
  const config = path.join(dir, 'herold.json');
  writeFileSync(config, JSON.stringify({ sources: [{ id: 'agentur', type: 'feed', schedule: '0 3 1 1 *', url, timeout_ms: 600_000 }] }));
  return { dir, config };
}

/** The n-th request for the feed (the image is asked for in between). */
function feedRequest(upstream: Upstream, index: number) {
  return upstream.requests.filter((request) => request.path === '/feed.xml')[index]!;
}

/** What the database holds of the source, read after the process has ended. */
function inspect(dir: string) {
  const db = new Database(path.join(dir, 'herold.db'), { readonly: true });
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      state: db.prepare('SELECT running_until, consecutive_errors, error_count, last_error, last_success_at, last_attempt_at FROM source_state WHERE source_id = ?').get('agentur') as
        { running_until: string | null; consecutive_errors: number; error_count: number; last_error: string | null; last_success_at: string | null; last_attempt_at: string | null },
      failedRuns: db.prepare('SELECT count(*) FROM source_runs WHERE source_id = ? AND ok = 0').pluck().get('agentur'),
      releases: db.prepare('SELECT title FROM releases WHERE source_id = ?').pluck().all('agentur'),
      probes: db.prepare('SELECT count(*) FROM media_probes').pluck().get(),
    };
  } finally {
    db.close();
  }
}

describe('a refresh under way when the service shuts down', () => {
  test('SIGTERM cancels the start-up refresh of a slow upstream and the API\'s: exit 0, nothing half-stored, no error counted, the next refresh completes', async () => {
    const upstream = await agency({ '/feed.xml': SLOW_FEED, '/bilder/ampel.png': { body: PNG, headers: { 'content-type': 'image/png' } } });
    const { dir, config } = dataFolder(`${upstream.url}/feed.xml`);
    const env = (port: number) => environment(dir, port, { HEROLD_CONFIG: config, HEROLD_ADMIN_TOKEN: ADMIN, HEROLD_SHUTDOWN_TIMEOUT_MS: '30000' });

    // 1. The start-up catch-up asks the slow feed; SIGTERM arrives while its body is still dripping.
    const first = spawnCli(['serve'], env(await freePort()), dir);
    runs.push(first);
    await waitForOutput(first, /listening/);
    await until(() => upstream.hits('/feed.xml') === 1, 10_000, 'the start-up refresh\'s request');
    first.child.kill('SIGTERM');
    expect(await first.exit).toEqual({ code: 0, signal: null });
    // Herold hung up: the upstream never got to send the whole body.
    expect(await feedRequest(upstream, 0).completed).toBe(false);
    expect(first.stdout() + first.stderr()).toMatch(/source agentur: cancelled after 1 requests \(Herold is shutting down\); nothing stored/);
    let db = inspect(dir);
    expect(db.integrity).toBe('ok');
    // The lease is given back, and a cancel is no upstream error.
    // A cancelled run was no attempt: the source is still due at the next start.
    expect(db.state).toMatchObject({ running_until: null, consecutive_errors: 0, error_count: 0, last_error: null, last_success_at: null, last_attempt_at: null });
    expect(db.failedRuns).toBe(0);
    expect(db.releases).toEqual([]);

    // 2. After a restart the upstream is fast again: the start-up catch-up refreshes the source (the lease is free).
    upstream.set('/feed.xml', { body: FEED, headers: RSS });
    const port = await freePort();
    const second = spawnCli(['serve'], env(port), dir);
    runs.push(second);
    await waitForOutput(second, /listening/);
    await until(() => inspect(dir).releases.length === 1, 15_000, 'the start-up refresh after the restart');
    expect(upstream.hits('/feed.xml')).toBe(2);
    const refresh = () => fetch(`http://127.0.0.1:${port}/api/v1/sources/agentur/refresh`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}` } });

    // 3. A refresh asked for through the API, cut short by SIGTERM: the request is answered, the process does not wait for the upstream.
    upstream.set('/feed.xml', SLOW_FEED);
    const pending = refresh();
    await until(() => upstream.hits('/feed.xml') === 3, 10_000, 'the API refresh\'s request');
    second.child.kill('SIGTERM');
    const answer = await pending;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect((await answer.json() as { detail: string }).detail).toMatch(/cancelled.*Herold is shutting down/);
    expect(await second.exit).toEqual({ code: 0, signal: null });
    expect(await feedRequest(upstream, 2).completed).toBe(false);
    // Not cut by the shutdown timeout: the request ended with its refresh.
    expect(second.stderr()).not.toContain('still running after');
    db = inspect(dir);
    expect(db.integrity).toBe('ok');
    expect(db.state).toMatchObject({ running_until: null, consecutive_errors: 0, error_count: 0, last_error: null });
    expect(db.failedRuns).toBe(0);
    // What the completed refresh stored is still there.
    expect(db.releases).toEqual(['Neue Ampel an der Jülicher Straße']);
  }, 30_000);

  test('cancelled while probing: no release and no half-made probe is stored, the lease is free and the next run stores both', async () => {
    const upstream = await agency({ '/feed.xml': { body: FEED, headers: RSS }, '/bilder/ampel.png': hang() });
    const { dir } = dataFolder(`${upstream.url}/feed.xml`);
    const t = createTestApp({ dir });
    apps.push(t);
    const source = t.config.sources[0]!;
    const logs: string[] = [];
    const controller = new AbortController();
    const run = refreshSource(source, { config: t.config, store: t.store, log: (line) => logs.push(line), signal: controller.signal });
    await until(() => upstream.hits('/bilder/ampel.png') === 1, 10_000, 'the image probe');
    controller.abort(new Error('Herold is shutting down'));
    const report = await run;
    expect(report).toMatchObject({ ok: false, cancelled: true, new: 0 });
    expect(report.error).toMatch(/cancelled after 2 requests/);
    expect(logs.join('\n')).toContain('source agentur: cancelled');
    expect(t.store.probeOf(`${upstream.url}/bilder/ampel.png`)).toBeUndefined();
    expect(t.store.sourceState('agentur')).toMatchObject({ runningUntil: null, consecutiveErrors: 0, errorCount: 0, lastError: null });
    expect(inspect(dir).releases).toEqual([]);

    // A run with an aborted signal does not start at all.
    expect(await refreshSource(source, { config: t.config, store: t.store, signal: controller.signal })).toMatchObject({ cancelled: true, requests: 0 });
    expect(upstream.hits('/feed.xml')).toBe(1);

    upstream.set('/bilder/ampel.png', { body: PNG, headers: { 'content-type': 'image/png' } });
    const next = await refreshSource(source, { config: t.config, store: t.store });
    expect(next).toMatchObject({ ok: true, cancelled: false, new: 1 });
    expect(t.store.probeOf(`${upstream.url}/bilder/ampel.png`)).toMatchObject({ mime: 'image/png', error: null });
    expect(inspect(dir)).toMatchObject({ releases: ['Neue Ampel an der Jülicher Straße'], probes: 1 });
  });
});
