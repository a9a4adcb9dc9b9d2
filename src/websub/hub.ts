import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import type { WebSubStore } from '../db/websub-store.js';
import { listFeeds } from '../feeds/directory.js';
import { createFeedBody, hubUrl, websubLinks } from '../feeds/handler.js';
import { badRequest, HttpError, singleParam } from '../http/errors.js';
import type { Representation } from '../http/representation.js';
import { describeError, fetchUpstream, userAgent } from '../ingest/fetch.js';
import { addressFilter } from '../net/address-filter.js';

/** Leases in seconds: what a subscriber gets without asking, and the bounds of what it may ask for. */
export const LEASE = Object.freeze({ default: 10 * 86_400, min: 3_600, max: 30 * 86_400 });

/** How the hub times its work; tests shorten every delay. */
export interface WebSubOptions {
  /** How often the notifier looks for changed data. */
  readonly intervalMs: number;
  /** Waits before each retry of a failed delivery or ping: 1 + length tries in all. */
  readonly retryDelaysMs: readonly number[];
  /** Bounds one request to a callback or an external hub. */
  readonly timeoutMs: number;
  /** Requests to callbacks and hubs in flight at once. */
  readonly concurrency: number;
}

const DEFAULTS: WebSubOptions = { intervalMs: 1000, retryDelaysMs: [1000, 4000, 16_000], timeoutMs: 10_000, concurrency: 8 };

/** What the hub and its notifier need. */
export interface WebSubDeps {
  readonly config: Config;
  readonly store: Store;
  readonly subscriptions: WebSubStore;
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
  readonly options?: Partial<WebSubOptions>;
}

/** A subscriber's request to the hub (W3C WebSub 5.1), validated. */
export interface HubRequest {
  readonly mode: 'subscribe' | 'unsubscribe';
  readonly topic: string;
  readonly callback: string;
  /** The lease granted: the one asked for within LEASE's bounds, or the default. */
  readonly leaseSeconds: number;
  readonly secret: string | null;
}

function httpUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** Parses the form parameters of a hub request; a 400 naming the parameter for anything malformed. */
export function parseHubRequest(form: Record<string, unknown>): HubRequest {
  const single = (name: string): string | undefined => singleParam(form, name) || undefined;
  const mode = single('hub.mode');
  if (mode !== 'subscribe' && mode !== 'unsubscribe') {
    throw badRequest('hub.mode', `"hub.mode" must be "subscribe" or "unsubscribe", got "${String(mode ?? '').slice(0, 40)}".`);
  }
  const callback = single('hub.callback');
  if (!callback || callback.length > 2000 || !httpUrl(callback)) {
    throw badRequest('hub.callback', '"hub.callback" must be an absolute http(s) URL of at most 2000 characters.');
  }
  const topic = single('hub.topic');
  if (!topic || topic.length > 2000 || !httpUrl(topic)) {
    throw badRequest('hub.topic', '"hub.topic" must be the absolute http(s) URL of one of the feeds.');
  }
  const lease = single('hub.lease_seconds');
  if (lease !== undefined && !/^\d{1,10}$/.test(lease)) {
    throw badRequest('hub.lease_seconds', `"hub.lease_seconds" must be a number of seconds, got "${lease.slice(0, 40)}".`);
  }
  const secret = single('hub.secret') ?? null;
  // WebSub 5.1: the secret "MUST be less than 200 bytes in length".
  if (secret !== null && Buffer.byteLength(secret, 'utf8') >= 200) {
    throw badRequest('hub.secret', '"hub.secret" must be less than 200 bytes long.');
  }
  const leaseSeconds = lease === undefined ? LEASE.default : Math.min(Math.max(Number(lease), LEASE.min), LEASE.max);
  return { mode, topic, callback, leaseSeconds, secret };
}

/** The callback URL with parameters appended, its own query kept as it is (WebSub 5.3). */
function withParameters(callback: string, parameters: Record<string, string>): string {
  const base = callback.split('#')[0]!;
  const separator = base.includes('?') ? (/[?&]$/.test(base) ? '' : '&') : '?';
  return `${base}${separator}${new URLSearchParams(parameters).toString()}`;
}

/** What one POST to a callback or hub came to: a status, or none when the request failed. */
interface PostOutcome {
  readonly status: number | null;
  readonly error: string | null;
}

/** Herold's WebSub side: its own hub (subscriptions, verification, distribution) or the pings to an external hub. */
export interface WebSub {
  /** Takes a validated hub request; verification (or denial) follows asynchronously. */
  accept(request: HubRequest): void;
  /** Looks for changed data once; on a change, pushes changed feeds to subscribers (or pings the external hub). */
  check(): void;
  /** Settles when no verification, delivery or ping is in flight. */
  idle(): Promise<void>;
  /** Stops taking work, cuts retries short and settles when what is in flight has ended. */
  stop(): Promise<void>;
}

/** Why a delivery stopped half-way when the hub shuts down (not logged: the body is delivered after the restart). */
const SHUTTING_DOWN = 'the hub is shutting down';

/** Creates the hub; startWebSub adds the timer that calls check(). */
export function createWebSub({ config, store, subscriptions, clock = () => new Date(), log = (line) => console.error(line), options = {} }: WebSubDeps): WebSub {
  const settings = { ...DEFAULTS, ...options };
  const feedBody = createFeedBody(config, store);
  const hub = hubUrl(config);
  const agent = userAgent(`${config.baseUrl}/`);
  const limit = pLimit(settings.concurrency);
  // Callbacks are the subscribers' URLs: only public addresses (or HEROLD_ALLOW_PRIVATE_URLS) are asked.
  const callbacks = addressFilter(config.allowPrivateUrls);
  const stopping = new AbortController();
  const tasks = new Set<Promise<void>>();
  /**
   * The newest body each subscription still has to get, with the ETag its subscriber had before (see
   * claimDelivery): a newer one replaces an older one not yet sent.
   */
  const pending = new Map<number, { readonly rep: Representation; readonly previous: string | null }>();
  const draining = new Set<number>();
  /** External hub: the ETag of each feed's JSON form at the last check. */
  const announced = new Map<string, string>();
  let lastState: string | null = null;

  function track(name: string, task: Promise<void>): void {
    const tracked = task.catch((error: unknown) => log(`websub: ${name}: ${describeError(error)}`)).finally(() => tasks.delete(tracked));
    tasks.add(tracked);
  }

  async function getCallback(url: string): Promise<string> {
    const result = await limit(() => fetchUpstream(url, {
      userAgent: agent, retries: 0, timeoutMs: settings.timeoutMs, maxBytes: 4096, headers: { accept: 'text/plain, */*;q=0.5' }, fetch: callbacks.fetch,
    }));
    return result.bytes.toString('utf8');
  }

  /** POSTs to a subscriber's callback (through the address filter) or to the external hub of the operator's config. */
  async function post(url: string, headers: Record<string, string>, body: Buffer | string, to: 'callback' | 'hub'): Promise<PostOutcome> {
    return limit(async () => {
      try {
        const response = await (to === 'callback' ? callbacks.fetch : fetch)(url, {
          method: 'POST', headers: { 'user-agent': agent, ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body), redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), stopping.signal]),
        });
        await response.body?.cancel().catch(() => undefined);
        const ok = response.status >= 200 && response.status <= 299;
        return { status: response.status, error: ok ? null : `HTTP ${response.status}` };
      } catch (error) {
        return { status: null, error: describeError(error) };
      }
    });
  }

  /** Runs `attempt` until it reports done, waiting the configured delays between tries; the last failure when all failed. */
  async function retrying(attempt: () => Promise<string | null>): Promise<string | null> {
    for (let count = 0; ; count++) {
      const failure = await attempt();
      if (failure === null || stopping.signal.aborted) return failure;
      const delay = settings.retryDelaysMs[count];
      if (delay === undefined) return `${failure} (after ${count + 1} attempts)`;
      try {
        await sleep(delay, undefined, { signal: stopping.signal });
      } catch {
        return failure;
      }
    }
  }

  async function verify(request: HubRequest): Promise<void> {
    const { mode, topic, callback } = request;
    if (mode === 'subscribe') {
      try {
        feedBody(topic, clock());
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        // WebSub 5.2: a refused subscription is reported to the callback.
        const reason = error.detail ?? error.title;
        log(`websub: subscription of ${callback} to ${topic} denied: ${reason}`);
        await getCallback(withParameters(callback, { 'hub.mode': 'denied', 'hub.topic': topic, 'hub.reason': reason }))
          .catch((failure: unknown) => log(`websub: denial to ${callback} not delivered: ${describeError(failure)}`));
        return;
      }
    }
    const challenge = randomBytes(24).toString('base64url');
    const parameters: Record<string, string> = { 'hub.mode': mode, 'hub.topic': topic, 'hub.challenge': challenge };
    if (mode === 'subscribe') parameters['hub.lease_seconds'] = String(request.leaseSeconds);
    let answer: string;
    try {
      answer = await getCallback(withParameters(callback, parameters));
    } catch (error) {
      log(`websub: ${mode} of ${callback} to ${topic} not verified: ${describeError(error)}`);
      return;
    }
    // WebSub 5.3.1: only a 2xx whose body is exactly the challenge confirms the intent.
    if (answer !== challenge) {
      log(`websub: ${mode} of ${callback} to ${topic} not verified: the callback did not echo the challenge`);
      return;
    }
    if (stopping.signal.aborted) return;
    const now = clock();
    if (mode === 'unsubscribe') {
      subscriptions.unsubscribe(topic, callback);
      log(`websub: ${callback} unsubscribed from ${topic}`);
      return;
    }
    // The subscriber has the feed as it is now (it reads it to subscribe): push only what changes after this.
    const etag = feedBody(topic, now).tag;
    subscriptions.subscribe({ topic, callback, secret: request.secret, leaseSeconds: request.leaseSeconds, etag }, now);
    log(`websub: ${callback} subscribed to ${topic} for ${request.leaseSeconds} s`);
  }

  /** One try to deliver a body; null when done (delivered, or nothing left to do), else why it failed. */
  async function deliverOnce(id: number, rep: Representation): Promise<string | null> {
    // A newer body is waiting: it replaces this one.
    if (pending.has(id)) return null;
    if (stopping.signal.aborted) return SHUTTING_DOWN;
    const subscription = subscriptions.subscriptionById(id);
    if (!subscription || subscription.expiresAt <= clock().toISOString()) return null;
    const headers: Record<string, string> = {
      'content-type': rep.contentType,
      link: websubLinks(hub, subscription.topic).join(', '),
    };
    if (subscription.secret) {
      headers['x-hub-signature'] = `sha256=${createHmac('sha256', subscription.secret).update(rep.body).digest('hex')}`;
    }
    const outcome = await post(subscription.callback, headers, rep.body, 'callback');
    if (stopping.signal.aborted && outcome.error !== null) return SHUTTING_DOWN;
    if (outcome.error === null) {
      subscriptions.recordDelivery(id, rep.tag, clock());
      return null;
    }
    // WebSub 7: a 410 Gone ends the subscription.
    if (outcome.status === 410) {
      subscriptions.remove(id);
      log(`websub: ${subscription.callback} answered 410 Gone: subscription to ${subscription.topic} removed`);
      return null;
    }
    subscriptions.recordError(id, `${clock().toISOString()}: ${outcome.error}`);
    return `${subscription.callback}: ${outcome.error}`;
  }

  function enqueue(id: number, rep: Representation, previous: string | null): void {
    pending.set(id, { rep, previous });
    if (draining.has(id)) return;
    draining.add(id);
    track(`delivery to subscription ${id}`, (async () => {
      try {
        for (let next = pending.get(id); next; next = pending.get(id)) {
          pending.delete(id);
          const failure = await retrying(() => deliverOnce(id, next!.rep));
          if (failure === null) continue;
          // Not delivered: the body is no longer taken, so that the next change (in any process) delivers again.
          subscriptions.releaseDelivery(id, next.previous, next.rep.tag);
          if (failure !== SHUTTING_DOWN) log(`websub: delivery failed: ${failure}`);
        }
      } finally {
        draining.delete(id);
      }
    })());
  }

  function distribute(now: Date): void {
    subscriptions.purgeExpired(now);
    for (const topic of subscriptions.activeTopics(now)) {
      let rep: Representation;
      try {
        rep = feedBody(topic, now);
      } catch (error) {
        // A topic or department that is gone: its subscribers keep their lease, and get nothing.
        if (error instanceof HttpError) continue;
        throw error;
      }
      // Each process of the host notices the change; the one that takes a subscriber's delivery makes it.
      for (const subscription of subscriptions.subscribersOf(topic, now)) {
        if (subscription.lastEtag !== rep.tag && subscriptions.claimDelivery(subscription.id, subscription.lastEtag, rep.tag)) {
          enqueue(subscription.id, rep, subscription.lastEtag);
        }
      }
    }
  }

  function ping(url: string): void {
    const body = new URLSearchParams({ 'hub.mode': 'publish', 'hub.url': url }).toString();
    track(`ping of ${hub} for ${url}`, (async () => {
      const failure = await retrying(async () => {
        if (stopping.signal.aborted) return null;
        const outcome = await post(hub, { 'content-type': 'application/x-www-form-urlencoded' }, body, 'hub');
        return outcome.error === null ? null : `${hub}: ${outcome.error}`;
      });
      if (failure !== null) log(`websub: publish ping for ${url} failed: ${failure}`);
    })());
  }

  function announceChanged(now: Date, first: boolean): void {
    for (const feed of listFeeds(config, store, now)) {
      const base = `${config.baseUrl}${feed.path}`;
      // The three formats carry the same items: when one changed, all did.
      const tag = feedBody(`${base}.json`, now).tag;
      const before = announced.get(feed.path);
      announced.set(feed.path, tag);
      // The first check only learns what the feeds are; a feed that is new since then has changed.
      if (first || before === tag) continue;
      for (const format of ['rss', 'atom', 'json']) ping(`${base}.${format}`);
    }
  }

  return {
    accept(request) {
      if (stopping.signal.aborted) throw new HttpError(503, 'Service Unavailable', 'The hub is shutting down.');
      // A literal address or a localhost name is refused at once; a name that resolves to such an address fails verification.
      const refused = callbacks.refusalWithoutLookup(request.callback);
      if (refused) throw badRequest('hub.callback', `"hub.callback" is refused: ${refused.message}.`);
      track(`${request.mode} of ${request.callback} to ${request.topic}`, verify(request));
    },

    check() {
      if (stopping.signal.aborted) return;
      const now = clock();
      // Writes change the generation; an embargo lifting changes no row, but moves the next lift.
      const state = `${store.generation()}|${store.nextEmbargoLift(now) ?? ''}`;
      if (state === lastState) return;
      if (config.websubHub !== null) announceChanged(now, lastState === null);
      else distribute(now);
      // Remembered only once handled: a check that threw is repeated on the next tick.
      lastState = state;
    },

    async idle() {
      while (tasks.size) await Promise.allSettled([...tasks]);
    },

    async stop() {
      stopping.abort();
      while (tasks.size) await Promise.allSettled([...tasks]);
    },
  };
}

/**
 * Starts WebSub: the hub, and a notifier that every `intervalMs` compares the store's generation and
 * next embargo lift with the last seen, and on a change pushes or pings.
 */
export function startWebSub(deps: WebSubDeps): { readonly hub: WebSub; stop(): Promise<void> } {
  const log = deps.log ?? ((line: string) => console.error(line));
  const hub = createWebSub(deps);
  const tick = () => {
    try {
      hub.check();
    } catch (error) {
      log(`websub: change check failed: ${describeError(error)}`);
    }
  };
  // At once: what the feeds are now is the baseline later changes are measured against.
  tick();
  const timer = setInterval(tick, deps.options?.intervalMs ?? DEFAULTS.intervalMs);
  timer.unref();
  return {
    hub,
    async stop() {
      clearInterval(timer);
      await hub.stop();
    },
  };
}
