import express, { type NextFunction, type Request, type Response } from 'express';
import { HttpError } from './errors.js';

/** The largest JSON body accepted: a release with a long text is far below it. */
export const JSON_BODY_LIMIT = '1mb';

const parse = express.json({ limit: JSON_BODY_LIMIT, strict: false, type: () => true });

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Middleware reading a JSON body into req.body, every failure answered as problem JSON: no body or
 * malformed JSON 400, another media type 415 (with Accept-Post/Accept-Patch), over 1 MB 413.
 * `types` are the media types accepted (e.g. application/json, application/merge-patch+json).
 */
export function jsonBody(types: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!hasBody(req)) {
      next(new HttpError(400, 'Bad Request', `This request needs a JSON body (Content-Type: ${types[0]}).`));
      return;
    }
    if (!req.is([...types])) {
      res.set(req.method === 'PATCH' ? 'Accept-Patch' : 'Accept-Post', types.join(', '));
      next(new HttpError(415, 'Unsupported Media Type',
        `The body must be ${types.join(' or ')}, not ${req.headers['content-type'] ?? 'without a Content-Type'}.`));
      return;
    }
    parse(req, res, (error?: unknown) => {
      if (error === undefined) {
        next();
        return;
      }
      const type = (error as { type?: string }).type;
      if (type === 'entity.too.large') {
        next(new HttpError(413, 'Content Too Large', `The body is larger than ${JSON_BODY_LIMIT}.`));
      } else if (type === 'entity.parse.failed') {
        next(new HttpError(400, 'Bad Request', `The body is not valid JSON: ${(error as Error).message}`));
      } else if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
        next(new HttpError(415, 'Unsupported Media Type', `${(error as Error).message}: send UTF-8 JSON.`));
      } else {
        next(error);
      }
    });
  };
}
