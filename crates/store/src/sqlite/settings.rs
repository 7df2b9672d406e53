//! A small key/value store per account (metadata defaults and the like).

use sqlx::SqlitePool;

use crate::error::Result;

pub(super) async fn get(pool: &SqlitePool, account: &str, key: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE account_id = $1 AND key = $2")
            .bind(account)
            .bind(key)
            .fetch_optional(pool)
            .await?,
    )
}

pub(super) async fn put(pool: &SqlitePool, account: &str, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (account_id, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value",
    )
    .bind(account)
    .bind(key)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn delete(pool: &SqlitePool, account: &str, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM settings WHERE account_id = $1 AND key = $2")
        .bind(account)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}
