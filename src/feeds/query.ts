import { badRequest, singleParam } from '../http/errors.js';
import { stripXmlForbidden } from '../text.js';

/** A feed's validated query. */
export interface FeedQuery {
  readonly limit: number;
  /** The RFC 5005 page, from 1. */
  readonly page: number;
  /** Full-text search within the feed's scope, normalized; null for the plain feed. */
  readonly q: string | null;
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
export const MAX_PAGE = 10_000;
export const MAX_Q = 200;

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) {
    throw badRequest('limit', `"limit" must be an integer from 1 to ${MAX_LIMIT}, got "${raw.slice(0, 40)}".`);
  }
  return Number(raw);
}

function parsePage(raw: string | undefined): number {
  if (raw === undefined) return 1;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) {
    throw badRequest('page', `"page" must be an integer from 1 to ${MAX_PAGE}, got "${raw.slice(0, 40)}".`);
  }
  return Number(raw);
}

/** Search text as the /search page reads it: no XML-forbidden characters, whitespace collapsed; "" is no search. */
function parseQ(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if ([...raw].length > MAX_Q) throw badRequest('q', `"q" must be at most ${MAX_Q} characters long.`);
  return stripXmlForbidden(raw.normalize('NFC')).replace(/\s+/g, ' ').trim() || null;
}

/**
 * Parses `?q=` (at most 200 characters), `?limit=` (1–100, default 20) and `?page=` (1–10000, default 1);
 * anything else in a known parameter, or a parameter given twice, is a 400.
 */
export function parseFeedQuery(query: Record<string, unknown>): FeedQuery {
  return { q: parseQ(singleParam(query, 'q')), limit: parseLimit(singleParam(query, 'limit')), page: parsePage(singleParam(query, 'page')) };
}

/**
 * The query string of a normalized feed query, as used in links and cache keys ("" for the defaults):
 * one order and one encoding (ASCII only, so that URLs in every format agree), defaults left out.
 */
export function feedQueryString(query: FeedQuery): string {
  const parts = [
    query.q !== null ? `q=${encodeURIComponent(query.q)}` : '',
    query.limit !== DEFAULT_LIMIT ? `limit=${query.limit}` : '',
    query.page !== 1 ? `page=${query.page}` : '',
  ].filter(Boolean);
  return parts.length ? `?${parts.join('&')}` : '';
}
