-- EC2: reservations, instances with their tags, instance-profile associations, and the
-- account's metadata-option defaults.
--
-- States are stored settled (running, stopped, terminated, associated, disassociated): a write
-- reports the transitional state to its caller and every later read sees where it settles, so
-- filters and indexes work on the stored value (see crates/store/src/sqlite/instances.rs).

CREATE TABLE reservations (
    reservation_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    client_token TEXT,
    fingerprint TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
-- ClientToken idempotency is per account.
CREATE UNIQUE INDEX reservations_by_token ON reservations (account_id, client_token)
    WHERE client_token IS NOT NULL;

CREATE TABLE instances (
    instance_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    reservation_id TEXT NOT NULL REFERENCES reservations (reservation_id),
    launch_index BIGINT NOT NULL,
    image_id TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped')),
    state_changed_ms BIGINT NOT NULL,
    launched_ms BIGINT NOT NULL,
    private_ip TEXT NOT NULL,
    availability_zone TEXT NOT NULL,
    key_name TEXT,
    subnet_id TEXT,
    -- Group names joined by newlines (which names cannot contain).
    security_groups TEXT NOT NULL,
    client_token TEXT,
    http_tokens TEXT NOT NULL,
    http_put_response_hop_limit BIGINT NOT NULL,
    http_endpoint TEXT NOT NULL,
    http_protocol_ipv6 TEXT NOT NULL,
    instance_metadata_tags TEXT NOT NULL
);
CREATE INDEX instances_by_account ON instances (account_id, instance_id);
CREATE INDEX instances_by_reservation ON instances (reservation_id);
-- A private address belongs to one live instance at a time; IMDS finds instances by it.
CREATE UNIQUE INDEX instances_by_live_ip ON instances (private_ip) WHERE state <> 'terminated';

CREATE TABLE instance_tags (
    instance_id TEXT NOT NULL REFERENCES instances (instance_id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (instance_id, key)
);
CREATE INDEX instance_tags_by_key ON instance_tags (key, value);

CREATE TABLE iam_instance_profile_associations (
    association_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    instance_id TEXT NOT NULL REFERENCES instances (instance_id),
    profile_arn TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('associating', 'associated', 'disassociating', 'disassociated')),
    created_ms BIGINT NOT NULL,
    ended_ms BIGINT
);
CREATE INDEX associations_by_account ON iam_instance_profile_associations (account_id, association_id);
CREATE INDEX associations_by_instance ON iam_instance_profile_associations (instance_id);
-- At most one active association per instance, whatever races the transactions lose.
CREATE UNIQUE INDEX associations_active_per_instance ON iam_instance_profile_associations (instance_id)
    WHERE state IN ('associating', 'associated');

-- NULL is EC2's no-preference.
CREATE TABLE instance_metadata_defaults (
    account_id TEXT PRIMARY KEY REFERENCES accounts (account_id),
    http_tokens TEXT,
    http_put_response_hop_limit BIGINT,
    http_endpoint TEXT,
    instance_metadata_tags TEXT
);

-- Where the next loopback address search starts (one row).
CREATE TABLE loopback_cursor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    next_address BIGINT NOT NULL
);
