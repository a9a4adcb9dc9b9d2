/** A picture or file belonging to a release; sizes and types are measured, never guessed. */
export interface Media {
  /** Absolute URL, or a site-relative path ("/media/…") for files Herold serves itself. */
  readonly url: string;
  readonly title: string | null;
  readonly alt: string | null;
  readonly caption: string | null;
  readonly credit: string | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly mime: string | null;
  readonly bytes: number | null;
}

/** The press contact of a release, as printed under it. */
export interface Contact {
  readonly name: string | null;
  readonly organisation: string | null;
  readonly street: string | null;
  readonly postcode: string | null;
  readonly city: string | null;
  readonly phone: string | null;
  readonly fax: string | null;
  readonly email: string | null;
}

/** A topic or department: a display name and its ASCII slug. */
export interface Term {
  readonly slug: string;
  readonly name: string;
}

export type ReleaseStatus = 'published' | 'withdrawn';

/** A release as stored and published. Instants are ISO 8601 strings in UTC. */
export interface Release {
  readonly id: number;
  readonly guid: string;
  readonly slug: string;
  readonly sourceId: string;
  readonly sourceRef: string | null;
  readonly title: string;
  readonly subtitle: string | null;
  readonly bodyHtml: string;
  readonly bodyText: string;
  readonly language: string;
  readonly organisation: string | null;
  readonly department: Term | null;
  readonly contact: Contact | null;
  readonly topics: readonly Term[];
  readonly places: readonly string[];
  readonly images: readonly Media[];
  readonly attachments: readonly Media[];
  readonly publishedAt: string;
  readonly updatedAt: string | null;
  readonly embargoUntil: string | null;
  readonly status: ReleaseStatus;
  /** When any stored field last changed (including status): drives Last-Modified. */
  readonly changedAt: string;
  /** The store's hash of the content readers see (store.contentHash): with changedAt, it names one version. */
  readonly contentHash: string;
}

/** A release as a list names it: where it stands (publication), which version it is, and when readers saw it change. */
export type ReleaseHead = Pick<Release, 'id' | 'publishedAt' | 'embargoUntil' | 'changedAt' | 'contentHash'>;

/** What a sitemap lists of a release: its page, title, dates and embargo; none of its text. */
export type ReleaseListing = Pick<Release, 'slug' | 'title' | 'publishedAt' | 'updatedAt' | 'embargoUntil' | 'changedAt'>;

/** What a source or the authoring API hands to the store: a release before it has an id. */
export interface ReleaseInput {
  readonly guid: string;
  readonly sourceId: string;
  readonly sourceRef?: string | null;
  readonly slug?: string;
  readonly title: string;
  readonly subtitle?: string | null;
  /** Already sanitized HTML. */
  readonly bodyHtml: string;
  readonly bodyText: string;
  readonly language?: string;
  readonly organisation?: string | null;
  readonly department?: string | null;
  readonly contact?: Contact | null;
  readonly topics?: readonly string[];
  readonly places?: readonly string[];
  readonly images?: readonly Media[];
  readonly attachments?: readonly Media[];
  readonly publishedAt: string;
  readonly updatedAt?: string | null;
  readonly embargoUntil?: string | null;
  readonly status?: ReleaseStatus;
}

/** One recorded correction: when, why, and the previous values of the fields that changed. */
export interface Revision {
  readonly id: number;
  readonly releaseId: number;
  readonly revisedAt: string;
  readonly note: string | null;
  readonly previous: Readonly<Record<string, unknown>>;
}

/** What a source did last, as kept in the database. */
export interface SourceState {
  readonly sourceId: string;
  readonly lastAttemptAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly errorCount: number;
  readonly consecutiveErrors: number;
  readonly runs: number;
  readonly lastNew: number;
  readonly lastChanged: number;
  readonly lastUnchanged: number;
  readonly lastRejected: number;
  readonly lastRequests: number;
  readonly lastDurationMs: number | null;
  readonly runningUntil: string | null;
}

/** What a probe measured of one media URL (all null when it failed). */
export interface Probe {
  readonly mime: string | null;
  readonly bytes: number | null;
  readonly width: number | null;
  readonly height: number | null;
  readonly error: string | null;
  /** Herold's own copy of a remote image ("/media/remote/…"), so that pages make no request elsewhere. */
  readonly localUrl?: string | null;
}
