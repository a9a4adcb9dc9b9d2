import express, { Router, type Request, type Response } from 'express';
import { HttpError } from '../http/errors.js';
import type { PageDeps } from '../pages/deps.js';
import { parseHubRequest, type WebSub } from './hub.js';

/**
 * The WebSub hub at /websub (W3C WebSub 5): POST a subscription request, answered 202 while the
 * callback is asked to confirm it. With an external hub configured, Herold runs none and /websub is 404.
 */
export function websubRoutes(deps: PageDeps, hub?: WebSub): Router {
  const router = Router();
  if (deps.config.websubHub !== null) return router;

  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  router.post('/websub', form, (req: Request, res: Response) => {
    if (!req.is('application/x-www-form-urlencoded')) {
      throw new HttpError(415, 'Unsupported Media Type', 'Send the hub.* parameters as application/x-www-form-urlencoded.');
    }
    if (!hub) throw new HttpError(503, 'Service Unavailable', 'The WebSub hub is not running.');
    hub.accept(parseHubRequest((req.body ?? {}) as Record<string, unknown>));
    res.status(202).set('Cache-Control', 'no-store').type('text/plain')
      .send('Accepted: the callback will be asked to confirm this request.\n');
  });
  router.all('/websub', (_req: Request, res: Response) => {
    res.set('Allow', 'POST');
    throw new HttpError(405, 'Method Not Allowed', 'The hub takes subscription requests by POST (W3C WebSub).');
  });
  return router;
}
