-- Accounts, sign-in, subscriptions, notifications (the delivery queue) and the alert worker's
-- bookkeeping. Same conventions as 0001: BIGINT times (UTC ms), money (minor units) and flags
-- (0/1); JSON as TEXT.

-- Users sign in by email (no passwords). `email` is stored lower-cased.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL DEFAULT 'user',
    -- 1: one email a day with every alert instead of one email per alert.
    digest BIGINT NOT NULL DEFAULT 0,
    webhook_url TEXT,
    webhook_secret TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One-time sign-in codes and magic links: only HMACs of them are stored.
CREATE TABLE login_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    link_hash TEXT NOT NULL UNIQUE,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX login_tokens_by_email ON login_tokens (email, created_at);

-- Sessions: a cookie for the website or a bearer token for the extension; only hashes stored.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- A user's alert on one product. `threshold` is the effective price (a percentage drop is
-- stored as its floor price too) so one index range query finds who a new price fires for;
-- `armed` and `rearm_above` mirror the JSON state for the same reason.
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    target_kind TEXT,
    threshold BIGINT,
    reference_price BIGINT,
    drop_bp BIGINT,
    currency TEXT NOT NULL,
    back_in_stock BIGINT NOT NULL DEFAULT 0,
    paused BIGINT NOT NULL DEFAULT 0,
    armed BIGINT NOT NULL DEFAULT 1,
    rearm_above BIGINT,
    state TEXT NOT NULL,
    wake_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (user_id, product_id)
);
CREATE INDEX subscriptions_match ON subscriptions (product_id, armed, threshold);
CREATE INDEX subscriptions_by_user ON subscriptions (user_id, id);
CREATE INDEX subscriptions_wake ON subscriptions (wake_at);

-- What we tell users, and the delivery queue: one row per (subscription, price point, kind,
-- channel), UNIQUE, so an alert can never be queued twice. Digests are rows too (kind
-- 'digest', one per user and day).
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subscription_id BIGINT REFERENCES subscriptions (id) ON DELETE CASCADE,
    product_id BIGINT REFERENCES products (id),
    price_point_id BIGINT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    last_error TEXT,
    digest_id BIGINT,
    digest_day BIGINT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    UNIQUE (subscription_id, price_point_id, kind, channel),
    UNIQUE (user_id, digest_day)
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_by_user ON notifications (user_id, id);
CREATE INDEX notifications_by_point ON notifications (price_point_id, kind);
CREATE INDEX notifications_by_digest ON notifications (digest_id);

-- The alert worker takes a product's events in order: the oldest undone one first.
CREATE INDEX outbox_events_undone_by_product ON outbox_events (product_id, id) WHERE done_at IS NULL;

-- Server-generated secrets (HMAC keys for unsubscribe links and sign-in codes) shared by
-- every replica, created by the first one to start.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
