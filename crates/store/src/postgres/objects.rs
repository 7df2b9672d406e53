//! S3 object records, one per bucket and key (their listing is in `object_listing.rs`).

use sqlx::{AssertSqlSafe, PgConnection};

use super::s3_rows::{object_not_found, require_bucket};
use super::{Db, begin_write_of, now_ms};
use crate::error::Result;
use crate::model::{Tag, Topic};
use crate::s3::{NewObject, ObjectMeta};
use crate::sqlite::s3_rows::{OBJECT_COLUMNS, ObjectRow, encode_headers, encode_tags, size_to_i64};

pub(super) async fn put(db: &Db, object: NewObject) -> Result<Option<String>> {
    let mut tx = begin_write_of(db, Topic::Objects).await?;
    let replaced = store(&mut tx, &object, now_ms()).await?;
    tx.commit().await?;
    Ok(replaced)
}

/// Stores the object in its bucket, replacing the key's current one, whose blob the result
/// names. `NotFound` (kind `Bucket`).
pub(super) async fn store(
    conn: &mut PgConnection,
    object: &NewObject,
    last_modified_ms: i64,
) -> Result<Option<String>> {
    require_bucket(conn, &object.bucket).await?;
    let replaced: Option<String> =
        sqlx::query_scalar("SELECT blob_id FROM objects WHERE bucket = $1 AND key = $2")
            .bind(&object.bucket)
            .bind(&object.key)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO objects (bucket, key, size, etag, last_modified_ms, blob_id, headers, tags) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, \
         last_modified_ms = excluded.last_modified_ms, blob_id = excluded.blob_id, \
         headers = excluded.headers, tags = excluded.tags",
    )
    .bind(&object.bucket)
    .bind(&object.key)
    .bind(size_to_i64(object.size)?)
    .bind(&object.etag)
    .bind(last_modified_ms)
    .bind(&object.blob)
    .bind(encode_headers(&object.headers)?)
    .bind(encode_tags(&object.tags)?)
    .execute(&mut *conn)
    .await?;
    Ok(replaced)
}

pub(super) async fn get(db: &Db, bucket: &str, key: &str) -> Result<ObjectMeta> {
    let mut conn = db.pool.acquire().await?;
    let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = $1 AND key = $2");
    let row: Option<ObjectRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(bucket)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => row.into_object(),
        None => Err(object_not_found(&mut conn, bucket, key).await),
    }
}

/// Deletes the object if there is one; the result is its blob.
pub(super) async fn delete(db: &Db, bucket: &str, key: &str) -> Result<Option<String>> {
    let mut tx = begin_write_of(db, Topic::Objects).await?;
    require_bucket(&mut tx, bucket).await?;
    let deleted: Option<String> =
        sqlx::query_scalar("DELETE FROM objects WHERE bucket = $1 AND key = $2 RETURNING blob_id")
            .bind(bucket)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(deleted)
}

pub(super) async fn set_tags(db: &Db, bucket: &str, key: &str, tags: Vec<Tag>) -> Result<()> {
    let mut tx = begin_write_of(db, Topic::Objects).await?;
    let result = sqlx::query("UPDATE objects SET tags = $3 WHERE bucket = $1 AND key = $2")
        .bind(bucket)
        .bind(key)
        .bind(encode_tags(&tags)?)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(object_not_found(&mut tx, bucket, key).await);
    }
    tx.commit().await?;
    Ok(())
}
