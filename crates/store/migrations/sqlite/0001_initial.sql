-- roleplane's durable state. Every table is keyed by account; timestamps are epoch milliseconds.
-- Kept to SQL that PostgreSQL also accepts (its own copy lives in migrations/postgres), except
-- BLOB, which PostgreSQL spells BYTEA.
-- Case-insensitive uniqueness: each name has a lower-cased twin under a UNIQUE index, and lists
-- sort by it; the original spelling is what callers get back.

CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL
);

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    permissions_boundary_arn TEXT,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    user_id TEXT NOT NULL REFERENCES users (user_id),
    status TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    secret_ciphertext BLOB NOT NULL,
    created_ms BIGINT NOT NULL,
    last_used_ms BIGINT,
    last_used_region TEXT
);
CREATE INDEX access_keys_by_user ON access_keys (user_id);

CREATE TABLE roles (
    role_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    assume_role_policy TEXT NOT NULL,
    description TEXT,
    max_session_duration BIGINT NOT NULL,
    permissions_boundary_arn TEXT,
    last_used_ms BIGINT,
    last_used_region TEXT,
    UNIQUE (account_id, name_lower)
);

-- Inline policies of roles (principal_id AROA...) and users (AIDA...). No foreign key to the
-- owner because it is one of two tables; deleting an owner with policies is refused instead.
CREATE TABLE inline_policies (
    principal_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    document TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (principal_id, name_lower)
);

CREATE TABLE managed_policies (
    policy_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    default_version_id TEXT NOT NULL,
    -- Version numbers are never reused, so this only grows.
    next_version BIGINT NOT NULL,
    description TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE policy_versions (
    policy_id TEXT NOT NULL REFERENCES managed_policies (policy_id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    version_id TEXT NOT NULL,
    version_number BIGINT NOT NULL,
    document TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);

CREATE TABLE policy_attachments (
    principal_id TEXT NOT NULL,
    policy_id TEXT NOT NULL REFERENCES managed_policies (policy_id),
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    PRIMARY KEY (principal_id, policy_id)
);
CREATE INDEX policy_attachments_by_policy ON policy_attachments (policy_id);

CREATE TABLE instance_profiles (
    profile_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

-- The profile is the key: a profile holds at most one role (AWS's hard limit), enforced by the
-- schema as well as by the transaction that reports LimitExceeded.
CREATE TABLE instance_profile_roles (
    profile_id TEXT PRIMARY KEY REFERENCES instance_profiles (profile_id),
    role_id TEXT NOT NULL REFERENCES roles (role_id),
    account_id TEXT NOT NULL REFERENCES accounts (account_id)
);
CREATE INDEX instance_profile_roles_by_role ON instance_profile_roles (role_id);

-- Tags of any taggable entity, by its unique ID.
CREATE TABLE tags (
    entity_id TEXT NOT NULL,
    key_lower TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (entity_id, key_lower)
);

-- Session-token keys, encrypted by the caller under the master key.
CREATE TABLE token_keys (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    kid TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (account_id, kid)
);

CREATE TABLE settings (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account_id, key)
);
