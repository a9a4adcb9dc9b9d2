import cron, { type ScheduledTask } from 'node-cron';
import type { SourceConfig } from '../config.js';
import { refreshSource, type RefreshDeps } from './refresh.js';

/** The time between two runs of a cron schedule, in milliseconds. */
function intervalOf(task: ScheduledTask): number {
  const [first, second] = task.getNextRuns(2);
  return first && second ? second.getTime() - first.getTime() : Infinity;
}

/**
 * Schedules every source on its cron expression (Europe/Berlin); a source whose last success is older
 * than its interval, or that never ran, is refreshed at once. Overlap is prevented by node-cron within
 * this process and by the store's lease across processes.
 */
export function startScheduler(deps: RefreshDeps, sources: readonly SourceConfig[] = deps.config.sources) {
  const { store, clock = () => new Date(), log = () => {} } = deps;
  const tasks = sources.map((source) => ({
    source,
    task: cron.schedule(source.schedule, async () => {
      await refreshSource(source, deps);
    }, { name: `source:${source.id}`, noOverlap: true, timezone: 'Europe/Berlin' }),
  }));
  const now = clock().getTime();
  const due = tasks.filter(({ source, task }) => {
    const lastSuccess = store.sourceState(source.id)?.lastSuccessAt;
    return !lastSuccess || now - Date.parse(lastSuccess) > intervalOf(task);
  });
  // Catching up runs one source after another in the background; start-up does not wait for upstreams.
  const catchUp = (async () => {
    for (const { source } of due) {
      log(`scheduler: source ${source.id} is due; refreshing now`);
      await refreshSource(source, deps);
    }
  })();
  return {
    /** Resolves when the start-up catch-up has finished. */
    catchUp,
    /** The next scheduled run of a source, or null. */
    nextRun(sourceId: string): Date | null {
      return tasks.find(({ source }) => source.id === sourceId)?.task.getNextRun() ?? null;
    },
    /** Stops every schedule. */
    async stop(): Promise<void> {
      await Promise.all(tasks.map(({ task }) => task.destroy()));
    },
  };
}

/** The scheduler's handle, as returned by startScheduler. */
export type Scheduler = ReturnType<typeof startScheduler>;
