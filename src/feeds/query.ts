import { badRequest } from '../http/errors.js';

/** A feed's validated query. */
export interface FeedQuery {
  readonly limit: number;
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(name, `"${name}" must be given once, as a plain value.`);
  return value;
}

/** Parses `?limit=` (1–100, default 20); anything else in a known parameter is a 400. */
export function parseFeedQuery(query: Record<string, unknown>): FeedQuery {
  const raw = single(query, 'limit');
  if (raw === undefined) return { limit: DEFAULT_LIMIT };
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) {
    throw badRequest('limit', `"limit" must be an integer from 1 to ${MAX_LIMIT}, got "${raw.slice(0, 40)}".`);
  }
  return { limit: Number(raw) };
}

/** The query string of a normalized feed query, as used in links and cache keys ("" for the defaults). */
export function feedQueryString(query: FeedQuery): string {
  return query.limit === DEFAULT_LIMIT ? '' : `?limit=${query.limit}`;
}
