-- Alert fan-out, second round (issue #5: one drop, 100,000 subscribers, under a second).
--
-- - `notification_contents`: one alert decision is the same text for every subscriber it
--   fires for, except the subscription id in its dedupe key. The text is stored once, as the
--   JSON before and after that id (`prefix`, `suffix`), and each subscriber's notification
--   row points to it (`content_id`) with `content` NULL; readers rebuild the text as
--   `prefix || subscription_id || suffix` (store::notifications::CONTENT_SQL). Rows that are
--   not fanned-out alerts (corrections, tests, digests) keep their own `content`. Every
--   point that has alerts has a row here, which tells a new price's fan-out that it has
--   no duplicates to skip. Each alert row is a third of its former size, which is WAL
--   written per subscriber.
-- - `notifications_by_user` indexed every alert row once more. A user's alert and
--   correction rows are found through their subscriptions and the dedupe key (whose leading
--   column is the subscription) instead; only rows without a subscription (tests, digests)
--   stay in a per-user index.
-- - `subscriptions_match` leaves out `armed`, and `subscriptions_wake` is partial: the
--   fan-out rewrites `state`, `armed` and `updated_at` of every subscriber it alerts, and
--   with none of them indexed the update is HOT (no index entry per subscriber), given room
--   on the page for the new version: fillfactor 50 (it applies to pages written from now
--   on; a `VACUUM FULL subscriptions` in a quiet moment applies it to the existing rows).
CREATE TABLE notification_contents (
    id BIGSERIAL PRIMARY KEY,
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

ALTER TABLE notifications
    ALTER COLUMN content DROP NOT NULL,
    ADD COLUMN content_id BIGINT;
DROP INDEX IF EXISTS notifications_by_user;
CREATE INDEX notifications_by_user_direct ON notifications (user_id, id)
    WHERE subscription_id IS NULL;

DROP INDEX subscriptions_match;
CREATE INDEX subscriptions_match ON subscriptions (product_id, threshold);
DROP INDEX subscriptions_wake;
CREATE INDEX subscriptions_wake ON subscriptions (wake_at) WHERE wake_at IS NOT NULL;
ALTER TABLE subscriptions SET (fillfactor = 50);
