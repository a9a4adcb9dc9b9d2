import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHerold } from './app.js';
import type { Config } from './config.js';
import { openDatabase } from './db/open.js';
import { attachRenderedItems, renderedItemsFile } from './db/rendered-store.js';
import { createStore } from './db/store.js';
import { createWebSubStore } from './db/websub-store.js';
import { createMetrics } from './http/metrics.js';
import { componentLog, serviceLogger } from './http/log.js';
import { startScheduler } from './ingest/scheduler.js';
import { loadSamples } from './samples.js';
import { startWebSub } from './websub/hub.js';

/** Opens the database (migrating it) with the rendered feed items beside it, and loads the samples into a new one. */
export async function prepareDatabase(config: Config, log: (line: string) => void) {
  const db = openDatabase(config.databaseFile);
  const unattached = attachRenderedItems(db, config.databaseFile);
  if (unattached) log(`herold: rendered feed items are not kept in ${renderedItemsFile(config.databaseFile)} (${unattached.message}); feeds render without them`);
  const store = createStore(db);
  // Decided by content, not by the file's existence: a first start that failed half-way loads them next time.
  if (store.isEmpty() && existsSync(config.samplesDir)) {
    const count = await loadSamples(store, config);
    log(`herold: new database ${config.databaseFile}: loaded ${count} sample releases from ${config.samplesDir}`);
  }
  return { db, store };
}

/**
 * Starts the service: database (loading the samples into a new one), app, listener; SIGTERM/SIGINT close all.
 * `schedules: false` leaves the source schedules to another process of this host (src/cluster.ts).
 */
export async function serve(config: Config, log: (line: string) => void = (line) => serviceLogger(config).info(line), { schedules = true } = {}): Promise<Server> {
  const { db, store } = await prepareDatabase(config, log);
  // JSON lines (pino): the scheduler, refreshes, WebSub and the app log routine work at info and failures at warn.
  const logger = serviceLogger(config);
  const errorLog = (line: string) => logger.error(line);
  const serviceLog = componentLog(logger);
  const metrics = createMetrics();
  const scheduler = startScheduler({ config, store, log: serviceLog, onReport: metrics.recordRefresh }, config.sources, { active: schedules });
  // The WebSub notifier: own hub (subscriptions, pushes) or pings to HEROLD_WEBSUB_HUB, on every change of the feeds.
  const websub = startWebSub({ config, store, subscriptions: createWebSubStore(db), log: serviceLog });
  const { listener, messages } = createHerold({ config, store, log: serviceLog, logger, nextRun: scheduler.nextRun, websub: websub.hub, metrics, refreshSignal: scheduler.signal });
  // Timeouts so slow clients cannot hold sockets for ever (slowloris): the whole header block must arrive within
  // headersTimeout, the whole request within requestTimeout; both are checked every connectionsCheckingInterval.
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, shutdownTimeoutMs } = config.http;
  let stopping = false;
  // The answers still being made when the listener returned (the router's; a cached hit is written at once).
  const inFlight = new Set<ServerResponse>();
  // While shutting down, every answer not yet begun closes its connection (node ends it after the answer); the
  // connections of the others are closed once idle, by the sweep in stop.
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  function forget(this: ServerResponse): void {
    inFlight.delete(this);
  }
  // One handler for every request (node calls a single one fastest): the service, then the bookkeeping above for
  // an answer not yet ended; nothing else per request.
  const server = createServer({
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(headersTimeoutMs / 4))),
    maxHeaderSize: 16 * 1024,
    ...messages,
  }, (req: IncomingMessage, res: ServerResponse) => {
    if (stopping) closeAfter(res);
    listener(req, res);
    if (!res.writableEnded) {
      inFlight.add(res);
      res.on('close', forget);
    }
  });
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = requestTimeoutMs;
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.maxHeadersCount = 100;
  // An idle keep-alive connection is closed at keepAliveTimeout, but only once what already arrived on it was read:
  // when the event loop was held up (a large refresh's commit), a request may be waiting there, and closing the
  // connection under it would reset it. The bytes read tell whether anything arrived since.
  server.on('timeout', (socket: Socket) => {
    const seen = socket.bytesRead;
    setImmediate(() => {
      if (socket.bytesRead === seen) socket.destroy();
    });
  });
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  log(`herold: listening on ${config.host}:${config.port}, public at ${config.baseUrl}`);
  // Graceful: stop accepting, close idle keep-alive connections, let requests in flight finish (for at most
  // shutdownTimeout, then cut them), stop the scheduler (cancelling refreshes under way, the API's too) and WebSub,
  // close the database (checkpointing the WAL), exit 0.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`herold: ${signal}: closing`);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const res of inFlight) closeAfter(res);
    // A connection whose answer was under way (or still being sent) when the signal came is closed once it falls idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    void closed.then(() => clearInterval(sweep));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), shutdownTimeoutMs); });
    const settle = async (what: string, work: Promise<unknown>) => {
      try {
        await work;
      } catch (error) {
        errorLog(`herold: stopping ${what}: ${(error as Error).message}`);
      }
    };
    await Promise.all([settle('scheduler', scheduler.stop()), settle('websub', websub.stop())]);
    if (await Promise.race([closed, deadline]) === 'timeout') {
      errorLog(`herold: requests still running after ${shutdownTimeoutMs} ms; closing their connections`);
      server.closeAllConnections();
    }
    clearTimeout(timer);
    try {
      db.close();
    } catch (error) {
      errorLog(`herold: closing the database: ${(error as Error).message}`);
    }
    log('herold: closed');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return server;
}
