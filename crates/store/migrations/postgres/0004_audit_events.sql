-- The audit trail of replicas that share this database (decision 0027): one row per CloudTrail
-- record, inserted by a replica's group commit before the call it describes is answered, read
-- by every replica's LookupEvents, `audit export` and policy generation.
--
-- Additive (decision 0026): new tables only.
--
-- Records are the largest data roleplane keeps, so the row holds the record once, the columns
-- an `Event` is made of, and as few indexes as the lookups need:
-- - the primary key `(event_time_ms, id)` is the order pages come in (keyset pages continue
--   after a row's pair), the time bounds of every lookup and export, and the age pruning;
-- - a principal's records for policy generation, in time order;
-- - the calls without an authenticated caller, which the size cap evicts first;
-- - one GIN index over `lookup_keys` for LookupEvents' other attributes (event name and
--   source, username, access key, resource type and name: `n:`, `s:`, `u:`, `k:`, `rt:`, `rn:`
--   followed by the account, `:` and the value: LookupEvents always asks within one account),
--   whose pending list batches the index's inserts.
-- Read-only, account and management filters ride on one of those walks; an event ID narrows
-- the time range by its UUIDv7 milliseconds.

CREATE TABLE audit_events (
    event_time_ms BIGINT NOT NULL,
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    -- What the size cap counts for this row: its record's and columns' bytes.
    bytes INTEGER NOT NULL,
    read_only BOOLEAN NOT NULL,
    -- `false` for a data event (S3's object-level calls), which LookupEvents never returns.
    management BOOLEAN NOT NULL,
    -- `false` for a call without an authenticated caller (decision 0017).
    authenticated BOOLEAN NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL,
    event_source TEXT COLLATE "C" NOT NULL,
    event_name TEXT COLLATE "C" NOT NULL,
    access_key_id TEXT COLLATE "C",
    username TEXT COLLATE "C",
    principal_arn TEXT COLLATE "C",
    error_code TEXT COLLATE "C",
    -- JSON array of `{"ResourceType": …, "ResourceName": …}`, as LookupEvents returns them.
    resources TEXT COLLATE "C" NOT NULL,
    lookup_keys TEXT[] COLLATE "C" NOT NULL,
    -- The CloudTrail record, compact JSON on one line.
    record TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (event_time_ms, id)
);
CREATE INDEX audit_events_by_principal ON audit_events (principal_arn, event_time_ms, id)
    WHERE principal_arn IS NOT NULL;
CREATE INDEX audit_events_unauthenticated ON audit_events (event_time_ms, id)
    WHERE NOT authenticated;
CREATE INDEX audit_events_by_key ON audit_events USING GIN (lookup_keys);

-- The bytes and records the trail holds, kept as running sums: `pg_total_relation_size` does
-- not shrink when rows are deleted (vacuum reuses the space), so it cannot tell the size cap
-- that eviction made room. Each writer (a replica's group commit, its pruning) adds to rows of
-- its own `shard`, in the statement that inserts or deletes the rows, so replicas never wait
-- for one another's counter; the trail's size is the sum.
CREATE TABLE audit_usage (
    shard INTEGER NOT NULL,
    authenticated BOOLEAN NOT NULL,
    bytes BIGINT NOT NULL,
    records BIGINT NOT NULL,
    PRIMARY KEY (shard, authenticated)
);
