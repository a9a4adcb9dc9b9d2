import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as cheerio from 'cheerio';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { refreshSource } from '../../src/ingest/refresh.js';
import { redactSecrets, weeklyCounts } from '../../src/pages/status-page.js';
import { BASE_URL, createTestApp, FIXTURES, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';
import { startUpstream, status, type Upstream } from '../helpers/upstream.js';

const NOW = new Date('2026-11-25T12:00:00.000Z');
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const SECRET = 'geheim-passwort';
const TOKEN = 'abc123-upstream-token';

const apps: TestApp[] = [];
const dirs: string[] = [];
const upstreams: Upstream[] = [];
afterEach(async () => {
  while (apps.length) apps.pop()!.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  for (const upstream of upstreams.splice(0)) await upstream.close();
});

/**
 * An app with three sources: a folder of release files ("ordner"), an upstream feed that answers 404 and is
 * configured with credentials in its query ("agentur"), and one that never ran ("archiv").
 */
async function statusApp(): Promise<TestApp> {
  const upstream = await startUpstream({ '/feed.xml': status(404) });
  upstreams.push(upstream);
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-status-'));
  dirs.push(dir);
  const folder = path.join(dir, 'mitteilungen');
  mkdirSync(folder);
  for (const name of ['lindenau-radweg.txt', 'lindenau-stadtfest.txt', 'lindenau-buergerbuero.md']) {
    cpSync(path.join(FIXTURES, 'files', name), path.join(folder, name));
  }
  writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({
    sources: [
      { id: 'ordner', type: 'files', schedule: '*/10 * * * *', path: folder },
      { id: 'agentur', type: 'feed', schedule: '0 * * * *', url: `${upstream.url}/feed.xml?api_token=${TOKEN}&format=rss&key=${SECRET}` },
      { id: 'archiv', type: 'files', schedule: '0 3 * * *', path: path.join(dir, 'archiv') },
    ],
  }));
  const t = createTestApp({ dir, now: NOW });
  apps.push(t);
  return t;
}

function deps(t: TestApp) {
  return { config: t.config, store: t.store, clock: () => t.now, log: (line: string) => t.logs.push(line) };
}

async function refresh(t: TestApp, id: string, at: Date) {
  t.now = at;
  return refreshSource(t.config.sources.find((source) => source.id === id)!, deps(t));
}

/** Runs over the last days: "ordner" twice (new, then unchanged) and once 8 days ago, "agentur" failing twice. */
async function withRuns(): Promise<TestApp> {
  const t = await statusApp();
  // Eight days ago: outside the week shown, still counted in the source's totals.
  expect((await refresh(t, 'agentur', new Date(NOW.getTime() - 8 * DAY))).ok).toBe(false);
  expect((await refresh(t, 'ordner', new Date(NOW.getTime() - 2 * DAY))).new).toBe(3);
  expect((await refresh(t, 'ordner', new Date(NOW.getTime() - HOUR))).unchanged).toBe(3);
  expect((await refresh(t, 'agentur', new Date(NOW.getTime() - 30 * 60 * 1000))).ok).toBe(false);
  t.now = NOW;
  return t;
}

describe('GET /status', () => {
  test('an HTML page through the layout, never cached, for every configured source: state, last success, last error, counts', async () => {
    const t = await withRuns();
    const res = await request(t.app).get('/status').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const $ = cheerio.load(res.text);
    expect($('html').attr('lang')).toBe('de');
    expect($('h1').text()).toBe('Status der Quellen');
    expect($('link[rel="canonical"]').attr('href')).toBe(`${BASE_URL}/status`);
    expect($('meta[name="robots"]').attr('content')).toBe('noindex');
    expect($(`a[href="${BASE_URL}/status.json"]`).text()).toBe('Diese Angaben als JSON');

    const heading = (id: string) => $(`#quelle-${id}`).text();
    expect(heading('ordner')).toBe('ordner (Dateien): in Ordnung');
    expect(heading('agentur')).toBe('agentur (Feed): gestört');
    expect(heading('archiv')).toBe('archiv (Dateien): noch nie abgerufen');

    const facts = (id: string) => Object.fromEntries($(`#quelle-${id}`).closest('section').find('dt').toArray()
      .map((dt) => [$(dt).text(), $(dt).next('dd').text()]));
    expect(facts('ordner')).toEqual({
      'Zeitplan (cron)': '*/10 * * * *',
      'Letzter Abruf': '25.11.2026, 12:00 Uhr',
      'Letzter erfolgreicher Abruf': '25.11.2026, 12:00 Uhr',
      'Letzter erfolgreicher Lauf': '0 neu, 0 geändert, 3 unverändert, 0 abgelehnt',
      'Letzter Fehler': 'keiner',
      Fehler: '0 in Folge, 0 insgesamt',
      'Letzte 7 Tage': '2 Abrufe, davon 0 fehlgeschlagen',
      'Veröffentlichte Mitteilungen': '3',
    });
    const agentur = facts('agentur');
    expect(agentur['Letzter erfolgreicher Abruf']).toBe('nie');
    expect(agentur['Letzter Fehler']).toMatch(/^25\.11\.2026, 12:30 Uhr: source agentur: GET http:\/\/127\.0\.0\.1:\d+\/feed\.xml\?api_token=…&format=rss&key=…: .*404/);
    expect(agentur.Fehler).toBe('2 in Folge, 2 insgesamt');
    expect(agentur['Letzte 7 Tage']).toBe('1 Abruf, davon 1 fehlgeschlagen');
    expect(facts('archiv')['Letzter Abruf']).toBe('nie');

    // The runs of the last 7 days, newest first; the one 8 days ago is not among them.
    const rows = $('table.runs tbody tr').toArray().map((row) => $(row).find('td').toArray().map((cell) => $(cell).text()));
    expect(rows.map((row) => row.slice(0, 6))).toEqual([
      ['25.11.2026, 12:30 Uhr', 'agentur', 'fehlgeschlagen', '0', '0', '0'],
      ['25.11.2026, 12:00 Uhr', 'ordner', 'erfolgreich', '0', '0', '0'],
      ['23.11.2026, 13:00 Uhr', 'ordner', 'erfolgreich', '3', '0', '0'],
    ]);
    expect($('table.runs th').first().attr('scope')).toBe('col');

    // No secret of a source anywhere: none of its credentials, nor its folder.
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain(TOKEN);
    expect(res.text).not.toContain(t.dir);
  });

  test('releases per week over 52 weeks: an accessible SVG chart with a data table, no script, no font, nothing loaded', async () => {
    const t = await statusApp();
    t.store.upsertReleases([
      input({ guid: 'w1', title: 'Diese Woche, Montag früh', publishedAt: '2026-11-22T23:30:00.000Z' }),
      input({ guid: 'w2', title: 'Diese Woche', publishedAt: '2026-11-25T08:00:00.000Z' }),
      input({ guid: 'w3', title: 'Letzte Woche, Sonntagabend', publishedAt: '2026-11-22T22:30:00.000Z' }),
      input({ guid: 'w4', title: 'Vor einem halben Jahr', publishedAt: '2026-05-20T08:00:00.000Z' }),
      input({ guid: 'w5', title: 'Vor über einem Jahr', publishedAt: '2025-11-01T08:00:00.000Z' }),
      input({ guid: 'w6', title: 'Sperrfrist läuft noch', publishedAt: '2026-11-25T09:00:00.000Z', embargoUntil: '2026-11-26T09:00:00.000Z' }),
      input({ guid: 'w7', title: 'Zurückgezogen', publishedAt: '2026-11-24T09:00:00.000Z', status: 'withdrawn' }),
    ], { now: new Date('2026-11-25T10:00:00.000Z') });
    const res = await request(t.app).get('/status').expect(200);
    const $ = cheerio.load(res.text);

    const svg = $('svg.chart');
    expect(svg).toHaveLength(1);
    expect(svg.attr('role')).toBe('img');
    expect(svg.attr('aria-labelledby')).toBe('chart-title chart-desc');
    expect(svg.find('title#chart-title').text()).toBe('Veröffentlichte Pressemitteilungen pro Woche, letzte 52 Wochen');
    expect(svg.find('desc#chart-desc').text()).toBe('Insgesamt 4 in 52 Wochen; höchstens 2 in einer Woche.');
    const bars = svg.find('rect.bar').toArray();
    expect(bars).toHaveLength(52);
    expect($(bars.at(-1)).find('title').text()).toBe('KW 48/2026: 2');
    expect($(bars.at(-2)).find('title').text()).toBe('KW 47/2026: 1');
    expect($(bars[0]).find('title').text()).toBe('KW 49/2025: 0');
    // The tallest bar reaches the top of the plot; an empty week has no height.
    expect(Number($(bars.at(-1)).attr('height'))).toBeGreaterThan(Number($(bars.at(-2)).attr('height')));
    expect($(bars[0]).attr('height')).toBe('0');

    const table = $('details table.weeks');
    expect($('details summary').text()).toBe('Die Zahlen als Tabelle');
    const rows = table.find('tbody tr').toArray().map((row) => [$(row).find('th').text(), $(row).find('td').first().text(), $(row).find('td').last().text()]);
    expect(rows).toHaveLength(52);
    expect(rows.at(-1)).toEqual(['KW 48/2026', '23.11.2026', '2']);
    expect(rows.filter((row) => row[2] !== '0').map((row) => row[0])).toEqual(['KW 21/2026', 'KW 47/2026', 'KW 48/2026']);

    // Readable without JavaScript, and nothing from elsewhere: no script but the JSON-LD, no stylesheet, no font.
    expect($('script').toArray().every((script) => $(script).attr('type') === 'application/ld+json')).toBe(true);
    expect($('link[rel="stylesheet"], link[rel="preload"], iframe, img')).toHaveLength(0);
    expect(res.text).not.toMatch(/@font-face|@import|url\(/);
    // No release under embargo is counted or named.
    expect(res.text).not.toContain('Sperrfrist läuft noch');
  });

  test('without any source or release it still answers', async () => {
    const t = createTestApp({ now: NOW });
    apps.push(t);
    const $ = cheerio.load((await request(t.app).get('/status').expect(200)).text);
    expect($('main').text()).toContain('Es sind keine Quellen eingerichtet.');
    expect($('main').text()).toContain('In den letzten 7 Tagen wurde keine Quelle abgerufen.');
    expect($('svg.chart rect.bar')).toHaveLength(52);
  });
});

describe('GET /status.json', () => {
  test('the same facts as JSON, never cached, with no secret', async () => {
    const t = await withRuns();
    const res = await request(t.app).get('/status.json').expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain(TOKEN);
    expect(res.text).not.toContain(t.dir);
    const body = JSON.parse(res.text);
    expect(body.generated_at).toBe(NOW.toISOString());
    expect(body.releases).toEqual({ published: 3, newest_published_at: expect.any(String) });
    expect(body.sources.map((source: { id: string; state: string }) => [source.id, source.state]))
      .toEqual([['ordner', 'ok'], ['agentur', 'failing'], ['archiv', 'never']]);
    expect(body.sources[0]).toMatchObject({
      type: 'files', schedule: '*/10 * * * *', last_success_at: new Date(NOW.getTime() - HOUR).toISOString(), last_error: null, runs: 2, releases: 3,
      last_run: { new: 0, changed: 0, unchanged: 3, rejected: 0 },
      last_7_days: { runs: 2, ok: 2, failed: 0, new: 3, changed: 0, rejected: 0 },
    });
    expect(body.sources[1]).toMatchObject({ consecutive_errors: 2, error_count: 2, runs: 2, last_run: null, last_7_days: { runs: 1, failed: 1 } });
    expect(body.sources[1].last_error).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/feed\.xml\?api_token=…&format=rss&key=…: /);
    expect(body.sources[2]).toMatchObject({ last_attempt_at: null, runs: 0, releases: 0, last_run: null });
    expect(body.runs.total).toBe(3);
    expect(body.runs.items.map((run: { source_id: string; ok: boolean; new: number }) => [run.source_id, run.ok, run.new]))
      .toEqual([['agentur', false, 0], ['ordner', true, 0], ['ordner', true, 3]]);
    expect(body.runs.items[2].started_at).toBe(new Date(NOW.getTime() - 2 * DAY).toISOString());
    expect(body.weeks).toHaveLength(52);
    expect(body.weeks.at(-1)).toEqual({ week: '2026-W48', starts_on: '2026-11-23', count: expect.any(Number) });
    expect(body.weeks.reduce((sum: number, week: { count: number }) => sum + week.count, 0)).toBe(3);
  });
});

describe('the run history', () => {
  test('each refresh writes one row in its own transaction; rows older than 30 days go', async () => {
    const t = await withRuns();
    expect(t.store.sourceRuns(new Date(0), 100)).toHaveLength(4);
    t.store.recordRun({ sourceId: 'ordner', finishedAt: new Date(NOW.getTime() + 31 * DAY), ok: true, requests: 0, durationMs: 5 });
    expect(t.store.sourceRuns(new Date(0), 100).map((run) => run.startedAt)).toEqual([new Date(NOW.getTime() + 31 * DAY - 5).toISOString()]);
  });
});

describe('pure parts', () => {
  test('redactSecrets removes credentials from URLs and the values of secret-looking parameters', () => {
    expect(redactSecrets('GET https://user:pw@example.org/a?token=x1&page=2&apiKey=y&sig=z: 404'))
      .toBe('GET https://…@example.org/a?token=…&page=2&apiKey=…&sig=…: 404');
    expect(redactSecrets('listing https://example.org/presse/: link_selector "a" matches no link'))
      .toBe('listing https://example.org/presse/: link_selector "a" matches no link');
  });

  test('weeklyCounts: Monday to Sunday on the Berlin clock, oldest first, the current week last', () => {
    const weeks = weeklyCounts(['2026-11-22T23:30:00.000Z', '2026-11-22T22:59:59.000Z', '2026-03-29T22:30:00.000Z'], NOW, 40);
    expect(weeks).toHaveLength(40);
    expect(weeks.at(-1)).toEqual({ year: 2026, week: 48, start: '2026-11-23', count: 1 });
    expect(weeks.at(-2)).toEqual({ year: 2026, week: 47, start: '2026-11-16', count: 1 });
    // Monday 30 March 2026, 00:30 in summer time is week 14.
    expect(weeks.find((week) => week.week === 14)).toEqual({ year: 2026, week: 14, start: '2026-03-30', count: 1 });
  });
});
