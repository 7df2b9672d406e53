//! S3 multipart uploads in progress and their parts.

use sqlx::{AssertSqlSafe, PgConnection};

use super::s3_rows::require_bucket;
use super::{Db, begin_read, begin_write_of, now_ms, objects, to_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::ids;
use crate::model::Topic;
use crate::s3::{CompletedUpload, MultipartUpload, NewObject, NewUpload, Part};
use crate::sqlite::object_listing::successor;
use crate::sqlite::s3_rows::{
    PART_COLUMNS, PartRow, UPLOAD_COLUMNS, UploadRow, encode_headers, encode_tags, size_to_i64,
};

pub(super) async fn create(db: &Db, upload: NewUpload) -> Result<String> {
    let upload_id = ids::upload_id();
    let mut tx = begin_write_of(db, Topic::Objects).await?;
    require_bucket(&mut tx, &upload.bucket).await?;
    sqlx::query(
        "INSERT INTO multipart_uploads (upload_id, bucket, key, initiated_ms, \
         initiator_account, initiator_arn, headers, tags) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&upload_id)
    .bind(&upload.bucket)
    .bind(&upload.key)
    .bind(now_ms())
    .bind(&upload.initiator_account)
    .bind(&upload.initiator_arn)
    .bind(encode_headers(&upload.headers)?)
    .bind(encode_tags(&upload.tags)?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(upload_id)
}

/// The upload, whatever its bucket and key; `NotFound` (kind `Upload`).
async fn load(conn: &mut PgConnection, upload_id: &str) -> Result<UploadRow> {
    let sql = format!("SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE upload_id = $1");
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(upload_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found(EntityKind::Upload, upload_id))
}

/// The upload if it belongs to that bucket and key; `NotFound` (kind `Upload`) otherwise.
pub(super) async fn get(
    db: &Db,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<MultipartUpload> {
    let upload = load(&mut *db.pool.acquire().await?, upload_id)
        .await?
        .into_upload()?;
    match upload.bucket == bucket && upload.key == key {
        true => Ok(upload),
        false => Err(StoreError::not_found(EntityKind::Upload, upload_id)),
    }
}

/// The bucket's uploads whose key starts with `prefix`, by key, initiation and ID, after the
/// `(key, upload ID)` marker: past that upload, or past every upload of the key when no upload
/// of the key has that ID (an ended one, or an empty ID for a key marker alone).
pub(super) async fn list(
    db: &Db,
    bucket: &str,
    prefix: &str,
    after: Option<(&str, &str)>,
    max: usize,
) -> Result<Vec<MultipartUpload>> {
    let mut tx = begin_read(db).await?;
    require_bucket(&mut tx, bucket).await?;
    let marker = match after {
        Some((key, upload_id)) => Some(marker_position(&mut tx, bucket, key, upload_id).await?),
        None => None,
    };
    let end = successor(prefix);
    let mut sql =
        format!("SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE bucket = $1 AND key >= $2");
    let mut next_param = 3;
    if end.is_some() {
        sql.push_str(&format!(" AND key < ${next_param}"));
        next_param += 1;
    }
    if marker.is_some() {
        let (key, initiated, id) = (next_param, next_param + 1, next_param + 2);
        sql.push_str(&format!(
            " AND (key > ${key} OR (key = ${key} AND (initiated_ms > ${initiated} \
             OR (initiated_ms = ${initiated} AND upload_id > ${id}))))"
        ));
        next_param += 3;
    }
    sql.push_str(&format!(
        " ORDER BY key, initiated_ms, upload_id LIMIT ${next_param}"
    ));
    let mut query = sqlx::query_as(AssertSqlSafe(sql)).bind(bucket).bind(prefix);
    if let Some(end) = &end {
        query = query.bind(end);
    }
    if let Some((key, initiated_ms, upload_id)) = marker {
        query = query.bind(key).bind(initiated_ms).bind(upload_id);
    }
    let rows: Vec<UploadRow> = query
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
    rows.into_iter().map(UploadRow::into_upload).collect()
}

/// The marker as a position in the listing order. A marker naming no upload of its key sorts
/// after every upload of the key (no initiation time is greater than `i64::MAX`).
async fn marker_position(
    conn: &mut PgConnection,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<(String, i64, String)> {
    let initiated: Option<i64> = sqlx::query_scalar(
        "SELECT initiated_ms FROM multipart_uploads \
         WHERE upload_id = $1 AND bucket = $2 AND key = $3",
    )
    .bind(upload_id)
    .bind(bucket)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    let initiated_ms = initiated.unwrap_or(i64::MAX);
    Ok((key.to_owned(), initiated_ms, upload_id.to_owned()))
}

/// Records the part, replacing one of the same number; the result is the replaced part's blob.
pub(super) async fn put_part(db: &Db, upload_id: &str, part: Part) -> Result<Option<String>> {
    let mut tx = begin_write_of(db, Topic::Objects).await?;
    load(&mut tx, upload_id).await?;
    let replaced: Option<String> = sqlx::query_scalar(
        "SELECT blob_id FROM upload_parts WHERE upload_id = $1 AND part_number = $2",
    )
    .bind(upload_id)
    .bind(i64::from(part.part_number))
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO upload_parts (upload_id, part_number, size, etag, blob_id, \
         last_modified_ms) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, \
         etag = excluded.etag, blob_id = excluded.blob_id, \
         last_modified_ms = excluded.last_modified_ms",
    )
    .bind(upload_id)
    .bind(i64::from(part.part_number))
    .bind(size_to_i64(part.size)?)
    .bind(&part.etag)
    .bind(&part.blob)
    .bind(to_ms(part.last_modified))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(replaced)
}

/// The upload's parts by part number.
pub(super) async fn parts(db: &Db, upload_id: &str) -> Result<Vec<Part>> {
    let mut tx = begin_read(db).await?;
    load(&mut tx, upload_id).await?;
    let sql = format!(
        "SELECT {PART_COLUMNS} FROM upload_parts WHERE upload_id = $1 ORDER BY part_number"
    );
    let rows: Vec<PartRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(upload_id)
        .fetch_all(&mut *tx)
        .await?;
    rows.into_iter().map(PartRow::into_part).collect()
}

/// Stores the object and ends the upload. The object is dated when the upload began, as S3
/// dates a multipart object.
pub(super) async fn complete(
    db: &Db,
    upload_id: &str,
    object: NewObject,
) -> Result<CompletedUpload> {
    let mut tx = begin_write_of(db, Topic::Objects).await?;
    let upload = load(&mut tx, upload_id).await?.into_upload()?;
    if upload.bucket != object.bucket || upload.key != object.key {
        return Err(StoreError::InvalidInput(format!(
            "upload {upload_id} is of {}/{}, not {}/{}",
            upload.bucket, upload.key, object.bucket, object.key
        )));
    }
    let parts = end(&mut tx, upload_id).await?;
    let replaced = objects::store(&mut tx, &object, to_ms(upload.initiated)).await?;
    tx.commit().await?;
    Ok(CompletedUpload { replaced, parts })
}

/// Ends the upload; the result is its parts' blobs.
pub(super) async fn abort(db: &Db, upload_id: &str) -> Result<Vec<String>> {
    let mut tx = begin_write_of(db, Topic::Objects).await?;
    load(&mut tx, upload_id).await?;
    let parts = end(&mut tx, upload_id).await?;
    tx.commit().await?;
    Ok(parts)
}

/// Deletes the upload and its parts; the result is the parts' blobs, by part number.
async fn end(conn: &mut PgConnection, upload_id: &str) -> Result<Vec<String>> {
    let blobs: Vec<String> = sqlx::query_scalar(
        "SELECT blob_id FROM upload_parts WHERE upload_id = $1 ORDER BY part_number",
    )
    .bind(upload_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM upload_parts WHERE upload_id = $1")
        .bind(upload_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM multipart_uploads WHERE upload_id = $1")
        .bind(upload_id)
        .execute(&mut *conn)
        .await?;
    Ok(blobs)
}

/// Deletes every upload of the bucket with its parts; the result is the parts' blobs.
pub(super) async fn delete_all_of_bucket(
    conn: &mut PgConnection,
    bucket: &str,
) -> Result<Vec<String>> {
    let upload_ids: Vec<String> =
        sqlx::query_scalar("SELECT upload_id FROM multipart_uploads WHERE bucket = $1")
            .bind(bucket)
            .fetch_all(&mut *conn)
            .await?;
    let mut blobs = Vec::new();
    for upload_id in upload_ids {
        blobs.extend(end(conn, &upload_id).await?);
    }
    Ok(blobs)
}
