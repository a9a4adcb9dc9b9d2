import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Contact, Media, ReleaseInput } from './model.js';
import { htmlToText, sanitizeBody, stripXmlForbidden } from './text.js';

/** The release object of the authoring API and the sample files (DESIGN.md), as JSON. */
export interface ReleaseObject {
  guid?: string;
  slug?: string;
  title: string;
  subtitle?: string | null;
  body: string;
  topics?: string[];
  department?: string | null;
  organisation?: string | null;
  language?: string;
  published_at: string;
  updated_at?: string | null;
  embargo_until?: string | null;
  image?: MediaObject | null;
  attachments?: MediaObject[];
  contact?: Partial<Record<keyof Contact, string | null>> | null;
  status?: 'published' | 'withdrawn';
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

const text = { type: ['string', 'null'], maxLength: 2000 } as const;
const instant = { type: 'string', format: 'date-time' } as const;
const media = {
  type: 'object',
  additionalProperties: false,
  anyOf: [{ required: ['url'] }, { required: ['file'] }],
  properties: {
    url: { type: 'string', format: 'uri', pattern: '^https?://' },
    file: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
    title: text, alt: text, caption: text, credit: text,
  },
} as const;

const schema = {
  type: 'object',
  required: ['title', 'body', 'published_at'],
  properties: {
    guid: { type: 'string', format: 'uri', maxLength: 500 },
    slug: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 80 },
    title: { type: 'string', minLength: 1, maxLength: 500 },
    subtitle: text,
    body: { type: 'string', minLength: 1, maxLength: 1_000_000 },
    topics: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 100 } },
    department: { type: ['string', 'null'], maxLength: 200 },
    organisation: { type: ['string', 'null'], maxLength: 200 },
    language: { type: 'string', pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' },
    published_at: instant,
    updated_at: { anyOf: [instant, { type: 'null' }] },
    embargo_until: { anyOf: [instant, { type: 'null' }] },
    image: { anyOf: [media, { type: 'null' }] },
    attachments: { type: 'array', maxItems: 50, items: media },
    contact: {
      anyOf: [{ type: 'null' }, {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(['name', 'organisation', 'street', 'postcode', 'city', 'phone', 'fax', 'email']
          .map((key) => [key, { type: ['string', 'null'], maxLength: 300 }])),
      }],
    },
    status: { enum: ['published', 'withdrawn'] },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile<ReleaseObject>(schema);

/** One validation problem: the JSON pointer of the field and what is wrong there. */
export interface FieldError {
  readonly pointer: string;
  readonly detail: string;
}

/** Validates a release object; returns its field errors (empty when valid). */
export function checkReleaseObject(value: unknown): FieldError[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => ({
    pointer: error.instancePath || '/',
    detail: error.message ?? 'is invalid',
  }));
}

function textOrNull(value: string | null | undefined): string | null {
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
