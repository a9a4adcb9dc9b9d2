import type { Request, Response } from 'express';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import { HttpError, notFound } from '../http/errors.js';
import { refreshSource, type RefreshDeps } from '../ingest/refresh.js';
import type { SourceState } from '../model.js';
import { sourceHealth } from '../pages/status-page.js';

function stateJson(state: SourceState | undefined, now: Date) {
  return {
    last_attempt_at: state?.lastAttemptAt ?? null,
    last_success_at: state?.lastSuccessAt ?? null,
    last_error: state?.lastError ?? null,
    last_error_at: state?.lastErrorAt ?? null,
    error_count: state?.errorCount ?? 0,
    consecutive_errors: state?.consecutiveErrors ?? 0,
    runs: state?.runs ?? 0,
    running: sourceHealth(state, now) === 'running',
    last_run: {
      new: state?.lastNew ?? 0,
      changed: state?.lastChanged ?? 0,
      unchanged: state?.lastUnchanged ?? 0,
      rejected: state?.lastRejected ?? 0,
      requests: state?.lastRequests ?? 0,
      duration_ms: state?.lastDurationMs ?? null,
    },
  };
}

/** GET /api/v1/sources and POST /api/v1/sources/{id}/refresh. */
export function createSourcesApi(config: Config, store: Store, deps: RefreshDeps, nextRun: (id: string) => Date | null) {
  const clock = deps.clock ?? (() => new Date());
  return {
    list(_req: Request, res: Response): void {
      res.set('Cache-Control', 'no-store');
      res.json({
        items: config.sources.map((source) => ({
          id: source.id,
          type: source.type,
          schedule: source.schedule,
          next_run_at: nextRun(source.id)?.toISOString() ?? null,
          ...stateJson(store.sourceState(source.id), clock()),
        })),
      });
    },

    async refresh(req: Request, res: Response): Promise<void> {
      const source = config.sources.find((candidate) => candidate.id === req.params.id);
      if (!source) throw notFound(`There is no source "${String(req.params.id)}".`);
      // deps.signal cancels the run when the server shuts down.
      const report = await refreshSource(source, deps);
      if (report.cancelled) throw new HttpError(503, 'Service Unavailable', `The refresh was cancelled: ${report.error}.`);
      res.set('Cache-Control', 'no-store');
      res.status(report.skipped ? 409 : 200).json({
        id: source.id,
        ok: report.ok,
        skipped: report.skipped,
        new: report.new,
        changed: report.changed,
        unchanged: report.unchanged,
        rejected: report.rejected,
        requests: report.requests,
        duration_ms: Math.round(report.durationMs),
        error: report.error,
        state: stateJson(store.sourceState(source.id), clock()),
      });
    },
  };
}
