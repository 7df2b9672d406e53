//! Inline policies of roles, users and groups, with the aggregate size quota enforced in the write.

use super::rows::{principal_id, require_row};
use super::{Db, begin_write, fold};
use crate::error::{EntityKind, Quota, Result, StoreError};
use crate::model::{InlinePolicy, Principal};
use crate::page::{ListQuery, Page};

fn policy_kind(principal: Principal<'_>) -> EntityKind {
    match principal {
        Principal::Role(_) => EntityKind::RolePolicy,
        Principal::User(_) => EntityKind::UserPolicy,
        Principal::Group(_) => EntityKind::GroupPolicy,
    }
}

fn size_quota(principal: Principal<'_>, max: u64) -> Quota {
    match principal {
        Principal::Role(role) => Quota::RoleInlinePolicySize {
            max,
            role: role.to_owned(),
        },
        Principal::User(user) => Quota::UserInlinePolicySize {
            max,
            user: user.to_owned(),
        },
        Principal::Group(group) => Quota::GroupInlinePolicySize {
            max,
            group: group.to_owned(),
        },
    }
}

pub(super) async fn put(
    db: &Db,
    account: &str,
    principal: Principal<'_>,
    policy: InlinePolicy,
    max_total_size: u64,
) -> Result<()> {
    let name_lower = fold(&policy.name);
    let size = i64::try_from(policy.size).unwrap_or(i64::MAX);
    let mut tx = begin_write(db, account).await?;
    let owner = principal_id(&mut tx, account, principal).await?;
    // The policy being replaced does not count against its successor.
    let others: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(size), 0)::BIGINT FROM inline_policies \
         WHERE principal_id = $1 AND name_lower <> $2",
    )
    .bind(&owner)
    .bind(&name_lower)
    .fetch_one(&mut *tx)
    .await?;
    if u64::try_from(others.saturating_add(size)).unwrap_or(u64::MAX) > max_total_size {
        return Err(StoreError::limit(size_quota(principal, max_total_size)));
    }
    sqlx::query(
        "INSERT INTO inline_policies (principal_id, account_id, name, name_lower, document, size) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (principal_id, name_lower) \
         DO UPDATE SET name = excluded.name, document = excluded.document, size = excluded.size",
    )
    .bind(&owner)
    .bind(account)
    .bind(&policy.name)
    .bind(&name_lower)
    .bind(&policy.document)
    .bind(size)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn get(
    db: &Db,
    account: &str,
    principal: Principal<'_>,
    policy_name: &str,
) -> Result<InlinePolicy> {
    let mut conn = db.pool.acquire().await?;
    let owner = principal_id(&mut conn, account, principal).await?;
    let row: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT name, document, size FROM inline_policies WHERE principal_id = $1 AND name_lower = $2",
    )
    .bind(&owner)
    .bind(fold(policy_name))
    .fetch_optional(&mut *conn)
    .await?;
    let (name, document, size) =
        row.ok_or_else(|| StoreError::not_found(policy_kind(principal), policy_name))?;
    Ok(InlinePolicy {
        name,
        document,
        size: u64::try_from(size).unwrap_or(0),
    })
}

pub(super) async fn list(
    db: &Db,
    account: &str,
    principal: Principal<'_>,
    query: &ListQuery,
) -> Result<Page<String>> {
    let (after, limit) = query.bounds()?;
    let mut conn = db.pool.acquire().await?;
    let owner = principal_id(&mut conn, account, principal).await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM inline_policies WHERE principal_id = $1 AND name_lower > $2 \
         ORDER BY name_lower LIMIT $3",
    )
    .bind(&owner)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Page::from_rows(names, query.max_items, |name: &String| {
        fold(name)
    }))
}

pub(super) async fn delete(
    db: &Db,
    account: &str,
    principal: Principal<'_>,
    policy_name: &str,
) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let owner = principal_id(&mut tx, account, principal).await?;
    let result =
        sqlx::query("DELETE FROM inline_policies WHERE principal_id = $1 AND name_lower = $2")
            .bind(&owner)
            .bind(fold(policy_name))
            .execute(&mut *tx)
            .await?;
    require_row(result, policy_kind(principal), policy_name)?;
    tx.commit().await?;
    Ok(())
}
