-- Users' login profiles (SQLite's migration 0018): that a user has a console password, when it
-- was set and whether it must be changed; never the password itself (decision 0023). Keyed by
-- user ID, so a renamed user keeps it. Additive: a new table (decision 0026).
CREATE TABLE login_profiles (
    user_id TEXT COLLATE "C" PRIMARY KEY REFERENCES users (user_id),
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    created_ms BIGINT NOT NULL,
    password_changed_ms BIGINT NOT NULL,
    password_reset_required BOOLEAN NOT NULL
);
-- The credential report reads an account's profiles at once.
CREATE INDEX login_profiles_by_account ON login_profiles (account_id);
