-- EC2 Dedicated Hosts, the instances placed on them and their agents' access keys (SQLite's
-- migration 0019; decision 0025). A released host stays a row (state 'released', listed for an
-- hour as EC2 lists it), so an instance keeps naming the host it ran on; its agent keys go
-- with the release.
--
-- Additive (decision 0026): new tables, and a new nullable column of `instances` that a
-- release without hosts never sets. Every write to these tables is an EC2 write, under the
-- one EC2 lock, so a launch onto a host and the host's release never interleave.

CREATE TABLE hosts (
    host_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    availability_zone TEXT COLLATE "C" NOT NULL,
    -- Exactly one of the two: the one instance type the host takes, or the family whose types
    -- it takes.
    instance_type TEXT COLLATE "C",
    instance_family TEXT COLLATE "C",
    auto_placement TEXT COLLATE "C" NOT NULL CHECK (auto_placement IN ('on', 'off')),
    host_recovery TEXT COLLATE "C" NOT NULL CHECK (host_recovery IN ('on', 'off')),
    host_maintenance TEXT COLLATE "C" NOT NULL CHECK (host_maintenance IN ('on', 'off')),
    state TEXT COLLATE "C" NOT NULL CHECK (state IN ('available', 'released')),
    allocated_ms BIGINT NOT NULL,
    released_ms BIGINT,
    -- ClientToken idempotency: the hosts of one AllocateHosts call share its token, and a
    -- repeated call must carry the same parameters (fingerprint).
    client_token TEXT COLLATE "C",
    fingerprint TEXT COLLATE "C" NOT NULL,
    CHECK ((instance_type IS NULL) <> (instance_family IS NULL))
);
CREATE INDEX hosts_by_account ON hosts (account_id, host_id);
CREATE INDEX hosts_by_token ON hosts (account_id, client_token) WHERE client_token IS NOT NULL;

CREATE TABLE host_tags (
    host_id TEXT COLLATE "C" NOT NULL REFERENCES hosts (host_id) ON DELETE CASCADE,
    key TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (host_id, key)
);

-- The host's agent credentials: access key pairs bound to the host, not to an IAM user. The
-- secret is sealed by the server under the master key, as an IAM user's is.
CREATE TABLE host_agent_keys (
    access_key_id TEXT COLLATE "C" PRIMARY KEY,
    host_id TEXT COLLATE "C" NOT NULL REFERENCES hosts (host_id),
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    secret_ciphertext BYTEA NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX host_agent_keys_by_host ON host_agent_keys (host_id);

-- The host an instance was placed on (RunInstances' Placement.HostId); NULL for the default
-- tenancy.
ALTER TABLE instances ADD COLUMN host_id TEXT COLLATE "C" REFERENCES hosts (host_id);
CREATE INDEX instances_by_host ON instances (host_id) WHERE host_id IS NOT NULL;
