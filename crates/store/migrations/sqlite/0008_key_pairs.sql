-- EC2 key pairs: public keys only (the server never holds a private key), per account by name.
CREATE TABLE key_pairs (
    account_id TEXT NOT NULL,
    key_name TEXT NOT NULL,
    key_pair_id TEXT NOT NULL UNIQUE,
    key_type TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    -- The OpenSSH public key line as IMDS serves it (`ssh-ed25519 AAAA… comment`).
    public_key TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, key_name)
);

-- The public key line of the instance's key pair as it was at launch (EC2 puts the key on the
-- instance when it launches; deleting the key pair later does not take it away). NULL without
-- a key pair.
ALTER TABLE instances ADD COLUMN public_key TEXT;
