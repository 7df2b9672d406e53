//! Users' login profiles (console passwords): one per user, keyed by user ID.

use sqlx::{SqliteConnection, SqlitePool};

use super::{begin_write, fold, from_ms, now_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::LoginProfile;

/// A `login_profiles` row as both backends read it (the user's name comes from `users`).
pub(crate) const LOGIN_PROFILE_COLUMNS: &str =
    "user_id, created_ms, password_changed_ms, password_reset_required";

#[derive(sqlx::FromRow)]
pub(crate) struct LoginProfileRow {
    pub(crate) user_id: String,
    created_ms: i64,
    password_changed_ms: i64,
    password_reset_required: bool,
}

impl LoginProfileRow {
    pub(crate) fn into_profile(self, user_name: String) -> Result<LoginProfile> {
        Ok(LoginProfile {
            user_name,
            created: from_ms(self.created_ms)?,
            password_changed: from_ms(self.password_changed_ms)?,
            password_reset_required: self.password_reset_required,
        })
    }
}

/// The user's ID and current name, or `NotFound` for the user.
async fn user(conn: &mut SqliteConnection, account: &str, name: &str) -> Result<(String, String)> {
    sqlx::query_as("SELECT user_id, name FROM users WHERE account_id = $1 AND name_lower = $2")
        .bind(account)
        .bind(fold(name))
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::User, name))
}

fn missing(user: &str) -> StoreError {
    StoreError::not_found(EntityKind::LoginProfile, user)
}

pub(super) async fn create(
    pool: &SqlitePool,
    account: &str,
    name: &str,
    password_reset_required: bool,
) -> Result<LoginProfile> {
    let mut tx = begin_write(pool).await?;
    let (user_id, user_name) = user(&mut tx, account, name).await?;
    let now = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO login_profiles (user_id, account_id, created_ms, password_changed_ms, \
         password_reset_required) VALUES ($1, $2, $3, $3, $4) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(&user_id)
    .bind(account)
    .bind(now)
    .bind(password_reset_required)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(StoreError::already_exists(
            EntityKind::LoginProfile,
            &user_name,
        ));
    }
    tx.commit().await?;
    Ok(LoginProfile {
        user_name,
        created: from_ms(now)?,
        password_changed: from_ms(now)?,
        password_reset_required,
    })
}

pub(super) async fn get(pool: &SqlitePool, account: &str, name: &str) -> Result<LoginProfile> {
    let mut conn = pool.acquire().await?;
    let (user_id, user_name) = user(&mut conn, account, name).await?;
    let sql = format!("SELECT {LOGIN_PROFILE_COLUMNS} FROM login_profiles WHERE user_id = $1");
    let row: Option<LoginProfileRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(&user_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.ok_or_else(|| missing(&user_name))?
        .into_profile(user_name)
}

pub(super) async fn update(
    pool: &SqlitePool,
    account: &str,
    name: &str,
    password_changed: bool,
    password_reset_required: Option<bool>,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let (user_id, user_name) = user(&mut tx, account, name).await?;
    let result = sqlx::query(
        "UPDATE login_profiles SET \
         password_changed_ms = CASE WHEN $2 THEN $3 ELSE password_changed_ms END, \
         password_reset_required = COALESCE($4, password_reset_required) WHERE user_id = $1",
    )
    .bind(&user_id)
    .bind(password_changed)
    .bind(now_ms())
    .bind(password_reset_required)
    .execute(&mut *tx)
    .await?;
    if result.rows_affected() == 0 {
        return Err(missing(&user_name));
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn delete(pool: &SqlitePool, account: &str, name: &str) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let (user_id, user_name) = user(&mut tx, account, name).await?;
    let result = sqlx::query("DELETE FROM login_profiles WHERE user_id = $1")
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(missing(&user_name));
    }
    tx.commit().await?;
    Ok(())
}
