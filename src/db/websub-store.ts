import type { Database } from 'better-sqlite3';

/** One verified subscription to Herold's own hub. */
export interface Subscription {
  readonly id: number;
  readonly topic: string;
  readonly callback: string;
  readonly secret: string | null;
  readonly leaseSeconds: number;
  readonly expiresAt: string;
  readonly createdAt: string;
  readonly lastDeliveryAt: string | null;
  readonly lastError: string | null;
  /** The ETag (without quotes) of the feed body the subscriber last received, or saw when it subscribed. */
  readonly lastEtag: string | null;
}

interface SubscriptionRow {
  id: number;
  topic: string;
  callback: string;
  secret: string | null;
  lease_seconds: number;
  expires_at: string;
  created_at: string;
  last_delivery_at: string | null;
  last_error: string | null;
  last_etag: string | null;
}

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id, topic: row.topic, callback: row.callback, secret: row.secret, leaseSeconds: row.lease_seconds,
    expiresAt: row.expires_at, createdAt: row.created_at, lastDeliveryAt: row.last_delivery_at,
    lastError: row.last_error, lastEtag: row.last_etag,
  };
}

/** The WebSub subscriptions' SQL, each statement prepared once; instants are ISO 8601 UTC strings. */
export function createWebSubStore(db: Database) {
  const q = {
    // A renewal keeps what was delivered: the subscriber still has that body.
    subscribe: db.prepare(`INSERT INTO websub_subscriptions (topic, callback, secret, lease_seconds, expires_at, created_at, last_etag)
      VALUES (:topic, :callback, :secret, :leaseSeconds, :expiresAt, :now, :etag)
      ON CONFLICT (topic, callback) DO UPDATE SET secret = :secret, lease_seconds = :leaseSeconds, expires_at = :expiresAt,
        last_error = NULL`),
    unsubscribe: db.prepare(`DELETE FROM websub_subscriptions WHERE topic = ? AND callback = ?`),
    remove: db.prepare(`DELETE FROM websub_subscriptions WHERE id = ?`),
    byId: db.prepare(`SELECT * FROM websub_subscriptions WHERE id = ?`),
    find: db.prepare(`SELECT * FROM websub_subscriptions WHERE topic = ? AND callback = ?`),
    activeTopics: db.prepare(`SELECT DISTINCT topic FROM websub_subscriptions WHERE expires_at > ? ORDER BY topic`).pluck(),
    subscribers: db.prepare(`SELECT * FROM websub_subscriptions WHERE topic = :topic AND expires_at > :now ORDER BY id`),
    delivered: db.prepare(`UPDATE websub_subscriptions SET last_delivery_at = :now, last_etag = :etag, last_error = NULL WHERE id = :id`),
    claim: db.prepare(`UPDATE websub_subscriptions SET last_etag = :etag WHERE id = :id AND last_etag IS :previous`),
    unclaim: db.prepare(`UPDATE websub_subscriptions SET last_etag = :previous WHERE id = :id AND last_etag = :etag`),
    failed: db.prepare(`UPDATE websub_subscriptions SET last_error = :error WHERE id = :id`),
    purge: db.prepare(`DELETE FROM websub_subscriptions WHERE expires_at <= ?`),
  };

  return {
    /** Stores a verified subscription, or renews it (new lease and secret) when the callback already has one for the topic. */
    subscribe(entry: { topic: string; callback: string; secret: string | null; leaseSeconds: number; etag: string | null }, now: Date): void {
      const expiresAt = new Date(now.getTime() + entry.leaseSeconds * 1000).toISOString();
      q.subscribe.run({ ...entry, expiresAt, now: now.toISOString() });
    },

    /** Removes a callback's subscription to a topic; returns whether there was one. */
    unsubscribe(topic: string, callback: string): boolean {
      return q.unsubscribe.run(topic, callback).changes > 0;
    },

    /** Removes a subscription by id (the callback answered 410 Gone). */
    remove(id: number): void {
      q.remove.run(id);
    },

    /** One subscription by id, expired or not; undefined once removed. */
    subscriptionById(id: number): Subscription | undefined {
      const row = q.byId.get(id) as SubscriptionRow | undefined;
      return row ? toSubscription(row) : undefined;
    },

    /** A callback's subscription to a topic, expired or not. */
    subscription(topic: string, callback: string): Subscription | undefined {
      const row = q.find.get(topic, callback) as SubscriptionRow | undefined;
      return row ? toSubscription(row) : undefined;
    },

    /** Every topic with at least one subscription whose lease runs past `now`. */
    activeTopics(now: Date): string[] {
      return q.activeTopics.all(now.toISOString()) as string[];
    },

    /** The subscriptions of a topic whose lease runs past `now`. */
    subscribersOf(topic: string, now: Date): Subscription[] {
      return (q.subscribers.all({ topic, now: now.toISOString() }) as SubscriptionRow[]).map(toSubscription);
    },

    /**
     * Takes the delivery of the body with ETag `etag` to a subscription whose last body was `previous`:
     * true for the one process of the host that takes it, false when another already did (or the
     * subscription changed meanwhile).
     */
    claimDelivery(id: number, previous: string | null, etag: string): boolean {
      return q.claim.run({ id, previous, etag }).changes === 1;
    },

    /** Gives a delivery taken with claimDelivery back (it failed), unless a newer one was taken since. */
    releaseDelivery(id: number, previous: string | null, etag: string): void {
      q.unclaim.run({ id, previous, etag });
    },

    /** Records a successful delivery of the body with this ETag. */
    recordDelivery(id: number, etag: string, now: Date): void {
      q.delivered.run({ id, etag, now: now.toISOString() });
    },

    /** Records why the last delivery failed. */
    recordError(id: number, error: string): void {
      q.failed.run({ id, error });
    },

    /** Deletes the subscriptions whose lease ended at or before `now`; returns how many. */
    purgeExpired(now: Date): number {
      return q.purge.run(now.toISOString()).changes;
    },
  };
}

/** The WebSub store's interface, as created by createWebSubStore. */
export type WebSubStore = ReturnType<typeof createWebSubStore>;
