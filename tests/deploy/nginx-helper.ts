import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { REPO } from '../helpers/cli.js';

/** Debian's nginx, as CI installs it (.ci/run). */
export const NGINX = '/usr/sbin/nginx';
/** The front's configuration as shipped: a template for nginx's http {} context. */
export const TEMPLATE = path.join(REPO, 'deploy', 'nginx', 'herold.conf');

/** The template's placeholders, each filled in by the operator (or the test). */
export interface SiteValues {
  readonly HEROLD_LISTEN: string;
  readonly HEROLD_SERVER_NAME: string;
  readonly HEROLD_ORIGIN: string;
  readonly HEROLD_CACHE_DIR: string;
  readonly HEROLD_ACCESS_LOG: string;
}

/** The template with every ${HEROLD_…} replaced, as envsubst does; an unknown placeholder is an error. */
export function renderSite(values: SiteValues): string {
  return readFileSync(TEMPLATE, 'utf8').replace(/\$\{(HEROLD_[A-Z_]+)\}/g, (_match, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`${TEMPLATE}: no value for \${${name}}`);
    return values[name as keyof SiteValues];
  });
}

/** A running nginx with the front's configuration in its own folder. */
export interface Front {
  readonly port: number;
  readonly url: string;
  readonly accessLog: string;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/**
 * Starts nginx in the foreground with a minimal main configuration that includes the rendered
 * template; every path (cache, temp files, pid, logs) lies in `dir`.
 */
export function startFront(dir: string, port: number, originPort: number): Front {
  const accessLog = path.join(dir, 'access.log');
  const cacheDir = path.join(dir, 'cache');
  mkdirSync(cacheDir);
  const site = path.join(dir, 'herold.conf');
  writeFileSync(site, renderSite({
    HEROLD_LISTEN: `127.0.0.1:${port}`, HEROLD_SERVER_NAME: 'herold.test', HEROLD_ORIGIN: `127.0.0.1:${originPort}`,
    HEROLD_CACHE_DIR: cacheDir, HEROLD_ACCESS_LOG: accessLog,
  }));
  const temp = (name: string) => path.join(dir, 'temp', name);
  // Workers drop to nginx's default user only when started as root; that user could not write here.
  const main = `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
events { worker_connections 512; }
http {
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  include ${site};
}
`;
  mkdirSync(path.join(dir, 'temp'));
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, main);
  // Its own process group, so its workers can be found again even if the master dies first.
  const child: ChildProcess = spawn(NGINX, ['-e', 'stderr', '-p', dir, '-c', conf, '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')}; error_log stderr warn;`], {
    detached: true, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    // Not started at all (no binary, no permission): the error is what the caller reports.
    child.once('error', (error) => {
      stderr += `${error.message}\n`;
      resolve();
    });
  });
  let running = true;
  void exited.then(() => { running = false; });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    accessLog,
    stderr: () => stderr,
    async stop() {
      if (!running || child.pid === undefined) return;
      // SIGTERM: fast shutdown of master and workers; the whole group is killed if that takes too long.
      child.kill('SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000))]);
      if (!stopped) {
        process.kill(-child.pid, 'SIGKILL');
        await exited;
      }
    },
  };
}

/** Whether nginx can run here: installed, or CI (which installs it and must not skip). */
export const nginxAvailable = existsSync(NGINX) || process.env.CI === 'true';

/** An answer as it came over the wire: the body still content-coded. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** Keep-alive connections, like a feed reader's. */
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** GET (or another method) over node:http, which leaves the body as sent; no redirects, no decoding. */
export function get(url: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The body as text, undoing the content coding named in the answer. */
export function decoded(answer: Answer): string {
  const coding = answer.headers['content-encoding'];
  if (coding === 'br') return brotliDecompressSync(answer.body).toString('utf8');
  if (coding === 'gzip') return gunzipSync(answer.body).toString('utf8');
  if (coding === undefined) return answer.body.toString('utf8');
  throw new Error(`unexpected Content-Encoding ${String(coding)}`);
}

/** Polls until a GET answers 200; rejects after `ms` with what it last saw. */
export async function waitForOk(url: string, ms: number, what: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const answer = await get(url);
      if (answer.status === 200) return;
      last = `status ${answer.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${ms} ms (${last})\n${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The sum of a metric's samples whose labels include `labels`, 0 when there is none (yet). */
export function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) total += Number(match[3]);
  }
  return total;
}
