-- Only held reports are ever looked up by product (a consensus reads a product's held
-- reports; the metrics count them), but reports_by_product_status took an entry for every
-- report. Indexed over held rows only, a report that is never held costs no entry.
-- (PostgreSQL's 0011 also drops an outbox index SQLite still claims from.)
DROP INDEX IF EXISTS reports_by_product_status;
CREATE INDEX reports_held_by_product ON reports (product_id, observed_at) WHERE status = 'held';
