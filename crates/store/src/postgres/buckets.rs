//! S3 buckets: global names, one owning account each, and their settings.

use sqlx::{AssertSqlSafe, PgConnection};

use super::rows::require_row;
use super::s3_rows::require_bucket;
use super::{Db, begin_write_of, from_ms, is_unique_violation, now_ms, uploads};
use crate::error::{Conflict, EntityKind, Result, StoreError};
use crate::model::Topic;
use crate::s3::{Bucket, BucketChange, PublicAccessBlock};
use crate::sqlite::s3_rows::{BUCKET_COLUMNS, BucketRow, encode_tags, public_access_block_columns};

pub(super) async fn create(db: &Db, account: &str, name: &str, region: &str) -> Result<Bucket> {
    let created_ms = now_ms();
    let block = PublicAccessBlock::ALL_ON;
    let [acls, ignore, policy, restrict] = public_access_block_columns(Some(block));
    let mut tx = begin_write_of(db, Topic::Buckets).await?;
    sqlx::query(
        "INSERT INTO buckets (name, account_id, region, created_ms, policy, block_public_acls, \
         ignore_public_acls, block_public_policy, restrict_public_buckets, tags) \
         VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8, $9)",
    )
    .bind(name)
    .bind(account)
    .bind(region)
    .bind(created_ms)
    .bind(acls)
    .bind(ignore)
    .bind(policy)
    .bind(restrict)
    .bind(encode_tags(&[])?)
    .execute(&mut *tx)
    .await
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::already_exists(EntityKind::Bucket, name),
        false => e.into(),
    })?;
    tx.commit().await?;
    Ok(Bucket {
        name: name.to_owned(),
        account_id: account.to_owned(),
        region: region.to_owned(),
        created: from_ms(created_ms)?,
        policy: None,
        public_access_block: Some(block),
        tags: Vec::new(),
    })
}

async fn load(conn: &mut PgConnection, name: &str) -> Result<Bucket> {
    let sql = format!("SELECT {BUCKET_COLUMNS} FROM buckets WHERE name = $1");
    let row: BucketRow = sqlx::query_as(AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::Bucket, name))?;
    row.into_bucket()
}

pub(super) async fn get(db: &Db, name: &str) -> Result<Bucket> {
    load(&mut *db.pool.acquire().await?, name).await
}

/// The account's buckets, by name.
pub(super) async fn list(db: &Db, account: &str) -> Result<Vec<Bucket>> {
    let sql = format!("SELECT {BUCKET_COLUMNS} FROM buckets WHERE account_id = $1 ORDER BY name");
    let rows: Vec<BucketRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(account)
        .fetch_all(&db.pool)
        .await?;
    rows.into_iter().map(BucketRow::into_bucket).collect()
}

/// Deletes an empty bucket with its uploads in progress; the result is their parts' blobs.
pub(super) async fn delete(db: &Db, name: &str) -> Result<Vec<String>> {
    let mut tx = begin_write_of(db, Topic::Buckets).await?;
    require_bucket(&mut tx, name).await?;
    let object: Option<bool> =
        sqlx::query_scalar("SELECT TRUE FROM objects WHERE bucket = $1 LIMIT 1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
    if object.is_some() {
        return Err(StoreError::conflict(Conflict::BucketNotEmpty));
    }
    let part_blobs = uploads::delete_all_of_bucket(&mut tx, name).await?;
    sqlx::query("DELETE FROM buckets WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(part_blobs)
}

/// Replaces one setting; the result is the bucket as it now is.
pub(super) async fn update(db: &Db, name: &str, change: BucketChange) -> Result<Bucket> {
    let mut tx = begin_write_of(db, Topic::Buckets).await?;
    let result = match change {
        BucketChange::Policy(policy) => {
            sqlx::query("UPDATE buckets SET policy = $2 WHERE name = $1")
                .bind(name)
                .bind(policy)
                .execute(&mut *tx)
                .await?
        }
        BucketChange::PublicAccessBlock(block) => {
            let [acls, ignore, policy, restrict] = public_access_block_columns(block);
            sqlx::query(
                "UPDATE buckets SET block_public_acls = $2, ignore_public_acls = $3, \
                 block_public_policy = $4, restrict_public_buckets = $5 WHERE name = $1",
            )
            .bind(name)
            .bind(acls)
            .bind(ignore)
            .bind(policy)
            .bind(restrict)
            .execute(&mut *tx)
            .await?
        }
        BucketChange::Tags(tags) => {
            sqlx::query("UPDATE buckets SET tags = $2 WHERE name = $1")
                .bind(name)
                .bind(encode_tags(&tags)?)
                .execute(&mut *tx)
                .await?
        }
    };
    require_row(result, EntityKind::Bucket, name)?;
    let bucket = load(&mut tx, name).await?;
    tx.commit().await?;
    Ok(bucket)
}
