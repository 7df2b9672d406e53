-- Rotating a host's agent credential (issue 17; docs/decisions/0029): a new key is added and
-- the host's earlier keys keep working until their retirement time, the end of a grace period
-- the operator chose, so the agent can switch without a gap. NULL: not retiring.
ALTER TABLE host_agent_keys ADD COLUMN retires_ms BIGINT;
