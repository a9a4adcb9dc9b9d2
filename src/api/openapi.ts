import type { Config } from '../config.js';
import { DEFAULT_HEADLINES, MAX_HEADLINES } from '../embed/headlines.js';
import { JSON_BODY_LIMIT } from '../http/json-body.js';
import { RELEASE_PATCH_SCHEMA, RELEASE_SCHEMA } from '../release-object.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
const parameter = (name: string) => ({ $ref: `#/components/parameters/${name}` });
const json = (schema: object, example?: unknown) => ({ 'application/json': { schema, ...(example === undefined ? {} : { example }) } });
const nullable = (type: string, extra: object = {}) => ({ type: [type, 'null'], ...extra });
const problem = (description: string, schema = 'Problem', headers?: object) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: ref(schema) } },
});

/** The example release of the document: what a press office sends; the tests send it, too. */
const EXAMPLE_RELEASE = {
  title: 'Neuer Radweg an der Jülicher Straße',
  subtitle: 'Ab dem 9. März entsteht zwischen Ostring und Bahnhofsallee ein geschützter Radfahrstreifen.',
  body: '<p>Die Stadt baut an der Jülicher Straße einen <strong>geschützten Radweg</strong>. Die Arbeiten dauern rund sechs Wochen.</p>',
  topics: ['Verkehr'],
  department: 'Fachbereich Mobilität und Verkehr',
  organisation: 'Stadt Lindenau',
  published_at: '2026-03-02T09:30:00+01:00',
  embargo_until: null,
  contact: {
    name: 'Annika Schröder', organisation: 'Stadt Lindenau', street: 'Markt 1', postcode: '52461', city: 'Lindenau',
    phone: '02461/382-1322', fax: null, email: 'presse@lindenau.example',
  },
};

const releaseAnswer = {
  title: 'Release (answer)',
  description: 'A release as answered. Without a token (public view) embargo_until and status are left out.',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'guid', 'slug', 'url', 'title', 'subtitle', 'body', 'topics', 'department', 'organisation', 'language',
    'published_at', 'updated_at', 'image', 'attachments', 'contact'],
  properties: {
    id: { type: 'string', pattern: '^[1-9][0-9]*$' },
    guid: { type: 'string' },
    slug: { type: 'string' },
    url: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    subtitle: nullable('string'),
    body: { type: 'string', description: 'Sanitized HTML.' },
    topics: { type: 'array', items: { type: 'string' } },
    department: nullable('string'),
    organisation: nullable('string'),
    language: { type: 'string' },
    published_at: { type: 'string', format: 'date-time' },
    updated_at: nullable('string', { format: 'date-time', description: 'When the last correction was made.' }),
    embargo_until: nullable('string', { format: 'date-time', description: 'Token holders only.' }),
    image: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['url', 'alt', 'caption', 'credit', 'width', 'height', 'mime_type', 'size_in_bytes'],
      properties: {
        url: { type: 'string', format: 'uri' }, alt: nullable('string'), caption: nullable('string'), credit: nullable('string'),
        width: nullable('integer'), height: nullable('integer'), mime_type: nullable('string'), size_in_bytes: nullable('integer'),
      },
    },
    attachments: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url', 'title', 'mime_type', 'size_in_bytes'],
        properties: { url: { type: 'string', format: 'uri' }, title: nullable('string'), mime_type: nullable('string'), size_in_bytes: nullable('integer') },
      },
    },
    contact: {
      type: ['object', 'null'],
      properties: Object.fromEntries(['name', 'organisation', 'street', 'postcode', 'city', 'phone', 'fax', 'email'].map((key) => [key, nullable('string')])),
    },
    status: { enum: ['published', 'withdrawn'], description: 'Token holders only.' },
  },
};

const sourceState = {
  type: 'object',
  required: ['id', 'type', 'schedule', 'next_run_at', 'last_attempt_at', 'last_success_at', 'last_error', 'running', 'last_run'],
  properties: {
    id: { type: 'string' }, type: { type: 'string' }, schedule: { type: 'string' },
    next_run_at: nullable('string', { format: 'date-time' }),
    last_attempt_at: nullable('string'), last_success_at: nullable('string'), last_error: nullable('string'), last_error_at: nullable('string'),
    error_count: { type: 'integer' }, consecutive_errors: { type: 'integer' }, runs: { type: 'integer' }, running: { type: 'boolean' },
    last_run: { type: 'object' },
  },
};

const IF_MATCH = {
  name: 'If-Match', in: 'header', required: true,
  description: 'The ETag of GET /api/v1/releases/{id} (or *): 412 when the release changed since, 428 when missing.',
  schema: { type: 'string' },
};

const etagHeader = { description: 'Strong validator of the release, for If-Match and If-None-Match.', schema: { type: 'string' } };

/**
 * The OpenAPI 3.1 description of every /api/v1 path. The request schemas are the validator's own
 * objects (RELEASE_SCHEMA, RELEASE_PATCH_SCHEMA), so the document cannot drift from what is checked.
 */
export function openApiDocument(config: Config) {
  const sourceExample = config.sources[0]?.id ?? 'website';
  const releaseSecurity = [{}, { apiToken: [] }];
  const authoring = [{ apiToken: [] }];
  return {
    openapi: '3.1.0',
    info: {
      title: `${config.site.name}: Herold API`,
      version: '1',
      description: 'Press releases as JSON (public, or with a token: embargoed and withdrawn ones too), authoring for the press office, '
        + 'source state and headlines. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: config.baseUrl }],
    tags: [{ name: 'releases' }, { name: 'operations' }, { name: 'embeds' }],
    paths: {
      '/api/v1/releases': {
        get: {
          operationId: 'listReleases',
          tags: ['releases'],
          summary: 'Releases, newest first, cursor-paged and filtered like the feeds',
          description: 'Without a token: published releases out of embargo, public fields only. With a token: embargoed and withdrawn ones too, all fields, and the status filter.',
          security: releaseSecurity,
          parameters: [parameter('topic'), parameter('department'), parameter('q'), parameter('limit'), parameter('cursor'), parameter('status')],
          responses: {
            200: { description: 'One page of releases.', content: json(ref('ReleaseList')) },
            400: response('BadRequest'), 401: response('Unauthorized'), 403: response('Forbidden'), 404: response('NotFound'),
          },
        },
        post: {
          operationId: 'createRelease',
          tags: ['releases'],
          summary: 'Publishes a new release',
          description: 'New topics and departments are created on first use; the GUID is generated (urn:uuid:) unless given; images and attachments are measured from their URLs. '
            + 'With an Idempotency-Key, a retry with the same body gets the first answer and creates nothing; the same key with another body is a 422.',
          security: authoring,
          parameters: [parameter('IdempotencyKey')],
          requestBody: { required: true, content: json(ref('ReleaseInput'), EXAMPLE_RELEASE) },
          responses: {
            201: {
              description: 'Created.',
              headers: { Location: { description: 'The new release: /api/v1/releases/{id}.', schema: { type: 'string' } }, ETag: etagHeader },
              content: json(ref('Release')),
            },
            400: response('BadRequest'), 401: response('Unauthorized'), 403: response('Forbidden'), 409: response('Conflict'),
            413: response('TooLarge'), 415: response('UnsupportedMediaType'), 422: response('Invalid'),
          },
        },
      },
      '/api/v1/releases/{id}': {
        parameters: [parameter('id')],
        get: {
          operationId: 'getRelease',
          tags: ['releases'],
          summary: 'One release, with its ETag',
          description: 'Without a token, an embargoed or withdrawn release is a 404.',
          security: releaseSecurity,
          responses: {
            200: { description: 'The release.', headers: { ETag: etagHeader }, content: json(ref('Release')) },
            304: { description: 'Not modified (If-None-Match).' },
            403: response('Forbidden'), 404: response('NotFound'),
          },
        },
        put: {
          operationId: 'replaceRelease',
          tags: ['releases'],
          summary: 'Corrects a release: replaces every field',
          description: 'A correction keeps the GUID, sets updated_at and records a revision (note: correction_note or X-Correction-Note). Fields left out are cleared, but for status, which stays as it is.',
          security: authoring,
          parameters: [parameter('IfMatch'), parameter('CorrectionNote')],
          requestBody: { required: true, content: json(ref('ReleaseInput'), { ...EXAMPLE_RELEASE, title: 'Neuer Radweg an der Jülicher Straße: Bauzeit sieben Wochen' }) },
          responses: {
            200: { description: 'The corrected release.', headers: { ETag: etagHeader }, content: json(ref('Release')) },
            400: response('BadRequest'), 401: response('Unauthorized'), 403: response('Forbidden'), 404: response('NotFound'),
            412: response('PreconditionFailed'), 413: response('TooLarge'), 415: response('UnsupportedMediaType'),
            422: response('Invalid'), 428: response('PreconditionRequired'),
          },
        },
        patch: {
          operationId: 'patchRelease',
          tags: ['releases'],
          summary: 'Corrects some fields of a release (JSON merge patch)',
          description: 'Merges the body into the release (RFC 7396): every field but title optional, null clears a field. A correction as with PUT.',
          security: authoring,
          parameters: [parameter('IfMatch'), parameter('CorrectionNote')],
          requestBody: {
            required: true,
            content: {
              'application/merge-patch+json': { schema: ref('ReleasePatch'), example: { title: 'Neuer Radweg an der Jülicher Straße', subtitle: null, correction_note: 'Untertitel entfernt' } },
              'application/json': { schema: ref('ReleasePatch') },
            },
          },
          responses: {
            200: { description: 'The corrected release.', headers: { ETag: etagHeader }, content: json(ref('Release')) },
            400: response('BadRequest'), 401: response('Unauthorized'), 403: response('Forbidden'), 404: response('NotFound'),
            412: response('PreconditionFailed'), 413: response('TooLarge'), 415: response('UnsupportedMediaType'),
            422: response('Invalid'), 428: response('PreconditionRequired'),
          },
        },
        delete: {
          operationId: 'withdrawRelease',
          tags: ['releases'],
          summary: 'Withdraws a release',
          description: 'Sets status withdrawn (the release is never erased): it leaves the feeds and its page answers 410. If-Match is optional here.',
          security: authoring,
          parameters: [{ ...IF_MATCH, required: false, description: 'Optional here: the ETag of GET /api/v1/releases/{id}; 412 when the release changed since.' }, parameter('CorrectionNote')],
          responses: {
            204: { description: 'Withdrawn (or already withdrawn).' },
            401: response('Unauthorized'), 403: response('Forbidden'), 404: response('NotFound'), 412: response('PreconditionFailed'),
          },
        },
      },
      '/api/v1/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          tags: ['operations'],
          summary: 'This document',
          security: [{}],
          responses: { 200: { description: 'The OpenAPI 3.1 document.', content: json({ type: 'object' }) } },
        },
      },
      '/api/v1/sources': {
        get: {
          operationId: 'listSources',
          tags: ['operations'],
          summary: 'Every configured source with its state',
          security: [{}],
          responses: {
            200: {
              description: 'The sources.',
              content: json({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: sourceState } } }),
            },
          },
        },
      },
      '/api/v1/sources/{id}/refresh': {
        post: {
          operationId: 'refreshSource',
          tags: ['operations'],
          summary: 'Refreshes one source now',
          security: [{ adminToken: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, description: 'The source id from the configuration.', schema: { type: 'string' }, example: sourceExample }],
          responses: {
            200: { description: 'What the run did.', content: json(ref('RefreshReport')) },
            401: response('Unauthorized'), 403: response('Forbidden'), 404: response('NotFound'),
            409: { description: 'A run of this source was under way: nothing was done.', content: json(ref('RefreshReport')) },
            503: problem('The server is shutting down: the run was cancelled before its next request and stored nothing.'),
          },
        },
      },
      '/api/v1/headlines': {
        get: {
          operationId: 'listHeadlines',
          tags: ['embeds'],
          summary: 'Headlines for embedding, with CORS',
          security: [{}],
          parameters: [
            parameter('topic'),
            // No example: topic and department cannot be combined here (one list per embed).
            { name: 'department', in: 'query', description: 'A department slug; not together with topic.', schema: { type: 'string', pattern: '^[a-z0-9-]{1,120}$' } },
            parameter('q'),
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_HEADLINES, default: DEFAULT_HEADLINES }, example: 5 },
            { name: 'theme', in: 'query', schema: { enum: ['light', 'dark', 'auto'], default: 'auto' }, description: 'Only for the iframe form; ignored here.' },
          ],
          responses: {
            200: { description: 'The headlines.', content: json(ref('HeadlineList')) },
            400: response('BadRequest'), 404: response('NotFound'),
          },
        },
        options: {
          operationId: 'preflightHeadlines',
          tags: ['embeds'],
          summary: 'CORS preflight',
          security: [{}],
          responses: { 204: { description: 'Allowed from any origin.' } },
        },
      },
    },
    components: {
      securitySchemes: {
        apiToken: { type: 'http', scheme: 'bearer', description: 'One of HEROLD_API_TOKENS: the authoring API, and the full view of releases.' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'HEROLD_ADMIN_TOKEN: operations such as refreshing a source.' },
      },
      schemas: {
        ReleaseInput: RELEASE_SCHEMA,
        ReleasePatch: RELEASE_PATCH_SCHEMA,
        Release: releaseAnswer,
        ReleaseList: {
          type: 'object',
          additionalProperties: false,
          required: ['items', 'total', 'next_cursor'],
          properties: {
            items: { type: 'array', items: ref('Release') },
            total: { type: 'integer', minimum: 0, description: 'How many releases match, on every page.' },
            next_cursor: nullable('string', { description: 'Pass as ?cursor= for the next page; null on the last.' }),
          },
        },
        HeadlineList: {
          type: 'object',
          required: ['items', 'feed', 'title', 'html_url'],
          properties: {
            items: {
              type: 'array',
              items: {
                type: 'object',
                required: ['title', 'url', 'published_at', 'date_label', 'department'],
                properties: {
                  title: { type: 'string' }, url: { type: 'string', format: 'uri' }, published_at: { type: 'string', format: 'date-time' },
                  date_label: { type: 'string' }, department: nullable('string'),
                  image: { type: 'object', properties: { url: { type: 'string' }, alt: { type: 'string' }, width: nullable('integer'), height: nullable('integer') } },
                },
              },
            },
            feed: { type: 'string', format: 'uri' }, title: { type: 'string' }, html_url: { type: 'string', format: 'uri' },
          },
        },
        RefreshReport: {
          type: 'object',
          required: ['id', 'ok', 'skipped', 'new', 'changed', 'unchanged', 'error'],
          properties: {
            id: { type: 'string' }, ok: { type: 'boolean' }, skipped: { type: 'boolean' }, new: { type: 'integer' }, changed: { type: 'integer' },
            unchanged: { type: 'integer' }, rejected: { type: 'array' }, requests: { type: 'integer' }, duration_ms: { type: 'integer' },
            error: nullable('string'), state: { type: 'object' },
          },
        },
        Problem: {
          title: 'Problem details (RFC 9457)',
          type: 'object',
          required: ['type', 'title', 'status'],
          properties: {
            type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' },
            instance: { type: 'string' }, parameter: { type: 'string', description: 'The query parameter or header at fault (400).' },
          },
        },
        ValidationProblem: {
          allOf: [ref('Problem'), {
            type: 'object',
            required: ['errors'],
            properties: {
              errors: {
                type: 'array',
                description: 'Every invalid field, each named by its JSON pointer (RFC 6901).',
                items: { type: 'object', required: ['pointer', 'detail'], properties: { pointer: { type: 'string' }, detail: { type: 'string' } } },
              },
            },
          }],
        },
      },
      parameters: {
        id: { name: 'id', in: 'path', required: true, description: 'The release id.', schema: { type: 'string', pattern: '^[1-9][0-9]*$' }, example: '1' },
        topic: { name: 'topic', in: 'query', description: 'A topic slug, as in /feeds/topics/{topic}.', schema: { type: 'string', pattern: '^[a-z0-9-]{1,120}$' }, example: 'verkehr' },
        department: { name: 'department', in: 'query', description: 'A department slug, as in /feeds/departments/{department}.', schema: { type: 'string', pattern: '^[a-z0-9-]{1,120}$' }, example: 'fachbereich-mobilitaet-und-verkehr' },
        q: { name: 'q', in: 'query', description: 'Full-text search: every word must occur.', schema: { type: 'string', maxLength: 200 }, example: 'Radweg' },
        limit: { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, example: 10 },
        cursor: { name: 'cursor', in: 'query', description: 'next_cursor of the previous page.', schema: { type: 'string' } },
        status: {
          name: 'status', in: 'query', description: 'Token holders only: published (and out of embargo), embargoed, withdrawn, or all (the default).',
          schema: { enum: ['all', 'published', 'embargoed', 'withdrawn'] }, example: 'published',
        },
        IdempotencyKey: {
          name: 'Idempotency-Key', in: 'header', description: 'Makes a POST safe to retry: 1 to 255 visible ASCII characters, kept 24 hours per token.',
          schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' }, example: '5f0c6a2e-8d47-4c41-9a3b-0e6f2f1d7c55',
        },
        IfMatch: IF_MATCH,
        CorrectionNote: {
          name: 'X-Correction-Note', in: 'header', description: 'The note of the revision (UTF-8 or percent-encoded); the body field correction_note wins.',
          schema: { type: 'string', maxLength: 1000 }, example: 'Bauzeit korrigiert',
        },
      },
      responses: {
        BadRequest: problem('Malformed JSON, or an invalid query parameter or header (named in "parameter").'),
        Unauthorized: problem('No token.', 'Problem', { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer realm="herold"' } }),
        Forbidden: problem('A token that is not valid here, or none configured on the server.'),
        NotFound: problem('No such release (or not public), topic, department or source.'),
        Conflict: problem('A release with this GUID exists.'),
        PreconditionFailed: problem('If-Match does not name the current version: someone changed the release first.'),
        PreconditionRequired: problem('If-Match is missing.'),
        TooLarge: problem(`The body is larger than ${JSON_BODY_LIMIT}.`),
        UnsupportedMediaType: problem('The body is not JSON.'),
        Invalid: problem('The body is not a valid release: every bad field is listed in "errors".', 'ValidationProblem'),
      },
    },
  };
}
