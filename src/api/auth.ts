import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../http/errors.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** True when the request carries `Authorization: Bearer <token>`; compared in constant time. */
export function hasBearer(req: Request, token: string | null): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!token || !match) return false;
  // Equal-length digests, so neither the token's length nor its prefix leaks through timing.
  return timingSafeEqual(digest(match[1]!), digest(token));
}

/** Who is asking: no credentials, one of the configured tokens, or a token that is none of them. */
export type Caller = { kind: 'anonymous' } | { kind: 'token'; token: string } | { kind: 'invalid' };

/**
 * Identifies the caller among `tokens`: every configured token is compared, in constant time, so the
 * time taken says nothing about which (or how much of one) matched.
 */
export function callerOf(req: Request, tokens: readonly string[]): Caller {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') return { kind: 'anonymous' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return { kind: 'invalid' };
  const given = digest(match[1]!);
  let found: string | null = null;
  for (const token of tokens) {
    if (timingSafeEqual(given, digest(token)) && found === null) found = token;
  }
  return found === null ? { kind: 'invalid' } : { kind: 'token', token: found };
}

/** 401 with a Bearer challenge: the request carried no credentials. */
export function unauthorized(res: Response, detail: string): HttpError {
  res.set('WWW-Authenticate', 'Bearer realm="herold"');
  return new HttpError(401, 'Unauthorized', detail);
}

/**
 * The authoring API's gate: 401 (with WWW-Authenticate) without a token, 403 with a wrong one, and 403
 * naming HEROLD_API_TOKENS when the server has none. Throws; returns the caller's token.
 */
export function requireApiToken(req: Request, res: Response, tokens: readonly string[]): string {
  if (tokens.length === 0) {
    throw new HttpError(403, 'Forbidden', 'This server has no HEROLD_API_TOKENS set: the authoring API is disabled.');
  }
  const caller = callerOf(req, tokens);
  if (caller.kind === 'anonymous') throw unauthorized(res, 'This operation needs "Authorization: Bearer <token>".');
  if (caller.kind === 'invalid') throw new HttpError(403, 'Forbidden', 'The bearer token is not one of this server\'s API tokens.');
  return caller.token;
}

/** Middleware: 401 (with WWW-Authenticate) unless the request carries the admin token; 403 when none is configured. */
export function requireBearer(token: string | null) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!token) {
      next(new HttpError(403, 'Forbidden', 'This server has no HEROLD_ADMIN_TOKEN: the operation is disabled.'));
      return;
    }
    if (!hasBearer(req, token)) {
      res.set('WWW-Authenticate', 'Bearer realm="herold"');
      next(new HttpError(401, 'Unauthorized', 'This operation needs "Authorization: Bearer <token>".'));
      return;
    }
    next();
  };
}

/** True when `given` is one of `tokens`: every token is compared, each in constant time, so timing tells nothing. */
export function matchesAnyToken(given: string, tokens: readonly string[]): boolean {
  const wanted = digest(given);
  let found = false;
  for (const token of tokens) found = timingSafeEqual(wanted, digest(token)) || found;
  return found;
}
