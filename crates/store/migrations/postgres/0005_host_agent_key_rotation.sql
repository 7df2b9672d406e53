-- Rotating a host's agent credential (SQLite's migration 0020; docs/decisions/0029): a new key
-- is added and the host's earlier keys keep working until their retirement time. NULL: not
-- retiring. Additive (decision 0026): a nullable column older replicas never read.
ALTER TABLE host_agent_keys ADD COLUMN retires_ms BIGINT;
