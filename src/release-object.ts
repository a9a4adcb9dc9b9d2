import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { absoluteUrl, isPublished } from './feeds/build.js';
import type { Contact, Media, Release, ReleaseInput } from './model.js';
import { htmlToText, sanitizeBody, stripXmlForbidden } from './text.js';

/** The release object of the authoring API and the sample files (DESIGN.md), as JSON. */
export interface ReleaseObject {
  id?: string;
  url?: string;
  guid?: string;
  slug?: string;
  title: string;
  subtitle?: string | null;
  body: string;
  topics?: string[] | null;
  department?: string | null;
  organisation?: string | null;
  language?: string;
  published_at: string;
  updated_at?: string | null;
  embargo_until?: string | null;
  image?: MediaObject | null;
  attachments?: MediaObject[] | null;
  contact?: Partial<Record<keyof Contact, string | null>> | null;
  status?: 'published' | 'withdrawn';
  correction_note?: string | null;
}

/** An image or attachment: `url`, or for files shipped beside the data, `file`. */
export interface MediaObject {
  url?: string;
  file?: string;
  title?: string | null;
  alt?: string | null;
  caption?: string | null;
  credit?: string | null;
}

const CONTACT_KEYS = ['name', 'organisation', 'street', 'postcode', 'city', 'phone', 'fax', 'email'] as const;
const text = { type: ['string', 'null'], maxLength: 2000 };
const instant = { type: 'string', format: 'date-time' };
const optionalInstant = { type: ['string', 'null'], format: 'date-time' };
/** What Herold measured of a file: answered, and accepted (but ignored) so that a GET can be PUT back. */
const measured = {
  width: { type: ['integer', 'null'], readOnly: true, description: 'Pixel width, measured by Herold.' },
  height: { type: ['integer', 'null'], readOnly: true, description: 'Pixel height, measured by Herold.' },
  mime_type: { type: ['string', 'null'], readOnly: true, description: 'MIME type, measured from the file by Herold.' },
  size_in_bytes: { type: ['integer', 'null'], readOnly: true, description: 'Byte size, measured by Herold.' },
};

/**
 * The schema of a release object. Nullable objects are `type: [object, null]` rather than `anyOf`, so
 * that one bad field yields one error (ajv reports every branch of an anyOf).
 */
function releaseSchema(options: { files: boolean }) {
  const media = {
    type: 'object',
    additionalProperties: false,
    ...(options.files ? { anyOf: [{ required: ['url'] }, { required: ['file'] }] } : { required: ['url'] }),
    properties: {
      url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000, description: 'Absolute http(s) URL of the file; Herold measures it.' },
      ...(options.files ? { file: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' } } : {}),
      title: text, alt: text, caption: text, credit: text,
      ...measured,
    },
  };
  return {
    title: 'Release',
    description: 'A press release as written by the press office. Read-only fields (as answered) are accepted and ignored, so that a GET can be PUT back.',
    type: 'object',
    additionalProperties: false,
    required: ['title', 'body', 'published_at'],
    properties: {
      id: { type: 'string', readOnly: true, description: 'Herold\'s internal id.' },
      url: { type: 'string', readOnly: true, description: 'The release page.' },
      guid: { type: 'string', format: 'uri', maxLength: 500, description: 'Stable public GUID (a URI); generated as urn:uuid: when not given; never changes.' },
      slug: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 80, description: 'URL slug; derived from the title when not given. Old slugs redirect.' },
      title: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' },
      subtitle: text,
      body: { type: 'string', minLength: 1, maxLength: 1_000_000, pattern: '\\S', description: 'HTML; sanitized on the way in.' },
      topics: { type: ['array', 'null'], maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 100 }, description: 'Topic names; new topics are created on first use.' },
      department: { type: ['string', 'null'], maxLength: 200, description: 'The issuing department; created on first use.' },
      organisation: { type: ['string', 'null'], maxLength: 200 },
      language: { type: 'string', pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$', description: 'BCP 47 language tag; default de.' },
      published_at: instant,
      updated_at: options.files ? optionalInstant : { ...optionalInstant, readOnly: true, description: 'Set by Herold on every correction.' },
      embargo_until: { ...optionalInstant, description: 'Until then the release appears nowhere public.' },
      image: { ...media, type: ['object', 'null'] },
      attachments: { type: ['array', 'null'], maxItems: 50, items: media },
      contact: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: Object.fromEntries(CONTACT_KEYS.map((key) => [key, { type: ['string', 'null'], maxLength: 300 }])),
      },
      status: { enum: ['published', 'withdrawn'] },
      correction_note: { type: ['string', 'null'], maxLength: 1000, writeOnly: true, description: 'The note of the revision a correction records (or the X-Correction-Note header).' },
    },
  };
}

/** The authoring API's request schema (POST, PUT): media by URL only. The validator and the OpenAPI document both use this object. */
export const RELEASE_SCHEMA = releaseSchema({ files: false });

const { required: _url, ...partialImage } = RELEASE_SCHEMA.properties.image as Record<string, unknown>;

/**
 * A PATCH body (a JSON merge patch, RFC 7396): the same fields, only `title` required; `null` clears a
 * field; an image object is merged into the current one, so it need not repeat the URL. The merged
 * release is then validated against RELEASE_SCHEMA.
 */
export const RELEASE_PATCH_SCHEMA = {
  ...RELEASE_SCHEMA,
  title: 'Release patch',
  description: 'A JSON merge patch (RFC 7396) of a release: every field but title optional; null clears a field; objects merge.',
  required: ['title'],
  properties: { ...RELEASE_SCHEMA.properties, image: partialImage },
};

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validateSample = ajv.compile<ReleaseObject>(releaseSchema({ files: true }));
const validateRequest = ajv.compile<ReleaseObject>(RELEASE_SCHEMA);
const validatePatch = ajv.compile<Partial<ReleaseObject>>(RELEASE_PATCH_SCHEMA);

/** One validation problem: the JSON pointer (RFC 6901) of the field and what is wrong there. */
export interface FieldError {
  readonly pointer: string;
  readonly detail: string;
}

function pointerToken(name: string): string {
  return `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Ajv's errors as field errors: a missing or unknown field is named by its own pointer, not its parent's. */
function fieldErrors(errors: readonly ErrorObject[] | null | undefined): FieldError[] {
  const list = (errors ?? []).map((error): FieldError => {
    const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[]; pattern?: string };
    if (error.keyword === 'required' && params.missingProperty) {
      return { pointer: error.instancePath + pointerToken(params.missingProperty), detail: 'is required' };
    }
    if (error.keyword === 'additionalProperties' && params.additionalProperty) {
      return { pointer: error.instancePath + pointerToken(params.additionalProperty), detail: 'is not a field here' };
    }
    if (error.keyword === 'enum' && params.allowedValues) {
      return { pointer: error.instancePath, detail: `must be one of ${params.allowedValues.map((value) => JSON.stringify(value)).join(', ')}` };
    }
    if (error.keyword === 'pattern' && params.pattern === '\\S') return { pointer: error.instancePath, detail: 'must not be blank' };
    return { pointer: error.instancePath, detail: error.message ?? 'is invalid' };
  });
  const seen = new Set<string>();
  return list.filter((error) => {
    const key = `${error.pointer}\n${error.detail}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Validates a sample file's release object (media by URL or by file name); returns its field errors (empty when valid). */
export function checkReleaseObject(value: unknown): FieldError[] {
  return validateSample(value) ? [] : fieldErrors(validateSample.errors);
}

/** Validates an authoring API body: a whole release (POST, PUT) or a merge patch (PATCH); empty when valid. */
export function checkReleaseRequest(value: unknown, kind: 'full' | 'patch'): FieldError[] {
  const validate = kind === 'full' ? validateRequest : validatePatch;
  return validate(value) ? [] : fieldErrors(validate.errors);
}

/** Text as stored: XML-forbidden characters dropped, whitespace collapsed, empty as null. */
export function textOrNull(value: string | null | undefined): string | null {
  const trimmed = value ? stripXmlForbidden(value).replace(/\s+/g, ' ').trim() : '';
  return trimmed || null;
}

/** Turns a validated release object into store input: HTML sanitized, text extracted, media resolved. */
export function releaseInputFrom(
  object: ReleaseObject,
  options: { guid: string; sourceId: string; sourceRef?: string | null; baseUrl: string; media: (item: MediaObject) => Media },
): ReleaseInput {
  const bodyHtml = sanitizeBody(object.body, `${options.baseUrl}/`);
  const contact = object.contact
    ? Object.fromEntries((['name', 'organisation', 'street', 'postcode', 'city', 'phone', 'fax', 'email'] as const)
      .map((key) => [key, textOrNull(object.contact?.[key])])) as unknown as Contact
    : null;
  return {
    guid: object.guid ?? options.guid,
    sourceId: options.sourceId,
    sourceRef: options.sourceRef ?? null,
    ...(object.slug ? { slug: object.slug } : {}),
    title: textOrNull(object.title) ?? '',
    subtitle: textOrNull(object.subtitle),
    bodyHtml,
    bodyText: htmlToText(bodyHtml),
    language: object.language ?? 'de',
    organisation: textOrNull(object.organisation),
    department: textOrNull(object.department),
    contact: contact && Object.values(contact).some(Boolean) ? contact : null,
    topics: [...new Set((object.topics ?? []).map((topic) => textOrNull(topic)).filter((topic): topic is string => !!topic))],
    images: object.image ? [options.media(object.image)] : [],
    attachments: (object.attachments ?? []).map(options.media),
    publishedAt: new Date(object.published_at).toISOString(),
    updatedAt: object.updated_at ? new Date(object.updated_at).toISOString() : null,
    embargoUntil: object.embargo_until ? new Date(object.embargo_until).toISOString() : null,
    status: object.status ?? 'published',
  };
}

/** Which fields an answer carries: everything (token holders) or what the public may see. */
export type ReleaseView = 'full' | 'public';

/** An image as answered: what the press office wrote, and what Herold measured. */
export interface ImageAnswer {
  url: string; alt: string | null; caption: string | null; credit: string | null;
  width: number | null; height: number | null; mime_type: string | null; size_in_bytes: number | null;
}

/** An attachment as answered. */
export interface AttachmentAnswer {
  url: string; title: string | null; mime_type: string | null; size_in_bytes: number | null;
}

/** A stored release as the API answers it (DESIGN.md's release object); `status` and `embargo_until` only in the full view. */
export interface ReleaseAnswer {
  id: string; guid: string; slug: string; url: string;
  title: string; subtitle: string | null; body: string;
  topics: string[]; department: string | null; organisation: string | null; language: string;
  published_at: string; updated_at: string | null; embargo_until?: string | null;
  image: ImageAnswer | null; attachments: AttachmentAnswer[];
  contact: Contact | null;
  status?: 'published' | 'withdrawn';
}

/** Maps a stored release to the API's release object; only published media (URLs) appear, made absolute. */
export function releaseObjectOf(release: Release, options: { baseUrl: string; view: ReleaseView }): ReleaseAnswer {
  const image = release.images.find(isPublished);
  const answer: ReleaseAnswer = {
    id: String(release.id),
    guid: release.guid,
    slug: release.slug,
    url: absoluteUrl(options.baseUrl, `/releases/${release.slug}`),
    title: release.title,
    subtitle: release.subtitle,
    body: release.bodyHtml,
    topics: release.topics.map((topic) => topic.name),
    department: release.department?.name ?? null,
    organisation: release.organisation,
    language: release.language,
    published_at: release.publishedAt,
    updated_at: release.updatedAt,
    embargo_until: release.embargoUntil,
    image: image ? {
      url: absoluteUrl(options.baseUrl, image.url), alt: image.alt, caption: image.caption, credit: image.credit,
      width: image.width, height: image.height, mime_type: image.mime, size_in_bytes: image.bytes,
    } : null,
    attachments: release.attachments.filter(isPublished).map((file) => ({
      url: absoluteUrl(options.baseUrl, file.url), title: file.title, mime_type: file.mime, size_in_bytes: file.bytes,
    })),
    contact: release.contact,
    status: release.status,
  };
  if (options.view === 'public') {
    delete answer.embargo_until;
    delete answer.status;
  }
  return answer;
}

/** The writable part of a stored release as a request object: what a PATCH is merged into. */
export function writableObjectOf(release: Release, baseUrl: string): ReleaseObject {
  const image = release.images.find(isPublished);
  return {
    guid: release.guid,
    slug: release.slug,
    title: release.title,
    subtitle: release.subtitle,
    body: release.bodyHtml,
    topics: release.topics.map((topic) => topic.name),
    department: release.department?.name ?? null,
    organisation: release.organisation,
    language: release.language,
    published_at: release.publishedAt,
    embargo_until: release.embargoUntil,
    image: image
      ? { url: absoluteUrl(baseUrl, image.url), title: image.title, alt: image.alt, caption: image.caption, credit: image.credit }
      : null,
    attachments: release.attachments.filter(isPublished).map((file) => ({
      url: absoluteUrl(baseUrl, file.url), title: file.title, alt: file.alt, caption: file.caption, credit: file.credit,
    })),
    contact: release.contact ? { ...release.contact } : null,
    status: release.status,
  };
}

/** A stored release as store input, unchanged: the base of a status change such as a withdrawal. */
export function inputOfRelease(release: Release): ReleaseInput {
  return {
    guid: release.guid,
    sourceId: release.sourceId,
    sourceRef: release.sourceRef,
    slug: release.slug,
    title: release.title,
    subtitle: release.subtitle,
    bodyHtml: release.bodyHtml,
    bodyText: release.bodyText,
    language: release.language,
    organisation: release.organisation,
    department: release.department?.name ?? null,
    contact: release.contact,
    topics: release.topics.map((topic) => topic.name),
    places: [...release.places],
    images: [...release.images],
    attachments: [...release.attachments],
    publishedAt: release.publishedAt,
    updatedAt: release.updatedAt,
    embargoUntil: release.embargoUntil,
    status: release.status,
  };
}
