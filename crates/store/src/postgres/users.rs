//! IAM users.

use sqlx::{AssertSqlSafe, PgConnection};

use super::rows::{require_boundary, require_row};
use super::{Db, begin_write, delete_unless_in_use, fold, is_unique_violation, now_ms, tags};
use crate::error::{Conflict, EntityKind, Result, StoreError};
use crate::ids;
use crate::model::{NewUser, User, UserUpdate};
use crate::page::{ListQuery, Page};
use crate::sqlite::rows::{USER_COLUMNS, UserRow};

pub(super) async fn create(db: &Db, account: &str, new: NewUser) -> Result<User> {
    let id = ids::user_id();
    let arn = ids::iam_arn(account, "user", &new.path, &new.name);
    let created_ms = now_ms();
    let mut tx = begin_write(db, account).await?;
    require_boundary(&mut tx, account, new.permissions_boundary_arn.as_deref()).await?;
    sqlx::query(
        "INSERT INTO users (user_id, account_id, name, name_lower, path, arn, created_ms, \
         permissions_boundary_arn) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(account)
    .bind(&new.name)
    .bind(fold(&new.name))
    .bind(&new.path)
    .bind(&arn)
    .bind(created_ms)
    .bind(&new.permissions_boundary_arn)
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::User, &new.name),
        false => e.into(),
    })?;
    tags::insert(&mut tx, account, "user", &id, &new.tags).await?;
    let user = load(&mut tx, account, &new.name).await?;
    tx.commit().await?;
    Ok(user)
}

/// The user with its tags, read on `conn`.
pub(super) async fn load(conn: &mut PgConnection, account: &str, name: &str) -> Result<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 AND name_lower = $2");
    let row: UserRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(fold(name))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::User, name))?;
    let user = row.into_user(Vec::new())?;
    let tags = tags::load(conn, &user.id).await?;
    Ok(User { tags, ..user })
}

pub(super) async fn by_name(db: &Db, account: &str, name: &str) -> Result<User> {
    load(&mut *db.pool.acquire().await?, account, name).await
}

pub(super) async fn list(db: &Db, account: &str, query: &ListQuery) -> Result<Page<User>> {
    let (after, limit) = query.bounds()?;
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE account_id = $1 \
         AND substr(path, 1, length($2)) = $2 AND name_lower > $3 ORDER BY name_lower LIMIT $4"
    );
    let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .bind(&query.path_prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    let users = rows
        .into_iter()
        .map(|row| row.into_user(Vec::new()))
        .collect::<Result<_>>()?;
    Ok(Page::from_rows(users, query.max_items, |user: &User| {
        fold(&user.name)
    }))
}

pub(super) async fn delete(db: &Db, account: &str, name: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let id: String =
        sqlx::query_scalar("SELECT user_id FROM users WHERE account_id = $1 AND name_lower = $2")
            .bind(account)
            .bind(fold(name))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found(EntityKind::User, name))?;
    let checks = [
        (
            "SELECT COUNT(*) FROM access_keys WHERE user_id = $1",
            Conflict::AccessKeys,
        ),
        (
            "SELECT COUNT(*) FROM login_profiles WHERE user_id = $1",
            Conflict::LoginProfile,
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
        (
            "SELECT COUNT(*) FROM iam_group_members WHERE user_id = $1",
            Conflict::GroupMembership,
        ),
    ];
    delete_unless_in_use(
        &mut tx,
        &id,
        &checks,
        "DELETE FROM users WHERE user_id = $1",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Renames the user and/or moves it to another path. Its ID stays, and with it everything
/// kept by ID: access keys, inline and attached policies, tags; its ARN follows the new name
/// and path. A new name taken by another user (case-insensitively) is `AlreadyExists`.
pub(super) async fn update(db: &Db, account: &str, name: &str, update: UserUpdate) -> Result<User> {
    let mut tx = begin_write(db, account).await?;
    let current = load(&mut tx, account, name).await?;
    let new_name = update.new_name.unwrap_or(current.name);
    let new_path = update.new_path.unwrap_or(current.path);
    let arn = ids::iam_arn(account, "user", &new_path, &new_name);
    sqlx::query(
        "UPDATE users SET name = $2, name_lower = $3, path = $4, arn = $5 WHERE user_id = $1",
    )
    .bind(&current.id)
    .bind(&new_name)
    .bind(fold(&new_name))
    .bind(&new_path)
    .bind(&arn)
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::User, &new_name),
        false => e.into(),
    })?;
    let user = load(&mut tx, account, &new_name).await?;
    tx.commit().await?;
    Ok(user)
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
        "UPDATE users SET permissions_boundary_arn = $3 WHERE account_id = $1 AND name_lower = $2",
    )
    .bind(account)
    .bind(fold(name))
    .bind(boundary_arn)
    .execute(&mut *tx)
    .await?;
    require_row(result, EntityKind::User, name)?;
    tx.commit().await?;
    Ok(())
}
