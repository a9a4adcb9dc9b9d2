import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { createWebSubStore, type WebSubStore } from '../../src/db/websub-store.js';
import { startWebSub, type WebSub } from '../../src/websub/hub.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { input, nastyReleases } from '../helpers/fixtures.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** A Herold with its WebSub notifier running on short delays, and the test's clock. */
export interface Herold {
  readonly t: TestApp;
  readonly app: ReturnType<typeof createApp>;
  readonly hub: WebSub;
  readonly subscriptions: WebSubStore;
  close(): Promise<void>;
}

/** Starts a test Herold (seeded with the fixture releases before the notifier starts) and its WebSub notifier. */
export async function startHerold(options: { env?: Record<string, string> } = {}): Promise<Herold> {
  // The subscribers' callbacks are on 127.0.0.1, which the hub asks only when allowed.
  const t = createTestApp({ env: { HEROLD_ALLOW_PRIVATE_URLS: '127.0.0.1', ...options.env } });
  t.store.upsertReleases(await nastyReleases(), { now: new Date('2026-11-21T00:00:00Z') });
  const subscriptions = createWebSubStore(t.db);
  const log = (line: string) => t.logs.push(line);
  const websub = startWebSub({
    config: t.config, store: t.store, subscriptions, clock: () => t.now, log,
    options: { intervalMs: 20, retryDelaysMs: [30, 60, 120], timeoutMs: 3000, concurrency: 4 },
  });
  const app = createApp({ config: t.config, store: t.store, clock: () => t.now, log, websub: websub.hub });
  return {
    t, app, hub: websub.hub, subscriptions,
    async close() {
      await websub.stop();
      t.close();
    },
  };
}

/** Publishes one new release (a write, as a refresh or the authoring API makes). */
export function publish(t: TestApp, guid: string, fields: { title: string; topics?: string[]; department?: string; embargoUntil?: string }): void {
  t.store.upsertReleases([input({ guid, publishedAt: t.now.toISOString(), ...fields })], { now: t.now });
}

/** What a subscriber's callback saw. */
export interface CallbackEvent {
  readonly kind: 'verify' | 'denied' | 'delivery';
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The status the callback answered. */
  readonly status: number;
}

/** How one callback behaves: echo the challenge (or a wrong one), and the statuses it answers deliveries with, in turn. */
export interface CallbackBehaviour {
  readonly echo?: 'challenge' | 'wrong';
  readonly deliveries?: readonly number[];
}

/** A WebSub subscriber: callbacks on a real server on 127.0.0.1, recording every request. */
export interface Subscriber {
  readonly events: CallbackEvent[];
  /** Sets up a callback path and returns its absolute URL. */
  callback(path: string, behaviour?: CallbackBehaviour): string;
  /** The events of one callback path, optionally of one kind. */
  of(path: string, kind?: CallbackEvent['kind']): CallbackEvent[];
  /** Waits (polling, up to 10 s) for the `count`-th event of a callback path and kind. */
  waitFor(path: string, kind: CallbackEvent['kind'], count?: number): Promise<CallbackEvent>;
  close(): Promise<void>;
}

/** Starts a subscriber on startUpstream's server. */
export async function startSubscriber(): Promise<Subscriber> {
  const events: CallbackEvent[] = [];
  const upstream: Upstream = await startUpstream({});
  const of = (path: string, kind?: CallbackEvent['kind']) => events.filter((event) => event.path === path && (!kind || event.kind === kind));
  return {
    events,
    of,
    callback(path, behaviour = {}) {
      let delivered = 0;
      upstream.set(path, (req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const url = new URL(req.url ?? '/', 'http://subscriber');
          const body = Buffer.concat(chunks);
          const record = (kind: CallbackEvent['kind'], status: number) =>
            events.push({ kind, path, query: url.searchParams, headers: req.headers, body, status });
          if (req.method === 'GET' && url.searchParams.get('hub.mode') === 'denied') {
            record('denied', 200);
            res.writeHead(200).end();
          } else if (req.method === 'GET') {
            const challenge = url.searchParams.get('hub.challenge') ?? '';
            record('verify', 200);
            res.writeHead(200, { 'content-type': 'text/plain' }).end(behaviour.echo === 'wrong' ? `${challenge}-not` : challenge);
          } else {
            const statuses = behaviour.deliveries ?? [200];
            const status = statuses[Math.min(delivered, statuses.length - 1)]!;
            delivered += 1;
            record('delivery', status);
            res.writeHead(status).end();
          }
        });
      });
      return `${upstream.url}${path}`;
    },
    async waitFor(path, kind, count = 1) {
      for (let waited = 0; waited < 10_000; waited += 10) {
        const found = of(path, kind);
        if (found.length >= count) return found[count - 1]!;
        await sleep(10);
      }
      throw new Error(`no ${kind} #${count} at ${path}; saw: ${events.map((event) => `${event.kind} ${event.path}`).join(', ') || 'nothing'}`);
    },
    close: () => upstream.close(),
  };
}

/** Sends a hub request to Herold's hub as a form. */
export function hubRequest(app: Herold['app'], fields: Record<string, string>) {
  return request(app).post('/websub').type('form').send(new URLSearchParams(fields).toString());
}

/** Subscribes a callback and waits until the hub has verified (or refused) it. */
export async function subscribe(h: Herold, topic: string, callback: string, extra: Record<string, string> = {}): Promise<void> {
  await hubRequest(h.app, { 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': callback, ...extra }).expect(202);
  await h.hub.idle();
}

/** Whether a delivery carries a valid X-Hub-Signature for `secret` (W3C WebSub 8). */
export function signatureValid(event: CallbackEvent, secret: string): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(event.body).digest('hex')}`;
  return event.headers['x-hub-signature'] === expected;
}
