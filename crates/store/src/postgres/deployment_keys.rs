//! Deployment keys: one row per name, written once (the first writer wins) and then only read.

use super::{Db, from_ms, now_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::{DeploymentKey, NewDeploymentKey};

/// Inserts `key` unless its name is taken, then reads the stored row: a process that lost the
/// race to create the key gets the winner's.
pub(super) async fn add(db: &Db, key: NewDeploymentKey) -> Result<DeploymentKey> {
    sqlx::query(
        "INSERT INTO deployment_keys (name, created_ms, sealed_key, certificate) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&key.name)
    .bind(now_ms())
    .bind(&key.sealed_key)
    .bind(&key.certificate)
    .execute(&db.pool)
    .await?;
    get(db, &key.name)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::DeploymentKey, &key.name))
}

pub(super) async fn get(db: &Db, name: &str) -> Result<Option<DeploymentKey>> {
    let row: Option<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
        "SELECT created_ms, sealed_key, certificate FROM deployment_keys WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|(created_ms, sealed_key, certificate)| {
        Ok(DeploymentKey {
            name: name.to_owned(),
            created: from_ms(created_ms)?,
            sealed_key,
            certificate,
        })
    })
    .transpose()
}
