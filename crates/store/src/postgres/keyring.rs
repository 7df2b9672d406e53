//! The session-token key ring: entries encrypted by the caller, addressed by `kid`.

use super::rows::require_row;
use super::{Db, from_ms, is_unique_violation, now_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::TokenKey;

pub(super) async fn add(db: &Db, account: &str, kid: &str, ciphertext: &[u8]) -> Result<TokenKey> {
    let created_ms = now_ms();
    sqlx::query(
        "INSERT INTO token_keys (account_id, kid, created_ms, ciphertext) VALUES ($1, $2, $3, $4)",
    )
    .bind(account)
    .bind(kid)
    .bind(created_ms)
    .bind(ciphertext)
    .execute(&db.pool)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::TokenKey, kid),
        false => e.into(),
    })?;
    Ok(TokenKey {
        kid: kid.to_owned(),
        created: from_ms(created_ms)?,
        ciphertext: ciphertext.to_vec(),
    })
}

pub(super) async fn list(db: &Db, account: &str) -> Result<Vec<TokenKey>> {
    let rows: Vec<(String, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT kid, created_ms, ciphertext FROM token_keys WHERE account_id = $1 \
         ORDER BY created_ms, kid",
    )
    .bind(account)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|(kid, created_ms, ciphertext)| {
            Ok(TokenKey {
                kid,
                created: from_ms(created_ms)?,
                ciphertext,
            })
        })
        .collect()
}

pub(super) async fn delete(db: &Db, account: &str, kid: &str) -> Result<()> {
    let result = sqlx::query("DELETE FROM token_keys WHERE account_id = $1 AND kid = $2")
        .bind(account)
        .bind(kid)
        .execute(&db.pool)
        .await?;
    require_row(result, EntityKind::TokenKey, kid)
}
