import { Marked } from 'marked';
import YAML from 'yaml';
import type { Contact } from '../model.js';
import { parseInstant } from './dates.js';
import type { MediaRef, ParsedRelease } from './types.js';

const FRONT_MATTER = /^---[ \t]*\n(?:([\s\S]*?)\n)?---[ \t]*(?:\n|$)/;
const RELEASE_KEYS = ['title', 'subtitle', 'date', 'updated', 'topics', 'department', 'organisation', 'contact',
  'image', 'attachments', 'embargo', 'language', 'guid'] as const;
const CONTACT_KEYS = ['name', 'organisation', 'street', 'postcode', 'city', 'phone', 'fax', 'email'] as const;
const IMAGE_KEYS = ['src', 'url', 'alt', 'caption', 'credit'] as const;
const ATTACHMENT_KEYS = ['src', 'url', 'title'] as const;
/** YAML's spellings of null, which the failsafe schema leaves as text. */
const YAML_NULL = /^(?:|~|null|Null|NULL)$/;

/** Whether a front matter value is left out or null. */
function absent(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && YAML_NULL.test(value.trim()));
}

/** A private instance, so no other module's `marked.use()` changes how releases render. */
const markdown = new Marked();

/** Reads front matter values, naming the release and the key in every error. */
class FrontMatter {
  constructor(private readonly ref: string) {}

  fail(message: string): never {
    throw new Error(`markdown release ${this.ref}: ${message}`);
  }

  /** A mapping with only the `known` keys; a misspelt key ("embargo_until") must not be silently dropped. */
  mapping<K extends string>(value: unknown, what: string, known: readonly K[]): Partial<Record<K, unknown>> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(`${what} must be a mapping`);
    const unknown = Object.keys(value).filter((name) => !(known as readonly string[]).includes(name));
    if (unknown.length > 0) this.fail(`${what} has unknown key "${unknown[0]}" (known: ${known.join(', ')})`);
    return value as Partial<Record<K, unknown>>;
  }

  /** Trimmed text, or null when absent. */
  text(value: unknown, key: string): string | null {
    if (absent(value)) return null;
    if (typeof value !== 'string') this.fail(`key "${key}" must be text`);
    return value.trim();
  }

  required(value: unknown, key: string): string {
    return this.text(value, key) ?? this.missing(key);
  }

  missing(key: string): never {
    return this.fail(`key "${key}" is missing`);
  }

  /** An ISO UTC instant, or null when absent. */
  instant(value: unknown, key: string): string | null {
    const text = this.text(value, key);
    if (text === null) return null;
    return parseInstant(text) ?? this.fail(`key "${key}" is not a valid date: "${text}"`);
  }

  /** A list, empty when absent. */
  list(value: unknown, key: string): readonly unknown[] {
    if (absent(value)) return [];
    if (!Array.isArray(value)) this.fail(`key "${key}" must be a list`);
    return value;
  }
}

/** Topics as a YAML list or one comma-separated string. */
function readTopics(front: FrontMatter, value: unknown): string[] {
  const items = typeof value === 'string' ? value.split(',') : front.list(value, 'topics');
  return items.map((item) => front.text(item, 'topics')).filter((item): item is string => item !== null);
}

function readContact(front: FrontMatter, value: unknown, organisation: string | null): Contact | null {
  if (absent(value)) return null;
  const fields = front.mapping(value, 'key "contact"', CONTACT_KEYS);
  const field = (name: (typeof CONTACT_KEYS)[number]): string | null => front.text(fields[name], `contact.${name}`);
  return {
    name: field('name'),
    // The contact usually speaks for the issuer; a different organisation must be said.
    organisation: field('organisation') ?? organisation,
    street: field('street'),
    postcode: field('postcode'),
    city: field('city'),
    phone: field('phone'),
    fax: field('fax'),
    email: field('email'),
  };
}

function readImage(front: FrontMatter, value: unknown): MediaRef | null {
  if (absent(value)) return null;
  if (typeof value === 'string') return { url: front.required(value, 'image'), alt: null, caption: null, credit: null };
  const fields = front.mapping(value, 'key "image"', IMAGE_KEYS);
  return {
    url: front.text(fields.src, 'image.src') ?? front.required(fields.url, 'image.url'),
    alt: front.text(fields.alt, 'image.alt'),
    caption: front.text(fields.caption, 'image.caption'),
    credit: front.text(fields.credit, 'image.credit'),
  };
}

function readAttachments(front: FrontMatter, value: unknown): MediaRef[] {
  return front.list(value, 'attachments').map((item, index) => {
    const key = `attachments[${index}]`;
    if (typeof item === 'string') return { url: front.required(item, key), title: null };
    const fields = front.mapping(item, `key "${key}"`, ATTACHMENT_KEYS);
    return {
      url: front.text(fields.src, `${key}.src`) ?? front.required(fields.url, `${key}.url`),
      title: front.text(fields.title, `${key}.title`),
    };
  });
}

/**
 * Reads a Markdown release with YAML front matter (title and date required; see RELEASE_KEYS).
 * The body is rendered to HTML, not sanitized; `guid`, when given, becomes the ref.
 */
export function parseMarkdownRelease(text: string, ref: string): ParsedRelease {
  // Typed explicitly: TypeScript narrows after a call returning `never` only through explicitly typed names.
  const front: FrontMatter = new FrontMatter(ref);
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const match = FRONT_MATTER.exec(source);
  if (!match) front.fail('no front matter (a "---" line, YAML, a "---" line)');
  let parsed: unknown;
  try {
    // Failsafe keeps every scalar as written: postcode "01067" and a date stay text, not a number or a UTC Date.
    parsed = YAML.parse(match[1] ?? '', { schema: 'failsafe' }) ?? {};
  } catch (error) {
    front.fail(`front matter is not valid YAML: ${(error as Error).message}`);
  }
  const data = front.mapping(parsed, 'front matter', RELEASE_KEYS);
  const title = front.required(data.title, 'title');
  const publishedAt = front.instant(data.date, 'date') ?? front.missing('date');
  const organisation = front.text(data.organisation, 'organisation');
  const image = readImage(front, data.image);
  return {
    ref: front.text(data.guid, 'guid') ?? ref,
    url: null,
    title,
    subtitle: front.text(data.subtitle, 'subtitle'),
    bodyHtml: markdown.parse(source.slice(match[0].length), { async: false }).trim(),
    publishedAt,
    updatedAt: front.instant(data.updated, 'updated'),
    embargoUntil: front.instant(data.embargo, 'embargo'),
    organisation,
    department: front.text(data.department, 'department'),
    contact: readContact(front, data.contact, organisation),
    topics: readTopics(front, data.topics),
    images: image ? [image] : [],
    attachments: readAttachments(front, data.attachments),
    language: front.text(data.language, 'language'),
  };
}
