//! IAM roles.

use sqlx::{AssertSqlSafe, PgConnection};

use super::rows::{principal_id, require_boundary, require_row};
use super::{
    Db, begin_write, begin_write_of, delete_unless_in_use, fold, is_unique_violation, now_ms, tags,
    to_ms,
};
use crate::error::{Conflict, EntityKind, Result, StoreError};
use crate::ids;
use crate::model::{
    DEFAULT_MAX_SESSION_DURATION, NewRole, Principal, PrincipalBinding, Role, RoleUpdate, RoleUse,
    Topic,
};
use crate::page::{ListQuery, Page};
use crate::sqlite::rows::{ROLE_COLUMNS, RoleRow, encode_bindings};

pub(super) async fn create(db: &Db, account: &str, new: NewRole) -> Result<Role> {
    let id = ids::role_id();
    let arn = ids::iam_arn(account, "role", &new.path, &new.name);
    let created_ms = now_ms();
    let max_session = new
        .max_session_duration
        .unwrap_or(DEFAULT_MAX_SESSION_DURATION);
    let mut tx = begin_write(db, account).await?;
    require_boundary(&mut tx, account, new.permissions_boundary_arn.as_deref()).await?;
    sqlx::query(
        "INSERT INTO roles (role_id, account_id, name, name_lower, path, arn, created_ms, \
         assume_role_policy, description, max_session_duration, permissions_boundary_arn, \
         trust_principals) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(account)
    .bind(&new.name)
    .bind(fold(&new.name))
    .bind(&new.path)
    .bind(&arn)
    .bind(created_ms)
    .bind(&new.assume_role_policy)
    .bind(&new.description)
    .bind(i64::from(max_session))
    .bind(&new.permissions_boundary_arn)
    .bind(encode_bindings(&new.trust_principals))
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::Role, &new.name),
        false => e.into(),
    })?;
    tags::insert(&mut tx, account, "role", &id, &new.tags).await?;
    let role = load_by_id(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(role)
}

async fn with_tags(conn: &mut PgConnection, row: RoleRow) -> Result<Role> {
    let tags = tags::load(conn, row.id()).await?;
    row.into_role(tags)
}

async fn load_by_id(conn: &mut PgConnection, role_id: &str) -> Result<Role> {
    let sql = format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.role_id = $1");
    let row: RoleRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(role_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::Role, role_id))?;
    with_tags(conn, row).await
}

pub(super) async fn by_name(db: &Db, account: &str, name: &str) -> Result<Role> {
    let mut conn = db.pool.acquire().await?;
    let sql =
        format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.account_id = $1 AND r.name_lower = $2");
    let row: RoleRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(fold(name))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::Role, name))?;
    with_tags(&mut conn, row).await
}

pub(super) async fn by_id(db: &Db, role_id: &str) -> Result<Role> {
    load_by_id(&mut *db.pool.acquire().await?, role_id).await
}

pub(super) async fn list(db: &Db, account: &str, query: &ListQuery) -> Result<Page<Role>> {
    let (after, limit) = query.bounds()?;
    let sql = format!(
        "SELECT {ROLE_COLUMNS} FROM roles r WHERE r.account_id = $1 \
         AND substr(r.path, 1, length($2)) = $2 AND r.name_lower > $3 ORDER BY r.name_lower LIMIT $4"
    );
    let rows: Vec<RoleRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(&query.path_prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    let roles = rows
        .into_iter()
        .map(|row| row.into_role(Vec::new()))
        .collect::<Result<_>>()?;
    Ok(Page::from_rows(roles, query.max_items, |role: &Role| {
        fold(&role.name)
    }))
}

pub(super) async fn update(db: &Db, account: &str, name: &str, update: RoleUpdate) -> Result<()> {
    // COALESCE keeps members the caller left out. A write transaction although it is one
    // statement: its commit moves the change counter other processes' views watch.
    let mut tx = begin_write(db, account).await?;
    let result = sqlx::query(
        "UPDATE roles SET description = COALESCE($3, description), \
         max_session_duration = COALESCE($4, max_session_duration) \
         WHERE account_id = $1 AND name_lower = $2",
    )
    .bind(account)
    .bind(fold(name))
    .bind(update.description)
    .bind(update.max_session_duration.map(i64::from))
    .execute(&mut *tx)
    .await?;
    require_row(result, EntityKind::Role, name)?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn update_assume_role_policy(
    db: &Db,
    account: &str,
    name: &str,
    document: &str,
    bindings: &[PrincipalBinding],
) -> Result<()> {
    // A write transaction for its commit's move of the change counter (see `update`).
    let mut tx = begin_write(db, account).await?;
    let result = sqlx::query(
        "UPDATE roles SET assume_role_policy = $3, trust_principals = $4 \
         WHERE account_id = $1 AND name_lower = $2",
    )
    .bind(account)
    .bind(fold(name))
    .bind(document)
    .bind(encode_bindings(bindings))
    .execute(&mut *tx)
    .await?;
    require_row(result, EntityKind::Role, name)?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_boundary(
    db: &Db,
    account: &str,
    name: &str,
    boundary_arn: Option<&str>,
) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    require_boundary(&mut tx, account, boundary_arn).await?;
    let result = sqlx::query(
        "UPDATE roles SET permissions_boundary_arn = $3 WHERE account_id = $1 AND name_lower = $2",
    )
    .bind(account)
    .bind(fold(name))
    .bind(boundary_arn)
    .execute(&mut *tx)
    .await?;
    require_row(result, EntityKind::Role, name)?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn delete(db: &Db, account: &str, name: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let id = principal_id(&mut tx, account, Principal::Role(name)).await?;
    // AWS reports the first of these that applies, in this order.
    let checks = [
        (
            "SELECT COUNT(*) FROM instance_profile_roles WHERE role_id = $1",
            Conflict::InstanceProfileMembership,
        ),
        (
            "SELECT (SELECT COUNT(*) FROM policy_attachments WHERE principal_id = $1) \
             + (SELECT COUNT(*) FROM aws_policy_attachments WHERE principal_id = $1)",
            Conflict::AttachedPolicies,
        ),
        (
            "SELECT COUNT(*) FROM inline_policies WHERE principal_id = $1",
            Conflict::InlinePolicies,
        ),
    ];
    delete_unless_in_use(
        &mut tx,
        &id,
        &checks,
        "DELETE FROM roles WHERE role_id = $1",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn record_uses(db: &Db, uses: &[RoleUse]) -> Result<()> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut tx = begin_write_of(db, Topic::Bookkeeping).await?;
    for used in uses {
        sqlx::query(
            "UPDATE roles SET last_used_ms = $2, last_used_region = $3 \
             WHERE role_id = $1 AND (last_used_ms IS NULL OR last_used_ms < $2)",
        )
        .bind(&used.role_id)
        .bind(to_ms(used.at))
        .bind(&used.region)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
