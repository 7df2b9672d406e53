-- Attachments of AWS managed policies (arn:aws:iam::aws:policy/...). Those policies belong to no
-- account and have no managed_policies row: the server's compiled-in catalogue holds them and
-- checks that an ARN exists before it is attached. Each attaching account's rows are its own;
-- the policy's name and path are kept for listing (they are part of its ARN, so never change).
CREATE TABLE aws_policy_attachments (
    principal_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    policy_arn TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (principal_id, policy_arn)
);
-- AttachmentCount and ListEntitiesForPolicy of one account.
CREATE INDEX aws_policy_attachments_by_policy ON aws_policy_attachments (account_id, policy_arn);
