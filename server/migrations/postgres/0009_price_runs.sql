-- Packed history in runs of up to 8 KB instead of one row per UTC day (0006's price_days).
--
-- A day row held a few dozen points, so a year of a busy product was ~365 rows, and a chart's
-- time went into handing those rows out rather than into the points. A run holds every
-- consecutive published point the packer saw, up to 8 KB of encoded bytes (~1,000 points of
-- a product that changes often), keyed by the time its first point starts: a year is a few
-- dozen rows, and the packer packs every point but the latest (not whole days), so a chart
-- reads almost nothing from price_points.
--
-- products.packed_until keeps its meaning: published points that first appeared before it
-- are in price_runs, later ones are read from price_points. It goes back to the sentinel
-- here, so the packer (its first pass after start-up is this migration's data step) repacks
-- every product into runs; until then charts read price_points, complete but slower.
DROP TABLE price_days;

CREATE TABLE price_runs (
    product_id BIGINT NOT NULL REFERENCES products (id),
    -- first_seen_at of the run's first point; every earlier run's points start before it.
    starts_at BIGINT NOT NULL,
    -- The latest last_seen_at in the run, to find the point still in force at a chart's start.
    last_seen_max BIGINT NOT NULL,
    points BYTEA NOT NULL,
    PRIMARY KEY (product_id, starts_at)
);
-- PLAIN: no compression and no TOAST table. The bytes are already delta-packed (compression
-- gains little and costs a decompress per run per chart), and a run is capped so that its
-- row fits in one 8 KB page: one heap page per run, no second look-up in a TOAST index.
ALTER TABLE price_runs ALTER COLUMN points SET STORAGE PLAIN;
-- Finds the runs still in force at a chart's start without visiting the heap of older ones.
CREATE INDEX price_runs_by_last_seen ON price_runs (product_id, last_seen_max) INCLUDE (starts_at);

UPDATE products SET packed_until = -9000000000000000000;
