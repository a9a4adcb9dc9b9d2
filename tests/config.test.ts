import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterEach, describe, expect, test } from 'vitest';
import { workerCount } from '../src/cluster.js';
import { ConfigError, loadConfig } from '../src/config.js';

const REPO = path.resolve(import.meta.dirname, '..');
const dirs: string[] = [];

/** An empty folder to serve as the working directory. */
function emptyDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herold-config-'));
  dirs.push(dir);
  return dir;
}

/** Writes a config file into `dir` and returns its path. */
function configFile(dir: string, content: unknown, name = 'herold.json'): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The ConfigError that loadConfig throws for this environment; fails the test when it throws none or another. */
function configError(env: NodeJS.ProcessEnv, cwd: string): ConfigError {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('defaults', () => {
  test('an empty working directory and no environment give the documented defaults', () => {
    const cwd = emptyDir();
    const config = loadConfig({}, cwd);
    expect({
      port: config.port, host: config.host, baseUrl: config.baseUrl, dataDir: config.dataDir, databaseFile: config.databaseFile,
      configFile: config.configFile, samplesDir: config.samplesDir, mediaDir: config.mediaDir, feedMaxAge: config.feedMaxAge,
      sources: config.sources,
    }).toEqual({
      port: 3000,
      host: '0.0.0.0',
      baseUrl: 'http://localhost:3000',
      dataDir: path.join(cwd, 'data'),
      databaseFile: path.join(cwd, 'data', 'herold.db'),
      configFile: null,
      samplesDir: path.join(cwd, 'data', 'samples'),
      mediaDir: path.join(cwd, 'data', 'media'),
      feedMaxAge: 300,
      sources: [],
    });
    expect(config.site.language).toBe('de');
    expect(config.site.locale).toBe('de_DE');
  });

  test('PORT changes the default base URL; HEROLD_BASE_URL is stored without its trailing slash', () => {
    const cwd = emptyDir();
    expect(loadConfig({ PORT: '8080' }, cwd)).toMatchObject({ port: 8080, baseUrl: 'http://localhost:8080' });
    expect(loadConfig({ PORT: '8080', HEROLD_BASE_URL: 'https://presse.lindenau.example/' }, cwd))
      .toMatchObject({ port: 8080, baseUrl: 'https://presse.lindenau.example' });
    expect(loadConfig({ HEROLD_BASE_URL: 'https://lindenau.example/presse/' }, cwd).baseUrl).toBe('https://lindenau.example/presse');
    expect(loadConfig({ HEROLD_BASE_URL: 'http://herold.test' }, cwd).baseUrl).toBe('http://herold.test');
  });

  test('rate limits default to 300 (API) and 120 (search) a minute, 0 turns one off; log level info; no proxy trusted', () => {
    const cwd = emptyDir();
    expect(loadConfig({}, cwd)).toMatchObject({ rateLimits: { apiPerMinute: 300, searchPerMinute: 120 }, logLevel: 'info', trustProxy: null });
    expect(loadConfig({ HEROLD_RATE_LIMIT_API: '0', HEROLD_RATE_LIMIT_SEARCH: '5', HEROLD_LOG_LEVEL: 'warn' }, cwd))
      .toMatchObject({ rateLimits: { apiPerMinute: 0, searchPerMinute: 5 }, logLevel: 'warn' });
  });

  test.each([
    ['1', 1], ['loopback', 'loopback'], ['loopback, 10.0.0.0/8, fd00::/8', 'loopback, 10.0.0.0/8, fd00::/8'],
    ['192.0.2.1', '192.0.2.1'], ['10.0.0.0/255.0.0.0', '10.0.0.0/255.0.0.0'], ['uniquelocal,linklocal', 'uniquelocal,linklocal'],
  ])('HEROLD_TRUST_PROXY "%s" is a setting Express takes', (value, expected) => {
    const { trustProxy } = loadConfig({ HEROLD_TRUST_PROXY: value }, emptyDir());
    expect(trustProxy).toEqual(expected);
    expect(() => express().set('trust proxy', trustProxy)).not.toThrow();
  });

  test('HEROLD_DATA_DIR is resolved against the working directory; a herold.json in it is read', () => {
    const cwd = emptyDir();
    mkdirSync(path.join(cwd, 'var', 'herold'), { recursive: true });
    const file = configFile(path.join(cwd, 'var', 'herold'), { feeds: { max_age: 60 }, samples: '../beispiele' });
    const config = loadConfig({ HEROLD_DATA_DIR: 'var/herold' }, cwd);
    expect(config.dataDir).toBe(path.join(cwd, 'var', 'herold'));
    expect(config.configFile).toBe(file);
    expect(config.feedMaxAge).toBe(60);
    expect(config.samplesDir).toBe(path.join(cwd, 'var', 'beispiele'));
  });
});

describe('a bad value stops start-up with a ConfigError naming the key', () => {
  test.each([
    ['PORT "abc"', { PORT: 'abc' }, 'PORT'],
    ['PORT "70000"', { PORT: '70000' }, 'PORT'],
    ['PORT "0"', { PORT: '0' }, 'PORT'],
    ['PORT "-1"', { PORT: '-1' }, 'PORT'],
    ['HEROLD_BASE_URL "ftp://x"', { HEROLD_BASE_URL: 'ftp://x' }, 'HEROLD_BASE_URL'],
    ['HEROLD_BASE_URL "not a url"', { HEROLD_BASE_URL: 'not a url' }, 'HEROLD_BASE_URL'],
    ['HEROLD_BASE_URL with a query', { HEROLD_BASE_URL: 'https://x.example/?a=1' }, 'HEROLD_BASE_URL'],
    ['HEROLD_BASE_URL with credentials', { HEROLD_BASE_URL: 'https://user:secret@x.example/' }, 'HEROLD_BASE_URL'],
    ['HEROLD_RATE_LIMIT_API "lots"', { HEROLD_RATE_LIMIT_API: 'lots' }, 'HEROLD_RATE_LIMIT_API'],
    ['HEROLD_RATE_LIMIT_API "-1"', { HEROLD_RATE_LIMIT_API: '-1' }, 'HEROLD_RATE_LIMIT_API'],
    ['HEROLD_RATE_LIMIT_SEARCH "1.5"', { HEROLD_RATE_LIMIT_SEARCH: '1.5' }, 'HEROLD_RATE_LIMIT_SEARCH'],
    ['HEROLD_LOG_LEVEL "verbose"', { HEROLD_LOG_LEVEL: 'verbose' }, 'HEROLD_LOG_LEVEL'],
    ['HEROLD_LOG_LEVEL "INFO"', { HEROLD_LOG_LEVEL: 'INFO' }, 'HEROLD_LOG_LEVEL'],
    ['HEROLD_TRUST_PROXY "true"', { HEROLD_TRUST_PROXY: 'true' }, 'HEROLD_TRUST_PROXY'],
    ['HEROLD_TRUST_PROXY "proxy.local"', { HEROLD_TRUST_PROXY: 'proxy.local' }, 'HEROLD_TRUST_PROXY'],
    ['HEROLD_TRUST_PROXY "10.0.0.0/33"', { HEROLD_TRUST_PROXY: '10.0.0.0/33' }, 'HEROLD_TRUST_PROXY'],
    ['HEROLD_TRUST_PROXY "10.0.0.0/255.0.255.0"', { HEROLD_TRUST_PROXY: '10.0.0.0/255.0.255.0' }, 'HEROLD_TRUST_PROXY'],
    ['HEROLD_REDIS_URL "localhost:6379"', { HEROLD_REDIS_URL: 'localhost:6379' }, 'HEROLD_REDIS_URL'],
  ])('%s', (_name, env, key) => {
    expect(configError(env, emptyDir()).message).toContain(key);
  });

  test('serve --workers N and HEROLD_WORKERS: 1 to 64 processes, 1 by default, the flag before the environment', () => {
    expect(workerCount(undefined, {})).toBe(1);
    expect(workerCount(undefined, { HEROLD_WORKERS: '4' })).toBe(4);
    expect(workerCount('2', { HEROLD_WORKERS: '4' })).toBe(2);
    for (const value of ['0', '65', 'two', '-1', '1.5']) {
      expect(() => workerCount(undefined, { HEROLD_WORKERS: value })).toThrow(new ConfigError(`HEROLD_WORKERS: must be an integer from 1 to 64, got "${value}"`));
      expect(() => workerCount(value, {})).toThrow(new ConfigError(`--workers: must be an integer from 1 to 64, got "${value}"`));
    }
    expect(() => workerCount(true, {})).toThrow(new ConfigError('--workers: must be an integer from 1 to 64, got no value'));
  });

  test('HEROLD_CONFIG pointing to a missing file', () => {
    const cwd = emptyDir();
    const error = configError({ HEROLD_CONFIG: 'nowhere/herold.json' }, cwd);
    expect(error.message).toContain('HEROLD_CONFIG');
    expect(error.message).toContain(path.join(cwd, 'nowhere', 'herold.json'));
  });

  test('a config file that is not JSON', () => {
    const cwd = emptyDir();
    const file = configFile(cwd, '{"site": {"name": "Pressestelle",}}');
    const error = configError({ HEROLD_CONFIG: file }, cwd);
    expect(error.message).toContain('HEROLD_CONFIG');
    expect(error.message).toContain(file);
  });

  test.each([
    ['a language that is not a string', { site: { language: 5 } }, 'site.language'],
    ['a language that is not a language tag', { site: { name: 'Presse', language: 'Deutsch' } }, 'site.language'],
    ['a negative max_age', { feeds: { max_age: -1 } }, 'feeds.max_age'],
    ['a max_age that is not an integer', { feeds: { max_age: 1.5 } }, 'feeds.max_age'],
    ['an unknown top-level key', { colour: 1 }, 'colour'],
    ['an unknown key in site', { site: { colour: 'blau' } }, 'site.colour'],
    ['a source without a schedule', { sources: [{ id: 'rathaus', type: 'feed' }] }, 'sources.0.schedule'],
    ['a source of an unknown type', { sources: [{ id: 'rathaus', type: 'ftp', schedule: '*/15 * * * *' }] }, 'sources.0.type'],
    ['duplicate source ids', {
      sources: [
        { id: 'rathaus', type: 'feed', schedule: '*/15 * * * *', url: 'https://a.example/feed' },
        { id: 'rathaus', type: 'html', schedule: '0 * * * *', url: 'https://b.example/' },
      ],
    }, 'sources.1.id'],
  ])('%s', (_name, content, key) => {
    const cwd = emptyDir();
    const file = configFile(cwd, content);
    const error = configError({ HEROLD_CONFIG: file }, cwd);
    expect(error.message).toContain(`"${key}"`);
    expect(error.message).toContain(file);
  });

  test('the same checks apply to the file found in the data folder without HEROLD_CONFIG', () => {
    const cwd = emptyDir();
    mkdirSync(path.join(cwd, 'data'));
    configFile(path.join(cwd, 'data'), { site: { language: 5 } });
    expect(configError({}, cwd).message).toContain('"site.language"');
  });

  // A bare "?" or "#" would end up in every link (".../?/feeds/…").
  test.each([
    ['HEROLD_BASE_URL with an empty query', { HEROLD_BASE_URL: 'https://x.example?' }],
    ['HEROLD_BASE_URL with an empty fragment', { HEROLD_BASE_URL: 'https://x.example/#' }],
  ])('%s', (_name, env) => {
    expect(configError(env, emptyDir()).message).toContain('HEROLD_BASE_URL');
  });
});

describe('a valid config file', () => {
  test('sets the site, language, locale, max_age, folders and sources', () => {
    const cwd = emptyDir();
    const file = configFile(cwd, {
      site: { name: 'Press Office of Lindenau', language: 'en', locale: 'en_GB', contact_email: 'press@lindenau.example', twitter_site: '@lindenau' },
      feeds: { max_age: 120 },
      samples: 'examples',
      media: '/srv/media',
      sources: [{ id: 'rathaus', type: 'feed', schedule: '*/15 * * * *', url: 'https://www.lindenau.example/feed.xml' }],
    }, 'site.json');
    const config = loadConfig({ HEROLD_CONFIG: 'site.json' }, cwd);
    expect(config.configFile).toBe(file);
    expect(config.site).toEqual({
      name: 'Press Office of Lindenau',
      description: 'Pressemitteilungen der Stadt Lindenau',
      organisation: 'Stadt Lindenau',
      language: 'en',
      locale: 'en_GB',
      contactEmail: 'press@lindenau.example',
      logo: '/media/logo.png',
      icon: '/media/icon.png',
      shareImage: '/media/share-default.png',
      twitterSite: '@lindenau',
    });
    expect(config.feedMaxAge).toBe(120);
    expect(config.samplesDir).toBe(path.join(cwd, 'examples'));
    expect(config.mediaDir).toBe('/srv/media');
    expect(config.sources).toEqual([
      { id: 'rathaus', type: 'feed', schedule: '*/15 * * * *', settings: { url: 'https://www.lindenau.example/feed.xml' } },
    ]);
  });

  test('without site.locale, the locale follows the language', () => {
    const cwd = emptyDir();
    const locale = (language: string) => loadConfig({ HEROLD_CONFIG: configFile(cwd, { site: { language } }) }, cwd).site.locale;
    expect(locale('de')).toBe('de_DE');
    expect(locale('fr')).toBe('fr_FR');
  });

  // A language with a region gives its own locale, matching the file's site.locale pattern.
  test('a language with a region gives a well-formed locale', () => {
    const cwd = emptyDir();
    const config = loadConfig({ HEROLD_CONFIG: configFile(cwd, { site: { language: 'de-AT' } }) }, cwd);
    expect(config.site.locale).toMatch(/^[a-z]{2,3}_[A-Z]{2}$/);
  });

  test('the repository\'s own data/herold.json is valid', () => {
    const config = loadConfig({ HEROLD_CONFIG: path.join(REPO, 'data', 'herold.json') }, emptyDir());
    expect(config.site.language).toBe('de');
    expect(config.samplesDir).toBe(path.join(REPO, 'data', 'samples'));
  });

  test('the returned object is frozen, down to the site and the sources', () => {
    const cwd = emptyDir();
    const file = configFile(cwd, { sources: [{ id: 'rathaus', type: 'feed', schedule: '* * * * *', url: 'https://a.example/' }] });
    const config = loadConfig({ HEROLD_CONFIG: file }, cwd);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.site)).toBe(true);
    expect(Object.isFrozen(config.sources)).toBe(true);
    expect(Object.isFrozen(config.sources[0])).toBe(true);
    expect(Object.isFrozen(config.sources[0]!.settings)).toBe(true);
    expect(() => { (config as { port: number }).port = 1; }).toThrow(TypeError);
    expect(() => { (config.site as { language: string }).language = 'fr'; }).toThrow(TypeError);
    expect(config.port).toBe(3000);
    expect(config.site.language).toBe('de');
  });
});
