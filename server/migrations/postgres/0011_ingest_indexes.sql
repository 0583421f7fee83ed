-- What every report and every outbox event paid for on the way in, and only a few rows used.
--
-- reports_by_product_status indexed every report by (product, status, time), but only held
-- reports are ever looked up by product (a consensus reads a product's held reports; the
-- metrics count them). Nearly every report is published or stale on arrival, so the index
-- took an entry per report for the few that are held. Indexed over held rows only, a report
-- that is never held costs no entry, and a held one leaves the index when it is resolved.
DROP INDEX IF EXISTS reports_by_product_status;
CREATE INDEX reports_held_by_product ON reports (product_id, observed_at) WHERE status = 'held';

-- outbox_events_pending (done_at, id) is what 0010's partial index replaced for the claim;
-- nothing else reads it, and every event paid for it twice (when written, and again when
-- done_at was set).
DROP INDEX IF EXISTS outbox_events_pending;
-- Room on each page for the claim's update of an event (claimed_by, claimed_until, attempts:
-- columns no index names) to stay on the page, without new entries in every index.
ALTER TABLE outbox_events SET (fillfactor = 70);

-- The foreign keys of the rows ingest writes were checked for every row, a look-up (and a
-- key-share lock) in products, and for reports in reporters too: for reports, two thirds of
-- their insert's time. Every writer of these rows (ingest, consensus, crawl and admin
-- verdicts) writes them for a product it holds locked and a reporter it read, in the same
-- transaction, and products and reporters are never deleted. (SQLite keeps them: it cannot
-- drop a constraint without rebuilding the table.)
ALTER TABLE reports DROP CONSTRAINT IF EXISTS reports_reporter_id_fkey;
ALTER TABLE reports DROP CONSTRAINT IF EXISTS reports_product_id_fkey;
ALTER TABLE price_points DROP CONSTRAINT IF EXISTS price_points_product_id_fkey;
ALTER TABLE outbox_events DROP CONSTRAINT IF EXISTS outbox_events_product_id_fkey;
