import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { startScheduler } from '../../src/ingest/scheduler.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { until } from '../helpers/wait.js';

let upstream: Upstream | undefined;
let app: TestApp | undefined;
afterEach(async () => {
  await upstream?.close();
  app?.close();
});

const feed = (title: string) => `<?xml version="1.0"?><rss version="2.0"><channel><title>K</title><link>https://kreis.example/</link>
<description>K</description><item><title>${title}</title><guid>k-1</guid><pubDate>Mon, 23 Nov 2026 10:00:00 GMT</pubDate>
<description>Text</description></item></channel></rss>`;


test('sources refresh on their cron schedule, and a change upstream reaches the store', async () => {
  upstream = await startUpstream({ '/feed.xml': { body: feed('Erste Fassung') } });
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-schedule-'));
  writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({
    sources: [{ id: 'kreis', type: 'feed', schedule: '* * * * * *', url: `${upstream.url}/feed.xml` }],
  }));
  app = createTestApp({ dir });
  const t = app;
  t.now = new Date();
  const scheduler = startScheduler({ config: t.config, store: t.store, clock: () => new Date(), log: (line) => t.logs.push(line) });
  try {
    await scheduler.catchUp;
    expect(t.store.newestReleases({ kind: 'all' }, { now: new Date(), limit: 5 }).map((release) => release.title)).toEqual(['Erste Fassung']);
    upstream.set('/feed.xml', { body: feed('Zweite Fassung') });
    const hits = upstream.hits('/feed.xml');
    // Every second by schedule: the next runs come without anyone asking.
    await until(() => upstream!.hits('/feed.xml') >= hits + 2, 5000, 'two scheduled runs');
    await until(() => t.store.newestReleases({ kind: 'all' }, { now: new Date(), limit: 5 })[0]?.title === 'Zweite Fassung', 3000, 'the changed title');
    // A run is counted when it ends; the second scheduled one may still be under way when its request arrived.
    await until(() => t.store.sourceState('kreis')!.runs >= 3, 3000, 'three runs recorded');
  } finally {
    await scheduler.stop();
  }
});
