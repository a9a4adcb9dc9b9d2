import cron, { type ScheduledTask } from 'node-cron';
import type { SourceConfig } from '../config.js';
import { createRedisCoordinator } from './coordinator.js';
import { refreshSource, type RefreshDeps } from './refresh.js';

/** How long the Redis key of one scheduled run lives: far longer than node-cron fires a tick late (1 s). */
const TICK_KEY_MS = 60_000;

/** The time between two runs of a cron schedule, in milliseconds. */
function intervalOf(task: ScheduledTask): number {
  const [first, second] = task.getNextRuns(2);
  return first && second ? second.getTime() - first.getTime() : Infinity;
}

/**
 * Schedules every source on its cron expression (Europe/Berlin); at start, a source is refreshed at once
 * when neither a success nor an attempt (by any process) lies within its interval. Several processes on
 * one database: with `config.redisUrl`, Redis elects one process per tick (src/ingest/coordinator.ts) and per
 * start-up catch-up; in any case a tick is skipped when a run of the source started since it (another process
 * ran it), and the store's lease keeps runs from overlapping. With `active: false` nothing runs here (another
 * process of this host schedules), but next runs are still reported.
 */
export function startScheduler(deps: RefreshDeps, sources: readonly SourceConfig[] = deps.config.sources, { active = true }: { active?: boolean } = {}) {
  const { store, config, clock = () => new Date(), log = () => {} } = deps;
  const coordinator = active && config.redisUrl ? createRedisCoordinator(config.redisUrl, log) : null;
  let stopped = false;
  // stop() aborts it: runs under way are cancelled (RefreshDeps.signal), and stop waits until they have ended.
  const shutdown = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, shutdown.signal]) : shutdown.signal;
  const runDeps: RefreshDeps = { ...deps, signal };
  const running = new Set<Promise<unknown>>();
  const run = (source: SourceConfig) => {
    const report = refreshSource(source, runDeps);
    running.add(report);
    const done = () => running.delete(report);
    report.then(done, done);
    return report;
  };
  /** Whether a run of the source, in any process, started at or after `since` (ms). */
  const startedSince = (sourceId: string, since: number) => {
    const at = store.sourceState(sourceId)?.lastAttemptAt;
    return typeof at === 'string' && Date.parse(at) >= since;
  };
  const tasks = sources.map((source) => ({
    source,
    task: (active ? cron.schedule : cron.createTask)(source.schedule, async ({ date }) => {
      if (startedSince(source.id, date.getTime())) return;
      await run(source);
    }, {
      name: `source:${source.id}`, noOverlap: true, timezone: 'Europe/Berlin',
      ...(coordinator ? { distributed: true, runCoordinator: coordinator, distributedLease: TICK_KEY_MS } : {}),
    }),
  }));
  const isDue = (source: SourceConfig, task: ScheduledTask) => {
    const since = clock().getTime() - intervalOf(task);
    const lastSuccess = store.sourceState(source.id)?.lastSuccessAt;
    return !(lastSuccess && Date.parse(lastSuccess) >= since) && !startedSince(source.id, since);
  };
  const due = active ? tasks.filter(({ source, task }) => isDue(source, task)) : [];
  // Catching up runs one source after another in the background; start-up does not wait for upstreams.
  const catchUp = (async () => {
    for (const { source, task } of due) {
      // Processes starting together saw the same last success: the key names it, so one of them wins.
      const seen = store.sourceState(source.id)?.lastSuccessAt ?? 'never';
      const ttl = Math.max(1000, Math.min(intervalOf(task), 3_600_000));
      if (coordinator && !(await coordinator.shouldRun(`catchup:${source.id}:${seen}`, ttl))) continue;
      // Checked again right before the run takes the lease: another process may have refreshed it meanwhile.
      if (stopped || !isDue(source, task)) continue;
      log(`scheduler: source ${source.id} is due; refreshing now`);
      await run(source);
    }
  })();
  return {
    /** Resolves when the start-up catch-up has finished. */
    catchUp,
    /** The next scheduled run of a source (here or in the process that schedules), or null. */
    nextRun(sourceId: string): Date | null {
      if (stopped) return null;
      return tasks.find(({ source }) => source.id === sourceId)?.task.getNextRuns(1)[0] ?? null;
    },
    /** Aborted when the scheduler stops: for refreshes asked for elsewhere (the sources API), so that they are cancelled too. */
    signal,
    /** Stops every schedule, cancels the runs under way and waits for their end, and closes the connection to Redis. */
    async stop(): Promise<void> {
      stopped = true;
      shutdown.abort(new Error('Herold is shutting down'));
      await Promise.all(tasks.map(({ task }) => task.destroy()));
      // The runs end before their next request; the database must stay open until they have.
      await Promise.allSettled([...running]);
      coordinator?.close();
    },
  };
}

/** The scheduler's handle, as returned by startScheduler. */
export type Scheduler = ReturnType<typeof startScheduler>;
