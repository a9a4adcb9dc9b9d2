import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { createApiStore, type ListQuery, type ListVisibility, type StoredAnswer } from '../db/api-store.js';
import { badRequest, HttpError, notFound, trimmedParam } from '../http/errors.js';
import { jsonBody } from '../http/json-body.js';
import { representation, sendRepresentation } from '../http/representation.js';
import { userAgent } from '../ingest/fetch.js';
import { mirrorImage, probeUrl } from '../ingest/probe.js';
import { addressFilter } from '../net/address-filter.js';
import type { Media, Probe, Release } from '../model.js';
import type { PageDeps } from '../pages/deps.js';
import {
  checkReleaseRequest, inputOfRelease, releaseInputFrom, releaseObjectOf, textOrNull, writableObjectOf,
  type FieldError, type MediaObject, type ReleaseObject, type ReleaseView,
} from '../release-object.js';
import { callerOf, requireApiToken, unauthorized } from './auth.js';
import { openApiDocument } from './openapi.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const ID = /^[1-9]\d{0,15}$/;
const SLUG = /^[a-z0-9-]{1,120}$/;
const KEY = /^[\x21-\x7e]{1,255}$/;
/** Page sizes of GET /api/v1/releases. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;
const MAX_QUERY_LENGTH = 200;
const STATUSES: Readonly<Record<string, ListVisibility>> = {
  all: 'all', published: 'published', embargoed: 'embargoed', withdrawn: 'withdrawn',
};
/** An authoring request waits this long for one image's probe; a slow file server must not hold the press office up. */
const PROBE_TIMEOUT_MS = 5000;
const AUTHOR_TYPES = ['application/json'];
const PATCH_TYPES = ['application/merge-patch+json', 'application/json'];

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** JSON with object keys sorted, so that the same body hashes the same whatever its key order or spacing. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7396 JSON merge patch: objects merge, `null` removes a member, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function invalid(errors: readonly FieldError[]): HttpError {
  const fields = new Set(errors.map((error) => error.pointer)).size;
  return new HttpError(422, 'Unprocessable Content',
    `The release is not valid: ${fields === 1 ? 'one field is' : `${fields} fields are`} wrong.`, { errors });
}

/** The opaque cursor: where a page ended, as (published_at, id). */
function encodeCursor(release: Release): string {
  return Buffer.from(JSON.stringify([release.publishedAt, release.id])).toString('base64url');
}

function decodeCursor(cursor: string): { publishedAt: string; id: number } {
  try {
    const [publishedAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof publishedAt === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(publishedAt) && Number.isSafeInteger(id) && (id as number) > 0) {
      return { publishedAt, id: id as number };
    }
  } catch {
    // Falls through to the 400 below.
  }
  throw badRequest('cursor', '"cursor" is not a cursor this API gave out: use next_cursor from the previous page.');
}

/**
 * Header values arrive as Latin-1 bytes; a note typed in German is sent as UTF-8 (or percent-encoded):
 * read it as what was meant.
 */
function headerText(value: string | undefined): string | null {
  if (value === undefined) return null;
  let text = value;
  if (/[^\x00-\x7f]/.test(text)) {
    const utf8 = Buffer.from(text, 'latin1').toString('utf8');
    if (!utf8.includes('\uFFFD')) text = utf8;
  } else if (/%[0-9a-f]{2}/i.test(text)) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // Not percent-encoding after all ("100%"): kept as it is.
    }
  }
  return textOrNull(text)?.slice(0, 1000) ?? null;
}

/** The Idempotency-Key of a request (a plain token or an RFC 8941 string), or null without one. */
function idempotencyKey(req: Request): string | null {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return null;
  const value = String(raw).trim().replace(/^"(.*)"$/, '$1');
  if (!KEY.test(value)) throw badRequest('Idempotency-Key', 'The Idempotency-Key header must be 1 to 255 visible ASCII characters.');
  return value;
}

/** Whether the release can be seen by the public at `now`. */
function isPublic(release: Release, now: Date): boolean {
  return release.status === 'published' && (!release.embargoUntil || Date.parse(release.embargoUntil) <= now.getTime());
}

/** What Herold measured of one file, and the URL form it is stored under. */
interface Measured {
  readonly url: string;
  readonly probe: Pick<Probe, 'mime' | 'bytes' | 'width' | 'height'>;
}

/** GET, POST, PUT, PATCH and DELETE /api/v1/releases[/{id}] and /api/v1/openapi.json. */
export function releasesApi({ config, store, clock }: PageDeps): Router {
  const router = Router();
  const api = createApiStore(store.connection(), store);
  const tokens = config.apiTokens;
  const baseUrl = config.baseUrl;
  /** POSTs under way, by token and Idempotency-Key: a retry arriving meanwhile waits for the first. */
  const inFlight = new Map<string, Promise<unknown>>();
  const openapi = representation(JSON.stringify(openApiDocument(config)), JSON_TYPE, null);
  // Media URLs come from API clients: Herold fetches them from public addresses only (or HEROLD_ALLOW_PRIVATE_URLS).
  const filter = addressFilter(config.allowPrivateUrls);

  /** The object answered for a release and its strong ETag: a hash of the bytes and of the last write. */
  function represent(release: Release, view: ReleaseView): { body: string; etag: string } {
    const body = JSON.stringify(releaseObjectOf(release, { baseUrl, view }));
    return { body, etag: `"${sha256(`${view}\n${release.changedAt}\n${body}`).slice(0, 32)}"` };
  }

  function sendRelease(res: Response, status: number, release: Release, view: ReleaseView): void {
    const { body, etag } = represent(release, view);
    res.status(status).set('Content-Type', JSON_TYPE).set('ETag', etag).set('Vary', 'Authorization')
      .set('Cache-Control', view === 'full' ? 'private, no-store' : 'no-cache').send(body);
  }

  function releaseAt(req: Request): Release {
    const id = String(req.params.id);
    const release = ID.test(id) ? store.releaseById(Number(id)) : undefined;
    if (!release) throw notFound(`There is no release ${id.slice(0, 40)}.`);
    return release;
  }

  /**
   * If-Match (RFC 9110 13.1.1), compared strongly: 428 when a PUT or PATCH lacks it, 412 when it names
   * another version. Returns the tag to re-check inside the write, or null for `*` or none.
   */
  function precondition(req: Request, release: Release, required: boolean): string | null {
    const header = req.headers['if-match'];
    if (header === undefined) {
      if (!required) return null;
      throw new HttpError(428, 'Precondition Required',
        `${req.method} needs If-Match with the ETag of GET /api/v1/releases/${release.id}, so that no one's change is overwritten unseen.`);
    }
    if (header.trim() === '*') return null;
    const current = represent(release, 'full').etag;
    const tags = header.split(',').map((tag) => tag.trim());
    if (!tags.includes(current)) throw stale(release);
    return current;
  }

  function stale(release: Release): HttpError {
    return new HttpError(412, 'Precondition Failed',
      `Release ${release.id} was changed since that ETag: GET it again, apply your change and retry.`);
  }

  /** Measures every file a release object names: what the release already had, a stored probe, or a new probe. */
  async function measureMedia(object: ReleaseObject, existing: Release | undefined): Promise<Map<string, Measured>> {
    const known = new Map<string, Measured>();
    for (const media of existing ? [...existing.images, ...existing.attachments] : []) {
      const absolute = new URL(media.url, `${baseUrl}/`).href;
      if (media.mime !== null) known.set(absolute, { url: media.url, probe: media });
    }
    const urls = [...new Set([object.image, ...(object.attachments ?? [])].map((item) => item?.url).filter((url): url is string => !!url))];
    const imageUrl = object.image?.url;
    // A failed probe is tried again on an explicit write: the press office may just have fixed the file.
    const needsProbe = (url: string) => {
      const stored = store.probeOf(url);
      return !known.has(url) && (!stored || !!stored.error);
    };
    const checks = await Promise.all(urls.filter(needsProbe).map(async (url) => ({ url, refusal: await filter.refusal(url) })));
    const refused = checks.flatMap(({ url, refusal }) => (refusal === null ? [] : [
      ...(imageUrl === url ? ['/image/url'] : []),
      ...(object.attachments ?? []).flatMap((item, index) => (item?.url === url ? [`/attachments/${index}/url`] : [])),
    ].map((pointer): FieldError => ({ pointer, detail: `cannot be fetched from ${url}: ${refusal.message}` }))));
    if (refused.length) throw invalid(refused);
    const measured = await Promise.all(urls.map(async (url): Promise<[string, Measured]> => {
      const found = known.get(url);
      if (found) return [url, found];
      let probe = store.probeOf(url);
      if (!probe || probe.error) {
        const options = { userAgent: userAgent(baseUrl), timeoutMs: PROBE_TIMEOUT_MS, fetch: filter.fetch };
        // The image is copied so that pages show it without a request to another server; attachments are linked.
        probe = url === imageUrl ? await mirrorImage(url, options, path.join(config.mediaDir, 'remote')) : await probeUrl(url, options);
        store.saveProbe(url, probe, clock());
      }
      return [url, { url: probe.localUrl ?? url, probe }];
    }));
    return new Map(measured);
  }

  /** A validated release object as store input: media measured, Herold's fields kept, `updated_at` left to the store. */
  async function inputOf(object: ReleaseObject, existing: Release | undefined) {
    const measured = await measureMedia(object, existing);
    const media = (item: MediaObject): Media => {
      const found = measured.get(item.url!);
      return {
        url: found?.url ?? item.url!,
        title: textOrNull(item.title), alt: textOrNull(item.alt), caption: textOrNull(item.caption), credit: textOrNull(item.credit),
        width: found?.probe.width ?? null, height: found?.probe.height ?? null, mime: found?.probe.mime ?? null, bytes: found?.probe.bytes ?? null,
      };
    };
    const guid = existing?.guid ?? object.guid ?? `urn:uuid:${randomUUID()}`;
    return releaseInputFrom({ ...object, guid, updated_at: null, status: object.status ?? existing?.status ?? 'published' }, {
      guid, sourceId: existing?.sourceId ?? 'api', sourceRef: existing?.sourceRef ?? null, baseUrl, media,
    });
  }

  /** Errors of fields that name another release than the one at this URL (a GUID never changes). */
  function identityErrors(object: Record<string, unknown>, release: Release): FieldError[] {
    const errors: FieldError[] = [];
    if (object.id !== undefined && object.id !== String(release.id)) {
      errors.push({ pointer: '/id', detail: `must be the id of this release, "${release.id}"` });
    }
    if (object.guid !== undefined && object.guid !== release.guid) {
      errors.push({ pointer: '/guid', detail: `cannot change: this release's GUID is "${release.guid}"` });
    }
    return errors;
  }

  function correctionNote(req: Request, object: ReleaseObject): string | null {
    return textOrNull(object.correction_note) ?? headerText(req.header('x-correction-note'));
  }

  /** Writes a corrected release (PUT, PATCH): re-checks the ETag inside the transaction, records the revision. */
  async function correct(req: Request, res: Response, release: Release, object: ReleaseObject, expected: string | null): Promise<void> {
    const input = await inputOf(object, release);
    const note = correctionNote(req, object);
    const now = clock();
    const updated = api.writing(() => {
      const current = store.releaseById(release.id)!;
      // The probe above awaited: another writer may have come first.
      if (expected !== null && represent(current, 'full').etag !== expected) throw stale(current);
      store.upsertReleases([input], { now, note });
      return store.releaseById(release.id)!;
    });
    sendRelease(res, 200, updated, 'full');
  }

  type Created = { status: number; body: string; location: string; etag: string | null; replayed: boolean };

  function fromStored(stored: StoredAnswer, requestHash: string): Created {
    if (stored.requestHash !== requestHash) {
      throw new HttpError(422, 'Unprocessable Content',
        'This Idempotency-Key was already used with a different body: use a new key for a new release.');
    }
    return { status: stored.status, body: stored.responseJson, location: stored.location ?? '', etag: null, replayed: true };
  }

  /** Creates a release; with an Idempotency-Key, the answer is stored in the same transaction as the release. */
  async function create(body: unknown, idempotency: { tokenHash: string; key: string; requestHash: string } | null): Promise<Created> {
    const errors = checkReleaseRequest(body, 'full');
    if (errors.length) throw invalid(errors);
    const object = body as ReleaseObject;
    const taken = (guid: string | undefined) => (guid ? store.releaseByGuid(guid) : undefined);
    const conflict = (existing: Release) => new HttpError(409, 'Conflict',
      `A release with GUID "${existing.guid}" exists: change it with PUT or PATCH /api/v1/releases/${existing.id}.`);
    const before = taken(object.guid);
    if (before) throw conflict(before);
    const input = await inputOf(object, undefined);
    const now = clock();
    return api.writing(() => {
      if (idempotency) {
        const stored = api.answerFor(idempotency.tokenHash, idempotency.key, now);
        if (stored) return fromStored(stored, idempotency.requestHash);
      }
      const existing = taken(input.guid);
      if (existing) throw conflict(existing);
      const [result] = store.upsertReleases([input], { now });
      const release = store.releaseById(result!.id)!;
      const { body: json, etag } = represent(release, 'full');
      const location = `/api/v1/releases/${release.id}`;
      if (idempotency) {
        api.rememberAnswer(idempotency.tokenHash, idempotency.key, { requestHash: idempotency.requestHash, status: 201, responseJson: json, location }, now);
      }
      return { status: 201, body: json, location, etag, replayed: false };
    });
  }

  /** Authorizes a write: the caller's token goes to res.locals.token. */
  function authorWrites(req: Request, res: Response, next: NextFunction): void {
    res.locals.token = requireApiToken(req, res, tokens);
    next();
  }

  /** The view a read gets: full with a valid token, public without; a wrong token is refused rather than ignored. */
  function viewOf(req: Request): ReleaseView {
    const caller = callerOf(req, tokens);
    if (caller.kind === 'invalid') {
      throw new HttpError(403, 'Forbidden', tokens.length
        ? 'The bearer token is not one of this server\'s API tokens.'
        : 'This server has no HEROLD_API_TOKENS set: send no Authorization header to read public releases.');
    }
    return caller.kind === 'token' ? 'full' : 'public';
  }

  function methodNotAllowed(allow: string) {
    return (req: Request, res: Response): void => {
      res.set('Allow', allow);
      if (req.method === 'OPTIONS') {
        res.status(204).end();
        return;
      }
      throw new HttpError(405, 'Method Not Allowed', `${req.path} answers ${allow}.`);
    };
  }

  function parseListQuery(req: Request, view: ReleaseView, res: Response): ListQuery {
    const query = req.query as Record<string, unknown>;
    const topic = trimmedParam(query, 'topic');
    const department = trimmedParam(query, 'department');
    const q = trimmedParam(query, 'q');
    const limit = trimmedParam(query, 'limit');
    const cursor = trimmedParam(query, 'cursor');
    const status = trimmedParam(query, 'status');
    let topicId: number | null = null;
    let departmentId: number | null = null;
    if (topic !== null) {
      const found = SLUG.test(topic) ? store.topicBySlug(topic) : undefined;
      if (!found) throw notFound(`There is no topic "${topic.slice(0, 120)}".`);
      topicId = found.id;
    }
    if (department !== null) {
      const found = SLUG.test(department) ? store.departmentBySlug(department) : undefined;
      if (!found) throw notFound(`There is no department "${department.slice(0, 120)}".`);
      departmentId = found.id;
    }
    if (q !== null && Array.from(q).length > MAX_QUERY_LENGTH) {
      throw badRequest('q', `"q" must be at most ${MAX_QUERY_LENGTH} characters long.`);
    }
    if (limit !== null && (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE)) {
      throw badRequest('limit', `"limit" must be an integer from 1 to ${MAX_PAGE}, got "${limit.slice(0, 40)}".`);
    }
    let visibility: ListVisibility = view === 'full' ? 'all' : 'public';
    if (status !== null) {
      if (view !== 'full') throw unauthorized(res, '"status" is a filter for token holders: send "Authorization: Bearer <token>".');
      const wanted = STATUSES[status];
      if (!wanted) throw badRequest('status', `"status" must be one of ${Object.keys(STATUSES).join(', ')}, got "${status.slice(0, 40)}".`);
      visibility = wanted;
    }
    return {
      visibility, topicId, departmentId, q,
      limit: limit === null ? DEFAULT_PAGE : Number(limit),
      after: cursor === null ? null : decodeCursor(cursor),
    };
  }

  router.get('/api/v1/openapi.json', (req: Request, res: Response) => {
    // Readable from any origin, so that API tools (Swagger UI and the like) elsewhere can load it.
    res.set('Access-Control-Allow-Origin', '*');
    sendRepresentation(req, res, openapi, 'public, max-age=300');
  });

  router.get('/api/v1/releases', (req: Request, res: Response) => {
    const view = viewOf(req);
    const query = parseListQuery(req, view, res);
    const { ids, total } = api.listReleaseIds(query, clock());
    const items = store.releasesByIds(ids.slice(0, query.limit));
    const next = ids.length > query.limit ? items.at(-1) : undefined;
    res.set('Vary', 'Authorization').set('Cache-Control', view === 'full' ? 'private, no-store' : 'no-cache');
    res.type(JSON_TYPE).send(JSON.stringify({
      items: items.map((release) => releaseObjectOf(release, { baseUrl, view })),
      total,
      next_cursor: next ? encodeCursor(next) : null,
    }));
  });

  router.post('/api/v1/releases', authorWrites, jsonBody(AUTHOR_TYPES), async (req: Request, res: Response) => {
    const key = idempotencyKey(req);
    let created: Created;
    if (key === null) {
      created = await create(req.body, null);
    } else {
      const tokenHash = createHash('sha256').update(res.locals.token as string).digest('hex');
      const requestHash = sha256(canonicalJson(req.body));
      const slot = `${tokenHash}\n${key}`;
      // A retry that arrives while the first attempt is still measuring images waits for it, then gets its answer.
      while (inFlight.has(slot)) await inFlight.get(slot)!.catch(() => undefined);
      const stored = api.answerFor(tokenHash, key, clock());
      if (stored) {
        created = fromStored(stored, requestHash);
      } else {
        const work = create(req.body, { tokenHash, key, requestHash });
        inFlight.set(slot, work);
        try {
          created = await work;
        } finally {
          inFlight.delete(slot);
        }
      }
    }
    res.status(created.status).set('Location', created.location).set('Cache-Control', 'no-store').type(JSON_TYPE);
    if (created.etag) res.set('ETag', created.etag);
    if (created.replayed) res.set('Idempotent-Replayed', 'true');
    res.send(created.body);
  });

  router.all('/api/v1/releases', methodNotAllowed('GET, HEAD, POST'));

  router.get('/api/v1/releases/:id', (req: Request, res: Response) => {
    const view = viewOf(req);
    const release = releaseAt(req);
    // Embargoed and withdrawn releases do not exist for the public: 404, as for an unknown id.
    if (view === 'public' && !isPublic(release, clock())) throw notFound(`There is no release ${release.id}.`);
    const { etag } = represent(release, view);
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*')) {
      res.status(304).set('ETag', etag).set('Vary', 'Authorization').end();
      return;
    }
    sendRelease(res, 200, release, view);
  });

  router.put('/api/v1/releases/:id', authorWrites, (req: Request, _res: Response, next: NextFunction) => {
    // 404 before the body is read: there is nothing to replace.
    releaseAt(req);
    next();
  }, jsonBody(AUTHOR_TYPES), async (req: Request, res: Response) => {
    const release = releaseAt(req);
    const expected = precondition(req, release, true);
    const errors = checkReleaseRequest(req.body, 'full');
    const identity = isObject(req.body) ? identityErrors(req.body, release) : [];
    if (errors.length || identity.length) throw invalid([...errors, ...identity]);
    await correct(req, res, release, req.body as ReleaseObject, expected);
  });

  router.patch('/api/v1/releases/:id', authorWrites, (req: Request, _res: Response, next: NextFunction) => {
    releaseAt(req);
    next();
  }, jsonBody(PATCH_TYPES), async (req: Request, res: Response) => {
    const release = releaseAt(req);
    const expected = precondition(req, release, true);
    const patchErrors = checkReleaseRequest(req.body, 'patch');
    if (patchErrors.length) throw invalid(patchErrors);
    const { correction_note: note, ...patch } = req.body as ReleaseObject;
    const merged = mergePatch(writableObjectOf(release, baseUrl), patch) as Record<string, unknown>;
    const errors = [...checkReleaseRequest(merged, 'full'), ...identityErrors(patch as Record<string, unknown>, release)];
    if (errors.length) throw invalid(errors);
    await correct(req, res, release, { ...(merged as unknown as ReleaseObject), correction_note: note ?? null }, expected);
  });

  router.delete('/api/v1/releases/:id', authorWrites, (req: Request, res: Response) => {
    const release = releaseAt(req);
    const expected = precondition(req, release, false);
    if (release.status !== 'withdrawn') {
      const note = headerText(req.header('x-correction-note'));
      api.writing(() => {
        const current = store.releaseById(release.id)!;
        if (expected !== null && represent(current, 'full').etag !== expected) throw stale(current);
        // Withdrawn, never erased: the GUID stays taken, the page answers 410, the feeds drop it.
        store.upsertReleases([{ ...inputOfRelease(current), status: 'withdrawn' }], { now: clock(), note });
      });
    }
    res.status(204).set('Cache-Control', 'no-store').end();
  });

  router.all('/api/v1/releases/:id', methodNotAllowed('GET, HEAD, PUT, PATCH, DELETE'));

  return router;
}
