import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, test } from 'vitest';
import { BASE_URL, createTestApp, FIXTURES, type TestApp } from '../helpers/app.js';
import { input } from '../helpers/fixtures.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { expectMirrored } from '../helpers/mirror.js';

/** Herold's copy of an image, as the API answers it: absolute. */
const COPY = /^http:\/\/herold\.test\/media\/remote\/[0-9a-f]{32}\.png$/;

const TOKEN = 'press-office-token-0001';
const SECOND_TOKEN = 'press-office-token-0002';
const PNG = readFileSync(path.join(FIXTURES, 'media', 'bild-ohne-endung'));
const PDF = readFileSync(path.join(FIXTURES, 'media', 'anlage.pdf'));
const UUID_V4 = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PROBLEM = 'application/problem+json; charset=utf-8';

const apps: TestApp[] = [];
const upstreams: Upstream[] = [];
afterEach(async () => {
  while (apps.length) apps.pop()!.close();
  while (upstreams.length) await upstreams.pop()!.close();
});

/** The image servers are on 127.0.0.1, which the API fetches from only when allowed. */
function app(env: Record<string, string> = { HEROLD_API_TOKENS: `${TOKEN},${SECOND_TOKEN}`, HEROLD_ALLOW_PRIVATE_URLS: '127.0.0.1' }): TestApp {
  const t = createTestApp({ env });
  apps.push(t);
  return t;
}

/** An upstream serving an image (after `delayMs`), a PDF, and 404 for anything else. */
async function imageServer(delayMs = 0): Promise<Upstream> {
  const upstream = await startUpstream({
    '/bild.png': (_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length) }).end(PNG), delayMs);
    },
    '/anlage.pdf': { headers: { 'content-type': 'application/pdf' }, body: PDF },
  });
  upstreams.push(upstream);
  return upstream;
}

function release(extra: Record<string, unknown> = {}) {
  return {
    title: 'Neuer Radweg an der Jülicher Straße',
    subtitle: 'Bauarbeiten ab März',
    body: '<p>Die Stadt baut einen <strong>Radweg</strong>.</p><script>alert(1)</script><p onclick="x()">Sechs Wochen.</p>',
    topics: ['Verkehr', 'Radverkehr'],
    department: 'Fachbereich Mobilität und Verkehr',
    organisation: 'Stadt Lindenau',
    published_at: '2026-11-24T09:30:00+01:00',
    contact: { name: 'Annika Schröder', phone: '02461/382-1322', email: 'presse@lindenau.example' },
    ...extra,
  };
}

const bearer = (token = TOKEN) => ({ Authorization: `Bearer ${token}` });

function post(t: TestApp, body: unknown, headers: Record<string, string> = {}) {
  return request(t.app).post('/api/v1/releases').set(bearer()).set(headers).send(body as object);
}

async function created(t: TestApp, extra: Record<string, unknown> = {}) {
  const res = await post(t, release(extra)).expect(201);
  return res.body as Record<string, any>;
}

async function etagOf(t: TestApp, id: string): Promise<string> {
  return (await request(t.app).get(`/api/v1/releases/${id}`).set(bearer()).expect(200)).headers.etag as string;
}

function releaseCount(t: TestApp): number {
  return t.db.prepare('SELECT count(*) FROM releases').pluck().get() as number;
}

async function feedGuids(t: TestApp, feed = '/feeds/all.json'): Promise<string[]> {
  const res = await request(t.app).get(feed).expect(200);
  return (JSON.parse(res.text) as { items: Array<{ id: string }> }).items.map((item) => item.id);
}

describe('POST /api/v1/releases', () => {
  test('answers 201 with the release object and Location; the release is in the feeds and has its page', async () => {
    const t = app();
    const res = await post(t, release()).expect(201);
    const body = res.body as Record<string, any>;
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers.location).toBe(`/api/v1/releases/${body.id}`);
    expect(res.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(Object.keys(body)).toEqual(['id', 'guid', 'slug', 'url', 'title', 'subtitle', 'body', 'topics', 'department', 'organisation',
      'language', 'published_at', 'updated_at', 'embargo_until', 'image', 'attachments', 'contact', 'status']);
    expect(body).toMatchObject({
      id: expect.stringMatching(/^\d+$/),
      slug: 'neuer-radweg-an-der-juelicher-strasse',
      url: `${BASE_URL}/releases/neuer-radweg-an-der-juelicher-strasse`,
      title: 'Neuer Radweg an der Jülicher Straße',
      subtitle: 'Bauarbeiten ab März',
      body: '<p>Die Stadt baut einen <strong>Radweg</strong>.</p><p>Sechs Wochen.</p>',
      topics: ['Verkehr', 'Radverkehr'],
      department: 'Fachbereich Mobilität und Verkehr',
      organisation: 'Stadt Lindenau',
      language: 'de',
      published_at: '2026-11-24T08:30:00.000Z',
      updated_at: null,
      embargo_until: null,
      image: null,
      attachments: [],
      status: 'published',
    });
    expect(body.contact).toEqual({
      name: 'Annika Schröder', organisation: null, street: null, postcode: null, city: null, phone: '02461/382-1322', fax: null,
      email: 'presse@lindenau.example',
    });
    expect(body.guid).toMatch(UUID_V4);
    expect(t.store.releaseById(Number(body.id))!.sourceId).toBe('api');

    expect(await feedGuids(t)).toContain(body.guid);
    // New topics and departments were created on first use, with ASCII slugs, and have their feeds.
    expect(await feedGuids(t, '/feeds/topics/radverkehr.json')).toEqual([body.guid]);
    expect(await feedGuids(t, '/feeds/departments/fachbereich-mobilitaet-und-verkehr.json')).toEqual([body.guid]);
    const page = await request(t.app).get(`/releases/${body.slug}`).expect(200);
    expect(page.text).toContain('Neuer Radweg an der Jülicher Straße');
  });

  test('keeps a given GUID and slug; a second POST with that GUID is a 409, and creates nothing', async () => {
    const t = app();
    const first = await created(t, { guid: 'tag:lindenau.example,2026:pm-1', slug: 'radweg' });
    expect(first).toMatchObject({ guid: 'tag:lindenau.example,2026:pm-1', slug: 'radweg' });
    const again = await post(t, release({ guid: 'tag:lindenau.example,2026:pm-1', title: 'Anders' })).expect(409);
    expect(again.headers['content-type']).toBe(PROBLEM);
    expect(again.body.detail).toContain(`/api/v1/releases/${first.id}`);
    expect(releaseCount(t)).toBe(1);
  });

  test('measures images and attachments by URL, stores the probe and reuses it', async () => {
    const t = app();
    const upstream = await imageServer();
    const image = { url: `${upstream.url}/bild.png`, alt: 'Ein Radweg', caption: 'So soll es aussehen', credit: '© Stadt Lindenau' };
    const body = await created(t, { image, attachments: [{ url: `${upstream.url}/anlage.pdf`, title: 'Lageplan' }] });
    // The image is Herold's copy (so that pages load nothing from elsewhere); the attachment stays linked.
    expect(body.image).toEqual({ ...image, url: expect.stringMatching(COPY), width: 40, height: 30, mime_type: 'image/png', size_in_bytes: PNG.length });
    expectMirrored(t.config, new URL(body.image.url).pathname, PNG);
    expect(body.attachments).toEqual([{ url: `${upstream.url}/anlage.pdf`, title: 'Lageplan', mime_type: 'application/pdf', size_in_bytes: PDF.length }]);
    expect(t.store.probeOf(image.url)).toMatchObject({ mime: 'image/png', width: 40, height: 30, error: null });
    const second = await created(t, { title: 'Noch ein Radweg', image });
    expect(second.image.width).toBe(40);
    expect(upstream.hits('/bild.png')).toBe(1);
    const feed = JSON.parse((await request(t.app).get('/feeds/all.json').expect(200)).text);
    expect(feed.items.find((item: { id: string }) => item.id === body.guid).attachments).toContainEqual(
      expect.objectContaining({ url: body.image.url, mime_type: 'image/png', size_in_bytes: PNG.length }));
  });

  test('a failing probe does not fail the request: the measured values are null', async () => {
    const t = app();
    const upstream = await imageServer();
    const body = await created(t, { image: { url: `${upstream.url}/fehlt.jpg`, alt: 'Fehlt' } });
    expect(body.image).toEqual({
      url: `${upstream.url}/fehlt.jpg`, alt: 'Fehlt', caption: null, credit: null, width: null, height: null, mime_type: null, size_in_bytes: null,
    });
    expect(t.store.probeOf(`${upstream.url}/fehlt.jpg`)!.error).toMatch(/404/);
  });
});

describe('tokens', () => {
  test('401 with WWW-Authenticate without a token, 403 with a wrong one; every configured token is accepted', async () => {
    const t = app();
    const none = await request(t.app).post('/api/v1/releases').send(release()).expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="herold"');
    expect(none.headers['content-type']).toBe(PROBLEM);
    const wrong = await request(t.app).post('/api/v1/releases').set(bearer('press-office-token-9999')).send(release()).expect(403);
    expect(wrong.headers['www-authenticate']).toBeUndefined();
    expect(wrong.body).toMatchObject({ status: 403, title: 'Forbidden' });
    await request(t.app).post('/api/v1/releases').set('Authorization', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`).send(release()).expect(403);
    await request(t.app).post('/api/v1/releases').set(bearer(SECOND_TOKEN)).send(release()).expect(201);
    const id = (await created(t, { title: 'Zweite' })).id;
    for (const method of ['put', 'patch', 'delete'] as const) {
      const res = await request(t.app)[method](`/api/v1/releases/${id}`).send(release()).expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="herold"');
      await request(t.app)[method](`/api/v1/releases/${id}`).set(bearer('nope-nope-nope-nope')).send(release()).expect(403);
    }
    expect(releaseCount(t)).toBe(2);
  });

  test('without HEROLD_API_TOKENS every write is a 403 saying so', async () => {
    const t = app({});
    t.store.upsertReleases([input({ guid: 'g1', title: 'Vorhanden', publishedAt: '2026-11-20T10:00:00Z' })]);
    const id = t.store.releaseByGuid('g1')!.id;
    const writes = [
      request(t.app).post('/api/v1/releases').set(bearer()).send(release()),
      request(t.app).put(`/api/v1/releases/${id}`).set(bearer()).send(release()),
      request(t.app).patch(`/api/v1/releases/${id}`).send({ title: 'x' }),
      request(t.app).delete(`/api/v1/releases/${id}`),
    ];
    for (const res of await Promise.all(writes)) {
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(res.body.detail).toContain('HEROLD_API_TOKENS');
    }
    expect(t.store.releaseById(id)!.status).toBe('published');
    // Reading stays public.
    await request(t.app).get(`/api/v1/releases/${id}`).expect(200);
  });
});

describe('validation', () => {
  test('a bad body is a 422 problem naming every bad field by its JSON pointer', async () => {
    const t = app();
    const res = await post(t, {
      title: '   ',
      body: 42,
      published_at: 'gestern',
      topics: 'Verkehr',
      language: 'Deutsch',
      embargo_until: '2026-13-01',
      image: { url: 'ftp://bilder.example/a.jpg', alt: 7 },
      attachments: [{ title: 'ohne URL' }],
      contact: { email: 5, handy: '0171' },
      status: 'draft',
      colour: 'rot',
    }).expect(422);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.body).toMatchObject({ type: 'about:blank', title: 'Unprocessable Content', status: 422, instance: '/api/v1/releases' });
    const pointers = new Set((res.body.errors as Array<{ pointer: string; detail: string }>).map((error) => error.pointer));
    expect([...pointers].sort()).toEqual(['/attachments/0/url', '/body', '/colour', '/contact/email', '/contact/handy', '/embargo_until',
      '/image/alt', '/image/url', '/language', '/published_at', '/status', '/title', '/topics'].sort());
    for (const error of res.body.errors) expect(error.detail).toEqual(expect.any(String));
    expect(res.body.errors).toContainEqual({ pointer: '/colour', detail: 'is not a field here' });
    expect(res.body.errors).toContainEqual({ pointer: '/title', detail: 'must not be blank' });
    expect(releaseCount(t)).toBe(0);
  });

  test('missing required fields are each named', async () => {
    const t = app();
    const res = await post(t, { subtitle: 'nur das' }).expect(422);
    expect(res.body.errors).toEqual([
      { pointer: '/title', detail: 'is required' },
      { pointer: '/body', detail: 'is required' },
      { pointer: '/published_at', detail: 'is required' },
    ]);
    const array = await post(t, [release()]).expect(422);
    expect(array.body.errors).toEqual([{ pointer: '', detail: 'must be object' }]);
  });

  test('malformed JSON is a 400 problem, not an HTML page', async () => {
    const t = app();
    const res = await request(t.app).post('/api/v1/releases').set(bearer()).set('Content-Type', 'application/json')
      .send('{"title": "Radweg",').expect(400);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.body.detail).toMatch(/^The body is not valid JSON/);
    const empty = await request(t.app).post('/api/v1/releases').set(bearer()).set('Content-Type', 'application/json').expect(400);
    expect(empty.headers['content-type']).toBe(PROBLEM);
  });

  test('a body over 1 MB is a 413 problem', async () => {
    const t = app();
    const body = release({ body: `<p>${'Radweg '.repeat(160_000)}</p>` });
    const res = await post(t, body).expect(413);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.body).toMatchObject({ status: 413, title: 'Content Too Large' });
    expect(releaseCount(t)).toBe(0);
  });

  test('another media type is a 415 problem', async () => {
    const t = app();
    const res = await request(t.app).post('/api/v1/releases').set(bearer()).set('Content-Type', 'text/plain')
      .send(JSON.stringify(release())).expect(415);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.headers['accept-post']).toBe('application/json');
    await request(t.app).post('/api/v1/releases').set(bearer()).type('form').send({ title: 'x' }).expect(415);
  });

  test('other methods on the collection are a 405 with Allow', async () => {
    const t = app();
    const res = await request(t.app).delete('/api/v1/releases').set(bearer()).expect(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.headers['content-type']).toBe(PROBLEM);
  });
});

describe('Idempotency-Key', () => {
  test('the same key and body give the same answer and one release; another body is a 422', async () => {
    const t = app();
    const key = { 'Idempotency-Key': 'a1b2c3d4-0001' };
    const first = await post(t, release(), key).expect(201);
    // The same body in another key order and spacing is the same request.
    const reordered = Object.fromEntries(Object.entries(release()).reverse());
    const second = await post(t, reordered, key).expect(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.location).toBe(first.headers.location);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(releaseCount(t)).toBe(1);

    const other = await post(t, release({ title: 'Ein anderer Radweg' }), key).expect(422);
    expect(other.headers['content-type']).toBe(PROBLEM);
    expect(other.body.detail).toContain('Idempotency-Key');
    expect(releaseCount(t)).toBe(1);

    // Keys belong to a token: another token's same key is another request.
    await request(t.app).post('/api/v1/releases').set(bearer(SECOND_TOKEN)).set(key).send(release()).expect(201);
    expect(releaseCount(t)).toBe(2);
  });

  test('two concurrent POSTs with one key create one release (the second waits for the first)', async () => {
    const t = app();
    const upstream = await imageServer(150);
    const body = release({ image: { url: `${upstream.url}/bild.png`, alt: 'Radweg' } });
    const key = { 'Idempotency-Key': '"concurrent-1"' };
    const [a, b] = await Promise.all([post(t, body, key), post(t, body, key)]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).toBe(b.body.id);
    expect(a.body.image.width).toBe(40);
    expect(releaseCount(t)).toBe(1);
  });

  test('a malformed key is a 400 naming the header', async () => {
    const t = app();
    const res = await post(t, release(), { 'Idempotency-Key': 'mit leerzeichen' }).expect(400);
    expect(res.body.parameter).toBe('Idempotency-Key');
  });
});

describe('GET /api/v1/releases/{id}', () => {
  test('carries a strong ETag and answers If-None-Match with 304', async () => {
    const t = app();
    const { id } = await created(t);
    const res = await request(t.app).get(`/api/v1/releases/${id}`).set(bearer()).expect(200);
    expect(res.headers.etag).toMatch(/^"[\w-]{32}"$/);
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.headers.vary).toBe('Authorization');
    await request(t.app).get(`/api/v1/releases/${id}`).set(bearer()).set('If-None-Match', res.headers.etag!).expect(304);
    // The same data give the same ETag (it is computed from the content, not the request).
    expect(await etagOf(t, id)).toBe(res.headers.etag);
    const pub = await request(t.app).get(`/api/v1/releases/${id}`).expect(200);
    expect(pub.body.status).toBeUndefined();
    expect(pub.body.embargo_until).toBeUndefined();
    expect(pub.headers['cache-control']).toBe('no-cache');
    await request(t.app).head(`/api/v1/releases/${id}`).expect(200);
  });

  test('unknown ids are 404 problems', async () => {
    const t = app();
    for (const id of ['99', 'abc', '0', '1e3']) {
      const res = await request(t.app).get(`/api/v1/releases/${id}`).set(bearer()).expect(404);
      expect(res.headers['content-type']).toBe(PROBLEM);
    }
  });

  test('a wrong token on a read is a 403, not a silent public view', async () => {
    const t = app();
    const { id } = await created(t);
    await request(t.app).get(`/api/v1/releases/${id}`).set(bearer('wrong-wrong-wrong-wrong')).expect(403);
    await request(t.app).get('/api/v1/releases').set(bearer('wrong-wrong-wrong-wrong')).expect(403);
  });
});

describe('PUT /api/v1/releases/{id}', () => {
  test('needs If-Match (428), refuses a stale one (412), and records a correction with the same GUID', async () => {
    const t = app();
    const original = await created(t);
    const etag = await etagOf(t, original.id);
    const corrected = release({ title: 'Neuer Radweg an der Jülicher Straße: sieben Wochen Bauzeit', topics: ['Verkehr'] });

    const missing = await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).send(corrected).expect(428);
    expect(missing.headers['content-type']).toBe(PROBLEM);
    await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', '"stale"').send(corrected).expect(412);
    await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', `W/${etag}`).send(corrected).expect(412);

    t.now = new Date('2026-11-25T13:00:00Z');
    const res = await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .set('X-Correction-Note', encodeURIComponent('Bauzeit korrigiert – sieben Wochen')).send(corrected).expect(200);
    expect(res.body).toMatchObject({
      id: original.id,
      guid: original.guid,
      title: 'Neuer Radweg an der Jülicher Straße: sieben Wochen Bauzeit',
      topics: ['Verkehr'],
      updated_at: '2026-11-25T13:00:00.000Z',
      published_at: original.published_at,
    });
    expect(res.headers.etag).not.toBe(etag);
    expect(res.headers.etag).toBe(await etagOf(t, original.id));
    const revisions = t.store.revisionsOf(Number(original.id));
    expect(revisions).toHaveLength(1);
    expect(revisions[0]!.note).toBe('Bauzeit korrigiert – sieben Wochen');
    expect(revisions[0]!.previous).toMatchObject({ title: 'Neuer Radweg an der Jülicher Straße', topics: ['Verkehr', 'Radverkehr'] });
    // The old slug redirects to the new one.
    await request(t.app).get(`/releases/${original.slug}`).expect(301);
    expect(await feedGuids(t)).toEqual([original.guid]);

    // The ETag it answered is the one to use next; the first one is stale now.
    await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag).send(corrected).expect(412);
  });

  test('is a full replace: every required field, and fields left out are cleared; the GUID cannot change', async () => {
    const t = app();
    const original = await created(t);
    const etag = await etagOf(t, original.id);
    const partial = await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .send({ title: 'Nur ein Titel' }).expect(422);
    expect(partial.body.errors.map((error: { pointer: string }) => error.pointer)).toEqual(['/body', '/published_at']);
    const guid = await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .send(release({ guid: 'urn:uuid:00000000-0000-4000-8000-000000000000', id: '999' })).expect(422);
    expect(guid.body.errors.map((error: { pointer: string }) => error.pointer)).toEqual(['/id', '/guid']);

    // What GET answered can be PUT back as it is (read-only fields are accepted and ignored).
    const current = (await request(t.app).get(`/api/v1/releases/${original.id}`).set(bearer())).body;
    const same = await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .send({ ...current, subtitle: null, contact: null }).expect(200);
    expect(same.body).toMatchObject({ subtitle: null, contact: null, guid: original.guid, title: original.title });
  });

  test('an unchanged PUT writes nothing: same ETag, no revision, no updated_at', async () => {
    const t = app();
    const original = await created(t);
    const etag = await etagOf(t, original.id);
    const res = await request(t.app).put(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag).send(release()).expect(200);
    expect(res.headers.etag).toBe(etag);
    expect(res.body.updated_at).toBeNull();
    expect(t.store.revisionsOf(Number(original.id))).toEqual([]);
  });

  test('an unknown id is a 404 before anything else', async () => {
    const t = app();
    await request(t.app).put('/api/v1/releases/42').set(bearer()).send(release()).expect(404);
  });
});

describe('PATCH /api/v1/releases/{id}', () => {
  test('merges: fields left out stay, null clears, objects merge; the note comes from correction_note', async () => {
    const t = app();
    const upstream = await imageServer();
    const original = await created(t, { image: { url: `${upstream.url}/bild.png`, alt: 'Radweg', caption: 'Entwurf' } });
    t.now = new Date('2026-11-25T14:00:00Z');
    const res = await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', await etagOf(t, original.id))
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({
        title: original.title,
        subtitle: null,
        contact: { phone: null, city: 'Lindenau' },
        image: { caption: 'So soll es aussehen' },
        correction_note: 'Untertitel entfernt',
      }))
      .expect(200);
    expect(res.body).toMatchObject({
      guid: original.guid,
      title: original.title,
      subtitle: null,
      body: original.body,
      topics: original.topics,
      updated_at: '2026-11-25T14:00:00.000Z',
      contact: { name: 'Annika Schröder', phone: null, city: 'Lindenau', email: 'presse@lindenau.example' },
      image: { url: original.image.url, alt: 'Radweg', caption: 'So soll es aussehen', width: 40, height: 30, mime_type: 'image/png' },
    });
    expect(upstream.hits('/bild.png')).toBe(1);
    expect(t.store.revisionsOf(Number(original.id)).map((revision) => revision.note)).toEqual(['Untertitel entfernt']);

    const cleared = await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', res.headers.etag!)
      .send({ title: original.title, image: null, topics: null }).expect(200);
    expect(cleared.body).toMatchObject({ image: null, topics: [] });
  });

  test('a stale If-Match is a 412 (someone changed it first); a missing one 428', async () => {
    const t = app();
    const original = await created(t);
    const etag = await etagOf(t, original.id);
    await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .send({ title: 'Erste Änderung' }).expect(200);
    const stale = await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .send({ title: 'Zweite Änderung' }).expect(412);
    expect(stale.headers['content-type']).toBe(PROBLEM);
    await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).send({ title: 'Ohne If-Match' }).expect(428);
    expect((await request(t.app).get(`/api/v1/releases/${original.id}`).set(bearer())).body.title).toBe('Erste Änderung');
  });

  test('title is required; required fields cannot be cleared; every bad field is named', async () => {
    const t = app();
    const original = await created(t);
    const etag = await etagOf(t, original.id);
    const noTitle = await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .send({ subtitle: 'nur' }).expect(422);
    expect(noTitle.body.errors).toEqual([{ pointer: '/title', detail: 'is required' }]);
    const bad = await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .send({ title: 'Radweg', body: null, published_at: 'morgen', image: { alt: 'ohne Bild' }, guid: 'urn:x:anders' }).expect(422);
    expect(bad.body.errors.map((error: { pointer: string }) => error.pointer).sort()).toEqual(['/body', '/published_at']);
    const merged = await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', etag)
      .send({ title: 'Radweg', image: { alt: 'ohne Bild' }, guid: 'urn:x:anders' }).expect(422);
    expect(merged.body.errors.map((error: { pointer: string }) => error.pointer)).toEqual(['/image/url', '/guid']);
  });
});

describe('DELETE /api/v1/releases/{id}', () => {
  test('withdraws: 204, the page answers 410, the feeds drop it, the row stays', async () => {
    const t = app();
    const original = await created(t);
    expect(await feedGuids(t)).toContain(original.guid);
    await request(t.app).get(`/releases/${original.slug}`).expect(200);

    await request(t.app).delete(`/api/v1/releases/${original.id}`).set(bearer()).set('X-Correction-Note', 'Falsche Angaben').expect(204);
    await request(t.app).get(`/releases/${original.slug}`).expect(410);
    expect(await feedGuids(t)).not.toContain(original.guid);
    expect(await feedGuids(t, '/feeds/topics/verkehr.json')).not.toContain(original.guid);
    await request(t.app).get(`/api/v1/releases/${original.id}`).expect(404);
    const full = await request(t.app).get(`/api/v1/releases/${original.id}`).set(bearer()).expect(200);
    expect(full.body).toMatchObject({ status: 'withdrawn', guid: original.guid, title: original.title });
    expect(releaseCount(t)).toBe(1);
    expect(t.store.revisionsOf(Number(original.id))).toEqual([expect.objectContaining({ note: 'Falsche Angaben', previous: { status: 'published' } })]);

    // Withdrawing again changes nothing.
    await request(t.app).delete(`/api/v1/releases/${original.id}`).set(bearer()).expect(204);
    expect(t.store.revisionsOf(Number(original.id))).toHaveLength(1);
    await request(t.app).delete('/api/v1/releases/4711').set(bearer()).expect(404);
  });

  test('honours an If-Match when one is given', async () => {
    const t = app();
    const original = await created(t);
    await request(t.app).delete(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', '"old"').expect(412);
    await request(t.app).delete(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', await etagOf(t, original.id)).expect(204);
  });

  test('a withdrawn release can be published again with PATCH', async () => {
    const t = app();
    const original = await created(t);
    await request(t.app).delete(`/api/v1/releases/${original.id}`).set(bearer()).expect(204);
    await request(t.app).patch(`/api/v1/releases/${original.id}`).set(bearer()).set('If-Match', await etagOf(t, original.id))
      .send({ title: original.title, status: 'published' }).expect(200);
    await request(t.app).get(`/releases/${original.slug}`).expect(200);
  });
});

describe('embargo', () => {
  test('an embargoed release is invisible without a token and visible with one, until its time comes', async () => {
    const t = app();
    const embargoed = await created(t, {
      title: 'Haushalt 2027', embargo_until: '2026-11-26T08:00:00+01:00', topics: ['Finanzen'], department: 'Fachbereich Finanzen',
    });
    const totals = async (auth: boolean) => Promise.all(['', '?topic=finanzen', '?department=fachbereich-finanzen'].map(async (query) => {
      const answer = request(t.app).get(`/api/v1/releases${query}`);
      return (await (auth ? answer.set(bearer()) : answer).expect(200)).body.total as number;
    }));
    expect(embargoed.embargo_until).toBe('2026-11-26T07:00:00.000Z');

    await request(t.app).get(`/api/v1/releases/${embargoed.id}`).expect(404);
    expect((await request(t.app).get('/api/v1/releases').expect(200)).body).toEqual({ items: [], total: 0, next_cursor: null });
    expect(await feedGuids(t)).not.toContain(embargoed.guid);
    await request(t.app).get(`/releases/${embargoed.slug}`).expect(404);
    expect((await request(t.app).get('/api/v1/releases?q=Haushalt').expect(200)).body.total).toBe(0);
    // Whole list, topic, department: the public counts leave the embargoed release out, a token holder's count it.
    expect(await totals(false)).toEqual([0, 0, 0]);
    expect(await totals(true)).toEqual([1, 1, 1]);

    await request(t.app).get(`/api/v1/releases/${embargoed.id}`).set(bearer()).expect(200);
    const list = await request(t.app).get('/api/v1/releases').set(bearer()).expect(200);
    expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([embargoed.id]);
    const only = await request(t.app).get('/api/v1/releases?status=embargoed').set(bearer()).expect(200);
    expect(only.body.total).toBe(1);
    expect((await request(t.app).get('/api/v1/releases?status=published').set(bearer()).expect(200)).body.total).toBe(0);

    t.now = new Date('2026-11-26T07:00:00Z');
    await request(t.app).get(`/api/v1/releases/${embargoed.id}`).expect(200);
    expect(await feedGuids(t)).toContain(embargoed.guid);
    expect((await request(t.app).get('/api/v1/releases').expect(200)).body.total).toBe(1);
    expect(await totals(false)).toEqual([1, 1, 1]);
  });
});

describe('GET /api/v1/releases', () => {
  async function seeded(): Promise<TestApp> {
    const t = app();
    const day = (n: number) => `2026-11-${String(10 + n).padStart(2, '0')}T10:00:00Z`;
    for (let n = 1; n <= 5; n++) {
      await created(t, {
        title: `Meldung ${n}`,
        published_at: day(n),
        topics: n % 2 ? ['Verkehr'] : ['Kultur'],
        department: n <= 2 ? 'Fachbereich Finanzen' : 'Fachbereich Kultur',
        body: n === 3 ? '<p>Die Brücke wird saniert.</p>' : '<p>Text.</p>',
      });
    }
    return t;
  }

  const titles = (res: request.Response) => res.body.items.map((item: { title: string }) => item.title);

  test('newest first, cursor-paged, with a total; pages stay stable when releases are added', async () => {
    const t = await seeded();
    const first = await request(t.app).get('/api/v1/releases?limit=2').expect(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(titles(first)).toEqual(['Meldung 5', 'Meldung 4']);
    expect(first.body.total).toBe(5);
    expect(first.body.next_cursor).toEqual(expect.any(String));

    // A newer release arriving between pages does not shift the next page.
    await created(t, { title: 'Eilmeldung', published_at: '2026-11-20T10:00:00Z' });
    const second = await request(t.app).get(`/api/v1/releases?limit=2&cursor=${first.body.next_cursor}`).expect(200);
    expect(titles(second)).toEqual(['Meldung 3', 'Meldung 2']);
    expect(second.body.total).toBe(6);
    const third = await request(t.app).get(`/api/v1/releases?limit=2&cursor=${second.body.next_cursor}`).expect(200);
    expect(titles(third)).toEqual(['Meldung 1']);
    expect(third.body.next_cursor).toBeNull();

    const all = await request(t.app).get('/api/v1/releases').expect(200);
    expect(all.body.items).toHaveLength(6);
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.items[0].status).toBeUndefined();
  });

  test('filters by topic, department and search, like the feeds', async () => {
    const t = await seeded();
    expect(titles(await request(t.app).get('/api/v1/releases?topic=verkehr').expect(200))).toEqual(['Meldung 5', 'Meldung 3', 'Meldung 1']);
    const department = await request(t.app).get('/api/v1/releases?department=fachbereich-finanzen').expect(200);
    expect(titles(department)).toEqual(['Meldung 2', 'Meldung 1']);
    expect(department.body.total).toBe(2);
    // Each filter pages by its own index: a topic's next page follows its cursor.
    const topicPage = await request(t.app).get('/api/v1/releases?topic=verkehr&limit=2').expect(200);
    expect(titles(topicPage)).toEqual(['Meldung 5', 'Meldung 3']);
    expect(topicPage.body.total).toBe(3);
    const topicNext = await request(t.app).get(`/api/v1/releases?topic=verkehr&limit=2&cursor=${topicPage.body.next_cursor}`).expect(200);
    expect(titles(topicNext)).toEqual(['Meldung 1']);
    expect(topicNext.body.next_cursor).toBeNull();
    const departmentNext = await request(t.app).get(`/api/v1/releases?department=fachbereich-kultur&limit=2&cursor=${topicPage.body.next_cursor}`).expect(200);
    expect(titles(departmentNext)).toEqual([]);
    const kulturInFinanzen = await request(t.app).get('/api/v1/releases?topic=kultur&department=fachbereich-finanzen').expect(200);
    expect(titles(kulturInFinanzen)).toEqual(['Meldung 2']);
    expect(kulturInFinanzen.body.total).toBe(1);
    const search = await request(t.app).get(`/api/v1/releases?q=${encodeURIComponent('Brücke')}`).expect(200);
    expect(titles(search)).toEqual(['Meldung 3']);
    expect(search.body.total).toBe(1);
    // A search within a topic counts the matches in it only.
    expect((await request(t.app).get(`/api/v1/releases?q=${encodeURIComponent('Brücke')}&topic=verkehr`).expect(200)).body.total).toBe(1);
    expect((await request(t.app).get(`/api/v1/releases?q=${encodeURIComponent('Brücke')}&topic=kultur`).expect(200)).body).toEqual({ items: [], total: 0, next_cursor: null });
    expect((await request(t.app).get('/api/v1/releases?q=Text&limit=2').expect(200)).body.total).toBe(4);
    const both = await request(t.app).get('/api/v1/releases?topic=verkehr&department=fachbereich-kultur&limit=1').expect(200);
    expect(titles(both)).toEqual(['Meldung 5']);
    expect(both.body.total).toBe(2);
    const next = await request(t.app).get(`/api/v1/releases?topic=verkehr&department=fachbereich-kultur&limit=1&cursor=${both.body.next_cursor}`).expect(200);
    expect(titles(next)).toEqual(['Meldung 3']);
    await request(t.app).get('/api/v1/releases?topic=gibt-es-nicht').expect(404);
  });

  test('withdrawn releases are for token holders only, who can filter by status', async () => {
    const t = await seeded();
    const first = (await request(t.app).get('/api/v1/releases?limit=1').expect(200)).body.items[0];
    await request(t.app).delete(`/api/v1/releases/${first.id}`).set(bearer()).expect(204);
    expect((await request(t.app).get('/api/v1/releases').expect(200)).body.total).toBe(4);
    expect((await request(t.app).get('/api/v1/releases').set(bearer()).expect(200)).body.total).toBe(5);
    const withdrawn = await request(t.app).get('/api/v1/releases?status=withdrawn').set(bearer()).expect(200);
    expect(withdrawn.body.items.map((item: { id: string; status: string }) => [item.id, item.status])).toEqual([[first.id, 'withdrawn']]);
    const anonymous = await request(t.app).get('/api/v1/releases?status=withdrawn').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="herold"');
  });

  test('absurd parameters are 400 problems naming the parameter', async () => {
    const t = await seeded();
    for (const [query, parameter] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=zwei', 'limit'], ['cursor=kaputt', 'cursor'],
      [`cursor=${Buffer.from('["gestern", 1]').toString('base64url')}`, 'cursor'], ['limit=1&limit=2', 'limit'],
      [`q=${'x'.repeat(201)}`, 'q'], ['status=draft', 'status']] as const) {
      const res = await request(t.app).get(`/api/v1/releases?${query}`).set(bearer()).expect(400);
      expect(res.headers['content-type']).toBe(PROBLEM);
      expect(res.body.parameter).toBe(parameter);
    }
    expect((await request(t.app).get('/api/v1/releases?limit=100').expect(200)).body.items).toHaveLength(5);
  });
});
