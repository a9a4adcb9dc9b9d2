#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/open.js';
import { createStore } from './db/store.js';
import { importFiles, refreshSource, type Progress, type RefreshReport } from './ingest/refresh.js';
import { serveWorkers, workerCount } from './cluster.js';
import { serviceLogger } from './http/log.js';

const USAGE = `Usage: herold <command> [options]

Commands:
  serve [--workers N]                 start the HTTP service and the source schedules (the default);
                                      N processes share the port and the database (HEROLD_WORKERS)
  import <file-or-folder>…            import release files (plain text or Markdown) into the database
  refresh [--source ID] [--backfill]  refresh every source, or one; --backfill follows the listing's
                                      next pages through the whole archive
  help                                show this text

Configuration comes from the environment (PORT, HEROLD_BASE_URL, HEROLD_DATA_DIR, HEROLD_CONFIG,
HEROLD_ADMIN_TOKEN); see README.md.`;

function printReport(report: RefreshReport): void {
  if (report.skipped) {
    console.log(`${report.sourceId}: skipped, another run is in progress`);
    return;
  }
  // A release file is named by its path (a Markdown release's ref may be the GUID in its front matter), as rejected ones are.
  for (const { ref, file, outcome } of report.outcomes) console.log(`${outcome.padEnd(9)} ${file ?? ref}`);
  for (const { ref, reason } of report.rejected) console.log(`rejected  ${ref}: ${reason}`);
  const summary = `${report.new} new, ${report.changed} changed, ${report.unchanged} unchanged, ${report.rejected.length} rejected`;
  console.log(report.ok ? `${report.sourceId}: ${summary} (${report.requests} requests, ${Math.round(report.durationMs)} ms)`
    : `${report.sourceId}: failed: ${report.error}`);
}

/** A progress bar on a terminal, plain lines otherwise (logs, CI). */
function progressReporter(): { progress: Progress; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: 'back-fill {bar} {value} pages, {releases} releases', stream: process.stderr, hideCursor: true });
    let started = false;
    return {
      progress: ({ pages, releases }) => {
        if (!started) bar.start(0, 0, { releases });
        started = true;
        bar.setTotal(pages);
        bar.update(pages, { releases });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    progress: ({ pages, releases, url }) => console.error(`back-fill: page ${pages}, ${releases} releases so far (${url})`),
    stop: () => {},
  };
}

async function withStore<T>(config: Config, run: (deps: { config: Config; store: ReturnType<typeof createStore> }) => Promise<T>): Promise<T> {
  const db = openDatabase(config.databaseFile);
  try {
    return await run({ config, store: createStore(db) });
  } finally {
    db.close();
  }
}

/** Runs one subcommand; returns the process exit code, or -1 while a server keeps running. */
export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' }, source: { type: 'string' }, backfill: { type: 'boolean' }, workers: { type: 'string' } },
  });
  const [command = 'serve', ...rest] = positionals;
  if (values.help || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const log = (line: string) => console.error(line);
  try {
    switch (command) {
      case 'serve': {
        const config = loadConfig();
        // The service logs JSON lines (pino); the other commands print for a terminal.
        await serveWorkers(config, workerCount(values.workers), (line) => serviceLogger(config).info(line));
        return -1;
      }
      case 'import': {
        if (rest.length === 0) {
          console.error(`herold import: name at least one file or folder\n\n${USAGE}`);
          return 2;
        }
        const report = await withStore(loadConfig(), (deps) => importFiles(rest, { ...deps, log }));
        printReport(report);
        return report.ok && report.rejected.length === 0 ? 0 : 1;
      }
      case 'refresh': {
        const config = loadConfig();
        const wanted = typeof values.source === 'string' ? values.source : null;
        const sources = wanted ? config.sources.filter((source) => source.id === wanted) : config.sources;
        if (wanted && sources.length === 0) {
          console.error(`herold refresh: there is no source "${wanted}" in ${config.configFile ?? 'the configuration'}`);
          return 2;
        }
        if (values.backfill && !wanted) {
          console.error('herold refresh: --backfill needs --source ID');
          return 2;
        }
        const reporter = values.backfill ? progressReporter() : null;
        const reports = await withStore(config, async (deps) => {
          const done: RefreshReport[] = [];
          for (const source of sources) {
            done.push(await refreshSource(source, { ...deps, log }, { backfill: Boolean(values.backfill), ...(reporter ? { progress: reporter.progress } : {}) }));
          }
          return done;
        });
        reporter?.stop();
        reports.forEach(printReport);
        return reports.every((report) => report.ok) ? 0 : 1;
      }
      default:
        console.error(`herold: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`herold: configuration error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
