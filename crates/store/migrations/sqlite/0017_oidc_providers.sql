-- IAM OpenID Connect identity providers (CreateOpenIDConnectProvider). One per URL per account;
-- the ARN is `arn:aws:iam::ACCOUNT:oidc-provider/URL` with the URL's `https://` removed. Client
-- IDs and thumbprints are JSON arrays in the order AWS answers them. Tags live in `tags`, keyed
-- by `provider_id` with kind `oidc-provider`.
CREATE TABLE oidc_providers (
    provider_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    arn TEXT NOT NULL,
    url TEXT NOT NULL,
    client_ids TEXT NOT NULL,
    thumbprints TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (account_id, arn)
);
