-- The roles and users a trust policy names by ARN, pinned to the unique IDs they had when the
-- policy was written (one `ID ARN` line each): a principal deleted and recreated under the same
-- name is a different principal, and the old trust must not pass to it (AWS does the same).
ALTER TABLE roles ADD COLUMN trust_principals TEXT NOT NULL DEFAULT '';
