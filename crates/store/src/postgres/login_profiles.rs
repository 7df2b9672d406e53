//! Users' login profiles (console passwords): one per user, keyed by user ID. Writes are IAM
//! writes of the account, under its lock, so DeleteUser's check for a profile and a profile's
//! creation never interleave.

use sqlx::{AssertSqlSafe, PgConnection};

use super::{Db, begin_write, fold, now_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::LoginProfile;
use crate::sqlite::login_profiles::{LOGIN_PROFILE_COLUMNS, LoginProfileRow};

/// The user's ID and current name, or `NotFound` for the user.
async fn user(conn: &mut PgConnection, account: &str, name: &str) -> Result<(String, String)> {
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
    db: &Db,
    account: &str,
    name: &str,
    password_reset_required: bool,
) -> Result<LoginProfile> {
    let mut tx = begin_write(db, account).await?;
    let (user_id, user_name) = user(&mut tx, account, name).await?;
    let now = now_ms();
    let sql = format!(
        "INSERT INTO login_profiles (user_id, account_id, created_ms, password_changed_ms, \
         password_reset_required) VALUES ($1, $2, $3, $3, $4) ON CONFLICT (user_id) DO NOTHING \
         RETURNING {LOGIN_PROFILE_COLUMNS}"
    );
    let inserted: Option<LoginProfileRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&user_id)
        .bind(account)
        .bind(now)
        .bind(password_reset_required)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = inserted else {
        return Err(StoreError::already_exists(
            EntityKind::LoginProfile,
            &user_name,
        ));
    };
    tx.commit().await?;
    row.into_profile(user_name)
}

pub(super) async fn get(db: &Db, account: &str, name: &str) -> Result<LoginProfile> {
    // Two statements that must agree: the user as named, and its profile.
    let mut tx = super::begin_read(db).await?;
    let (user_id, user_name) = user(&mut tx, account, name).await?;
    let sql = format!("SELECT {LOGIN_PROFILE_COLUMNS} FROM login_profiles WHERE user_id = $1");
    let row: Option<LoginProfileRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&user_id)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    row.ok_or_else(|| missing(&user_name))?
        .into_profile(user_name)
}

pub(super) async fn update(
    db: &Db,
    account: &str,
    name: &str,
    password_changed: bool,
    password_reset_required: Option<bool>,
) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
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

pub(super) async fn delete(db: &Db, account: &str, name: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
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
