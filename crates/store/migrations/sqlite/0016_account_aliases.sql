-- An account's alias (IAM CreateAccountAlias): one per account, replaced by the next one
-- created, and unique across every account of the deployment as AWS keeps it unique across
-- AWS. Aliases are lower case by IAM's pattern, so the alias itself is the unique key.
CREATE TABLE account_aliases (
    account_id TEXT PRIMARY KEY REFERENCES accounts (account_id),
    alias TEXT NOT NULL UNIQUE
);
