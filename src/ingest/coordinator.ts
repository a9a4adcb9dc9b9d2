import { once } from 'node:events';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Redis as RedisClient } from 'ioredis';
import type { RunCoordinator } from 'node-cron';

// The Redis client is loaded only by a process that uses it (HEROLD_REDIS_URL): it costs some 25 MB of memory.
const require = createRequire(import.meta.url);

/** Every key Herold sets in Redis starts with this; give each deployment its own Redis database (`redis://host/2`). */
const KEY_PREFIX = 'herold:';

/** How long a claim may wait for the first connection, and for Redis's answer. */
const CONNECT_WAIT_MS = 1000;
const COMMAND_TIMEOUT_MS = 1000;

/** A Redis URL for log lines: a password in it is masked. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href.replace(/\/$/, '');
  } catch {
    return 'redis://(unparsable URL)';
  }
}

/** node-cron's run coordinator backed by Redis, and `close` for shutdown. */
export interface Coordinator extends RunCoordinator {
  shouldRun(key: string, ttlMs: number): Promise<boolean>;
  /** Ends the connection and its reconnection attempts. */
  close(): void;
}

/**
 * Elects one process per scheduled run: node-cron calls `shouldRun` with a key naming the task and the
 * tick (`source:kreis:2026-11-24T09:15:00.000Z`), and `SET herold:<key> <host:pid> NX PX <ttl>` succeeds in
 * exactly one process. There is no `onComplete`: the key stays until its TTL, so a process that fires the
 * same tick late (node-cron runs a tick up to a second late) finds it taken instead of running it again;
 * keys of later ticks differ anyway.
 *
 * When Redis cannot answer (down, unreachable, slow), `shouldRun` logs once per outage and answers yes:
 * refreshes go on during the outage, and the scheduler's check in the database (a run of the source that
 * started since the tick) with the store's lease keep two processes from running the same tick. ioredis
 * reconnects in the background; once it has, that is logged and Redis elects again.
 */
export function createRedisCoordinator(url: string, log: (line: string) => void, owner = `${hostname()}:${process.pid}`): Coordinator {
  const where = maskRedisUrl(url);
  const { Redis } = require('ioredis') as { Redis: typeof RedisClient };
  const redis = new Redis(url, {
    // While disconnected a command fails at once rather than waiting in a queue for the reconnection.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    // Reconnect for ever, at most every 2 s.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let reachable: boolean | null = null;
  let closed = false;
  const down = (error: Error) => {
    if (reachable !== false) {
      log(`coordinator: Redis at ${where} is unreachable (${error.message}); each process checks the database before a scheduled refresh until it is back`);
    }
    reachable = false;
  };
  redis.on('error', down);
  redis.on('ready', () => {
    if (reachable === false) log(`coordinator: Redis at ${where} is back; it elects the process of each scheduled refresh again`);
    reachable = true;
  });

  /** Waits for the first connection (one wait shared by all claims); a connection lost later fails at once. */
  let firstConnection: Promise<unknown> | null = null;
  const connected = async () => {
    if (redis.status === 'ready') return;
    if (redis.status !== 'wait' && redis.status !== 'connecting' && redis.status !== 'connect') {
      throw new Error(`connection ${redis.status}`);
    }
    firstConnection ??= once(redis, 'ready', { signal: AbortSignal.timeout(CONNECT_WAIT_MS) })
      .finally(() => { firstConnection = null; });
    await firstConnection;
  };

  return {
    async shouldRun(key, ttlMs) {
      // Shutting down: nothing new starts.
      if (closed) return false;
      try {
        await connected();
        const answer = await redis.set(`${KEY_PREFIX}${key}`, owner, 'PX', Math.max(1, Math.round(ttlMs)), 'NX');
        return answer === 'OK';
      } catch (error) {
        if (closed) return false;
        down(error as Error);
        return true;
      }
    },
    close() {
      closed = true;
      redis.disconnect();
    },
  };
}
