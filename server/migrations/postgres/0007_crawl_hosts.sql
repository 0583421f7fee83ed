-- Politeness and health per crawled host, shared by every replica: the token bucket's
-- theoretical arrival time, the back-off, and the counters the admin page shows. Times are
-- wall-clock UTC ms (not the application clock: tests move that, politeness must not move).
CREATE TABLE crawl_hosts (
    host TEXT PRIMARY KEY,
    tat_ms BIGINT NOT NULL,
    backoff_until_ms BIGINT,
    failures_in_row BIGINT NOT NULL DEFAULT 0,
    requests BIGINT NOT NULL DEFAULT 0,
    ok BIGINT NOT NULL DEFAULT 0,
    robot_checks BIGINT NOT NULL DEFAULT 0,
    unavailable BIGINT NOT NULL DEFAULT 0,
    unreachable BIGINT NOT NULL DEFAULT 0,
    page_errors BIGINT NOT NULL DEFAULT 0,
    last_outcome TEXT,
    updated_at_ms BIGINT NOT NULL
);
