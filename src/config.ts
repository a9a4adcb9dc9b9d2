import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import ipaddr from 'ipaddr.js';
import cron from 'node-cron';

/** Site identity and presentation, from the config file's `site` key. */
export interface SiteConfig {
  readonly name: string;
  readonly description: string;
  readonly organisation: string;
  readonly language: string;
  readonly locale: string;
  readonly contactEmail: string;
  /** Site-relative or absolute URLs of the logo, the feed icon and the default share image. */
  readonly logo: string;
  readonly icon: string;
  readonly shareImage: string;
  readonly twitterSite: string | null;
}

/** One upstream source as configured; the source types validate their own settings. */
export interface SourceConfig {
  readonly id: string;
  readonly type: string;
  readonly schedule: string;
  readonly settings: Readonly<Record<string, unknown>>;
}

/** The whole validated configuration; built once by loadConfig and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly baseUrl: string;
  readonly dataDir: string;
  readonly databaseFile: string;
  readonly configFile: string | null;
  readonly samplesDir: string;
  readonly mediaDir: string;
  readonly feedMaxAge: number;
  /** The bearer token of the operations API (source refreshes); null disables it. */
  readonly adminToken: string | null;
  /** Bearer tokens of the authoring API (HEROLD_API_TOKENS, comma-separated); empty disables it. */
  readonly apiTokens: readonly string[];
  /** Journalists' tokens for the embargoed feed (HEROLD_PRESS_TOKENS, comma-separated). */
  readonly pressTokens: readonly string[];
  /** An external WebSub hub to announce and ping (HEROLD_WEBSUB_HUB); null means Herold's own hub. */
  readonly websubHub: string | null;
  /** HTTP server limits in ms (HEROLD_HEADERS_TIMEOUT_MS, HEROLD_REQUEST_TIMEOUT_MS, HEROLD_KEEP_ALIVE_TIMEOUT_MS, HEROLD_SHUTDOWN_TIMEOUT_MS). */
  readonly http: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number; readonly keepAliveTimeoutMs: number; readonly shutdownTimeoutMs: number };
  /** Requests per minute and client address on the APIs and on search (HEROLD_RATE_LIMIT_API, HEROLD_RATE_LIMIT_SEARCH); 0 disables. */
  readonly rateLimits: { readonly apiPerMinute: number; readonly searchPerMinute: number };
  /** Express's `trust proxy` setting (HEROLD_TRUST_PROXY: "loopback", a hop count, or addresses); null trusts no proxy. */
  readonly trustProxy: string | number | null;
  /** The pino log level (HEROLD_LOG_LEVEL). */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** A Redis server coordinating scheduled refreshes across processes (HEROLD_REDIS_URL); null runs every schedule here. */
  readonly redisUrl: string | null;
  /** Hosts, addresses and CIDRs that WebSub callbacks and authoring-API media may be on although not public (HEROLD_ALLOW_PRIVATE_URLS). */
  readonly allowPrivateUrls: readonly string[];
  readonly site: SiteConfig;
  readonly sources: readonly SourceConfig[];
}

/** Thrown for any invalid setting; the message names the key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const fileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    site: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        description: { type: 'string' },
        organisation: { type: 'string', minLength: 1 },
        language: { type: 'string', pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' },
        locale: { type: 'string', pattern: '^[a-z]{2,3}_[A-Z]{2}$' },
        contact_email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
        logo: { type: 'string', minLength: 1 },
        icon: { type: 'string', minLength: 1 },
        share_image: { type: 'string', minLength: 1 },
        twitter_site: { type: 'string', pattern: '^@\\w{1,15}$' },
      },
    },
    feeds: {
      type: 'object',
      additionalProperties: false,
      properties: { max_age: { type: 'integer', minimum: 0, maximum: 86400 } },
    },
    samples: { type: 'string', minLength: 1 },
    media: { type: 'string', minLength: 1 },
    sources: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'schedule'],
        properties: {
          id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
          type: { type: 'string', enum: ['feed', 'html', 'files'] },
          schedule: { type: 'string', minLength: 1 },
        },
      },
    },
  },
} as const;

interface ConfigFile {
  site?: {
    name?: string; description?: string; organisation?: string; language?: string; locale?: string;
    contact_email?: string; logo?: string; icon?: string; share_image?: string; twitter_site?: string;
  };
  feeds?: { max_age?: number };
  samples?: string;
  media?: string;
  sources?: Array<{ id: string; type: string; schedule: string } & Record<string, unknown>>;
}

const httpUrl = { type: 'string', pattern: '^https?://[^\\s]+$' } as const;
const selector = { type: 'string', minLength: 1 } as const;
const common = {
  organisation: { type: 'string', minLength: 1 },
  department: { type: 'string', minLength: 1 },
  topics: { type: 'array', items: { type: 'string', minLength: 1 } },
  timeout_ms: { type: 'integer', minimum: 100, maximum: 600000 },
  max_bytes: { type: 'integer', minimum: 1024, maximum: 104857600 },
} as const;

/** The settings each source type takes besides id, type and schedule. */
const sourceSchemas = {
  feed: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: httpUrl, ...common } },
  files: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string', minLength: 1 }, ...common } },
  html: {
    type: 'object',
    additionalProperties: false,
    required: ['listing_url', 'link_selector', 'title_selector', 'body_selector', 'date_selector'],
    properties: {
      listing_url: httpUrl, link_selector: selector, next_selector: selector, title_selector: selector,
      subtitle_selector: selector, body_selector: selector, remove_selectors: { type: 'array', items: selector },
      date_selector: selector, date_format: { type: 'string', minLength: 1 }, date_attribute: { type: 'string', minLength: 1 },
      image_selector: selector, caption_selector: selector, credit_selector: selector, issuer_selector: selector,
      contact_selector: selector, topics_selector: selector, attachment_selector: selector,
      max_pages: { type: 'integer', minimum: 1, maximum: 10000 },
      recheck: { type: 'integer', minimum: 0, maximum: 1000 },
      ...common,
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true });
const validateFile = ajv.compile<ConfigFile>(fileSchema);
const validateSource = Object.fromEntries(Object.entries(sourceSchemas).map(([type, schema]) => [type, ajv.compile(schema)]));

function errorKey(error: ErrorObject): string {
  const pointer = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = error.params && 'missingProperty' in error.params ? String(error.params.missingProperty) : '';
  const extra = error.params && 'additionalProperty' in error.params ? String(error.params.additionalProperty) : '';
  return [pointer, missing || extra].filter(Boolean).join('.') || '(root)';
}

function readConfigFile(file: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`HEROLD_CONFIG: cannot read ${file}: ${(error as Error).message}`);
  }
  if (!validateFile(parsed)) {
    const first = validateFile.errors?.[0];
    const detail = first ? `${first.message ?? 'invalid'}` : 'invalid';
    throw new ConfigError(`${file}: key "${first ? errorKey(first) : '(root)'}" ${detail}`);
  }
  return parsed;
}

function parseToken(value: string | undefined, key: string): string | null {
  if (value === undefined || value === '') return null;
  if (value.length < 16 || /\s/.test(value)) {
    throw new ConfigError(`${key}: must be at least 16 characters without spaces`);
  }
  return value;
}

function parseTokens(value: string | undefined, key: string): readonly string[] {
  if (value === undefined || value.trim() === '') return Object.freeze([]);
  return Object.freeze(value.split(',').map((token) => parseToken(token.trim(), key)!));
}

function parseHub(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (!/^https?:\/\/\S+$/.test(value)) throw new ConfigError(`HEROLD_WEBSUB_HUB: must be an absolute http(s) URL, got "${value}"`);
  return value;
}

function parseMs(value: string | undefined, key: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,7}$/.test(value) || Number(value) < 100) throw new ConfigError(`${key}: must be an integer from 100 to 9999999 (ms), got "${value}"`);
  return Number(value);
}

function parseHttp(env: NodeJS.ProcessEnv): Config['http'] {
  const headersTimeoutMs = parseMs(env.HEROLD_HEADERS_TIMEOUT_MS, 'HEROLD_HEADERS_TIMEOUT_MS', 10_000);
  const requestTimeoutMs = parseMs(env.HEROLD_REQUEST_TIMEOUT_MS, 'HEROLD_REQUEST_TIMEOUT_MS', Math.max(30_000, headersTimeoutMs));
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError(`HEROLD_HEADERS_TIMEOUT_MS: must not exceed HEROLD_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  const keepAliveTimeoutMs = parseMs(env.HEROLD_KEEP_ALIVE_TIMEOUT_MS, 'HEROLD_KEEP_ALIVE_TIMEOUT_MS', 5_000);
  const shutdownTimeoutMs = parseMs(env.HEROLD_SHUTDOWN_TIMEOUT_MS, 'HEROLD_SHUTDOWN_TIMEOUT_MS', 10_000);
  return Object.freeze({ headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, shutdownTimeoutMs });
}

function parseCount(value: string | undefined, key: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,6}$/.test(value)) throw new ConfigError(`${key}: must be an integer from 0 to 999999, got "${value}"`);
  return Number(value);
}

/** "10.0.0.0/255.0.0.0": an IPv4 address and a contiguous netmask. */
function isNetmaskRange(entry: string): boolean {
  const [address = '', mask = '', ...rest] = entry.split('/');
  return rest.length === 0 && ipaddr.IPv4.isValidFourPartDecimal(address) && ipaddr.IPv4.isValidFourPartDecimal(mask)
    && (ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask() ?? 0) > 0;
}

function parseTrustProxy(value: string | undefined): string | number | null {
  if (value === undefined || value === '') return null;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  // What Express (proxy-addr) accepts: names of ranges, addresses, address/prefix or address/netmask, comma-separated.
  const entries = value.split(',').map((entry) => entry.trim());
  const valid = (entry: string) => ['loopback', 'linklocal', 'uniquelocal'].includes(entry) || ipaddr.isValid(entry)
    || ipaddr.isValidCIDR(entry) || isNetmaskRange(entry);
  if (!entries.every(valid)) throw new ConfigError(`HEROLD_TRUST_PROXY: must be a hop count, "loopback" or addresses, got "${value}"`);
  return value;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function parseLogLevel(value: string | undefined): Config['logLevel'] {
  if (value === undefined || value === '') return 'info';
  const level = LOG_LEVELS.find((name) => name === value);
  if (!level) throw new ConfigError(`HEROLD_LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return level;
}

function parseRedisUrl(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (!/^rediss?:\/\/\S+$/.test(value)) throw new ConfigError(`HEROLD_REDIS_URL: must be a redis:// or rediss:// URL, got "${value}"`);
  return value;
}

/**
 * HEROLD_ALLOW_PRIVATE_URLS: comma-separated host names, IP addresses and CIDRs, normalized (addresses in
 * CIDR form, names in lower case).
 */
function parseAllowPrivateUrls(value: string | undefined): readonly string[] {
  if (value === undefined || value.trim() === '') return Object.freeze([]);
  return Object.freeze(value.split(',').map((raw) => raw.trim()).filter(Boolean).map((entry) => {
    const bare = entry.replace(/^\[(.*)\]$/, '$1');
    if (ipaddr.isValidCIDR(bare)) {
      const [address, bits] = ipaddr.parseCIDR(bare);
      return `${address.toString()}/${bits}`;
    }
    if (ipaddr.isValid(bare)) {
      const address = ipaddr.process(bare);
      return `${address.toString()}/${address.kind() === 'ipv4' ? 32 : 128}`;
    }
    // Anything made of digits, dots, colons or slashes only was meant as an address.
    if (/^[\d./:]+$/.test(bare) || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(bare)) {
      throw new ConfigError(`HEROLD_ALLOW_PRIVATE_URLS: "${entry}" is not a host name, an IP address or a CIDR`);
    }
    return bare.toLowerCase().replace(/\.$/, '');
  }));
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    throw new ConfigError(`PORT: must be an integer from 1 to 65535, got "${value}"`);
  }
  return Number(value);
}

function parseBaseUrl(value: string | undefined, port: number): string {
  if (value === undefined || value === '') return `http://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`HEROLD_BASE_URL: must be an absolute http(s) URL, got "${value}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || /[?#]/.test(value) || url.username || url.password) {
    throw new ConfigError(`HEROLD_BASE_URL: must be an absolute http(s) URL without query or credentials, got "${value}"`);
  }
  return url.href.replace(/\/+$/, '');
}

/** The usual Open Graph locale of a language without a region. */
const LOCALES: Readonly<Record<string, string>> = {
  de: 'de_DE', en: 'en_GB', fr: 'fr_FR', it: 'it_IT', es: 'es_ES', nl: 'nl_NL', pl: 'pl_PL', tr: 'tr_TR', da: 'da_DK',
  sv: 'sv_SE', nb: 'nb_NO', fi: 'fi_FI', cs: 'cs_CZ', pt: 'pt_PT', el: 'el_GR', uk: 'uk_UA', ar: 'ar_AR', ru: 'ru_RU',
};

function defaultLocale(language: string, configFile: string | null): string {
  const [base = '', region] = language.split('-');
  if (region && /^[A-Za-z]{2}$/.test(region)) return `${base}_${region.toUpperCase()}`;
  const locale = LOCALES[base];
  if (!locale) throw new ConfigError(`${configFile ?? 'config'}: key "site.locale" is required for language "${language}"`);
  return locale;
}

/**
 * Reads the environment and the config file once; throws ConfigError naming the bad key.
 * With no file at the default place, the embedded defaults apply.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Readonly<Config> {
  const port = parsePort(env.PORT);
  const baseUrl = parseBaseUrl(env.HEROLD_BASE_URL, port);
  const dataDir = path.resolve(cwd, env.HEROLD_DATA_DIR || 'data');
  const explicitFile = env.HEROLD_CONFIG ? path.resolve(cwd, env.HEROLD_CONFIG) : null;
  const defaultFile = path.join(dataDir, 'herold.json');
  const configFile = explicitFile ?? (existsSync(defaultFile) ? defaultFile : null);
  if (explicitFile && !existsSync(explicitFile)) {
    throw new ConfigError(`HEROLD_CONFIG: file ${explicitFile} does not exist`);
  }
  const file = configFile ? readConfigFile(configFile) : {};
  const fileDir = configFile ? path.dirname(configFile) : dataDir;
  const site = file.site ?? {};
  const language = site.language ?? 'de';
  const sources = (file.sources ?? []).map(({ id, type, schedule, ...settings }) =>
    Object.freeze({ id, type, schedule, settings: Object.freeze(settings) }));
  const seen = new Set<string>();
  for (const [index, source] of sources.entries()) {
    if (seen.has(source.id)) throw new ConfigError(`${configFile}: key "sources.${index}.id" duplicates "${source.id}"`);
    seen.add(source.id);
    if (!cron.validate(source.schedule)) {
      throw new ConfigError(`${configFile}: key "sources.${index}.schedule" is not a cron expression: "${source.schedule}"`);
    }
    const validate = validateSource[source.type]!;
    if (!validate(source.settings)) {
      const first = validate.errors![0]!;
      throw new ConfigError(`${configFile}: key "${['sources', index, errorKey(first)].filter((part) => part !== '(root)').join('.')}" ${first.message ?? 'invalid'}`);
    }
  }
  const config: Config = {
    port,
    host: env.HOST || '0.0.0.0',
    baseUrl,
    dataDir,
    databaseFile: path.join(dataDir, 'herold.db'),
    configFile,
    samplesDir: path.resolve(fileDir, file.samples ?? 'samples'),
    mediaDir: path.resolve(fileDir, file.media ?? 'media'),
    feedMaxAge: file.feeds?.max_age ?? 300,
    adminToken: parseToken(env.HEROLD_ADMIN_TOKEN, 'HEROLD_ADMIN_TOKEN'),
    apiTokens: parseTokens(env.HEROLD_API_TOKENS, 'HEROLD_API_TOKENS'),
    pressTokens: parseTokens(env.HEROLD_PRESS_TOKENS, 'HEROLD_PRESS_TOKENS'),
    websubHub: parseHub(env.HEROLD_WEBSUB_HUB),
    http: parseHttp(env),
    rateLimits: Object.freeze({
      apiPerMinute: parseCount(env.HEROLD_RATE_LIMIT_API, 'HEROLD_RATE_LIMIT_API', 300),
      searchPerMinute: parseCount(env.HEROLD_RATE_LIMIT_SEARCH, 'HEROLD_RATE_LIMIT_SEARCH', 120),
    }),
    trustProxy: parseTrustProxy(env.HEROLD_TRUST_PROXY),
    logLevel: parseLogLevel(env.HEROLD_LOG_LEVEL),
    redisUrl: parseRedisUrl(env.HEROLD_REDIS_URL),
    allowPrivateUrls: parseAllowPrivateUrls(env.HEROLD_ALLOW_PRIVATE_URLS),
    site: Object.freeze({
      name: site.name ?? 'Pressestelle Stadt Lindenau',
      description: site.description ?? 'Pressemitteilungen der Stadt Lindenau',
      organisation: site.organisation ?? 'Stadt Lindenau',
      language,
      locale: site.locale ?? defaultLocale(language, configFile),
      contactEmail: site.contact_email ?? 'presse@lindenau.example',
      logo: site.logo ?? '/media/logo.png',
      icon: site.icon ?? '/media/icon.png',
      shareImage: site.share_image ?? '/media/share-default.png',
      twitterSite: site.twitter_site ?? null,
    }),
    sources: Object.freeze(sources),
  };
  return Object.freeze(config);
}
