//! The tables of schema 6, one constant per table group, made by the step 5 -> 6
//! ([`super::super::migrate`]). Each group belongs to its module beside this one.

/// Sessions: the public `id` (16 bytes) is what views and revocations name; `secret` is SHA-256 of
/// the cookie's value. Times are wall labels (ms since the epoch).
pub const SESSIONS: &str = "
CREATE TABLE IF NOT EXISTS auth_session (
    id BLOB PRIMARY KEY,
    secret BLOB NOT NULL UNIQUE,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    remember INTEGER NOT NULL,
    version BLOB NOT NULL,
    device TEXT NOT NULL,
    addr TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    seen_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    end_reason TEXT
);
CREATE INDEX IF NOT EXISTS auth_session_user ON auth_session (user) WHERE ended_ms IS NULL;
";

/// API tokens: `secret` is SHA-256 of the token.
pub const TOKENS: &str = "
CREATE TABLE IF NOT EXISTS auth_token (
    id BLOB PRIMARY KEY,
    secret BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    used_ms INTEGER,
    expires_ms INTEGER,
    revoked_ms INTEGER
);
";

/// Second factors: one TOTP secret per user (enrolled once confirmed), its ten recovery codes
/// (SHA-256 each, spent once), and the last time step accepted (a code is not taken twice).
pub const TOTP: &str = "
CREATE TABLE IF NOT EXISTS auth_totp (
    user TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    confirmed_ms INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auth_recovery (
    user TEXT NOT NULL,
    code BLOB NOT NULL,
    used_ms INTEGER,
    PRIMARY KEY (user, code)
) WITHOUT ROWID;
";

/// The audit log: one row per record, `detail` a JSON object.
pub const AUDIT: &str = "
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    user TEXT,
    addr TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts_ms);
";

/// Every group, in order.
pub const ALL: [&str; 4] = [SESSIONS, TOKENS, TOTP, AUDIT];
