/**
 * Refresh benchmark: an upstream with 5,000 releases (BENCH_UPSTREAM_RELEASES) served from a worker
 * thread on 127.0.0.1, as one feed and as a website of 100 listing pages and 5,000 release pages.
 * Measures the first import and a refresh when nothing changed: time, requests made, rows written.
 * Prints figures; asserts nothing. Run with `npm run bench:refresh`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/open.js';
import { createStore } from '../src/db/store.js';
import { refreshSource, type RefreshReport } from '../src/ingest/refresh.js';

const COUNT = Number(process.env.BENCH_UPSTREAM_RELEASES ?? 5000);
const PER_PAGE = 50;

/** The upstream, in a worker thread so that serving does not share the refresh's event loop. */
function serveUpstream(count: number): void {
  const day = (index: number) => new Date(Date.UTC(2020, 0, 1) + index * 3_600_000);
  const etag = (key: string) => `"${key}"`;
  const item = (index: number) => `<item><title>Mitteilung ${index}: Straßenbau &amp; Grünflächen</title>`
    + `<link>/presse/${index}.html</link><guid isPermaLink="false">bench-${index}</guid><pubDate>${day(index).toUTCString()}</pubDate>`
    + `<description>Kurzfassung ${index}</description><content:encoded><![CDATA[<p>Die Stadt informiert über Vorhaben ${index}.</p>`
    + '<p>Weitere Informationen gibt es im Bürgerbüro am Markt.</p>]]></content:encoded><category>Verkehr</category></item>';
  const feed = `<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">`
    + `<channel><title>Bench</title><link>/</link><description>Bench</description>${Array.from({ length: count }, (_, i) => item(i)).join('')}</channel></rss>`;
  const pages = Math.ceil(count / PER_PAGE);
  const listing = (page: number) => {
    const links = Array.from({ length: Math.min(PER_PAGE, count - (page - 1) * PER_PAGE) }, (_, i) => {
      const index = count - 1 - ((page - 1) * PER_PAGE + i);
      return `<li><a class="link" href="/presse/${index}.html">Mitteilung ${index}</a></li>`;
    }).join('');
    const next = page < pages ? `<a class="next" href="/liste/${page + 1}.html">Weiter</a>` : '';
    return `<!doctype html><html><head><meta charset="utf-8"></head><body><ul>${links}</ul>${next}</body></html>`;
  };
  const release = (index: number) => `<!doctype html><html><head><meta charset="utf-8"><title>x</title></head><body><article>`
    + `<h1>Mitteilung ${index}: Straßenbau &amp; Grünflächen</h1><p class="date">Herausgegeben am ${day(index).toISOString().slice(8, 10)}.`
    + `${day(index).toISOString().slice(5, 7)}.${day(index).toISOString().slice(0, 4)} von:</p><div class="text"><p>Die Stadt informiert über Vorhaben ${index}.</p>`
    + '<p>Weitere Informationen gibt es im Bürgerbüro am Markt.</p></div></article></body></html>';
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const url = req.url ?? '/';
    let body: string | null = null;
    let key = url;
    if (url === '/feed.xml' || url === '/feed-plain.xml') body = feed;
    else if (/^\/liste\/\d+\.html$/.test(url)) body = listing(Number(url.match(/\d+/)![0]));
    else if (/^\/presse\/\d+\.html$/.test(url)) body = release(Number(url.match(/\d+/)![0]));
    else if (url === '/requests') {
      res.end(String(requests));
      return;
    }
    key = `v1-${key.replace(/\W/g, '')}`;
    if (body === null) {
      res.writeHead(404).end();
      return;
    }
    if (url === '/feed-plain.xml') {
      // An upstream without validators: every refresh reads and compares the whole feed.
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(body);
      return;
    }
    if (req.headers['if-none-match'] === etag(key)) {
      res.writeHead(304, { etag: etag(key) }).end();
      return;
    }
    res.writeHead(200, { 'content-type': url.endsWith('.xml') ? 'application/rss+xml' : 'text/html; charset=utf-8', etag: etag(key) }).end(body);
  });
  server.listen(0, '127.0.0.1', () => parentPort!.postMessage((server.address() as AddressInfo).port));
}

/** One measured run: which source, which kind of run, and what it cost. */
export interface RefreshRow {
  readonly source: string;
  readonly label: string;
  readonly seconds: number;
  readonly requests: number;
  readonly rows: number;
  readonly report: RefreshReport;
}

const RUNS = [['first import', true], ['no-change refresh', false], ['no-change back-fill', true]] as const;

/** Runs the chosen sources' chosen runs (all by default) against a fresh database; `each` sees every row as it is measured. */
export async function runRefreshBench(sources?: readonly string[], runs?: readonly string[], each: (row: RefreshRow) => void = () => {}): Promise<RefreshRow[]> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { count: COUNT } });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const upstream = `http://127.0.0.1:${port}`;
  // The count includes the asking requests themselves: one per call.
  let asked = 0;
  const requestsSoFar = async () => Number(await (await fetch(`${upstream}/requests`)).text()) - ++asked;
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-bench-refresh-'));
  try {
    writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({ sources: [
      { id: 'feed', type: 'feed', schedule: '*/15 * * * *', url: `${upstream}/feed.xml`, max_bytes: 50 * 1024 * 1024 },
      { id: 'feed-plain', type: 'feed', schedule: '*/15 * * * *', url: `${upstream}/feed-plain.xml`, max_bytes: 50 * 1024 * 1024 },
      { id: 'site', type: 'html', schedule: '*/15 * * * *', listing_url: `${upstream}/liste/1.html`, link_selector: 'a.link',
        next_selector: 'a.next', title_selector: 'h1', body_selector: 'div.text', date_selector: 'p.date',
        date_format: "'Herausgegeben am' dd.MM.yyyy 'von:'", max_pages: 1000 },
    ] }));
    const config = loadConfig({ HEROLD_DATA_DIR: dir, HEROLD_BASE_URL: 'https://presse.lindenau.example' }, dir);
    const db = openDatabase(config.databaseFile);
    const store = createStore(db);
    const changes = db.prepare('SELECT total_changes()').pluck();
    const rowsMeasured: RefreshRow[] = [];
    for (const source of config.sources.filter((candidate) => !sources || sources.includes(candidate.id))) {
      for (const [label, backfill] of RUNS.filter(([name]) => !runs || runs.includes(name))) {
        const requestsBefore = await requestsSoFar();
        const rowsBefore = changes.get() as number;
        const start = performance.now();
        const report = await refreshSource(source, { config, store, log: () => {} }, { backfill });
        const seconds = (performance.now() - start) / 1000;
        const requests = (await requestsSoFar()) - requestsBefore;
        // Every run writes source_state three times (lease taken, counts, lease given back) and one row of run
        // history; the rest is release data (with what SQLite's triggers and the search index write for it).
        const rows = (changes.get() as number) - rowsBefore - 4;
        const row = { source: source.id, label, seconds, requests, rows, report };
        rowsMeasured.push(row);
        each(row);
      }
    }
    db.close();
    return rowsMeasured;
  } finally {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`Herold refresh benchmark — node ${process.version}, upstream of ${COUNT} releases on 127.0.0.1`);
  await runRefreshBench(undefined, undefined, ({ source, label, seconds, requests, rows, report }) => {
    console.log(`${source.padEnd(10)} ${label.padEnd(19)}: ${seconds.toFixed(2)} s, ${requests} requests, `
      + `${rows} rows written (${report.new} new, ${report.changed} changed, ${report.unchanged} unchanged, ${report.rejected.length} rejected)`);
  });
}

if (!isMainThread) serveUpstream((workerData as { count: number }).count);
else if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
