-- Access Analyzer policy-generation jobs: what each was asked and how it ended, so a started
-- job survives a restart (its result is recomputed from the durable audit trail).
CREATE TABLE policy_generations (
    job_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_end_ms BIGINT NOT NULL,
    -- cloudTrailDetails.trails as the caller sent it (JSON), echoed in results.
    trails TEXT NOT NULL,
    client_token TEXT,
    started_ms BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELED')),
    completed_ms BIGINT,
    error_code TEXT,
    error_message TEXT
);
CREATE INDEX policy_generations_by_start ON policy_generations (started_ms);
