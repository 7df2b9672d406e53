//! Account aliases: one per account, unique across all accounts.

use super::{Db, begin_write, is_unique_violation};
use crate::error::{EntityKind, Result, StoreError};

pub(super) async fn get(db: &Db, account: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT alias FROM account_aliases WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&db.pool)
            .await?,
    )
}

/// Sets the account's alias, replacing the one it had. An alias held by any account,
/// this one included, is `AlreadyExists`.
pub(super) async fn set(db: &Db, account: &str, alias: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let taken: Option<String> =
        sqlx::query_scalar("SELECT account_id FROM account_aliases WHERE alias = $1")
            .bind(alias)
            .fetch_optional(&mut *tx)
            .await?;
    if taken.is_some() {
        return Err(StoreError::already_exists(EntityKind::AccountAlias, alias));
    }
    sqlx::query(
        "INSERT INTO account_aliases (account_id, alias) VALUES ($1, $2) \
         ON CONFLICT (account_id) DO UPDATE SET alias = excluded.alias",
    )
    .bind(account)
    .bind(alias)
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::AccountAlias, alias),
        false => e.into(),
    })?;
    tx.commit().await?;
    Ok(())
}

/// Removes the account's alias if it is `alias`; otherwise `NotFound`.
pub(super) async fn delete(db: &Db, account: &str, alias: &str) -> Result<()> {
    let mut tx = begin_write(db, account).await?;
    let result = sqlx::query("DELETE FROM account_aliases WHERE account_id = $1 AND alias = $2")
        .bind(account)
        .bind(alias)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::not_found(EntityKind::AccountAlias, alias));
    }
    tx.commit().await?;
    Ok(())
}
