//! The existence checks the S3 modules share, on PostgreSQL connections (the row shapes and
//! their JSON columns are `sqlite::s3_rows`, shared by both backends).

use sqlx::PgConnection;

use crate::error::{EntityKind, Result, StoreError};

pub(super) async fn bucket_exists(conn: &mut PgConnection, bucket: &str) -> Result<bool> {
    let found: Option<bool> = sqlx::query_scalar("SELECT TRUE FROM buckets WHERE name = $1")
        .bind(bucket)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

/// `NotFound` (kind `Bucket`) unless the bucket exists.
pub(super) async fn require_bucket(conn: &mut PgConnection, bucket: &str) -> Result<()> {
    match bucket_exists(conn, bucket).await? {
        true => Ok(()),
        false => Err(StoreError::not_found(EntityKind::Bucket, bucket)),
    }
}

/// The error for an object that was not found: its bucket's absence first, as S3 reports it.
pub(super) async fn object_not_found(
    conn: &mut PgConnection,
    bucket: &str,
    key: &str,
) -> StoreError {
    match bucket_exists(conn, bucket).await {
        Ok(true) => StoreError::not_found(EntityKind::Object, key),
        Ok(false) => StoreError::not_found(EntityKind::Bucket, bucket),
        Err(e) => e,
    }
}
