import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { Request, Response } from 'express';
import { pino, type Level, type Logger } from 'pino';
import { pinoHttp, startTime } from 'pino-http';
import type { Config } from '../config.js';

export type { Logger } from 'pino';

/**
 * What each output stream holds at most while nothing reads it (a stalled log collector, a full pipe): lines
 * beyond it are dropped and counted (`droppedLogLines`, `/metrics`) rather than gathered without bound or
 * holding up the event loop.
 */
export const LOG_BUFFER_BYTES = 4 * 1024 * 1024;

let dropped = 0;

/** Log lines this process dropped because stdout or stderr was not being read. */
export function droppedLogLines(): number {
  return dropped;
}

/**
 * An output stream written asynchronously, holding at most LOG_BUFFER_BYTES. Once it takes bytes again after
 * dropping lines, `report` is called with their number (outside the stream's own callback, which is still
 * accounting for the bytes just written).
 */
function boundedOutput(fd: 1 | 2, options: { minLength: number; periodicFlush?: number }, report: (count: number) => void) {
  const stream = pino.destination({ fd, sync: false, maxLength: LOG_BUFFER_BYTES, ...options });
  let unreported = 0;
  stream.on('drop', () => {
    dropped++;
    unreported++;
  });
  stream.on('write', () => {
    if (!unreported) return;
    const count = unreported;
    unreported = 0;
    setImmediate(() => report(count));
  });
  return stream;
}

const droppedMessage = (count: number, name: string) =>
  `log: ${count} lines dropped while ${name} was not being read (more than ${LOG_BUFFER_BYTES} bytes waiting)`;

/**
 * The service's logger: one JSON object per line with an ISO time and the level's name. Errors and worse
 * go to stderr, everything else to stdout. Each stream says in its own lines how many it dropped.
 */
function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  // stdout in batches: written when 8 KB have gathered or every 100 ms, so that a busy server does not make a
  // system call per line; stderr at once. Both asynchronously, and pino writes what is left when the process exits.
  const stdout = boundedOutput(1, { minLength: 8192, periodicFlush: 100 }, (count) => logger.warn({ dropped: count }, droppedMessage(count, 'stdout')));
  const stderr = boundedOutput(2, { minLength: 0 }, (count) => logger.error({ dropped: count }, droppedMessage(count, 'stderr')));
  const logger: Logger = pino({
    level: config.logLevel,
    base: { service: 'herold', pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, pino.multistream([{ level: 'trace', stream: stdout }, { level: 'error', stream: stderr }], { dedupe: true }));
  return logger;
}

let shared: Logger | null = null;

/** The logger of this process: created on first use (level from config.logLevel), the same one afterwards. */
export function serviceLogger(config: Pick<Config, 'logLevel'>): Logger {
  shared ??= createLogger(config);
  return shared;
}

/** For an app built without a logger (tests, benchmarks): errors only, each as one JSON line handed to `log`. */
export function lineLogger(log: (line: string) => void): Logger {
  return pino({ level: 'error', base: null, timestamp: pino.stdTimeFunctions.isoTime }, { write: (line: string) => log(line.trimEnd()) });
}

/** Lines of the scheduler, refreshes and WebSub that report routine work; any other line reports a failure. */
const ROUTINE = new RegExp([
  /is due; refreshing now$/, /another run is in progress; skipped$/, /: not started: .*$/, /: cancelled after \d+ requests .*; nothing stored$/,
  /subscribed to \S+ for \d+ s$/, /unsubscribed from \S+$/, /answered 410 Gone: subscription to \S+ removed$/, /is back; .*$/,
].map((pattern) => pattern.source).join('|'));
const SOURCE = /^(?:refresh|scheduler): source ([a-z0-9][a-z0-9-]*)\b/;

/**
 * The `(line) => void` log that the scheduler, refresh, WebSub and the app take, writing to `logger`:
 * routine lines at info, the rest (upstream failures naming source and URL, undelivered pushes) at warn.
 * The line is the message; a source's id is also a field.
 */
export function componentLog(logger: Logger): (line: string) => void {
  return (line) => {
    const level: Level = ROUTINE.test(line) ? 'info' : 'warn';
    const source = SOURCE.exec(line)?.[1];
    if (source) logger[level]({ source }, line);
    else logger[level](line);
  };
}

// Request ids: a random prefix per process and a counter, e.g. "3f9c02ab-1k".
const PREFIX = randomBytes(4).toString('hex');
let counter = 0;

/** A new request id, unique within this process and very likely across processes. */
function nextRequestId(): string {
  counter = counter >= Number.MAX_SAFE_INTEGER ? 1 : counter + 1;
  return `${PREFIX}-${counter.toString(36)}`;
}

const SANE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request's own `X-Request-Id` when it is sane (1–64 of A–Z a–z 0–9 . _ : -), else a new id. */
export function incomingRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SANE_ID.test(given) ? given : nextRequestId();
}

/** Query parameters whose values never reach the log (the embargoed feed takes `?token=`). */
const SECRET_PARAMS = new Set(['token', 'access_token', 'api_key', 'apikey', 'secret', 'password']);

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/** The URL (path and query) with the values of secret query parameters replaced by "[redacted]". */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const query = url.slice(start + 1).split('&').map((part) => {
    const equals = part.indexOf('=');
    const name = equals < 0 ? part : part.slice(0, equals);
    return SECRET_PARAMS.has(decodedName(name)) ? `${name}=[redacted]` : part;
  });
  return `${url.slice(0, start)}?${query.join('&')}`;
}

/** One answered request, as logged by both the express app and the cached-feed fast path. */
export interface RequestEntry {
  readonly id: string;
  readonly method: string;
  /** Path and query as requested; the log shows secret parameters redacted. */
  readonly url: string;
  readonly status: number;
  readonly ms: number;
  readonly remote?: string | undefined;
  /** The client went away before the answer was complete. */
  readonly aborted?: boolean;
}

/** The level of a request's line: 5xx error, 4xx warn, else info. */
function requestLevel(status: number): Level {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/** The fields of a request line besides `reqId`, which the request's child logger carries. */
function requestFields(entry: Omit<RequestEntry, 'id'>) {
  return {
    method: entry.method, url: redactUrl(entry.url), status: entry.status, ms: entry.ms,
    ...(entry.remote ? { remote: entry.remote } : {}), ...(entry.aborted ? { aborted: true } : {}),
  };
}

function requestMessage(fields: ReturnType<typeof requestFields>): string {
  return `${fields.method} ${fields.url} ${fields.status}${fields.aborted ? ' aborted' : ''}`;
}

/** Logs one answered request in the shape and at the level of the app's request lines. */
export function logRequest(logger: Logger, entry: RequestEntry, level: Level = requestLevel(entry.status)): void {
  if (!logger.isLevelEnabled(level)) return;
  const fields = requestFields(entry);
  logger[level]({ reqId: entry.id, ...fields }, requestMessage(fields));
}

/**
 * Express middleware: gives each request an id (`req.id`, `X-Request-Id` on the answer) and a child
 * logger carrying it (`req.log`), and logs one line when the answer is finished or the client gives up.
 * Headers are never logged.
 */
export function requestLogging(logger: Logger) {
  const logged = new WeakMap<Response, ReturnType<typeof requestFields>>();
  const fields = (req: Request, res: Response) => {
    const entry = requestFields({
      method: req.method, url: req.originalUrl, status: res.statusCode,
      ms: Date.now() - res[startTime], remote: req.ip ?? req.socket.remoteAddress, aborted: !res.writableFinished,
    });
    logged.set(res, entry);
    return entry;
  };
  // pino-http asks for the fields first, then for the message.
  const message = (_req: Request, res: Response) => requestMessage(logged.get(res)!);
  return pinoHttp<Request, Response>({
    logger,
    quietReqLogger: true,
    quietResLogger: true,
    genReqId: (req, res) => {
      const id = incomingRequestId(req);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res) => requestLevel(res.statusCode),
    customSuccessObject: fields,
    customErrorObject: fields,
    customSuccessMessage: message,
    customErrorMessage: message,
  });
}
