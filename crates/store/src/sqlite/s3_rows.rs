//! S3 rows as stored: their shapes and conversions to records, headers and tags as JSON text,
//! and the existence checks the S3 modules share.

use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;

use super::{corrupt, from_ms};
use crate::error::{EntityKind, Result, StoreError};
use crate::model::Tag;
use crate::s3::{Bucket, MultipartUpload, ObjectHeaders, ObjectMeta, Part, PublicAccessBlock};

/// [`ObjectHeaders`] as its JSON column holds it. Absent fields read as empty, so a field added
/// later needs no migration.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct StoredHeaders {
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
    /// `[name, value]` pairs, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    metadata: Vec<(String, String)>,
    /// `[algorithm, base64]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum: Option<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    part_sizes: Vec<u64>,
}

pub(crate) fn encode_headers(headers: &ObjectHeaders) -> Result<String> {
    let stored = StoredHeaders {
        content_type: headers.content_type.clone(),
        content_encoding: headers.content_encoding.clone(),
        content_disposition: headers.content_disposition.clone(),
        content_language: headers.content_language.clone(),
        cache_control: headers.cache_control.clone(),
        expires: headers.expires.clone(),
        metadata: headers.metadata.clone(),
        checksum: headers.checksum.clone(),
        part_sizes: headers.part_sizes.clone(),
    };
    to_json(&stored)
}

fn decode_headers(text: &str) -> Result<ObjectHeaders> {
    let stored: StoredHeaders = from_json(text, "headers")?;
    Ok(ObjectHeaders {
        content_type: stored.content_type,
        content_encoding: stored.content_encoding,
        content_disposition: stored.content_disposition,
        content_language: stored.content_language,
        cache_control: stored.cache_control,
        expires: stored.expires,
        metadata: stored.metadata,
        checksum: stored.checksum,
        part_sizes: stored.part_sizes,
    })
}

/// Tags as `[[key, value], …]`, in order.
pub(crate) fn encode_tags(tags: &[Tag]) -> Result<String> {
    let pairs: Vec<(&str, &str)> = tags
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    to_json(&pairs)
}

fn decode_tags(text: &str) -> Result<Vec<Tag>> {
    let pairs: Vec<(String, String)> = from_json(text, "tags")?;
    Ok(pairs.into_iter().map(|(k, v)| Tag::new(k, v)).collect())
}

fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)).into())
}

fn from_json<T: for<'de> Deserialize<'de>>(text: &str, column: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("{column} {text:?}: {e}")))
}

/// Sizes are BIGINT columns; no object comes near 2^63 bytes.
pub(crate) fn size_to_i64(size: u64) -> Result<i64> {
    i64::try_from(size).map_err(|_| StoreError::InvalidInput(format!("size {size}")))
}

fn size_from_i64(size: i64) -> Result<u64> {
    u64::try_from(size).map_err(|_| corrupt(format!("size {size}")))
}

/// The four public-access-block columns, all NULL for `None`.
pub(crate) fn public_access_block_columns(block: Option<PublicAccessBlock>) -> [Option<bool>; 4] {
    match block {
        Some(b) => [
            Some(b.block_public_acls),
            Some(b.ignore_public_acls),
            Some(b.block_public_policy),
            Some(b.restrict_public_buckets),
        ],
        None => [None; 4],
    }
}

pub(crate) const BUCKET_COLUMNS: &str = "name, account_id, region, created_ms, policy, \
     block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets, tags";

#[derive(sqlx::FromRow)]
pub(crate) struct BucketRow {
    name: String,
    account_id: String,
    region: String,
    created_ms: i64,
    policy: Option<String>,
    block_public_acls: Option<bool>,
    ignore_public_acls: Option<bool>,
    block_public_policy: Option<bool>,
    restrict_public_buckets: Option<bool>,
    tags: String,
}

impl BucketRow {
    pub(crate) fn into_bucket(self) -> Result<Bucket> {
        let block = match (
            self.block_public_acls,
            self.ignore_public_acls,
            self.block_public_policy,
            self.restrict_public_buckets,
        ) {
            (Some(a), Some(b), Some(c), Some(d)) => Some(PublicAccessBlock {
                block_public_acls: a,
                ignore_public_acls: b,
                block_public_policy: c,
                restrict_public_buckets: d,
            }),
            (None, None, None, None) => None,
            _ => {
                return Err(corrupt(format!(
                    "bucket {}: public access block",
                    self.name
                )));
            }
        };
        Ok(Bucket {
            created: from_ms(self.created_ms)?,
            tags: decode_tags(&self.tags)?,
            name: self.name,
            account_id: self.account_id,
            region: self.region,
            policy: self.policy,
            public_access_block: block,
        })
    }
}

pub(crate) const OBJECT_COLUMNS: &str =
    "bucket, key, size, etag, last_modified_ms, blob_id, headers, tags";

#[derive(sqlx::FromRow)]
pub(crate) struct ObjectRow {
    bucket: String,
    pub(crate) key: String,
    size: i64,
    etag: String,
    last_modified_ms: i64,
    blob_id: String,
    headers: String,
    tags: String,
}

impl ObjectRow {
    pub(crate) fn into_object(self) -> Result<ObjectMeta> {
        Ok(ObjectMeta {
            size: size_from_i64(self.size)?,
            last_modified: from_ms(self.last_modified_ms)?,
            headers: decode_headers(&self.headers)?,
            tags: decode_tags(&self.tags)?,
            bucket: self.bucket,
            key: self.key,
            etag: self.etag,
            blob: self.blob_id,
        })
    }
}

pub(crate) const UPLOAD_COLUMNS: &str = "upload_id, bucket, key, initiated_ms, \
     initiator_account, initiator_arn, headers, tags";

#[derive(sqlx::FromRow)]
pub(crate) struct UploadRow {
    upload_id: String,
    bucket: String,
    key: String,
    initiated_ms: i64,
    initiator_account: String,
    initiator_arn: String,
    headers: String,
    tags: String,
}

impl UploadRow {
    pub(crate) fn into_upload(self) -> Result<MultipartUpload> {
        Ok(MultipartUpload {
            initiated: from_ms(self.initiated_ms)?,
            headers: decode_headers(&self.headers)?,
            tags: decode_tags(&self.tags)?,
            upload_id: self.upload_id,
            bucket: self.bucket,
            key: self.key,
            initiator_account: self.initiator_account,
            initiator_arn: self.initiator_arn,
        })
    }
}

pub(crate) const PART_COLUMNS: &str = "part_number, size, etag, blob_id, last_modified_ms";

#[derive(sqlx::FromRow)]
pub(crate) struct PartRow {
    part_number: i64,
    size: i64,
    etag: String,
    blob_id: String,
    last_modified_ms: i64,
}

impl PartRow {
    pub(crate) fn into_part(self) -> Result<Part> {
        let part_number = u32::try_from(self.part_number)
            .map_err(|_| corrupt(format!("part_number {}", self.part_number)))?;
        Ok(Part {
            part_number,
            size: size_from_i64(self.size)?,
            etag: self.etag,
            blob: self.blob_id,
            last_modified: from_ms(self.last_modified_ms)?,
        })
    }
}

pub(super) async fn bucket_exists(conn: &mut SqliteConnection, bucket: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM buckets WHERE name = $1")
        .bind(bucket)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(found.is_some())
}

/// `NotFound` (kind `Bucket`) unless the bucket exists.
pub(super) async fn require_bucket(conn: &mut SqliteConnection, bucket: &str) -> Result<()> {
    match bucket_exists(conn, bucket).await? {
        true => Ok(()),
        false => Err(StoreError::not_found(EntityKind::Bucket, bucket)),
    }
}

/// The error for an object that was not found: its bucket's absence first, as S3 reports it.
pub(super) async fn object_not_found(
    conn: &mut SqliteConnection,
    bucket: &str,
    key: &str,
) -> StoreError {
    match bucket_exists(conn, bucket).await {
        Ok(true) => StoreError::not_found(EntityKind::Object, key),
        Ok(false) => StoreError::not_found(EntityKind::Bucket, bucket),
        Err(e) => e,
    }
}
