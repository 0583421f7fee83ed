-- PostgreSQL's 0010 indexes undone outbox events by id for the alert worker's claim. SQLite
-- already reads them in id order from `outbox_events_pending (done_at, id)` with
-- `done_at IS NULL` as an equality, so it needs no second index; this keeps the two
-- engines' migration numbers in step.
SELECT 1;
