-- A user's console password, as IAM keeps it apart from the user: when it was set and whether
-- the user must change it. The password itself is never stored (roleplane has no console to
-- sign in to; decision 0023). Keyed by user ID, so a renamed user keeps it.
CREATE TABLE login_profiles (
    user_id TEXT PRIMARY KEY REFERENCES users (user_id),
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    created_ms BIGINT NOT NULL,
    password_changed_ms BIGINT NOT NULL,
    password_reset_required INTEGER NOT NULL
);
