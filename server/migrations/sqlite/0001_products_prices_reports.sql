-- Products, their change-only price history, reporters, reports, the outbox and crawl jobs.
-- Times are UTC milliseconds since the epoch (BIGINT); money is BIGINT minor units.
-- Flags are BIGINT 0/1 so that one query text serves SQLite and PostgreSQL.

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    marketplace TEXT NOT NULL,
    asin TEXT NOT NULL,
    title TEXT,
    currency TEXT NOT NULL,
    current_price BIGINT,
    availability TEXT NOT NULL DEFAULT 'unknown',
    current_point_id BIGINT,
    subscribers BIGINT NOT NULL DEFAULT 0,
    views BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (marketplace, asin)
);

CREATE TABLE price_points (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL REFERENCES products (id),
    price BIGINT,
    availability TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    report_id BIGINT,
    status TEXT NOT NULL DEFAULT 'published'
);
CREATE INDEX price_points_by_product_time ON price_points (product_id, first_seen_at);

CREATE TABLE reporters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL DEFAULT 'extension',
    user_id BIGINT,
    created_at BIGINT NOT NULL,
    confirmed BIGINT NOT NULL DEFAULT 0,
    refuted BIGINT NOT NULL DEFAULT 0,
    banned BIGINT NOT NULL DEFAULT 0,
    last_report_at BIGINT
);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_id BIGINT NOT NULL REFERENCES reporters (id),
    product_id BIGINT NOT NULL REFERENCES products (id),
    nonce TEXT NOT NULL,
    price BIGINT,
    currency TEXT NOT NULL,
    availability TEXT NOT NULL,
    observed_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,
    suspicion DOUBLE PRECISION NOT NULL,
    reasons TEXT NOT NULL,
    client_version TEXT NOT NULL,
    signature TEXT NOT NULL,
    UNIQUE (reporter_id, nonce)
);
CREATE INDEX reports_by_product_status ON reports (product_id, status, observed_at);

CREATE TABLE outbox_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products (id),
    price_point_id BIGINT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    done_at BIGINT
);
CREATE INDEX outbox_events_pending ON outbox_events (done_at, id);

-- Verification crawls of suspicious reports, and refreshes of stale products.
CREATE TABLE crawl_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id BIGINT NOT NULL REFERENCES products (id),
    kind TEXT NOT NULL,
    report_id BIGINT REFERENCES reports (id),
    priority DOUBLE PRECISION NOT NULL,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    done_at BIGINT,
    result TEXT
);
CREATE INDEX crawl_jobs_pending ON crawl_jobs (done_at, kind, priority);
