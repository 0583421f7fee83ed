-- The crawler: its signing key, when each product was last crawled, the verdict on each
-- verified report, and at most one pending refresh per product.

-- One row (id = 1): the seed the crawler signs its reports with when none is configured,
-- shared by every replica so they report as one crawler.
CREATE TABLE crawler_identity (
    id BIGINT PRIMARY KEY,
    seed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

ALTER TABLE products ADD COLUMN last_crawled_at BIGINT;

-- 'confirmed' or 'refuted' once a verification crawl has judged the report (reputation is
-- counted once per report, however often it is crawled again).
ALTER TABLE reports ADD COLUMN verification TEXT;
ALTER TABLE reports ADD COLUMN verified_at BIGINT;

-- A refresh's adaptive interval when it was scheduled: staleness is measured in intervals.
ALTER TABLE crawl_jobs ADD COLUMN interval_ms BIGINT;

CREATE UNIQUE INDEX crawl_jobs_one_pending_refresh ON crawl_jobs (product_id)
    WHERE kind = 'refresh' AND done_at IS NULL;
CREATE INDEX crawl_jobs_due ON crawl_jobs (kind, due_at) WHERE done_at IS NULL;
CREATE INDEX crawl_jobs_by_report ON crawl_jobs (report_id);
