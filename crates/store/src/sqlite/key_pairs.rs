//! EC2 key pairs: public keys, per account by name, with their tags.

use sqlx::SqlitePool;

use super::{begin_write_of, ec2_ids, ec2_tags, from_ms, is_unique_violation, now_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::{Ec2Resource, KeyPair, NewKeyPair, Tag, Topic};

pub(crate) type KeyPairRow = (String, String, String, String, String, String, i64);

pub(crate) const COLUMNS: &str =
    "account_id, key_name, key_pair_id, key_type, fingerprint, public_key, created_ms";

pub(crate) fn into_key_pair(row: KeyPairRow, tags: Vec<Tag>) -> Result<KeyPair> {
    let (account_id, name, id, key_type, fingerprint, public_key, created_ms) = row;
    Ok(KeyPair {
        account_id,
        name,
        id,
        key_type,
        fingerprint,
        public_key,
        created: from_ms(created_ms)?,
        tags,
    })
}

pub(super) async fn import(pool: &SqlitePool, account: &str, new: NewKeyPair) -> Result<KeyPair> {
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let id = ec2_ids::new("key-");
    let now = now_ms();
    sqlx::query(
        "INSERT INTO key_pairs (account_id, key_name, key_pair_id, key_type, fingerprint, \
         public_key, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(account)
    .bind(&new.name)
    .bind(&id)
    .bind(&new.key_type)
    .bind(&new.fingerprint)
    .bind(&new.public_key)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::KeyPair, &new.name),
        false => e.into(),
    })?;
    ec2_tags::upsert(&mut tx, &Ec2Resource::KeyPair(id.clone()), &new.tags).await?;
    tx.commit().await?;
    Ok(KeyPair {
        account_id: account.to_owned(),
        name: new.name,
        id,
        key_type: new.key_type,
        fingerprint: new.fingerprint,
        public_key: new.public_key,
        created: from_ms(now)?,
        tags: new.tags,
    })
}

/// Every key pair of the account, by name.
pub(super) async fn list(pool: &SqlitePool, account: &str) -> Result<Vec<KeyPair>> {
    let sql = format!("SELECT {COLUMNS} FROM key_pairs WHERE account_id = $1 ORDER BY key_name");
    let rows: Vec<KeyPairRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account)
        .fetch_all(pool)
        .await?;
    let mut tags = ec2_tags::of_key_pairs(pool, account).await?;
    rows.into_iter()
        .map(|row| {
            let pair_tags = tags.remove(&row.2).unwrap_or_default();
            into_key_pair(row, pair_tags)
        })
        .collect()
}

/// Deletes the account's key pair with this name or ID; deleting an absent one succeeds.
pub(super) async fn delete(
    pool: &SqlitePool,
    account: &str,
    name: Option<&str>,
    id: Option<&str>,
) -> Result<bool> {
    let mut tx = begin_write_of(pool, Topic::Ec2).await?;
    let result = sqlx::query(
        "DELETE FROM key_pairs WHERE account_id = $1 AND (key_name = $2 OR key_pair_id = $3)",
    )
    .bind(account)
    .bind(name)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(result.rows_affected() > 0)
}
