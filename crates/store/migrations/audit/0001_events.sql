-- The audit trail: one row per recorded API call, append-only apart from retention pruning.
-- Lives in its own database file (audit.db) so its write load and pruning never contend with
-- the IAM/STS/EC2 state, and so the state database stays small.
--
-- The columns beside `record` are what lookups filter on; `record` is the CloudTrail JSON as
-- delivered. Order is (event_time_ms, seq): time as the event happened, then commit order.

CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    event_time_ms BIGINT NOT NULL,
    account_id TEXT NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    read_only INTEGER NOT NULL,
    access_key_id TEXT,
    username TEXT,
    -- The IAM identity behind the call: a user's ARN, or for a session its role's (or user's)
    -- ARN, so every session of a role shares one key.
    principal_arn TEXT,
    error_code TEXT,
    -- JSON array of {"ResourceType", "ResourceName"}.
    resources TEXT NOT NULL,
    record TEXT NOT NULL
);

-- Time-ordered pages (lookups without a filter, exports) and the retention cut-off. Accounts
-- are a residual filter: a deployment has a handful.
CREATE INDEX events_by_time ON events (event_time_ms);
-- A principal's activity over a time range (policy generation scans this).
CREATE INDEX events_by_principal ON events (principal_arn, event_time_ms);
-- What one key did (linking instance credentials to their issuance).
CREATE INDEX events_by_access_key ON events (access_key_id, event_time_ms);
CREATE INDEX events_by_name ON events (account_id, event_name, event_time_ms);
