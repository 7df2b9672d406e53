//! Accounts: the root every other record hangs from.

use super::{Db, from_ms, is_unique_violation, now_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::Account;

pub(super) async fn create(db: &Db, account: &str) -> Result<Account> {
    let created_ms = now_ms();
    sqlx::query("INSERT INTO accounts (account_id, created_ms) VALUES ($1, $2)")
        .bind(account)
        .bind(created_ms)
        .execute(&db.pool)
        .await
        .map_err(|e| match is_unique_violation(&e) {
            true => StoreError::already_exists(EntityKind::Account, account),
            false => e.into(),
        })?;
    Ok(Account {
        id: account.to_owned(),
        created: from_ms(created_ms)?,
    })
}

pub(super) async fn get(db: &Db, account: &str) -> Result<Account> {
    let created_ms: i64 =
        sqlx::query_scalar("SELECT created_ms FROM accounts WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&db.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(EntityKind::Account, account))?;
    Ok(Account {
        id: account.to_owned(),
        created: from_ms(created_ms)?,
    })
}

pub(super) async fn list(db: &Db) -> Result<Vec<Account>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT account_id, created_ms FROM accounts ORDER BY account_id")
            .fetch_all(&db.pool)
            .await?;
    rows.into_iter()
        .map(|(id, created_ms)| {
            Ok(Account {
                id,
                created: from_ms(created_ms)?,
            })
        })
        .collect()
}
