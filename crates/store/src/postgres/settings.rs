//! A small key/value store per account (metadata defaults and the like).

use super::Db;
use crate::error::Result;

pub(super) async fn get(db: &Db, account: &str, key: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE account_id = $1 AND key = $2")
            .bind(account)
            .bind(key)
            .fetch_optional(&db.pool)
            .await?,
    )
}

pub(super) async fn put(db: &Db, account: &str, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (account_id, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value",
    )
    .bind(account)
    .bind(key)
    .bind(value)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub(super) async fn delete(db: &Db, account: &str, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM settings WHERE account_id = $1 AND key = $2")
        .bind(account)
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}
