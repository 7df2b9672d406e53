-- Tags of EC2 key pairs (CreateKeyPair/ImportKeyPair TagSpecification, CreateTags, DeleteTags),
-- beside instance_tags (migration 0002): keys are case-sensitive, as EC2's are. A key pair's tags
-- go with it when it is deleted.
CREATE TABLE key_pair_tags (
    key_pair_id TEXT NOT NULL REFERENCES key_pairs (key_pair_id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (key_pair_id, key)
);
