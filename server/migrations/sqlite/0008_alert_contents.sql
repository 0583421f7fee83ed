-- Alert fan-out, second round (issue #5: one drop, 100,000 subscribers, under a second).
--
-- - `notification_contents`: one alert decision is the same text for every subscriber it
--   fires for, except the subscription id in its dedupe key. The text is stored once, as the
--   JSON before and after that id (`prefix`, `suffix`), and each subscriber's notification
--   row points to it (`content_id`) with `content` NULL; readers rebuild the text as
--   `prefix || subscription_id || suffix` (store::notifications::CONTENT_SQL). Rows that are
--   not fanned-out alerts (corrections, tests, digests) keep their own `content`. Every
--   point that has alerts has a row here, which tells a new price's fan-out that it has
--   no duplicates to skip.
-- - `notifications_by_user` indexed every alert row once more. A user's alert and
--   correction rows are found through their subscriptions and the dedupe key (whose leading
--   column is the subscription) instead; only rows without a subscription (tests, digests)
--   stay in a per-user index.
-- - `subscriptions_match` leaves out `armed`: the fan-out rewrites `armed` for every
--   subscriber it alerts, and an index on it is one more index write per subscriber (on
--   PostgreSQL it also makes the update non-HOT). The match reads the product's whole range
--   anyway when most subscribers are candidates.
-- - `subscriptions_wake` is partial: only held alerts have a wake-up.
--
-- SQLite cannot make a column nullable, so `notifications` is rebuilt.
CREATE TABLE notification_contents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL,
    price_point_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    prefix TEXT NOT NULL,
    suffix TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Whether a point has had alerts is answered here (store::notifications::point_is_fresh):
-- a new price's first fan-out then inserts without ON CONFLICT. Alerts queued before this
-- migration get a marker row (empty text, no notification points to it).
CREATE INDEX notification_contents_by_point
    ON notification_contents (product_id, price_point_id);
INSERT INTO notification_contents (product_id, price_point_id, kind, prefix, suffix, created_at)
SELECT DISTINCT product_id, price_point_id, kind, '', '', 0 FROM notifications
WHERE kind = 'alert' AND product_id IS NOT NULL AND price_point_id IS NOT NULL;

CREATE TABLE notifications_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL,
    subscription_id BIGINT,
    product_id BIGINT,
    price_point_id BIGINT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    content TEXT,
    content_id BIGINT,
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

CREATE UNIQUE INDEX notifications_dedupe
    ON notifications (subscription_id, price_point_id, kind, channel);
CREATE UNIQUE INDEX notifications_digest_day
    ON notifications (user_id, digest_day) WHERE digest_day IS NOT NULL;
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_user_direct ON notifications (user_id, id)
    WHERE subscription_id IS NULL;
CREATE INDEX notifications_by_digest ON notifications (digest_id) WHERE digest_id IS NOT NULL;

DROP INDEX subscriptions_match;
CREATE INDEX subscriptions_match ON subscriptions (product_id, threshold);
DROP INDEX subscriptions_wake;
CREATE INDEX subscriptions_wake ON subscriptions (wake_at) WHERE wake_at IS NOT NULL;
