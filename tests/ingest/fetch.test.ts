import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, onTestFinished, test } from 'vitest';
import { createLimiter, decodeText, FetchError, fetchUpstream, userAgent, type FetchOptions } from '../../src/ingest/fetch.js';
import {
  drip, hang, huge, LAST_MODIFIED, redirect, sequence, startUpstream, status, truncated, type Route, type Upstream,
} from '../helpers/upstream.js';

const SITE = 'https://presse.lindenau.example';
/** Small limits so failures show within the suite's time; backoff short enough that retries cost nothing. */
const FAST: FetchOptions = { userAgent: userAgent(SITE), timeoutMs: 2000, retries: 2, backoffMs: 10 };

/** An upstream that is closed when the test ends, pass or fail. */
async function upstream(routes: Record<string, Route>): Promise<Upstream> {
  const server = await startUpstream(routes);
  onTestFinished(() => server.close());
  return server;
}

/** The FetchError a request fails with (the test fails if it succeeds or throws anything else). */
async function failure(url: string, options: Partial<FetchOptions> = {}): Promise<FetchError> {
  const error = await fetchUpstream(url, { ...FAST, ...options }).then(
    (result) => new Error(`expected a failure, got HTTP ${result.status}`),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FetchError);
  return error as FetchError;
}

const PAGE = '<!doctype html><title>Pressemitteilungen</title><h1>Grüße aus Lindenau</h1>';

describe('fetchUpstream', () => {
  test('a 200 gives the body, the final URL, the validators and the headers; the request names Herold', async () => {
    const server = await upstream({
      '/feed.xml': { body: PAGE, headers: { 'content-type': 'application/rss+xml; charset=utf-8', 'x-upstream': 'ja' }, validators: true },
    });
    const result = await fetchUpstream(`${server.url}/feed.xml`, FAST);
    expect(result).toMatchObject({
      url: `${server.url}/feed.xml`, status: 200, notModified: false,
      contentType: 'application/rss+xml; charset=utf-8', lastModified: LAST_MODIFIED,
    });
    expect(result.bytes.toString('utf8')).toBe(PAGE);
    expect(result.etag).toMatch(/^"[\w-]+"$/);
    expect(result.headers.get('x-upstream')).toBe('ja');
    const [request] = server.requests;
    expect(request!.method).toBe('GET');
    expect(request!.headers['accept']).toMatch(/^application\/rss\+xml, application\/atom\+xml/);
    expect(request!.headers['if-none-match']).toBeUndefined();
  });

  test('the User-Agent is Herold with the version from package.json and the site URL', async () => {
    const { version } = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(userAgent(SITE)).toBe(`Herold/${version} (+${SITE})`);
    const server = await upstream({ '/': { body: 'ok' } });
    await fetchUpstream(`${server.url}/`, FAST);
    expect(server.requests[0]!.headers['user-agent']).toBe(`Herold/${version} (+${SITE})`);
  });

  test('a conditional GET with the stored validators gets a 304: not modified, no bytes, the validators kept', async () => {
    const server = await upstream({ '/feed.xml': { body: PAGE, validators: true }, '/bare-304': (_req, res) => res.writeHead(304).end() });
    const first = await fetchUpstream(`${server.url}/feed.xml`, FAST);

    const second = await fetchUpstream(`${server.url}/feed.xml`, { ...FAST, etag: first.etag, lastModified: first.lastModified });
    expect(second).toMatchObject({ status: 304, notModified: true, etag: first.etag, lastModified: LAST_MODIFIED });
    expect(second.bytes.length).toBe(0);
    expect(server.requests[1]!.headers).toMatchObject({ 'if-none-match': first.etag, 'if-modified-since': LAST_MODIFIED });

    const byDate = await fetchUpstream(`${server.url}/feed.xml`, { ...FAST, lastModified: LAST_MODIFIED });
    expect(byDate.notModified).toBe(true);
    const changed = await fetchUpstream(`${server.url}/feed.xml`, { ...FAST, etag: '"older"' });
    expect(changed.notModified).toBe(false);
    expect(changed.bytes.toString('utf8')).toBe(PAGE);

    // A 304 that repeats no validators: the ones sent are still the current ones.
    const bare = await fetchUpstream(`${server.url}/bare-304`, { ...FAST, etag: '"v1"', lastModified: LAST_MODIFIED });
    expect(bare).toMatchObject({ notModified: true, etag: '"v1"', lastModified: LAST_MODIFIED });
  });

  test('HEAD is sent as HEAD and gives no bytes', async () => {
    const server = await upstream({ '/feed.xml': { body: PAGE } });
    const result = await fetchUpstream(`${server.url}/feed.xml`, { ...FAST, method: 'HEAD' });
    expect(result.status).toBe(200);
    expect(result.bytes.length).toBe(0);
    expect(server.requests[0]!.method).toBe('HEAD');
  });

  test('an upstream that never answers times out: a retryable FetchError naming the URL', async () => {
    const server = await upstream({ '/slow': hang() });
    const error = await failure(`${server.url}/slow`, { timeoutMs: 300, retries: 0 });
    expect(error.message).toBe(`GET ${server.url}/slow: timed out after 300 ms`);
    expect(error).toMatchObject({ url: `${server.url}/slow`, status: null, retryable: true });
  });

  test('a timeout is retried like a network error', async () => {
    const server = await upstream({ '/slow': sequence([hang(), { body: 'ok' }]) });
    const result = await fetchUpstream(`${server.url}/slow`, { ...FAST, timeoutMs: 300, retries: 1 });
    expect(result.bytes.toString()).toBe('ok');
    expect(server.hits('/slow')).toBe(2);
  });

  test('the timeout covers the body: an upstream dripping bytes slower than the deadline fails', async () => {
    const server = await upstream({ '/drip': drip(PAGE, 50) });
    const error = await failure(`${server.url}/drip`, { timeoutMs: 400, retries: 0 });
    // The status line had arrived; it was the body that was too slow.
    expect(error).toMatchObject({ status: 200, retryable: true });
    expect(error.message).toBe(`GET ${server.url}/drip: timed out after 400 ms`);
  });

  test('a body cut short of its Content-Length is an error, not a short body', async () => {
    const server = await upstream({ '/cut': truncated(PAGE) });
    const error = await failure(`${server.url}/cut`, { retries: 0 });
    expect(error.message).toMatch(new RegExp(`^GET ${server.url}/cut: body incomplete \\(`));
    expect(error.retryable).toBe(true);
  });

  test('a body larger than maxBytes is refused without reading the rest, and not retried', async () => {
    const server = await upstream({ '/big': huge(50 * 1024 * 1024) });
    const error = await failure(`${server.url}/big`, { maxBytes: 5 * 1024 * 1024 });
    expect(error.message).toBe(`GET ${server.url}/big: response larger than 5242880 bytes`);
    expect(error).toMatchObject({ status: 200, retryable: false });
    expect(server.hits('/big')).toBe(1);
    // The server could not finish: the client went away after about 5 of the 50 MB.
    expect(await server.requests[0]!.completed).toBe(false);
  });

  test('a declared Content-Length over maxBytes is refused before reading', async () => {
    const server = await upstream({ '/big': { body: 'x'.repeat(2000) } });
    const error = await failure(`${server.url}/big`, { maxBytes: 1000 });
    expect(error.message).toBe(`GET ${server.url}/big: response larger than 1000 bytes (Content-Length 2000)`);
    const exact = await fetchUpstream(`${server.url}/big`, { ...FAST, maxBytes: 2000 });
    expect(exact.bytes.length).toBe(2000);
  });

  test('with truncate, a larger body gives its first maxBytes, marked truncated, and the rest is not read', async () => {
    const server = await upstream({ '/big': huge(50 * 1024 * 1024), '/small': { body: PAGE } });
    const result = await fetchUpstream(`${server.url}/big`, { ...FAST, maxBytes: 100_000, truncate: true });
    expect(result).toMatchObject({ status: 200, truncated: true });
    expect(result.bytes.length).toBe(100_000);
    expect(result.bytes.subarray(0, 15).toString()).toBe('<p>Filler.</p>\n');
    expect(await server.requests[0]!.completed).toBe(false);
    const small = await fetchUpstream(`${server.url}/small`, { ...FAST, maxBytes: 100_000, truncate: true });
    expect(small.truncated).toBe(false);
    expect(small.bytes.toString('utf8')).toBe(PAGE);
  });

  test('a 206 answer to a ranged request is a success', async () => {
    const server = await upstream({
      '/bild.jpg': (_req, res) => {
        res.writeHead(206, { 'content-range': 'bytes 0-3/12345', 'content-length': '4' }).end(Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
      },
    });
    const result = await fetchUpstream(`${server.url}/bild.jpg`, { ...FAST, headers: { Range: 'bytes=0-3' } });
    expect(server.requests[0]!.headers.range).toBe('bytes=0-3');
    expect(result).toMatchObject({ status: 206, truncated: false });
    expect(result.headers.get('content-range')).toBe('bytes 0-3/12345');
    expect([...result.bytes]).toEqual([0xff, 0xd8, 0xff, 0xe0]);
  });

  test('a chain of three redirects (absolute, relative, root-relative) is followed and the final URL reported', async () => {
    const server = await upstream({
      '/archive/feed': redirect('current', 307),
      '/archive/current': redirect('/feed.xml', 308),
      '/feed.xml': { body: PAGE },
    });
    server.set('/old/feed', redirect(`${server.url}/archive/feed`, 301));
    const result = await fetchUpstream(`${server.url}/old/feed`, FAST);
    expect(result.url).toBe(`${server.url}/feed.xml`);
    expect(result.bytes.toString('utf8')).toBe(PAGE);
    expect(server.requests.map((request) => request.path)).toEqual(['/old/feed', '/archive/feed', '/archive/current', '/feed.xml']);
  });

  test('a redirect loop fails naming the loop, without retries', async () => {
    const server = await upstream({ '/a': redirect('/b'), '/b': redirect('/a#top') });
    const error = await failure(`${server.url}/a`);
    expect(error.message).toBe(`GET ${server.url}/a: redirect loop: ${server.url}/a -> ${server.url}/b -> ${server.url}/a`);
    expect(error.retryable).toBe(false);
    expect(server.requests).toHaveLength(2);
  });

  test('five redirects are followed, six are not', async () => {
    const routes: Record<string, Route> = { '/final': { body: 'ok' } };
    for (let hop = 1; hop <= 6; hop++) routes[`/r${hop}`] = redirect(hop === 6 ? '/final' : `/r${hop + 1}`);
    const server = await upstream(routes);
    expect((await fetchUpstream(`${server.url}/r2`, FAST)).url).toBe(`${server.url}/final`);
    const error = await failure(`${server.url}/r1`);
    expect(error.message).toBe(`GET ${server.url}/r1: more than 5 redirects (the next to ${server.url}/final)`);
    expect(error.retryable).toBe(false);
  });

  test('a redirect to anything but http or https is refused', async () => {
    const server = await upstream({ '/ftp': redirect('ftp://files.example/feed.xml'), '/file': redirect('file:///etc/passwd') });
    expect((await failure(`${server.url}/ftp`)).message)
      .toBe(`GET ${server.url}/ftp: redirect to ftp://files.example/feed.xml refused: only http and https are followed`);
    expect((await failure(`${server.url}/file`)).message).toMatch(/redirect to file:\/\/\/etc\/passwd refused/);
    expect((await failure('file:///etc/passwd')).message).toBe('GET file:///etc/passwd: only http and https URLs are fetched, not file:');
  });

  test('credentials are not sent on to another origin after a redirect', async () => {
    const other = await upstream({ '/feed.xml': { body: 'ok' } });
    const server = await upstream({ '/same': redirect('/feed'), '/feed': redirect(`${other.url}/feed.xml`) });
    await fetchUpstream(`${server.url}/same`, { ...FAST, headers: { Authorization: 'Bearer geheim', 'X-Source': 'lindenau' } });
    expect(server.requests[1]!.headers['authorization']).toBe('Bearer geheim');
    expect(other.requests[0]!.headers['authorization']).toBeUndefined();
    expect(other.requests[0]!.headers['x-source']).toBe('lindenau');
  });

  test('a 500 followed by a 200 succeeds after one retry', async () => {
    const server = await upstream({ '/feed.xml': sequence([status(500), { body: PAGE }]) });
    const result = await fetchUpstream(`${server.url}/feed.xml`, FAST);
    expect(result.bytes.toString('utf8')).toBe(PAGE);
    expect(server.hits('/feed.xml')).toBe(2);
  });

  test('a lasting 500 fails after retries + 1 attempts', async () => {
    const server = await upstream({ '/feed.xml': status(500) });
    const error = await failure(`${server.url}/feed.xml`, { retries: 2 });
    expect(error.message).toBe(`GET ${server.url}/feed.xml: HTTP 500 after 3 attempts`);
    expect(error).toMatchObject({ status: 500, retryable: true });
    expect(server.hits('/feed.xml')).toBe(3);
  });

  test('a refused connection is a retryable FetchError that says why', async () => {
    const server = await startUpstream({});
    await server.close();
    const error = await failure(`${server.url}/feed.xml`, { retries: 1 });
    expect(error.message).toMatch(new RegExp(`^GET ${server.url}/feed.xml: request failed \\(fetch failed: .*ECONNREFUSED.*\\) after 2 attempts$`));
    expect(error.retryable).toBe(true);
  });

  test('a 429 with Retry-After is retried no earlier than the upstream asked', async () => {
    const server = await upstream({ '/feed.xml': sequence([status(429, { 'retry-after': '1' }), { body: PAGE }]) });
    const result = await fetchUpstream(`${server.url}/feed.xml`, FAST);
    expect(result.status).toBe(200);
    expect(server.hits('/feed.xml')).toBe(2);
    // Measured on the server's clock; the backoff alone would have been 10 ms.
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(900);
  });

  test('a Retry-After longer than maxRetryAfterMs fails at once, saying how long was asked', async () => {
    const inTwoHours = new Date(Date.now() + 2 * 3600_000).toUTCString();
    const server = await upstream({
      '/seconds': status(503, { 'retry-after': '120' }),
      '/date': status(429, { 'retry-after': inTwoHours }),
    });
    const seconds = await failure(`${server.url}/seconds`, { maxRetryAfterMs: 60_000 });
    expect(seconds.message).toBe(`GET ${server.url}/seconds: HTTP 503 with Retry-After 120 s, longer than the 60 s waited for`);
    expect(seconds).toMatchObject({ status: 503, retryable: true });
    const date = await failure(`${server.url}/date`, { maxRetryAfterMs: 60_000 });
    expect(date.message).toMatch(/: HTTP 429 with Retry-After 7[12]\d\d s, longer than the 60 s waited for$/);
    expect(server.hits('/seconds') + server.hits('/date')).toBe(2);
  });

  test('a 404 is not retried', async () => {
    const server = await upstream({});
    const error = await failure(`${server.url}/gone.xml`);
    expect(error.message).toBe(`GET ${server.url}/gone.xml: HTTP 404`);
    expect(error).toMatchObject({ status: 404, retryable: false });
    expect(server.hits('/gone.xml')).toBe(1);
  });
});

describe('createLimiter', () => {
  test('never runs more than its concurrency at once', async () => {
    let active = 0;
    let most = 0;
    const slow = (_req: IncomingMessage, res: ServerResponse) => {
      active += 1;
      most = Math.max(most, active);
      setTimeout(() => {
        active -= 1;
        res.end('ok');
      }, 200);
    };
    const server = await upstream({ '/slow': slow });
    const limit = createLimiter(4);
    const results = await Promise.all(Array.from({ length: 10 }, () => limit(() => fetchUpstream(`${server.url}/slow`, FAST))));
    expect(results.map((result) => result.status)).toEqual(Array(10).fill(200));
    expect(server.hits('/slow')).toBe(10);
    expect(most).toBe(4);
  });
});

describe('decodeText', () => {
  const UMLAUTS = 'Grüße: ä ö ü ß Ä Ö Ü';
  const latin1 = (text: string) => Buffer.from(text, 'latin1');

  test('ISO-8859-1 named by the Content-Type header of the response', async () => {
    const server = await upstream({
      '/alt.html': { body: latin1(`<p>${UMLAUTS}</p>`), headers: { 'content-type': 'text/html; charset=ISO-8859-1' } },
    });
    const result = await fetchUpstream(`${server.url}/alt.html`, FAST);
    expect(decodeText(result.bytes, result.contentType, 'html')).toBe(`<p>${UMLAUTS}</p>`);
  });

  test('ISO-8859-1 named only by <meta charset> or <meta http-equiv>', () => {
    const charset = `<html><head><meta charset="iso-8859-1"><title>${UMLAUTS}</title>`;
    expect(decodeText(latin1(charset), 'text/html', 'html')).toBe(charset);
    const httpEquiv = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><title>${UMLAUTS}</title>`;
    expect(decodeText(latin1(httpEquiv), null, 'html')).toBe(httpEquiv);
  });

  test('windows-1252: the euro sign and typographic quotes and dashes, also when the page says ISO-8859-1', () => {
    // „Köln“ – ‘5 €’ … ™ in windows-1252.
    const text = Buffer.from([0x84, 0x4b, 0xf6, 0x6c, 0x6e, 0x93, 0x20, 0x96, 0x20, 0x91, 0x35, 0x20, 0x80, 0x92, 0x20, 0x85, 0x20, 0x99]);
    const page = (declared: string) => Buffer.concat([latin1(`<meta charset="${declared}"><p>`), text, latin1('</p>')]);
    expect(decodeText(page('windows-1252'), null, 'html')).toBe('<meta charset="windows-1252"><p>„Köln“ – ‘5 €’ … ™</p>');
    // Browsers read ISO-8859-1 as windows-1252, and so do the sites that declare it.
    expect(decodeText(page('iso-8859-1'), null, 'html')).toBe('<meta charset="iso-8859-1"><p>„Köln“ – ‘5 €’ … ™</p>');
    expect(decodeText(text, 'text/html; charset=latin1', 'html')).toBe('„Köln“ – ‘5 €’ … ™');
  });

  test('an XML declaration names the encoding of a feed', () => {
    const xml = `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>${UMLAUTS}</title></channel></rss>`;
    expect(decodeText(latin1(xml), 'application/rss+xml', 'xml')).toBe(xml);
    expect(decodeText(latin1(xml), null, 'html')).toBe(xml);
  });

  test('a UTF-8 BOM decides and is stripped; it outranks the header', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`<p>${UMLAUTS}</p>`, 'utf8')]);
    expect(decodeText(bytes, null, 'html')).toBe(`<p>${UMLAUTS}</p>`);
    expect(decodeText(bytes, 'text/xml; charset=iso-8859-1', 'xml')).toBe(`<p>${UMLAUTS}</p>`);
  });

  test('the header charset outranks a <meta> that contradicts it', () => {
    const html = `<meta charset="utf-8"><p>${UMLAUTS}</p>`;
    expect(decodeText(latin1(html), 'text/html; charset="iso-8859-1"', 'html')).toBe(html);
  });

  test('without any declaration, UTF-8; bytes that are not UTF-8 are read as windows-1252', () => {
    expect(decodeText(Buffer.from(`<p>${UMLAUTS}</p>`, 'utf8'), 'text/html', 'html')).toBe(`<p>${UMLAUTS}</p>`);
    expect(decodeText(Buffer.from(`<a>${UMLAUTS}</a>`, 'utf8'), null, 'xml')).toBe(`<a>${UMLAUTS}</a>`);
    expect(decodeText(latin1(`<p>${UMLAUTS}</p>`), null, 'html')).toBe(`<p>${UMLAUTS}</p>`);
  });

  test('a declared encoding TextDecoder cannot use counts as none', () => {
    expect(decodeText(Buffer.from(`<p>${UMLAUTS}</p>`, 'utf8'), 'text/html; charset=x-user-defined', 'html')).toBe(`<p>${UMLAUTS}</p>`);
    expect(decodeText(latin1(`<p>${UMLAUTS}</p>`), 'text/html; charset=iso-2022-kr', 'html')).toBe(`<p>${UMLAUTS}</p>`);
  });

  test('a <meta> content attribute ending in "charset" does not break decoding', () => {
    const html = `<meta http-equiv="content-type" content="text/html; charset"><p>${UMLAUTS}</p>`;
    expect(decodeText(Buffer.from(html, 'utf8'), null, 'html')).toBe(html);
  });
});
