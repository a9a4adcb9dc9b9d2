import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/db/open.js';
import { createStore } from '../../src/db/store.js';
import { createWebSubStore } from '../../src/db/websub-store.js';
import { startWebSub, type WebSub } from '../../src/websub/hub.js';
import { BASE_URL } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';
import { atomProblems, jsonFeedProblems } from '../helpers/validate.js';
import {
  hubRequest, publish, signatureValid, startHerold, startSubscriber, subscribe, type Herold, type Subscriber,
} from './harness.js';

const VERKEHR = `${BASE_URL}/feeds/topics/verkehr.atom`;
const ALL = `${BASE_URL}/feeds/all.json`;
const SECRET = 'a subscriber secret, random enough';

let h: Herold;
let sub: Subscriber;
const open: Array<() => Promise<void>> = [];
async function setUp(): Promise<void> {
  h = await startHerold();
  sub = await startSubscriber();
  open.push(() => h.close(), () => sub.close());
}
afterEach(async () => {
  while (open.length) await open.pop()!();
});

describe('subscribing (W3C WebSub 5.1, 5.3)', () => {
  test('subscribe → 202 → a verification GET whose challenge is echoed → a publish is pushed, signed, as GET serves it', async () => {
    await setUp();
    const callback = sub.callback('/cb/verkehr');
    const accepted = await hubRequest(h.app, {
      'hub.mode': 'subscribe', 'hub.topic': VERKEHR, 'hub.callback': callback, 'hub.lease_seconds': '86400', 'hub.secret': SECRET,
    });
    expect(accepted.status).toBe(202);

    const verification = await sub.waitFor('/cb/verkehr', 'verify');
    expect(verification.query.get('hub.mode')).toBe('subscribe');
    expect(verification.query.get('hub.topic')).toBe(VERKEHR);
    expect(verification.query.get('hub.lease_seconds')).toBe('86400');
    expect(verification.query.get('hub.challenge')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    await h.hub.idle();
    const stored = h.subscriptions.subscription(VERKEHR, callback);
    expect(stored).toMatchObject({ secret: SECRET, leaseSeconds: 86400, expiresAt: '2026-11-26T12:00:00.000Z' });
    // Subscribing pushes nothing: the subscriber has the feed as it is.
    expect(sub.of('/cb/verkehr', 'delivery')).toEqual([]);

    publish(h.t, 'tag:test,2026:websub-1', { title: 'Neue Ampel an der Jülicher Straße', topics: ['Verkehr'] });
    const delivery = await sub.waitFor('/cb/verkehr', 'delivery');
    const body = delivery.body.toString('utf8');
    expect(body).toContain('Neue Ampel an der Jülicher Straße');
    expect(delivery.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect(delivery.headers.link).toBe(`<${BASE_URL}/websub>; rel="hub", <${VERKEHR}>; rel="self"`);
    expect(signatureValid(delivery, SECRET)).toBe(true);
    expect(signatureValid(delivery, 'another secret')).toBe(false);
    expect(atomProblems(body, VERKEHR)).toEqual([]);
    // The pushed body is the served one, byte for byte (same renderer, same ETag).
    const served = await request(h.app).get('/feeds/topics/verkehr.atom').set('Accept-Encoding', 'identity').expect(200);
    expect(body).toBe(served.text);
    await h.hub.idle();
    expect(h.subscriptions.subscription(VERKEHR, callback)).toMatchObject({ lastError: null, lastDeliveryAt: h.t.now.toISOString() });
  });

  test('only subscribers of a feed that changed get a push; without a secret there is no signature', async () => {
    await setUp();
    await subscribe(h, VERKEHR, sub.callback('/cb/verkehr'));
    await subscribe(h, ALL, sub.callback('/cb/all'));
    publish(h.t, 'tag:test,2026:websub-finanzen', { title: 'Haushaltssperre aufgehoben', topics: ['Finanzen'] });
    const delivery = await sub.waitFor('/cb/all', 'delivery');
    expect(delivery.headers['content-type']).toBe('application/feed+json; charset=utf-8');
    expect(delivery.headers['x-hub-signature']).toBeUndefined();
    expect(jsonFeedProblems(delivery.body.toString('utf8'))).toEqual([]);
    await h.hub.idle();
    expect(sub.of('/cb/verkehr', 'delivery')).toEqual([]);
  });

  test('a saved search (?q=) is a topic of its own: it gets the releases that match', async () => {
    await setUp();
    const search = `${BASE_URL}/feeds/all.rss?q=Radweg`;
    await subscribe(h, search, sub.callback('/cb/search'));
    expect(h.subscriptions.subscription(search, sub.callback('/cb/search'))).toBeDefined();
    publish(h.t, 'tag:test,2026:no-match', { title: 'Haushalt beschlossen', topics: ['Finanzen'] });
    h.hub.check();
    await h.hub.idle();
    // (A search feed's <lastBuildDate> follows every change in its scope, so this may already push the unchanged list.)
    const before = sub.of('/cb/search', 'delivery').length;
    publish(h.t, 'tag:test,2026:match', { title: 'Neuer Radweg am Kanal', topics: ['Verkehr'] });
    const delivery = await sub.waitFor('/cb/search', 'delivery', before + 1);
    expect(delivery.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    expect(delivery.headers.link).toContain(`<${search}>; rel="self"`);
    expect(delivery.body.toString('utf8')).toContain('Neuer Radweg am Kanal');
    expect(sub.of('/cb/search', 'delivery').some((event) => event.body.toString('utf8').includes('Haushalt beschlossen'))).toBe(false);
  });

  test('a callback that does not echo the challenge is not subscribed and gets nothing', async () => {
    await setUp();
    const wrong = sub.callback('/cb/wrong', { echo: 'wrong' });
    await subscribe(h, VERKEHR, wrong);
    expect(sub.of('/cb/wrong', 'verify')).toHaveLength(1);
    expect(h.subscriptions.subscription(VERKEHR, wrong)).toBeUndefined();
    expect(h.t.logs.join('\n')).toContain('did not echo the challenge');

    await subscribe(h, VERKEHR, sub.callback('/cb/sentinel'));
    publish(h.t, 'tag:test,2026:websub-2', { title: 'Busspur kommt', topics: ['Verkehr'] });
    await sub.waitFor('/cb/sentinel', 'delivery');
    await h.hub.idle();
    expect(sub.of('/cb/wrong', 'delivery')).toEqual([]);
  });

  test('unsubscribe, once verified, ends the deliveries', async () => {
    await setUp();
    const callback = sub.callback('/cb/leaving');
    await subscribe(h, VERKEHR, callback);
    await subscribe(h, VERKEHR, sub.callback('/cb/sentinel'));
    publish(h.t, 'tag:test,2026:websub-3', { title: 'Erste Meldung', topics: ['Verkehr'] });
    await sub.waitFor('/cb/leaving', 'delivery');

    await hubRequest(h.app, { 'hub.mode': 'unsubscribe', 'hub.topic': VERKEHR, 'hub.callback': callback }).expect(202);
    const verification = await sub.waitFor('/cb/leaving', 'verify', 2);
    expect(verification.query.get('hub.mode')).toBe('unsubscribe');
    expect(verification.query.get('hub.topic')).toBe(VERKEHR);
    expect(verification.query.has('hub.lease_seconds')).toBe(false);
    await h.hub.idle();
    expect(h.subscriptions.subscription(VERKEHR, callback)).toBeUndefined();

    publish(h.t, 'tag:test,2026:websub-4', { title: 'Zweite Meldung', topics: ['Verkehr'] });
    const second = await sub.waitFor('/cb/sentinel', 'delivery', 2);
    expect(second.body.toString('utf8')).toContain('Zweite Meldung');
    await h.hub.idle();
    expect(sub.of('/cb/leaving', 'delivery')).toHaveLength(1);
  });

  test('a topic that is not one of Herold\'s feeds is denied to the callback (5.2)', async () => {
    await setUp();
    const topics = ['http://elsewhere.example/feeds/all.atom', `${BASE_URL}/feeds/topics/gibt-es-nicht.atom`, `${BASE_URL}/releases/x`,
      `${BASE_URL}/feeds/all.atom?limit=1000`];
    for (const [index, topic] of topics.entries()) {
      const path = `/cb/denied-${index}`;
      await subscribe(h, topic, sub.callback(path));
      const denial = await sub.waitFor(path, 'denied');
      expect(denial.query.get('hub.topic')).toBe(topic);
      expect(denial.query.get('hub.reason')).toBeTruthy();
      expect(sub.of(path, 'verify')).toEqual([]);
      expect(h.subscriptions.subscription(topic, sub.callback(path))).toBeUndefined();
    }
  });

  test('malformed requests are answered 400 naming the parameter; leases are bounded', async () => {
    await setUp();
    const callback = sub.callback('/cb/lease');
    const valid = { 'hub.mode': 'subscribe', 'hub.topic': VERKEHR, 'hub.callback': callback };
    for (const [parameter, fields] of [
      ['hub.mode', { ...valid, 'hub.mode': 'publish' }],
      ['hub.callback', { ...valid, 'hub.callback': 'ftp://example.org/cb' }],
      ['hub.callback', { 'hub.mode': 'subscribe', 'hub.topic': VERKEHR }],
      ['hub.topic', { ...valid, 'hub.topic': 'verkehr.atom' }],
      ['hub.lease_seconds', { ...valid, 'hub.lease_seconds': 'forever' }],
      ['hub.secret', { ...valid, 'hub.secret': 'x'.repeat(200) }],
    ] as const) {
      const res = await hubRequest(h.app, fields).expect(400);
      expect(res.body.parameter).toBe(parameter);
    }
    await request(h.app).post('/websub').set('Content-Type', 'application/json').send('{}').expect(415);
    await request(h.app).get('/websub').expect(405);
    expect(sub.events).toEqual([]);

    await subscribe(h, VERKEHR, callback, { 'hub.lease_seconds': '10' });
    await subscribe(h, VERKEHR, callback, { 'hub.lease_seconds': '999999999' });
    await subscribe(h, VERKEHR, callback);
    expect(sub.of('/cb/lease', 'verify').map((event) => event.query.get('hub.lease_seconds'))).toEqual(['3600', '2592000', '864000']);
  });

  test('the callback\'s own query string is kept, the hub\'s parameters appended', async () => {
    await setUp();
    const callback = `${sub.callback('/cb/query')}?subscriber=42`;
    await subscribe(h, VERKEHR, callback);
    const verification = sub.of('/cb/query', 'verify')[0]!;
    expect(verification.query.get('subscriber')).toBe('42');
    expect(h.subscriptions.subscription(VERKEHR, callback)).toBeDefined();
  });
});

describe('distribution (W3C WebSub 7)', () => {
  test('an embargo lifting pushes the release, though nothing was written', async () => {
    await setUp();
    await subscribe(h, VERKEHR, sub.callback('/cb/embargo'));
    const lift = new Date(h.t.now.getTime() + 3_600_000);
    publish(h.t, 'tag:test,2026:embargo', { title: 'Sperrfrist bis Mittag', topics: ['Verkehr'], embargoUntil: lift.toISOString() });
    // The write is seen, but the feed has not changed: no push yet.
    h.hub.check();
    await h.hub.idle();
    expect(sub.of('/cb/embargo', 'delivery')).toEqual([]);

    const generation = h.t.store.generation();
    h.t.now = new Date(lift.getTime() + 1000);
    const delivery = await sub.waitFor('/cb/embargo', 'delivery');
    expect(delivery.body.toString('utf8')).toContain('Sperrfrist bis Mittag');
    expect(h.t.store.generation()).toBe(generation);
  });

  test('a correction and a withdrawal are pushed', async () => {
    await setUp();
    await subscribe(h, VERKEHR, sub.callback('/cb/changes'));
    const release = { guid: 'tag:test,2026:korrektur', publishedAt: h.t.now.toISOString(), topics: ['Verkehr'] };
    h.t.store.upsertReleases([input({ ...release, title: 'Baustelle ab Montag' })], { now: h.t.now });
    expect((await sub.waitFor('/cb/changes', 'delivery', 1)).body.toString('utf8')).toContain('Baustelle ab Montag');
    h.t.now = new Date(h.t.now.getTime() + 60_000);
    h.t.store.upsertReleases([input({ ...release, title: 'Baustelle ab Dienstag' })], { now: h.t.now });
    const corrected = (await sub.waitFor('/cb/changes', 'delivery', 2)).body.toString('utf8');
    expect(corrected).toContain('Baustelle ab Dienstag');
    expect(corrected).not.toContain('Baustelle ab Montag');
    h.t.now = new Date(h.t.now.getTime() + 60_000);
    h.t.store.upsertReleases([input({ ...release, title: 'Baustelle ab Dienstag', status: 'withdrawn' })], { now: h.t.now });
    const withdrawn = (await sub.waitFor('/cb/changes', 'delivery', 3)).body.toString('utf8');
    expect(withdrawn).not.toContain('Baustelle ab Dienstag');
  });

  test('a failing callback (500, then 200) gets the body again, with backoff, and is delivered', async () => {
    await setUp();
    const callback = sub.callback('/cb/flaky', { deliveries: [500, 503, 200] });
    await subscribe(h, VERKEHR, callback, { 'hub.secret': SECRET });
    publish(h.t, 'tag:test,2026:retry', { title: 'Zweiter Versuch', topics: ['Verkehr'] });
    const delivered = await sub.waitFor('/cb/flaky', 'delivery', 3);
    expect(delivered.status).toBe(200);
    const attempts = sub.of('/cb/flaky', 'delivery');
    expect(attempts.map((event) => event.status)).toEqual([500, 503, 200]);
    expect(new Set(attempts.map((event) => event.body.toString('utf8'))).size).toBe(1);
    expect(attempts.every((event) => signatureValid(event, SECRET))).toBe(true);
    await h.hub.idle();
    expect(h.subscriptions.subscription(VERKEHR, callback)).toMatchObject({ lastError: null, lastDeliveryAt: h.t.now.toISOString() });
  });

  test('a callback failing every try records its error and keeps its subscription; one answering 410 is removed', async () => {
    await setUp();
    const broken = sub.callback('/cb/broken', { deliveries: [500] });
    const gone = sub.callback('/cb/gone', { deliveries: [410] });
    await subscribe(h, VERKEHR, broken);
    await subscribe(h, VERKEHR, gone);
    publish(h.t, 'tag:test,2026:fail', { title: 'Niemand hört zu', topics: ['Verkehr'] });
    await sub.waitFor('/cb/broken', 'delivery', 4);
    await sub.waitFor('/cb/gone', 'delivery');
    await h.hub.idle();
    // 1 + 3 retries, then it gives up.
    expect(sub.of('/cb/broken', 'delivery')).toHaveLength(4);
    expect(h.subscriptions.subscription(VERKEHR, broken)?.lastError).toContain('HTTP 500');
    expect(h.t.logs.join('\n')).toContain('after 4 attempts');
    expect(sub.of('/cb/gone', 'delivery')).toHaveLength(1);
    expect(h.subscriptions.subscription(VERKEHR, gone)).toBeUndefined();
  });

  test('a subscription whose lease ended gets nothing', async () => {
    await setUp();
    const expiring = sub.callback('/cb/expiring');
    await subscribe(h, VERKEHR, expiring, { 'hub.lease_seconds': '3600' });
    expect(h.subscriptions.subscription(VERKEHR, expiring)?.expiresAt).toBe('2026-11-25T13:00:00.000Z');
    h.t.now = new Date('2026-11-25T13:00:01Z');
    await subscribe(h, VERKEHR, sub.callback('/cb/sentinel'));
    publish(h.t, 'tag:test,2026:lease', { title: 'Nach der Frist', topics: ['Verkehr'] });
    await sub.waitFor('/cb/sentinel', 'delivery');
    await h.hub.idle();
    expect(sub.of('/cb/expiring', 'delivery')).toEqual([]);
    expect(h.subscriptions.subscription(VERKEHR, expiring)).toBeUndefined();
  });
});

describe('several processes on one database (herold serve --workers, containers sharing a volume)', () => {
  /** Another process's notifier: its own connection to the database, on the same clock. */
  function otherProcess(): WebSub {
    const db = openDatabase(h.t.config.databaseFile);
    const started = startWebSub({
      config: h.t.config, store: createStore(db), subscriptions: createWebSubStore(db), clock: () => h.t.now, log: (line) => h.t.logs.push(line),
      options: { intervalMs: 20, retryDelaysMs: [30, 60, 120], timeoutMs: 3000, concurrency: 4 },
    });
    open.push(async () => {
      await started.stop();
      db.close();
    });
    return started.hub;
  }

  test('each change is pushed to a subscriber once, whichever process notices it first', async () => {
    await setUp();
    const other = otherProcess();
    await subscribe(h, VERKEHR, sub.callback('/cb/once'));
    for (const [index, title] of ['Einmal zugestellt', 'Und noch einmal'].entries()) {
      publish(h.t, `tag:test,2026:once-${index}`, { title, topics: ['Verkehr'] });
      const delivery = await sub.waitFor('/cb/once', 'delivery', index + 1);
      expect(delivery.body.toString('utf8')).toContain(title);
      // Both notifiers have checked several times since.
      await sleep(200);
      await Promise.all([h.hub.idle(), other.idle()]);
      expect(sub.of('/cb/once', 'delivery')).toHaveLength(index + 1);
    }
  });

  test('a delivery that failed every try is given back, and another process (or a restart) delivers it', async () => {
    await setUp();
    const callback = sub.callback('/cb/later', { deliveries: [500, 500, 500, 500, 200] });
    await subscribe(h, VERKEHR, callback);
    const before = h.subscriptions.subscription(VERKEHR, callback)!.lastEtag;
    publish(h.t, 'tag:test,2026:later', { title: 'Später zugestellt', topics: ['Verkehr'] });
    await sub.waitFor('/cb/later', 'delivery', 4);
    await h.hub.idle();
    expect(h.subscriptions.subscription(VERKEHR, callback)!.lastEtag).toBe(before);

    otherProcess();
    const delivered = await sub.waitFor('/cb/later', 'delivery', 5);
    expect(delivered.status).toBe(200);
    expect(delivered.body.toString('utf8')).toContain('Später zugestellt');
  });
});
