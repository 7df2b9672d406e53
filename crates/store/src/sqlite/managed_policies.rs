//! Customer managed policies, their versions, their attachments to roles and users, and the
//! one-call read of a principal's identity policies.

use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};

use super::rows::{POLICY_COLUMNS, PolicyRow, is_aws_managed, principal_id, require_row};
use super::{begin_write, fold, from_ms, is_unique_violation, now_ms, tags};
use crate::error::{Conflict, EntityKind, Quota, Result, StoreError};
use crate::ids;
use crate::model::{
    AttachedPolicy, AwsPolicyUsage, IdentityPolicies, InlinePolicy, ManagedDocument, ManagedPolicy,
    NewPolicy, PolicyVersion, Principal,
};
use crate::page::{ListQuery, Page};
use crate::store::{MANAGED_POLICIES_PER_PRINCIPAL, VERSIONS_PER_POLICY};

/// The fields of a policy a write needs to check its preconditions.
#[derive(sqlx::FromRow)]
struct PolicyHead {
    policy_id: String,
    default_version_id: String,
    next_version: i64,
}

/// Every lookup by ARN names the owning account too, so an ARN of another account finds
/// nothing whatever the caller passes.
async fn head(conn: &mut SqliteConnection, account: &str, arn: &str) -> Result<PolicyHead> {
    sqlx::query_as(
        "SELECT policy_id, default_version_id, next_version FROM managed_policies \
         WHERE account_id = $1 AND arn = $2",
    )
    .bind(account)
    .bind(arn)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::not_found(EntityKind::Policy, arn))
}

async fn load(conn: &mut SqliteConnection, account: &str, arn: &str) -> Result<ManagedPolicy> {
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM managed_policies p WHERE p.account_id = $1 AND p.arn = $2"
    );
    let row: PolicyRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(arn)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::Policy, arn))?;
    let policy = row.into_policy(Vec::new())?;
    let tags = tags::load(conn, &policy.id).await?;
    Ok(ManagedPolicy { tags, ..policy })
}

pub(super) async fn create(
    pool: &SqlitePool,
    account: &str,
    new: NewPolicy,
) -> Result<ManagedPolicy> {
    let id = ids::policy_id();
    let arn = ids::iam_arn(account, "policy", &new.path, &new.name);
    let now = now_ms();
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO managed_policies (policy_id, account_id, name, name_lower, path, arn, \
         default_version_id, next_version, description, created_ms, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, 'v1', 2, $7, $8, $8)",
    )
    .bind(&id)
    .bind(account)
    .bind(&new.name)
    .bind(fold(&new.name))
    .bind(&new.path)
    .bind(&arn)
    .bind(&new.description)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::Policy, &new.name),
        false => e.into(),
    })?;
    insert_version(&mut tx, account, &id, 1, &new.document, now).await?;
    tags::insert(&mut tx, account, "policy", &id, &new.tags).await?;
    let policy = load(&mut tx, account, &arn).await?;
    tx.commit().await?;
    Ok(policy)
}

async fn insert_version(
    conn: &mut SqliteConnection,
    account: &str,
    policy_id: &str,
    number: i64,
    document: &str,
    created_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO policy_versions (policy_id, account_id, version_id, version_number, document, \
         created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(policy_id)
    .bind(account)
    .bind(format!("v{number}"))
    .bind(number)
    .bind(document)
    .bind(created_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn by_arn(pool: &SqlitePool, account: &str, arn: &str) -> Result<ManagedPolicy> {
    load(&mut *pool.acquire().await?, account, arn).await
}

pub(super) async fn list(
    pool: &SqlitePool,
    account: &str,
    query: &ListQuery,
    only_attached: bool,
) -> Result<Page<ManagedPolicy>> {
    let (after, limit) = query.bounds()?;
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM managed_policies p WHERE p.account_id = $1 \
         AND substr(p.path, 1, length($2)) = $2 AND p.name_lower > $3 \
         AND (NOT $5 OR EXISTS (SELECT 1 FROM policy_attachments a WHERE a.policy_id = p.policy_id)) \
         ORDER BY p.name_lower LIMIT $4"
    );
    let rows: Vec<PolicyRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(&query.path_prefix)
        .bind(after)
        .bind(limit)
        .bind(only_attached)
        .fetch_all(pool)
        .await?;
    let policies = rows
        .into_iter()
        .map(|row| row.into_policy(Vec::new()))
        .collect::<Result<_>>()?;
    Ok(Page::from_rows(
        policies,
        query.max_items,
        |policy: &ManagedPolicy| fold(&policy.name),
    ))
}

pub(super) async fn delete(pool: &SqlitePool, account: &str, arn: &str) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let policy = head(&mut tx, account, arn).await?;
    let in_use: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM policy_attachments WHERE policy_id = $1) \
         + (SELECT COUNT(*) FROM roles WHERE account_id = $3 AND permissions_boundary_arn = $2) \
         + (SELECT COUNT(*) FROM users WHERE account_id = $3 AND permissions_boundary_arn = $2)",
    )
    .bind(&policy.policy_id)
    .bind(arn)
    .bind(account)
    .fetch_one(&mut *tx)
    .await?;
    if in_use > 0 {
        return Err(StoreError::conflict(Conflict::PolicyInUse));
    }
    let versions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM policy_versions WHERE policy_id = $1")
            .bind(&policy.policy_id)
            .fetch_one(&mut *tx)
            .await?;
    if versions > 1 {
        return Err(StoreError::conflict(Conflict::PolicyVersions));
    }
    tags::delete_all(&mut tx, &policy.policy_id).await?;
    sqlx::query("DELETE FROM policy_versions WHERE policy_id = $1")
        .bind(&policy.policy_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM managed_policies WHERE policy_id = $1")
        .bind(&policy.policy_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn create_version(
    pool: &SqlitePool,
    account: &str,
    arn: &str,
    document: &str,
    set_as_default: bool,
) -> Result<PolicyVersion> {
    let now = now_ms();
    let mut tx = begin_write(pool).await?;
    let policy = head(&mut tx, account, arn).await?;
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM policy_versions WHERE policy_id = $1")
            .bind(&policy.policy_id)
            .fetch_one(&mut *tx)
            .await?;
    if count >= VERSIONS_PER_POLICY as i64 {
        return Err(StoreError::limit(Quota::PolicyVersions(
            VERSIONS_PER_POLICY,
        )));
    }
    let number = policy.next_version;
    let version_id = format!("v{number}");
    insert_version(&mut tx, account, &policy.policy_id, number, document, now).await?;
    // UpdateDate is the creation time of the newest version, as AWS documents it.
    sqlx::query(
        "UPDATE managed_policies SET next_version = $2, updated_ms = $3, \
         default_version_id = CASE WHEN $4 THEN $5 ELSE default_version_id END \
         WHERE policy_id = $1",
    )
    .bind(&policy.policy_id)
    .bind(number + 1)
    .bind(now)
    .bind(set_as_default)
    .bind(&version_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(PolicyVersion {
        version_id,
        document: document.to_owned(),
        is_default: set_as_default,
        created: from_ms(now)?,
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    version_id: String,
    document: String,
    is_default: bool,
    created_ms: i64,
}

impl VersionRow {
    pub(crate) fn into_version(self) -> Result<PolicyVersion> {
        Ok(PolicyVersion {
            version_id: self.version_id,
            document: self.document,
            is_default: self.is_default,
            created: from_ms(self.created_ms)?,
        })
    }
}

pub(crate) const VERSION_COLUMNS: &str =
    "v.version_id, v.document, (v.version_id = p.default_version_id) AS is_default, v.created_ms";

pub(super) async fn version(
    pool: &SqlitePool,
    account: &str,
    arn: &str,
    version_id: &str,
) -> Result<PolicyVersion> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM policy_versions v \
         JOIN managed_policies p ON p.policy_id = v.policy_id \
         WHERE p.account_id = $3 AND p.arn = $1 AND v.version_id = $2"
    );
    let row: VersionRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(arn)
        .bind(version_id)
        .bind(account)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| {
            StoreError::not_found(
                EntityKind::PolicyVersion {
                    policy_arn: arn.to_owned(),
                },
                version_id,
            )
        })?;
    row.into_version()
}

pub(super) async fn versions(
    pool: &SqlitePool,
    account: &str,
    arn: &str,
) -> Result<Vec<PolicyVersion>> {
    let mut conn = pool.acquire().await?;
    let policy = head(&mut conn, account, arn).await?;
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM policy_versions v \
         JOIN managed_policies p ON p.policy_id = v.policy_id \
         WHERE v.policy_id = $1 ORDER BY v.version_number DESC"
    );
    let rows: Vec<VersionRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&policy.policy_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(VersionRow::into_version).collect()
}

fn version_not_found(arn: &str, version_id: &str) -> StoreError {
    StoreError::not_found(
        EntityKind::PolicyVersion {
            policy_arn: arn.to_owned(),
        },
        version_id,
    )
}

pub(super) async fn set_default_version(
    pool: &SqlitePool,
    account: &str,
    arn: &str,
    version_id: &str,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    // A missing policy is a missing version of it, as IAM words it (recorded AWS answer:
    // `Policy ARN version v1 does not exist or is not attachable.`).
    let policy = match head(&mut tx, account, arn).await {
        Err(StoreError::NotFound { .. }) => return Err(version_not_found(arn, version_id)),
        other => other?,
    };
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM policy_versions WHERE policy_id = $1 AND version_id = $2",
    )
    .bind(&policy.policy_id)
    .bind(version_id)
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Err(version_not_found(arn, version_id));
    }
    sqlx::query("UPDATE managed_policies SET default_version_id = $2 WHERE policy_id = $1")
        .bind(&policy.policy_id)
        .bind(version_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn delete_version(
    pool: &SqlitePool,
    account: &str,
    arn: &str,
    version_id: &str,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let policy = head(&mut tx, account, arn).await?;
    if policy.default_version_id == version_id {
        return Err(StoreError::conflict(Conflict::DefaultVersion));
    }
    let result =
        sqlx::query("DELETE FROM policy_versions WHERE policy_id = $1 AND version_id = $2")
            .bind(&policy.policy_id)
            .bind(version_id)
            .execute(&mut *tx)
            .await?;
    if result.rows_affected() == 0 {
        return Err(version_not_found(arn, version_id));
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn attach(
    pool: &SqlitePool,
    account: &str,
    principal: Principal<'_>,
    arn: &str,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let owner = principal_id(&mut tx, account, principal).await?;
    let already: i64 = if is_aws_managed(arn) {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM aws_policy_attachments WHERE principal_id = $1 AND policy_arn = $2",
        )
        .bind(&owner)
        .bind(arn)
        .fetch_one(&mut *tx)
        .await?
    } else {
        let policy_id = customer_policy_id(&mut tx, account, arn).await?;
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM policy_attachments WHERE principal_id = $1 AND policy_id = $2",
        )
        .bind(&owner)
        .bind(&policy_id)
        .fetch_one(&mut *tx)
        .await?
    };
    if already > 0 {
        return Ok(()); // AWS treats a repeated attach as success.
    }
    let attached: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM policy_attachments WHERE principal_id = $1) \
         + (SELECT COUNT(*) FROM aws_policy_attachments WHERE principal_id = $1)",
    )
    .bind(&owner)
    .fetch_one(&mut *tx)
    .await?;
    if attached >= MANAGED_POLICIES_PER_PRINCIPAL as i64 {
        let quota = match principal {
            Principal::Role(_) => Quota::PoliciesPerRole(MANAGED_POLICIES_PER_PRINCIPAL),
            Principal::User(_) => Quota::PoliciesPerUser(MANAGED_POLICIES_PER_PRINCIPAL),
            Principal::Group(_) => Quota::PoliciesPerGroup(MANAGED_POLICIES_PER_PRINCIPAL),
        };
        return Err(StoreError::limit(quota));
    }
    if is_aws_managed(arn) {
        // The name and path are the ARN's last segment and what precedes it after `policy`.
        let resource = arn.split_once(":policy").map_or("/", |(_, r)| r);
        let (path, name) = resource.rsplit_once('/').unwrap_or(("", resource));
        sqlx::query(
            "INSERT INTO aws_policy_attachments (principal_id, account_id, policy_arn, \
             policy_name, name_lower, path) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&owner)
        .bind(account)
        .bind(arn)
        .bind(name)
        .bind(fold(name))
        .bind(format!("{path}/"))
        .execute(&mut *tx)
        .await?;
    } else {
        let policy_id = customer_policy_id(&mut tx, account, arn).await?;
        sqlx::query(
            "INSERT INTO policy_attachments (principal_id, policy_id, account_id) \
             VALUES ($1, $2, $3)",
        )
        .bind(&owner)
        .bind(&policy_id)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn customer_policy_id(
    conn: &mut SqliteConnection,
    account: &str,
    arn: &str,
) -> Result<String> {
    sqlx::query_scalar("SELECT policy_id FROM managed_policies WHERE arn = $1 AND account_id = $2")
        .bind(arn)
        .bind(account)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::AttachablePolicy, arn))
}

pub(super) async fn detach(
    pool: &SqlitePool,
    account: &str,
    principal: Principal<'_>,
    arn: &str,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let owner = principal_id(&mut tx, account, principal).await?;
    let sql = match is_aws_managed(arn) {
        true => {
            "DELETE FROM aws_policy_attachments WHERE principal_id = $1 AND policy_arn = $2 \
             AND account_id = $3"
        }
        false => {
            "DELETE FROM policy_attachments WHERE principal_id = $1 AND policy_id = \
             (SELECT policy_id FROM managed_policies WHERE account_id = $3 AND arn = $2)"
        }
    };
    let result = sqlx::query(sql)
        .bind(&owner)
        .bind(arn)
        .bind(account)
        .execute(&mut *tx)
        .await?;
    require_row(result, EntityKind::Policy, arn)?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn list_attached(
    pool: &SqlitePool,
    account: &str,
    principal: Principal<'_>,
    query: &ListQuery,
) -> Result<Page<AttachedPolicy>> {
    let (after, limit) = query.bounds()?;
    let mut conn = pool.acquire().await?;
    let owner = principal_id(&mut conn, account, principal).await?;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, arn FROM ( \
           SELECT p.name, p.arn, p.name_lower, p.path FROM policy_attachments a \
           JOIN managed_policies p ON p.policy_id = a.policy_id WHERE a.principal_id = $1 \
           UNION ALL \
           SELECT policy_name, policy_arn, name_lower, path FROM aws_policy_attachments \
           WHERE principal_id = $1) \
         WHERE substr(path, 1, length($2)) = $2 AND name_lower > $3 \
         ORDER BY name_lower LIMIT $4",
    )
    .bind(&owner)
    .bind(&query.path_prefix)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let attached = rows
        .into_iter()
        .map(|(name, arn)| AttachedPolicy { name, arn })
        .collect();
    Ok(Page::from_rows(
        attached,
        query.max_items,
        |policy: &AttachedPolicy| fold(&policy.name),
    ))
}

/// Where a row of the identity-policy read comes from.
const FROM_INLINE: i64 = 0;
const FROM_ATTACHED: i64 = 1;
const FROM_BOUNDARY: i64 = 2;
/// A marker row proving the principal exists, so "no policies" and "no principal" differ.
const PRINCIPAL_EXISTS: i64 = 3;
const FROM_GROUP_INLINE: i64 = 4;

/// One statement, hence one consistent snapshot, for everything the policy engine needs. A
/// user's groups take part: their inline policies, and their attachments beside the user's own
/// (a policy attached twice counts once).
const IDENTITY_POLICIES_SQL: &str = "\
    SELECT 0 AS source, name, document, size FROM inline_policies WHERE principal_id = $1 \
    UNION ALL \
    SELECT DISTINCT 1, p.arn, v.document, 0 FROM policy_attachments a \
      JOIN managed_policies p ON p.policy_id = a.policy_id \
      JOIN policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version_id \
      WHERE a.principal_id = $1 \
         OR a.principal_id IN (SELECT group_id FROM iam_group_members WHERE user_id = $1) \
    UNION ALL \
    SELECT 4, i.name, i.document, i.size FROM inline_policies i \
      JOIN iam_group_members m ON m.group_id = i.principal_id \
      WHERE m.user_id = $1 \
    UNION ALL \
    SELECT DISTINCT 1, policy_arn, NULL, 0 FROM aws_policy_attachments \
      WHERE principal_id = $1 \
         OR principal_id IN (SELECT group_id FROM iam_group_members WHERE user_id = $1) \
    UNION ALL \
    SELECT 2, b.arn, v.document, 0 FROM ( \
        SELECT permissions_boundary_arn AS arn FROM roles WHERE role_id = $1 \
        UNION ALL SELECT permissions_boundary_arn FROM users WHERE user_id = $1) b \
      LEFT JOIN managed_policies p ON p.arn = b.arn \
      LEFT JOIN policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version_id \
      WHERE b.arn IS NOT NULL \
    UNION ALL \
    SELECT 3, role_id, NULL, 0 FROM roles WHERE role_id = $1 \
    UNION ALL \
    SELECT 3, user_id, NULL, 0 FROM users WHERE user_id = $1 \
    UNION ALL \
    SELECT 3, group_id, NULL, 0 FROM iam_groups WHERE group_id = $1 \
    ORDER BY 1, 2";

pub(super) async fn identity_policies(
    pool: &SqlitePool,
    principal_id: &str,
) -> Result<IdentityPolicies> {
    let rows: Vec<(i64, String, Option<String>, i64)> = sqlx::query_as(IDENTITY_POLICIES_SQL)
        .bind(principal_id)
        .fetch_all(pool)
        .await?;
    let mut policies = IdentityPolicies::default();
    let mut exists = false;
    for (source, name, document, size) in rows {
        match source {
            FROM_INLINE => policies.inline.push(InlinePolicy {
                name,
                document: document.unwrap_or_default(),
                size: u64::try_from(size).unwrap_or(0),
            }),
            FROM_ATTACHED => policies.managed.push(ManagedDocument {
                arn: name,
                document,
            }),
            FROM_BOUNDARY => {
                policies.permissions_boundary = Some(ManagedDocument {
                    arn: name,
                    document,
                })
            }
            FROM_GROUP_INLINE => policies.group_inline.push(InlinePolicy {
                name,
                document: document.unwrap_or_default(),
                size: u64::try_from(size).unwrap_or(0),
            }),
            PRINCIPAL_EXISTS => exists = true,
            _ => {}
        }
    }
    if !exists {
        let kind = if principal_id.starts_with("AIDA") {
            EntityKind::User
        } else if principal_id.starts_with("AGPA") {
            EntityKind::Group
        } else {
            EntityKind::Role
        };
        return Err(StoreError::not_found(kind, principal_id));
    }
    Ok(policies)
}

/// Per AWS managed policy the account uses: its attachments and the boundaries it sets, in this
/// account only (AWS counts the caller's account alone).
pub(super) async fn aws_policy_usage(
    pool: &SqlitePool,
    account: &str,
) -> Result<Vec<AwsPolicyUsage>> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT arn, SUM(attached), SUM(bounds) FROM ( \
           SELECT policy_arn AS arn, 1 AS attached, 0 AS bounds FROM aws_policy_attachments \
           WHERE account_id = $1 \
           UNION ALL SELECT permissions_boundary_arn, 0, 1 FROM roles \
           WHERE account_id = $1 AND permissions_boundary_arn LIKE 'arn:%:iam::aws:policy/%' \
           UNION ALL SELECT permissions_boundary_arn, 0, 1 FROM users \
           WHERE account_id = $1 AND permissions_boundary_arn LIKE 'arn:%:iam::aws:policy/%') \
         GROUP BY arn ORDER BY arn",
    )
    .bind(account)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(arn, attachments, boundaries)| AwsPolicyUsage {
            arn,
            attachments: u32::try_from(attachments).unwrap_or(u32::MAX),
            boundaries: u32::try_from(boundaries).unwrap_or(u32::MAX),
        })
        .collect())
}
