import cluster, { type Worker } from 'node:cluster';
import { ConfigError, type Config } from './config.js';
import { serviceLogger } from './http/log.js';
import { maskRedisUrl } from './ingest/coordinator.js';
import { prepareDatabase, serve } from './serve.js';

/** The most processes `--workers` / HEROLD_WORKERS may ask for. */
const MAX_WORKERS = 64;

/** Tells a worker which of the N it is (1…N); a replacement takes over the number of the worker it replaces. */
const WORKER_ENV = 'HEROLD_WORKER';

/** The number of serving processes: `--workers N`, else HEROLD_WORKERS, else 1. */
export function workerCount(flag: string | boolean | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const [key, value] = flag !== undefined ? ['--workers', flag] : ['HEROLD_WORKERS', env.HEROLD_WORKERS];
  if (value === undefined || value === '') return 1;
  if (typeof value !== 'string' || !/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > MAX_WORKERS) {
    throw new ConfigError(`${key}: must be an integer from 1 to ${MAX_WORKERS}, got ${typeof value === 'string' ? `"${value}"` : 'no value'}`);
  }
  return Number(value);
}

/**
 * `herold serve` with `workers` processes (node:cluster) sharing the port and the database. The primary
 * migrates the database and loads the samples once, so the workers do not race to do it, then forks the
 * workers and replaces any that dies. SIGTERM/SIGINT to the primary reach each worker, which closes
 * gracefully; the primary exits when all have, 0 if each closed cleanly. A worker that ends before it
 * listened is not replaced: the primary closes the others and exits 1. With one worker, and in a worker,
 * this is `serve`.
 */
export async function serveWorkers(config: Config, workers: number, log: (line: string) => void = (line) => serviceLogger(config).info(line)): Promise<void> {
  if (cluster.isWorker) await runWorker(config, log);
  else if (workers === 1) await serve(config, log);
  else await runPrimary(config, workers, log);
}

async function runWorker(config: Config, log: (line: string) => void): Promise<void> {
  // The terminal sends Ctrl-C to the whole process group and the primary passes it on as well: serve handles the
  // first signal, and these listeners keep a second one from killing the worker half-way through closing.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  // Without its primary a worker gets no connections but would go on refreshing: it closes.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // Without Redis to elect one process per refresh, only worker 1 runs the schedules.
  await serve(config, log, { schedules: config.redisUrl !== null || process.env[WORKER_ENV] === '1' });
}

async function runPrimary(config: Config, count: number, log: (line: string) => void): Promise<void> {
  const logger = serviceLogger(config);
  const { db } = await prepareDatabase(config, log);
  db.close();
  log(config.redisUrl
    ? `herold: ${count} workers; each runs the source schedules and Redis at ${maskRedisUrl(config.redisUrl)} elects one per refresh`
    : `herold: ${count} workers; without HEROLD_REDIS_URL only worker 1 runs the source schedules`);
  const numbers = new Map<Worker, number>();
  const listened = new Set<Worker>();
  let stopping = false;
  let exitCode = 0;

  const fork = (number: number) => {
    const worker = cluster.fork({ [WORKER_ENV]: String(number) });
    numbers.set(worker, number);
    worker.once('listening', () => listened.add(worker));
    log(`herold: worker ${number} started (pid ${worker.process.pid})`);
  };

  const stop = (signal: NodeJS.Signals, reason: string) => {
    if (stopping) return;
    stopping = true;
    log(`herold: ${reason}: closing ${numbers.size} workers`);
    for (const worker of numbers.keys()) worker.process.kill(signal);
    // Each worker closes within its shutdown timeout; one that hangs beyond it is ended (and the exit code is 1).
    const timer = setTimeout(() => {
      logger.error(`herold: workers still running ${config.http.shutdownTimeoutMs + 5000} ms after ${signal}; killing them`);
      for (const worker of numbers.keys()) worker.process.kill('SIGKILL');
    }, config.http.shutdownTimeoutMs + 5000);
    timer.unref();
  };

  cluster.on('exit', (worker, code, signal) => {
    const number = numbers.get(worker);
    numbers.delete(worker);
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (numbers.size === 0) {
        log('herold: closed');
        process.exit(exitCode);
      }
      return;
    }
    if (!listened.has(worker)) {
      // It would fail again the same way (a port in use, a broken database): stop instead of looping.
      logger.error(`herold: worker ${number} (pid ${worker.process.pid}) ended (${how}) before it listened; stopping`);
      exitCode = 1;
      if (numbers.size === 0) process.exit(exitCode);
      stop('SIGTERM', 'a worker failed to start');
      return;
    }
    logger.warn(`herold: worker ${number} (pid ${worker.process.pid}) died (${how}); starting a new one`);
    fork(number!);
  });

  // `on`, not `once`: a repeated signal while closing must not kill the primary before its workers.
  process.on('SIGTERM', () => stop('SIGTERM', 'SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT', 'SIGINT'));
  for (let number = 1; number <= count; number++) fork(number);
}
