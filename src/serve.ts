import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { openDatabase } from './db/open.js';
import { createStore } from './db/store.js';
import { createWebSubStore } from './db/websub-store.js';
import { startScheduler } from './ingest/scheduler.js';
import { loadSamples } from './samples.js';
import { startWebSub } from './websub/hub.js';

/** Starts the service: database (loading the samples into a new one), app, listener; SIGTERM/SIGINT close all. */
export async function serve(config: Config, log: (line: string) => void = (line) => console.log(line)): Promise<Server> {
  const db = openDatabase(config.databaseFile);
  const store = createStore(db);
  // Decided by content, not by the file's existence: a first start that failed half-way loads them next time.
  if (store.isEmpty() && existsSync(config.samplesDir)) {
    const count = await loadSamples(store, config);
    log(`herold: new database ${config.databaseFile}: loaded ${count} sample releases from ${config.samplesDir}`);
  }
  const errorLog = (line: string) => console.error(line);
  const scheduler = startScheduler({ config, store, log: errorLog });
  // The WebSub notifier: own hub (subscriptions, pushes) or pings to HEROLD_WEBSUB_HUB, on every change of the feeds.
  const websub = startWebSub({ config, store, subscriptions: createWebSubStore(db), log: errorLog });
  const app = createApp({ config, store, log: errorLog, nextRun: scheduler.nextRun, websub: websub.hub });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  log(`herold: listening on ${config.host}:${config.port}, public at ${config.baseUrl}`);
  const stop = (signal: string) => {
    log(`herold: ${signal}: closing`);
    void scheduler.stop();
    void websub.stop();
    server.close(() => {
      db.close();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return server;
}
