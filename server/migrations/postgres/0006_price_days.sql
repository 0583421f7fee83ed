-- A product's published price points packed per UTC day, so that a chart reads one short run
-- of rows instead of one row per point scattered over the table (points of all products are
-- written interleaved in time). price_points stays the record (ids, reports, statuses); the
-- packed days are a copy of its published points, kept by store::points.
--
-- products.packed_until: published points that first appeared before it are in price_days;
-- later ones (the day of the latest point, and anything not packed yet) are read from
-- price_points. The packer moves it forward; a correction moves it back. The sentinel
-- (far before any real timestamp) means nothing is packed yet, so an upgraded database reads
-- every point from price_points until the packer has caught up: no history is lost.
--
-- PostgreSQL keeps no table clustered, but a day row is small (a few hundred bytes) and a
-- year is ~365 of them: the index range plus ~365 heap tuples, against ~25,000 scattered
-- point rows before. The second index finds the first day still in force at a chart's start.
CREATE TABLE price_days (
    product_id BIGINT NOT NULL REFERENCES products (id),
    day BIGINT NOT NULL,
    -- The latest last_seen_at in the day, to find the point still in force at a chart's start.
    last_seen_max BIGINT NOT NULL,
    points BYTEA NOT NULL,
    PRIMARY KEY (product_id, day)
);
CREATE INDEX price_days_by_last_seen ON price_days (product_id, last_seen_max) INCLUDE (day);

ALTER TABLE products ADD COLUMN packed_until BIGINT NOT NULL DEFAULT -9000000000000000000;
