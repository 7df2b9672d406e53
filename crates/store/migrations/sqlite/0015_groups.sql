-- IAM groups and their members. A group's inline policies and attached managed policies live in
-- `inline_policies` and `policy_attachments` under its `AGPA…` ID, as a role's or user's do.
-- Named `iam_groups` because GROUPS is an SQL keyword (window frames).
CREATE TABLE iam_groups (
    group_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path TEXT NOT NULL,
    arn TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (account_id, name_lower)
);

-- Membership is by IDs, so renaming a user or a group keeps it. Deleting a member or a group is
-- refused while the row exists (AWS's DeleteConflict), so no cascade is needed.
CREATE TABLE iam_group_members (
    group_id TEXT NOT NULL REFERENCES iam_groups (group_id),
    user_id TEXT NOT NULL REFERENCES users (user_id),
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX iam_group_members_by_user ON iam_group_members (user_id);
