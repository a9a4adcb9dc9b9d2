import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { createStore, type Store } from '../../src/db/store.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
export const BASE_URL = 'http://herold.test';

/** A real app on a real SQLite file in a fresh temporary folder, with a clock the test controls. */
export interface TestApp {
  readonly dir: string;
  readonly config: Config;
  readonly db: Database.Database;
  readonly store: Store;
  readonly app: ReturnType<typeof createApp>;
  readonly logs: string[];
  now: Date;
  close(): void;
}

/** Creates a test app; `env` adds to the environment given to loadConfig. */
export function createTestApp(options: { env?: Record<string, string>; now?: Date; dir?: string; storeCalls?: string[] } = {}): TestApp {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'herold-test-'));
  const config = loadConfig({
    HEROLD_DATA_DIR: dir,
    HEROLD_BASE_URL: BASE_URL,
    ...options.env,
  }, dir);
  const db = openDatabase(config.databaseFile);
  const store = createStore(db);
  const logs: string[] = [];
  const state: TestApp = {
    dir, config, db, store, logs,
    now: options.now ?? new Date('2026-11-25T12:00:00Z'),
    app: undefined as unknown as TestApp['app'],
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
  (state as { app: TestApp['app'] }).app = createApp({ config, store: appStore, clock: () => state.now, log: (line) => logs.push(line) });
  return state;
}
