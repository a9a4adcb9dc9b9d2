import { Router, type Request, type Response } from 'express';
import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import type { SourceState } from '../model.js';
import type { PageDeps } from './deps.js';
import { firstWeekStart, renderStatusPage, RUN_DAYS, RUNS_SHOWN, sourceStatuses, statusJson, weeklyCounts, type StatusView } from './status-page.js';

/** Gathers what the status page shows at `now`: only public releases are counted, and no setting of a source is shown. */
export function statusView(config: Config, store: Store, now: Date): StatusView {
  const since = new Date(now.getTime() - RUN_DAYS * 86_400_000);
  const states = new Map<string, SourceState>(store.sourceStates().map((state) => [state.sourceId, state]));
  const summaries = store.runSummaries(since);
  return {
    now,
    releases: store.stats(now),
    sources: sourceStatuses(config.sources, states, summaries, store.releaseCountsBySource(now), now),
    runs: store.sourceRuns(since, RUNS_SHOWN),
    runsTotal: summaries.reduce((sum, summary) => sum + summary.runs, 0),
    weeks: weeklyCounts(store.publicationTimes(firstWeekStart(now), now), now),
  };
}

/** /status and /status.json: the press office's view of its sources; public, never cached (it shows "now"). */
export function statusRoutes({ config, store, clock }: PageDeps): Router {
  const router = Router();

  router.get('/status', (_req: Request, res: Response) => {
    const body = renderStatusPage(config, statusView(config, store, clock()));
    res.status(200).set('Cache-Control', 'no-store').set('X-Robots-Tag', 'noindex').type('text/html; charset=utf-8').send(body);
  });

  router.get('/status.json', (_req: Request, res: Response) => {
    const body = JSON.stringify(statusJson(statusView(config, store, clock())));
    res.status(200).set('Cache-Control', 'no-store').set('X-Robots-Tag', 'noindex').type('application/json; charset=utf-8').send(body);
  });

  return router;
}
