import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { fetchUpstream, FetchError } from '../../src/ingest/fetch.js';
import { addressFilter, addressRefusal, AddressRefusedError, nonPublicRange } from '../../src/net/address-filter.js';
import { BASE_URL, createTestApp, type TestApp } from '../helpers/app.js';
import { redirect, startUpstream, type Upstream } from '../helpers/upstream.js';
import { until } from '../helpers/wait.js';
import { hubRequest, publish, startHerold, startSubscriber, type Herold } from '../websub/harness.js';

const TOKEN = 'press-office-token-0001';
const VERKEHR = `${BASE_URL}/feeds/topics/verkehr.atom`;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function upstream(routes: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
  const started = await startUpstream(routes);
  cleanups.push(() => started.close());
  return started;
}

/** A server on another loopback address than the fixtures' 127.0.0.1, counting its requests. */
async function serverOn(host: string): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits += 1;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('reached');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

function app(env: Record<string, string>): TestApp {
  const t = createTestApp({ env: { HEROLD_API_TOKENS: TOKEN, ...env } });
  cleanups.push(() => t.close());
  return t;
}

async function herold(env: Record<string, string>): Promise<Herold> {
  const h = await startHerold({ env });
  cleanups.push(() => h.close());
  return h;
}

/** Fetches through a filter, as the hub and the API do; short limits so that a request that got through fails fast. */
function filtered(url: string, allowed: readonly string[] = []) {
  return fetchUpstream(url, { userAgent: 'herold-test', retries: 0, timeoutMs: 2000, fetch: addressFilter(allowed).fetch });
}

/** Literal addresses of every range that is not public, and how the refusal names it. */
const BLOCKED: ReadonlyArray<[string, string]> = [
  ['127.0.0.1', 'loopback'], ['127.8.9.10', 'loopback'], ['::1', 'loopback'],
  ['10.1.2.3', 'private network'], ['172.16.0.1', 'private network'], ['172.31.255.254', 'private network'], ['192.168.178.1', 'private network'],
  ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'],
  ['fc00::1', 'unique-local'], ['fd12:3456:789a::1', 'unique-local'],
  ['224.0.0.251', 'multicast'], ['239.255.255.250', 'multicast'], ['ff02::1', 'multicast'],
  ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'], ['::', 'unspecified'],
  ['100.64.0.1', 'carrier-grade NAT'], ['100.127.255.254', 'carrier-grade NAT'],
  ['240.0.0.1', 'reserved'], ['192.0.2.10', 'reserved'], ['198.18.0.1', 'reserved'], ['255.255.255.255', 'broadcast'],
  ['::ffff:127.0.0.1', 'loopback'], ['::ffff:10.0.0.1', 'private network'], ['::ffff:169.254.169.254', 'link-local'],
  ['::127.0.0.1', 'IPv4-compatible'],
];

describe('the classifier', () => {
  test('every range that is not public is named; IPv4-mapped addresses are judged as the IPv4 they carry', () => {
    for (const [address] of BLOCKED) expect(nonPublicRange(address), address).not.toBeNull();
    expect(nonPublicRange('::ffff:127.0.0.1')).toBe('loopback');
    expect(nonPublicRange('::ffff:a9fe:a9fe')).toBe('linkLocal');
    expect(nonPublicRange('::ffff:100.64.0.1')).toBe('carrierGradeNat');
    // Translation and tunnel prefixes embed IPv4 addresses too.
    expect(nonPublicRange('64:ff9b::7f00:1')).toBe('rfc6052');
    expect(nonPublicRange('2002:7f00:1::1')).toBe('6to4');
  });

  test('public unicast addresses pass', () => {
    for (const address of ['8.8.8.8', '93.184.216.34', '100.128.0.1', '172.32.0.1', '2a00:1450:4001:82b::200e', '::ffff:8.8.8.8']) {
      expect(nonPublicRange(address), address).toBeNull();
    }
  });
});

describe('fetch through the filter', () => {
  test('refuses every such literal address before connecting, naming the address and the setting', async () => {
    for (const [address, name] of BLOCKED) {
      const host = address.includes(':') ? `[${address}]` : address;
      const error = await filtered(`http://${host}:8080/bild.png`).then(() => null, (failure: unknown) => failure);
      expect(error, address).toBeInstanceOf(FetchError);
      expect((error as FetchError).message, address).toContain(name);
      expect((error as FetchError).message).toContain('HEROLD_ALLOW_PRIVATE_URLS');
      // A refusal is final: no retry makes it work.
      expect((error as FetchError).retryable).toBe(false);
    }
  });

  test('refuses a name that resolves to loopback (localhost) at connect time; the allow list lets it through', async () => {
    const fixture = await upstream({ '/bild.png': { body: 'PNG', headers: { 'content-type': 'image/png' } } });
    const viaName = fixture.url.replace('127.0.0.1', 'localhost');
    await expect(filtered(`${viaName}/bild.png`)).rejects.toThrow(/localhost \((127\.0\.0\.1|::1)\) is a loopback address/);
    await expect(filtered(`${fixture.url}/bild.png`)).rejects.toThrow(/127\.0\.0\.1 is a loopback address/);
    expect(fixture.hits('/bild.png')).toBe(0);

    // Allowed by address: the name resolves to 127.0.0.1 (among others), which is taken.
    expect((await filtered(`${viaName}/bild.png`, ['127.0.0.1/32'])).bytes.toString()).toBe('PNG');
    // Allowed by name, and by a CIDR around the literal address.
    expect((await filtered(`${viaName}/bild.png`, ['localhost'])).status).toBe(200);
    expect((await filtered(`${fixture.url}/bild.png`, ['127.0.0.0/8'])).status).toBe(200);
    expect(fixture.hits('/bild.png')).toBe(3);
    // Another address is not allowed by 127.0.0.1/32.
    const other = await serverOn('127.0.0.2');
    await expect(filtered(`${other.url}/`, ['127.0.0.1/32'])).rejects.toThrow(/127\.0\.0\.2 is a loopback address/);
    expect(other.hits()).toBe(0);
  });

  test('a redirect from an allowed host to one that is not is refused at the redirect', async () => {
    const inner = await serverOn('127.0.0.2');
    const outer = await upstream({ '/weiter': redirect(`${inner.url}/metadata`) });
    const error = await filtered(`${outer.url}/weiter`, ['127.0.0.1']).then(() => null, (failure: unknown) => failure);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as FetchError).message).toContain(`at ${inner.url}/metadata`);
    expect((error as FetchError).message).toContain('127.0.0.2 is a loopback address');
    expect(outer.hits('/weiter')).toBe(1);
    expect(inner.hits()).toBe(0);
    // The control: the target is reachable when its address is allowed as well.
    expect((await filtered(`${outer.url}/weiter`, ['127.0.0.0/8'])).bytes.toString()).toBe('reached');
    expect(inner.hits()).toBe(1);
  });

  test('refusal() decides from the URL, resolving names; an unresolvable name is left to the request', async () => {
    const filter = addressFilter([]);
    expect(filter.refusalWithoutLookup('http://[::ffff:7f00:1]:8080/x')).toBeInstanceOf(AddressRefusedError);
    expect(filter.refusalWithoutLookup('http://api.localhost/x')?.range).toBe('loopback');
    expect(filter.refusalWithoutLookup('http://presse.example/x')).toBeNull();
    expect((await filter.refusal('http://localhost:1/x'))?.range).toBe('loopback');
    expect(await filter.refusal('http://no-such-host.invalid/x')).toBeNull();
    expect(await addressFilter(['localhost']).refusal('http://localhost:1/x')).toBeNull();
    expect(addressRefusal(new TypeError('fetch failed', { cause: new AddressRefusedError('a', '10.0.0.1', 'private') }))?.address).toBe('10.0.0.1');
  });
});

describe('HEROLD_ALLOW_PRIVATE_URLS', () => {
  test('is read as host names, addresses and CIDRs, normalized; anything else stops start-up naming the key', () => {
    const config = loadConfig({ HEROLD_DATA_DIR: '/nonexistent', HEROLD_ALLOW_PRIVATE_URLS: '127.0.0.1, 10.0.0.0/8,[::1], Intranet.Example.,::ffff:192.168.0.1' }, '/');
    expect(config.allowPrivateUrls).toEqual(['127.0.0.1/32', '10.0.0.0/8', '::1/128', 'intranet.example', '192.168.0.1/32']);
    expect(loadConfig({ HEROLD_DATA_DIR: '/nonexistent' }, '/').allowPrivateUrls).toEqual([]);
    for (const bad of ['10.0.0.0/33', '300.1.1.1', 'intranet example', 'http://intranet/', '::1/129']) {
      expect(() => loadConfig({ HEROLD_DATA_DIR: '/nonexistent', HEROLD_ALLOW_PRIVATE_URLS: bad }, '/'), bad).toThrow(ConfigError);
      expect(() => loadConfig({ HEROLD_DATA_DIR: '/nonexistent', HEROLD_ALLOW_PRIVATE_URLS: bad }, '/'), bad).toThrow(/HEROLD_ALLOW_PRIVATE_URLS/);
    }
  });
});

describe('the WebSub hub', () => {
  test('refuses a callback on a loopback address or localhost with 400 naming hub.callback; the callback is never asked', async () => {
    const h = await herold({ HEROLD_ALLOW_PRIVATE_URLS: '' });
    const subscriber = await startSubscriber();
    cleanups.push(() => subscriber.close());
    const callbacks = [subscriber.callback('/cb/direkt'), subscriber.callback('/cb/name').replace('127.0.0.1', 'localhost'), 'http://[::1]:8080/cb'];
    for (const callback of callbacks) {
      const res = await hubRequest(h.app, { 'hub.mode': 'subscribe', 'hub.topic': VERKEHR, 'hub.callback': callback }).expect(400);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body.parameter).toBe('hub.callback');
      expect(res.body.detail).toMatch(/is a loopback address/);
    }
    await h.hub.idle();
    expect(subscriber.events).toEqual([]);
    expect(h.subscriptions.subscription(VERKEHR, callbacks[0]!)).toBeUndefined();
  });

  test('a callback that redirects its verification to a refused address is not verified, and the log says why', async () => {
    const h = await herold({ HEROLD_ALLOW_PRIVATE_URLS: '127.0.0.1' });
    const inner = await serverOn('127.0.0.2');
    const outer = await upstream({ '/cb': redirect(`${inner.url}/cb`) });
    await hubRequest(h.app, { 'hub.mode': 'subscribe', 'hub.topic': VERKEHR, 'hub.callback': `${outer.url}/cb` }).expect(202);
    await h.hub.idle();
    expect(outer.hits('/cb')).toBe(1);
    expect(inner.hits()).toBe(0);
    expect(h.subscriptions.subscription(VERKEHR, `${outer.url}/cb`)).toBeUndefined();
    expect(h.t.logs.join('\n')).toMatch(new RegExp(`subscribe of ${outer.url}/cb to .* not verified: .*127\\.0\\.0\\.2 is a loopback address`));
  });

  test('content is not pushed to a callback on a refused address', async () => {
    const h = await herold({ HEROLD_ALLOW_PRIVATE_URLS: '' });
    const subscriber = await startSubscriber();
    cleanups.push(() => subscriber.close());
    const callback = subscriber.callback('/cb/alt');
    // A subscription from before the address was refused (the setting changed since).
    h.subscriptions.subscribe({ topic: VERKEHR, callback, secret: null, leaseSeconds: 86_400, etag: null }, h.t.now);
    publish(h.t, 'tag:test,2026:ssrf-1', { title: 'Neue Ampel an der Jülicher Straße', topics: ['Verkehr'] });
    await until(() => h.t.logs.some((line) => line.includes('delivery failed')), 10_000, 'the failed delivery');
    await h.hub.idle();
    expect(subscriber.events).toEqual([]);
    expect(h.subscriptions.subscription(VERKEHR, callback)?.lastError).toMatch(/127\.0\.0\.1 is a loopback address/);
  });
});

describe('the authoring API', () => {
  const release = (extra: Record<string, unknown>) => ({
    title: 'Neuer Radweg an der Jülicher Straße', body: '<p>Die Stadt baut einen Radweg.</p>', published_at: '2026-11-24T09:30:00+01:00', ...extra,
  });
  const post = (t: TestApp, body: unknown) => request(t.app).post('/api/v1/releases').set('Authorization', `Bearer ${TOKEN}`).send(body as object);

  test('a release whose image or attachment is on a loopback address is refused with 422 naming each field and URL; nothing is fetched or stored', async () => {
    const t = app({});
    const fixture = await upstream({ '/bild.png': { body: 'PNG', headers: { 'content-type': 'image/png' } }, '/anlage.pdf': { body: '%PDF' } });
    const image = `${fixture.url}/bild.png`;
    const attachment = `${fixture.url.replace('127.0.0.1', 'localhost')}/anlage.pdf`;
    const res = await post(t, release({ image: { url: image, alt: 'Radweg' }, attachments: [{ url: 'https://presse.example/plan.pdf' }, { url: attachment }] })).expect(422);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body.errors).toEqual([
      { pointer: '/image/url', detail: expect.stringContaining(`${image}: 127.0.0.1 is a loopback address`) },
      { pointer: '/attachments/1/url', detail: expect.stringMatching(/localhost.*is a loopback address/) },
    ]);
    expect(res.body.errors[1].detail).toContain(attachment);
    expect(fixture.requests).toEqual([]);
    expect(t.store.probeOf(image)).toBeUndefined();
    expect((await request(t.app).get('/api/v1/releases').set('Authorization', `Bearer ${TOKEN}`).expect(200)).body.total).toBe(0);
  });

  test('with the address allowed the image is fetched; an image redirecting to a refused address is left unmeasured, as an unreachable one', async () => {
    const t = app({ HEROLD_ALLOW_PRIVATE_URLS: '127.0.0.1' });
    const inner = await serverOn('127.0.0.2');
    const fixture = await upstream({ '/bild.png': redirect(`${inner.url}/bild.png`) });
    const res = await post(t, release({ image: { url: `${fixture.url}/bild.png`, alt: 'Radweg' } })).expect(201);
    expect(res.body.image).toMatchObject({ url: `${fixture.url}/bild.png`, mime_type: null, size_in_bytes: null });
    expect(fixture.hits('/bild.png')).toBeGreaterThanOrEqual(1);
    expect(inner.hits()).toBe(0);
    expect(t.store.probeOf(`${fixture.url}/bild.png`)?.error).toMatch(/127\.0\.0\.2 is a loopback address/);
  });
});
