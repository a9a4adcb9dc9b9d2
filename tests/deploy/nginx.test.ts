import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dataDir, environment, freePort, kill, requireBuild, spawnCli, type Run } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';
import { agent, decoded, get, nginxAvailable, sample, startFront, waitForOk, type Answer, type Front } from './nginx-helper.js';

/** feeds.max_age of the origin: short, so expiry and revalidation happen within the test. */
const MAX_AGE = 3;
/**
 * nginx keeps time in whole seconds and expires a copy once the second after max-age began: a copy
 * is fresh for more than MAX_AGE s and at most MAX_AGE + 1 s.
 */
const FRESH_MS = MAX_AGE * 1000;
const STALE_BY_MS = (MAX_AGE + 1) * 1000;
/** Time allowed on top of that for a change to reach readers polling every POLL_MS (one stale answer, one render). */
const SLACK_MS = 1500;
const POLL_MS = 100;
const API_TOKEN = 'press-office-token-0123456789';
const PRESS_TOKEN = 'journalist-token-0123456789';

type Coding = 'identity' | 'gzip' | 'br';
/** What feed readers send; the front reduces each to the coding it stores a copy under. */
const READERS: ReadonlyArray<{ coding: Coding; accept?: string }> = [
  { coding: 'identity' },
  { coding: 'identity', accept: 'deflate' },
  { coding: 'gzip', accept: 'gzip, deflate' },
  { coding: 'gzip', accept: 'gzip;q=1.0, br;q=0, identity;q=0.5' },
  { coding: 'br', accept: 'gzip, deflate, br' },
  { coding: 'br', accept: 'br' },
];
const CODINGS: readonly Coding[] = ['identity', 'gzip', 'br'];

const dirs: string[] = [];
let herold: Run;
let front: Front;
let origin: string;
/** The front's copies of /feeds/all.atom after the second test, and when they were last refreshed. */
let atom: { copies: Map<Coding, Answer>; refreshedBy: number } | null = null;

/** Origin requests for feeds so far, from Herold's own counters (asked directly, not through the front). */
async function originFeedRequests(): Promise<{ ok: number; notModified: number; all: number }> {
  const scrape = await get(`${origin}/metrics`);
  expect(scrape.status).toBe(200);
  const text = scrape.body.toString('utf8');
  return {
    ok: sample(text, 'http_requests_total', { route: 'feed', status: '200' }),
    notModified: sample(text, 'http_requests_total', { route: 'feed', status: '304' }),
    all: sample(text, 'http_requests_total', { route: 'feed' }),
  };
}

async function originRequests(route: string, method: string): Promise<number> {
  return sample((await get(`${origin}/metrics`)).body.toString('utf8'), 'http_requests_total', { route, method });
}

function acceptHeader(coding: Coding): Record<string, string> {
  return coding === 'identity' ? {} : { 'Accept-Encoding': coding };
}

/** The copies a reader should get: each coding's bytes and ETag, asked of Herold directly. */
async function originCopies(url: string): Promise<Map<Coding, Answer>> {
  const copies = new Map<Coding, Answer>();
  for (const coding of CODINGS) {
    const answer = await get(`${origin}${url}`, acceptHeader(coding));
    expect(answer.status).toBe(200);
    copies.set(coding, answer);
  }
  return copies;
}

interface Seen {
  readonly reader: (typeof READERS)[number];
  readonly sentTag: boolean;
  readonly answer: Answer;
}

/**
 * `clients` feed readers poll `url` through the front at the same time, each `requests` times
 * (or until `untilMs` has passed), `gapMs` apart; half of them send the ETag of their last copy.
 */
async function poll(url: string, options: { clients: number; requests?: number; untilMs?: number; gapMs: number }): Promise<Seen[]> {
  const seen: Seen[] = [];
  const end = options.untilMs === undefined ? Infinity : Date.now() + options.untilMs;
  await Promise.all(Array.from({ length: options.clients }, async (_unused, client) => {
    const reader = READERS[Math.floor(client / 2) % READERS.length]!;
    const conditional = client % 2 === 1;
    let etag: string | null = null;
    for (let n = 0; n < (options.requests ?? Infinity) && Date.now() < end; n += 1) {
      const headers: Record<string, string> = reader.accept ? { 'Accept-Encoding': reader.accept } : {};
      const sentTag = conditional && etag !== null;
      if (sentTag) headers['If-None-Match'] = etag!;
      const answer = await get(`${front.url}${url}`, headers);
      if (answer.status === 200) etag = answer.headers.etag as string;
      seen.push({ reader, sentTag, answer });
      if (options.gapMs) await new Promise((resolve) => setTimeout(resolve, options.gapMs));
    }
  }));
  return seen;
}

/** Every reader got a 200 with exactly the origin's bytes for its coding, or a 304 for the ETag it sent. */
function expectOriginCopies(seen: readonly Seen[], copies: Map<Coding, Answer>): void {
  for (const { reader, sentTag, answer } of seen) {
    const copy = copies.get(reader.coding)!;
    const what = `${reader.accept ?? '(no Accept-Encoding)'}: ${answer.status} ${String(answer.headers['x-cache-status'])}`;
    expect(answer.headers.vary, what).toBe('Accept-Encoding');
    expect(answer.headers.etag, what).toBe(copy.headers.etag);
    expect(answer.headers['x-cache-status'], what).toMatch(/^(MISS|HIT|STALE|UPDATING|EXPIRED|REVALIDATED)$/);
    if (answer.status === 304) {
      expect(sentTag, what).toBe(true);
      expect(answer.body.length, what).toBe(0);
    } else {
      expect(answer.status, what).toBe(200);
      expect(answer.headers['content-encoding'], what).toBe(reader.coding === 'identity' ? undefined : reader.coding);
      expect(answer.body.equals(copy.body), what).toBe(true);
    }
  }
}

/** At most this many origin requests per coding in `elapsedMs`: the first, then one each time a copy expired. */
function perCodingBound(elapsedMs: number): number {
  return 1 + Math.floor(elapsedMs / FRESH_MS);
}

type JsonFeed = { items: Array<{ id: string; title: string }> };

async function feedThroughFront(url: string, coding: Coding): Promise<JsonFeed> {
  const answer = await get(`${front.url}${url}`, acceptHeader(coding));
  expect(answer.status).toBe(200);
  return JSON.parse(decoded(answer)) as JsonFeed;
}

async function api(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return get(`${origin}${url}`, {
    Authorization: `Bearer ${API_TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers,
  }, method, body === undefined ? undefined : JSON.stringify(body));
}

function json(answer: Answer): Record<string, any> {
  return JSON.parse(answer.body.toString('utf8')) as Record<string, any>;
}

function release(title: string, extra: Record<string, unknown> = {}) {
  return {
    title, body: '<p>Der Rat hat beschlossen.</p>', topics: ['Finanzen'], department: 'Fachbereich Finanzen',
    organisation: 'Stadt Lindenau', published_at: new Date().toISOString(), ...extra,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// CI installs nginx (.ci/run); elsewhere these tests run where it is installed.
describe.runIf(nginxAvailable)('Herold behind the nginx caching front of deploy/', () => {
  beforeAll(async () => {
    requireBuild();
    const dir = dataDir(dirs);
    writeFileSync(path.join(dir, 'herold.json'), JSON.stringify({ feeds: { max_age: MAX_AGE } }));
    const originPort = await freePort();
    origin = `http://127.0.0.1:${originPort}`;
    herold = spawnCli(['serve'], environment(dir, originPort, {
      HEROLD_API_TOKENS: API_TOKEN, HEROLD_PRESS_TOKENS: PRESS_TOKEN, HEROLD_TRUST_PROXY: 'loopback',
      // Every answer in the request log, the cached hits answered before the router (at debug) too.
      HEROLD_LOG_LEVEL: 'debug',
    }), dir);
    await waitForOk(`${origin}/healthz`, 15_000, () => `herold: ${herold.stdout()}${herold.stderr()}`);
    const frontDir = mkdtempSync(path.join(tmpdir(), 'herold-nginx-'));
    dirs.push(frontDir);
    front = startFront(frontDir, await freePort(), originPort);
    await waitForOk(`${front.url}/healthz`, 10_000, () => `nginx: ${front.stderr()}`);
  });

  afterAll(async () => {
    await front?.stop();
    if (herold) await kill(herold);
    agent.destroy();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  test('200 readers polling at once cause one origin request per coding; each gets 200 with the origin\'s bytes or 304', async () => {
    const copies = await originCopies('/feeds/all.atom');
    const before = await originFeedRequests();
    const started = Date.now();
    const seen = await poll('/feeds/all.atom', { clients: 20, requests: 10, gapMs: 0 });
    const elapsed = Date.now() - started;
    const after = await originFeedRequests();

    expect(seen).toHaveLength(200);
    expectOriginCopies(seen, copies);
    expect(seen.filter((s) => s.answer.status === 304).length).toBeGreaterThan(50);
    expect(new Set(seen.map((s) => s.answer.headers['content-encoding'] ?? 'identity'))).toEqual(new Set(CODINGS));
    // Each answer has its own request id, also those from the cache.
    expect(new Set(seen.map((s) => s.answer.headers['x-request-id'])).size).toBe(200);
    // One full answer per coding; a copy that expired during a slow run is revalidated (304), never fetched again.
    expect(after.ok - before.ok).toBe(CODINGS.length);
    expect(after.all - before.all).toBe(after.ok - before.ok + after.notModified - before.notModified);
    expect(after.all - before.all).toBeLessThanOrEqual(CODINGS.length * perCodingBound(elapsed));
  });

  test('after max-age the front revalidates each copy with one conditional request per expiry; Herold answers 304', async () => {
    const copies = await originCopies('/feeds/all.atom');
    const before = await originFeedRequests();
    const started = Date.now();
    // Longer than max-age: every copy expires at least once while readers keep polling.
    const seen = await poll('/feeds/all.atom', { clients: 20, untilMs: STALE_BY_MS + 500, gapMs: 150 });
    const elapsed = Date.now() - started;
    const after = await originFeedRequests();

    expectOriginCopies(seen, copies);
    expect(seen.length).toBeGreaterThan(200);
    expect(after.ok - before.ok).toBe(0);
    expect(after.notModified - before.notModified).toBeGreaterThanOrEqual(CODINGS.length);
    expect(after.all - before.all).toBe(after.notModified - before.notModified);
    expect(after.all - before.all).toBeLessThanOrEqual(CODINGS.length * perCodingBound(elapsed));
    atom = { copies, refreshedBy: Date.now() + 500 };
  });

  test('a correction made on the origin reaches readers through the front within max-age', async () => {
    const newest = json(await api('GET', '/api/v1/releases?limit=1')).items[0] as { id: string; guid: string; title: string };
    const cached = await feedThroughFront('/feeds/all.json', 'br');
    expect(cached.items.find((item) => item.id === newest.guid)?.title).toBe(newest.title);

    const etag = (await api('GET', `/api/v1/releases/${newest.id}`)).headers.etag as string;
    const corrected = `${newest.title} (berichtigt)`;
    const patched = await api('PATCH', `/api/v1/releases/${newest.id}`, { title: corrected, correction_note: 'Titel ergänzt' }, { 'If-Match': etag });
    expect(patched.status, patched.body.toString()).toBe(200);
    const changed = Date.now();

    let seenAt: number | null = null;
    while (seenAt === null && Date.now() - changed < STALE_BY_MS + SLACK_MS * 2) {
      const feed = await feedThroughFront('/feeds/all.json', 'br');
      if (feed.items.find((item) => item.id === newest.guid)?.title === corrected) seenAt = Date.now();
      else await sleep(POLL_MS);
    }
    expect(seenAt, 'the corrected title never reached the front').not.toBeNull();
    expect(seenAt! - changed).toBeLessThanOrEqual(STALE_BY_MS + SLACK_MS);
  }, 15_000);

  test('a release under embargo reaches readers through the front only after the embargo lifts, then within max-age', async () => {
    await feedThroughFront('/feeds/all.json', 'identity');
    const lift = Date.now() + 2500;
    const created = await api('POST', '/api/v1/releases', release('Haushalt 2027 eingebracht', { embargo_until: new Date(lift).toISOString() }));
    expect(created.status, created.body.toString()).toBe(201);
    const guid = json(created).guid as string;

    let polls = 0;
    let seenAt: number | null = null;
    while (seenAt === null && Date.now() - lift < STALE_BY_MS + SLACK_MS * 2) {
      const feed = await feedThroughFront('/feeds/all.json', 'identity');
      const received = Date.now();
      const listed = feed.items.some((item) => item.id === guid);
      if (received < lift) {
        polls += 1;
        expect(listed, `listed ${lift - received} ms before the embargo lifts`).toBe(false);
      } else if (listed) {
        seenAt = received;
      }
      if (seenAt === null) await sleep(POLL_MS);
    }
    expect(polls).toBeGreaterThan(5);
    expect(seenAt, 'the release never reached the front').not.toBeNull();
    expect(seenAt! - lift).toBeLessThanOrEqual(STALE_BY_MS + SLACK_MS);
  }, 15_000);

  test('the embargoed feed and requests with credentials are never stored; writes pass; /metrics stays closed', async () => {
    let before = await originFeedRequests();
    for (let n = 0; n < 2; n += 1) {
      const answer = await get(`${front.url}/feeds/embargoed.json?token=${PRESS_TOKEN}`);
      expect(answer.status).toBe(200);
      expect(answer.headers['cache-control']).toBe('private, no-store');
      expect(answer.headers['x-cache-status']).toBeUndefined();
    }
    let after = await originFeedRequests();
    expect(after.all - before.all).toBe(2);
    expect(readFileSync(front.accessLog, 'utf8')).toContain('/feeds/embargoed.json?token=***');
    expect(readFileSync(front.accessLog, 'utf8')).not.toContain(PRESS_TOKEN);

    // A fresh cached copy exists, yet a request with Authorization goes to Herold every time.
    await get(`${front.url}/feeds/all.rss`);
    expect((await get(`${front.url}/feeds/all.rss`)).headers['x-cache-status']).toBe('HIT');
    before = await originFeedRequests();
    const ids: string[] = [];
    for (let n = 0; n < 2; n += 1) {
      // A forged X-Forwarded-For is replaced by the front: Herold sees the reader's real address.
      const answer = await get(`${front.url}/feeds/all.rss`, { Authorization: `Bearer ${PRESS_TOKEN}`, 'X-Forwarded-For': '203.0.113.9' });
      expect(answer.status).toBe(200);
      expect(answer.headers['x-cache-status']).toBe('BYPASS');
      ids.push(answer.headers['x-request-id'] as string);
    }
    after = await originFeedRequests();
    expect(after.all - before.all).toBe(2);
    // The front's request id reaches Herold's request log, with the address the front forwarded.
    const logged = () => `${herold.stdout()}${herold.stderr()}`.split('\n');
    await until(() => ids.every((id) => logged().some((line) => line.includes(id))), 3000, 'Herold logging the front\'s request ids');
    for (const id of ids) {
      const line = logged().find((entry) => entry.includes(id))!;
      expect(line).toContain('127.0.0.1');
      expect(line).not.toContain('203.0.113.9');
    }

    const posts = await originRequests('api', 'POST');
    const written = await get(`${front.url}/api/v1/releases`, { Authorization: `Bearer ${API_TOKEN}`, 'Content-Type': 'application/json' },
      'POST', JSON.stringify(release('Über die Front veröffentlicht')));
    expect(written.status, written.body.toString()).toBe(201);
    expect(await originRequests('api', 'POST')).toBe(posts + 1);

    expect((await get(`${front.url}/metrics`)).status).toBe(403);
  });

  test('while Herold is down the front answers with its stale copies, not 502', async () => {
    expect(atom, 'needs the copies of the second test').not.toBeNull();
    const current = await get(`${origin}/feeds/all.atom`);
    expect(current.body.equals(atom!.copies.get('identity')!.body), 'the releases written since changed /feeds/all.atom').toBe(false);
    await kill(herold);
    // Nobody asked for /feeds/all.atom since the second test: its copies expire, and Herold cannot refresh them.
    await sleep(Math.max(0, atom!.refreshedBy + STALE_BY_MS - Date.now()));

    for (const coding of [...CODINGS, ...CODINGS]) {
      const stale = await get(`${front.url}/feeds/all.atom`, acceptHeader(coding));
      expect(stale.status).toBe(200);
      expect(stale.headers['x-cache-status']).toMatch(/^(STALE|UPDATING)$/);
      expect(stale.headers.etag).toBe(atom!.copies.get(coding)!.headers.etag);
      expect(stale.body.equals(atom!.copies.get(coding)!.body)).toBe(true);
    }
    // What the front never stored has nothing to fall back on.
    expect((await get(`${front.url}/feeds/all.atom?limit=7`)).status).toBe(502);
  });
});
