-- EC2 Dedicated Hosts (AllocateHosts, DescribeHosts, ReleaseHosts), the instances placed on
-- them (RunInstances' Placement.HostId), and the access keys of the agents that will run on
-- them (decision 0025).
--
-- A released host stays a row (state 'released', listed for an hour as EC2 lists it), so an
-- instance keeps naming the host it ran on; its agent keys go with the release.

CREATE TABLE hosts (
    host_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    availability_zone TEXT NOT NULL,
    -- Exactly one of the two: the one instance type the host takes, or the family whose types
    -- it takes.
    instance_type TEXT,
    instance_family TEXT,
    auto_placement TEXT NOT NULL CHECK (auto_placement IN ('on', 'off')),
    host_recovery TEXT NOT NULL CHECK (host_recovery IN ('on', 'off')),
    host_maintenance TEXT NOT NULL CHECK (host_maintenance IN ('on', 'off')),
    state TEXT NOT NULL CHECK (state IN ('available', 'released')),
    allocated_ms BIGINT NOT NULL,
    released_ms BIGINT,
    -- ClientToken idempotency: the hosts of one AllocateHosts call share its token, and a
    -- repeated call must carry the same parameters (fingerprint).
    client_token TEXT,
    fingerprint TEXT NOT NULL,
    CHECK ((instance_type IS NULL) <> (instance_family IS NULL))
);
CREATE INDEX hosts_by_account ON hosts (account_id, host_id);
CREATE INDEX hosts_by_token ON hosts (account_id, client_token) WHERE client_token IS NOT NULL;

CREATE TABLE host_tags (
    host_id TEXT NOT NULL REFERENCES hosts (host_id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (host_id, key)
);

-- The host's agent credentials: access key pairs bound to the host, not to an IAM user (no
-- policy can be attached to them, ListUsers does not show them). The secret is sealed by the
-- server under the master key exactly as an IAM user's is; the store never sees it in the
-- clear. Several rows per host let a rotation overlap the old key with the new.
CREATE TABLE host_agent_keys (
    access_key_id TEXT PRIMARY KEY,
    host_id TEXT NOT NULL REFERENCES hosts (host_id),
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    secret_ciphertext BLOB NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX host_agent_keys_by_host ON host_agent_keys (host_id);

-- The host an instance was placed on (RunInstances' Placement.HostId); NULL for the default
-- tenancy.
ALTER TABLE instances ADD COLUMN host_id TEXT REFERENCES hosts (host_id);
CREATE INDEX instances_by_host ON instances (host_id) WHERE host_id IS NOT NULL;
