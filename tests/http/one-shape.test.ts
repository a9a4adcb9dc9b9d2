import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createHerold } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { createStore } from '../../src/db/store.js';
import { BASE_URL } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';

/**
 * Every request and response the server makes has one shape (createHerold's `messages`): the router,
 * the request log and the rate limits find the prototypes and properties they set already there, so
 * what they answer and what the cached-hit path answers are objects of one kind for node's HTTP code.
 */
interface Seen {
  readonly what: string;
  readonly request: ReadonlyArray<string | symbol>;
  readonly response: ReadonlyArray<string | symbol>;
  readonly prototypes: readonly [object | null, object | null];
}

/**
 * The properties a routed request and response gain all the same: symbols private to the router (the
 * route matched and, on an error, the errors published for tracing; router 2) and to the request log
 * (the request of a response, pino-http). Their modules do not export them, so they cannot be made
 * beforehand. Each is added last, so node's HTTP code meets at most two kinds of each.
 */
const PRIVATE = new Set(['router.tracing.matchedRoute', 'router.tracing.publishedErrors', 'reqObject']);
const found = new Set<string>();
const shared = (keys: ReadonlyArray<string | symbol>) => keys.filter((key) => {
  if (typeof key === 'symbol' && PRIVATE.has(key.description!)) {
    found.add(key.description!);
    return false;
  }
  return true;
});

const dir = mkdtempSync(path.join(tmpdir(), 'herold-shape-'));
const db = openDatabase(path.join(dir, 'herold.db'));
const seen: Seen[] = [];
let server: Server;
let messages: ReturnType<typeof createHerold>['messages'];

beforeAll(async () => {
  const config = loadConfig({ HEROLD_DATA_DIR: dir, HEROLD_BASE_URL: BASE_URL }, dir);
  const store = createStore(db);
  store.upsertReleases([1, 2].map((n) => input({
    guid: `tag:lindenau.example,2026:shape-${n}`, title: `Mitteilung ${n}`, slug: `mitteilung-${n}`,
    publishedAt: new Date(Date.UTC(2026, 10, n, 9)).toISOString(), topics: ['Verkehr'], body: `<p>Text ${n}.</p>`,
  })), { now: new Date('2026-11-20T10:00:00Z') });
  const herold = createHerold({ config, store, log: () => {} });
  messages = herold.messages;
  server = createServer(messages, (req: IncomingMessage, res: ServerResponse) => {
    res.once('finish', () => {
      seen.push({
        what: `${req.method} ${req.url}`, request: shared(Reflect.ownKeys(req)), response: shared(Reflect.ownKeys(res)),
        prototypes: [Object.getPrototypeOf(req) as object | null, Object.getPrototypeOf(res) as object | null],
      });
    });
    herold.listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function ask(method: string, urlPath: string, body?: string): Promise<number> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: urlPath, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a routed answer and a cached hit leave requests and responses with the same prototypes and properties, in the same order', async () => {
  // Each URL twice: the router answers the first, the cached-hit path the second where the route allows it.
  const asked: Array<[string, string, string?]> = [
    ['GET', '/feeds/all.rss'], ['GET', '/feeds/all.rss'], ['HEAD', '/feeds/topics/verkehr.atom'], ['GET', '/feeds/topics/verkehr.atom'],
    ['GET', '/releases/mitteilung-1'], ['GET', '/releases/mitteilung-1'], ['GET', '/embed.js'], ['GET', '/embed.js'],
    // Rate-limited: the limits set their own property on what they count.
    ['GET', '/api/v1/headlines'], ['GET', '/api/v1/headlines'], ['GET', '/search?q=Text'], ['GET', '/search?q=Text'],
    ['GET', '/feeds/all.rss?limit=0'], ['GET', '/nowhere'], ['GET', '/healthz'], ['GET', '/metrics'],
    ['POST', '/api/v1/releases', '{"title":"x"}'], ['POST', '/api/v1/releases', '{not json'],
  ];
  const statuses = [];
  for (const [method, urlPath, body] of asked) statuses.push(await ask(method, urlPath, body));
  await new Promise((resolve) => setImmediate(resolve));
  // Answers of every kind: 200s, a 400, a 403 (no author token here), a 404.
  expect(new Set(statuses)).toEqual(new Set([200, 400, 403, 404]));
  expect(seen).toHaveLength(asked.length);
  // The private symbols are the ones named (the filter would hide nothing otherwise).
  expect([...found].sort()).toEqual([...PRIVATE].sort());
  const [first] = seen;
  expect(first!.prototypes).toEqual([messages.IncomingMessage.prototype, messages.ServerResponse.prototype]);
  for (const one of seen) {
    expect(one.prototypes, one.what).toEqual(first!.prototypes);
    expect(one.request, one.what).toEqual(first!.request);
    expect(one.response, one.what).toEqual(first!.response);
  }
});
