import type { NextFunction, Request, Response } from 'express';
import { redactUrl } from './log.js';

/** An error with an HTTP status, answered as RFC 9457 problem details. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpError';
  }
}

/** 400 naming the query parameter or field and what was wrong with it. */
export function badRequest(parameter: string, detail: string): HttpError {
  return new HttpError(400, 'Bad Request', detail, { parameter });
}

/** One query or form parameter as given, undefined when absent; a repeated one is ambiguous and answered 400. */
export function singleParam(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(name, `"${name}" must be given once, as a plain value.`);
  return value;
}

/** One parameter trimmed, null when absent or empty (as HTML forms send unused fields). */
export function trimmedParam(query: Readonly<Record<string, unknown>>, name: string): string | null {
  return singleParam(query, name)?.trim() || null;
}

/** 404 for a resource that does not exist. */
export function notFound(detail = 'There is nothing at this address.'): HttpError {
  return new HttpError(404, 'Not Found', detail);
}

/** Writes an RFC 9457 problem document. */
export function sendProblem(req: Request, res: Response, error: HttpError): void {
  const body = {
    type: 'about:blank',
    title: error.title,
    status: error.status,
    ...(error.detail ? { detail: error.detail } : {}),
    instance: req.originalUrl,
    ...error.extra,
  };
  res.status(error.status)
    .set('Content-Type', 'application/problem+json; charset=utf-8')
    .set('Cache-Control', 'no-store')
    .send(JSON.stringify(body));
}

/** The one 404 handler: everything no route answered. */
export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(notFound(`No resource at ${req.path}.`));
}

/**
 * The one error handler: HttpErrors as problem JSON, anything else answered 500 and logged with its stack
 * through the request's logger (so with the request id; see log.ts requestLogging).
 */
export function errorHandler() {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      req.log.error({ err: error }, `error after the answer began: ${req.method} ${redactUrl(req.originalUrl)}: ${(error as Error)?.message ?? String(error)}`);
      res.end();
      return;
    }
    if (error instanceof HttpError) {
      sendProblem(req, res, error);
      return;
    }
    const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : 500;
    if (status >= 400 && status < 500) {
      sendProblem(req, res, new HttpError(status, status === 404 ? 'Not Found' : 'Bad Request', (error as Error).message));
      return;
    }
    req.log.error({ err: error }, `error: ${req.method} ${redactUrl(req.originalUrl)}: ${(error as Error)?.message ?? String(error)}`);
    sendProblem(req, res, new HttpError(500, 'Internal Server Error', 'The server could not answer this request.'));
  };
}
