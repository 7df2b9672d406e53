//! The counts behind IAM's GetAccountSummary, each of one account only.

use super::Db;
use crate::error::Result;
use crate::model::AccountCounts;

/// One statement, so every count is of the same moment.
const COUNTS: &str = "SELECT \
    (SELECT COUNT(*) FROM users WHERE account_id = $1), \
    (SELECT COUNT(*) FROM roles WHERE account_id = $1), \
    (SELECT COUNT(*) FROM managed_policies WHERE account_id = $1), \
    (SELECT COUNT(*) FROM instance_profiles WHERE account_id = $1), \
    (SELECT COUNT(*) FROM iam_groups WHERE account_id = $1), \
    (SELECT COUNT(*) FROM oidc_providers WHERE account_id = $1), \
    (SELECT COUNT(*) FROM policy_attachments WHERE account_id = $1) \
      + (SELECT COUNT(*) FROM aws_policy_attachments WHERE account_id = $1)";

pub(super) async fn counts(db: &Db, account: &str) -> Result<AccountCounts> {
    type Row = (i64, i64, i64, i64, i64, i64, i64);
    let (users, roles, policies, instance_profiles, groups, providers, attachments): Row =
        sqlx::query_as(COUNTS)
            .bind(account)
            .fetch_one(&db.pool)
            .await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(AccountCounts {
        users: n(users),
        roles: n(roles),
        policies: n(policies),
        instance_profiles: n(instance_profiles),
        groups: n(groups),
        providers: n(providers),
        // Each attachment keeps its policy's default version in use.
        policy_versions_in_use: n(attachments),
    })
}
