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
