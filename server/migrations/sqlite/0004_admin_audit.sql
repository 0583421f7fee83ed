-- Admin review: who decided what about a report, and an audit log of every admin action.

-- An admin's decision on a report ('approved' or 'rejected'), by whom and when. NULL: only
-- the judge (and perhaps a crawl) has decided.
ALTER TABLE reports ADD COLUMN review TEXT;
ALTER TABLE reports ADD COLUMN reviewed_by BIGINT;
ALTER TABLE reports ADD COLUMN reviewed_at BIGINT;

-- Every admin action, written in the same transaction as the action. No foreign key to
-- users: the log outlives a deleted admin account (the page then shows the id).
CREATE TABLE admin_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    admin_user_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target TEXT NOT NULL,
    -- JSON: what the action changed (status before, points reverted, ...).
    detail TEXT NOT NULL
);
CREATE INDEX admin_audit_by_target ON admin_audit (target_kind, target);
