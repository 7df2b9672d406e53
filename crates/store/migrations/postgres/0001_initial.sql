-- roleplane's durable state on PostgreSQL: the schema the SQLite migrations (migrations/sqlite,
-- 0001–0017) arrive at, in PostgreSQL's terms. Every table is keyed by account; timestamps are
-- epoch milliseconds.
--
-- Rules for the migrations that follow this one (decision 0023): replicas are upgraded one at
-- a time, so a release must run on the schema of the release after it. Migrations are
-- therefore additive: new tables, new columns that are NULL or have a default, new indexes,
-- new rows. Never a rename, a drop, a narrowed type or a new constraint old code could break;
-- those wait for a release after every replica stopped using what they remove. Each file is
-- applied once under sqlx's advisory lock, so replicas starting together apply it once.
--
-- Differences from the SQLite schema, each for the same behaviour:
-- - Every text column is COLLATE "C": comparisons and ORDER BY go by UTF-8 bytes, as SQLite's
--   BINARY collation does, whatever the database's default collation (pagination markers and
--   S3's key order depend on it).
-- - Case-insensitive uniqueness keeps the lower-cased twin columns (`name_lower`), folded by the
--   store in Rust as for SQLite, under UNIQUE indexes: PostgreSQL's lower() depends on the
--   collation and, under "C", folds ASCII only.
-- - BLOB is BYTEA; INTEGER is BIGINT throughout (the store decodes every integer as i64).
-- - `tags.seq` keeps tags in the order they were first added (SQLite's rowid).
-- - Triggers call functions; the instance stamp is a BEFORE trigger (no recursion to avoid).
-- - `changes` holds the change counters (SQLite keeps them in a mapped file; decision 0006).

CREATE TABLE accounts (
    account_id TEXT COLLATE "C" PRIMARY KEY,
    created_ms BIGINT NOT NULL
);

CREATE TABLE users (
    user_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    arn TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    permissions_boundary_arn TEXT COLLATE "C",
    UNIQUE (account_id, name_lower)
);

CREATE TABLE access_keys (
    access_key_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (user_id),
    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('Active', 'Inactive')),
    secret_ciphertext BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    last_used_ms BIGINT,
    last_used_region TEXT COLLATE "C",
    last_used_service TEXT COLLATE "C"
);
CREATE INDEX access_keys_by_user ON access_keys (user_id);
CREATE INDEX access_keys_by_account ON access_keys (account_id);

CREATE TABLE roles (
    role_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    arn TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    assume_role_policy TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C",
    max_session_duration BIGINT NOT NULL,
    permissions_boundary_arn TEXT COLLATE "C",
    last_used_ms BIGINT,
    last_used_region TEXT COLLATE "C",
    -- The principals the trust policy names by ARN, pinned to their unique IDs (`ID ARN` lines).
    trust_principals TEXT COLLATE "C" NOT NULL DEFAULT '',
    UNIQUE (account_id, name_lower)
);

-- Inline policies of roles (AROA…), users (AIDA…) and groups (AGPA…). No foreign key to the
-- owner, which is one of three tables; deleting an owner with policies is refused instead.
CREATE TABLE inline_policies (
    principal_id TEXT COLLATE "C" NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    document TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (principal_id, name_lower)
);
CREATE INDEX inline_policies_by_account ON inline_policies (account_id);

CREATE TABLE managed_policies (
    policy_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    arn TEXT COLLATE "C" NOT NULL UNIQUE,
    default_version_id TEXT COLLATE "C" NOT NULL,
    -- Version numbers are never reused, so this only grows.
    next_version BIGINT NOT NULL,
    description TEXT COLLATE "C",
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE policy_versions (
    policy_id TEXT COLLATE "C" NOT NULL REFERENCES managed_policies (policy_id) ON DELETE CASCADE,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    version_id TEXT COLLATE "C" NOT NULL,
    version_number BIGINT NOT NULL,
    document TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);

CREATE TABLE policy_attachments (
    principal_id TEXT COLLATE "C" NOT NULL,
    policy_id TEXT COLLATE "C" NOT NULL REFERENCES managed_policies (policy_id),
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    PRIMARY KEY (principal_id, policy_id)
);
CREATE INDEX policy_attachments_by_policy ON policy_attachments (policy_id);
CREATE INDEX policy_attachments_by_account ON policy_attachments (account_id);

-- Attachments of AWS managed policies (arn:aws:iam::aws:policy/…), which have no row of their
-- own: the server's catalogue holds them. Name and path are kept for listing.
CREATE TABLE aws_policy_attachments (
    principal_id TEXT COLLATE "C" NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    policy_arn TEXT COLLATE "C" NOT NULL,
    policy_name TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (principal_id, policy_arn)
);
CREATE INDEX aws_policy_attachments_by_policy ON aws_policy_attachments (account_id, policy_arn);

CREATE TABLE instance_profiles (
    profile_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    arn TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

-- The profile is the key: a profile holds at most one role (AWS's hard limit), enforced by the
-- schema as well as by the transaction that reports LimitExceeded.
CREATE TABLE instance_profile_roles (
    profile_id TEXT COLLATE "C" PRIMARY KEY REFERENCES instance_profiles (profile_id),
    role_id TEXT COLLATE "C" NOT NULL REFERENCES roles (role_id),
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id)
);
CREATE INDEX instance_profile_roles_by_role ON instance_profile_roles (role_id);

-- IAM groups and their members (membership by IDs, so renames keep it).
CREATE TABLE iam_groups (
    group_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    name TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    arn TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE iam_group_members (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES iam_groups (group_id),
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (user_id),
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX iam_group_members_by_user ON iam_group_members (user_id);

-- Tags of any taggable IAM entity, by its unique ID. `key_lower` is the folded key, except for
-- managed policies, whose tag keys are case-sensitive (sqlite/tags.rs, key_index).
CREATE TABLE tags (
    entity_id TEXT COLLATE "C" NOT NULL,
    key_lower TEXT COLLATE "C" NOT NULL,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    kind TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (entity_id, key_lower)
);

-- Session-token keys, encrypted by the caller under the master key.
CREATE TABLE token_keys (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    kid TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    ciphertext BYTEA NOT NULL,
    PRIMARY KEY (account_id, kid)
);

CREATE TABLE settings (
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    key TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- Keys of the deployment rather than of an account (decision 0011).
CREATE TABLE deployment_keys (
    name TEXT COLLATE "C" PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    sealed_key BYTEA NOT NULL,
    certificate BYTEA NOT NULL
);

-- An account's alias: one per account, unique across the deployment.
CREATE TABLE account_aliases (
    account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts (account_id),
    alias TEXT COLLATE "C" NOT NULL UNIQUE
);

-- OpenID Connect identity providers; client IDs and thumbprints are JSON arrays.
CREATE TABLE oidc_providers (
    provider_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    arn TEXT COLLATE "C" NOT NULL,
    url TEXT COLLATE "C" NOT NULL,
    client_ids TEXT COLLATE "C" NOT NULL,
    thumbprints TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (account_id, arn)
);

-- Access Analyzer policy-generation jobs.
CREATE TABLE policy_generations (
    job_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    principal_arn TEXT COLLATE "C" NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_end_ms BIGINT NOT NULL,
    trails TEXT COLLATE "C" NOT NULL,
    client_token TEXT COLLATE "C",
    started_ms BIGINT NOT NULL,
    status TEXT COLLATE "C" NOT NULL
        CHECK (status IN ('IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELED')),
    completed_ms BIGINT,
    error_code TEXT COLLATE "C",
    error_message TEXT COLLATE "C"
);
CREATE INDEX policy_generations_by_start ON policy_generations (started_ms);

-- ---- EC2 --------------------------------------------------------------------------------------
-- States are stored settled (running, stopped, terminated, associated, disassociated); see
-- crates/store/src/sqlite/instances.rs.

CREATE TABLE reservations (
    reservation_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    client_token TEXT COLLATE "C",
    fingerprint TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL
);
-- ClientToken idempotency is per account.
CREATE UNIQUE INDEX reservations_by_token ON reservations (account_id, client_token)
    WHERE client_token IS NOT NULL;

CREATE TABLE instances (
    instance_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    reservation_id TEXT COLLATE "C" NOT NULL REFERENCES reservations (reservation_id),
    launch_index BIGINT NOT NULL,
    image_id TEXT COLLATE "C" NOT NULL,
    instance_type TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL CHECK (state IN
        ('pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped')),
    state_changed_ms BIGINT NOT NULL,
    launched_ms BIGINT NOT NULL,
    private_ip TEXT COLLATE "C" NOT NULL,
    availability_zone TEXT COLLATE "C" NOT NULL,
    key_name TEXT COLLATE "C",
    subnet_id TEXT COLLATE "C",
    -- Group names joined by newlines (which names cannot contain).
    security_groups TEXT COLLATE "C" NOT NULL,
    client_token TEXT COLLATE "C",
    http_tokens TEXT COLLATE "C" NOT NULL,
    http_put_response_hop_limit BIGINT NOT NULL,
    http_endpoint TEXT COLLATE "C" NOT NULL,
    http_protocol_ipv6 TEXT COLLATE "C" NOT NULL,
    instance_metadata_tags TEXT COLLATE "C" NOT NULL,
    -- Stamped by the triggers below: where the instance last changed in the change sequence.
    change_seq BIGINT NOT NULL DEFAULT 0,
    user_data BYTEA,
    -- The public key line of the instance's key pair as it was at launch.
    public_key TEXT COLLATE "C"
);
CREATE INDEX instances_by_account ON instances (account_id, instance_id);
CREATE INDEX instances_by_reservation ON instances (reservation_id);
CREATE INDEX instances_by_change ON instances (change_seq);
-- A private address belongs to one live instance at a time; IMDS finds instances by it.
CREATE UNIQUE INDEX instances_by_live_ip ON instances (private_ip) WHERE state <> 'terminated';

CREATE TABLE instance_tags (
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances (instance_id),
    key TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (instance_id, key)
);
CREATE INDEX instance_tags_by_key ON instance_tags (key, value);

CREATE TABLE iam_instance_profile_associations (
    association_id TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances (instance_id),
    profile_arn TEXT COLLATE "C" NOT NULL,
    profile_id TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL CHECK (state IN
        ('associating', 'associated', 'disassociating', 'disassociated')),
    created_ms BIGINT NOT NULL,
    ended_ms BIGINT
);
CREATE INDEX associations_by_account
    ON iam_instance_profile_associations (account_id, association_id);
CREATE INDEX associations_by_instance ON iam_instance_profile_associations (instance_id);
-- At most one active association per instance, whatever races the transactions lose.
CREATE UNIQUE INDEX associations_active_per_instance
    ON iam_instance_profile_associations (instance_id)
    WHERE state IN ('associating', 'associated');

-- The IPv6 addresses an instance was launched with, in request order; unique among live
-- instances (a terminated instance gives them up, trigger below).
CREATE TABLE instance_ipv6_addresses (
    instance_id TEXT COLLATE "C" NOT NULL REFERENCES instances (instance_id),
    position BIGINT NOT NULL,
    address TEXT COLLATE "C" NOT NULL UNIQUE,
    PRIMARY KEY (instance_id, position)
);

-- NULL is EC2's no-preference.
CREATE TABLE instance_metadata_defaults (
    account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts (account_id),
    http_tokens TEXT COLLATE "C",
    http_put_response_hop_limit BIGINT,
    http_endpoint TEXT COLLATE "C",
    instance_metadata_tags TEXT COLLATE "C"
);

-- Where the next loopback address search starts (one row).
CREATE TABLE loopback_cursor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    next_address BIGINT NOT NULL
);

-- EC2 key pairs: public keys only, per account by name. No foreign key to `accounts`, as on
-- SQLite (migration 0008).
CREATE TABLE key_pairs (
    account_id TEXT COLLATE "C" NOT NULL,
    key_name TEXT COLLATE "C" NOT NULL,
    key_pair_id TEXT COLLATE "C" NOT NULL UNIQUE,
    key_type TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT COLLATE "C" NOT NULL,
    public_key TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, key_name)
);

CREATE TABLE key_pair_tags (
    key_pair_id TEXT COLLATE "C" NOT NULL REFERENCES key_pairs (key_pair_id) ON DELETE CASCADE,
    key TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (key_pair_id, key)
);

-- Which instances changed, and in what order: every write to an instance, its tags or its
-- associations stamps the instance with the next value of one counter (decision 0005).
-- Triggers do the stamping, so no write path can forget it. The counter is a row, so its value
-- commits with the write that moved it; EC2 writes run one at a time (decision 0023), so
-- stamps become visible in counter order.
CREATE TABLE instance_change_counter (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO instance_change_counter (id, value) VALUES (1, 0);

CREATE FUNCTION next_instance_change() RETURNS BIGINT LANGUAGE sql AS $$
    UPDATE instance_change_counter SET value = value + 1 WHERE id = 1 RETURNING value
$$;

-- Any insert or update of an instance takes the next stamp, unless the update is itself a
-- stamp (from instance_part_changed below), which stands as written.
CREATE FUNCTION instance_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.change_seq IS NOT DISTINCT FROM OLD.change_seq THEN
        NEW.change_seq := next_instance_change();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER instance_changed BEFORE INSERT OR UPDATE ON instances
    FOR EACH ROW EXECUTE FUNCTION instance_row_changed();

-- A tag or an association written stamps the instance it belongs to (both, if it moved).
CREATE FUNCTION instance_part_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE instances SET change_seq = next_instance_change()
            WHERE instance_id = OLD.instance_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.instance_id <> OLD.instance_id) THEN
        UPDATE instances SET change_seq = next_instance_change()
            WHERE instance_id = NEW.instance_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER instance_tag_changed AFTER INSERT OR UPDATE OR DELETE ON instance_tags
    FOR EACH ROW EXECUTE FUNCTION instance_part_changed();
CREATE TRIGGER instance_association_changed
    AFTER INSERT OR UPDATE OR DELETE ON iam_instance_profile_associations
    FOR EACH ROW EXECUTE FUNCTION instance_part_changed();

-- A terminated instance gives up its IPv6 addresses.
CREATE FUNCTION instance_ipv6_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM instance_ipv6_addresses WHERE instance_id = NEW.instance_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER instance_ipv6_released AFTER UPDATE OF state ON instances
    FOR EACH ROW WHEN (NEW.state = 'terminated') EXECUTE FUNCTION instance_ipv6_release();

-- ---- S3 ---------------------------------------------------------------------------------------
-- Object bytes are not here: objects and parts name the blob the server wrote (`blob_id`).
-- Headers and tags are JSON text (crates/store/src/sqlite/s3_rows.rs).

-- Bucket names are unique across every account, as on AWS.
CREATE TABLE buckets (
    name TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    region TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    policy TEXT COLLATE "C",
    block_public_acls BOOLEAN,
    ignore_public_acls BOOLEAN,
    block_public_policy BOOLEAN,
    restrict_public_buckets BOOLEAN,
    tags TEXT COLLATE "C" NOT NULL,
    CHECK ((block_public_acls IS NULL) = (ignore_public_acls IS NULL)
        AND (block_public_acls IS NULL) = (block_public_policy IS NULL)
        AND (block_public_acls IS NULL) = (restrict_public_buckets IS NULL))
);
CREATE INDEX buckets_by_account ON buckets (account_id, name);

-- The primary key's index is the listing order: ListObjects scans ranges of it.
CREATE TABLE objects (
    bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets (name),
    key TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT COLLATE "C" NOT NULL,
    last_modified_ms BIGINT NOT NULL,
    blob_id TEXT COLLATE "C" NOT NULL,
    headers TEXT COLLATE "C" NOT NULL,
    tags TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (bucket, key)
);

CREATE TABLE multipart_uploads (
    upload_id TEXT COLLATE "C" PRIMARY KEY,
    bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets (name),
    key TEXT COLLATE "C" NOT NULL,
    initiated_ms BIGINT NOT NULL,
    initiator_account TEXT COLLATE "C" NOT NULL,
    initiator_arn TEXT COLLATE "C" NOT NULL,
    headers TEXT COLLATE "C" NOT NULL,
    tags TEXT COLLATE "C" NOT NULL
);
-- ListMultipartUploads' order.
CREATE INDEX multipart_uploads_by_key
    ON multipart_uploads (bucket, key, initiated_ms, upload_id);

CREATE TABLE upload_parts (
    upload_id TEXT COLLATE "C" NOT NULL REFERENCES multipart_uploads (upload_id),
    part_number BIGINT NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT COLLATE "C" NOT NULL,
    blob_id TEXT COLLATE "C" NOT NULL,
    last_modified_ms BIGINT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);

-- ---- change counters ------------------------------------------------------------------------
-- One row per topic, bumped by each committed write of it in the write's own transaction and
-- announced on the `roleplane_changes` channel at its commit (postgres/changes.rs).
CREATE TABLE changes (
    topic TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO changes (topic, value)
    VALUES ('iam', 0), ('ec2', 0), ('buckets', 0), ('objects', 0), ('bookkeeping', 0);
