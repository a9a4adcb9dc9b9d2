import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config, SourceConfig } from '../config.js';
import type { Store } from '../db/store.js';
import { measureBytes } from '../media.js';
import type { Media, Probe, ReleaseInput } from '../model.js';
import { htmlToText, sanitizeBody, stripXmlForbidden } from '../text.js';
import { createLimiter, decodeText, fetchUpstream, userAgent, type FetchOptions, type FetchResult } from './fetch.js';
import { parseFeedSource, type FeedSourceSettings } from './feed-source.js';
import type { HtmlSiteSettings } from './html-site.js';
import { parseMarkdownRelease } from './markdown.js';
import { mirrorBodyImages, mirrorImage, probeUrl } from './probe.js';
import { parseTextRelease } from './text-release.js';
import type { MediaRef, ParsedRelease, Rejected } from './types.js';

/** What a refresh needs: configuration, the store, a clock and a log. */
export interface RefreshDeps {
  readonly config: Config;
  readonly store: Store;
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
  /** Told of every finished run (metrics); a cancelled run is no outcome of its source and is not told. */
  readonly onReport?: (report: RefreshReport) => void;
  /**
   * Cancels runs (at shutdown): a run stops before its next request, commits nothing, records no error
   * and gives its lease back.
   */
  readonly signal?: AbortSignal;
}

/** Progress of a long run (back-fill): pages read so far, and releases found. */
export type Progress = (event: { readonly pages: number; readonly releases: number; readonly url: string }) => void;

/** What one run of one source did. */
export interface RefreshReport {
  readonly sourceId: string;
  readonly ok: boolean;
  /** Set when another run of the source held the lease, so this one did nothing. */
  readonly skipped: boolean;
  /** Set when the run was cancelled (deps.signal): nothing of it was stored. */
  readonly cancelled: boolean;
  readonly new: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly rejected: readonly Rejected[];
  readonly requests: number;
  readonly durationMs: number;
  readonly error: string | null;
  /** Per release: its reference upstream (and the file it was read from, for files), and what the store did with it. */
  readonly outcomes: ReadonlyArray<{ ref: string; file?: string; outcome: 'new' | 'changed' | 'unchanged' }>;
}

/** A run holds its source's lease this long at most; a crashed run's lease expires. */
const LEASE_MS = 30 * 60 * 1000;

/** One run's context: counted, bounded requests, and the validators to store if the run succeeds. */
interface Run {
  readonly source: SourceConfig;
  readonly deps: RefreshDeps;
  readonly options: { readonly backfill: boolean; readonly progress?: Progress };
  readonly fetchOptions: Pick<FetchOptions, 'userAgent' | 'timeoutMs' | 'maxBytes' | 'signal'>;
  readonly limit: ReturnType<typeof createLimiter>;
  readonly validators: Array<{ url: string; etag: string | null; lastModified: string | null }>;
  requests: number;
  /** Releases whose upstream answered 304: unchanged, not parsed. */
  notModified: number;
  /** Media probed (or being probed) in this run, by URL: a file shown by several releases is asked for once. */
  readonly probes: Map<string, Promise<Probe>>;
  fetch(url: string, conditional: boolean): Promise<FetchResult>;
}

/** What a collector gathers from its upstream. */
interface Collected {
  readonly releases: ParsedRelease[];
  readonly rejected: Rejected[];
}

/** Herold's GUID for an upstream release: a name-based UUID (RFC 9562 v5 layout) of source and reference, stable forever. */
export function stableGuid(sourceId: string, ref: string): string {
  const hash = createHash('sha1').update(`herold:${sourceId}\n${ref}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function settingsOf<T>(source: SourceConfig): T {
  return source.settings as unknown as T;
}

async function collectFeed(run: Run): Promise<Collected> {
  const settings = settingsOf<FeedSourceSettings>(run.source);
  const result = await run.fetch(settings.url, true);
  if (result.notModified) return { releases: [], rejected: [] };
  const text = decodeText(result.bytes, result.contentType, 'xml');
  const parsed = parseFeedSource(text, result.url, settings);
  return { releases: [...parsed.releases], rejected: [...parsed.rejected] };
}

/**
 * Makes the next run ask for `url` without validators (they are stored empty): what was rejected this time must
 * be read again, not answered 304 and taken as unchanged.
 */
function forgetValidators(run: Run, url: string): void {
  const others = run.validators.filter((entry) => entry.url !== url);
  run.validators.splice(0, run.validators.length, ...others, { url, etag: null, lastModified: null });
}

async function collectHtml(run: Run): Promise<Collected> {
  // The HTML parser (cheerio, some 30 MB in memory) is loaded by the first website refresh, not by every process that serves.
  const { parseListing, parseReleasePage } = await import('./html-site.js');
  const settings = settingsOf<HtmlSiteSettings & { max_pages?: number; recheck?: number }>(run.source);
  const maxPages = run.options.backfill ? (settings.max_pages ?? 10000) : 1;
  const links: string[] = [];
  const seenPages = new Set<string>();
  let next: string | null = settings.listing_url;
  while (next && seenPages.size < maxPages && !seenPages.has(next)) {
    seenPages.add(next);
    // Only the first listing page is asked conditionally: an unchanged front page means nothing new.
    const page = await run.fetch(next, seenPages.size === 1 && !run.options.backfill);
    if (page.notModified) {
      // An unchanged front page brings nothing new, but a release page may have been corrected on its own:
      // the newest ones are asked again, conditionally (mostly a 304 each).
      links.push(...run.deps.store.recentSourceRefs(run.source.id, settings.recheck ?? 20));
      break;
    }
    const listing = parseListing(decodeText(page.bytes, page.contentType, 'html'), page.url, settings);
    // A front page without release links is a changed site or a maintenance page, not an empty archive: say so.
    if (seenPages.size === 1 && listing.links.length === 0) {
      throw new Error(`listing ${page.url}: link_selector "${settings.link_selector}" matches no link`);
    }
    for (const link of listing.links) if (!links.includes(link)) links.push(link);
    run.options.progress?.({ pages: seenPages.size, releases: links.length, url: page.url });
    next = listing.next;
  }
  const pages: Array<{ link: string; release: ParsedRelease }> = [];
  const rejected: Rejected[] = [];
  // run.fetch takes a slot of the source's limiter itself: at most 4 requests at once.
  await Promise.all(links.map(async (link) => {
    try {
      const page = await run.fetch(link, true);
      if (page.notModified) {
        run.notModified++;
        return;
      }
      pages.push({ link, release: parseReleasePage(decodeText(page.bytes, page.contentType, 'html'), page.url, settings) });
    } catch (error) {
      // A cancelled run is not a broken page.
      if (run.deps.signal?.aborted) throw error;
      rejected.push({ ref: link, reason: (error as Error).message });
      run.deps.log?.(`refresh: source ${run.source.id}: ${link}: ${(error as Error).message}`);
      forgetValidators(run, link);
    }
  }));
  // An unchanged listing (304) ends the next run before its pages are asked for: a rejected page is retried only if the listing is read again.
  if (rejected.length > 0) forgetValidators(run, settings.listing_url);
  // Listing order, not completion order, so that runs are reproducible.
  pages.sort((a, b) => links.indexOf(a.link) - links.indexOf(b.link));
  return { releases: pages.map((page) => page.release), rejected };
}

/** Whether `file` is `folder` or lies below it (both real paths). */
function isWithin(folder: string, file: string): boolean {
  const inside = path.relative(folder, file);
  return inside === '' || (inside.split(path.sep)[0] !== '..' && !path.isAbsolute(inside));
}

/** Reads release files (plain text of the seed's shape, or Markdown with front matter) from files and folders. */
export async function collectFiles(paths: readonly string[]): Promise<Collected & { files: Map<string, string> }> {
  const releases: ParsedRelease[] = [];
  const rejected: Rejected[] = [];
  const files = new Map<string, string>();
  const visit = async (file: string, root: string, realRoot: string, seen: Set<string>): Promise<void> => {
    // Links are followed only to what lies in the folder: a link in it must not publish a file from elsewhere.
    const real = await realpath(file);
    const info = await stat(real);
    if (!info.isDirectory() && !/\.(txt|md|markdown)$/i.test(file)) return;
    if (!isWithin(realRoot, real)) {
      rejected.push({ ref: file, reason: `links to ${real}, which is outside ${root}: not read` });
      return;
    }
    if (info.isDirectory()) {
      // A link back up the folder is read once, not for ever.
      if (seen.has(real)) return;
      seen.add(real);
      for (const name of (await readdir(real)).sort()) {
        if (!name.startsWith('.')) await visit(path.join(file, name), root, realRoot, seen);
      }
      return;
    }
    const ref = path.relative(root, file) || path.basename(file);
    try {
      const text = await readFile(real, 'utf8');
      const release = /\.txt$/i.test(file) ? parseTextRelease(text, ref) : parseMarkdownRelease(text, ref);
      releases.push(release);
      files.set(release.ref, file);
    } catch (error) {
      rejected.push({ ref: file, reason: (error as Error).message });
    }
  };
  for (const entry of paths) {
    const folder = (await stat(entry)).isDirectory();
    const root = folder ? entry : path.dirname(entry);
    // What was named (a folder, or a file on the command line) may itself be a link: its real place is the folder.
    const realRoot = folder ? await realpath(entry) : path.dirname(await realpath(entry));
    await visit(entry, root, realRoot, new Set());
  }
  return { releases, rejected, files };
}

const IMAGE_EXTENSIONS = ['', '.jpg', '.jpeg', '.png', '.webp', '.gif'];

/**
 * A file source's image is named relative to its release file, often without extension. When the
 * file is there, it is copied under the media folder and served; when not, the name stays a reference.
 */
async function localMedia(ref: MediaRef, releaseFile: string, sourceId: string, config: Config): Promise<Media> {
  const base = { url: ref.url, title: ref.title ?? null, alt: ref.alt ?? null, caption: ref.caption ?? null, credit: ref.credit ?? null };
  if (/^https?:\/\//.test(ref.url)) return { ...base, width: null, height: null, mime: null, bytes: null };
  const home = path.dirname(releaseFile);
  for (const extension of IMAGE_EXTENSIONS) {
    const candidate = path.resolve(home, `${ref.url}${extension}`);
    // Only files beside or below the release file: a reference must not publish whatever file the process can read.
    const inside = path.relative(home, candidate);
    if (!inside || inside.split(path.sep)[0] === '..' || path.isAbsolute(inside)) continue;
    const info = await stat(candidate).catch(() => null);
    if (!info?.isFile()) continue;
    // A link is followed only to a file that lies beside or below the release file too.
    const real = await realpath(candidate).catch(() => null);
    if (!real || !isWithin(await realpath(home), real)) continue;
    const bytes = await readFile(real);
    const measured = await measureBytes(bytes);
    // Named by content too: two releases' own "bild.jpg" stay two files, and a replaced picture gets a new URL past caches.
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
    const name = `${hash}-${path.basename(candidate).toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}`;
    const folder = path.join(config.mediaDir, 'sources', sourceId);
    const target = path.join(folder, name);
    if (!(await stat(target).catch(() => null))) {
      await mkdir(folder, { recursive: true });
      await writeFile(target, bytes);
    }
    return { ...base, url: `/media/sources/${sourceId}/${name}`, ...measured };
  }
  return { ...base, width: null, height: null, mime: null, bytes: null };
}

async function collectFileSource(run: Run): Promise<Collected & { files: Map<string, string> }> {
  const settings = settingsOf<{ path: string }>(run.source);
  const folder = path.resolve(run.deps.config.configFile ? path.dirname(run.deps.config.configFile) : run.deps.config.dataDir, settings.path);
  return collectFiles([folder]);
}

/** A remote file's probe: from the store when it was measured before, else measured once per run however many releases show it. */
function probeOnce(url: string, run: Run, kind: 'image' | 'attachment'): Promise<Probe> {
  const { store, clock = () => new Date() } = run.deps;
  let pending = run.probes.get(url);
  if (!pending) {
    pending = (async () => {
      const known = store.probeOf(url);
      if (known) return known;
      const probe = await run.limit(() => {
        run.deps.signal?.throwIfAborted();
        run.requests++;
        return kind === 'image'
          ? mirrorImage(url, run.fetchOptions, path.join(run.deps.config.mediaDir, 'remote'))
          : probeUrl(url, run.fetchOptions);
      });
      // A probe cut short by a cancel is no measurement: it is not stored, and is made again next time.
      run.deps.signal?.throwIfAborted();
      store.saveProbe(url, probe, clock());
      if (probe.error) run.deps.log?.(`refresh: source ${run.source.id}: probe of ${url} failed: ${probe.error}`);
      return probe;
    })();
    run.probes.set(url, pending);
  }
  return pending;
}

/** Measures remote media once per URL (images are copied, see mirrorImage); what was measured before is reused from the store. */
async function remoteMedia(ref: MediaRef, run: Run, kind: 'image' | 'attachment'): Promise<Media> {
  const probe = await probeOnce(ref.url, run, kind);
  return {
    url: probe.localUrl ?? ref.url, title: ref.title ?? null, alt: ref.alt ?? null, caption: ref.caption ?? null, credit: ref.credit ?? null,
    width: probe.width, height: probe.height, mime: probe.mime, bytes: probe.bytes,
  };
}

function clean(value: string | null | undefined): string | null {
  const text = value ? stripXmlForbidden(value).replace(/\s+/g, ' ').trim() : '';
  return text || null;
}

/** Turns a parsed release into store input: Herold's GUID, sanitized body and its text, measured media. */
async function toInput(release: ParsedRelease, run: Run, files?: Map<string, string>): Promise<ReleaseInput> {
  const { config } = run.deps;
  const base = release.url ?? (run.source.settings.url as string | undefined) ?? (run.source.settings.listing_url as string | undefined) ?? `${config.baseUrl}/`;
  const media = (kind: 'image' | 'attachment') => (ref: MediaRef) =>
    (files ? localMedia(ref, files.get(release.ref)!, run.source.id, config) : remoteMedia(ref, run, kind));
  const bodyHtml = files
    ? sanitizeBody(release.bodyHtml, base)
    : await mirrorBodyImages(sanitizeBody(release.bodyHtml, base), async (url) => (await probeOnce(url, run, 'image')).localUrl ?? null);
  const settings = run.source.settings as { organisation?: string; department?: string; topics?: string[] };
  return {
    guid: stableGuid(run.source.id, release.ref),
    sourceId: run.source.id,
    sourceRef: release.ref,
    title: clean(release.title) ?? '',
    subtitle: clean(release.subtitle),
    bodyHtml,
    bodyText: htmlToText(bodyHtml),
    language: release.language ?? config.site.language,
    organisation: clean(release.organisation) ?? settings.organisation ?? config.site.organisation,
    department: clean(release.department) ?? settings.department ?? null,
    contact: release.contact,
    topics: [...new Set([...(settings.topics ?? []), ...release.topics.map(clean).filter((topic): topic is string => !!topic)])],
    images: await Promise.all(release.images.map(media('image'))),
    attachments: await Promise.all(release.attachments.map(media('attachment'))),
    publishedAt: release.publishedAt,
    updatedAt: release.updatedAt ?? null,
    embargoUntil: release.embargoUntil ?? null,
  };
}

/**
 * toInput for every release, all under way at once, but started in slices of at most 50 ms with the event
 * loop let in between: a server refreshing thousands of releases goes on answering its readers.
 */
async function toInputs(releases: readonly ParsedRelease[], run: Run, files?: Map<string, string>): Promise<ReleaseInput[]> {
  const pending: Array<Promise<ReleaseInput>> = [];
  let slice = performance.now();
  for (const release of releases) {
    const input = toInput(release, run, files);
    // Handled here so that a failure while the loop waits is no unhandled rejection; Promise.all below reports it.
    input.catch(() => {});
    pending.push(input);
    if (performance.now() - slice > 50) {
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
  }
  return Promise.all(pending);
}

function emptyReport(sourceId: string, fields: Partial<RefreshReport>): RefreshReport {
  return { sourceId, ok: false, skipped: false, cancelled: false, new: 0, changed: 0, unchanged: 0, rejected: [], requests: 0, durationMs: 0, error: null, outcomes: [], ...fields };
}

/**
 * Refreshes one source: fetch (conditional, bounded), parse, probe, then one transaction that
 * inserts new releases, updates changed ones and leaves unchanged ones unwritten. A failure is
 * recorded with the source and URL and stored releases stay as they were. Runs never overlap.
 */
export function refreshSource(
  source: SourceConfig,
  deps: RefreshDeps,
  options: { backfill?: boolean; progress?: Progress } = {},
): Promise<RefreshReport> {
  const collect = (run: Run) => (source.type === 'feed' ? collectFeed(run) : source.type === 'html' ? collectHtml(run) : collectFileSource(run));
  const run = runSource(source, deps, options, collect);
  const { onReport } = deps;
  if (onReport) void run.then((report) => (report.cancelled ? undefined : onReport(report)), () => {});
  return run;
}

/** Imports release files and folders once, as the source "import"; the report lists each file's outcome. */
export function importFiles(paths: readonly string[], deps: RefreshDeps): Promise<RefreshReport> {
  const source: SourceConfig = { id: 'import', type: 'files', schedule: '', settings: {} };
  return runSource(source, deps, {}, () => collectFiles(paths));
}

async function runSource(
  source: SourceConfig,
  deps: RefreshDeps,
  options: { backfill?: boolean; progress?: Progress },
  collect: (run: Run) => Promise<Collected & { files?: Map<string, string> }>,
): Promise<RefreshReport> {
  const { store, config, clock = () => new Date(), log = () => {} } = deps;
  const { signal } = deps;
  if (signal?.aborted) {
    log(`refresh: source ${source.id}: not started: ${reasonOf(signal)}`);
    return emptyReport(source.id, { cancelled: true, error: `source ${source.id}: cancelled: ${reasonOf(signal)}` });
  }
  const started = clock();
  const startedAt = performance.now();
  // A cancelled run was no attempt: the start-up catch-up of the next start must still see the source as due.
  const previousAttempt = store.sourceState(source.id)?.lastAttemptAt ?? null;
  if (!store.acquireSourceLease(source.id, started, new Date(started.getTime() + LEASE_MS))) {
    log(`refresh: source ${source.id}: another run is in progress; skipped`);
    return emptyReport(source.id, { skipped: true });
  }
  const settings = source.settings as { timeout_ms?: number; max_bytes?: number };
  const run: Run = {
    source,
    deps,
    options: { backfill: options.backfill ?? false, ...(options.progress ? { progress: options.progress } : {}) },
    fetchOptions: {
      userAgent: userAgent(config.baseUrl), timeoutMs: settings.timeout_ms ?? 15_000, maxBytes: settings.max_bytes ?? 5 * 1024 * 1024,
      ...(signal ? { signal } : {}),
    },
    limit: createLimiter(4),
    validators: [],
    requests: 0,
    notModified: 0,
    probes: new Map(),
    async fetch(url, conditional) {
      const stored = conditional ? store.validatorsFor(url) : undefined;
      const result = await this.limit(() => {
        // Requests still queued for a slot are not made once the run is cancelled.
        signal?.throwIfAborted();
        this.requests++;
        return fetchUpstream(url, { ...this.fetchOptions, etag: stored?.etag ?? null, lastModified: stored?.lastModified ?? null });
      });
      if (!result.notModified && (result.etag || result.lastModified)) {
        this.validators.push({ url, etag: result.etag, lastModified: result.lastModified });
      }
      return result;
    },
  };
  try {
    const collected = await collect(run);
    const inputs = await toInputs(collected.releases, run, collected.files);
    // The last point of return: the commit below is one transaction, all or nothing.
    signal?.throwIfAborted();
    const durationMs = performance.now() - startedAt;
    const outcomes = store.commitRefresh(source.id, inputs, run.validators,
      { rejected: collected.rejected.length, requests: run.requests, durationMs }, clock());
    for (const item of collected.rejected) log(`refresh: source ${source.id}: rejected ${item.ref}: ${item.reason}`);
    const count = (outcome: string) => outcomes.filter((result) => result.outcome === outcome).length;
    return emptyReport(source.id, {
      ok: true,
      new: count('new'),
      changed: count('changed'),
      unchanged: count('unchanged') + run.notModified,
      rejected: collected.rejected,
      requests: run.requests,
      durationMs,
      outcomes: outcomes.map((result, index) => {
        const { ref } = collected.releases[index]!;
        const file = collected.files?.get(ref);
        return file ? { ref, file, outcome: result.outcome } : { ref, outcome: result.outcome };
      }),
    });
  } catch (error) {
    const durationMs = performance.now() - startedAt;
    if (signal?.aborted) {
      // Not the upstream's fault: no error is recorded and the consecutive errors stay as they were.
      const message = `source ${source.id}: cancelled after ${run.requests} requests (${reasonOf(signal)}); nothing stored`;
      log(`refresh: ${message}`);
      return emptyReport(source.id, { cancelled: true, error: message, requests: run.requests, durationMs });
    }
    const message = `source ${source.id}: ${(error as Error).message}`;
    store.recordSourceFailure(source.id, message, { requests: run.requests, durationMs }, clock());
    log(`refresh: ${message}`);
    return emptyReport(source.id, { error: message, requests: run.requests, durationMs });
  } finally {
    store.releaseSourceLease(source.id, signal?.aborted ? { lastAttemptAt: previousAttempt } : {});
  }
}

/** Why a run was cancelled, from its signal's reason. */
function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}

/** Refreshes every configured source one after the other; a failing source does not stop the others. */
export async function refreshAll(deps: RefreshDeps, sources: readonly SourceConfig[] = deps.config.sources): Promise<RefreshReport[]> {
  const reports: RefreshReport[] = [];
  for (const source of sources) reports.push(await refreshSource(source, deps));
  return reports;
}
