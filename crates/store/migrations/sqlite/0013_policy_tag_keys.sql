-- Managed policies' tag keys are case-sensitive on AWS (`a` and `A` are two tags), unlike those
-- of roles, users and instance profiles: their `key_lower` holds the key itself from now on
-- (crates/store/src/sqlite/tags.rs, key_index). Keys were unique case-insensitively before, so
-- they stay unique.
UPDATE tags SET key_lower = key WHERE kind = 'policy';
