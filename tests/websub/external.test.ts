import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterEach, expect, test } from 'vitest';
import { BASE_URL } from '../helpers/app.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { atomProblems, jsonFeedProblems, rssProblems } from '../helpers/validate.js';
import { publish, startHerold, type Herold } from './harness.js';

let h: Herold;
let hub: Upstream;
/** The body of each POST the external hub received. */
const pings: Array<{ contentType: string | undefined; form: URLSearchParams }> = [];

afterEach(async () => {
  await h.close();
  await hub.close();
  pings.length = 0;
});

async function setUp(): Promise<string> {
  hub = await startUpstream({
    '/hub': (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        pings.push({ contentType: req.headers['content-type'], form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(204).end();
      });
    },
  });
  const external = `${hub.url}/hub`;
  h = await startHerold({ env: { HEROLD_WEBSUB_HUB: external } });
  return external;
}

const pinged = () => pings.map((ping) => ping.form.get('hub.url')!).sort();

async function waitForPings(count: number): Promise<void> {
  for (let waited = 0; pings.length < count; waited += 10) {
    if (waited > 10_000) throw new Error(`${pings.length} pings, expected ${count}: ${pinged().join(', ')}`);
    await sleep(10);
  }
}

test('with HEROLD_WEBSUB_HUB, Herold runs no hub: /websub is 404', async () => {
  await setUp();
  await request(h.app).post('/websub').type('form').send('hub.mode=subscribe').expect(404);
  await request(h.app).get('/websub').expect(404);
});

test('the feeds announce the external hub, in headers and bodies, and stay valid', async () => {
  const external = await setUp();
  const rss = await request(h.app).get('/feeds/all.rss').expect(200);
  expect(rss.headers.link).toBe(`<${external}>; rel="hub", <${BASE_URL}/feeds/all.rss>; rel="self"`);
  expect(rss.text).toContain(`<atom:link href="${external}" rel="hub"/>`);
  expect(rssProblems(rss.text, `${BASE_URL}/feeds/all.rss`)).toEqual([]);
  const atom = await request(h.app).get('/feeds/all.atom').expect(200);
  expect(atom.text).toContain(`<link rel="hub" href="${external}"/>`);
  expect(atomProblems(atom.text, `${BASE_URL}/feeds/all.atom`)).toEqual([]);
  const json = await request(h.app).get('/feeds/all.json').expect(200);
  expect(JSON.parse(json.text).hubs).toEqual([{ type: 'WebSub', url: external }]);
  expect(jsonFeedProblems(json.text)).toEqual([]);
});

test('a publish pings the external hub with hub.mode=publish for every feed that changed, and only those', async () => {
  await setUp();
  // The first check learned the feeds as they were: nothing to announce yet.
  h.hub.check();
  await h.hub.idle();
  expect(pings).toEqual([]);

  publish(h.t, 'tag:test,2026:external', { title: 'Neue Radwege', topics: ['Verkehr'], department: 'Fachbereich Mobilität und Verkehr' });
  await waitForPings(9);
  await h.hub.idle();
  const department = h.t.store.listDepartments(h.t.now).find((entry) => entry.name === 'Fachbereich Mobilität und Verkehr')!.slug;
  expect(pinged()).toEqual([
    ...['atom', 'json', 'rss'].map((format) => `${BASE_URL}/feeds/all.${format}`),
    ...['atom', 'json', 'rss'].map((format) => `${BASE_URL}/feeds/departments/${department}.${format}`),
    ...['atom', 'json', 'rss'].map((format) => `${BASE_URL}/feeds/topics/verkehr.${format}`),
  ]);
  for (const ping of pings) {
    expect(ping.contentType).toBe('application/x-www-form-urlencoded');
    expect(ping.form.get('hub.mode')).toBe('publish');
  }
  expect(hub.requests.every((seen) => seen.method === 'POST')).toBe(true);
});

test('an embargo lifting pings too, and a failing hub is retried', async () => {
  await setUp();
  let answered = 0;
  hub.set('/hub', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      answered += 1;
      // The first request fails: it is tried again.
      if (answered === 1) {
        res.writeHead(503).end();
        return;
      }
      pings.push({ contentType: req.headers['content-type'], form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(204).end();
    });
  });
  const lift = new Date(h.t.now.getTime() + 3_600_000);
  publish(h.t, 'tag:test,2026:external-embargo', { title: 'Sperrfrist', topics: ['Finanzen'], embargoUntil: lift.toISOString() });
  h.hub.check();
  await h.hub.idle();
  expect(pings).toEqual([]);

  h.t.now = new Date(lift.getTime() + 1000);
  await waitForPings(6);
  await h.hub.idle();
  expect(pinged()).toEqual([
    ...['atom', 'json', 'rss'].map((format) => `${BASE_URL}/feeds/all.${format}`),
    ...['atom', 'json', 'rss'].map((format) => `${BASE_URL}/feeds/topics/finanzen.${format}`),
  ]);
  expect(answered).toBe(7);
});
