-- The alert worker claims the oldest undone events by id. With only `(done_at, id)` to go
-- on, PostgreSQL walked the primary key from the first event ever written and filtered out
-- every done one: 100 ms a claim over 180,000 done events, growing with all history, and at
-- ingest rates the worker fell behind on the claims alone. Indexed by id over the undone
-- rows only, a claim reads about as many entries as it takes (the claim rules out the
-- gather-and-sort plan PostgreSQL picks when the table has no statistics yet).
CREATE INDEX outbox_events_undone ON outbox_events (id) WHERE done_at IS NULL;
