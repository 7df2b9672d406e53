-- S3: buckets, the records of their objects, and multipart uploads with their parts.
--
-- Object bytes are not here: each object and part names the blob file the server wrote
-- (`blob_id`). Keys and bucket names compare in SQLite's default BINARY collation, which is
-- UTF-8 byte order, the order S3 lists keys in (PostgreSQL needs COLLATE "C" for the same).
-- Headers and tags are JSON text (see crates/store/src/sqlite/s3_rows.rs); tags keep their
-- order.

-- Bucket names are unique across every account, as on AWS.
CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    region TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    -- The bucket policy document as it was put; NULL without one.
    policy TEXT,
    -- The public access block: all four NULL once it was deleted.
    block_public_acls BOOLEAN,
    ignore_public_acls BOOLEAN,
    block_public_policy BOOLEAN,
    restrict_public_buckets BOOLEAN,
    tags TEXT NOT NULL,
    CHECK ((block_public_acls IS NULL) = (ignore_public_acls IS NULL)
        AND (block_public_acls IS NULL) = (block_public_policy IS NULL)
        AND (block_public_acls IS NULL) = (restrict_public_buckets IS NULL))
);
CREATE INDEX buckets_by_account ON buckets (account_id, name);

-- The primary key's index is the listing order: ListObjects scans ranges of it.
CREATE TABLE objects (
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- Without quotes.
    etag TEXT NOT NULL,
    last_modified_ms BIGINT NOT NULL,
    blob_id TEXT NOT NULL,
    headers TEXT NOT NULL,
    tags TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
);

CREATE TABLE multipart_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT NOT NULL,
    initiated_ms BIGINT NOT NULL,
    initiator_account TEXT NOT NULL,
    initiator_arn TEXT NOT NULL,
    -- What the completed object will carry.
    headers TEXT NOT NULL,
    tags TEXT NOT NULL
);
-- ListMultipartUploads' order.
CREATE INDEX multipart_uploads_by_key
    ON multipart_uploads (bucket, key, initiated_ms, upload_id);

CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL REFERENCES multipart_uploads (upload_id),
    part_number BIGINT NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    last_modified_ms BIGINT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
