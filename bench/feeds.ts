/**
 * Feed benchmark: a cold render and cached requests of /feeds/all.rss over real HTTP on 127.0.0.1,
 * and the cost of "newest 20" at 100 and at 100,000 releases. Prints figures; asserts nothing.
 * Run with `npm run bench` (optional: BENCH_RELEASES, BENCH_SECONDS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/open.js';
import { createStore, type Store } from '../src/db/store.js';
import type { ReleaseInput } from '../src/model.js';
import { htmlToText } from '../src/text.js';

const RELEASES = Number(process.env.BENCH_RELEASES ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const TOPICS = ['Verkehr', 'Kultur', 'Umwelt', 'Bildung', 'Soziales', 'Finanzen', 'Verwaltung', 'Jugend'];
const DEPARTMENTS = ['Fachbereich Presse und Marketing', 'Fachbereich Mobilität und Verkehr', 'Fachbereich Kultur',
  'Fachbereich Umwelt und Grünflächen', 'Fachbereich Schule und Jugend'];

function synthetic(index: number): ReleaseInput {
  const body = `<p>Die Stadt Lindenau informiert über Vorhaben Nummer ${index}. Bürgerinnen und Bürger können sich an der Planung beteiligen.</p>`
    + '<p>Weitere Informationen gibt es im Bürgerbüro am Markt, montags bis freitags von 8 bis 16 Uhr, und auf der Internetseite der Stadt.</p>'.repeat(4);
  return {
    guid: `tag:lindenau.example,2026:bench-${index}`,
    sourceId: 'bench',
    title: `Pressemitteilung ${index}: Straßenbau & Grünflächen im Stadtteil ${index % 40}`,
    subtitle: `Kurzfassung der Mitteilung ${index}`,
    bodyHtml: body,
    bodyText: htmlToText(body),
    organisation: 'Stadt Lindenau',
    department: DEPARTMENTS[index % DEPARTMENTS.length]!,
    topics: [TOPICS[index % TOPICS.length]!, TOPICS[(index * 7 + 3) % TOPICS.length]!],
    contact: { name: 'Katharina Möller', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52461', city: 'Lindenau',
      phone: '02461/382-1309', fax: null, email: 'presse@lindenau.example' },
    images: [{ url: `/media/bild-${index}.jpg`, title: null, alt: 'Ein Bild', caption: 'Bildunterschrift', credit: '© Stadt Lindenau',
      width: 1200, height: 630, mime: 'image/jpeg', bytes: 48_000 + index }],
    publishedAt: new Date(Date.UTC(2020, 0, 1) + index * 3_600_000).toISOString(),
  };
}

function fill(store: Store, count: number): void {
  for (let start = 0; start < count; start += 5000) {
    const batch = Array.from({ length: Math.min(5000, count - start) }, (_, offset) => synthetic(start + offset));
    store.upsertReleases(batch, { now: new Date('2026-01-01T00:00:00Z') });
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `median ${quantile(sorted, 0.5).toFixed(3)} ms, p95 ${quantile(sorted, 0.95).toFixed(3)} ms, p99 ${quantile(sorted, 0.99).toFixed(3)} ms (n=${samples.length})`;
}

function get(port: number, agent: Agent, urlPath: string, encoding: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, agent, headers: { 'Accept-Encoding': encoding } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-bench-'));
  try {
    const config = loadConfig({ HEROLD_DATA_DIR: dir, HEROLD_BASE_URL: 'https://presse.lindenau.example' }, dir);
    const db = openDatabase(config.databaseFile);
    const store = createStore(db);
    console.log(`Herold feed benchmark — node ${process.version}, ${RELEASES} releases`);

    // "Newest 20" at 100 releases, then at the full size: the index makes both cost the same.
    const small = createStore(openDatabase(path.join(dir, 'small.db')));
    fill(small, 100);
    const time = (target: Store, scope: Parameters<Store['newestReleases']>[0]) => {
      const samples: number[] = [];
      for (let i = 0; i < 300; i++) {
        const start = performance.now();
        target.newestReleases(scope, { now: new Date('2030-01-01T00:00:00Z'), limit: 20 });
        samples.push(performance.now() - start);
      }
      return summary(samples);
    };
    const loadStart = performance.now();
    fill(store, RELEASES);
    console.log(`load: ${RELEASES} releases in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);
    const topic = store.topicBySlug('verkehr')!;
    const department = store.departmentBySlug('fachbereich-kultur')!;
    const smallTopic = small.topicBySlug('verkehr')!;
    console.log(`newest 20, all,        100 releases: ${time(small, { kind: 'all' })}`);
    console.log(`newest 20, all,    ${RELEASES} releases: ${time(store, { kind: 'all' })}`);
    console.log(`newest 20, topic,      100 releases: ${time(small, { kind: 'topic', id: smallTopic.id })}`);
    console.log(`newest 20, topic,  ${RELEASES} releases: ${time(store, { kind: 'topic', id: topic.id })}`);
    console.log(`newest 20, department, ${RELEASES} releases: ${time(store, { kind: 'department', id: department.id })}`);

    // Cold: a fresh app per request (empty cache): query, render, compress.
    for (const encoding of ['identity', 'br']) {
      const cold: number[] = [];
      let size = 0;
      for (let i = 0; i < 30; i++) {
        const app = createApp({ config, store, log: () => {} });
        const server = app.listen(0, '127.0.0.1');
        await new Promise((resolve) => server.once('listening', resolve));
        const agent = new Agent({ keepAlive: true });
        const start = performance.now();
        size = await get((server.address() as AddressInfo).port, agent, '/feeds/all.rss', encoding);
        cold.push(performance.now() - start);
        agent.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
      console.log(`cold /feeds/all.rss (${encoding}, ${size} bytes): ${summary(cold)}`);
    }

    // Cached: one app; the load comes from a worker thread (its own event loop, on the other core),
    // over 16 keep-alive connections, for SECONDS per encoding.
    const app = createApp({ config, store, log: () => {} });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as AddressInfo).port;
    for (const encoding of ['identity', 'br']) {
      const worker = new Worker(new URL(import.meta.url), { workerData: { port, encoding, seconds: SECONDS } });
      const result = await new Promise<{ latencies: number[]; seconds: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      await worker.terminate();
      console.log(`cached /feeds/all.rss (${encoding}, 16 in flight): ${(result.latencies.length / result.seconds).toFixed(0)} req/s, ${summary(result.latencies)}`);
    }
    await new Promise((resolve) => server.close(resolve));
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The load generator, run in a worker thread: 16 loops of sequential requests until time is up. */
async function load({ port, encoding, seconds }: { port: number; encoding: string; seconds: number }): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  await get(port, agent, '/feeds/all.rss', encoding);
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      await get(port, agent, '/feeds/all.rss', encoding);
      latencies.push(performance.now() - start);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: 16 }, loop));
  parentPort!.postMessage({ latencies, seconds: (performance.now() - start) / 1000 });
  agent.destroy();
}

if (isMainThread) await main();
else await load(workerData as { port: number; encoding: string; seconds: number });
