//! The reads that walk a whole account: GetAccountAuthorizationDetails, ListEntitiesForPolicy
//! and the credential report. Each runs in one read transaction, so it sees one snapshot.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};

use super::access_keys::KEY_COLUMNS;
use super::groups::{GROUP_COLUMNS, GroupRow};
use super::login_profiles::{LOGIN_PROFILE_COLUMNS, LoginProfileRow};
use super::rows::{
    AccessKeyRow, POLICY_COLUMNS, PROFILE_COLUMNS, PolicyRow, ProfileRow, ROLE_COLUMNS, RoleRow,
    USER_COLUMNS, UserRow,
};
use super::{from_ms, tags};
use crate::error::{EntityKind, Result, StoreError};
use crate::groups::{
    AccountDetails, DetailsQuery, EntityQuery, EntityRef, GroupDetail, PolicyDetail,
    PolicyEntities, RoleDetail, UserCredentials, UserDetail,
};
use crate::model::{AttachedPolicy, InlinePolicy, PolicyVersion};

const AWS_POLICY_PREFIX: &str = "arn:aws:iam::aws:policy/";

/// ListEntitiesForPolicy. The policy must be one of the account's (`NotFound` as
/// `AttachablePolicy` otherwise, as AWS words it).
pub(super) async fn policy_entities(
    pool: &SqlitePool,
    account: &str,
    arn: &str,
    query: &EntityQuery,
) -> Result<PolicyEntities> {
    let mut tx = pool.begin().await?;
    // An AWS managed policy has no row of its own (the server's catalogue vouches for its ARN);
    // its attachments are the account's `aws_policy_attachments` rows.
    let policy_id: String = if arn.starts_with(AWS_POLICY_PREFIX) {
        String::new()
    } else {
        sqlx::query_scalar(
            "SELECT policy_id FROM managed_policies WHERE account_id = $1 AND arn = $2",
        )
        .bind(account)
        .bind(arn)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::AttachablePolicy, arn))?
    };
    let mut entities = PolicyEntities::default();
    // Groups have no permissions boundary.
    let kinds = [
        (
            query.groups,
            "iam_groups",
            "group_id",
            "NULL",
            &mut entities.groups,
        ),
        (
            query.users,
            "users",
            "user_id",
            "e.permissions_boundary_arn",
            &mut entities.users,
        ),
        (
            query.roles,
            "roles",
            "role_id",
            "e.permissions_boundary_arn",
            &mut entities.roles,
        ),
    ];
    for (wanted, table, id_column, boundary_column, out) in kinds {
        if !wanted {
            continue;
        }
        let sql = format!(
            "SELECT e.name, e.{id_column} FROM {table} e \
             WHERE e.account_id = $3 AND substr(e.path, 1, length($2)) = $2 \
             AND (($4 AND (EXISTS (SELECT 1 FROM policy_attachments a \
                    WHERE a.policy_id = $1 AND a.principal_id = e.{id_column}) \
                 OR EXISTS (SELECT 1 FROM aws_policy_attachments w \
                    WHERE w.policy_arn = $6 AND w.principal_id = e.{id_column}))) \
               OR ($5 AND {boundary_column} = $6)) \
             ORDER BY e.name_lower"
        );
        let rows: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&policy_id)
            .bind(&query.path_prefix)
            .bind(account)
            .bind(query.attached)
            .bind(query.boundary)
            .bind(arn)
            .fetch_all(&mut *tx)
            .await?;
        *out = rows
            .into_iter()
            .map(|(name, id)| EntityRef { name, id })
            .collect();
    }
    tx.commit().await?;
    Ok(entities)
}

/// Inline policies of every principal of the account, by owner ID, each list by name.
async fn inline_by_owner(
    conn: &mut SqliteConnection,
    account: &str,
) -> Result<HashMap<String, Vec<InlinePolicy>>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT principal_id, name, document, size FROM inline_policies \
         WHERE account_id = $1 ORDER BY name_lower",
    )
    .bind(account)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_owner: HashMap<String, Vec<InlinePolicy>> = HashMap::new();
    for (owner, name, document, size) in rows {
        by_owner.entry(owner).or_default().push(InlinePolicy {
            name,
            document,
            size: u64::try_from(size).unwrap_or(0),
        });
    }
    Ok(by_owner)
}

/// Attached managed policies of every principal of the account, by owner ID, each by name.
async fn attached_by_owner(
    conn: &mut SqliteConnection,
    account: &str,
) -> Result<HashMap<String, Vec<AttachedPolicy>>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT principal_id, name, arn FROM ( \
           SELECT a.principal_id, p.name, p.arn, p.name_lower FROM policy_attachments a \
           JOIN managed_policies p ON p.policy_id = a.policy_id \
           WHERE a.account_id = $1 \
           UNION ALL \
           SELECT principal_id, policy_name, policy_arn, name_lower FROM aws_policy_attachments \
           WHERE account_id = $1) \
         ORDER BY name_lower",
    )
    .bind(account)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_owner: HashMap<String, Vec<AttachedPolicy>> = HashMap::new();
    for (owner, name, arn) in rows {
        by_owner
            .entry(owner)
            .or_default()
            .push(AttachedPolicy { name, arn });
    }
    Ok(by_owner)
}

pub(super) async fn details(
    pool: &SqlitePool,
    account: &str,
    query: DetailsQuery,
) -> Result<AccountDetails> {
    let mut tx = pool.begin().await?;
    let mut inline = inline_by_owner(&mut tx, account).await?;
    let mut attached = attached_by_owner(&mut tx, account).await?;
    let mut details = AccountDetails::default();

    if query.users {
        let memberships: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.user_id, g.name FROM iam_group_members m \
             JOIN iam_groups g ON g.group_id = m.group_id \
             WHERE m.account_id = $1 ORDER BY g.name_lower",
        )
        .bind(account)
        .fetch_all(&mut *tx)
        .await?;
        let mut groups_of: HashMap<String, Vec<String>> = HashMap::new();
        for (user_id, group) in memberships {
            groups_of.entry(user_id).or_default().push(group);
        }
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 ORDER BY name_lower");
        let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account)
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            let user = row.into_user(Vec::new())?;
            let tags = tags::load(&mut tx, &user.id).await?;
            details.users.push(UserDetail {
                inline: inline.remove(&user.id).unwrap_or_default(),
                attached: attached.remove(&user.id).unwrap_or_default(),
                groups: groups_of.remove(&user.id).unwrap_or_default(),
                user: crate::model::User { tags, ..user },
            });
        }
    }

    if query.groups {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM iam_groups g WHERE g.account_id = $1 ORDER BY g.name_lower"
        );
        let rows: Vec<GroupRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account)
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            let group = row.into_group()?;
            details.groups.push(GroupDetail {
                inline: inline.remove(&group.id).unwrap_or_default(),
                attached: attached.remove(&group.id).unwrap_or_default(),
                group,
            });
        }
    }

    if query.roles {
        let sql = format!(
            "SELECT {ROLE_COLUMNS} FROM roles r WHERE r.account_id = $1 ORDER BY r.name_lower"
        );
        let rows: Vec<RoleRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account)
            .fetch_all(&mut *tx)
            .await?;
        // A profile holds at most one role, so each profile belongs to one role's list.
        let sql = format!(
            "SELECT {PROFILE_COLUMNS}, ipr.role_id FROM instance_profiles ip \
             JOIN instance_profile_roles ipr ON ipr.profile_id = ip.profile_id \
             WHERE ip.account_id = $1 ORDER BY ip.name_lower"
        );
        let profile_rows: Vec<(String, ProfileRow)> = sqlx::query(AssertSqlSafe(sql))
            .bind(account)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|row| {
                use sqlx::{FromRow, Row};
                Ok((row.try_get("role_id")?, ProfileRow::from_row(&row)?))
            })
            .collect::<std::result::Result<_, sqlx::Error>>()?;
        let mut profiles_of: HashMap<String, Vec<ProfileRow>> = HashMap::new();
        for (role_id, profile) in profile_rows {
            profiles_of.entry(role_id).or_default().push(profile);
        }
        for row in rows {
            let role_id = row.id().to_owned();
            let tags = tags::load(&mut tx, &role_id).await?;
            let role = row.into_role(tags)?;
            let in_profile = crate::model::Role {
                tags: Vec::new(),
                ..role.clone()
            };
            let instance_profiles = profiles_of
                .remove(&role_id)
                .unwrap_or_default()
                .into_iter()
                .map(|profile| profile.into_profile(vec![in_profile.clone()], Vec::new()))
                .collect::<Result<_>>()?;
            details.roles.push(RoleDetail {
                inline: inline.remove(&role_id).unwrap_or_default(),
                attached: attached.remove(&role_id).unwrap_or_default(),
                instance_profiles,
                role,
            });
        }
    }

    if query.local_policies {
        let sql = format!(
            "SELECT {POLICY_COLUMNS} FROM managed_policies p WHERE p.account_id = $1 \
             ORDER BY p.name_lower"
        );
        let rows: Vec<PolicyRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account)
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            let policy = row.into_policy(Vec::new())?;
            let versions = versions(&mut tx, &policy.id, &policy.default_version_id).await?;
            details.policies.push(PolicyDetail { policy, versions });
        }
    }
    tx.commit().await?;
    Ok(details)
}

/// A policy's versions, newest first.
async fn versions(
    conn: &mut SqliteConnection,
    policy_id: &str,
    default_version: &str,
) -> Result<Vec<PolicyVersion>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT version_id, document, created_ms FROM policy_versions WHERE policy_id = $1 \
         ORDER BY version_number DESC",
    )
    .bind(policy_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(version_id, document, created_ms)| {
            Ok(PolicyVersion {
                is_default: version_id == default_version,
                version_id,
                document,
                created: from_ms(created_ms)?,
            })
        })
        .collect()
}

/// Every user of the account with its access keys (oldest first) and login profile, by user
/// name.
pub(super) async fn credentials(pool: &SqlitePool, account: &str) -> Result<Vec<UserCredentials>> {
    let mut tx = pool.begin().await?;
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 ORDER BY name_lower");
    let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .fetch_all(&mut *tx)
        .await?;
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM access_keys k JOIN users u ON u.user_id = k.user_id \
         WHERE k.account_id = $1 ORDER BY k.created_ms, k.access_key_id"
    );
    let keys: Vec<AccessKeyRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .fetch_all(&mut *tx)
        .await?;
    let sql = format!("SELECT {LOGIN_PROFILE_COLUMNS} FROM login_profiles WHERE account_id = $1");
    let profiles: Vec<LoginProfileRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut profile_of: HashMap<String, LoginProfileRow> = profiles
        .into_iter()
        .map(|row| (row.user_id.clone(), row))
        .collect();
    let mut keys_of: HashMap<String, Vec<crate::model::AccessKey>> = HashMap::new();
    for key in keys {
        let key = key.into_key()?;
        keys_of.entry(key.user_id.clone()).or_default().push(key);
    }
    rows.into_iter()
        .map(|row| {
            let user = row.into_user(Vec::new())?;
            let login_profile = profile_of
                .remove(&user.id)
                .map(|row| row.into_profile(user.name.clone()))
                .transpose()?;
            Ok(UserCredentials {
                access_keys: keys_of.remove(&user.id).unwrap_or_default(),
                login_profile,
                user,
            })
        })
        .collect()
}
