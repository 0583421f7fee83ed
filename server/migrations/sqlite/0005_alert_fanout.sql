-- Alert fan-out at scale (one drop, 100,000 subscribers, well under a second): every index on
-- `notifications` is paid once per queued alert, so alert rows now touch only the indexes
-- their readers need.
--
-- - No foreign keys: each one is a lookup (on PostgreSQL a row lock on the parent) per
--   inserted row. Rows are only ever written from rows that exist in the same transaction,
--   and the two deletes that cascaded (a subscription, a user) now delete their
--   notifications themselves (store::subscriptions::delete, store::users::delete).
-- - The per-day digest uniqueness and the digest lookup are partial: alert rows carry no
--   digest day or digest id, so they no longer enter those indexes.
-- - `notifications_by_point` is gone: corrections find a refuted point's alerts through the
--   product's subscriptions and the dedupe key, whose leading column is the subscription.
--
-- SQLite cannot drop table constraints, so the table is rebuilt.
CREATE TABLE notifications_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL,
    subscription_id BIGINT,
    product_id BIGINT,
    price_point_id BIGINT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    last_error TEXT,
    digest_id BIGINT,
    digest_day BIGINT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
INSERT INTO notifications_new (id, user_id, subscription_id, product_id, price_point_id, kind,
    channel, content, status, attempts, next_attempt_at, claimed_by, claimed_until, last_error,
    digest_id, digest_day, created_at, sent_at)
SELECT id, user_id, subscription_id, product_id, price_point_id, kind, channel, content, status,
    attempts, next_attempt_at, claimed_by, claimed_until, last_error, digest_id, digest_day,
    created_at, sent_at
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;

-- The dedupe key: an alert is queued at most once per subscription, point, kind and channel.
CREATE UNIQUE INDEX notifications_dedupe
    ON notifications (subscription_id, price_point_id, kind, channel);
CREATE UNIQUE INDEX notifications_digest_day
    ON notifications (user_id, digest_day) WHERE digest_day IS NOT NULL;
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_user ON notifications (user_id, id);
CREATE INDEX notifications_by_digest ON notifications (digest_id) WHERE digest_id IS NOT NULL;
