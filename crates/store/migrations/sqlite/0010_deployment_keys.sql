-- Keys of the deployment rather than of an account (decision 0011), shared by every server on
-- the store: today the instance identity signing key. The private half is sealed by the caller
-- under the master key; the certificate (DER) is public, so `roleplane ca show` reads it
-- without the master key.
CREATE TABLE deployment_keys (
    name TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    sealed_key BLOB NOT NULL,
    certificate BLOB NOT NULL
);
