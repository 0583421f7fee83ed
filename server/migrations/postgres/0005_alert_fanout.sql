-- Alert fan-out at scale (one drop, 100,000 subscribers, well under a second): every index
-- and foreign key on `notifications` is paid once per queued alert, so alert rows now touch
-- only the indexes their readers need.
--
-- - No foreign keys: each one is a lookup plus a row lock (FOR KEY SHARE) on the parent per
--   inserted row, which for one drop meant locking 100,000 user rows. Rows are only ever
--   written from rows that exist in the same transaction, and the two deletes that cascaded
--   (a subscription, a user) now delete their notifications themselves
--   (store::subscriptions::delete, store::users::delete).
-- - The per-day digest uniqueness and the digest lookup are partial: alert rows carry no
--   digest day or digest id, so they no longer enter those indexes.
-- - `notifications_by_point` is gone: corrections find a refuted point's alerts through the
--   product's subscriptions and the dedupe key, whose leading column is the subscription.
ALTER TABLE notifications
    DROP CONSTRAINT IF EXISTS notifications_user_id_fkey,
    DROP CONSTRAINT IF EXISTS notifications_subscription_id_fkey,
    DROP CONSTRAINT IF EXISTS notifications_product_id_fkey,
    DROP CONSTRAINT IF EXISTS notifications_user_id_digest_day_key;
DROP INDEX IF EXISTS notifications_by_point;
DROP INDEX IF EXISTS notifications_by_digest;
ALTER TABLE notifications RENAME CONSTRAINT notifications_subscription_id_price_point_id_kind_channel_key
    TO notifications_dedupe;
CREATE UNIQUE INDEX notifications_digest_day
    ON notifications (user_id, digest_day) WHERE digest_day IS NOT NULL;
CREATE INDEX notifications_by_digest ON notifications (digest_id) WHERE digest_id IS NOT NULL;
