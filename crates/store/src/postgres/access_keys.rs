//! Access keys of users. The secret arrives and leaves encrypted by the caller.

use sqlx::AssertSqlSafe;

use super::rows::{principal_id, require_row};
use super::{Db, begin_write, begin_write_of, is_unique_violation, now_ms, tags, to_ms};
use crate::error::{EntityKind, Quota, Result, StoreError};
use crate::model::{
    AccessKey, AccessKeyStatus, AccessKeyUse, NewAccessKey, Principal, Topic, User,
};
use crate::sqlite::access_keys::KEY_COLUMNS;
use crate::sqlite::rows::{AccessKeyRow, USER_COLUMNS, UserRow};
use crate::store::ACCESS_KEYS_PER_USER;

pub(super) async fn create(
    db: &Db,
    account: &str,
    user_name: &str,
    new: NewAccessKey,
) -> Result<AccessKey> {
    let created_ms = now_ms();
    let mut tx = begin_write(db, account).await?;
    let user_id = principal_id(&mut tx, account, Principal::User(user_name)).await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_keys WHERE user_id = $1")
        .bind(&user_id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= ACCESS_KEYS_PER_USER as i64 {
        return Err(StoreError::limit(Quota::AccessKeysPerUser(
            ACCESS_KEYS_PER_USER,
        )));
    }
    sqlx::query(
        "INSERT INTO access_keys (access_key_id, account_id, user_id, status, secret_ciphertext, \
         created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&new.access_key_id)
    .bind(account)
    .bind(&user_id)
    .bind(AccessKeyStatus::Active.as_str())
    .bind(&new.secret_ciphertext)
    .bind(created_ms)
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::AccessKey, &new.access_key_id),
        false => e.into(),
    })?;
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM access_keys k JOIN users u ON u.user_id = k.user_id \
         WHERE k.access_key_id = $1"
    );
    let row: AccessKeyRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&new.access_key_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    row.into_key()
}

/// Hot path: one indexed join for the key and its user, one for the user's tags.
pub(super) async fn with_user(db: &Db, access_key_id: &str) -> Result<(AccessKey, User)> {
    let mut conn = db.pool.acquire().await?;
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM access_keys k JOIN users u ON u.user_id = k.user_id \
         WHERE k.access_key_id = $1"
    );
    let key = sqlx::query_as::<_, AccessKeyRow>(AssertSqlSafe(sql))
        .bind(access_key_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::AccessKey, access_key_id))?
        .into_key()?;
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = $1");
    let user_row: UserRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&key.user_id)
        .fetch_one(&mut *conn)
        .await?;
    let tags = tags::load(&mut conn, &key.user_id).await?;
    Ok((key, user_row.into_user(tags)?))
}

pub(super) async fn list(db: &Db, account: &str, user_name: &str) -> Result<Vec<AccessKey>> {
    let mut conn = db.pool.acquire().await?;
    let user_id = principal_id(&mut conn, account, Principal::User(user_name)).await?;
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM access_keys k JOIN users u ON u.user_id = k.user_id \
         WHERE k.user_id = $1 ORDER BY k.created_ms, k.access_key_id"
    );
    let rows: Vec<AccessKeyRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&user_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(AccessKeyRow::into_key).collect()
}

pub(super) async fn set_status(
    db: &Db,
    account: &str,
    user_name: &str,
    access_key_id: &str,
    status: AccessKeyStatus,
) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let user_id = principal_id(&mut tx, account, Principal::User(user_name)).await?;
    let result =
        sqlx::query("UPDATE access_keys SET status = $3 WHERE access_key_id = $1 AND user_id = $2")
            .bind(access_key_id)
            .bind(&user_id)
            .bind(status.as_str())
            .execute(&mut *tx)
            .await?;
    require_row(result, EntityKind::AccessKey, access_key_id)?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn delete(
    db: &Db,
    account: &str,
    user_name: &str,
    access_key_id: &str,
) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let user_id = principal_id(&mut tx, account, Principal::User(user_name)).await?;
    let result = sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1 AND user_id = $2")
        .bind(access_key_id)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    require_row(result, EntityKind::AccessKey, access_key_id)?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn record_uses(db: &Db, uses: &[AccessKeyUse]) -> Result<()> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut tx = begin_write_of(db, Topic::Bookkeeping).await?;
    for used in uses {
        sqlx::query(
            "UPDATE access_keys SET last_used_ms = $2, last_used_service = $3, \
             last_used_region = $4 \
             WHERE access_key_id = $1 AND (last_used_ms IS NULL OR last_used_ms < $2)",
        )
        .bind(&used.access_key_id)
        .bind(to_ms(used.at))
        .bind(&used.service)
        .bind(&used.region)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
