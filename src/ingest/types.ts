import type { Contact } from '../model.js';

/** A picture or file as an upstream names it; type and sizes are measured later by the probe. */
export interface MediaRef {
  /** Absolute URL, or (files sources) a path relative to the release file or a bare reference name. */
  readonly url: string;
  readonly title?: string | null;
  readonly alt?: string | null;
  readonly caption?: string | null;
  readonly credit?: string | null;
  /** What the upstream claims; kept only until the probe measures the real values. */
  readonly mime?: string | null;
  readonly bytes?: number | null;
}

/**
 * One release as a parser reads it from upstream bytes, before sanitizing and probing.
 * Parsers are pure: the same bytes give the same ParsedRelease.
 */
export interface ParsedRelease {
  /** The upstream's stable id (feed GUID/id, page URL, file name); the refresh derives Herold's GUID from it. */
  readonly ref: string;
  /** The release's page upstream, absolute, when there is one. */
  readonly url: string | null;
  readonly title: string;
  readonly subtitle: string | null;
  /** Upstream HTML, not yet sanitized (the refresh sanitizes it once). */
  readonly bodyHtml: string;
  /** ISO 8601 instant (UTC); a German date without a time is midnight Europe/Berlin of that day. */
  readonly publishedAt: string;
  readonly updatedAt?: string | null;
  readonly embargoUntil?: string | null;
  readonly organisation: string | null;
  readonly department: string | null;
  readonly contact: Contact | null;
  readonly topics: readonly string[];
  readonly images: readonly MediaRef[];
  readonly attachments: readonly MediaRef[];
  readonly language?: string | null;
}

/** A parser's verdict on one upstream item it could not read: what and why, for the log and the CLI. */
export interface Rejected {
  readonly ref: string;
  readonly reason: string;
}

/** What parsing one upstream document gives: the releases read and the items rejected. */
export interface ParseResult {
  readonly releases: readonly ParsedRelease[];
  readonly rejected: readonly Rejected[];
}
