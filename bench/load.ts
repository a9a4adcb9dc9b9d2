/**
 * Load for the benchmark: wrk (Debian's package) when it is installed, else autocannon. wrk is written
 * in C and keeps up with a bare node:http server on one core; autocannon, in JavaScript, reads large
 * bodies more slowly than a server sends them (about 2,000 responses/s of 30 KB here), so its figures
 * for bodies measure the client. The report names the client used.
 */
import { spawn, spawnSync } from 'node:child_process';
import autocannon from 'autocannon';

/** One timed run against one URL. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses other than 2xx and 3xx, plus connection errors and timeouts. */
  readonly failures: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly seconds: number;
}

/** The client the benchmark uses on this machine. */
export const CLIENT: 'wrk' | 'autocannon' = spawnSync('wrk', ['--version']).error ? 'autocannon' : 'wrk';

function milliseconds(value: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(value);
  if (!match) throw new Error(`wrk: unreadable latency "${value}"`);
  const factor = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * factor;
}

/** Reads the figures out of `wrk --latency` output. */
export function parseWrk(output: string): LoadResult {
  const find = (pattern: RegExp, what: string) => {
    const match = pattern.exec(output);
    if (!match) throw new Error(`wrk: no ${what} in its output:\n${output}`);
    return match;
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requestsPerSecond: Number(find(/Requests\/sec:\s+([\d.]+)/, 'requests/s')[1]),
    p50Ms: milliseconds(find(/^\s+50%\s+(\S+)/m, 'median')[1]!),
    p99Ms: milliseconds(find(/^\s+99%\s+(\S+)/m, '99th percentile')[1]!),
    failures: Number(non2xx?.[1] ?? 0) + (errors ? errors.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0),
  };
}

async function runWrk({ url, headers, connections, seconds }: LoadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '5s',
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]), url];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${output}`);
  return parseWrk(output);
}

async function runAutocannon({ url, headers, connections, seconds }: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({ url, headers: { ...headers }, connections, duration: seconds });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** Loads one URL for a bounded time with the client available. */
export function load(options: LoadOptions): Promise<LoadResult> {
  return CLIENT === 'wrk' ? runWrk(options) : runAutocannon(options);
}
