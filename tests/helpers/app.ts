import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createHerold } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { attachRenderedItems } from '../../src/db/rendered-store.js';
import { createStore, type Store } from '../../src/db/store.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
export const BASE_URL = 'http://herold.test';

/** A real app on a real SQLite file in a fresh temporary folder, with a clock the test controls. */
export interface TestApp {
  readonly dir: string;
  readonly config: Config;
  readonly db: Database.Database;
  readonly store: Store;
  /** The service's request listener, as `herold serve` runs it (cached hits before Express, the rest through it). */
  readonly app: RequestListener & { listen(port: number, host: string): Server };
  /** The Express app behind it (its route table). */
  readonly express: ReturnType<typeof createHerold>['app'];
  readonly logs: string[];
  now: Date;
  close(): void;
}

/**
 * Creates a test app; `env` adds to the environment given to loadConfig. Rate limits are off unless `env`
 * sets them, so tests may ask as often as they need.
 */
export function createTestApp(options: { env?: Record<string, string>; now?: Date; dir?: string; storeCalls?: string[] } = {}): TestApp {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'herold-test-'));
  const config = loadConfig({
    HEROLD_DATA_DIR: dir,
    HEROLD_BASE_URL: BASE_URL,
    HEROLD_RATE_LIMIT_API: '0',
    HEROLD_RATE_LIMIT_SEARCH: '0',
    ...options.env,
  }, dir);
  const db = openDatabase(config.databaseFile);
  // As the service does (serve.ts): rendered feed items are kept in their file beside the database.
  const unattached = attachRenderedItems(db, config.databaseFile);
  if (unattached) throw unattached;
  const store = createStore(db);
  const logs: string[] = [];
  const state: TestApp = {
    dir, config, db, store, logs,
    now: options.now ?? new Date('2026-11-25T12:00:00Z'),
    app: undefined as unknown as TestApp['app'],
    express: undefined as unknown as TestApp['express'],
    close() {
      db.close();
      // Every test app lives in a temporary folder: it goes with the app, whoever made it.
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // With storeCalls, the app gets the same store with every method call recorded by name.
  const calls = options.storeCalls;
  const appStore = calls
    ? new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function'
          ? (...args: unknown[]) => {
            calls.push(String(key));
            return (value as (...inner: unknown[]) => unknown).apply(target, args);
          }
          : value;
      },
    })
    : store;
  const { app, listener, messages } = createHerold({ config, store: appStore, clock: () => state.now, log: (line) => logs.push(line) });
  Object.assign(state, { express: app, app: Object.assign(listener, { listen: (port: number, host: string) => createServer(messages, listener).listen(port, host) }) });
  return state;
}
