import type { Database } from 'better-sqlite3';

/** One refresh of one source, as the status page shows it. Instants are ISO 8601 strings in UTC. */
export interface SourceRun {
  readonly sourceId: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly ok: boolean;
  readonly new: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly rejected: number;
  readonly requests: number;
  readonly durationMs: number | null;
  readonly error: string | null;
}

/** The runs of one source over a period, added up. */
export interface RunSummary {
  readonly sourceId: string;
  readonly runs: number;
  readonly ok: number;
  readonly failed: number;
  readonly new: number;
  readonly changed: number;
  readonly rejected: number;
}

/** What a finished run hands to `recordRun`. */
export interface RunRecord {
  readonly sourceId: string;
  readonly finishedAt: Date;
  readonly ok: boolean;
  readonly new?: number;
  readonly changed?: number;
  readonly unchanged?: number;
  readonly rejected?: number;
  readonly requests: number;
  readonly durationMs: number;
  readonly error?: string | null;
}

/** A lease taken longer than this before a run's measured start belongs to another run. */
const LEASE_SLACK_MS = 60_000;

/** Runs older than this are deleted as new ones come: the status page shows a week. */
const RUN_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

const VISIBLE = `r.status = 'published' AND (r.embargo_until IS NULL OR r.embargo_until <= :now)`;

interface RunRow {
  source_id: string; started_at: string; finished_at: string; ok: number; new: number; changed: number;
  unchanged: number; rejected: number; requests: number; duration_ms: number | null; error: string | null;
}

/**
 * The status page's queries: the history of source runs and counts of public releases. Prepared once;
 * createStore exposes them, and calls `recordRun` inside its refresh transactions.
 */
export function createStatusStore(db: Database) {
  const q = {
    // The run's lease was taken at its start (source_state.last_attempt_at, on the same clock as finishedAt); a
    // run without one (a direct call) started `durationMs` before it finished.
    insertRun: db.prepare(`INSERT INTO source_runs (source_id, started_at, finished_at, ok, new, changed, unchanged, rejected,
      requests, duration_ms, error)
      VALUES (:id, coalesce((SELECT last_attempt_at FROM source_state WHERE source_id = :id AND last_attempt_at BETWEEN :earliest AND :finished),
      :started), :finished, :ok, :new, :changed, :unchanged, :rejected, :requests, :durationMs, :error)`),
    pruneRuns: db.prepare(`DELETE FROM source_runs WHERE started_at < :cutoff`),
    runs: db.prepare(`SELECT * FROM source_runs WHERE started_at >= :since ORDER BY started_at DESC, id DESC LIMIT :limit`),
    summaries: db.prepare(`SELECT source_id, count(*) AS runs, sum(ok) AS ok, count(*) - sum(ok) AS failed, sum(new) AS new,
      sum(changed) AS changed, sum(rejected) AS rejected FROM source_runs WHERE started_at >= :since GROUP BY source_id`),
    publishedSince: db.prepare(`SELECT r.published_at FROM releases r
      WHERE ${VISIBLE} AND r.published_at >= :since AND r.published_at <= :now`).pluck(),
    perSource: db.prepare(`SELECT r.source_id, count(*) AS count FROM releases r WHERE ${VISIBLE} GROUP BY r.source_id`),
  };

  return {
    /** Records one finished run and forgets runs older than 30 days; call inside the run's transaction. */
    recordRun(run: RunRecord): void {
      const finished = run.finishedAt.toISOString();
      q.insertRun.run({
        id: run.sourceId,
        finished,
        started: new Date(run.finishedAt.getTime() - Math.max(0, Math.round(run.durationMs))).toISOString(),
        earliest: new Date(run.finishedAt.getTime() - Math.max(0, Math.round(run.durationMs)) - LEASE_SLACK_MS).toISOString(),
        ok: run.ok ? 1 : 0,
        new: run.new ?? 0,
        changed: run.changed ?? 0,
        unchanged: run.unchanged ?? 0,
        rejected: run.rejected ?? 0,
        requests: run.requests,
        durationMs: Math.round(run.durationMs),
        error: run.error ?? null,
      });
      q.pruneRuns.run({ cutoff: new Date(run.finishedAt.getTime() - RUN_RETENTION_MS).toISOString() });
    },

    /** The runs started since `since`, newest first, at most `limit`. */
    sourceRuns(since: Date, limit: number): SourceRun[] {
      return (q.runs.all({ since: since.toISOString(), limit }) as RunRow[]).map((row) => ({
        sourceId: row.source_id,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        ok: row.ok === 1,
        new: row.new,
        changed: row.changed,
        unchanged: row.unchanged,
        rejected: row.rejected,
        requests: row.requests,
        durationMs: row.duration_ms,
        error: row.error,
      }));
    },

    /** Per source, the runs started since `since` added up; sources without a run are missing. */
    runSummaries(since: Date): RunSummary[] {
      return (q.summaries.all({ since: since.toISOString() }) as Array<{
        source_id: string; runs: number; ok: number; failed: number; new: number; changed: number; rejected: number;
      }>).map((row) => ({
        sourceId: row.source_id, runs: row.runs, ok: row.ok, failed: row.failed, new: row.new, changed: row.changed, rejected: row.rejected,
      }));
    },

    /** Publication times of the releases public at `now` and published between `since` and `now`. */
    publicationTimes(since: Date, now: Date): string[] {
      return q.publishedSince.all({ since: since.toISOString(), now: now.toISOString() }) as string[];
    },

    /** The number of releases public at `now`, per source id. */
    releaseCountsBySource(now: Date): Map<string, number> {
      const rows = q.perSource.all({ now: now.toISOString() }) as Array<{ source_id: string; count: number }>;
      return new Map(rows.map((row) => [row.source_id, row.count]));
    },
  };
}

/** The status queries, as created by createStatusStore. */
export type StatusStore = ReturnType<typeof createStatusStore>;
