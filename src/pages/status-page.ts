import { DateTime } from 'luxon';
import type { Config, SourceConfig } from '../config.js';
import type { RunSummary, SourceRun } from '../db/status-store.js';
import type { SourceState } from '../model.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { metaTags, websiteMeta } from './meta.js';
import { stringsFor, type Strings } from './strings.js';

/** The office's wall clock: weeks start on Monday in Europe/Berlin. */
const ZONE = 'Europe/Berlin';

/** How a source is doing now. */
export type SourceHealth = 'ok' | 'failing' | 'running' | 'never';

/** One configured source as the status page shows it; error texts have their secrets removed. */
export interface SourceStatus {
  readonly id: string;
  readonly type: string;
  readonly schedule: string;
  readonly health: SourceHealth;
  readonly state: SourceState | null;
  /** Releases of this source that the public sees now. */
  readonly releases: number;
  readonly week: Omit<RunSummary, 'sourceId'>;
}

/** One week of the chart: ISO week, its Monday, and the releases published in it. */
export interface WeekCount {
  readonly year: number;
  readonly week: number;
  /** The Monday the week starts, as yyyy-MM-dd. */
  readonly start: string;
  readonly count: number;
}

/** Everything /status and /status.json show, as gathered from the store at one moment. */
export interface StatusView {
  readonly now: Date;
  readonly releases: { readonly count: number; readonly newest: string | null };
  readonly sources: readonly SourceStatus[];
  /** Runs of the last 7 days, newest first (at most RUNS_SHOWN), and how many there were in all. */
  readonly runs: readonly SourceRun[];
  readonly runsTotal: number;
  readonly weeks: readonly WeekCount[];
}

/** The status page covers one week of runs and a year of publications. */
export const RUN_DAYS = 7;
export const RUNS_SHOWN = 200;
export const WEEKS = 52;

/**
 * An error text fit for a public page: user names and passwords in URLs and the values of query
 * parameters that look like credentials (token, key, secret, password, signature…) become "…".
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1…@')
    // The value ends at the next parameter, or at the ": " with which a message goes on after the URL.
    .replace(/([?&;][^=&\s#]*(?:token|key|secret|pass|auth|sig|session|credential)[^=&\s#]*=)[^&\s#]*?(?=[&\s#]|:\s|:$|$)/gi, '$1…');
}

/** Running while a run holds the lease; failing after a failed run; ok after a successful one; never before the first. */
export function sourceHealth(state: SourceState | undefined, now: Date): SourceHealth {
  if (!state) return 'never';
  if (state.runningUntil && Date.parse(state.runningUntil) > now.getTime()) return 'running';
  if (state.consecutiveErrors > 0) return 'failing';
  return state.lastSuccessAt ? 'ok' : 'never';
}

/** The Monday (00:00 Berlin) that starts the first of the `weeks` weeks ending with the week of `now`. */
export function firstWeekStart(now: Date, weeks = WEEKS): Date {
  return DateTime.fromJSDate(now, { zone: ZONE }).startOf('week').minus({ weeks: weeks - 1 }).toJSDate();
}

/** Counts publication times per ISO week (Monday to Sunday, Berlin), oldest week first, the week of `now` last. */
export function weeklyCounts(times: readonly string[], now: Date, weeks = WEEKS): WeekCount[] {
  const first = DateTime.fromJSDate(firstWeekStart(now, weeks), { zone: ZONE });
  const list = Array.from({ length: weeks }, (_, index) => {
    const start = first.plus({ weeks: index });
    return { year: start.weekYear, week: start.weekNumber, start: start.toISODate()!, count: 0 };
  });
  const byStart = new Map(list.map((week) => [week.start, week]));
  for (const time of times) {
    const week = byStart.get(DateTime.fromISO(time, { zone: ZONE }).startOf('week').toISODate()!);
    if (week) week.count++;
  }
  return list;
}

/** /status.json: the same facts as the page, with snake_case names like the API. */
export function statusJson(view: StatusView): object {
  return {
    generated_at: view.now.toISOString(),
    releases: { published: view.releases.count, newest_published_at: view.releases.newest },
    sources: view.sources.map((source) => ({
      id: source.id,
      type: source.type,
      schedule: source.schedule,
      state: source.health,
      last_attempt_at: source.state?.lastAttemptAt ?? null,
      last_success_at: source.state?.lastSuccessAt ?? null,
      last_error: source.state?.lastError ? redactSecrets(source.state.lastError) : null,
      last_error_at: source.state?.lastErrorAt ?? null,
      consecutive_errors: source.state?.consecutiveErrors ?? 0,
      error_count: source.state?.errorCount ?? 0,
      runs: source.state?.runs ?? 0,
      last_run: source.state?.lastSuccessAt ? {
        new: source.state.lastNew, changed: source.state.lastChanged, unchanged: source.state.lastUnchanged,
        rejected: source.state.lastRejected, requests: source.state.lastRequests, duration_ms: source.state.lastDurationMs,
      } : null,
      releases: source.releases,
      last_7_days: {
        runs: source.week.runs, ok: source.week.ok, failed: source.week.failed,
        new: source.week.new, changed: source.week.changed, rejected: source.week.rejected,
      },
    })),
    runs: {
      since: new Date(view.now.getTime() - RUN_DAYS * 86_400_000).toISOString(),
      total: view.runsTotal,
      items: view.runs.map((run) => ({
        source_id: run.sourceId, started_at: run.startedAt, finished_at: run.finishedAt, ok: run.ok, new: run.new,
        changed: run.changed, unchanged: run.unchanged, rejected: run.rejected, requests: run.requests,
        duration_ms: run.durationMs, error: run.error ? redactSecrets(run.error) : null,
      })),
    },
    weeks: view.weeks.map((week) => ({
      week: `${week.year}-W${String(week.week).padStart(2, '0')}`, starts_on: week.start, count: week.count,
    })),
  };
}

function when(iso: string | null | undefined, t: Strings, fallback: string): SafeHtml | string {
  if (!iso) return fallback;
  const local = DateTime.fromISO(iso, { zone: ZONE });
  return html`<time datetime="${local.toISO({ suppressMilliseconds: true })}">${local.toFormat(t.statusTimeFormat)}</time>`;
}

const CHART = { width: 720, height: 240, left: 36, right: 8, top: 12, bottom: 34 } as const;

/** A step for the value axis: 1, 2 or 5 times a power of ten, so that about four lines fit. */
function niceStep(max: number): number {
  const rough = Math.max(1, max / 4);
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((factor) => factor * power).find((step) => step >= rough)!;
}

/**
 * The weekly counts as an inline SVG bar chart: an image with a title and a description for screen
 * readers, one titled bar per week, axes in the page's colours; no script, no font, no request.
 */
export function weeksChart(weeks: readonly WeekCount[], t: Strings): SafeHtml {
  const { width, height, left, right, top, bottom } = CHART;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const max = Math.max(0, ...weeks.map((week) => week.count));
  const step = niceStep(max);
  const top_ = Math.max(step, Math.ceil(max / step) * step);
  const slot = plotWidth / Math.max(1, weeks.length);
  const y = (value: number) => top + plotHeight - (value / top_) * plotHeight;
  const total = weeks.reduce((sum, week) => sum + week.count, 0);
  const round = (value: number) => Math.round(value * 10) / 10;
  const grid = Array.from({ length: Math.round(top_ / step) + 1 }, (_, index) => index * step).map((value) => html`<line class="grid" x1="${left}" x2="${width - right}" y1="${round(y(value))}" y2="${round(y(value))}"/><text x="${left - 6}" y="${round(y(value) + 4)}" text-anchor="end">${value}</text>`);
  const bars = weeks.map((week, index) => {
    const label = t.statusWeekLabel(week.week, week.year);
    const x = round(left + index * slot + slot * 0.15);
    const barHeight = round(plotHeight * (week.count / top_));
    return html`<rect class="bar" x="${x}" y="${round(y(week.count))}" width="${round(slot * 0.7)}" height="${barHeight}"><title>${t.statusWeekCount(label, week.count)}</title></rect>`;
  });
  // A week label every 4 weeks (the first of them is the oldest week), so that they never overlap.
  const labels = weeks.map((week, index) => (index % 4 === 0
    ? html`<text x="${round(left + index * slot + slot / 2)}" y="${height - bottom + 16}" text-anchor="middle">${`KW ${week.week}`}</text>` : ''));
  return html`<svg class="chart" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMidYMid meet">
<title id="chart-title">${t.statusWeeksChartTitle(weeks.length)}</title>
<desc id="chart-desc">${t.statusWeeksSummary(total, max, weeks.length)}</desc>
<style>.chart{min-width:34rem}.chart text{fill:currentColor;font:12px system-ui,sans-serif}.chart .grid{stroke:var(--line,#d5d9de);stroke-width:1}.chart .bar{fill:var(--accent,#0b5394)}</style>
${grid}${bars}${labels}
</svg>`;
}

function sourceSection(source: SourceStatus, t: Strings): SafeHtml {
  const state = source.state;
  const row = (term: string, value: SafeHtml | string) => html`<dt>${term}</dt><dd>${value}</dd>`;
  const lastRun = state?.lastSuccessAt ? t.statusRunCounts(state.lastNew, state.lastChanged, state.lastUnchanged, state.lastRejected) : t.statusNone;
  return html`<section aria-labelledby="quelle-${source.id}">
<h3 id="quelle-${source.id}">${source.id} <span class="muted">(${t.statusTypes[source.type] ?? source.type})</span>: <span class="state state-${source.health}">${t.statusStates[source.health]}</span></h3>
<dl>
${row(t.statusSchedule, html`<code>${source.schedule}</code>`)}
${row(t.statusLastAttempt, when(state?.lastAttemptAt, t, t.statusNever))}
${row(t.statusLastSuccess, when(state?.lastSuccessAt, t, t.statusNever))}
${row(t.statusLastRun, lastRun)}
${row(t.statusLastError, state?.lastError
    ? html`${when(state.lastErrorAt, t, '')}: <span class="error" style="overflow-wrap:anywhere">${redactSecrets(state.lastError)}</span>` : t.statusNone)}
${row(t.statusErrors, t.statusErrorCounts(state?.consecutiveErrors ?? 0, state?.errorCount ?? 0))}
${row(t.statusLastWeek, t.statusWeekRuns(source.week.runs, source.week.failed))}
${row(t.statusReleases, String(source.releases))}
</dl>
</section>`;
}

function runsTable(view: StatusView, t: Strings): SafeHtml {
  if (view.runs.length === 0) return html`<p>${t.statusNoRuns}</p>`;
  return html`${view.runs.length < view.runsTotal ? html`<p class="muted">${t.statusRunsShown(view.runs.length, view.runsTotal)}</p>` : ''}
<div style="overflow-x:auto" tabindex="0" role="region" aria-labelledby="abrufe"><table class="runs" style="border-collapse:collapse;width:100%">
<thead><tr><th scope="col">${t.statusRunStarted}</th><th scope="col">${t.statusRunSource}</th><th scope="col">${t.statusRunResult}</th><th scope="col">${t.statusRunNew}</th><th scope="col">${t.statusRunChanged}</th><th scope="col">${t.statusRunRejected}</th><th scope="col">${t.statusRunError}</th></tr></thead>
<tbody>${view.runs.map((run) => html`<tr><td>${when(run.startedAt, t, '')}</td><td>${run.sourceId}</td><td>${run.ok ? t.statusRunOk : t.statusRunFailed}</td><td>${run.new}</td><td>${run.changed}</td><td>${run.rejected}</td><td style="overflow-wrap:anywhere;min-width:14rem">${run.error ? redactSecrets(run.error) : ''}</td></tr>`)}</tbody>
</table></div>`;
}

function weeksTable(weeks: readonly WeekCount[], t: Strings): SafeHtml {
  return html`<details><summary>${t.statusWeeksTable}</summary>
<table class="weeks">
<caption>${t.statusWeeksChartTitle(weeks.length)}</caption>
<thead><tr><th scope="col">${t.statusWeek}</th><th scope="col">${t.statusWeekFrom}</th><th scope="col">${t.statusCount}</th></tr></thead>
<tbody>${weeks.map((week) => html`<tr><th scope="row">${t.statusWeekLabel(week.week, week.year)}</th><td><time datetime="${week.start}">${
    DateTime.fromISO(week.start).toFormat(t.statusDateFormat)}</time></td><td>${week.count}</td></tr>`)}</tbody>
</table>
</details>`;
}

/** The /status page for the press office: sources, the last week's runs, releases per week. Public, no secrets. */
export function renderStatusPage(config: Config, view: StatusView): string {
  const t = stringsFor(config.site.language);
  const body = html`<h1>${t.statusTitle}</h1>
<p>${t.statusIntro}</p>
<p class="muted">${t.statusAsOf}: ${when(view.now.toISOString(), t, '')} · <a href="${config.baseUrl}/status.json" type="application/json">${t.statusJson}</a></p>
<h2 id="quellen">${t.statusSources}</h2>
${view.sources.length ? view.sources.map((source) => sourceSection(source, t)) : html`<p>${t.statusNoSources}</p>`}
<h2 id="abrufe">${t.statusRunsTitle}</h2>
${runsTable(view, t)}
<h2 id="wochen">${t.statusWeeksTitle}</h2>
<figure style="margin:1rem 0">
<div style="overflow-x:auto" tabindex="0" role="region" aria-labelledby="wochen">${weeksChart(view.weeks, t)}</div>
<figcaption class="muted">${t.statusWeeksSummary(view.weeks.reduce((sum, week) => sum + week.count, 0), Math.max(0, ...view.weeks.map((week) => week.count)), view.weeks.length)}</figcaption>
</figure>
${weeksTable(view.weeks, t)}`;
  const meta = websiteMeta(config, {
    title: `${t.statusTitle} – ${config.site.name}`,
    description: t.statusIntro,
    canonical: `${config.baseUrl}/status`,
    links: [{ rel: 'alternate', type: 'application/json', href: `${config.baseUrl}/status.json` }],
  });
  return layout(config, {
    meta: { ...meta, tags: [...meta.tags, ...metaTags('name', [['robots', 'noindex']])] },
    feeds: [{ title: config.site.name, path: '/feeds/all' }],
    body,
  });
}

/** Pairs each configured source with its state, its counts and its last week. */
export function sourceStatuses(
  sources: readonly SourceConfig[],
  states: ReadonlyMap<string, SourceState>,
  summaries: readonly RunSummary[],
  releaseCounts: ReadonlyMap<string, number>,
  now: Date,
): SourceStatus[] {
  return sources.map((source) => {
    const state = states.get(source.id);
    const summary = summaries.find((item) => item.sourceId === source.id);
    return {
      id: source.id,
      type: source.type,
      schedule: source.schedule,
      health: sourceHealth(state, now),
      state: state ?? null,
      releases: releaseCounts.get(source.id) ?? 0,
      week: summary
        ? { runs: summary.runs, ok: summary.ok, failed: summary.failed, new: summary.new, changed: summary.changed, rejected: summary.rejected }
        : { runs: 0, ok: 0, failed: 0, new: 0, changed: 0, rejected: 0 },
    };
  });
}
