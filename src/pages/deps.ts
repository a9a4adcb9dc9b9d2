import type { Config } from '../config.js';
import type { Store } from '../db/store.js';
import type { CachedResponder } from '../http/representation.js';

/** What page, embed and API routers need: configuration, the store, the cached responder and the clock. */
export interface PageDeps {
  readonly config: Config;
  readonly store: Store;
  readonly respond: CachedResponder;
  readonly clock: () => Date;
}
