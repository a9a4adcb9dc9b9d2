import type { NextFunction, Request, Response } from 'express';

/** Pages load nothing from elsewhere: Herold keeps copies of upstream images (ingest/probe.ts mirrorImage). */
const PAGE_POLICY = [
  "default-src 'self'", "img-src 'self' data:", "style-src 'self' 'unsafe-inline'", "script-src 'self'",
  "connect-src 'self'", "base-uri 'none'", "form-action 'self'", "object-src 'none'", "frame-ancestors 'none'",
].join('; ');

/**
 * Security headers for every response. Nothing of Herold may be framed by another site; the
 * embed routes that exist to be framed replace frame-ancestors themselves.
 */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set('Content-Security-Policy', PAGE_POLICY);
  res.set('X-Frame-Options', 'DENY');
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Referrer-Policy', 'strict-origin-when-cross-origin');
  next();
}

/** For a document meant to be framed by any site: the same policy without the frame restriction. */
export function allowFraming(res: Response): void {
  res.set('Content-Security-Policy', PAGE_POLICY.replace("frame-ancestors 'none'", 'frame-ancestors *'));
  res.removeHeader('X-Frame-Options');
}
